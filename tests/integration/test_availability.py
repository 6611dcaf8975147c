"""Availability: Z2M's bridge state and each device's availability, logged once each way."""

from datetime import timedelta
import logging

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually, send_state, setup_energy_edge, value

KETTLE = z2m.plug("0x8c65a3fffe800001", "kettle", energy=False)
LAMP = z2m.plug("0x8c65a3fffe800002", "lamp", energy=False)


def _state(hass: HomeAssistant, device: z2m.Device) -> str | None:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "energy_edge", f"{device.ieee}_integrated_energy_energy_edge"
    )
    state = hass.states.get(entity_id or "")
    return state.state if state else None


async def _start(
    hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, caplog: pytest.LogCaptureFixture
) -> Clock:
    """Z2M with its availability feature on, two plugs online, Energy Edge loaded."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_edge")
    zigbee2mqtt.bridge_state()
    for device in (KETTLE, LAMP):
        zigbee2mqtt.discovery(device, with_availability=True)
        zigbee2mqtt.availability(device, online=True)
    entry = await setup_energy_edge(hass)
    clock = Clock()
    entry.runtime_data.hub.clock = clock
    await eventually(hass, lambda: _state(hass, KETTLE) not in (None, "unavailable"))
    return clock


async def test_bridge_offline_makes_everything_unavailable(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Z2M's last will turns every entity unavailable; one log line when lost, one when back."""
    await _start(hass, zigbee2mqtt, caplog)
    await send_state(hass, zigbee2mqtt, KETTLE, power=100, state="ON")

    zigbee2mqtt.bridge_state(online=False)
    await eventually(hass, lambda: _state(hass, KETTLE) == "unavailable")
    await eventually(
        hass, lambda: hass.states.get("sensor.energy_edge_home_power").state == "unavailable"
    )
    assert value(hass, "sensor.energy_edge_devices_online") == 0
    zigbee2mqtt.bridge_state(online=False)  # retained again: no second line
    zigbee2mqtt.bridge_state()
    await eventually(hass, lambda: _state(hass, KETTLE) not in (None, "unavailable"))
    assert caplog.text.count("is offline: its devices are unavailable") == 1
    assert caplog.text.count("is online again") == 1


async def test_device_availability_follows_z2m(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A plug Z2M reports offline is unavailable; its energy is not integrated over the gap."""
    clock = await _start(hass, zigbee2mqtt, caplog)
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    await send_state(hass, zigbee2mqtt, LAMP, power=50, state="ON")
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 1050.0)

    zigbee2mqtt.availability(KETTLE, online=False)
    await eventually(hass, lambda: _state(hass, KETTLE) == "unavailable")
    assert _state(hass, LAMP) != "unavailable"
    await eventually(hass, lambda: value(hass, "sensor.energy_edge_home_power") == 50.0)
    assert value(hass, "sensor.energy_edge_devices_online") == 1

    clock.advance(1800)
    zigbee2mqtt.availability(KETTLE, online=True)
    await eventually(hass, lambda: _state(hass, KETTLE) not in (None, "unavailable"))
    await send_state(hass, zigbee2mqtt, KETTLE, power=1000, state="ON")
    assert _state(hass, KETTLE) == "0.0"  # the offline half hour was not counted
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=20))
    await hass.async_block_till_done()
    silent = [key for key in ir.async_get(hass).issues if key[1].startswith("meter_silent")]
    assert not silent  # no grid meter, nothing to be silent
    assert caplog.text.count("kettle is unavailable") == 1
    assert caplog.text.count("kettle is available again") == 1
