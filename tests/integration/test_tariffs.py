"""The price and period in force, in Home Assistant, for each tariff: period boundaries,
midnight, both DST changes, and Tempo colours from the action or from another integration."""

from datetime import UTC, timedelta

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import Clock, Zigbee2MQTT
from .household import WATER_HEATER, Household, paris, start

PRICE = "sensor.energy_edge_current_price"
PERIOD = "sensor.energy_edge_current_period"
MINUTE = timedelta(minutes=1)
TEMPO = {
    "tariff": "tempo",
    "hp_blue_price": 0.1552,
    "hc_blue_price": 0.1288,
    "hp_white_price": 0.1792,
    "hc_white_price": 0.1447,
    "hp_red_price": 0.6586,
    "hc_red_price": 0.1518,
}


def shown(household: Household) -> tuple[str, float | None]:
    """The period and the price the sensors show."""
    return household.state(PERIOD).state, household.number(PRICE)


async def test_base_costs_the_same_at_every_hour_and_across_midnight(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 23, 59), base_price=0.2
    )
    assert shown(household) == ("base", 0.2)
    price = household.state(PRICE)
    assert price.attributes["unit_of_measurement"] == "EUR/kWh"
    assert household.state(PERIOD).attributes["options"][:3] == ["base", "hp", "hc"]
    await household.travel(2 * MINUTE)
    assert shown(household) == ("base", 0.2)


async def test_off_peak_hours_start_and_end_on_the_wall_clock(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Default off-peak 22:00-06:00, running past midnight."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 1, 15, 21, 59),
        tariff="hphc",
        hp_price=0.2081,
        hc_price=0.1635,
    )
    assert shown(household) == ("hp", 0.2081)
    await household.travel(MINUTE)
    assert shown(household) == ("hc", 0.1635)
    await household.travel_to(paris(2026, 1, 16, 0, 1))  # midnight changes nothing
    assert shown(household) == ("hc", 0.1635)
    await household.travel_to(paris(2026, 1, 16, 5, 59))
    assert shown(household) == ("hc", 0.1635)
    await household.travel(MINUTE)
    assert shown(household) == ("hp", 0.2081)


async def test_several_off_peak_ranges(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 1, 15, 12, 59),
        tariff="hphc",
        off_peak_ranges="02:00-07:00, 13:00-16:00",
    )
    assert household.state(PERIOD).state == "hp"
    for instant, period in [
        (paris(2026, 1, 15, 13), "hc"),
        (paris(2026, 1, 15, 16), "hp"),
        (paris(2026, 1, 15, 22), "hp"),
        (paris(2026, 1, 16, 2), "hc"),
        (paris(2026, 1, 16, 7), "hp"),
    ]:
        await household.travel_to(instant)
        assert household.state(PERIOD).state == period, instant


async def test_a_boundary_skipped_by_the_spring_change_takes_effect_when_the_clock_jumps(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """29 March 2026: 02:00 CET becomes 03:00 CEST; off-peak from 02:30 starts at the jump."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 3, 29, 1, 59),
        tariff="hphc",
        off_peak_ranges="02:30-05:00",
    )
    assert household.state(PERIOD).state == "hp"
    await household.travel(MINUTE)  # one real minute later it is 03:00
    assert household.clock.utc == paris(2026, 3, 29, 3).astimezone(UTC)
    assert household.state(PERIOD).state == "hc"
    await household.travel(2 * timedelta(hours=1))  # 05:00 CEST
    assert household.state(PERIOD).state == "hp"


async def test_a_boundary_repeated_by_the_autumn_change_is_crossed_twice(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """25 October 2026: 03:00 CEST becomes 02:00 CET; off-peak 01:00-02:30 happens twice."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 10, 25, 2, 29),
        tariff="hphc",
        off_peak_ranges="01:00-02:30",
    )
    assert household.state(PERIOD).state == "hc"
    await household.travel(MINUTE)  # 02:30 CEST
    assert household.state(PERIOD).state == "hp"
    await household.travel(30 * MINUTE)  # 03:00 CEST is 02:00 CET: off-peak again
    assert household.clock.utc == paris(2026, 10, 25, 2, fold=1).astimezone(UTC)
    assert household.state(PERIOD).state == "hc"
    await household.travel(30 * MINUTE)  # 02:30 CET
    assert household.state(PERIOD).state == "hp"


async def test_tempo_without_a_colour_has_no_price_until_the_action_gives_it(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 21, 59), **TEMPO
    )
    assert shown(household) == ("hp", None)
    await hass.services.async_call(
        "energy_edge", "set_tempo_color", {"today": "white", "tomorrow": "red"}, blocking=True
    )
    assert shown(household) == ("hp_white", 0.1792)
    await household.travel(MINUTE)
    assert shown(household) == ("hc_white", 0.1447)
    await household.travel_to(paris(2026, 1, 16, 1))  # after midnight: still 15 January's night
    assert shown(household) == ("hc_white", 0.1447)
    await household.travel_to(paris(2026, 1, 16, 6))  # the red day starts at 06:00
    assert shown(household) == ("hp_red", 0.6586)
    await household.travel_to(paris(2026, 1, 17, 6))  # the day after: not known yet
    assert shown(household) == ("hp", None)


async def test_tempo_colours_follow_another_integration_s_entities(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """French or English states, read at start and on every change; unknown states are
    ignored."""
    hass.states.async_set("sensor.rte_tempo_today", "Bleu")
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [WATER_HEATER],
        at=paris(2026, 1, 15, 12),
        tempo_today_entity="sensor.rte_tempo_today",
        tempo_tomorrow_entity="sensor.rte_tempo_tomorrow",
        **TEMPO,
    )
    assert shown(household) == ("hp_blue", 0.1552)
    hass.states.async_set("sensor.rte_tempo_tomorrow", "Indéterminé")
    hass.states.async_set("sensor.rte_tempo_tomorrow", "TEMPO_ROUGE")
    await hass.async_block_till_done()
    await household.travel_to(paris(2026, 1, 16, 6))
    assert shown(household) == ("hp_red", 0.6586)
    hass.states.async_set("sensor.rte_tempo_today", "white")  # the source corrects itself
    await hass.async_block_till_done()
    assert shown(household) == ("hp_white", 0.1792)


async def test_tempo_colours_survive_a_restart(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 1, 15, 12), **TEMPO
    )
    await hass.services.async_call(
        "energy_edge", "set_tempo_color", {"tomorrow": "blue"}, blocking=True
    )
    await household.reload()
    await household.travel_to(paris(2026, 1, 16, 7))
    assert shown(household) == ("hp_blue", 0.1552)
