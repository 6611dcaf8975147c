"""The Linky's tariff period against the configured off-peak hours: a disagreement that lasts more
than a day is reported, glitches and boundary minutes are not, a day in agreement lifts it."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from custom_components.energy_edge.engines.off_peak_check import OffPeakCheck, meter_says_off_peak
from custom_components.energy_edge.engines.tariff import Tariff, parse_off_peak_ranges

from .conftest import PARIS, paris

MINUTE = timedelta(minutes=1)


def hphc(winter: str, summer: str | None = None) -> Tariff:
    return Tariff.hphc(
        hp_price_per_kwh=0.2,
        hc_price_per_kwh=0.1,
        subscription_per_month=0,
        time_zone=PARIS,
        off_peak_ranges=parse_off_peak_ranges(winter),
        summer_off_peak_ranges=parse_off_peak_ranges(summer) if summer else (),
    )


def linky(hours: Tariff, start: datetime, end: datetime) -> Iterator[tuple[datetime, str]]:
    """A historic-mode Linky read once a minute: its PTEC by the hours Enedis set for it."""
    at = start
    while at < end:
        yield at, "HC.." if hours.period_at(at).is_off_peak else "HP.."
        at += MINUTE


def raised_at(check: OffPeakCheck, readings: Iterator[tuple[datetime, str]]) -> datetime | None:
    """When the check first reports a disagreement (None: never)."""
    for at, text in readings:
        if check.observe(at, text) and check.raised:
            return at
    return None


@pytest.mark.parametrize(
    ("text", "off_peak"),
    [
        # Historic TIC PTEC (Enedis-NOI-CPT_02E): TH.. base, HC../HP.., Tempo HCJB..HPJR, EJP.
        ("HC..", True),
        ("HP..", False),
        ("HCJB", True),
        ("HPJR", False),
        ("TH..", None),
        ("HN..", None),
        # Standard TIC LTARF: the supplier's label of the index in force.
        ("HEURES CREUSES", True),
        ("HEURE PLEINE", False),
        ("HC BLEU", True),
        ("HP ROUGE", False),
        ("BASE", None),
        ("", None),
    ],
)
def test_the_meter_s_period_is_read_from_its_text(text: str, off_peak: bool | None) -> None:
    assert meter_says_off_peak(text) is off_peak


def test_a_meter_that_follows_the_hours_is_never_reported_across_both_dst_changes() -> None:
    hours = hphc("22:00-06:00", "01:00-06:00, 12:00-15:00")
    for start in (paris(2026, 3, 27), paris(2026, 10, 23)):  # DST, then 1 April / 1 November
        check = OffPeakCheck(hours)
        assert raised_at(check, linky(hours, start, start + timedelta(days=10))) is None


def test_hours_an_hour_off_are_reported_once_they_disagreed_for_more_than_a_day() -> None:
    configured, meter = hphc("22:00-06:00"), hphc("23:00-07:00")
    check = OffPeakCheck(configured)
    start = paris(2026, 1, 12, 12)
    # First disagreement on the 12th at 22:05 (the 5 minutes by the boundary are not judged).
    assert raised_at(check, linky(meter, start, paris(2026, 1, 13, 22, 5))) is None
    assert raised_at(check, linky(meter, paris(2026, 1, 13, 22, 5), start + timedelta(days=3))) == (
        paris(2026, 1, 13, 22, 6)
    )
    seen = check.last_disagreement
    assert seen is not None
    assert (seen.meter_period, seen.meter_off_peak) == ("HP..", False)


def test_a_meter_still_on_winter_hours_in_april_is_reported() -> None:
    configured = hphc("22:00-06:00", "01:00-06:00, 12:00-15:00")
    meter = hphc("22:00-06:00")
    check = OffPeakCheck(configured)
    assert raised_at(check, linky(meter, paris(2026, 3, 30), paris(2026, 4, 1))) is None
    assert raised_at(check, linky(meter, paris(2026, 4, 1), paris(2026, 4, 3))) is not None


def test_a_glitch_is_forgotten_after_a_day_in_agreement() -> None:
    hours = hphc("22:00-06:00")
    check = OffPeakCheck(hours)
    for day in range(1, 8):  # a wrong reading at noon every other day
        for at, text in linky(hours, paris(2026, 1, day), paris(2026, 1, day + 1)):
            wrong = day % 2 and at == paris(2026, 1, day, 12)
            assert not check.observe(at, "HC.." if wrong else text)
    assert not check.raised


def test_a_meter_a_few_minutes_late_is_not_reported() -> None:
    configured = hphc("22:00-06:00")
    late_meter = hphc("22:04-06:04")
    check = OffPeakCheck(configured)
    assert raised_at(check, linky(late_meter, paris(2026, 1, 1), paris(2026, 1, 5))) is None


def test_the_report_is_lifted_after_a_whole_day_in_agreement() -> None:
    """As after a restart with the issue still up, once the meter and the hours agree."""
    hours = hphc("22:00-06:00")
    check = OffPeakCheck(hours, raised=True)
    lifted = None
    for at, text in linky(hours, paris(2026, 1, 1, 12), paris(2026, 1, 3)):
        if check.observe(at, text):
            lifted = at
    assert not check.raised
    assert lifted == paris(2026, 1, 2, 12)


def test_readings_without_a_period_change_nothing() -> None:
    check = OffPeakCheck(hphc("22:00-06:00"), raised=True)
    for at, _ in linky(hphc("22:00-06:00"), paris(2026, 1, 1), paris(2026, 1, 4)):
        assert not check.observe(at, "TH..")
    assert check.raised


def test_a_base_tariff_has_nothing_to_check() -> None:
    base = Tariff.base(price_per_kwh=0.2, subscription_per_month=0, time_zone=PARIS)
    with pytest.raises(ValueError, match="no off-peak hours"):
        OffPeakCheck(base)
