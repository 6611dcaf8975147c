"""The REST API (FastAPI; Swagger UI at /docs). It reads the bridge's state and queries
InfluxDB; commands go to the outbox, never straight into the MQTT client.

Routes that only read memory are `async`: they answer on the event loop without waking a
worker thread; /api/history blocks on InfluxDB and runs in the thread pool.
"""

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib import metadata
import json
import math
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator
from starlette.types import Lifespan

from zigbee2mqtt_protocol.topics import Topics

from .access import AccessGuard
from .commands import CommandFailedError
from .devices import DeviceView
from .flux import Aggregation, HistoryQuery, finite_or_none, parse_annotated_csv, parse_duration
from .influxdb import DatabaseUnreachableError, InfluxDB, QueryError
from .metrics import current_values, prometheus_text
from .power import home_power_now
from .settings import BridgeSettings
from .spool import Spool
from .state import BridgeState, Clock

COMMAND_TIMEOUT_S = 5.0
MAX_HISTORY_POINTS = 10_000
DEFAULT_HISTORY = timedelta(hours=24)
MAX_WINDOW = timedelta(days=3660)
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)  # InfluxDB's times are ns since 1970...
LATEST = datetime(2262, 1, 1, tzinfo=UTC)  # ...in 64 bits
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
# A site is one topic level: no separator, no wildcard, no NUL.
SITE_PATTERN = r"^[^/+#\x00]+$"
SITE_DESCRIPTION = "the home: the level Z2M_BASE_TOPIC's + matched (homes/+/zigbee2mqtt)"
MAX_SITES_NAMED = 5  # in a message saying a name is ambiguous


class Problem(BaseModel):
    """An error: what went wrong, in a sentence."""

    detail: str


class LinkHealth(BaseModel):
    """One connection of the bridge."""

    ok: bool
    problem: str | None


class SpoolHealth(BaseModel):
    """The disk spool."""

    ok: bool
    problem: str | None = Field(description="why the spool refuses writes, while it does")
    backlog_points: int
    backlog_bytes: int
    size_bytes: int
    evicted_points: int
    damaged_points: int


class LoopHealth(BaseModel):
    """One of the bridge's long-running loops (ingest, writer, health)."""

    ok: bool
    problem: str | None
    failures: int = Field(description="unexpected errors since start, each restarted")
    last_progress: datetime | None = Field(
        description="when it last did its work: a batch spooled, written, a health point"
    )


class Health(BaseModel):
    """The bridge's health: 200 when both links, the spool and every loop are fine, else 503."""

    status: Literal["ok", "degraded"]
    mqtt: LinkHealth
    database: LinkHealth
    spool: SpoolHealth
    loops: dict[str, LoopHealth]


class DeviceOut(BaseModel):
    """A device, its availability and its last values."""

    name: str
    site: str | None = Field(description=SITE_DESCRIPTION + "; null for a single home")
    ieee: str | None
    model: str | None
    vendor: str | None
    description: str | None
    availability: Literal["online", "offline"] | None
    last_seen: datetime | None
    last_values: dict[str, JsonValue]


class PowerOut(BaseModel):
    """The home's power now."""

    power: float
    unit: Literal["W", "VA"] = Field(
        description="`VA` for a meter that measures apparent power only (a Linky's ZLinky)"
    )
    source: Literal["meter", "devices"] = Field(
        description="`meter`: the grid meter; `devices`: the sum of the available metered "
        "devices (no meter, or it is offline or silent)"
    )
    devices: list[str]
    time: datetime = Field(description="time of the oldest reading used")


class HistoryParams(BaseModel):
    """What /api/history reads from its query string."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(min_length=1, description="friendly name")
    site: str | None = Field(
        None, pattern=SITE_PATTERN, description=SITE_DESCRIPTION + "; needed when ambiguous"
    )
    field: str = Field(min_length=1, description="a numeric property, e.g. power or energy")
    start: datetime | None = Field(None, description="default: 24 hours before stop")
    stop: datetime | None = Field(None, description="default: now")
    window: str = Field("5m", description="aggregation window: 30s, 5m, 1h, 1d...")
    aggregation: Aggregation = Aggregation.MEAN

    @field_validator("window")
    @classmethod
    def _duration(cls, window: str) -> str:
        if parse_duration(window) > MAX_WINDOW:
            raise ValueError(f"at most {MAX_WINDOW.days} days")
        return window

    @field_validator("start", "stop")
    @classmethod
    def _within_reach(cls, moment: datetime | None) -> datetime | None:
        # A year InfluxDB stores and a range that can be computed on (no overflow).
        if moment is not None and not EARLIEST <= _aware(moment) <= LATEST:
            raise ValueError(f"between {EARLIEST.year} and {LATEST.year}")
        return moment


class HistoryPoint(BaseModel):
    """One aggregated window."""

    time: datetime
    value: float | None


class HistoryOut(BaseModel):
    """A field of a device over time."""

    device: str
    site: str | None
    field: str
    start: datetime
    stop: datetime
    window: str
    aggregation: Aggregation
    points: list[HistoryPoint]


class CommandAccepted(BaseModel):
    """A command the broker has accepted for Zigbee2MQTT."""

    device: str
    topic: str
    command: dict[str, JsonValue]


def make_api(
    *,
    settings: BridgeSettings,
    state: BridgeState,
    spool: Spool,
    database: InfluxDB,
    clock: Clock = time.time_ns,
    lifespan: Lifespan[FastAPI] | None = None,
) -> FastAPI:
    """The API over the bridge's state; `lifespan` runs the bridge around it."""
    # Swagger UI's scripts served by the bridge itself, not from a CDN: /docs works offline.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="Energy Edge bridge",
        summary="Zigbee2MQTT readings recorded in InfluxDB 2, without losing any",
        description="Every route but `/health` needs `Authorization: Bearer <BRIDGE_API_TOKEN>` "
        "(`/metrics` and these pages may be opened by BRIDGE_PUBLIC_METRICS and "
        'BRIDGE_PUBLIC_DOCS). Errors are JSON: `{"detail": "what went wrong"}`.',
        version=metadata.version("energy-edge-bridge"),
        responses={401: {"model": Problem}},
    )
    app.add_exception_handler(RequestValidationError, _validation_problem)  # type: ignore[arg-type]
    registry = state.registry
    topics = Topics(settings.z2m_base_topic)
    token = (
        settings.bridge_api_token.get_secret_value()
        if settings.bridge_api_token is not None
        else None
    )
    # Documents the token in the OpenAPI schema; AccessGuard checks it, before the body is read.
    bearer = HTTPBearer(auto_error=False, description="BRIDGE_API_TOKEN")

    def is_public(path: str) -> bool:
        return (
            path == "/health"
            or path.startswith("/static-offline-docs/")  # Swagger UI's own scripts
            or (path == "/metrics" and settings.bridge_public_metrics)
            or (path in DOCS_PATHS and settings.bridge_public_docs)
        )

    app.add_middleware(AccessGuard, token=token, is_public=is_public)

    @app.get("/health", response_model=Health, responses={503: {"model": Health}}, tags=["bridge"])
    async def health() -> JSONResponse:
        """MQTT connected, database reachable, spool taking writes, every loop alive."""
        links = state.links
        loops = {
            heartbeat.name: LoopHealth(
                ok=heartbeat.problem is None,
                problem=heartbeat.problem,
                failures=heartbeat.failures,
                last_progress=(
                    _datetime(heartbeat.last_progress_ns)
                    if heartbeat.last_progress_ns is not None
                    else None
                ),
            )
            for heartbeat in state.loops.all()
        }
        fine = (
            links.mqtt_connected
            and links.database_reachable
            and links.spool_problem is None
            and all(loop.ok for loop in loops.values())
        )
        report = Health(
            status="ok" if fine else "degraded",
            mqtt=LinkHealth(ok=links.mqtt_connected, problem=links.mqtt_problem),
            database=LinkHealth(ok=links.database_reachable, problem=links.database_problem),
            spool=SpoolHealth(
                ok=links.spool_problem is None,
                problem=links.spool_problem,
                backlog_points=spool.backlog_lines,
                backlog_bytes=spool.backlog_bytes,
                size_bytes=spool.size_bytes,
                evicted_points=spool.evicted_lines,
                damaged_points=spool.damaged_lines,
            ),
            loops=loops,
        )
        code = status.HTTP_200_OK if report.status == "ok" else status.HTTP_503_SERVICE_UNAVAILABLE
        return JSONResponse(report.model_dump(mode="json"), status_code=code)

    @app.get("/metrics", response_class=PlainTextResponse, tags=["bridge"])
    async def metrics() -> PlainTextResponse:
        """Counters and gauges in Prometheus' text format."""
        failures = sum(heartbeat.failures for heartbeat in state.loops.all())
        values = current_values(state.counters, state.links, spool, loop_failures=failures)
        text = prometheus_text(values, state.counters.refusals)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4; charset=utf-8")

    api = APIRouter(prefix="/api", dependencies=[Depends(bearer)])
    device_name = Annotated[str, Path(description="Zigbee2MQTT friendly name")]
    site_filter = Annotated[str | None, Query(pattern=SITE_PATTERN, description=SITE_DESCRIPTION)]
    site_choice = Annotated[
        str | None,
        Query(pattern=SITE_PATTERN, description=SITE_DESCRIPTION + "; needed when ambiguous"),
    ]

    def site_of(name: str, site: str | None) -> str | None:
        """The site a device name is looked up in: the one asked for, the only one that has
        the name, or None (a name no site has). 409 when several have it."""
        if site is not None or not topics.has_sites:
            return site or ""
        sites = registry.sites_of(name)
        if len(sites) > 1:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"{len(sites)} sites have a device named {name!r} "
                f"({_some(sites)}): name one with ?site=",
            )
        return sites[0] if sites else None

    def not_found(name: str, site: str | None) -> HTTPException:
        where = f" in site {site!r}" if site else ""
        return HTTPException(status.HTTP_404_NOT_FOUND, f"no device named {name!r}{where}")

    @api.get("/devices", tags=["devices"])
    async def devices(site: site_filter = None) -> list[DeviceOut]:
        """Every device, or a site's: identity, availability, last seen, last values."""
        return [_device_out(view) for view in registry.views(site)]

    @api.get(
        "/devices/{name:path}",
        responses={404: {"model": Problem}, 409: {"model": Problem}},
        tags=["devices"],
    )
    async def device(name: device_name, site: site_choice = None) -> DeviceOut:
        """One device by friendly name (and site, when several homes have the name)."""
        found = site_of(name, site)
        view = registry.view(name, found) if found is not None else None
        if view is None:
            raise not_found(name, site)
        return _device_out(view)

    @api.post(
        "/devices/{name:path}/set",
        status_code=status.HTTP_202_ACCEPTED,
        responses={
            404: {"model": Problem},
            409: {"model": Problem},
            422: {"model": Problem},
            503: {"model": Problem},
            504: {"model": Problem},
        },
        tags=["devices"],
    )
    async def send_command(
        name: device_name,
        command: Annotated[
            dict[str, JsonValue],
            Body(
                description="Properties to set; each must be settable according to the "
                "device's exposes in bridge/devices",
                examples=[{"state": "OFF"}],
            ),
        ],
        site: site_choice = None,
    ) -> CommandAccepted:
        """Publish a validated command on Zigbee2MQTT's `<name>/set` (in the device's home);
        202 once the broker has it."""
        if any(character in name for character in "+#\0"):
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "a friendly name with an MQTT wildcard (+ #) cannot be a command topic",
            )
        found = site_of(name, site)
        known = registry.device(name, found) if found is not None else None
        if known is None or found is None:
            where = f" of site {site!r}" if site else ""
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no device named {name!r} in Zigbee2MQTT's bridge/devices{where}",
            )
        problems = known.command_problems(command)
        if problems:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "; ".join(problems))
        if not state.links.mqtt_connected:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"not connected to the MQTT broker: {state.links.mqtt_problem}",
            )
        try:
            topic = topics.command_topic(name, found)
        except ValueError as error:  # a device of no home under a pattern: no topic to say
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name!r} cannot be commanded: {error}"
            ) from error
        payload = json.dumps(command, separators=(",", ":"), allow_nan=False).encode()
        done = state.outbox.submit(topic, payload)
        try:
            await asyncio.wait_for(asyncio.wrap_future(done), COMMAND_TIMEOUT_S)
        except CommandFailedError as error:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(error)) from error
        except TimeoutError as error:
            raise HTTPException(
                status.HTTP_504_GATEWAY_TIMEOUT,
                f"the broker did not confirm the command within {COMMAND_TIMEOUT_S:g} s",
            ) from error
        return CommandAccepted(device=name, topic=topic, command=command)

    @api.get(
        "/power", responses={409: {"model": Problem}, 503: {"model": Problem}}, tags=["energy"]
    )
    async def power(site: site_choice = None) -> PowerOut:
        """Home power now, by the integration's rule: the grid meter (BRIDGE_GRID_METER, else
        a Linky's ZLinky) while it is not offline and has spoken in the last 10 minutes, else
        the sum of the metered devices that are not offline, whatever the age of their last
        reading. With several homes, `site` names the home."""
        sites = registry.sites()
        if site is None and len(sites) > 1:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"devices of {len(sites)} sites ({_some(sites)}): name one with ?site=",
            )
        home = site if site is not None else (sites[0] if sites else "")
        zigbee2mqtt = registry.zigbee2mqtt(home)
        if zigbee2mqtt.online is False:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "Zigbee2MQTT is offline: no device is available",
            )
        now = home_power_now(
            registry.views(home),
            zigbee2mqtt.listening_since_ns,
            clock(),
            settings.bridge_grid_meter,
        )
        if now is None:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "no available meter or device reports power"
            )
        return PowerOut(
            power=now.value,
            unit=now.unit,
            source=now.source,
            devices=list(now.devices),
            time=_datetime(now.time_ns),
        )

    @api.get(
        "/history",
        responses={
            409: {"model": Problem},
            422: {"model": Problem},
            502: {"model": Problem},
            503: {"model": Problem},
        },
        tags=["energy"],
    )
    def history(params: Annotated[HistoryParams, Query()]) -> HistoryOut:
        """A field of a device over time, aggregated per window, from InfluxDB (Flux).

        Points still in the spool (database unreachable) are not in the answer yet."""
        stop = _aware(params.stop) if params.stop else _datetime(clock())
        start = _aware(params.start) if params.start else stop - DEFAULT_HISTORY
        if start >= stop:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start must be before stop")
        if (stop - start) / parse_duration(params.window) > MAX_HISTORY_POINTS:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"at most {MAX_HISTORY_POINTS} windows: widen the window or shorten the range",
            )
        device, field = params.device, params.field
        site = site_of(device, params.site)
        if site is None:  # under a pattern, no home has the name now: which home's series?
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no home has a device named {device!r} now: name its home with ?site=",
            )
        known = registry.view(device, site) if site is not None else None
        query = HistoryQuery(
            bucket=settings.influxdb_bucket,
            measurement=settings.influxdb_measurement,
            tag="ieee" if known and known.ieee else "device",
            tag_value=known.ieee if known and known.ieee else device,
            site=site or None,
            field=field,
            start=start,
            stop=stop,
            window=params.window,
            aggregation=params.aggregation,
        )
        try:
            records = list(parse_annotated_csv(database.query(query.flux())))
        except DatabaseUnreachableError as error:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, f"cannot reach InfluxDB: {error}"
            ) from error
        except QueryError as error:
            raise HTTPException(
                status.HTTP_502_BAD_GATEWAY, f"InfluxDB refused the query: {error}"
            ) from error
        points = [
            HistoryPoint(time=moment, value=finite_or_none(record.get("_value")))
            for record in records
            if isinstance(moment := record.get("_time"), datetime)
        ]
        return HistoryOut(
            device=device,
            site=site or None,
            field=field,
            start=start,
            stop=stop,
            window=params.window,
            aggregation=params.aggregation,
            points=points,
        )

    app.include_router(api)
    return app


def _some(sites: list[str]) -> str:
    """A few sites, for a message."""
    named = ", ".join(repr(site) for site in sites[:MAX_SITES_NAMED])
    return named + (", ..." if len(sites) > MAX_SITES_NAMED else "")


def _device_out(view: DeviceView) -> DeviceOut:
    return DeviceOut(
        name=view.name,
        site=view.site or None,
        ieee=view.ieee,
        model=view.model,
        vendor=view.vendor,
        description=view.description,
        availability=None if view.online is None else ("online" if view.online else "offline"),
        last_seen=_datetime(view.last_seen_ns) if view.last_seen_ns is not None else None,
        last_values=_json_safe(view.last_values),
    )


def _json_safe(values: Mapping[str, object]) -> dict[str, JsonValue]:
    """Values as JSON can carry them: NaN and infinities (Python's json reads them) as null."""

    def safe(value: object) -> JsonValue:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Mapping):
            return {str(k): safe(v) for k, v in value.items()}
        if isinstance(value, list):
            return [safe(v) for v in value]
        return value  # type: ignore[return-value]  # the rest came from JSON

    return {str(key): safe(value) for key, value in values.items()}


def _datetime(time_ns: int) -> datetime:
    return datetime.fromtimestamp(time_ns / 1e9, UTC)


def _aware(moment: datetime) -> datetime:
    """Times without a zone are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    """One readable sentence per invalid input, e.g. `query.start: Input should be ...`."""
    problems = [
        ".".join(str(part) for part in problem["loc"]) + ": " + problem["msg"]
        for problem in error.errors()
    ]
    return JSONResponse(
        {"detail": "; ".join(problems) or "invalid request"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
