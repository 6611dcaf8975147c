"""The Grafana home dashboard shows Energy Edge's entities in the units Home Assistant gives them
(the headroom is apparent power, in VA, as the Linky measures it)."""

import json
from pathlib import Path
import re

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import Clock, Zigbee2MQTT
from .household import LINKY, WATER_HEATER, paris, start

DASHBOARD = Path(__file__).parents[2] / "compose" / "grafana" / "dashboards" / "home.json"
MEASUREMENT = re.compile(r'_measurement == "(sensor\.energy_edge_\w+)"')
# Home Assistant's unit -> Grafana's unit id (Grafana has no price per kWh: the currency).
GRAFANA_UNIT = {
    "W": "watt",
    "VA": "voltamp",
    "kWh": "kwatth",
    "EUR": "currencyEUR",
    "EUR/kWh": "currencyEUR",
    None: "none",
}


async def test_each_panel_s_unit_is_its_entities_unit(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    await start(hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=paris(2026, 1, 15, 12))
    checked = set()
    for panel in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]:
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if unit is None:
            continue
        for target in panel["targets"]:
            for entity_id in MEASUREMENT.findall(target["query"]):
                state = hass.states.get(entity_id)
                assert state is not None, entity_id
                ha_unit = state.attributes.get("unit_of_measurement")
                assert GRAFANA_UNIT[ha_unit] == unit, (panel["title"], entity_id, ha_unit)
                checked.add(entity_id)
    assert {"sensor.energy_edge_power_headroom", "sensor.energy_edge_home_cost"} <= checked
