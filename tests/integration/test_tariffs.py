"""The price and period in force, in Home Assistant, for each tariff: period boundaries,
midnight, both DST changes, and Tempo colours from the action or from another integration."""

from datetime import UTC, date, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.helpers import z2m

from .conftest import Clock, Zigbee2MQTT, finish_options
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


# A contract under Enedis' HP/HC reform: 8 off-peak hours a day; in summer (1 April to
# 31 October) 5 at night and 3 in the afternoon.
REFORM = {
    "tariff": "hphc",
    "off_peak_ranges_winter": "22:00-06:00",
    "off_peak_ranges_summer": "01:00-06:00, 12:00-15:00",
}
HISTORIC_LINKY = z2m.zlinky_historic("0x00158d0004c000a1", "linky")
TEMPO_LINKY = z2m.zlinky_historic("0x00158d0004c000a2", "linky", option="BBR")


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


async def periods_at(household: Household, instants: list[datetime]) -> list[str]:
    """The period the sensor shows at each instant, time running forward."""
    shown_periods = []
    for instant in instants:
        await household.travel_to(instant)
        shown_periods.append(household.state(PERIOD).state)
    return shown_periods


async def test_summer_off_peak_hours_start_on_1_april_after_the_spring_change(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 3, 28, 21), **REFORM
    )
    assert await periods_at(
        household,
        [
            paris(2026, 3, 29, 1, 59),  # winter night
            paris(2026, 3, 29, 3),  # 02:00 CET became 03:00 CEST: still the night
            paris(2026, 3, 29, 6),
            paris(2026, 3, 29, 13),  # winter: no afternoon hours
            paris(2026, 3, 31, 23, 59),
            paris(2026, 4, 1, 0),  # summer from midnight: its night starts at 01:00
            paris(2026, 4, 1, 1),
            paris(2026, 4, 1, 12),
            paris(2026, 4, 1, 15),
        ],
    ) == ["hc", "hc", "hp", "hp", "hc", "hp", "hc", "hc", "hp"]


async def test_winter_off_peak_hours_return_on_1_november_after_the_autumn_change(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass, zigbee2mqtt, clock, [WATER_HEATER], at=paris(2026, 10, 24, 20), **REFORM
    )
    assert await periods_at(
        household,
        [
            paris(2026, 10, 25, 0, 59),
            paris(2026, 10, 25, 2, 30),
            paris(2026, 10, 25, 2, 30, fold=1),  # the repeated hour is off-peak twice
            paris(2026, 10, 25, 6),
            paris(2026, 10, 25, 12),
            paris(2026, 10, 31, 23),  # summer night starts only at 01:00
            paris(2026, 11, 1, 0),  # winter from midnight
            paris(2026, 11, 1, 12),  # no afternoon hours in winter
        ],
    ) == ["hp", "hc", "hc", "hp", "hc", "hp", "hc", "hp"]


def off_peak_issue(hass: HomeAssistant, household: Household) -> ir.IssueEntry | None:
    issue_id = f"off_peak_mismatch_{household.entry.entry_id}"
    return ir.async_get(hass).async_get_issue("energy_edge", issue_id)


async def linky_reports(household: Household, readings: list[tuple[datetime, str]]) -> None:
    """The Linky's tariff period (PTEC) at these instants."""
    for instant, period in readings:
        await household.travel_to(instant)
        await household.send(
            HISTORIC_LINKY, active_register_tier_delivered=period, apparent_power=800
        )


async def disagree_for_more_than_a_day(hass: HomeAssistant, household: Household) -> None:
    """The Linky follows 23:00-07:00, Energy Edge is told 22:00-06:00."""
    await linky_reports(
        household,
        [
            (paris(2026, 1, 12, 22, 30), "HP.."),  # the first disagreement
            (paris(2026, 1, 12, 23, 30), "HC.."),
            (paris(2026, 1, 13, 6, 30), "HC.."),
            (paris(2026, 1, 13, 12), "HP.."),
            (paris(2026, 1, 13, 22, 20), "HP.."),
        ],
    )
    assert off_peak_issue(hass, household) is None  # not a whole day yet
    await linky_reports(household, [(paris(2026, 1, 13, 22, 40), "HP..")])


async def test_a_linky_that_keeps_disagreeing_with_the_off_peak_hours_raises_a_repair(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [HISTORIC_LINKY, WATER_HEATER],
        at=paris(2026, 1, 12, 20),
        tariff="hphc",
        off_peak_ranges="22:00-06:00",
    )
    await disagree_for_more_than_a_day(hass, household)
    issue = off_peak_issue(hass, household)
    assert issue is not None
    assert issue.translation_key == "off_peak_mismatch"
    assert issue.translation_placeholders == {
        "meter": "linky",
        "meter_period": "HP..",
        "at": "2026-01-13 22:40",
        "winter": "22:00-06:00",
        "summer": "22:00-06:00",
    }
    await household.reload()  # a restart with the same hours keeps it
    assert off_peak_issue(hass, household) is not None
    await linky_reports(  # Enedis moved the meter back: a whole day in agreement
        household,
        [
            (paris(2026, 1, 14, 12), "HP.."),
            (paris(2026, 1, 14, 23, 30), "HC.."),
            (paris(2026, 1, 15, 11, 59), "HP.."),
        ],
    )
    assert off_peak_issue(hass, household) is not None
    await linky_reports(household, [(paris(2026, 1, 15, 12), "HP..")])
    assert off_peak_issue(hass, household) is None


async def test_the_repair_goes_when_the_user_corrects_the_hours(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [HISTORIC_LINKY, WATER_HEATER],
        at=paris(2026, 1, 12, 20),
        tariff="hphc",
        off_peak_ranges="22:00-06:00",
    )
    await disagree_for_more_than_a_day(hass, household)
    assert off_peak_issue(hass, household) is not None
    result = await hass.config_entries.options.async_init(household.entry.entry_id)
    await finish_options(
        hass,
        result,
        {"tariff": "hphc"},
        {"off_peak_ranges_winter": "23:00-07:00", "off_peak_ranges_summer": "23:00-07:00"},
    )
    await hass.async_block_till_done()
    await household.settle()
    assert off_peak_issue(hass, household) is None
    await linky_reports(
        household,
        [(paris(2026, 1, 13, 23) + timedelta(hours=hour), "HC..") for hour in range(1, 8)]
        + [(paris(2026, 1, 14, 7) + timedelta(hours=hour), "HP..") for hour in range(1, 16)]
        + [(paris(2026, 1, 14, 23, 30), "HC..")],
    )
    assert off_peak_issue(hass, household) is None


async def test_a_linky_left_on_winter_hours_is_reported_after_the_season_change_not_before(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """Read every hour across the spring DST change (29 March) and 1 April: the meter follows
    22:00-06:00 on its legal-time clock; Energy Edge is told the reform's summer hours."""
    household = await start(
        hass,
        zigbee2mqtt,
        clock,
        [HISTORIC_LINKY, WATER_HEATER],
        at=paris(2026, 3, 28, 12),
        **REFORM,
    )
    instant = paris(2026, 3, 28, 12, 30).astimezone(UTC)
    while instant < paris(2026, 4, 2, 12, 30):
        hour = instant.astimezone(household.data.pricing.tariff.time_zone).hour
        await linky_reports(household, [(instant, "HC.." if hour >= 22 or hour < 6 else "HP..")])
        assert off_peak_issue(hass, household) is None, instant  # winter, then under a day
        instant += timedelta(hours=1)
    await linky_reports(household, [(paris(2026, 4, 2, 12, 30), "HP..")])
    issue = off_peak_issue(hass, household)
    assert issue is not None
    assert issue.translation_placeholders["summer"] == "01:00-06:00, 12:00-15:00"


async def test_tomorrow_s_tempo_colour_comes_from_a_historic_linky(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, zigbee2mqtt: Zigbee2MQTT, clock: Clock
) -> None:
    """DEMAIN gives the colour of the next Tempo day (06:00 to 06:00): `BLEU`, `BLAN`, `ROUG`,
    or `----` while RTE has not announced it."""
    household = await start(
        hass, zigbee2mqtt, clock, [TEMPO_LINKY, WATER_HEATER], at=paris(2026, 1, 15, 12), **TEMPO
    )
    colors = household.data.pricing.colors
    await household.send(WATER_HEATER, state="ON", power=2000, tomorrow_color="ROUG")  # not a meter
    await household.send(TEMPO_LINKY, tomorrow_color="----")
    assert date(2026, 1, 16) not in colors
    await household.send(TEMPO_LINKY, tomorrow_color="BLAN")
    await household.travel_to(paris(2026, 1, 16, 6, 2))
    assert shown(household) == ("hp_white", 0.1792)
    await household.send(TEMPO_LINKY, tomorrow_color="BLAN")  # not switched yet: stale
    assert date(2026, 1, 17) not in household.data.pricing.colors
    await household.travel_to(paris(2026, 1, 16, 11))
    await household.send(TEMPO_LINKY, tomorrow_color="ROUG")
    await household.travel_to(paris(2026, 1, 17, 5, 59))  # still 16 January's night
    assert shown(household) == ("hc_white", 0.1447)
    await household.travel_to(paris(2026, 1, 17, 6))
    assert shown(household) == ("hp_red", 0.6586)
