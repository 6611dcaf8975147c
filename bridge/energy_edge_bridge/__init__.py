"""Energy Edge bridge."""
