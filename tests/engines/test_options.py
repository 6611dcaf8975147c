"""The entry's options become the engines' settings; anything not set takes its default."""

from datetime import timedelta

import pytest

from custom_components.energy_edge.options import (
    DEFAULT_CONTRACT_LIMIT_VA,
    DEFAULT_PRICES,
    contract_limit_va,
    shedding_settings,
    tariff_from_options,
)
from custom_components.energy_edge.tariff import Period, TariffKind

from .conftest import PARIS, paris


def test_no_options_mean_base_at_the_regulated_price_and_no_subscription() -> None:
    tariff = tariff_from_options({}, PARIS)
    assert tariff.kind is TariffKind.BASE
    assert tariff.price_at(paris(2026, 1, 15, 12)) == DEFAULT_PRICES[Period.BASE]
    assert tariff.subscription_per_month == 0


def test_off_peak_options_give_their_prices_and_hours() -> None:
    tariff = tariff_from_options(
        {"tariff": "hphc", "hc_price": 0.1, "off_peak_ranges": "01:00-07:00"}, PARIS
    )
    assert tariff.price_at(paris(2026, 1, 15, 0, 30)) == DEFAULT_PRICES[Period.HP]
    assert tariff.price_at(paris(2026, 1, 15, 6, 30)) == 0.1


def test_tempo_options_give_six_prices() -> None:
    tariff = tariff_from_options({"tariff": "tempo", "hp_red_price": 0.9}, PARIS)
    assert tariff.prices_per_kwh[Period.HP_RED] == 0.9
    assert tariff.prices_per_kwh[Period.HC_BLUE] == DEFAULT_PRICES[Period.HC_BLUE]


@pytest.mark.parametrize(
    "options",
    [
        {"tariff": "weekend"},
        {"tariff": "hphc", "off_peak_ranges": "night"},
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
    assert contract_limit_va({}, None) == DEFAULT_CONTRACT_LIMIT_VA
    assert contract_limit_va({}, 0.0) == DEFAULT_CONTRACT_LIMIT_VA


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
