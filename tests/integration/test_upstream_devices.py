"""Upstream devices: the user says which metered device measures another one too (plugs on a
circuit a DIN-rail meter measures); `energy_edge.configure_energy_dashboard` then nests them in
Home Assistant's Energy dashboard (`included_in_stat`), keeping what the user set there."""

from typing import Any

from homeassistant.components.energy.data import DEVICE_CONSUMPTION_SCHEMA, async_get_manager
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, eventually
from .household import DIN_METER, LINKY, WATER_HEATER, Household, paris, start

KETTLE = z2m.plug("0xa4c1380004c00009", "kettle", energy=False)  # power only, no counter
GARAGE = z2m.din_meter_3p("0x8c65a3fffe4c0010", "garage")
STEP = "upstream_devices"


def _z2m_sensor(hass: HomeAssistant, device: z2m.Device, name: str) -> str:
    """The sensor Zigbee2MQTT's discovery made for an expose (`<ieee>_<name>_<base topic>`)."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", "mqtt", f"{device.ieee}_{name}_{z2m.BASE_TOPIC}"
    )
    assert entity_id is not None, f"Zigbee2MQTT made no {name} sensor for {device.friendly_name}"
    return entity_id


async def _upstream_step(hass: HomeAssistant, household: Household) -> ConfigFlowResult:
    """The options flow, every earlier step (meter, prices, shedding, loads) left as is."""
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    for _ in range(6):  # a form refusing its answer again and again ends the loop too
        if result.get("step_id") == STEP:
            break
        result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result.get("step_id") == STEP
    return result


def _defaults(result: ConfigFlowResult) -> dict[str, Any]:
    return {str(key): key.default() for key in result["data_schema"].schema}


def _choices(result: ConfigFlowResult, name: str) -> set[str]:
    (selector,) = (v for k, v in result["data_schema"].schema.items() if str(k) == name)
    return {option["value"] for option in selector.config["options"]}


async def _configure(hass: HomeAssistant) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "configure_energy_dashboard", {}, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def test_plugs_behind_a_din_meter_are_nested_in_it_on_the_dashboard(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER, KETTLE, DIN_METER], at=paris(2026, 1, 15)
    )
    result = await _upstream_step(hass, household)
    # Every metered device but the Linky, by its Zigbee2MQTT name, none nested yet; any other
    # device can be upstream, never the device itself.
    assert _defaults(result) == {"kettle": "none", "water_heater": "none", "workshop": "none"}
    assert _choices(result, "water_heater") == {"none", KETTLE.ieee, DIN_METER.ieee}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"kettle": DIN_METER.ieee, "water_heater": DIN_METER.ieee, "workshop": "none"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await household.settle()  # the options changed: Energy Edge reloads
    # Kept across the reload, shown again the next time.
    assert _defaults(await _upstream_step(hass, household)) == {
        "kettle": DIN_METER.ieee,
        "water_heater": DIN_METER.ieee,
        "workshop": "none",
    }

    # The user had listed the water heater already, named, without an upstream device.
    water_heater = _z2m_sensor(hass, WATER_HEATER, "energy")
    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [],
            "device_consumption": [{"stat_consumption": water_heater, "name": "Ballon"}],
        }
    )

    response = await _configure(hass)

    assert manager.data is not None
    consumers = {d["stat_consumption"]: d for d in manager.data["device_consumption"]}
    for device in consumers.values():
        DEVICE_CONSUMPTION_SCHEMA(device)  # Home Assistant's own schema accepts them
    workshop = _z2m_sensor(hass, DIN_METER, "energy")
    kettle = household.entity_id(KETTLE, "integrated_energy")
    # Both plugs sit inside the workshop's meter, which is wired to the main panel.
    assert consumers[water_heater] == {
        "stat_consumption": water_heater,
        "name": "Ballon",
        "included_in_stat": workshop,
    }
    assert consumers[kettle]["included_in_stat"] == workshop
    assert "included_in_stat" not in consumers[workshop]
    assert sorted(response["upstreams_added"]) == sorted([water_heater, kettle])

    # A second call changes nothing.
    before = {key: [dict(item) for item in value] for key, value in manager.data.items()}
    assert await _configure(hass) == {
        "grid_added": None,
        "devices_added": [],
        "upstreams_added": [],
        "upstreams_changed": [],
        "upstreams_removed": [],
    }
    assert manager.data == before


async def _choose(hass: HomeAssistant, household: Household, **upstreams: str) -> None:
    """Save the options with these upstream devices (by name), the rest left as it is."""
    result = await _upstream_step(hass, household)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**_defaults(result), **upstreams}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await household.settle()  # the options changed: Energy Edge reloads


async def test_a_choice_changed_later_moves_what_energy_edge_set_never_the_users(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER, KETTLE, DIN_METER, GARAGE], at=paris(2026, 1, 15)
    )
    await _choose(hass, household, water_heater=DIN_METER.ieee, kettle=DIN_METER.ieee)
    await _configure(hass)
    water_heater = _z2m_sensor(hass, WATER_HEATER, "energy")
    kettle = household.entity_id(KETTLE, "integrated_energy")
    workshop = _z2m_sensor(hass, DIN_METER, "energy")
    garage = _z2m_sensor(hass, GARAGE, "energy")
    manager = await async_get_manager(hass)
    assert manager.data is not None
    consumers = {d["stat_consumption"]: d for d in manager.data["device_consumption"]}
    assert consumers[water_heater]["included_in_stat"] == workshop
    # The user then moves the kettle to the garage in Home Assistant's own settings.
    consumers[kettle]["included_in_stat"] = garage
    await manager.async_update(
        {"energy_sources": [], "device_consumption": list(consumers.values())}
    )

    # The water heater moved to the garage's circuit; in Energy Edge the kettle is back to none.
    await _choose(hass, household, water_heater=GARAGE.ieee, kettle="none")
    response = await _configure(hass)

    assert manager.data is not None
    consumers = {d["stat_consumption"]: d for d in manager.data["device_consumption"]}
    assert consumers[water_heater]["included_in_stat"] == garage
    assert consumers[kettle]["included_in_stat"] == garage  # the user's, kept
    assert response["upstreams_changed"] == [water_heater]

    # In Energy Edge the water heater is wired to the main panel now: its upstream goes.
    await _choose(hass, household, water_heater="none")
    response = await _configure(hass)
    assert manager.data is not None
    consumers = {d["stat_consumption"]: d for d in manager.data["device_consumption"]}
    assert "included_in_stat" not in consumers[water_heater]
    assert consumers[kettle]["included_in_stat"] == garage
    assert response["upstreams_removed"] == [water_heater]

    # Nothing changed since: a further call changes nothing.
    before = {key: [dict(item) for item in value] for key, value in manager.data.items()}
    response = await _configure(hass)
    assert not any(response.values())
    assert manager.data == before


async def test_an_upstream_missing_for_a_while_is_kept_by_the_options_and_the_dashboard(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER, KETTLE, DIN_METER], at=paris(2026, 1, 15)
    )
    await _choose(hass, household, water_heater=DIN_METER.ieee, kettle=DIN_METER.ieee)
    await _configure(hass)
    manager = await async_get_manager(hass)
    assert manager.data is not None
    before = {key: [dict(item) for item in value] for key, value in manager.data.items()}
    # Zigbee2MQTT lists the workshop's meter no more (re-paired, or its list is being rebuilt).
    zigbee2mqtt.bridge_devices([WATER_HEATER, KETTLE])
    await eventually(
        hass,
        lambda: DIN_METER.ieee not in {d.ieee for d in household.data.hub.catalog.energy_devices()},
    )

    # The options are saved again for something else: the upstream stays, as shown.
    result = await _upstream_step(hass, household)
    assert _defaults(result) == {"kettle": DIN_METER.ieee, "water_heater": DIN_METER.ieee}
    assert DIN_METER.ieee in _choices(result, "kettle")
    result = await hass.config_entries.options.async_configure(result["flow_id"], _defaults(result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household.entry.options["upstream_devices"] == {
        KETTLE.ieee: DIN_METER.ieee,
        WATER_HEATER.ieee: DIN_METER.ieee,
    }
    await hass.async_block_till_done()

    # Nor does the dashboard lose the nesting while the meter is away.
    response = await _configure(hass)
    assert not any(response.values())
    assert manager.data == before


async def test_an_upstream_the_user_chose_in_home_assistant_stays(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER, KETTLE, DIN_METER], at=paris(2026, 1, 15)
    )
    result = await _upstream_step(hass, household)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"kettle": "none", "water_heater": DIN_METER.ieee, "workshop": "none"}
    )
    await hass.async_block_till_done()
    await household.settle()
    water_heater = _z2m_sensor(hass, WATER_HEATER, "energy")
    kettle = household.entity_id(KETTLE, "integrated_energy")
    users = {"stat_consumption": water_heater, "included_in_stat": kettle}
    manager = await async_get_manager(hass)
    await manager.async_update(
        {
            "energy_sources": [],
            "device_consumption": [{"stat_consumption": kettle}, dict(users)],
        }
    )

    response = await _configure(hass)

    assert response["upstreams_added"] == []
    assert manager.data is not None
    assert users in manager.data["device_consumption"]


async def test_a_device_behind_itself_is_refused_and_nothing_is_saved(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER, KETTLE, DIN_METER], at=paris(2026, 1, 15)
    )
    result = await _upstream_step(hass, household)
    looped = {"kettle": DIN_METER.ieee, "water_heater": "none", "workshop": KETTLE.ieee}
    result = await hass.config_entries.options.async_configure(result["flow_id"], looped)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "upstream_loop"}
    assert result["description_placeholders"] == {"device": "workshop"}
    assert "upstream_devices" not in household.entry.options
    # The form shows the answers again, to be corrected.
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }
    assert suggested == looped

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**looped, "workshop": "none"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert household.entry.options["upstream_devices"] == {KETTLE.ieee: DIN_METER.ieee}
