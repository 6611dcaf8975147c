"""Command line of the native stack: `python -m scripts.lib.devstack up|down|status`."""

import argparse
import sys

from .stack import stack_from_environment


def main(argv: list[str] | None = None) -> int:
    """Run one command of the stack."""
    parser = argparse.ArgumentParser(
        prog="dev-stack",
        description="The whole Energy Edge system without Docker (docs/native-stack.md).",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args(argv).command
    if (stack := stack_from_environment()) is None:
        return 2
    return {"up": stack.up, "down": stack.down, "status": stack.status}[command]()


if __name__ == "__main__":
    sys.exit(main())
