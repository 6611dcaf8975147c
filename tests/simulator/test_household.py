"""The household model: deterministic, exact, and giving the energy manager real work."""

from collections import defaultdict
from datetime import date, datetime, timedelta
import math

import pytest

from energy_edge_sim.appliances import EvCharger, ProgramAppliance, WaterHeater
from energy_edge_sim.household import FORCED_OVERLOAD, Circuit, Household, Snapshot
from energy_edge_sim.households import fr_house, scale_house
from energy_edge_sim.localtime import PARIS, LocalCalendar
from energy_edge_sim.tariff import OffPeakWindow, TariffPeriod, TariffSchedule

from .conftest import EVENING, NIGHT

MONDAY = datetime(2025, 1, 6, tzinfo=PARIS)


def readings(snapshot: Snapshot) -> tuple[object, ...]:
    """Every number of a snapshot, for comparisons."""
    return (
        tuple((name, load.power_w, load.energy_wh) for name, load in snapshot.loads.items()),
        tuple(
            (name, plug.on, plug.power_w, plug.energy_kwh) for name, plug in snapshot.plugs.items()
        ),
        snapshot.meter,
    )


def test_the_same_seed_gives_the_same_home_and_another_seed_another() -> None:
    """Two runs with one seed agree to the last digit; a different seed lives differently."""
    first, second, other = (fr_house(seed, MONDAY) for seed in (42, 42, 43))
    for _ in range(48):
        a, b, c = first.step(1800), second.step(1800), other.step(1800)
        assert readings(a) == readings(b)
    assert readings(a) != readings(c)


def test_counters_do_not_depend_on_the_step_size() -> None:
    """Power is integrated exactly between events: any step size gives the same energy."""
    houses = [fr_house(5, MONDAY) for _ in range(3)]
    end = (MONDAY + timedelta(days=2)).timestamp()
    for house, step in zip(houses, (7, 60, 3600), strict=True):
        while house.timestamp < end:
            house.step(min(step, end - house.timestamp))
    snapshots = [house.snapshot() for house in houses]
    assert all(snapshot.time == MONDAY + timedelta(days=2) for snapshot in snapshots)
    for load in snapshots[0].loads:
        energies = [snapshot.loads[load].energy_wh for snapshot in snapshots]
        assert max(energies) - min(energies) < 1e-6 * max(1.0, *energies)
    meters = [snapshot.meter.import_wh for snapshot in snapshots]
    assert max(meters) - min(meters) < 1e-3


def test_stepping_in_small_and_large_steps_agrees() -> None:
    """`step()` in uneven steps ends in the same state as one jump."""
    stepped, jumped = fr_house(9, EVENING), fr_house(9, EVENING)
    for seconds in [1, 2.5, 17, 600, 3600, 0.25] * 10:
        stepped.step(seconds)
    jumped.advance_to(stepped.timestamp)
    one, other = stepped.snapshot(), jumped.snapshot()
    assert one.time == other.time
    assert one.meter.import_wh == pytest.approx(other.meter.import_wh, rel=1e-12)
    for name, load in one.loads.items():
        assert load.power_w == other.loads[name].power_w
        assert load.energy_wh == pytest.approx(other.loads[name].energy_wh, rel=1e-9, abs=1e-9)


def test_the_meter_is_the_sum_of_every_load() -> None:
    """At any instant, the meter's active power is the metered plus the unmetered loads."""
    house = fr_house(3, MONDAY, pv_peak_w=3000)
    for _ in range(24 * 12):
        snapshot = house.step(300)
        plugs = sum(plug.power_w for plug in snapshot.plugs.values())
        assert snapshot.meter.active_power_w == pytest.approx(plugs + snapshot.unmetered_power_w)
        assert snapshot.meter.active_power_w == pytest.approx(
            sum(load.power_w for load in snapshot.loads.values())
        )


def test_meter_energy_is_the_sum_of_load_energy() -> None:
    """Over a week with solar panels, imported minus exported energy is what the loads used."""
    house = fr_house(11, datetime(2025, 6, 2, tzinfo=PARIS), pv_peak_w=4000)
    before = house.snapshot()
    after = house.step(timedelta(days=7))
    net_wh = (after.meter.import_wh - before.meter.import_wh) - (
        after.meter.export_wh - before.meter.export_wh
    )
    used_wh = sum(after.loads[n].energy_wh - before.loads[n].energy_wh for n in after.loads)
    assert after.meter.export_wh > before.meter.export_wh, "sunny June days export"
    assert net_wh == pytest.approx(used_wh, rel=1e-9)


def test_every_counter_is_the_integral_of_its_power() -> None:
    """Each plug's counter grows by the integral of the power it reports (within 1 %)."""
    house = fr_house(4, EVENING)
    start = house.snapshot()
    integral_wh: dict[str, float] = defaultdict(float)
    for _ in range(6 * 3600):
        power = {name: plug.power_w for name, plug in house.snapshot().plugs.items()}
        house.step(1)
        for name, watts in power.items():
            integral_wh[name] += watts / 3600
    end = house.snapshot()
    for name, plug in end.plugs.items():
        counted_wh = (plug.energy_kwh - start.plugs[name].energy_kwh) * 1000
        assert counted_wh == pytest.approx(integral_wh[name], rel=0.01, abs=0.5), name


def test_switching_a_plug_off_lowers_the_meter_by_its_power() -> None:
    """The closed loop: an OFF removes exactly that load; ON brings it back."""
    house = fr_house(7, NIGHT)
    before = house.snapshot()
    heater_w = before.plugs["water_heater"].power_w
    assert heater_w == 2400, "the water heater heats at off-peak"
    house.set_switch("water_heater", on=False)
    after = house.snapshot()
    assert not house.switch_is_on("water_heater")
    assert after.plugs["water_heater"].power_w == 0
    assert before.meter.active_power_w - after.meter.active_power_w == pytest.approx(heater_w)
    house.set_switch("water_heater", on=True)
    assert house.snapshot().plugs["water_heater"].power_w == 2400


def test_a_program_cut_by_shedding_resumes_and_uses_the_same_energy() -> None:
    """A washing programme paused by an OFF finishes later with the same energy."""
    free, shed = fr_house(21, MONDAY), fr_house(21, MONDAY)
    machine = free.appliance("washing_machine")
    assert isinstance(machine, ProgramAppliance)
    while not machine.running:
        free.step(60)
        shed.step(60)
    shed.step(300)
    shed.set_switch("washing_machine", on=False)
    shed.step(1800)
    assert shed.snapshot().plugs["washing_machine"].power_w == 0
    shed.set_switch("washing_machine", on=True)
    for house in (free, shed):
        house.advance_to(house.timestamp + 4 * 3600)
    shed_machine = shed.appliance("washing_machine")
    assert isinstance(shed_machine, ProgramAppliance)
    assert not machine.running
    assert not shed_machine.running
    assert shed.snapshot().loads["washing_machine"].energy_wh == pytest.approx(
        free.snapshot().loads["washing_machine"].energy_wh, rel=0.01
    )


def test_the_water_heater_heats_only_off_peak() -> None:
    """Two days of water heating, all of it during off-peak hours, until the water is hot."""
    house = fr_house(8, MONDAY)
    heater = house.appliance("water_heater")
    assert isinstance(heater, WaterHeater)
    heated_peak = heated_off_peak = 0.0
    for _ in range(2 * 24 * 60):
        snapshot = house.step(60)
        power = snapshot.plugs["water_heater"].power_w
        if snapshot.meter.tariff_period is TariffPeriod.OFF_PEAK:
            heated_off_peak += power
        else:
            heated_peak += power
    assert heated_peak == 0
    assert heated_off_peak > 0


def test_a_switched_off_water_heater_heats_later() -> None:
    """Shedding the water heater delays its heating; the energy is made up before morning."""
    free, shed = fr_house(6, NIGHT), fr_house(6, NIGHT)
    shed.set_switch("water_heater", on=False)
    shed.step(3600)
    shed.set_switch("water_heater", on=True)
    free.step(3600)
    morning = NIGHT.replace(hour=6) + timedelta(days=1)
    free.advance_to(morning)
    shed.advance_to(morning)
    assert shed.snapshot().loads["water_heater"].energy_wh == pytest.approx(
        free.snapshot().loads["water_heater"].energy_wh, rel=0.02
    )


def test_the_car_charges_when_it_comes_home() -> None:
    """A weekday car arrives in the evening, charges at 3.7 kW at once and leaves next morning."""
    house = fr_house(7, MONDAY)
    charger = house.appliance("ev_charger")
    assert isinstance(charger, EvCharger)
    while charger.plugged_in:  # Sunday's car still charging overnight
        house.step(60)
    while not (charger.plugged_in and house.time.weekday() < 5):
        house.step(60)
        assert house.time < MONDAY + timedelta(days=7), "no car came home all week"
    arrival = house.time
    assert 17 <= arrival.hour <= 20
    assert house.snapshot().plugs["ev_charger"].power_w == 3700
    while charger.plugged_in:
        house.step(60)
    assert house.time.date() == arrival.date() + timedelta(days=1)
    assert 7 <= house.time.hour <= 8
    assert house.snapshot().plugs["ev_charger"].power_w == 2.0


def test_evening_coincidences_exceed_the_contract_several_times_a_week() -> None:
    """Four weeks of three homes: 3+ days a week above 6 kVA on average, and never a calm week."""
    for seed in (1, 2, 3):
        house = fr_house(seed, MONDAY)
        overloaded_days: dict[int, set[date]] = defaultdict(set)
        for minute in range(28 * 24 * 60):
            snapshot = house.step(60)
            if snapshot.meter.overloaded:
                overloaded_days[minute // (7 * 24 * 60)].add(snapshot.time.date())
        per_week = [len(overloaded_days[week]) for week in range(4)]
        assert min(per_week) >= 2, (seed, per_week)
        assert sum(per_week) / 4 >= 3, (seed, per_week)


def test_a_forced_overload_exceeds_the_contract_then_vanishes() -> None:
    """`force_overload` adds power for its duration only; `clear_overload` ends it early."""
    house = fr_house(2, NIGHT)
    base = house.snapshot().meter.apparent_power_va
    house.force_overload(7000, 120)
    loaded = house.snapshot()
    assert loaded.meter.overloaded
    assert loaded.meter.apparent_power_va >= base + 6900
    assert loaded.loads[FORCED_OVERLOAD].plug is None
    house.step(121)
    assert house.snapshot().loads[FORCED_OVERLOAD].power_w == 0
    house.force_overload(4000, 3600, plug="oven")
    assert house.snapshot().plugs["oven"].power_w >= 4000
    house.set_switch("oven", on=False)
    assert house.snapshot().loads[FORCED_OVERLOAD].power_w == 0, "shedding its plug removes it"
    house.set_switch("oven", on=True)
    house.clear_overload()
    assert house.snapshot().loads[FORCED_OVERLOAD].power_w == 0


def test_a_started_load_draws_while_its_plug_is_on() -> None:
    """`start_load` adds a load behind a plug, as an appliance switched on: switching the plug
    off cuts it, on resumes it; it ends after its duration, or at once with `stop_load`."""
    house = fr_house(2, NIGHT)
    base = house.snapshot().plugs["oven"].power_w
    house.start_load("oven", 2000, 600)
    assert house.snapshot().plugs["oven"].power_w == pytest.approx(base + 2000, abs=50)
    house.set_switch("oven", on=False)
    assert house.snapshot().plugs["oven"].power_w == 0
    house.set_switch("oven", on=True)
    assert house.snapshot().loads["started_load_oven"].power_w == 2000
    house.stop_load("oven")
    assert house.snapshot().loads["started_load_oven"].power_w == 0
    house.start_load("oven", 1000, 60)
    house.step(61)
    assert house.snapshot().loads["started_load_oven"].power_w == 0
    house.stop_load("tv")  # nothing started there: nothing to stop
    with pytest.raises(ValueError, match="positive"):
        house.start_load("oven", math.nan, 60)
    with pytest.raises(KeyError):
        house.start_load("nope", 100, 60)


def test_a_held_home_keeps_its_draw_while_plugs_and_started_loads_still_act() -> None:
    """`hold` freezes what the home's own appliances draw (an evening that would change a lot in
    an hour stays put), while a plug switched off still stops drawing and a started load still
    adds."""
    free, held = fr_house(3, EVENING), fr_house(3, EVENING)
    held.hold(3600)
    held.start_load("oven", 1500, 3600)
    start = held.snapshot()
    own = {name: load.power_w for name, load in start.loads.items() if "started" not in name}
    changed = False
    for _ in range(59):  # the hold ends with the 60th minute
        held_now, free_now = held.step(60), free.step(60)
        assert {n: held_now.loads[n].power_w for n in own} == own
        changed |= {n: free_now.loads[n].power_w for n in own} != own
    assert changed, "the same hour without a hold changes the home"
    assert held_now.loads["started_load_oven"].power_w == 1500

    held.set_switch("water_heater", on=False)
    assert held.snapshot().plugs["water_heater"].power_w == 0
    with pytest.raises(ValueError, match="positive"):
        held.hold(math.inf)


@pytest.mark.parametrize("release", ["at_its_end", "early"])
def test_after_a_hold_the_home_follows_its_programmes_again(release: str) -> None:
    """When a hold ends (by itself or by `release`), the appliances draw what they would have
    drawn without it: their programmes went on underneath."""
    free, held = fr_house(5, EVENING), fr_house(5, EVENING)
    held.hold(1800 if release == "at_its_end" else 7200)
    held.step(1800)
    free.step(1800)
    if release == "early":
        held.release()
    assert readings(held.snapshot())[0] != readings(free.snapshot())[0]  # energies differ
    assert [load.power_w for load in held.snapshot().loads.values()] == [
        load.power_w for load in free.snapshot().loads.values()
    ]


@pytest.mark.parametrize(
    ("power_w", "duration_s", "plug"),
    [
        (0, 10, None),
        (100, -1, None),
        (math.nan, 10, None),
        (100, math.inf, None),
        (100, 10, "nope"),
    ],
)
def test_an_invalid_overload_is_refused(
    power_w: float, duration_s: float, plug: str | None
) -> None:
    """Nonsense overloads raise instead of corrupting the model."""
    house = fr_house(2, NIGHT)
    with pytest.raises((ValueError, KeyError)):
        house.force_overload(power_w, duration_s, plug)


def test_a_rebooted_plug_counts_again_from_zero() -> None:
    """A reboot restarts the plug's own counter; the load's energy and the meter carry on."""
    house = fr_house(7, EVENING)
    before = house.snapshot()
    house.reboot("ev_charger")
    assert house.snapshot().plugs["ev_charger"].energy_kwh == 0
    after = house.step(3600)
    assert after.plugs["ev_charger"].energy_kwh == pytest.approx(
        (after.loads["ev_charger"].energy_wh - before.loads["ev_charger"].energy_wh) / 1000
    )
    assert after.meter.import_wh > before.meter.import_wh


def test_the_meter_keeps_daily_peaks_and_a_half_hourly_load_curve() -> None:
    """SMAXSN resets at midnight (yesterday's peak moves to SMAXSN-1); CCASN is a half-hour mean."""
    house = fr_house(1, EVENING)
    house.advance_to(EVENING.replace(hour=23, minute=59, second=59))
    today_peak = house.snapshot().meter.max_apparent_power_today_va
    assert today_peak > 6000, "this evening overloads"
    house.advance_to(datetime(2025, 1, 16, 0, 0, tzinfo=PARIS))
    meter = house.snapshot().meter
    assert meter.max_apparent_power_yesterday_va >= today_peak
    assert meter.max_apparent_power_today_va == pytest.approx(meter.apparent_power_va)
    start = meter.import_wh
    house.advance_to(datetime(2025, 1, 16, 0, 30, tzinfo=PARIS))
    assert house.snapshot().meter.load_curve_w == pytest.approx(
        (house.snapshot().meter.import_wh - start) * 2, rel=1e-6
    )


def test_the_scale_mode_builds_rows_of_plugs() -> None:
    """`scale_house(n)` has n plugs named plug_0001..., all metered."""
    house = scale_house(12, seed=1, start=MONDAY)
    assert house.plug_names[0] == "plug_0001"
    assert len(house.plug_names) == 12
    snapshot = house.step(timedelta(hours=20))
    assert sum(load.energy_wh for load in snapshot.loads.values()) > 0
    assert snapshot.unmetered_power_w == 0
    with pytest.raises(ValueError, match="at least one plug"):
        scale_house(0, seed=1, start=MONDAY)


def test_bad_construction_and_bad_steps_are_refused() -> None:
    """Naive datetimes, duplicate names, unknown plugs and negative steps raise clearly."""
    with pytest.raises(ValueError, match="timezone-aware"):
        fr_house(1, datetime(2025, 1, 1))  # noqa: DTZ001 - a naive time is the point
    heater = fr_house(1, MONDAY).appliance("water_heater")
    with pytest.raises(ValueError, match="unique"):
        Household([Circuit(heater), Circuit(heater)], seed=1, start=MONDAY)
    house = fr_house(1, MONDAY)
    with pytest.raises(ValueError, match="forward"):
        house.step(-1)
    with pytest.raises(KeyError, match="no plug"):
        house.set_switch("kettle", on=False)
    with pytest.raises(KeyError):
        house.appliance("kettle")
    assert house.step(0).time == MONDAY
    assert "ev_charger" in house.load_names


def test_daylight_saving_days_have_their_real_length() -> None:
    """The spring-forward night has 23 hours; the off-peak window still lasts until 06:30."""
    calendar = LocalCalendar()
    spring = date(2025, 3, 30)
    assert calendar.day_start(spring + timedelta(days=1)) - calendar.day_start(spring) == 23 * 3600
    assert calendar.at(spring, 2.5) == calendar.at(spring, 3.5)  # 02:30 does not exist
    tariff = TariffSchedule(calendar=calendar)
    morning = calendar.at(spring, 6.0)
    assert tariff.period_at(morning) is TariffPeriod.OFF_PEAK
    assert tariff.next_change(morning) == calendar.at(spring, 6.5)
    house = fr_house(3, datetime(2025, 3, 29, 12, tzinfo=PARIS))
    assert house.step(timedelta(days=2)).time == datetime(2025, 3, 31, 13, tzinfo=PARIS)


def test_tariff_windows_can_be_chosen() -> None:
    """A home with two off-peak windows (midday and night) switches periods at each edge."""
    calendar = LocalCalendar()
    tariff = TariffSchedule((OffPeakWindow(12.5, 14.5), OffPeakWindow(1.5, 7.5)), calendar)
    day = date(2025, 1, 15)
    assert tariff.period_at(calendar.at(day, 13)) is TariffPeriod.OFF_PEAK
    assert tariff.period_at(calendar.at(day, 15)) is TariffPeriod.PEAK
    assert tariff.next_change(calendar.at(day, 15)) == calendar.at(day + timedelta(days=1), 1.5)
    with pytest.raises(ValueError, match="empty"):
        OffPeakWindow(3, 3)
    with pytest.raises(ValueError, match="0, 24"):
        OffPeakWindow(-1, 3)
