"""Many homes on one broker: `Z2M_BASE_TOPIC=homes/+/zigbee2mqtt`, the level the `+` matches
naming the home (`site`) on every point, in the device table, the API and commands."""

from collections.abc import Callable, Iterator
import json
from pathlib import Path

from pydantic import ValidationError
import pytest

from energy_edge_bridge.devices import DeviceRegistry
from energy_edge_bridge.settings import BridgeSettings
from energy_edge_bridge.spool import Spool
from energy_edge_bridge.state import BridgeState
from tests.bridge.conftest import RunningIngest, make_settings
from tests.bridge.recorded_influxdb import RecordedInfluxDB, csv
from tests.bridge.support import (
    Listener,
    Publisher,
    device_entry,
    devices_payload,
    linky_entry,
    listed,
    parse_line,
    plug_state,
    wait_until,
)
from tests.bridge.test_api import NOW_NS, Api, populate
from tests.helpers.mosquitto import Broker

PATTERN = "homes/+/zigbee2mqtt"
# Two homes, each with a plug named `kettle` (Zigbee2MQTT's default names repeat from home
# to home) and a Linky meter.
KETTLES = {"h1": "0xa4c1380000000001", "h2": "0xa4c1380000000002"}
LINKYS = {"h1": "0x00158d0000000011", "h2": "0x00158d0000000012"}


@pytest.mark.parametrize("topic", [PATTERN, "+/zigbee2mqtt", "a/+/b/c", "zigbee2mqtt"])
def test_a_base_topic_may_have_one_whole_level_naming_the_home(topic: str) -> None:
    """One `+` level before the last, or none."""
    assert BridgeSettings(_env_file=None, z2m_base_topic=topic).z2m_base_topic == topic


@pytest.mark.parametrize(
    "topic",
    ["homes/+/+/zigbee2mqtt", "homes/h+/zigbee2mqtt", "homes/+", "+", "homes/#", "homes/+/z2m/"],
)
def test_a_base_topic_with_other_wildcards_is_refused(topic: str) -> None:
    """Two `+`, part of a level, in the last level (it would take a device's name for a
    home), or `#`: a base topic that cannot name the home unambiguously."""
    with pytest.raises(ValidationError, match="z2m_base_topic"):
        BridgeSettings(_env_file=None, z2m_base_topic=topic)


def test_homes_with_the_same_friendly_name_keep_their_own_devices() -> None:
    """A kettle in each home: two devices, each with its own identity; a home's new device
    list leaves the other home's devices alone."""
    registry = DeviceRegistry()
    for site, ieee in KETTLES.items():
        registry.replace_devices(listed(device_entry("kettle", ieee)), site)
    assert registry.record_state("kettle", {"power": 5}, 1, "h2") == (
        f",device=kettle,ieee={KETTLES['h2']},model=TS011F_plug_1,site=h2"
    )
    registry.replace_devices([], "h1")
    assert registry.view("kettle", "h1") is None
    assert registry.sites_of("kettle") == ["h2"]
    assert registry.record_availability("lamp", True, "h1") == ",device=lamp,site=h1"
    assert [(v.site, v.name) for v in registry.views()] == [("h1", "lamp"), ("h2", "kettle")]


def test_every_point_of_a_home_carries_its_site(broker: Broker, tmp_path: Path) -> None:
    """Readings, availability, bridge state and events are tagged with the home; each
    home's `bridge/devices` gives its own devices' IEEE address and model, even through
    a share group (the list reaches every instance through the ordinary subscription)."""
    publisher = Publisher(broker)
    for site, ieee in KETTLES.items():
        publisher.publish(
            f"homes/{site}/zigbee2mqtt/bridge/devices",
            devices_payload(device_entry("kettle", ieee)),
            retain=True,
        )
    publisher.flush()
    running = RunningIngest(
        make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN, mqtt_share_group="g")
    )
    running.start()
    try:
        wait_until(lambda: running.state.registry.sites() == ["h1", "h2"], 10, "no device lists")
        publisher.publish("homes/h1/zigbee2mqtt/kettle", plug_state(100.0, 1.0))
        publisher.publish("homes/h2/zigbee2mqtt/kettle", plug_state(200.0, 2.0))
        publisher.publish("homes/h2/zigbee2mqtt/kettle/availability", '{"state":"offline"}')
        publisher.publish("homes/h1/zigbee2mqtt/bridge/state", '{"state":"online"}')
        publisher.publish(
            "homes/h2/zigbee2mqtt/bridge/event",
            json.dumps(
                {
                    "type": "device_joined",
                    "data": {"friendly_name": "lamp", "ieee_address": "0x00158d0000000021"},
                }
            ),
        )
        publisher.publish("homes//zigbee2mqtt/kettle", plug_state(300.0, 3.0))  # no home
        publisher.flush()
        running.wait_for_messages(6 + 2 + 2)  # 2 lists, 2 metadata copies
        points = [parse_line(text) for text in running.lines()]
    finally:
        running.stop()
        publisher.close()
    readings = {p.fields["power"]: p.tags for p in points if p.measurement == "zigbee2mqtt"}
    assert readings == {
        100.0: {"device": "kettle", "ieee": KETTLES["h1"], "model": "TS011F_plug_1", "site": "h1"},
        200.0: {"device": "kettle", "ieee": KETTLES["h2"], "model": "TS011F_plug_1", "site": "h2"},
    }
    others = {p.measurement: p.tags for p in points if p.measurement != "zigbee2mqtt"}
    assert others["zigbee2mqtt_availability"]["site"] == "h2"
    bridge = sorted(
        (p.tags.get("site"), p.tags.get("event")) for p in points if "bridge" in p.measurement
    )
    assert bridge == [("h1", None), ("h2", "device_joined")]
    assert running.state.counters.malformed_messages == 1  # the topic with an empty home
    assert running.state.registry.view("kettle", "h1").online is None  # type: ignore[union-attr]
    assert running.state.registry.view("kettle", "h2").online is False  # type: ignore[union-attr]


def test_each_homes_device_list_is_kept_for_the_next_start(broker: Broker, tmp_path: Path) -> None:
    """Readings queued for the session come before the retained lists on reconnecting: the
    lists kept from the last run, one per home, tag them."""
    settings = make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN)
    first = RunningIngest(settings)
    first.start()
    publisher = Publisher(broker)
    for site, ieee in KETTLES.items():
        publisher.publish(
            f"homes/{site}/zigbee2mqtt/bridge/devices",
            devices_payload(device_entry("kettle", ieee)),
        )
    publisher.flush()
    wait_until(lambda: first.state.registry.sites() == ["h1", "h2"], 10, "no device lists")
    first.stop()
    for site in KETTLES:  # queued for the session, no list retained
        publisher.publish(f"homes/{site}/zigbee2mqtt/kettle", plug_state(100.0, 1.0, home=site))
    publisher.close()
    second = RunningIngest(settings)
    second.start()
    try:
        second.wait_for_messages(2)
        points = [parse_line(text) for text in second.lines()]
    finally:
        second.stop()
    assert sorted((p.tags["site"], p.tags.get("ieee")) for p in points) == sorted(KETTLES.items())


def test_a_damaged_kept_list_of_a_home_is_said_and_skipped(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A kept file that names no home, or is not JSON, is logged and left aside."""
    kept = tmp_path / "spool" / "bridge-devices"
    kept.mkdir(parents=True)
    (kept / "a.json").write_text('{"devices": []}')
    (kept / "b.json").write_text("[{")
    running = RunningIngest(make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN))
    running.start()
    running.stop()
    assert caplog.text.count("ignored the kept device list") == 2


def populate_homes(state: BridgeState) -> None:
    """A kettle and a Linky in each home, all just seen; the Linkys read 1.2 and 3.4 kVA."""
    for site, power in (("h1", 1200), ("h2", 3400)):
        state.registry.replace_devices(
            listed(device_entry("kettle", KETTLES[site]), linky_entry("linky", LINKYS[site])),
            site,
        )
        state.registry.record_state("kettle", {"power": 100.0}, NOW_NS, site)
        state.registry.record_state("linky", {"apparent_power": power}, NOW_NS, site)
    state.registry.record_state("lamp", {"state": "ON"}, NOW_NS, "h2")


@pytest.fixture
def build_api(
    broker: Broker, recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> Callable[..., Api]:
    """An API over a state, its database answering with recorded responses."""

    def make(state: BridgeState, **overrides: object) -> Api:
        settings = make_settings(
            broker, tmp_path / "spool", influxdb_url=recorded_influxdb.url, **overrides
        )
        return Api(settings, state, Spool(settings.bridge_spool_dir, 1024 * 1024))

    return make


@pytest.fixture
def homes_api(build_api: Callable[..., Api]) -> Api:
    """The API of a bridge following two homes."""
    state = BridgeState()
    populate_homes(state)
    return build_api(state, z2m_base_topic=PATTERN)


def test_devices_say_their_home_and_can_be_listed_by_home(homes_api: Api) -> None:
    """Each device names its site; `?site=` lists one home's."""
    devices = homes_api.get("/api/devices").json()
    assert [(d["site"], d["name"]) for d in devices] == [
        ("h1", "kettle"),
        ("h1", "linky"),
        ("h2", "kettle"),
        ("h2", "lamp"),
        ("h2", "linky"),
    ]
    h2 = homes_api.get("/api/devices", site="h2").json()
    assert [d["ieee"] for d in h2 if d["name"] == "kettle"] == [KETTLES["h2"]]
    assert homes_api.get("/api/devices", site="nowhere").json() == []


def test_a_single_home_has_no_site(build_api: Callable[..., Api]) -> None:
    """Without a `+` level, devices have no site (null), as their points have no tag."""
    state = BridgeState()
    populate(state)
    assert {d["site"] for d in build_api(state).get("/api/devices").json()} == {None}


def test_a_name_two_homes_have_needs_its_site(homes_api: Api) -> None:
    """`kettle` alone is ambiguous: 409 naming the homes; with `site`, that home's kettle;
    a name one home has needs no site."""
    ambiguous = homes_api.get("/api/devices/kettle")
    assert ambiguous.status_code == 409
    assert ambiguous.json()["detail"] == (
        "2 sites have a device named 'kettle' ('h1', 'h2'): name one with ?site="
    )
    assert homes_api.get("/api/devices/kettle", site="h2").json()["ieee"] == KETTLES["h2"]
    assert homes_api.get("/api/devices/lamp").json()["site"] == "h2"
    missing = homes_api.get("/api/devices/lamp", site="h1")
    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "no device named 'lamp' in site 'h1'"},
    )
    assert homes_api.get("/api/devices/nothing").status_code == 404


@pytest.mark.parametrize("site", ["a/b", "h+", "#", "", "h\x00"])
@pytest.mark.parametrize("path", ["/api/devices", "/api/power", "/api/devices/kettle"])
def test_a_site_that_is_not_a_topic_level_is_refused(homes_api: Api, path: str, site: str) -> None:
    """A site is one topic level: no `/`, no wildcard, not empty; 422 with the parameter."""
    response = homes_api.get(path, site=site)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("query.site:")


def test_home_power_needs_the_home_when_there_are_several(homes_api: Api) -> None:
    """Adding two homes' meters would be no home's power: 409; each home's own Linky."""
    response = homes_api.get("/api/power")
    assert response.status_code == 409
    assert "2 sites ('h1', 'h2'): name one with ?site=" in response.json()["detail"]
    assert homes_api.get("/api/power", site="h1").json()["power"] == 1200.0
    assert homes_api.get("/api/power", site="h2").json()["power"] == 3400.0
    assert homes_api.get("/api/power", site="h3").status_code == 503


def test_many_homes_are_named_in_part(build_api: Callable[..., Api]) -> None:
    """A community of homes: the message names a few, not thousands."""
    state = BridgeState()
    for n in range(7):
        state.registry.record_state("kettle", {"power": 1.0}, NOW_NS, f"h{n}")
    response = build_api(state, z2m_base_topic=PATTERN).get("/api/power")
    assert "7 sites ('h0', 'h1', 'h2', 'h3', 'h4', ...)" in response.json()["detail"]


def test_history_of_a_homes_device_is_filtered_by_its_site(
    homes_api: Api, recorded_influxdb: RecordedInfluxDB
) -> None:
    """The Flux query filters the `site` tag; ambiguous without it (409, no query sent); a
    name one home has is that home's."""
    ambiguous = homes_api.get("/api/history", device="kettle", field="power")
    assert ambiguous.status_code == 409
    assert recorded_influxdb.requests == []
    recorded_influxdb.answer(csv("empty.csv"))
    response = homes_api.get("/api/history", device="kettle", field="power", site="h2")
    assert response.status_code == 200, response.text
    assert response.json()["site"] == "h2"
    query = json.loads(recorded_influxdb.requests[0].body)["query"]
    assert f'r.ieee == "{KETTLES["h2"]}" and r.site == "h2"' in query
    recorded_influxdb.answer(csv("empty.csv"))
    assert homes_api.get("/api/history", device="lamp", field="state").json()["site"] == "h2"
    query = json.loads(recorded_influxdb.requests[1].body)["query"]
    assert 'r.device == "lamp" and r.site == "h2"' in query


def test_a_site_cannot_inject_flux(homes_api: Api, recorded_influxdb: RecordedInfluxDB) -> None:
    """Quotes and interpolation in a site stay inside its string literal."""
    recorded_influxdb.answer(csv("empty.csv"))
    site = 'h1" or r.site != "${x}'
    homes_api.get("/api/history", device="kettle", field="power", site=site)
    query = json.loads(recorded_influxdb.requests[0].body)["query"]
    assert r'r.site == "h1\" or r.site != \"\${x}"' in query


@pytest.fixture
def homes_commands(
    broker: Broker, recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> Iterator[tuple[Api, list[tuple[str, bytes]]]]:
    """An API over two homes whose commands go through a running ingest, and what the
    homes' Zigbee2MQTT receive."""
    listener = Listener(broker, "homes/+/zigbee2mqtt/+/set")
    settings = make_settings(
        broker, tmp_path / "spool", influxdb_url=recorded_influxdb.url, z2m_base_topic=PATTERN
    )
    ingest = RunningIngest(settings)
    populate_homes(ingest.state)
    ingest.start()
    yield Api(settings, ingest.state, ingest.spool), listener.received
    ingest.stop()
    listener.close()


def test_a_command_reaches_the_right_home(
    homes_commands: tuple[Api, list[tuple[str, bytes]]],
) -> None:
    """The kettle of h2, not of h1; without `site`, nothing is published (409)."""
    api, received = homes_commands
    ambiguous = api.client.post("/api/devices/kettle/set", headers=api.auth, json={"state": "ON"})
    assert ambiguous.status_code == 409
    unknown = api.client.post(
        "/api/devices/kettle/set", headers=api.auth, params={"site": "h9"}, json={"state": "ON"}
    )
    assert unknown.status_code == 404
    assert "of site 'h9'" in unknown.json()["detail"]
    response = api.client.post(
        "/api/devices/kettle/set", headers=api.auth, params={"site": "h2"}, json={"state": "ON"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["topic"] == "homes/h2/zigbee2mqtt/kettle/set"
    wait_until(lambda: received, 10, "the command did not reach the broker")
    assert received == [("homes/h2/zigbee2mqtt/kettle/set", b'{"state":"ON"}')]


def test_switching_one_home_to_the_pattern_leaves_its_old_list_aside(
    broker: Broker, recorded_influxdb: RecordedInfluxDB, tmp_path: Path
) -> None:
    """A home that ran as `zigbee2mqtt` moves to `homes/+/zigbee2mqtt`: its old list
    (`bridge-devices.json`) names no home, and used to give devices of site "" that made
    every command a 500, `/api/power` a 409 nobody could answer and ghosts in `/api/devices`.
    Now only the homes' own lists count: the kettle is h1's, its command goes to h1."""
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "bridge-devices.json").write_bytes(
        devices_payload(device_entry("kettle", KETTLES["h1"]))
    )
    listener = Listener(broker, "homes/+/zigbee2mqtt/+/set")
    settings = make_settings(
        broker, spool, influxdb_url=recorded_influxdb.url, z2m_base_topic=PATTERN
    )
    ingest = RunningIngest(settings)
    ingest.start()
    try:
        publisher = Publisher(broker)
        publisher.publish(
            "homes/h1/zigbee2mqtt/bridge/devices",
            devices_payload(device_entry("kettle", KETTLES["h1"])),
        )
        publisher.publish("homes/h1/zigbee2mqtt/kettle", plug_state(100.0, 1.0))
        publisher.close()
        ingest.wait_for_messages(2)
        api = Api(settings, ingest.state, ingest.spool)
        assert [(d["site"], d["name"]) for d in api.get("/api/devices").json()] == [
            ("h1", "kettle")
        ]
        ingest.state.registry.record_state("kettle", {"power": 100.0}, NOW_NS, "h1")
        assert api.get("/api/power").json()["power"] == 100.0
        response = api.client.post(
            "/api/devices/kettle/set", headers=api.auth, json={"state": "ON"}
        )
        assert response.status_code == 202, response.text
        wait_until(lambda: listener.received, 10, "the command did not reach the broker")
    finally:
        ingest.stop()
        listener.close()
    assert listener.received == [("homes/h1/zigbee2mqtt/kettle/set", b'{"state":"ON"}')]


def test_a_single_home_leaves_the_homes_lists_aside(broker: Broker, tmp_path: Path) -> None:
    """Back from the pattern to one home: the homes' kept lists are not one home's devices."""
    settings = make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN)
    first = RunningIngest(settings)
    first.start()
    publisher = Publisher(broker)
    publisher.publish(
        "homes/h1/zigbee2mqtt/bridge/devices", devices_payload(device_entry("kettle", "0x1"))
    )
    publisher.close()
    wait_until(lambda: first.state.registry.sites() == ["h1"], 10, "no device list")
    first.stop()
    second = RunningIngest(make_settings(broker, tmp_path / "spool"))
    second.start()
    second.stop()
    assert second.state.registry.views() == []


def test_a_device_of_no_home_is_never_a_server_error(build_api: Callable[..., Api]) -> None:
    """Under a pattern, a device known without a home has no command topic: 422 saying so,
    not a 500."""
    state = BridgeState()
    state.registry.replace_devices(listed(device_entry("kettle", "0x1")))
    state.links.mqtt_connected = True
    api = build_api(state, z2m_base_topic=PATTERN)
    response = api.client.post("/api/devices/kettle/set", headers=api.auth, json={"state": "ON"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "'kettle' cannot be commanded: '' is not a site: one topic level without wildcards"
    )


def test_history_of_a_name_no_home_has_needs_its_home(
    homes_api: Api, recorded_influxdb: RecordedInfluxDB
) -> None:
    """A device no home has now (gone, or never seen by this instance): without `?site=`,
    a query by name alone would mix every home's series of that name. 404, no query sent."""
    response = homes_api.get("/api/history", device="oven", field="power")
    assert (response.status_code, response.json()) == (
        404,
        {"detail": "no home has a device named 'oven' now: name its home with ?site="},
    )
    assert recorded_influxdb.requests == []
    recorded_influxdb.answer(csv("empty.csv"))
    assert homes_api.get("/api/history", device="oven", field="power", site="h1").status_code == 200
    query = json.loads(recorded_influxdb.requests[0].body)["query"]
    assert 'r.device == "oven" and r.site == "h1"' in query


def test_homes_beyond_the_bound_are_not_remembered() -> None:
    """BRIDGE_MAX_SITES homes are remembered; a new home beyond is refused, by its list or
    its messages (tagged, not remembered), until a home's empty list frees its place."""
    registry = DeviceRegistry(max_sites=2)
    kettle = listed(device_entry("kettle", "0x1"))
    for site in ("h1", "h2"):
        assert registry.replace_devices(kettle, site)
    assert not registry.admits("h3")
    assert not registry.replace_devices(kettle, "h3")
    assert registry.record_state("lamp", {"power": 1}, 1, "h3") == ",device=lamp,site=h3"
    assert registry.sites() == ["h1", "h2"]
    assert registry.replace_devices([], "h1")
    assert registry.replace_devices(kettle, "h3")
    assert registry.sites() == ["h2", "h3"]


def test_max_devices_holds_across_homes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists of many homes never hold more than BRIDGE_MAX_SITES x MAX_DEVICES_PER_SITE
    devices together (one home may have more than its share); a home with no room for any
    is not remembered."""
    monkeypatch.setattr("energy_edge_bridge.devices.MAX_DEVICES_PER_SITE", 1)
    registry = DeviceRegistry(max_sites=3)
    two = [device_entry("a", "0x1"), device_entry("b", "0x2")]
    assert registry.replace_devices(listed(*two), "h1")
    assert registry.replace_devices(listed(*two), "h2")
    assert not registry.replace_devices(listed(*two), "h3")
    assert [(v.site, v.name) for v in registry.views()] == [("h1", "a"), ("h1", "b"), ("h2", "a")]
    assert registry.replace_devices(listed(*two), "h1")  # same size


def test_a_flood_of_homes_is_bounded_in_memory_and_on_disk(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A publisher cycling `homes/<random>/zigbee2mqtt/bridge/devices`: beyond
    BRIDGE_MAX_SITES, homes are refused, counted and logged; kept lists never outnumber the
    bound, and a home's empty list removes its file."""
    settings = make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN, bridge_max_sites=3)
    running = RunningIngest(settings)
    running.start()
    publisher = Publisher(broker)
    try:
        for n in range(10):
            publisher.publish(
                f"homes/r{n}/zigbee2mqtt/bridge/devices",
                devices_payload(device_entry("kettle", f"0x{n}")),
            )
        publisher.publish("homes/r9/zigbee2mqtt/kettle", plug_state(1.0, 1.0))
        publisher.flush()
        running.wait_for_messages(11)
        kept = tmp_path / "spool" / "bridge-devices"
        assert len(list(kept.glob("*.json"))) == 3
        assert running.state.registry.sites() == ["r0", "r1", "r2"]
        assert running.state.counters.refused_sites == 8
        assert caplog.text.count("BRIDGE_MAX_SITES") == 4  # refusals 1, 2, 4, 8
        publisher.publish("homes/r0/zigbee2mqtt/bridge/devices", devices_payload())
        publisher.publish(
            "homes/r5/zigbee2mqtt/bridge/devices", devices_payload(device_entry("oven", "0x5"))
        )
        publisher.flush()
        running.wait_for_messages(13)
        assert running.state.registry.sites() == ["r1", "r2", "r5"]
        assert len(list(kept.glob("*.json"))) == 3
        points = [parse_line(text) for text in running.lines()]
    finally:
        running.stop()
        publisher.close()
    assert [p.tags for p in points] == [{"device": "kettle", "site": "r9"}]


def test_kept_lists_beyond_a_lowered_bound_are_said_and_skipped(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Three homes kept, BRIDGE_MAX_SITES lowered to 2 before the next start: two homes are
    remembered, the third list is logged and left aside."""
    first = RunningIngest(make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN))
    first.start()
    publisher = Publisher(broker)
    for home in ("h1", "h2", "h3"):
        publisher.publish(
            f"homes/{home}/zigbee2mqtt/bridge/devices",
            devices_payload(device_entry("kettle", "0x1")),
        )
    publisher.close()
    wait_until(lambda: len(first.state.registry.sites()) == 3, 10, "no device lists")
    first.stop()
    second = RunningIngest(
        make_settings(broker, tmp_path / "spool", z2m_base_topic=PATTERN, bridge_max_sites=2)
    )
    second.start()
    second.stop()
    assert len(second.state.registry.sites()) == 2
    assert caplog.text.count("more homes than BRIDGE_MAX_SITES=2") == 1
