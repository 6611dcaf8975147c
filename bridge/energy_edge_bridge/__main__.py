"""Command line entry point of the bridge."""

import sys

from pydantic import ValidationError

from .settings import MqttSettings


def describe_invalid_settings(error: ValidationError) -> str:
    """Name every invalid environment variable and say what is wrong with it."""
    lines = ["invalid settings:"]
    for problem in error.errors():
        variable = "_".join(str(part) for part in problem["loc"]).upper()
        lines.append(f"  {variable}: {problem['msg']}")
    return "\n".join(lines)


def main() -> int:
    """Run the bridge."""
    try:
        MqttSettings()
    except ValidationError as error:
        sys.stderr.write(describe_invalid_settings(error) + "\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
