"""Tariff periods and prices on the wall clock of Paris: boundaries, midnight, both DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.energy_edge.engines.tariff import (
    DEFAULT_OFF_PEAK,
    OffPeakRange,
    Period,
    Tariff,
    TariffKind,
    TempoColor,
    assumed_tempo_color,
    parse_off_peak_ranges,
    tempo_color_from_text,
    tempo_day,
)

from .conftest import PARIS, TEMPO_PRICES, paris

HOUR = timedelta(hours=1)
# Bounds for hypothesis, which wants naive bounds and adds the zone itself.
NAIVE_2026 = (datetime(2026, 1, 1), datetime(2026, 12, 31))  # noqa: DTZ001
SPRING = date(2026, 3, 29)  # 02:00 -> 03:00


def hours(spans_duration: timedelta) -> float:
    return spans_duration / HOUR


def off_peak_at(*ranges: OffPeakRange, zone: ZoneInfo = PARIS) -> Tariff:
    """An HP/HC tariff with the given off-peak ranges."""
    return Tariff.hphc(
        hp_price_per_kwh=0.2,
        hc_price_per_kwh=0.1,
        subscription_per_month=0,
        time_zone=zone,
        off_peak_ranges=ranges,
    )


def seasonal(*, winter: str = "22:00-06:00", summer: str) -> Tariff:
    """An HP/HC tariff with each season's off-peak hours (summer: 1 April to 31 October)."""
    return Tariff.hphc(
        hp_price_per_kwh=0.2,
        hc_price_per_kwh=0.1,
        subscription_per_month=0,
        time_zone=PARIS,
        off_peak_ranges=parse_off_peak_ranges(winter),
        summer_off_peak_ranges=parse_off_peak_ranges(summer),
    )


def off_peak_hours(tariff: Tariff, start: datetime, end: datetime) -> float:
    """Off-peak hours between two instants, from the calendar."""
    spans = tariff.periods_between(start, end)
    return sum(hours(s.end - s.start) for s in spans if s.period is Period.HC)


# --- base -----------------------------------------------------------------------------------


def test_base_has_one_price_at_every_hour_including_dst_nights(base: Tariff) -> None:
    for instant in (paris(2026, 3, 29, 1, 59), paris(2026, 3, 29, 3), paris(2026, 10, 25, 2, 30)):
        assert base.period_at(instant) is Period.BASE
        assert base.price_at(instant) == 0.1952


def test_base_calendar_splits_only_at_local_midnight(base: Tariff) -> None:
    spans = base.periods_between(paris(2026, 3, 28, 12), paris(2026, 3, 30, 12))
    assert [span.day for span in spans] == [date(2026, 3, 28), SPRING, date(2026, 3, 30)]
    assert [hours(s.end - s.start) for s in spans] == [12, 23, 12]  # the spring day has 23 h


# --- hphc -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall_clock", "period"),
    [
        ((21, 59), Period.HP),
        ((22, 0), Period.HC),
        ((23, 59), Period.HC),
        ((0, 0), Period.HC),
        ((5, 59), Period.HC),
        ((6, 0), Period.HP),
        ((12, 0), Period.HP),
    ],
)
def test_off_peak_hours_run_from_22_00_to_06_00_across_midnight(
    hphc: Tariff, wall_clock: tuple[int, int], period: Period
) -> None:
    instant = paris(2026, 1, 15, *wall_clock)
    assert hphc.period_at(instant) is period
    assert hphc.price_at(instant) == (0.1635 if period is Period.HC else 0.2081)


def test_several_off_peak_ranges_apply_each(hphc: Tariff) -> None:
    tariff = off_peak_at(*parse_off_peak_ranges("02:00-07:00, 13:00-16:00"))
    spans = tariff.periods_between(paris(2026, 6, 1), paris(2026, 6, 2))
    assert [(s.start.astimezone(PARIS).hour, s.period) for s in spans] == [
        (0, Period.HP),
        (2, Period.HC),
        (7, Period.HP),
        (13, Period.HC),
        (16, Period.HP),
    ]


def test_spring_change_shortens_the_off_peak_night(hphc: Tariff) -> None:
    night = hphc.periods_between(paris(2026, 3, 28, 12), paris(2026, 3, 29, 12))
    off_peak = [s for s in night if s.period is Period.HC]
    assert hours(off_peak[-1].end - off_peak[0].start) == 7  # 22:00 CET to 06:00 CEST
    assert off_peak[-1].end == datetime(2026, 3, 29, 4, tzinfo=UTC)


def test_autumn_change_lengthens_the_off_peak_night(hphc: Tariff) -> None:
    night = hphc.periods_between(paris(2026, 10, 24, 12), paris(2026, 10, 25, 12))
    off_peak = [s for s in night if s.period is Period.HC]
    assert hours(off_peak[-1].end - off_peak[0].start) == 9
    assert hphc.period_at(paris(2026, 10, 25, 2, 30, fold=1)) is Period.HC


def test_a_boundary_skipped_by_the_spring_change_takes_effect_at_the_jump() -> None:
    tariff = off_peak_at(OffPeakRange(time(2, 30), time(7)))
    spans = tariff.periods_between(paris(2026, 3, 29, 0), paris(2026, 3, 29, 12))
    assert [(s.start.astimezone(PARIS).time(), s.period) for s in spans] == [
        (time(0), Period.HP),
        (time(3), Period.HC),  # 02:30 never happened: off-peak starts as the clock jumps to 03:00
        (time(7), Period.HP),
    ]


def test_a_boundary_repeated_by_the_autumn_change_is_crossed_twice() -> None:
    tariff = off_peak_at(OffPeakRange(time(2, 30), time(7)))
    spans = tariff.periods_between(paris(2026, 10, 25, 0), paris(2026, 10, 25, 12))
    assert [(s.start.astimezone(PARIS).isoformat(), s.period) for s in spans] == [
        ("2026-10-25T00:00:00+02:00", Period.HP),
        ("2026-10-25T02:30:00+02:00", Period.HC),
        ("2026-10-25T02:00:00+01:00", Period.HP),  # the clock went back to 02:00
        ("2026-10-25T02:30:00+01:00", Period.HC),
        ("2026-10-25T07:00:00+01:00", Period.HP),
    ]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    ranges=st.lists(
        st.tuples(st.integers(0, 47), st.integers(0, 47)).filter(lambda r: r[0] != r[1]),
        min_size=1,
        max_size=3,
    ),
    start=st.datetimes(NAIVE_2026[0], NAIVE_2026[1], timezones=st.just(UTC)),
    length_hours=st.integers(1, 80),
)
def test_the_calendar_agrees_with_the_price_at_every_instant(
    zone: str, ranges: list[tuple[int, int]], start: datetime, length_hours: int
) -> None:
    """Spans are contiguous, and inside each one the tariff says the span's period."""
    half_hour = [time(h // 2, 30 * (h % 2)) for h in range(48)]
    tariff = off_peak_at(
        *(OffPeakRange(half_hour[a], half_hour[b]) for a, b in ranges), zone=ZoneInfo(zone)
    )
    end = start + length_hours * HOUR
    spans = tariff.periods_between(start, end)
    assert spans[0].start == start
    assert spans[-1].end == end
    for span, following in pairwise(spans):
        assert span.end == following.start
        assert (span.day, span.period) != (following.day, following.period)
    for span in spans:
        middle = span.start + (span.end - span.start) / 2
        for instant in (span.start, middle, span.end - timedelta(seconds=1)):
            assert tariff.period_at(instant) is span.period
            assert tariff.tariff_day(instant) == span.day


# --- tempo ----------------------------------------------------------------------------------

COLORS = {date(2026, 1, 14): TempoColor.BLUE, date(2026, 1, 15): TempoColor.RED}


@pytest.mark.parametrize(
    ("instant", "period"),
    [
        (paris(2026, 1, 15, 5, 59), Period.HC_BLUE),  # still the blue Tempo day of the 14th
        (paris(2026, 1, 15, 6, 0), Period.HP_RED),
        (paris(2026, 1, 15, 21, 59), Period.HP_RED),
        (paris(2026, 1, 15, 22, 0), Period.HC_RED),
        (paris(2026, 1, 16, 2, 0), Period.HC_RED),  # after midnight: the red day's night
        (paris(2026, 1, 16, 6, 0), Period.HP),  # the 16th: colour not known
    ],
)
def test_a_tempo_day_runs_from_06_00_to_06_00_and_prices_its_night(
    tempo: Tariff, instant: datetime, period: Period
) -> None:
    assert tempo.period_at(instant, COLORS) is period
    assert tempo.price_at(instant, COLORS) == TEMPO_PRICES.get(period)


def test_an_unknown_tempo_colour_has_no_price(tempo: Tariff) -> None:
    assert tempo.price_at(paris(2026, 1, 20, 12)) is None
    spans = tempo.periods_between(paris(2026, 1, 20, 12), paris(2026, 1, 21, 12))
    assert [(s.day, s.period, s.price_per_kwh) for s in spans] == [
        (date(2026, 1, 20), Period.HP, None),
        (date(2026, 1, 20), Period.HC, None),
        (date(2026, 1, 21), Period.HP, None),
    ]


@pytest.mark.parametrize(
    ("day", "hours_long", "off_peak_hours"),
    [(date(2026, 3, 28), 23, 7), (date(2026, 10, 24), 25, 9), (date(2026, 1, 15), 24, 8)],
)
def test_tempo_days_around_dst_changes(
    tempo: Tariff, day: date, hours_long: int, off_peak_hours: int
) -> None:
    colors = {day: TempoColor.WHITE}
    start = datetime.combine(day, time(6), tzinfo=PARIS)
    spans = [s for s in tempo.periods_between(start, start + 30 * HOUR, colors) if s.day == day]
    assert [s.period for s in spans] == [Period.HP_WHITE, Period.HC_WHITE]
    assert hours(spans[-1].end - spans[0].start) == hours_long
    assert hours(spans[1].end - spans[1].start) == off_peak_hours


@pytest.mark.parametrize(
    ("day", "color"),
    [
        (date(2026, 1, 12), TempoColor.RED),  # a Monday in winter
        (date(2026, 3, 31), TempoColor.RED),  # last day red is possible
        (date(2026, 4, 1), TempoColor.WHITE),
        (date(2026, 11, 2), TempoColor.RED),
        (date(2026, 1, 17), TempoColor.WHITE),  # Saturday: never red
        (date(2026, 1, 18), TempoColor.BLUE),  # Sunday: always blue
        (date(2026, 7, 15), TempoColor.WHITE),
    ],
)
def test_planning_assumes_the_dearest_colour_edf_rules_allow(day: date, color: TempoColor) -> None:
    assert assumed_tempo_color(day) is color


def test_planning_calendar_flags_assumed_colours(tempo: Tariff) -> None:
    slots = tempo.price_calendar(paris(2026, 1, 15, 20), paris(2026, 1, 16, 8), COLORS)
    assert [(s.period, s.price_per_kwh, s.color_assumed) for s in slots] == [
        (Period.HP_RED, 0.6586, False),
        (Period.HC_RED, 0.1518, False),
        (Period.HP_RED, 0.6586, True),  # Friday 16th unknown: could be red
    ]


def test_base_and_hphc_calendars_are_never_assumed(hphc: Tariff) -> None:
    slots = hphc.price_calendar(paris(2026, 1, 15, 20), paris(2026, 1, 16, 8))
    assert [s.period for s in slots] == [Period.HP, Period.HC, Period.HC, Period.HP]
    assert not any(s.color_assumed for s in slots)


def test_next_change_is_the_next_boundary(tempo: Tariff, hphc: Tariff) -> None:
    assert tempo.next_change(paris(2026, 3, 29, 1)) == paris(2026, 3, 29, 6)
    assert hphc.next_change(paris(2026, 1, 15, 12)) == paris(2026, 1, 15, 22)
    assert hphc.next_change(paris(2026, 1, 15, 23)) == paris(2026, 1, 16, 0)  # a new day


# --- subscription ---------------------------------------------------------------------------


@pytest.mark.parametrize("month", range(1, 13))
def test_a_whole_month_costs_the_monthly_subscription(base: Tariff, month: int) -> None:
    start = paris(2026, month, 1)
    end = paris(2026 + month // 12, month % 12 + 1, 1)
    assert base.subscription_cost(start, end) == pytest.approx(15.65)


def test_subscription_is_pro_rata_by_time_within_a_month(base: Tariff) -> None:
    # March 2026 has 743 hours (the spring change); its first 24 hours cost 24/743 of it.
    assert base.subscription_cost(paris(2026, 3, 1), paris(2026, 3, 2)) == pytest.approx(
        15.65 * 24 / 743
    )
    assert base.subscription_cost(paris(2026, 3, 2), paris(2026, 3, 1)) == 0


@given(cuts=st.lists(st.integers(0, 365 * 24 * 60), min_size=1, max_size=6))
def test_subscription_adds_up_however_the_time_is_cut(cuts: list[int]) -> None:
    tariff = Tariff.base(price_per_kwh=0.2, subscription_per_month=12.0, time_zone=PARIS)
    start = paris(2026, 1, 1)
    points = [start, *sorted(start + timedelta(minutes=m) for m in cuts)]
    total = sum(tariff.subscription_cost(a, b) for a, b in pairwise(points))
    assert total == pytest.approx(tariff.subscription_cost(points[0], points[-1]))


# --- bad input ------------------------------------------------------------------------------


def test_a_naive_datetime_is_refused(base: Tariff) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        base.price_at(datetime(2026, 1, 1, 12))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: Tariff(kind=TariffKind.HPHC, time_zone=PARIS, prices_per_kwh={Period.HP: 1}),
            "needs exactly the prices hc, hp",
        ),
        (
            lambda: Tariff.base(
                price_per_kwh=float("nan"), subscription_per_month=1, time_zone=PARIS
            ),
            "price of base must be a finite number",
        ),
        (
            lambda: Tariff.base(price_per_kwh=0.2, subscription_per_month=-1, time_zone=PARIS),
            "subscription_per_month",
        ),
        (
            lambda: Tariff(
                kind=TariffKind.BASE,
                time_zone=PARIS,
                prices_per_kwh={Period.BASE: 0.2},
                off_peak_ranges=DEFAULT_OFF_PEAK,
            ),
            "off-peak ranges do not fit a base tariff",
        ),
        (
            off_peak_at,
            "off-peak ranges do not fit a hphc tariff",
        ),
        (
            lambda: Tariff(
                kind=TariffKind.TEMPO,
                time_zone=PARIS,
                prices_per_kwh=TEMPO_PRICES,
                off_peak_ranges=DEFAULT_OFF_PEAK,
                summer_off_peak_ranges=DEFAULT_OFF_PEAK,
            ),
            "summer off-peak ranges do not fit a tempo tariff",
        ),
        (
            lambda: seasonal(summer="01:00-02:00, 03:00-04:00, 05:00-06:00, 13:00-14:00"),
            "at most 3 off-peak ranges a season",
        ),
    ],
)
def test_an_inconsistent_tariff_is_refused_with_a_reason(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22h-6h", "is not written HH:MM-HH:MM"),
        ("25:00-06:00", "hour must be in 0..23"),
        ("06:00-06:00", "starts and ends at the same time"),
        (" , ", "at least one off-peak range"),
    ],
)
def test_off_peak_ranges_are_read_or_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_off_peak_ranges(text)


def test_off_peak_ranges_are_wall_clock_times() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        OffPeakRange(time(22, tzinfo=UTC), time(6))
    assert str(OffPeakRange.parse("2:00 - 7:30")) == "02:00-07:30"


def test_periods_know_their_colour_and_kind() -> None:
    assert Period.HC_RED.color is TempoColor.RED
    assert Period.HC_RED.is_off_peak
    assert Period.HC_RED.uncolored is Period.HC
    assert Period.HP.color is None
    assert not Period.BASE.is_off_peak
    assert Period.of(off_peak=False, color=TempoColor.WHITE) is Period.HP_WHITE


@pytest.mark.parametrize(
    ("text", "color"),
    [
        ("blue", TempoColor.BLUE),
        ("Bleu", TempoColor.BLUE),
        ("TEMPO_BLEU", TempoColor.BLUE),
        ("white", TempoColor.WHITE),
        ("Blanc", TempoColor.WHITE),
        ("rouge", TempoColor.RED),
        ("Jour ROUGE", TempoColor.RED),
        # The Linky's historic TIC field DEMAIN (Enedis-NOI-CPT_02E): four letters, or dashes.
        ("BLEU", TempoColor.BLUE),
        ("BLAN", TempoColor.WHITE),
        ("ROUG", TempoColor.RED),
        ("----", None),
        ("unknown", None),
        ("Indéterminé", None),
        ("unavailable", None),
        ("", None),
        ("blue or red", None),
        ("bluesky", None),
    ],
)
def test_a_tempo_colour_is_read_from_other_integrations_and_the_linky(
    text: str, color: TempoColor | None
) -> None:
    assert tempo_color_from_text(text) is color


def test_the_tempo_day_in_force_starts_at_six_whatever_the_tariff() -> None:
    assert tempo_day(paris(2026, 1, 16, 5, 59), PARIS) == date(2026, 1, 15)
    assert tempo_day(paris(2026, 1, 16, 6), PARIS) == date(2026, 1, 16)
    assert tempo_day(paris(2026, 3, 29, 5, 30), PARIS) == date(2026, 3, 28)  # spring change night


# --- the HP/HC reform: off-peak hours by season ---------------------------------------------

# A reform contract: 8 off-peak hours a day, in summer 5 at night and 3 in the afternoon.
REFORM = {"winter": "22:00-06:00", "summer": "01:00-06:00, 12:00-15:00"}


def test_summer_off_peak_hours_start_on_1_april_at_midnight() -> None:
    tariff = seasonal(**REFORM)
    assert tariff.period_at(paris(2026, 3, 31, 13)) is Period.HP
    assert tariff.period_at(paris(2026, 3, 31, 23, 30)) is Period.HC  # winter night
    assert tariff.period_at(paris(2026, 4, 1, 0, 30)) is Period.HP  # summer has no 00:00-01:00
    assert tariff.period_at(paris(2026, 4, 1, 1)) is Period.HC
    assert tariff.period_at(paris(2026, 4, 1, 13)) is Period.HC  # summer afternoon
    assert tariff.next_change(paris(2026, 3, 31, 23)) == paris(2026, 4, 1, 0)


def test_winter_off_peak_hours_return_on_1_november_at_midnight() -> None:
    tariff = seasonal(**REFORM)
    assert tariff.period_at(paris(2026, 10, 31, 13)) is Period.HC
    assert tariff.period_at(paris(2026, 10, 31, 23)) is Period.HP  # summer night starts at 01:00
    assert tariff.period_at(paris(2026, 11, 1, 0, 30)) is Period.HC
    assert tariff.period_at(paris(2026, 11, 1, 13)) is Period.HP
    assert tariff.next_change(paris(2026, 10, 31, 23)) == paris(2026, 11, 1, 0)


@pytest.mark.parametrize(
    ("day", "expected_hours"),
    [
        (date(2026, 3, 28), 8),
        (date(2026, 3, 29), 7),  # spring change (winter hours): 02:00-03:00 does not exist
        (date(2026, 3, 31), 8),
        (date(2026, 4, 1), 8),
        (date(2026, 10, 25), 9),  # autumn change (summer hours): 02:00-03:00 happens twice
        (date(2026, 10, 31), 8),
        (date(2026, 11, 1), 8),
    ],
)
def test_each_local_day_has_its_season_s_off_peak_hours(day: date, expected_hours: float) -> None:
    tariff = seasonal(**REFORM)
    start = datetime.combine(day, time(0), tzinfo=PARIS)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)
    assert off_peak_hours(tariff, start, end) == expected_hours


def test_the_calendar_across_the_spring_season_change() -> None:
    tariff = seasonal(**REFORM)
    spans = tariff.periods_between(paris(2026, 3, 31, 21), paris(2026, 4, 1, 16))
    assert [(s.start, s.period) for s in spans] == [
        (paris(2026, 3, 31, 21).astimezone(UTC), Period.HP),
        (paris(2026, 3, 31, 22).astimezone(UTC), Period.HC),
        (paris(2026, 4, 1, 0).astimezone(UTC), Period.HP),
        (paris(2026, 4, 1, 1).astimezone(UTC), Period.HC),
        (paris(2026, 4, 1, 6).astimezone(UTC), Period.HP),
        (paris(2026, 4, 1, 12).astimezone(UTC), Period.HC),
        (paris(2026, 4, 1, 15).astimezone(UTC), Period.HP),
    ]


def test_without_summer_hours_the_same_hours_serve_all_year(hphc: Tariff) -> None:
    assert hphc.off_peak_ranges_on(date(2026, 7, 1)) == hphc.off_peak_ranges_on(date(2026, 1, 1))
    assert hphc.period_at(paris(2026, 7, 1, 13)) is Period.HP
