"""Command line entry point: `energy-edge-bridge`, or `python -m energy_edge_bridge`."""

import logging
import sys

from .settings import describe_invalid_settings, read_settings


def main() -> int:
    """Run the bridge until SIGTERM or SIGINT; exit 2 on invalid settings."""
    try:
        settings = read_settings()
    except SystemExit as stop:
        return int(stop.code or 0)
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .service import run  # noqa: PLC0415 - settings errors stay fast and clear

    return run(settings)


__all__ = ["describe_invalid_settings", "main"]

if __name__ == "__main__":
    sys.exit(main())
