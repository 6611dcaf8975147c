"""The Loads form (options step and repair fix): several loads managed at once, their priorities,
in step with each load's managed switch and priority select; a repair issue until a load is
managed."""

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_edge.const import DOMAIN
from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, finish_options
from .household import HEATER, LINKY, OVEN, WATER_HEATER, Household, paris, start

DEVICES = [LINKY, WATER_HEATER, HEATER, OVEN]


def _issue(hass: HomeAssistant, household: Household) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"no_managed_load_{household.entry.entry_id}")


def _managed(household: Household, device: z2m.Device) -> str:
    return household.state(household.entity_id(device, "managed", "switch")).state


def _priority(household: Household, device: z2m.Device) -> str:
    return household.state(household.entity_id(device, "priority", "select")).state


async def _loads_step(hass: HomeAssistant, household: Household) -> ConfigFlowResult:
    """The options flow, every earlier step (meter and tariff, prices, shedding) left as is."""
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    for _ in range(5):  # a form refusing its answer again and again ends the loop too
        if result.get("step_id") == "loads":
            break
        result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    return result


async def _start(hass: HomeAssistant, zigbee2mqtt: Zigbee2MQTT, clock: Clock) -> Household:
    return await start(hass, zigbee2mqtt, clock, DEVICES, at=paris(2026, 1, 15, 12))


async def test_a_fresh_install_asks_to_manage_a_load_until_one_is(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await _start(hass, zigbee2mqtt, clock)
    issue = _issue(hass, household)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"count": "3"}  # three plugs, the Linky is no load

    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": household.entity_id(OVEN, "managed", "switch")},
        blocking=True,
    )
    assert _issue(hass, household) is None
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": household.entity_id(OVEN, "managed", "switch")},
        blocking=True,
    )
    assert _issue(hass, household) is not None


async def test_the_loads_step_manages_several_loads_and_the_entities_follow(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await _start(hass, zigbee2mqtt, clock)
    result = await _loads_step(hass, household)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "loads"
    # The form lists the plugs by their Zigbee2MQTT names, nothing managed, every one medium.
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert defaults == {
        "managed_loads": [],
        "heater": "medium",
        "oven": "medium",
        "water_heater": "medium",
    }

    result = await finish_options(  # the upstream devices' step after it left as it is
        hass,
        result,
        {
            "managed_loads": [WATER_HEATER.ieee, HEATER.ieee],
            "water_heater": "low",
            "heater": "high",
            "oven": "critical",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await household.settle()  # the options changed: Energy Edge reloads

    assert (_managed(household, WATER_HEATER), _priority(household, WATER_HEATER)) == ("on", "low")
    assert (_managed(household, HEATER), _priority(household, HEATER)) == ("on", "high")
    assert (_managed(household, OVEN), _priority(household, OVEN)) == ("off", "critical")
    assert _issue(hass, household) is None

    # Chosen through an entity, the form shows it next time; the settings outlive a reload.
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": household.entity_id(OVEN, "priority", "select"), "option": "low"},
        blocking=True,
    )
    await household.reload()
    result = await _loads_step(hass, household)
    defaults = {
        str(key): key.default() for key in result["data_schema"].schema if callable(key.default)
    }
    assert sorted(defaults["managed_loads"]) == sorted([WATER_HEATER.ieee, HEATER.ieee])
    assert defaults["oven"] == "low"
    assert _managed(household, WATER_HEATER) == "on"


async def test_without_switchable_loads_the_options_end_after_shedding(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(hass, zigbee2mqtt, clock, [LINKY], at=paris(2026, 1, 15, 12))
    assert _issue(hass, household) is None  # nothing to manage, nothing to ask
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    result = await finish_options(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_the_repair_opens_the_loads_form_and_managing_a_load_fixes_it(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    """Through the HTTP API the frontend uses: the form must serialise, names and all."""
    assert await async_setup_component(hass, "repairs", {})
    household = await _start(hass, zigbee2mqtt, clock)
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix",
        json={"handler": DOMAIN, "issue_id": f"no_managed_load_{household.entry.entry_id}"},
    )
    assert response.status == 200
    form = await response.json()
    assert form["step_id"] == "init"
    fields = {field["name"]: field for field in form["data_schema"]}
    assert set(fields) == {"managed_loads", "heater", "oven", "water_heater"}
    labels = {o["label"] for o in fields["managed_loads"]["selector"]["select"]["options"]}
    assert labels == {"heater", "oven", "water_heater"}

    response = await client.post(
        f"/api/repairs/issues/fix/{form['flow_id']}",
        json={
            "managed_loads": [OVEN.ieee],
            "heater": "medium",
            "oven": "high",
            "water_heater": "low",
        },
    )
    assert response.status == 200
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert _issue(hass, household) is None
    assert (_managed(household, OVEN), _priority(household, OVEN)) == ("on", "high")
    assert _priority(household, WATER_HEATER) == "low"


async def test_the_repair_of_an_entry_no_longer_loaded_stops_politely(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    household = await _start(hass, zigbee2mqtt, clock)
    issue_id = f"no_managed_load_{household.entry.entry_id}"
    client = await hass_client()
    await hass.config_entries.async_unload(household.entry.entry_id)
    assert _issue(hass, household) is None  # an unloaded entry asks nothing
    ir.async_create_issue(  # as it was when the user opened it
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="no_managed_load",
        data={"entry_id": household.entry.entry_id},
    )
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert (await response.json())["reason"] == "not_loaded"
