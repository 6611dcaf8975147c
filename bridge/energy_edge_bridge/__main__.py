"""Command line entry point: `energy-edge-bridge`, or `python -m energy_edge_bridge`."""

import logging
import sys

from pydantic import ValidationError

from .settings import BridgeSettings


def describe_invalid_settings(error: ValidationError) -> str:
    """Name every invalid environment variable and say what is wrong with it."""
    lines = ["invalid settings:"]
    for problem in error.errors():
        variable = "_".join(str(part) for part in problem["loc"]).upper()
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"  {variable}: {message}" if variable else f"  {message}")
    return "\n".join(lines)


def main() -> int:
    """Run the bridge until SIGTERM or SIGINT; exit 2 on invalid settings."""
    try:
        settings = BridgeSettings()
    except ValidationError as error:
        sys.stderr.write(describe_invalid_settings(error) + "\n")
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from .service import run  # noqa: PLC0415 - settings errors stay fast and clear

    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
