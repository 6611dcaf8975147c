"""`energy-edge-sim`: run the simulated household against an MQTT broker.

The connection comes from the bridge's environment variables, read by the simulator itself
(MQTT_HOST, MQTT_PORT, MQTT_USERNAME, MQTT_PASSWORD, MQTT_TLS, Z2M_BASE_TOPIC) plus
HA_DISCOVERY_PREFIX; the flags choose the home.
"""

import argparse
from collections.abc import Sequence
from datetime import datetime
import logging
import math
import re
import secrets
import signal
import sys
import threading
from types import FrameType

from pydantic import ValidationError

from .devices import LinkyMode
from .faults import FaultKind
from .publisher import BrokerUnavailableError
from .runtime import HOUSEHOLDS, SimulationOptions, Simulator
from .settings import SimulatorSettings, describe_invalid_settings

MAX_SPEED = 100_000.0
MAX_PLUGS = 5_000
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 < value <= MAX_SPEED):
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_SPEED:g}")
    return value


def _duration(text: str) -> float:
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a positive duration such as 90, 90s, 15m, 2h or 7d"
        )
    return float(match.group(1)) * _UNITS_S[match.group(2)]


def _plugs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_PLUGS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_PLUGS}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError("must be zero or more")
    return value


def _start(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2025-01-15T18:00:00+01:00")
    return moment


def _decimals(text: str) -> int:
    if text not in {"0", "1", "2", "3"}:
        raise argparse.ArgumentTypeError("must be 0, 1, 2 or 3")
    return int(text)


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = argparse.ArgumentParser(
        prog="energy-edge-sim",
        description="A French household that speaks Zigbee2MQTT 2.x's MQTT protocol.",
        epilog="Broker settings come from MQTT_HOST, MQTT_PORT, MQTT_USERNAME, MQTT_PASSWORD, "
        "MQTT_TLS, Z2M_BASE_TOPIC and HA_DISCOVERY_PREFIX. See docs/simulator.md.",
    )
    cli.add_argument("--seed", type=int, help="random seed: the same seed replays the same home")
    cli.add_argument(
        "--speed", type=_speed, default=1.0, help="time acceleration (60: an hour per minute)"
    )
    cli.add_argument(
        "--duration",
        type=_duration,
        help="simulated time to run (90s, 15m, 2h, 7d); default: until stopped",
    )
    cli.add_argument(
        "--household", choices=HOUSEHOLDS, default="fr-house", help="the home to simulate"
    )
    cli.add_argument(
        "--devices",
        type=_plugs,
        metavar="N",
        help="scale mode: N metered plugs instead of the household",
    )
    cli.add_argument(
        "--no-ha-discovery", action="store_true", help="do not publish Home Assistant discovery"
    )
    cli.add_argument(
        "--availability",
        action="store_true",
        help="publish <name>/availability (Z2M's availability feature)",
    )
    cli.add_argument(
        "--last-seen",
        action="store_true",
        help="add last_seen (simulated time) to states, as Zigbee2MQTT's ISO_8601 option does",
    )
    cli.add_argument(
        "--start", type=_start, help="simulated start, ISO 8601 with a time zone; default: now"
    )
    cli.add_argument(
        "--linky-mode",
        choices=[mode.value for mode in LinkyMode],
        default=LinkyMode.STANDARD.value,
        help="the Linky's customer output: standard (default) or historic",
    )
    cli.add_argument(
        "--pv-kwp", type=_non_negative, default=0.0, help="rooftop solar panels, in kWp"
    )
    cli.add_argument(
        "--linky-kwh-decimals",
        type=_decimals,
        default=3,
        help="the ZLinky's kWh_precision option (Zigbee2MQTT's default is 2)",
    )
    cli.add_argument(
        "--ha-status-delay",
        type=_non_negative,
        metavar="SECONDS",
        help="delay before republishing states when Home Assistant comes online (default: 30)",
    )
    faults = cli.add_argument_group("faults, each at a rate in events per simulated hour")
    for kind in FaultKind:
        faults.add_argument(
            f"--{kind.value.replace('_', '-')}-rate",
            type=_non_negative,
            default=0.0,
            metavar="PER_HOUR",
        )
    return cli


def options_from(arguments: argparse.Namespace) -> SimulationOptions:
    """Simulation options from parsed arguments."""
    seed = arguments.seed if arguments.seed is not None else secrets.randbelow(2**31)
    rates = {kind: getattr(arguments, f"{kind.value}_rate") for kind in FaultKind}
    return SimulationOptions(
        seed=seed,
        speed=arguments.speed,
        duration_s=arguments.duration,
        household=arguments.household,
        scale_plugs=arguments.devices,
        ha_discovery=not arguments.no_ha_discovery,
        availability=arguments.availability,
        start=arguments.start,
        linky_mode=LinkyMode(arguments.linky_mode),
        pv_peak_w=arguments.pv_kwp * 1000,
        linky_kwh_decimals=arguments.linky_kwh_decimals,
        fault_rates_per_hour={kind: rate for kind, rate in rates.items() if rate > 0},
        ha_status_delay_s=arguments.ha_status_delay,
        last_seen=arguments.last_seen,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator; exit 0 when its duration ends or it is stopped, non-zero on errors."""
    arguments = parser().parse_args(argv)
    try:
        settings = SimulatorSettings()
    except ValidationError as error:
        sys.stderr.write(describe_invalid_settings(error) + "\n")
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    options = options_from(arguments)
    simulator = Simulator(settings, options)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("stopping (%s)", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        simulator.run(stop)
    except BrokerUnavailableError as error:
        sys.stderr.write(f"energy-edge-sim: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
