"""The whole Energy Edge system without Docker, run from the project's virtual environment.

`./scripts/dev-stack up|down|status` drives it; the end-to-end tests and `./scripts/screenshots`
use the same modules.
"""
