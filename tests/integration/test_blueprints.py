"""The shipped blueprints pass Home Assistant's blueprint schema and do their job in a real
Home Assistant: a notification on overload and shed loads, a daily run at the cheapest time."""

from datetime import timedelta
from pathlib import Path
import shutil

from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.components.persistent_notification import (
    _async_get_or_create_notifications,
)
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from .conftest import Clock, Zigbee2MQTT, eventually
from .household import LINKY, WATER_HEATER, Household, paris, start

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "energy_edge"
NAMES = ["notify_on_overload.yaml", "run_load_daily_at_cheapest_time.yaml"]


@pytest.mark.parametrize("name", NAMES)
def test_a_blueprint_passes_home_assistant_s_schema(name: str) -> None:
    path = BLUEPRINTS / name
    blueprint = Blueprint(
        yaml_util.load_yaml_dict(path),
        path=str(path),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    assert blueprint.name.startswith("Energy Edge - ")
    assert blueprint.metadata["source_url"].endswith(f"blueprints/automation/energy_edge/{name}")


def test_every_blueprint_is_tested() -> None:
    assert sorted(path.name for path in BLUEPRINTS.glob("*.yaml")) == NAMES


async def use_blueprint(
    hass: HomeAssistant, tmp_path: Path, name: str, inputs: dict[str, object]
) -> str:
    """An automation made from the blueprint, as the UI makes one; its entity id."""
    hass.config.config_dir = str(tmp_path)
    folder = tmp_path / "blueprints" / "automation" / "energy_edge"
    folder.mkdir(parents=True)
    shutil.copy(BLUEPRINTS / name, folder / name)
    config = {
        "automation": {
            "alias": name.removesuffix(".yaml"),
            "use_blueprint": {"path": f"energy_edge/{name}", "input": inputs},
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    entity_id = f"automation.{name.removesuffix('.yaml')}"
    automation = hass.states.get(entity_id)
    assert automation is not None
    assert automation.state == "on"
    return entity_id


async def overload_and_shed(household: Household) -> None:
    """The home goes 1000 VA over its 6000 VA and the managed water heater is shed."""
    hass = household.hass
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": household.entity_id(WATER_HEATER, "managed", "switch")},
        blocking=True,
    )
    await household.send(WATER_HEATER, state="ON", power=2400)
    await household.send(LINKY, apparent_power=7000)
    await household.travel(timedelta(seconds=2))
    await household.commands_for(WATER_HEATER, 1)
    await household.send(WATER_HEATER, state="OFF", power=0)


@pytest.mark.parametrize(("include_shed", "count"), [(True, 2), (False, 1)])
async def test_the_overload_blueprint_notifies_with_the_figures(  # noqa: PLR0917
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    tmp_path: Path,
    include_shed: bool,
    count: int,
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=paris(2026, 1, 15, 19)
    )
    notified = async_capture_events(hass, "test_notified")
    await use_blueprint(
        hass,
        tmp_path,
        "notify_on_overload.yaml",
        {
            "notify": [
                {
                    "event": "test_notified",
                    "event_data": {"title": "{{ title }}", "message": "{{ message }}"},
                }
            ],
            "include_shed_loads": include_shed,
        },
    )
    await overload_and_shed(household)
    await eventually(hass, lambda: len(notified) == count)
    assert notified[0].data["title"] == "Contract power exceeded"
    assert " ".join(notified[0].data["message"].split()) == (
        "The home draws 7000 VA for a contract of 6000 VA."
    )
    if include_shed:
        assert notified[1].data["title"] == "Load shed"
        assert " ".join(notified[1].data["message"].split()) == (
            "water_heater (2400 W) was turned off (overload)."
        )


async def test_the_overload_blueprint_s_default_is_a_persistent_notification(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    tmp_path: Path,
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=paris(2026, 1, 15, 19)
    )
    assert await async_setup_component(hass, "persistent_notification", {})
    notifications = _async_get_or_create_notifications(hass)
    await use_blueprint(hass, tmp_path, "notify_on_overload.yaml", {})
    await overload_and_shed(household)
    await eventually(hass, lambda: "energy_edge_overload" in notifications)
    await eventually(hass, lambda: notifications["energy_edge_overload"]["title"] == "Load shed")
    assert "water_heater" in notifications["energy_edge_overload"]["message"]


@pytest.mark.parametrize(("power", "expected_w"), [(0, 2400.0), (3000, 3000.0)])
async def test_the_daily_blueprint_plans_the_load_before_the_next_ready_time(  # noqa: PLR0917
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    zigbee2mqtt: Zigbee2MQTT,
    clock: Clock,
    tmp_path: Path,
    power: int,
    expected_w: float,
) -> None:
    """Its time trigger fires in Home Assistant's time: Energy Edge's clock starts there too."""
    household = await start(
        hass, zigbee2mqtt, clock, [LINKY, WATER_HEATER], at=dt_util.now(), tariff="hphc"
    )
    await household.send(WATER_HEATER, state="ON", power=2400)
    await household.send(WATER_HEATER, state="OFF", power=0)
    plan_at = dt_util.now() + timedelta(minutes=5)
    # Ready a day after planning (less an hour): the window always holds a night's off-peak
    # hours, whatever the real time the test runs at.
    ready_by = (plan_at + timedelta(hours=23)).replace(second=0, microsecond=0)
    automation = await use_blueprint(
        hass,
        tmp_path,
        "run_load_daily_at_cheapest_time.yaml",
        {
            "load": household.device_id(WATER_HEATER),
            "duration": {"hours": 1, "minutes": 30, "seconds": 0},
            "ready_by": ready_by.strftime("%H:%M:%S"),
            "plan_at": plan_at.strftime("%H:%M:%S"),
            "power_w": power,
        },
    )
    next_run = household.entity_id(WATER_HEATER, "next_run")
    assert household.state(next_run).state == "unknown"
    async_fire_time_changed(hass, plan_at + timedelta(seconds=1))
    await eventually(hass, lambda: household.state(next_run).state != "unknown")
    state = household.state(next_run)
    deadline = dt_util.parse_datetime(state.attributes["deadline"])
    assert deadline is not None
    assert deadline == ready_by
    assert state.attributes["power_w"] == expected_w
    start_at = dt_util.parse_datetime(state.state)
    assert start_at is not None
    assert dt_util.as_local(start_at).hour in (22, 23, 0, 1, 2, 3, 4, 5)  # off-peak hours
    await hass.services.async_call(  # its daily trigger stops with the test
        "automation", "turn_off", {"entity_id": automation}, blocking=True
    )
