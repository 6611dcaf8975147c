"""Home Assistant discovery configs follow Zigbee2MQTT 2.12's rules (fixtures by those rules)."""

import json

import pytest

from energy_edge_sim import z2mjson
from energy_edge_sim.devices import (
    AQARA_SP_EUC01,
    HEIMAN_HS2SK,
    IKEA_INSPELNING,
    TUYA_TS011F,
    LinkyMode,
    zlinky,
)
from energy_edge_sim.discovery import (
    BridgeIdentity,
    DiscoverableDevice,
    DiscoveryMessage,
    DiscoverySettings,
    bridge_discovery,
    device_discovery,
    encoded_base_topic,
)
from energy_edge_sim.exposes import (
    ACCESS_ALL,
    ACCESS_SET,
    ACCESS_STATE,
    Expose,
    binary,
    enum,
    numeric,
    switch,
    text,
)
from energy_edge_sim.z2mjson import JsonObject
from tests.helpers.reference import ZIGBEE2MQTT_REFERENCE

BRIDGE = BridgeIdentity("0x00124b0011223344", "zStack3x0", 20240710)
PLUG_IEEE = "0xa4c1380123456789"
REFERENCE = ZIGBEE2MQTT_REFERENCE


def discover(
    *exposes: Expose,
    name: str = "heat_pump",
    settings: DiscoverySettings | None = None,
    ota: bool = False,
) -> dict[str, DiscoveryMessage]:
    """Configs of a made-up device, keyed by the config's object id."""
    device = DiscoverableDevice(
        ieee_address=PLUG_IEEE,
        friendly_name=name,
        model="X1",
        vendor="Acme",
        description="Metering plug",
        exposes=exposes,
        supports_ota=ota,
    )
    messages = device_discovery(device, BRIDGE, settings or DiscoverySettings())
    return {message.topic.split("/")[3]: message for message in messages}


@pytest.mark.parametrize(
    ("unit", "device_class", "state_class"),
    [
        ("W", "power", "measurement"),
        ("kW", "power", "measurement"),
        ("mW", "power", "measurement"),
        ("Wh", "energy", "total_increasing"),
        ("kWh", "energy", "total_increasing"),
        ("A", "current", "measurement"),
        ("mA", "current", "measurement"),
    ],
)
def test_units_give_the_class_whatever_the_name(
    unit: str, device_class: str, state_class: str
) -> None:
    """A TIC-style name (no lookup entry) still gets its class from its unit, and loses its name."""
    payload = discover(numeric("XYZ1", ACCESS_STATE, unit=unit, prop="xyz_one", label="XYZ1"))[
        "XYZ1"
    ].payload
    assert (payload["device_class"], payload["state_class"]) == (device_class, state_class)
    assert payload["unit_of_measurement"] == unit
    assert "name" not in payload, "Home Assistant names entities that have a device class"
    assert payload["value_template"] == '{{ value_json["xyz_one"] }}'
    assert payload["enabled_by_default"] is True


@pytest.mark.parametrize("unit", ["V", "VA", "VAR", "kVA", "lqi", None])
def test_other_units_give_no_class_and_keep_the_name(unit: str | None) -> None:
    """V (except for known names), VA, VAR and kVA get no class: the entity keeps its label."""
    payload = discover(
        numeric("SINSTS", ACCESS_STATE, unit=unit, prop="apparent_power", label="SINSTS")
    )["SINSTS"].payload
    assert "device_class" not in payload
    assert "state_class" not in payload
    assert payload["name"] == "SINSTS"
    assert payload.get("unit_of_measurement") == unit


def test_known_names_bring_their_lookup_entries() -> None:
    """`voltage` is a voltage sensor, `linkquality` a hidden diagnostic, and so on."""
    configs = discover(
        numeric("voltage", ACCESS_STATE, unit="V"),
        numeric("linkquality", ACCESS_STATE, unit="lqi", category="diagnostic"),
        numeric("device_temperature", ACCESS_STATE, unit="°C"),
        numeric("power_factor", ACCESS_STATE),
    )
    assert configs["voltage"].payload["device_class"] == "voltage"
    quality = configs["linkquality"].payload
    assert (quality["enabled_by_default"], quality["entity_category"], quality["icon"]) == (
        False,
        "diagnostic",
        "mdi:signal",
    )
    assert quality["name"] == "Linkquality"
    assert configs["device_temperature"].payload["device_class"] == "temperature"
    factor = configs["power_factor"].payload
    assert "device_class" not in factor, "a class without a unit is dropped"
    assert factor["name"] == "Power factor"


def test_the_main_switch_is_named_after_the_device() -> None:
    """`e.switch()` becomes `switch/<ieee>/switch` with payload ON/OFF on `<name>/set`."""
    message = discover(switch())["switch"]
    assert message.topic == f"homeassistant/switch/{PLUG_IEEE}/switch/config"
    payload = message.payload
    assert payload["name"] is None
    assert payload["command_topic"] == "zigbee2mqtt/heat_pump/set"
    assert payload["state_topic"] == "zigbee2mqtt/heat_pump"
    assert (payload["payload_on"], payload["payload_off"]) == ("ON", "OFF")
    assert payload["value_template"] == '{{ value_json["state"] }}'
    assert payload["object_id"] == "heat_pump"
    assert payload["default_entity_id"] == "switch.heat_pump"
    assert payload["unique_id"] == f"{PLUG_IEEE}_switch_zigbee2mqtt"


def test_settable_binaries_become_switches_and_read_only_ones_binary_sensors() -> None:
    """A boolean-valued switch reads with an if-template; a read-only binary is a binary_sensor."""
    configs = discover(
        binary("eco_mode", ACCESS_ALL, value_on=True, value_off=False, category="config"),
        binary("window", ACCESS_STATE, value_on="OPEN", value_off="CLOSED"),
    )
    eco = configs["switch_eco_mode"].payload
    assert eco["value_template"] == '{% if value_json["eco_mode"] %}true{% else %}false{% endif %}'
    assert (eco["payload_on"], eco["payload_off"]) == ("true", "false")
    assert eco["command_topic"] == "zigbee2mqtt/heat_pump/set/eco_mode"
    assert eco["entity_category"] == "config"
    assert eco["object_id"] == "heat_pump_eco_mode"
    window = configs["window"]
    assert window.topic.startswith("homeassistant/binary_sensor/")
    assert (window.payload["payload_on"], window.payload["payload_off"]) == ("OPEN", "CLOSED")


def test_enums_become_selects_buttons_or_sensors() -> None:
    """Settable enums are selects; a single settable value is a button; read-only ones sensors."""
    configs = discover(
        enum("mode", ACCESS_ALL, ["eco", "comfort"]),
        enum("identify", ACCESS_SET, ["identify"], category="config"),
        enum("status", ACCESS_STATE, ["idle", "heating"]),
    )
    select = configs["mode"]
    assert select.topic.startswith("homeassistant/select/")
    assert select.payload["options"] == ["eco", "comfort"]
    assert select.payload["command_topic"] == "zigbee2mqtt/heat_pump/set/mode"
    button = configs["identify"].payload
    assert configs["identify"].topic.startswith("homeassistant/button/")
    assert button["payload_press"] == "identify"
    assert button["device_class"] == "identify"
    assert "name" not in button
    assert "state_topic" not in button
    assert configs["status"].topic.startswith("homeassistant/sensor/")


def test_settable_numbers_are_number_entities_only() -> None:
    """A settable numeric is a `number` with min, max and step; no sensor is made for it."""
    configs = discover(
        numeric(
            "max_power",
            ACCESS_STATE | ACCESS_SET,
            unit="W",
            value_min=0,
            value_max=3600,
            value_step=10,
        )
    )
    message = configs["max_power"]
    assert message.topic.startswith("homeassistant/number/")
    assert (message.payload["min"], message.payload["max"], message.payload["step"]) == (
        0,
        3600,
        10,
    )
    assert "device_class" not in message.payload
    assert len(configs) == 1


def test_text_becomes_a_truncated_sensor_or_a_text_entity() -> None:
    """Read-only text is a sensor whose template truncates; settable text a `text` entity."""
    configs = discover(
        text("ADSC", ACCESS_STATE, prop="meter_serial_number"),
        text("label", ACCESS_STATE | ACCESS_SET),
    )
    template = configs["meter_serial_number"].payload["value_template"]
    assert "truncate(254" in str(template)
    assert configs["label"].topic.startswith("homeassistant/text/")


def test_config_sensors_are_shown_as_diagnostics() -> None:
    """Sensors cannot be configured: a `config` category becomes `diagnostic`."""
    payload = discover(numeric("pressure_offset", ACCESS_STATE, unit="Pa", category="config"))[
        "pressure_offset"
    ].payload
    assert payload["entity_category"] == "diagnostic"


def test_availability_adds_the_device_topic_and_mode_all() -> None:
    """With Zigbee2MQTT's availability feature, entities follow both the bridge and the device."""
    plain = discover(switch())["switch"].payload
    assert plain["availability"] == [
        {"topic": "zigbee2mqtt/bridge/state", "value_template": "{{ value_json.state }}"}
    ]
    assert "availability_mode" not in plain
    settings = DiscoverySettings(base_topic="z2m", discovery_prefix="ha", availability=True)
    message = discover(switch(), settings=settings)["switch"]
    assert message.topic.startswith("ha/switch/")
    assert message.payload["availability_mode"] == "all"
    assert message.payload["availability"] == [
        {"topic": "z2m/bridge/state", "value_template": "{{ value_json.state }}"},
        {"topic": "z2m/heat_pump/availability", "value_template": "{{ value_json.state }}"},
    ]
    assert message.payload["unique_id"] == f"{PLUG_IEEE}_switch_z2m"


def test_devices_with_firmware_updates_get_an_update_entity() -> None:
    """OTA-capable devices have `update/<ieee>/update` on the bridge's OTA request topic."""
    update = discover(switch(), ota=True)["update"].payload
    assert update["command_topic"] == "zigbee2mqtt/bridge/request/device/ota_update/update"
    assert update["payload_install"] == f'{{"id": "{PLUG_IEEE}"}}'
    assert update["default_entity_id"] == "update.heat_pump"


def test_the_device_block_links_to_the_bridge() -> None:
    """Every entity carries the same device block, with the bridge as `via_device` and `origin`."""
    payload = discover(switch())["switch"].payload
    assert payload["device"] == {
        "identifiers": [f"zigbee2mqtt_{PLUG_IEEE}"],
        "manufacturer": "Acme",
        "model": "Metering plug",
        "model_id": "X1",
        "name": "heat_pump",
        "via_device": "zigbee2mqtt_bridge_0x00124b0011223344",
    }
    assert payload["origin"] == {
        "name": "Zigbee2MQTT",
        "sw": "2.12.1",
        "url": "https://www.zigbee2mqtt.io",
    }


def test_the_bridge_has_its_own_entities() -> None:
    """The bridge's node id encodes the base topic; its connection state has no availability."""
    assert encoded_base_topic("zigbee2mqtt") == "1221051039810110150109113116116"
    configs = {m.topic.split("/")[3]: m for m in bridge_discovery(BRIDGE, DiscoverySettings())}
    assert set(configs) == {
        "connection_state",
        "restart_required",
        "restart",
        "log_level",
        "version",
        "coordinator_version",
        "network_map",
        "permit_join",
    }
    state = configs["connection_state"]
    assert state.topic == (
        "homeassistant/binary_sensor/1221051039810110150109113116116_0x00124b0011223344/"
        "connection_state/config"
    )
    assert "availability" not in state.payload
    assert state.payload["state_topic"] == "zigbee2mqtt/bridge/state"
    assert configs["version"].payload["availability_mode"] == "all"
    assert configs["version"].payload["object_id"] == "zigbee2mqtt_bridge_version"
    assert configs["restart"].payload["command_topic"] == "zigbee2mqtt/bridge/request/restart"


def test_unknown_expose_types_are_refused() -> None:
    """A light is not an energy device: the generator says so instead of guessing."""
    with pytest.raises(ValueError, match="light"):
        discover(Expose(type="light", features=()))


def test_the_linky_gets_energy_sensors_and_named_apparent_power() -> None:
    """EAST/EASF are energy (kWh), IRMS1 current, SINSTS keeps its name; in historic mode ISOUSC
    (in A) becomes a current sensor by its unit."""
    standard = {
        m.topic.split("/")[3]: m.payload for m in _catalog_configs(zlinky(LinkyMode.STANDARD))
    }
    assert standard["EAST"]["device_class"] == "energy"
    assert (
        standard["EASF02"]["value_template"] == '{{ value_json["current_tier2_summ_delivered"] }}'
    )
    assert standard["IRMS1"]["device_class"] == "current"
    assert standard["SINSTS"]["name"] == "SINSTS"
    assert "device_class" not in standard["SINSTS"]
    assert standard["URMS1"]["name"] == "URMS1"
    assert "device_class" not in standard["URMS1"]
    assert standard["PREF"]["unit_of_measurement"] == "kVA"
    historic = {
        m.topic.split("/")[3]: m.payload for m in _catalog_configs(zlinky(LinkyMode.HISTORIC))
    }
    assert historic["HCHC"]["device_class"] == "energy"
    assert historic["PAPP"]["name"] == "PAPP"
    assert historic["ISOUSC"]["device_class"] == "current"
    assert historic["active_register_tier_delivered"]["name"] == "PTEC"
    producer = {
        m.topic.split("/")[3] for m in _catalog_configs(zlinky(LinkyMode.STANDARD, producer=True))
    }
    assert {"EAIT", "SINSTI", "CCAIN"} <= producer
    with pytest.raises(ValueError, match="historic"):
        zlinky(LinkyMode.HISTORIC, producer=True)


def _catalog_configs(model: object) -> list[DiscoveryMessage]:
    from energy_edge_sim.devices import DeviceModel

    assert isinstance(model, DeviceModel)
    device = DiscoverableDevice(
        "0x00158d0000aabbcc",
        "linky",
        model.model,
        model.vendor,
        model.description,
        model.exposes,
        True,
    )
    return device_discovery(device, BRIDGE, DiscoverySettings())


@pytest.mark.parametrize("model", [TUYA_TS011F, IKEA_INSPELNING, AQARA_SP_EUC01, HEIMAN_HS2SK])
def test_every_plug_has_a_switch_and_a_power_sensor(model: object) -> None:
    """The integration finds a switch, a power sensor (W) and, but on the Heiman, an energy one."""
    payloads = {m.topic.split("/")[3]: m.payload for m in _catalog_configs(model)}
    assert payloads["switch"]["command_topic"] == "zigbee2mqtt/linky/set"
    assert payloads["power"]["device_class"] == "power"
    assert ("energy" in payloads) is (model is not HEIMAN_HS2SK)


def _reference_messages(name: str) -> tuple[list[DiscoveryMessage], list[dict[str, object]]]:
    data = json.loads((REFERENCE / name).read_text())
    captured = json.loads((REFERENCE / "exposes_and_state.json").read_text())
    exposes = {
        "plug_tuya": captured["definition"]["exposes"],
        "plug_ikea": captured["ikea_exposes"],
        "plug_aqara": captured["aqara_exposes"],
        "linky": captured["linky_exposes"],
        "meter_3p": captured["meter3p_exposes"],
    }
    blocks: dict[str, JsonObject] = {}
    for message in data["published"]:
        block = json.loads(message["payload"])["device"]
        blocks[block["name"]] = block
    bridge_id = blocks["Zigbee2MQTT Bridge"]["identifiers"][0].removeprefix("zigbee2mqtt_bridge_")
    bridge = BridgeIdentity(
        str(bridge_id), *str(blocks["Zigbee2MQTT Bridge"]["hw_version"]).split(" ")
    )
    settings = DiscoverySettings(availability="availability" in name)
    generated = bridge_discovery(bridge, settings)
    for definition in data["definitions"]:
        block = blocks[definition["name"]]
        ieee = str(block["identifiers"][0]).removeprefix("zigbee2mqtt_")  # type: ignore[index]
        device = DiscoverableDevice(
            ieee_address=ieee,
            friendly_name=definition["name"],
            model=definition["model"],
            vendor=definition["vendor"],
            description=definition["description"],
            exposes=[Expose.from_json(expose) for expose in exposes[definition["name"]]],
            supports_ota=any(
                m["topic"] == f"homeassistant/update/{ieee}/update/config"
                for m in data["published"]
            ),
            software_build_id=block.get("sw_version"),  # type: ignore[arg-type]
            hardware_version=block.get("hw_version"),  # type: ignore[arg-type]
        )
        generated += device_discovery(device, bridge, settings)
    return generated, data["published"]


@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="Zigbee2MQTT 2.12.1 captures not on this machine"
)
@pytest.mark.parametrize(
    "capture", ["ha_discovery_default.json", "ha_discovery_with_availability.json"]
)
def test_the_rules_reproduce_what_zigbee2mqtt_2_12_published(capture: str) -> None:
    """Fed the exposes of five real devices, the generator writes Zigbee2MQTT's configs to the byte:
    same topics in the same order, same payloads, retained, QoS 1."""
    generated, published = _reference_messages(capture)
    assert [m.topic for m in generated] == [m["topic"] for m in published]
    for mine, theirs in zip(generated, published, strict=True):
        assert (theirs["retain"], theirs["qos"]) == (True, 1)
        assert z2mjson.dumps(mine.payload) == theirs["payload"], mine.topic


@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="Zigbee2MQTT 2.12.1 captures not on this machine"
)
def test_the_catalog_matches_the_definitions_zigbee2mqtt_publishes() -> None:
    """The simulated TuYa, IKEA, Aqara and ZLinky expose what the real ones expose."""
    captured = json.loads((REFERENCE / "exposes_and_state.json").read_text())
    for model, exposes in [
        (TUYA_TS011F, captured["definition"]["exposes"]),
        (IKEA_INSPELNING, captured["ikea_exposes"]),
        (AQARA_SP_EUC01, captured["aqara_exposes"]),
        (zlinky(LinkyMode.STANDARD), captured["linky_exposes"]),
    ]:
        assert [expose.to_json() for expose in model.exposes] == exposes, model.model
        assert [Expose.from_json(expose) for expose in exposes] == list(model.exposes)
