"""The home's usual load per half hour, learned from the meter, leaves room for it in plans."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
import json
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_edge.engines.load_profile import (
    DAYS_KEPT,
    EXPECTED_QUANTILE,
    MIN_DAYS,
    SLOTS_PER_DAY,
    LoadProfile,
    slot_of,
)
from custom_components.energy_edge.engines.scheduling import LoadForecast, plan_run
from custom_components.energy_edge.engines.tariff import Tariff

from .conftest import PARIS, paris

HOUR = timedelta(hours=1)
EVENING = 19 * 2  # the 19:00-19:30 slot


def learned(evening_peaks: Sequence[float], *, first_day: date = date(2026, 1, 5)) -> LoadProfile:
    """A profile that saw, on consecutive days, 400 VA at 03:00 and the given peaks at 19:10."""
    profile = LoadProfile(PARIS)
    for offset, peak in enumerate(evening_peaks):
        day = first_day + timedelta(days=offset)
        profile.record(paris(day.year, day.month, day.day, 3), 400)
        profile.record(paris(day.year, day.month, day.day, 19, 10), peak)
    return profile


def test_a_slot_seen_on_too_few_days_expects_nothing() -> None:
    profile = learned([4000] * (MIN_DAYS - 1))
    assert profile.expected_va(EVENING) is None
    assert profile.expected_loads(paris(2026, 2, 1, 18), paris(2026, 2, 1, 21)) == ()


def test_the_usual_evening_peak_is_expected_not_a_rare_one() -> None:
    profile = learned([4000, 4100, 3900, 4000, 6500])  # one evening with guests
    assert profile.expected_va(EVENING) == 4100
    assert profile.expected_va(6) == 400
    assert profile.expected_va(0) is None  # never seen


def test_a_short_peak_within_the_half_hour_counts_not_the_average() -> None:
    profile = LoadProfile(PARIS)
    for day in range(5, 5 + MIN_DAYS):
        profile.record(paris(2026, 1, day, 19, 1), 800)
        profile.record(paris(2026, 1, day, 19, 14), 3200)  # the kettle
        profile.record(paris(2026, 1, day, 19, 16), 800)
    assert profile.expected_va(EVENING) == 3200


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_reading_that_is_not_a_number_is_ignored(bad: float) -> None:
    profile = learned([4000] * MIN_DAYS)
    assert not profile.record(paris(2026, 1, 7, 19, 20), bad)
    assert profile.expected_va(EVENING) == 4000


def test_exporting_counts_as_no_load() -> None:
    profile = LoadProfile(PARIS)
    for day in range(5, 5 + MIN_DAYS):
        profile.record(paris(2026, 1, day, 13), -1500)  # solar panels feeding the grid
    assert profile.expected_va(26) == 0
    assert profile.expected_loads(paris(2026, 2, 1, 13), paris(2026, 2, 1, 14)) == ()


def test_only_the_latest_days_are_kept_so_the_profile_follows_the_seasons() -> None:
    profile = learned([6000] * DAYS_KEPT + [2000] * DAYS_KEPT)
    assert len(profile.days) == DAYS_KEPT
    assert profile.expected_va(EVENING) == 2000
    assert not profile.record(paris(2026, 1, 5, 19), 9000)  # a day older than all kept


def test_days_from_a_clock_that_was_ahead_are_forgotten() -> None:
    profile = learned([2000] * MIN_DAYS)
    profile.record(paris(2031, 1, 1, 19), 9000)
    assert profile.record(paris(2026, 1, 8, 19), 2000)
    assert max(profile.days) == date(2026, 1, 8)
    profile.record(paris(2026, 1, 9, 19), 2000)
    assert profile.record(paris(2026, 1, 8, 19, 40), 2000)  # a clock a day late harms nothing
    assert max(profile.days) == date(2026, 1, 9)
    assert profile.expected_va(EVENING) == 2000


def test_slots_follow_the_wall_clock_across_dst_changes() -> None:
    profile = learned([3000] * MIN_DAYS, first_day=date(2026, 3, 26))  # spans the spring change
    (evening,) = profile.expected_loads(paris(2026, 3, 29, 18), paris(2026, 3, 29, 20))
    assert (evening.start, evening.end) == (paris(2026, 3, 29, 19), paris(2026, 3, 29, 19, 30))
    assert slot_of(paris(2026, 10, 25, 2, 40, fold=1), PARIS) == (date(2026, 10, 25), 5)


def test_a_heavy_usual_evening_pushes_a_run_out_of_the_cheapest_hours(hphc: Tariff) -> None:
    """Off-peak starts at 22:00, but the home usually draws 4 kVA until midnight (a car charging
    by its own timer): a 3 kW run of 2 h goes after it, not into a 6 kVA overload."""
    profile = LoadProfile(PARIS)
    for day in range(5, 12):
        for minute in range(0, 120, 5):
            instant = paris(2026, 1, day, 22) + timedelta(minutes=minute)
            profile.record(instant, 4000)
    now, deadline = paris(2026, 1, 15, 19), paris(2026, 1, 16, 7)

    def plan(forecast: LoadForecast) -> tuple[datetime, datetime]:
        run = plan_run(
            load_id="water_heater",
            power_w=3000,
            duration=2 * HOUR,
            deadline=deadline,
            earliest_start=now,
            prices=hphc.price_calendar(now, deadline),
            contract_limit_va=6000,
            forecast=forecast,
        )
        return run.start, run.end

    assert plan(LoadForecast()) == (paris(2026, 1, 15, 22), paris(2026, 1, 16, 0))
    usual = LoadForecast(extras=profile.expected_loads(now, deadline))
    assert plan(usual) == (paris(2026, 1, 16, 0), paris(2026, 1, 16, 2))


def test_the_profile_survives_being_stored_as_json() -> None:
    profile = learned([4000, 4100, 3900])
    stored = json.loads(json.dumps(profile.to_dict()))
    again = LoadProfile.from_dict(stored, PARIS)
    assert again == profile
    assert again.summary()["expected_va"]["19:00"] == 4100  # type: ignore[index]
    stored["days"]["2025-12-01"] = [None] * SLOTS_PER_DAY  # more days than kept: the oldest goes
    for offset in range(DAYS_KEPT - 1):
        stored["days"][(date(2026, 2, 1) + timedelta(days=offset)).isoformat()] = [None] * 48
    assert min(LoadProfile.from_dict(stored, PARIS).days) == date(2026, 1, 7)


@pytest.mark.parametrize(
    "damaged",
    [
        {},
        {"days": []},
        {"days": {"2026-01-05": [1.0] * 47}},
        {"days": {"2026-01-05": [-1.0] * SLOTS_PER_DAY}},
        {"days": {"not a day": [None] * SLOTS_PER_DAY}},
        {"days": {"2026-01-05": "full"}},
    ],
)
def test_a_damaged_stored_profile_is_refused_clearly(damaged: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="stored load profile is damaged"):
        LoadProfile.from_dict(damaged, PARIS)


def test_the_summary_tells_what_was_learned() -> None:
    summary = learned([4000, 4100, 3900, 4000]).summary()
    assert summary["days_observed"] == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
    assert summary["slots_known"] == 2
    assert summary["highest_expected_va"] == 4100


# hypothesis wants naive bounds and adds the zone itself
instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC))  # noqa: DTZ001


@settings(max_examples=60, deadline=None)
@given(
    peaks=st.lists(
        st.lists(st.floats(0, 12000) | st.none(), min_size=SLOTS_PER_DAY, max_size=SLOTS_PER_DAY),
        min_size=1,
        max_size=DAYS_KEPT,
    ),
    start=instants,
    hours=st.floats(0, 60),
)
def test_the_expected_load_at_any_instant_is_its_slots_usual_peak(
    peaks: list[list[float | None]], start: datetime, hours: float
) -> None:
    first = date(2026, 1, 1)
    profile = LoadProfile(PARIS, {first + timedelta(days=i): day for i, day in enumerate(peaks)})
    end = start + timedelta(hours=hours)
    loads = profile.expected_loads(start, end)
    assert all(start <= a.start < a.end <= end for a in loads)
    assert all(a.end <= b.start for a, b in pairwise(loads))
    forecast = LoadForecast(extras=loads)
    for load in loads:
        for instant in (load.start, load.end - timedelta(microseconds=1)):
            assert forecast.load_va_at(instant) == profile.expected_va(slot_of(instant, PARIS)[1])
    for slot in range(SLOTS_PER_DAY):
        seen = [peak for day in peaks if (peak := day[slot]) is not None]
        expected = profile.expected_va(slot)
        if len(seen) < MIN_DAYS:
            assert expected is None
        else:
            assert expected in seen
            # the lowest peak that EXPECTED_QUANTILE of the days stayed at or under
            assert sum(peak <= expected for peak in seen) >= EXPECTED_QUANTILE * len(seen)
            assert sum(peak < expected for peak in seen) < EXPECTED_QUANTILE * len(seen)
