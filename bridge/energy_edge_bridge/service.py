"""Runs the bridge: ingest, writer and health reporter around the API, until SIGTERM or SIGINT.

The parts live in a `Bridge`, started and stopped by the API's lifespan, so that
`energy-edge-bridge` and `uvicorn --factory energy_edge_bridge.service:create_app` run the same
thing. The service builds the API (`api.make_api`); the API never imports the service.
On SIGTERM the bridge stops receiving, spools and acknowledges what it has received, gives the
writer a few seconds to empty the spool, and exits within 10 s. What is left stays on disk and
is written after the next start.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import logging
import math
import os
import signal
import threading
import time

from fastapi import FastAPI
import uvicorn

from . import schema
from .api import make_api
from .devices import DeviceRegistry
from .influxdb import InfluxDB
from .ingest import Ingest
from .line_protocol import escape_measurement, line, tag_set
from .metrics import current_values, health_fields
from .settings import BridgeSettings, read_settings
from .spool import Spool, SpoolError, SpoolFull, lock_directory
from .state import BridgeState, Clock
from .supervision import supervise
from .writer import Writer

_LOGGER = logging.getLogger(__name__)

MEBIBYTE = 1024 * 1024
API_START_TIMEOUT_S = 10.0
# From SIGTERM: at most ~1 s for the API to close, then this for the parts; Docker waits 10 s.
STOP_BUDGET_S = 7.5


class HealthReporter:
    """Writes the bridge's own health point to the spool."""

    def __init__(
        self,
        spool: Spool,
        state: BridgeState,
        clock: Clock = time.time_ns,
        *,
        instance: str | None = None,
    ) -> None:
        self._spool = spool
        self._state = state
        self._clock = clock
        self._series = escape_measurement(schema.HEALTH_MEASUREMENT) + tag_set(
            {schema.TAG_INSTANCE: instance}
        )

    def report(self) -> None:
        """Spool one health point now."""
        state = self._state
        values = current_values(
            state.counters, state.links, self._spool, loop_failures=loop_failures(state)
        )
        try:
            self._spool.write([line(self._series, health_fields(values), self._clock())])
        except SpoolError as error:
            _LOGGER.warning("health point not recorded: %s", error)
            return
        state.loops.health.progressed()

    def run(self, stop: threading.Event, interval_s: float) -> None:
        """Report at every interval until `stop` is set."""
        heartbeat = self._state.loops.health
        heartbeat.beat(interval_s)
        while not stop.wait(interval_s):
            heartbeat.beat(interval_s)
            self.report()


def loop_failures(state: BridgeState) -> int:
    """Unexpected errors in all the loops since start."""
    return sum(heartbeat.failures for heartbeat in state.loops.all())


class Bridge:
    """The bridge's parts, built from its settings, started and stopped together."""

    def __init__(self, settings: BridgeSettings) -> None:
        self.settings = settings
        self._spool_lock = lock_directory(settings.bridge_spool_dir)
        self.spool = Spool(
            settings.bridge_spool_dir,
            settings.bridge_spool_max_mb * MEBIBYTE,
            when_full=SpoolFull(settings.bridge_spool_full),
        )
        self.state = BridgeState(registry=DeviceRegistry(settings.bridge_max_sites))
        token = settings.influxdb_token.get_secret_value() if settings.influxdb_token else ""
        self.database = InfluxDB(
            settings.influxdb_url, token, settings.influxdb_org, settings.influxdb_bucket
        )
        self._ingest = Ingest(settings, self.spool, self.state)
        self._writer = Writer(self.spool, self.database, self.state)
        self._health = HealthReporter(self.spool, self.state, instance=settings.bridge_instance_id)
        self._stops = {name: threading.Event() for name in ("ingest", "writer", "health")}
        self._threads: dict[str, threading.Thread] = {}
        self.app = make_api(
            settings=settings,
            state=self.state,
            spool=self.spool,
            database=self.database,
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        self.start()
        try:
            yield
        finally:
            await asyncio.to_thread(self.stop)

    def start(self) -> None:
        """Start receiving, writing and reporting."""
        if self.settings.bridge_api_token is None:
            _LOGGER.warning("BRIDGE_ALLOW_INSECURE_API: /api answers without authentication")
        self._health.report()
        interval = self.settings.bridge_health_interval_s
        loops = self.state.loops
        self._threads = {
            "ingest": supervise(self._ingest.run, self._stops["ingest"], loops.ingest),
            "writer": supervise(self._writer.run, self._stops["writer"], loops.writer),
            "health": supervise(
                lambda stop: self._health.run(stop, interval), self._stops["health"], loops.health
            ),
        }

    def failure(self) -> str | None:
        """Why the bridge cannot go on (a loop gave up, or is stuck), or None."""
        for heartbeat in self.state.loops.all():
            if heartbeat.gave_up or heartbeat.stuck:
                return f"the {heartbeat.name} loop {heartbeat.problem}"
        return None

    def stop(self, budget_s: float = STOP_BUDGET_S) -> None:
        """Receive no more, spool and acknowledge what came, then write what time allows."""
        began = time.monotonic()
        deadline = began + budget_s
        # First the ingest: what it has received must be spooled and acknowledged.
        for name in ("ingest", "health"):
            self._stops[name].set()
            self._threads[name].join(_left(deadline))
        self._health.report()
        self._stops["writer"].set()
        self._threads["writer"].join(_left(deadline, 1.5))
        if self._threads["writer"].is_alive():  # a request is stuck: its batch stays spooled
            _LOGGER.warning("InfluxDB does not answer: the spool is written after the next start")
        else:
            drain = _start("drain", lambda _: self._drain(deadline), threading.Event())
            drain.join(_left(deadline))
        self.spool.close()
        os.close(self._spool_lock)
        _LOGGER.info("stopped in %.1f s", time.monotonic() - began)

    def _drain(self, deadline: float) -> None:
        emptied = self._writer.drain(_left(deadline))
        if emptied and not self._threads["ingest"].is_alive():
            _LOGGER.info("spool empty: everything received is in the database")
        else:
            _LOGGER.warning(
                "%d points stay in the spool until the next start", self.spool.backlog_lines
            )


def create_app() -> FastAPI:
    """The whole bridge as an ASGI app, settings from the environment: the factory for
    `uvicorn --factory energy_edge_bridge.service:create_app` (the development stack). The app's
    lifespan runs the ingest and the writer; `energy-edge-bridge` serves the same app."""
    return Bridge(read_settings()).app


def run(settings: BridgeSettings) -> int:
    """Serve the bridge until SIGTERM or SIGINT; the exit status."""
    try:
        bridge = Bridge(settings)
    except OSError as error:
        _LOGGER.error(  # noqa: TRY400 - the message says it all
            "BRIDGE_SPOOL_DIR: cannot use %s: %s", settings.bridge_spool_dir, error
        )
        return 1
    server = uvicorn.Server(
        uvicorn.Config(
            bridge.app,
            host=settings.bridge_api_host,
            port=settings.bridge_api_port,
            log_config=None,
            access_log=False,
            ws="none",  # no WebSocket route: do not load a WebSocket library
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # The API runs in a thread, so that the signals stay ours: uvicorn would end the process
    # with the signal's status after its shutdown; this way a clean stop exits with 0.
    api = _start("api", lambda _: server.run(), stop)
    status = _serve(server, api, stop, settings, bridge.failure)
    server.should_exit = True  # the API closes, then its lifespan stops the bridge
    api.join(STOP_BUDGET_S + 1.5)
    return status


def _serve(
    server: uvicorn.Server,
    api: threading.Thread,
    stop: threading.Event,
    settings: BridgeSettings,
    failure: Callable[[], str | None],
) -> int:
    """Wait for the API to start, then for a signal or a failure; the exit status."""
    deadline = time.monotonic() + API_START_TIMEOUT_S
    while not server.started:
        if not api.is_alive() or time.monotonic() > deadline:
            _LOGGER.error(
                "BRIDGE_API_PORT: the API could not start on port %d", settings.bridge_api_port
            )
            return 1
        time.sleep(0.05)
    _LOGGER.info(
        "API on http://%s:%d, Swagger UI at /docs",
        settings.bridge_api_host,
        settings.bridge_api_port,
    )
    while not stop.wait(0.5):
        if not api.is_alive():
            _LOGGER.error("the API stopped unexpectedly")
            return 1
        if (problem := failure()) is not None:
            _LOGGER.critical("%s: exiting, to be restarted", problem)
            return 1
    return 0


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
