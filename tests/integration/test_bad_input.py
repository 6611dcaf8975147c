"""Bad input never escapes as an exception, never corrupts a total, and is counted."""

import json
import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.helpers import z2m

from .conftest import (
    Clock,
    Zigbee2MQTT,
    eventually,
    send_state,
    setup_energy_edge,
    subscribed,
    value,
)

KETTLE = z2m.plug("0x8c65a3fffe900001", "kettle", energy=False)
WASHER = z2m.plug("0x8c65a3fffe900002", "washer")


async def test_bad_state_messages_are_counted_and_totals_stay_right(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every kind of bad state message is refused with its reason; energy is counted once."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_edge")
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.bridge_devices([KETTLE, WASHER])
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    clock = Clock()
    hub.clock = clock
    kettle_energy = f"{KETTLE.ieee}_integrated_energy_energy_edge"
    await eventually(
        hass,
        lambda: (
            er.async_get(hass).async_get_entity_id("sensor", "energy_edge", kettle_energy)
            is not None
        ),
    )
    energy = er.async_get(hass).async_get_entity_id("sensor", "energy_edge", kettle_energy) or ""

    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    await send_state(hass, zigbee2mqtt, WASHER, power=100, energy=50.0, state="ON")
    for payload in [
        "not json at all",
        "[1, 2, 3]",
        "null",
        '{"power": NaN}',
        '{"power": Infinity}',
        json.dumps({"power": "NaN"}),
        json.dumps({"power": -40}),
        json.dumps({"power": 6553500}),
        json.dumps({"power": "high"}),
        json.dumps({"power": None, "mystery_property": 3}),
        json.dumps({"power": "1000"}),  # Z2M sends numbers as numbers: a string is refused
    ]:
        clock.advance(60)
        await send_state(hass, zigbee2mqtt, KETTLE, payload)
    clock.advance(60)
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    # 1 kW held for the 12 minutes of refused messages: 0.2 kWh
    await eventually(hass, lambda: value(hass, energy) == pytest.approx(1000 * 720 / 3.6e6))

    for counter in [50.5, 0.0, 0.2, 1e9, 0.3]:  # a reboot, then an absurd jump
        clock.advance(60)
        await send_state(hass, zigbee2mqtt, WASHER, energy=counter, power=100, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_energy") is not None)
    home = value(hass, "sensor.energy_edge_home_energy")
    assert home == pytest.approx(1000 * 720 / 3.6e6 + 0.5 + 0.2)

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["bad_input"] == {
        # NaN and Infinity are not JSON, but Python's json reads them: refused as not finite
        "not_json": 1,
        "not_an_object": 2,
        "not_finite": 2,
        "negative_value": 1,
        "absurd_value": 2,
        "not_a_number": 1,
        "unknown_property": 1,
        "number_as_string": 2,
        "counter_backwards": 2,
    }
    assert "Ignored input on zigbee2mqtt/kettle (not_json)" in caplog.text
    assert "Traceback" not in caplog.text


async def test_bad_discovery_and_bridge_messages_are_counted(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Broken configs, device lists, events and availability messages change nothing."""
    zigbee2mqtt.bridge_state()
    zigbee2mqtt.discovery(KETTLE)
    entry = await setup_energy_edge(hass)
    hub = entry.runtime_data.hub
    await eventually(hass, lambda: hub.device(KETTLE.ieee) is not None)

    config = json.loads(
        z2m.discovery_configs(KETTLE)[f"homeassistant/sensor/{KETTLE.ieee}/power/config"]
    )
    broken = {key: value for key, value in config.items() if key != "value_template"}
    zigbee2mqtt.publish(f"homeassistant/sensor/{WASHER.ieee}/power/config", "{oops", retain=True)
    zigbee2mqtt.publish(
        f"homeassistant/sensor/{WASHER.ieee}/energy/config",
        json.dumps({**broken, "device": "x"}),
        retain=True,
    )
    zigbee2mqtt.publish(
        f"homeassistant/sensor/{KETTLE.ieee}/bad/config", json.dumps(broken), retain=True
    )
    # Not retained here, so that each message is delivered exactly once.
    for topic in ("devices", "event", "state"):
        await subscribed(hass, f"zigbee2mqtt/bridge/{topic}", qos=1)
    await subscribed(hass, f"{KETTLE.state_topic}/availability")
    zigbee2mqtt.publish("zigbee2mqtt/bridge/devices", '["junk"]')
    zigbee2mqtt.publish("zigbee2mqtt/bridge/devices", '{"not": "a list"}')
    zigbee2mqtt.publish("zigbee2mqtt/bridge/event", '{"type": "device_leave"}')
    zigbee2mqtt.publish("zigbee2mqtt/bridge/state", "maybe")
    zigbee2mqtt.publish(f"{KETTLE.state_topic}/availability", '{"state": "sleepy"}')
    await eventually(hass, lambda: hub.bad_input.total() == 8)
    assert hub.bad_input == {
        "bad_bridge_device": 1,
        "bad_discovery_config": 3,
        "not_an_object": 1,
        "bad_event": 1,
        "bad_availability": 2,  # the device's, and the bridge's
    }
    assert hub.device(WASHER.ieee) is None
    assert hub.device_available(KETTLE.ieee)  # a list with unreadable entries removes nothing
    assert "Traceback" not in caplog.text
