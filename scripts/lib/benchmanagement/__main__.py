"""Command line: `python -m scripts.lib.benchmanagement [--seed N] [--days D] [--start ISO]
[--meter-period S]`."""

import argparse
from datetime import datetime
import sys
import time

from energy_edge_sim import PARIS

from .benchmark import Setup, run_all
from .choices import LINKY_PERIOD_S
from .replay import Timing
from .report import render

DEFAULT_START = datetime(2025, 1, 6, tzinfo=PARIS)
"""A winter Monday: long evenings, cold water, the car charging while the family cooks."""


def main(argv: list[str] | None = None) -> int:
    """Replay the month and print the figures."""
    parser = argparse.ArgumentParser(
        prog="bench-management",
        description="A simulated month of the household with and without Energy Edge's load "
        "shedding and scheduling (docs/development.md, Benchmarks).",
    )
    parser.add_argument("--seed", type=int, default=42, help="the household's seed (42)")
    parser.add_argument("--days", type=_positive, default=30.0, help="simulated days (30)")
    parser.add_argument(
        "--start",
        type=_start,
        default=DEFAULT_START,
        help="the first instant, ISO 8601; Paris time unless a zone is given (2025-01-06T00:00)",
    )
    parser.add_argument(
        "--meter-period",
        type=_seconds,
        default=LINKY_PERIOD_S,
        help=f"seconds between meter readings ({LINKY_PERIOD_S}, the ZLinky's); try 1 to see "
        "what a faster meter changes",
    )
    options = parser.parse_args(argv)
    setup = Setup(
        seed=options.seed,
        start=options.start,
        days=options.days,
        timing=Timing(meter_period_s=options.meter_period),
    )
    began = time.perf_counter()
    results = run_all(setup)
    print(render(results, time.perf_counter() - began))
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 366:
        raise argparse.ArgumentTypeError(f"expected a number of days in (0, 366], got {text}")
    return value


def _seconds(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"expected whole seconds from 1 to 3600, got {text}")
    return value


def _start(text: str) -> datetime:
    try:
        start = datetime.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text}") from error
    return start if start.tzinfo is not None else start.replace(tzinfo=PARIS)


if __name__ == "__main__":
    sys.exit(main())
