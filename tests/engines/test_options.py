"""The entry's options become the engines' settings; anything not set takes its default."""

from datetime import timedelta

import pytest

from custom_components.energy_edge.engines.options import (
    contract_limit_va,
    shedding_settings,
    tariff_from_options,
)
from custom_components.energy_edge.engines.regulated import REGULATED
from custom_components.energy_edge.engines.tariff import Period, TariffKind

from .conftest import PARIS, paris

# The regulated tariff (TRV, tarif bleu résidentiel) in force from 1 August 2026, EUR TTC/kWh,
# as the regulator's grid gives it.
BASE_UP_TO_6_KVA, BASE_FROM_9_KVA = 0.2001, 0.1985
HP, HC = 0.2142, 0.1589
TEMPO_2026 = {
    Period.HP_BLUE: 0.1654,
    Period.HC_BLUE: 0.1356,
    Period.HP_WHITE: 0.1921,
    Period.HC_WHITE: 0.1536,
    Period.HP_RED: 0.7295,
    Period.HC_RED: 0.1615,
}
JANUARY_NOON, JANUARY_NIGHT = paris(2026, 1, 15, 12), paris(2026, 1, 15, 23)


def test_no_options_mean_base_at_the_regulated_price_of_6_kva_and_no_subscription() -> None:
    tariff = tariff_from_options({}, PARIS)
    assert tariff.kind is TariffKind.BASE
    assert tariff.price_at(JANUARY_NOON) == BASE_UP_TO_6_KVA
    assert tariff.subscription_per_month == 0


@pytest.mark.parametrize(
    ("kva", "price"),
    [(3, BASE_UP_TO_6_KVA), (6, BASE_UP_TO_6_KVA), (9, BASE_FROM_9_KVA), (36, BASE_FROM_9_KVA)],
)
def test_the_regulated_base_price_depends_on_the_subscribed_power(kva: int, price: float) -> None:
    tariff = tariff_from_options({"subscribed_kva": kva}, PARIS)
    assert tariff.price_at(JANUARY_NOON) == price


def test_regulated_off_peak_and_tempo_prices_are_the_2026_grid_s() -> None:
    hphc = tariff_from_options({"tariff": "hphc", "subscribed_kva": 9}, PARIS)
    assert (hphc.price_at(JANUARY_NOON), hphc.price_at(JANUARY_NIGHT)) == (HP, HC)
    tempo = tariff_from_options({"tariff": "tempo", "price_source": "regulated"}, PARIS)
    assert dict(tempo.prices_per_kwh) == TEMPO_2026


def test_the_regulated_grid_says_when_it_applies_from_and_where_it_comes_from() -> None:
    assert REGULATED.applies_from.isoformat() == "2026-08-01"
    assert "CRE" in REGULATED.source


def test_regulated_prices_ignore_prices_saved_before() -> None:
    options = {"price_source": "regulated", "base_price": 0.25, "subscribed_kva": 12}
    assert tariff_from_options(options, PARIS).price_at(JANUARY_NOON) == BASE_FROM_9_KVA


def test_own_prices_are_kept_and_unset_ones_start_from_the_regulated_grid() -> None:
    tariff = tariff_from_options(
        {
            "tariff": "hphc",
            "price_source": "own",
            "hc_price": 0.1,
            "off_peak_ranges": "01:00-07:00",
        },
        PARIS,
    )
    assert tariff.price_at(paris(2026, 1, 15, 0, 30)) == HP
    assert tariff.price_at(paris(2026, 1, 15, 6, 30)) == 0.1
    tempo = tariff_from_options(
        {"tariff": "tempo", "price_source": "own", "hp_red_price": 0.9}, PARIS
    )
    assert tempo.prices_per_kwh[Period.HP_RED] == 0.9
    assert tempo.prices_per_kwh[Period.HC_BLUE] == TEMPO_2026[Period.HC_BLUE]


def test_an_entry_from_before_the_choice_keeps_the_prices_it_saved() -> None:
    """Its prices were the user's (or 2025's defaults, saved as the user's): never replaced."""
    options = {"tariff": "hphc", "hp_price": 0.2081, "hc_price": 0.1635}
    tariff = tariff_from_options(options, PARIS)
    assert (tariff.price_at(JANUARY_NOON), tariff.price_at(JANUARY_NIGHT)) == (0.2081, 0.1635)


def test_one_off_peak_option_from_before_the_seasons_serves_all_year() -> None:
    tariff = tariff_from_options({"tariff": "hphc", "off_peak_ranges": "01:00-07:00"}, PARIS)
    for month in (1, 7):
        assert tariff.period_at(paris(2026, month, 15, 6, 30)) is Period.HC
        assert tariff.period_at(paris(2026, month, 15, 0, 30)) is Period.HP


def test_each_season_has_its_own_off_peak_hours() -> None:
    options = {
        "tariff": "hphc",
        "off_peak_ranges": "22:00-06:00",  # left over from before the seasons: replaced
        "off_peak_ranges_winter": "23:00-07:00",
        "off_peak_ranges_summer": "01:00-06:00, 12:00-15:00",
    }
    tariff = tariff_from_options(options, PARIS)
    assert tariff.period_at(paris(2026, 1, 15, 22, 30)) is Period.HP
    assert tariff.period_at(paris(2026, 1, 15, 6, 30)) is Period.HC
    assert tariff.period_at(paris(2026, 7, 15, 13)) is Period.HC
    assert tariff.period_at(paris(2026, 7, 15, 6, 30)) is Period.HP


@pytest.mark.parametrize(
    "options",
    [
        {"tariff": "weekend"},
        {"tariff": "hphc", "off_peak_ranges": "night"},
        {
            "tariff": "hphc",
            "off_peak_ranges_summer": "01:00-02:00, 03:00-04:00, 05:00-06:00, 13:00-14:00",
        },
        {"subscribed_kva": 7},
        {"base_price": -0.1},
        {"subscription_per_month": float("nan")},
    ],
)
def test_options_that_cannot_make_a_tariff_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each names its own problem)
        tariff_from_options(options, PARIS)


def test_the_contract_limit_is_the_user_s_else_the_meter_s_else_six_kva() -> None:
    assert contract_limit_va({"contract_limit_va": 9000}, 6000.0) == 9000
    assert contract_limit_va({"contract_limit_va": 0}, 9000.0) == 9000
    assert contract_limit_va({}, None) == 6000  # docs/configuration.md: "else 6000 VA"
    assert contract_limit_va({}, 0.0) == 6000


def test_the_limit_never_exceeds_the_meter_s_cut_off_power() -> None:
    """The Linky cuts at PCOUP: a limit above it would shed too late, whoever chose it."""
    assert contract_limit_va({}, 9000.0, 6000.0) == 6000
    assert contract_limit_va({"contract_limit_va": 12000}, 9000.0, 6000.0) == 6000
    assert contract_limit_va({"contract_limit_va": 5000}, 9000.0, 6000.0) == 5000
    assert contract_limit_va({}, None, 3000.0) == 3000
    assert contract_limit_va({}, 9000.0, None) == 9000
    assert shedding_settings({}, 9000.0, 6000.0).contract_limit_va == 6000


def test_shedding_options_in_the_user_s_units() -> None:
    settings = shedding_settings(
        {"shed_delay_s": 5, "restore_delay_s": 90, "min_off_time_min": 10, "shed_threshold_pct": 95}
    )
    assert settings.shed_delay == timedelta(seconds=5)
    assert settings.restore_delay == timedelta(seconds=90)
    assert settings.min_off_time == timedelta(minutes=10)
    assert settings.shed_threshold_pct == 95
    assert shedding_settings({}) == shedding_settings({}, None)


def test_a_restore_threshold_above_the_shed_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="restore threshold"):
        shedding_settings({"restore_threshold_pct": 100, "shed_threshold_pct": 90})
