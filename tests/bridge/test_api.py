"""The REST API: authentication, validation and every route."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
import json
from pathlib import Path
import re
import time
from urllib.parse import quote

from fastapi.testclient import TestClient
import httpx
from hypothesis import given, strategies as st
import pytest

from energy_edge_bridge import api as bridge_api
from energy_edge_bridge.influxdb import InfluxDB
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState
from tests.bridge.conftest import RunningIngest, make_settings
from tests.bridge.recorded_influxdb import RecordedInfluxDB, Response, csv, error
from tests.bridge.support import (
    AclBroker,
    Listener,
    device_entry,
    linky_entry,
    listed,
    plug_state,
    wait_until,
)
from tests.helpers.mosquitto import Broker, free_port

NOW_NS = 1_764_230_400_000_000_000  # 2025-11-27T08:00:00Z
KETTLE = ("kitchen/kettle", "0xa4c1380000000001")
LINKY = ("linky", "0x00158d0000000002")


class Api:
    """A TestClient over the app, with the state it reads."""

    def __init__(self, settings: BridgeSettings, state: BridgeState, spool: Spool) -> None:
        self.settings = settings
        self.state = state
        self.spool = spool
        token = settings.influxdb_token.get_secret_value() if settings.influxdb_token else ""
        database = InfluxDB(
            settings.influxdb_url, token, settings.influxdb_org, settings.influxdb_bucket
        )
        app = bridge_api.make_api(
            settings=settings, state=state, spool=spool, database=database, clock=lambda: NOW_NS
        )
        self.client = TestClient(app)
        api_token = settings.bridge_api_token
        self.auth = {"Authorization": f"Bearer {api_token.get_secret_value()}"} if api_token else {}

    def get(self, path: str, **params: str) -> httpx.Response:
        """An authorised GET."""
        response: httpx.Response = self.client.get(path, headers=self.auth, params=params)
        return response


def populate(state: BridgeState) -> None:
    """A kettle drawing 2 kW and a Linky reading 2.4 kVA, both just seen."""
    state.registry.replace_devices(listed(device_entry(*KETTLE), linky_entry(*LINKY)))
    kettle = json.loads(plug_state(2000.0, 3.5, voltage=float("nan")))
    state.registry.record_state(KETTLE[0], kettle, NOW_NS - 1_000_000_000)
    state.registry.record_availability(KETTLE[0], True)
    state.registry.record_state(LINKY[0], {"apparent_power": 2400, "current_tarif": "HP"}, NOW_NS)


@pytest.fixture
def build_api(
    broker: Broker, recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> Callable[..., Api]:
    """An API over a populated state, its database answering with recorded responses."""

    def make(state: BridgeState | None = None, **overrides: object) -> Api:
        settings = make_settings(
            broker, tmp_path / "spool", **{"influxdb_url": recorded_influxdb.url, **overrides}
        )
        if state is None:
            state = BridgeState()
            populate(state)
        return Api(settings, state, Spool(settings.bridge_spool_dir, 1024 * 1024))

    return make


@pytest.fixture
def api(build_api: Callable[..., Api]) -> Api:
    """The API with a token."""
    return build_api()


def test_api_routes_need_the_token(api: Api) -> None:
    """No header, another scheme, a wrong token: 401 with a clear message; the token: 200."""
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer nope"}):
        response = api.client.get("/api/devices", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "Authorization: Bearer <BRIDGE_API_TOKEN>" in response.json()["detail"]
    assert api.client.get("/api/devices", headers=api.auth).status_code == 200


def test_without_a_token_the_api_is_open_only_when_asked(build_api: Callable[..., Api]) -> None:
    """BRIDGE_ALLOW_INSECURE_API with no token: /api answers anyone."""
    open_api = build_api(bridge_api_token=None, bridge_allow_insecure_api=True)
    assert open_api.client.get("/api/devices").status_code == 200


def test_health_says_what_is_wrong_with_503(api: Api) -> None:
    """Health needs no token; 503 names the broken link, 200 once both are up."""
    api.spool.write(["m v=1.0 1", "m v=2.0 2"])
    response = api.client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["mqtt"] == {"ok": False, "problem": "not connected yet"}
    assert body["spool"]["backlog_points"] == 2
    assert body["spool"]["backlog_bytes"] == body["spool"]["size_bytes"] > 0
    assert body["loops"]["writer"] == {
        "ok": False,
        "problem": "not running",
        "failures": 0,
        "last_progress": None,
    }
    links = api.state.links
    links.mqtt_connected = links.database_reachable = True
    links.mqtt_problem = links.database_problem = None
    for heartbeat in api.state.loops.all():
        heartbeat.running = True
        heartbeat.beat(10)
    healthy = api.client.get("/health")
    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"


def test_health_turns_unhealthy_when_a_loop_is_stuck_or_gave_up(api: Api) -> None:
    """A loop that stopped beating, or gave up after repeated failures, makes /health 503
    and says which and why, though both links are up."""
    links = api.state.links
    links.mqtt_connected = links.database_reachable = True
    now = [1000.0]
    for heartbeat in api.state.loops.all():
        heartbeat.clock = lambda: now[0]
        heartbeat.running = True
        heartbeat.beat(1)
    assert api.client.get("/health").status_code == 200
    now[0] += 60  # the ingest promised to beat within 1 s; 30 s of slack passed too
    api.state.loops.writer.beat(1)
    api.state.loops.health.beat(1)
    stuck = api.client.get("/health")
    assert stuck.status_code == 503
    assert "stuck" in stuck.json()["loops"]["ingest"]["problem"]
    assert stuck.json()["loops"]["writer"]["ok"] is True
    api.state.loops.ingest.beat(1)
    writer = api.state.loops.writer
    writer.running, writer.gave_up, writer.failures = False, True, 5
    writer.last_error = "OSError: boom"
    failed = api.client.get("/health").json()["loops"]["writer"]
    assert failed["problem"] == "gave up after 5 failures: OSError: boom"


def test_health_says_when_the_spool_refuses_writes(api: Api) -> None:
    """A full disk is a problem /health names, even with both links up."""
    links = api.state.links
    links.mqtt_connected = links.database_reachable = True
    for heartbeat in api.state.loops.all():
        heartbeat.running = True
        heartbeat.beat(10)
    links.spool_problem = "cannot write to the spool: No space left on device"
    response = api.client.get("/health")
    assert response.status_code == 503
    assert response.json()["spool"]["problem"] == links.spool_problem


def test_metrics_are_prometheus_text(api: Api) -> None:
    """Counters with _total, gauges, HELP and TYPE lines."""
    api.state.counters.messages_received = 42
    api.state.counters.dead_letters = 3
    response = api.client.get("/metrics", headers=api.auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "# TYPE energy_edge_bridge_messages_received_total counter" in text
    assert "energy_edge_bridge_messages_received_total 42\n" in text
    assert "energy_edge_bridge_dead_letters_total 3\n" in text
    assert "# TYPE energy_edge_bridge_spool_bytes gauge" in text
    for name in ("points_written", "write_errors", "malformed_messages", "spool_bytes"):
        assert f"energy_edge_bridge_{name}" in text


def test_refusals_are_counted_by_reason_in_the_metrics(api: Api) -> None:
    """One labelled counter, every reason listed from the start (0 until it happens)."""
    api.state.counters.refusals["bad_bridge_device"] += 2
    text = api.client.get("/metrics", headers=api.auth).text
    assert "# TYPE energy_edge_bridge_refusals_total counter" in text
    assert 'energy_edge_bridge_refusals_total{reason="bad_bridge_device"} 2\n' in text
    assert 'energy_edge_bridge_refusals_total{reason="bad_event"} 0\n' in text
    assert 'energy_edge_bridge_refusals_total{reason="bad_topic"} 0\n' in text


def test_devices_show_identity_availability_and_last_values(api: Api) -> None:
    """Sorted by name; NaN read from a payload comes out as null."""
    devices = api.get("/api/devices").json()
    assert [d["name"] for d in devices] == ["kitchen/kettle", "linky"]
    kettle = devices[0]
    assert kettle["ieee"] == KETTLE[1]
    assert kettle["model"] == "TS011F_plug_1"
    assert kettle["vendor"] == "Tuya"
    assert kettle["availability"] == "online"
    assert kettle["last_seen"] == "2025-11-27T07:59:59Z"
    assert kettle["last_values"]["power"] == 2000.0
    assert kettle["last_values"]["voltage"] is None
    assert kettle["last_values"]["update"]["state"] == "idle"
    assert devices[1]["availability"] is None


def test_one_device_by_its_friendly_name(api: Api) -> None:
    """Names with slashes work; an unknown name is a 404 with a message."""
    kettle = api.get("/api/devices/kitchen/kettle")
    assert kettle.status_code == 200
    assert kettle.json()["ieee"] == KETTLE[1]
    missing = api.get("/api/devices/garage/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no device named 'garage/nothing'"}


def test_home_power_comes_from_the_meter(api: Api) -> None:
    """The Linky's apparent power, in VA."""
    assert api.get("/api/power").json() == {
        "power": 2400.0,
        "unit": "VA",
        "source": "meter",
        "devices": ["linky"],
        "time": "2025-11-27T08:00:00Z",
    }


def test_without_readings_home_power_is_unavailable(build_api: Callable[..., Api]) -> None:
    """Nobody reported: 503 with a message."""
    response = build_api(state=BridgeState()).get("/api/power")
    assert response.status_code == 503
    assert response.json()["detail"] == "no available meter or device reports power"


def test_while_zigbee2mqtt_is_offline_no_device_gives_power(api: Api) -> None:
    """`bridge/state` offline (Zigbee2MQTT's last will): its devices are unavailable, the
    meter's last reading included; online again, the Linky's reading counts again."""
    api.state.registry.record_bridge_state(False, NOW_NS)
    response = api.get("/api/power")
    assert response.status_code == 503
    assert response.json()["detail"] == "Zigbee2MQTT is offline: no device is available"
    api.state.registry.record_bridge_state(True, NOW_NS)
    assert api.get("/api/power").json()["power"] == 2400.0


def test_history_queries_influxdb_and_returns_points(
    api: Api, recorded_influxdb: RecordedInfluxDB
) -> None:
    """A Flux query by IEEE address (renames kept), answered from InfluxDB's CSV."""
    recorded_influxdb.answer(csv("history_power_mean_5m.csv"))
    response = api.get(
        "/api/history",
        device="kitchen/kettle",
        field="power",
        start="2026-11-27T08:00:00Z",
        stop="2026-11-27T10:00:00+01:00",
        window="5m",
        aggregation="max",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["points"][:2] == [
        {"time": "2026-11-27T08:05:00Z", "value": 118.25},
        {"time": "2026-11-27T08:10:00Z", "value": 121.5},
    ]
    assert [p["value"] for p in body["points"][3:5]] == [None, None]  # NaN and null
    assert (body["window"], body["aggregation"]) == ("5m", "max")
    [request] = recorded_influxdb.requests
    assert request.path == "/api/v2/query"
    assert request.query == {"org": ["energy-edge"]}
    assert request.headers["Authorization"].startswith("Token ")
    sent = json.loads(request.body)
    assert sent["dialect"]["annotations"] == ["datatype", "group", "default"]
    assert 'r.ieee == "0xa4c1380000000001"' in sent["query"]
    assert "fn: max" in sent["query"]
    assert (
        "range(start: 2026-11-27T08:00:00.000000Z, stop: 2026-11-27T09:00:00.000000Z)"
        in (sent["query"])
    )


def test_history_of_an_unknown_device_goes_by_name_over_the_last_day(
    api: Api, recorded_influxdb: RecordedInfluxDB
) -> None:
    """A device gone from Zigbee2MQTT still has its history, by name; default range: 24 h."""
    recorded_influxdb.answer(csv("empty.csv"))
    response = api.get("/api/history", device="old plug", field="energy")
    assert response.status_code == 200
    assert response.json()["points"] == []
    query = json.loads(recorded_influxdb.requests[0].body)["query"]
    assert 'r.device == "old plug"' in query
    assert "range(start: 2025-11-26T08:00:00.000000Z, stop: 2025-11-27T08:00:00.000000Z)" in query


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"field": "power"}, "query.device: Field required"),
        ({"device": "k", "field": "power", "window": "5x"}, "query.window: Value error, '5x'"),
        ({"device": "k", "field": "power", "start": "yesterday"}, "query.start: Input should be"),
        ({"device": "k", "field": "power", "aggregation": "avg"}, "query.aggregation: Input"),
        ({"device": "k", "field": "power", "color": "red"}, "query.color: Extra inputs"),
        (
            {"device": "k", "field": "power", "start": "2026-01-02", "stop": "2026-01-01"},
            "start must be before stop",
        ),
        ({"device": "k", "field": "power", "window": "1s"}, "at most 10000 windows"),
        # Python's int() reads other scripts' digits; Flux does not.
        ({"device": "k", "field": "power", "window": "\u0665m"}, "is not a duration"),
        ({"device": "k", "field": "power", "window": "99999999999999999999d"}, "too long"),
        ({"device": "k", "field": "power", "window": "99999d"}, "at most 3660 days"),
        ({"device": "k", "field": "power", "stop": "0001-01-01T00:00:00Z"}, "query.stop:"),
        ({"device": "k", "field": "power", "start": "9999-12-31T23:59:59Z"}, "query.start:"),
    ],
)
def test_history_parameters_are_validated(
    api: Api, recorded_influxdb: RecordedInfluxDB, params: dict[str, str], detail: str
) -> None:
    """422 with a sentence naming the parameter; InfluxDB is not asked."""
    response = api.get("/api/history", **params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]
    assert recorded_influxdb.requests == []


@pytest.mark.parametrize(
    ("answer", "status", "detail"),
    [
        (
            error(400, "invalid", "compilation failed: undefined identifier foo"),
            502,
            "InfluxDB refused the query: compilation failed: undefined identifier foo",
        ),
        (error(401, "unauthorized", "unauthorized access"), 502, "unauthorized access"),
        (csv("runtime_error.csv"), 502, "unsupported aggregate column type string"),
    ],
)
def test_history_errors_from_influxdb_are_reported(
    api: Api, recorded_influxdb: RecordedInfluxDB, answer: Response, status: int, detail: str
) -> None:
    """InfluxDB's own message comes through."""
    recorded_influxdb.answer(answer)
    response = api.get("/api/history", device="kitchen/kettle", field="power")
    assert response.status_code == status
    assert detail in response.json()["detail"]


def test_history_without_influxdb_is_unavailable(build_api: Callable[..., Api]) -> None:
    """Nothing listens: 503."""
    api = build_api(influxdb_url=f"http://127.0.0.1:{free_port()}")
    response = api.get("/api/history", device="kitchen/kettle", field="power")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("cannot reach InfluxDB")


@pytest.fixture
def commands_api(
    broker: Broker, recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> Iterator[tuple[Api, list[tuple[str, bytes]]]]:
    """An API whose commands go through a running ingest to the broker, and what a listener
    on `zigbee2mqtt/+/set` receives."""
    listener = Listener(broker, "zigbee2mqtt/+/+/set")
    settings = make_settings(broker, tmp_path / "spool", influxdb_url=recorded_influxdb.url)
    ingest = RunningIngest(settings)
    populate(ingest.state)
    ingest.start()
    yield Api(settings, ingest.state, ingest.spool), listener.received
    ingest.stop()
    listener.close()


def test_a_valid_command_is_published_to_zigbee2mqtt(
    commands_api: tuple[Api, list[tuple[str, bytes]]],
) -> None:
    """202 once the broker has it; Zigbee2MQTT's `<name>/set` receives the body."""
    api, received = commands_api
    response = api.client.post(
        "/api/devices/kitchen/kettle/set", headers=api.auth, json={"state": "OFF", "countdown": 0}
    )
    assert response.status_code == 202, response.text
    assert response.json() == {
        "device": "kitchen/kettle",
        "topic": "zigbee2mqtt/kitchen/kettle/set",
        "command": {"state": "OFF", "countdown": 0},
    }
    wait_until(lambda: received, 10, "the command did not reach the broker")
    assert received == [("zigbee2mqtt/kitchen/kettle/set", b'{"state":"OFF","countdown":0}')]


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        (
            "/api/devices/kitchen/kettle/set",
            {"power": 10},
            422,
            "power: not settable on kitchen/kettle",
        ),
        ("/api/devices/kitchen/kettle/set", {"state": "on"}, 422, 'expected one of "ON"'),
        ("/api/devices/kitchen/kettle/set", {}, 422, "the command sets no property"),
        (
            "/api/devices/kitchen/kettle/set",
            ["ON"],
            422,
            "body: Input should be a valid dictionary",
        ),
        ("/api/devices/linky/set", {"state": "OFF"}, 422, "settable: none"),
        ("/api/devices/garage/set", {"state": "OFF"}, 404, "no device named 'garage'"),
    ],
)
def test_invalid_commands_are_refused_before_the_broker(
    commands_api: tuple[Api, list[tuple[str, bytes]]],
    path: str,
    body: object,
    status: int,
    detail: str,
) -> None:
    """Checked against the device's exposes; nothing is published."""
    api, received = commands_api
    response = api.client.post(path, headers=api.auth, json=body)
    assert response.status_code == status
    assert detail in response.json()["detail"]
    time.sleep(0.2)
    assert received == []


def test_a_command_without_the_broker_is_unavailable(api: Api) -> None:
    """The bridge is not connected: 503 at once, naming why."""
    response = api.client.post(
        "/api/devices/kitchen/kettle/set", headers=api.auth, json={"state": "ON"}
    )
    assert response.status_code == 503
    assert response.json()["detail"] == "not connected to the MQTT broker: not connected yet"


def test_a_command_the_broker_refuses_is_unavailable(
    recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> None:
    """The broker's ACL forbids the publish (PUBACK Not authorized): 503 with the reason."""
    broker = AclBroker(tmp_path / "acl-broker", acl="topic read zigbee2mqtt/#")
    broker.start()
    settings = make_settings(broker, tmp_path / "spool", influxdb_url=recorded_influxdb.url)
    ingest = RunningIngest(settings)
    populate(ingest.state)
    try:
        ingest.start()
        api = Api(settings, ingest.state, ingest.spool)
        response = api.client.post(
            "/api/devices/kitchen/kettle/set", headers=api.auth, json={"state": "ON"}
        )
        assert response.status_code == 503
        assert response.json()["detail"] == "the broker refused the command: Not authorized"
    finally:
        ingest.stop()
        broker.stop()


def test_a_command_nobody_publishes_times_out(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connected but the publisher is stuck: 504 rather than waiting forever."""
    monkeypatch.setattr("energy_edge_bridge.api.COMMAND_TIMEOUT_S", 0.2)
    api.state.links.mqtt_connected = True
    response = api.client.post(
        "/api/devices/kitchen/kettle/set", headers=api.auth, json={"state": "ON"}
    )
    assert response.status_code == 504
    assert "did not confirm the command within 0.2 s" in response.json()["detail"]


def test_swagger_ui_and_openapi_describe_the_api(api: Api) -> None:
    """/docs serves Swagger UI, its scripts and styles from the bridge itself (a home network may
    have no internet); the schema lists every route and the bearer scheme."""
    page = api.client.get("/docs", headers=api.auth).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {asset.rsplit("/", 1)[-1] for asset in assets} >= {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
    }
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served by the bridge"
        assert api.client.get(asset).status_code == 200  # no secret in Swagger UI's scripts
    schema = api.client.get("/openapi.json", headers=api.auth).json()
    assert set(schema["paths"]) == {
        "/health",
        "/metrics",
        "/api/devices",
        "/api/devices/{name}",
        "/api/devices/{name}/set",
        "/api/power",
        "/api/history",
    }
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_times_are_utc(api: Api) -> None:
    """last_seen is an ISO time in UTC."""
    seen = api.get("/api/devices/linky").json()["last_seen"]
    assert datetime.fromisoformat(seen) == datetime.fromtimestamp(NOW_NS / 1e9, UTC)


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json"])
def test_metrics_and_docs_need_the_token_unless_made_public(
    build_api: Callable[..., Api], path: str
) -> None:
    """What the bridge counts and how its API is shaped are for its operator: the token,
    unless BRIDGE_PUBLIC_METRICS or BRIDGE_PUBLIC_DOCS opens them (e.g. for a Prometheus on a
    trusted network, or Swagger UI in a browser, which cannot send the token)."""
    closed = build_api()
    assert closed.client.get(path).status_code == 401
    assert closed.client.get(path, headers=closed.auth).status_code == 200
    assert closed.client.get("/health").status_code in {200, 503}  # probes need no token
    opened = build_api(bridge_public_metrics=True, bridge_public_docs=True)
    assert opened.client.get(path).status_code == 200
    assert opened.client.get("/api/devices").status_code == 401


class CountingBody:
    """An ASGI request body sent in 64 KiB chunks, counting how many the app asked for."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.read = 0

    async def receive(self) -> dict[str, object]:
        self.read += 1
        if self.read > self.chunks:
            return {"type": "http.disconnect"}
        more = self.read < self.chunks
        return {"type": "http.request", "body": b" " * 65536, "more_body": more}


async def post_body(api: Api, body: CountingBody, headers: dict[str, str]) -> int:
    """POST a command with that body straight to the ASGI app; the status answered."""
    answered: list[int] = []

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            answered.append(int(message["status"]))  # type: ignore[call-overload]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/devices/kitchen/kettle/set",
        "raw_path": b"/api/devices/kitchen/kettle/set",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")]
        + [(key.lower().encode(), value.encode()) for key, value in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    await api.client.app(scope, body.receive, send)  # type: ignore[arg-type]
    return answered[0]


async def test_a_request_without_the_token_is_refused_before_its_body_is_read(api: Api) -> None:
    """A 64 MB body without a token used to be read and parsed (RSS 70 to 478 MB): now the
    401 comes before the first byte of the body is asked for."""
    body = CountingBody(chunks=1024)
    assert await post_body(api, body, {}) == 401
    assert body.read == 0


async def test_a_body_over_the_limit_is_refused_with_413(api: Api) -> None:
    """With the token, a body is read only up to 64 KiB: past it, 413, and the rest is
    never asked for."""
    body = CountingBody(chunks=1024)
    assert await post_body(api, body, api.auth) == 413
    assert body.read <= 2
    declared = CountingBody(chunks=1)
    assert await post_body(api, declared, {**api.auth, "Content-Length": str(10**9)}) == 413
    assert declared.read == 0


def test_a_friendly_name_with_a_wildcard_is_refused_as_a_command_topic(api: Api) -> None:
    """`+` or `#` in a friendly name would make a topic filter, not a topic: 422 (such a
    device is not even taken from bridge/devices; a name in the path is refused anyway)."""
    api.state.links.mqtt_connected = True
    response = api.client.post("/api/devices/kitchen/+/set", headers=api.auth, json={"state": "ON"})
    assert response.status_code == 422
    assert "wildcard" in response.json()["detail"]


@pytest.fixture
def unreachable_api(build_api: Callable[..., Api]) -> Api:
    """The API over a database nothing listens on: a valid history query ends in 503."""
    return build_api(influxdb_url=f"http://127.0.0.1:{free_port()}")


TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)


@given(
    window=TEXT | st.from_regex(r"[0-9]{1,25}(ms|s|m|h|d|w)", fullmatch=True),
    start=TEXT | st.datetimes().map(datetime.isoformat),
    stop=TEXT | st.datetimes().map(datetime.isoformat),
    field=TEXT,
)
def test_history_answers_any_query_string_without_a_server_error(
    unreachable_api: Api, window: str, start: str, stop: str, field: str
) -> None:
    """Whatever the query string, /api/history validates it (422) or asks the database
    (here unreachable: 503); a window the query gets is made of ASCII digits and a unit."""
    response = unreachable_api.get(
        "/api/history", device="kitchen/kettle", field=field, window=window, start=start, stop=stop
    )
    assert response.status_code in {422, 503}, response.text
    if response.status_code == 503:
        assert re.fullmatch(r"[0-9]+(ms|s|m|h|d|w)", window)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers()
    | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=8,
)


@given(name=TEXT.filter(lambda name: name.strip("/") != ""), body=JSON)
def test_commands_answer_any_name_and_body_without_a_server_error(
    api: Api, name: str, body: object
) -> None:
    """Any friendly name, any JSON body: 404, 422 or 503 (no broker here), never a 500."""
    path = f"/api/devices/{quote(name, safe='/')}/set"
    response = api.client.post(path, headers=api.auth, json=body)
    assert response.status_code in {404, 422, 503}, response.text
