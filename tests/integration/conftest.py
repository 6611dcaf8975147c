"""Fixtures for tests that run the integration in a real Home Assistant test instance."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

# Imported before the harness looks for custom integrations, so HA finds this one.
import custom_components.energy_edge  # noqa: F401
from tests.helpers.mosquitto import Broker


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load custom_components/energy_edge in every test."""


@pytest.fixture
def mqtt_broker(tmp_path: Path, socket_enabled: None) -> Iterator[Broker]:
    """A real Mosquitto broker on loopback (the harness blocks sockets unless asked)."""
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, mqtt_broker: Broker, mock_hass_config: None
) -> AsyncIterator[MockConfigEntry]:
    """HA's own MQTT integration, connected to the real broker."""
    entry = MockConfigEntry(
        domain="mqtt",
        data={
            "broker": "127.0.0.1",
            "port": mqtt_broker.port,
            "username": mqtt_broker.username,
            "password": mqtt_broker.password,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
