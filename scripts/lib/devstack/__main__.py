"""Command line of the native stack: `python -m scripts.lib.devstack up|down|status`."""

import argparse
import sys

from .layout import LayoutError, StackLayout
from .stack import Stack


def main(argv: list[str] | None = None) -> int:
    """Run one command of the stack."""
    parser = argparse.ArgumentParser(
        prog="dev-stack",
        description="The whole Energy Edge system without Docker (docs/native-stack.md).",
    )
    parser.add_argument("command", choices=["up", "down", "status"])
    command = parser.parse_args(argv).command
    try:
        layout = StackLayout.from_environment()
    except LayoutError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    stack = Stack(layout, say=lambda line: print(line, flush=True))
    return {"up": stack.up, "down": stack.down, "status": stack.status}[command]()


if __name__ == "__main__":
    sys.exit(main())
