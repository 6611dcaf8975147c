"""Tariffs as a French household has them (EDF regulated prices, 2025), in Paris time."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.energy_edge.engines.tariff import Period, Tariff

PARIS = ZoneInfo("Europe/Paris")

TEMPO_PRICES = {
    Period.HP_BLUE: 0.1552,
    Period.HC_BLUE: 0.1288,
    Period.HP_WHITE: 0.1792,
    Period.HC_WHITE: 0.1447,
    Period.HP_RED: 0.6586,
    Period.HC_RED: 0.1518,
}


def paris(*parts: int, fold: int = 0) -> datetime:
    """A wall-clock time in Paris; `fold=1` is the second 02:xx of the autumn change."""
    return datetime(*parts, tzinfo=PARIS, fold=fold)


@pytest.fixture
def base() -> Tariff:
    """Tarif bleu, option base."""
    return Tariff.base(price_per_kwh=0.1952, subscription_per_month=15.65, time_zone=PARIS)


@pytest.fixture
def hphc() -> Tariff:
    """Option heures creuses, off-peak 22:00-06:00."""
    return Tariff.hphc(
        hp_price_per_kwh=0.2081,
        hc_price_per_kwh=0.1635,
        subscription_per_month=16.11,
        time_zone=PARIS,
    )


@pytest.fixture
def tempo() -> Tariff:
    """Option Tempo."""
    return Tariff.tempo(prices_per_kwh=TEMPO_PRICES, subscription_per_month=16.0, time_zone=PARIS)
