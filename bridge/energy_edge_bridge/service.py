"""Runs the bridge: ingest, writer, health reporter and API, until SIGTERM or SIGINT.

On SIGTERM the bridge stops receiving, spools and acknowledges what it has received, gives the
writer a few seconds to empty the spool, and exits within 10 s. What is left stays on disk and
is written after the next start.
"""

from collections.abc import Callable
import logging
import math
import signal
import threading
import time

import uvicorn

from . import schema
from .api import create_app
from .influxdb import InfluxDB
from .ingest import Ingest
from .line_protocol import escape_measurement, line
from .metrics import current_values, health_fields
from .settings import BridgeSettings
from .spool import Spool, SpoolError
from .state import BridgeState, Clock
from .writer import Writer

_LOGGER = logging.getLogger(__name__)

MEBIBYTE = 1024 * 1024
API_START_TIMEOUT_S = 10.0
STOP_BUDGET_S = 8.5  # SIGTERM to exit, within the 10 s Docker waits before SIGKILL


class HealthReporter:
    """Writes the bridge's own health point to the spool at a fixed interval."""

    def __init__(self, spool: Spool, state: BridgeState, clock: Clock = time.time_ns) -> None:
        self._spool = spool
        self._state = state
        self._clock = clock
        self._series = escape_measurement(schema.HEALTH_MEASUREMENT)

    def report(self) -> None:
        """Spool one health point now."""
        values = current_values(self._state.counters, self._state.links, self._spool)
        try:
            self._spool.write([line(self._series, health_fields(values), self._clock())])
        except SpoolError as error:
            _LOGGER.warning("health point not recorded: %s", error)


def run(settings: BridgeSettings) -> int:
    """Run until SIGTERM or SIGINT; the exit status."""
    try:
        spool = Spool(settings.bridge_spool_dir, settings.bridge_spool_max_mb * MEBIBYTE)
    except OSError as error:
        _LOGGER.error(  # noqa: TRY400 - the message says it all
            "BRIDGE_SPOOL_DIR: cannot use %s: %s", settings.bridge_spool_dir, error
        )
        return 1
    token = settings.influxdb_token.get_secret_value() if settings.influxdb_token else ""
    database = InfluxDB(
        settings.influxdb_url, token, settings.influxdb_org, settings.influxdb_bucket
    )
    state = BridgeState()
    if settings.bridge_api_token is None:
        _LOGGER.warning("BRIDGE_ALLOW_INSECURE_API: /api answers without authentication")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings=settings, state=state, spool=spool, database=database),
            host=settings.bridge_api_host,
            port=settings.bridge_api_port,
            log_config=None,
            access_log=False,
            ws="none",  # no WebSocket route: do not load a WebSocket library
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    ingest = Ingest(settings, spool, state)
    writer = Writer(spool, database, state)
    health = HealthReporter(spool, state)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stops = {name: threading.Event() for name in ("ingest", "writer")}
    threads = {
        "api": _start("api", lambda _: server.run(), stop),
        "ingest": _start("ingest", ingest.run, stops["ingest"]),
        "writer": _start("writer", writer.run, stops["writer"]),
    }
    health.report()
    status = _serve(server, threads["api"], stop, settings, health)

    # Stopping: receive no more, spool and acknowledge what came, then write what we can.
    deadline = time.monotonic() + STOP_BUDGET_S
    server.should_exit = True
    stops["ingest"].set()
    threads["ingest"].join(_left(deadline, 2.0))
    health.report()
    stops["writer"].set()
    threads["writer"].join(_left(deadline, 1.5))
    if not threads["writer"].is_alive():  # else a request is stuck: its batch stays spooled
        _start("drain", lambda _: _drain(writer, spool, deadline), stop).join(_left(deadline))
    threads["api"].join(_left(deadline, 1.0))
    spool.close()
    return status


def _serve(
    server: uvicorn.Server,
    api: threading.Thread,
    stop: threading.Event,
    settings: BridgeSettings,
    health: HealthReporter,
) -> int:
    """Wait for the API to start, then report health until a signal; the exit status."""
    if not _wait_until(lambda: server.started or not api.is_alive(), API_START_TIMEOUT_S) or (
        not server.started
    ):
        _LOGGER.error(
            "BRIDGE_API_PORT: the API could not start on port %d", settings.bridge_api_port
        )
        return 1
    _LOGGER.info(
        "API on http://%s:%d, Swagger UI at /docs",
        settings.bridge_api_host,
        settings.bridge_api_port,
    )
    while not stop.wait(settings.bridge_health_interval_s):
        health.report()
        if not api.is_alive():
            _LOGGER.error("the API stopped unexpectedly")
            return 1
    return 0


def _drain(writer: Writer, spool: Spool, deadline: float) -> None:
    if writer.drain(_left(deadline)):
        _LOGGER.info("spool empty: everything is in the database")
    else:
        _LOGGER.warning("%d points stay in the spool until the next start", spool.backlog_lines)


def _left(deadline: float, at_most: float = math.inf) -> float:
    """Time left before the deadline, capped."""
    return min(max(0.0, deadline - time.monotonic()), at_most)


def _start(
    name: str, target: Callable[[threading.Event], object], stop: threading.Event
) -> threading.Thread:
    # Daemon threads: a request stuck past the stopping budget must not keep the process alive.
    thread = threading.Thread(target=target, args=(stop,), name=name, daemon=True)
    thread.start()
    return thread


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
