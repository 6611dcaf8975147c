"""The entry's options turned into the engines' settings: the tariff and the shedding settings.

Pure module (no Home Assistant import). Options are stored flat in the config entry; any option
not set takes its default here, so an entry made before an option existed keeps working.
Default prices are EDF's regulated prices of 2025 (tarif bleu, taxes included): prices per kWh
are the same for every contract size, so they make a sensible start; the subscription depends on
the contract's kVA, so it starts at 0 until the user enters the one on the bill.
"""

from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from .const import (
    CONF_CONTRACT_LIMIT,
    CONF_MIN_OFF_TIME,
    CONF_OFF_PEAK_RANGES,
    CONF_RESTORE_DELAY,
    CONF_RESTORE_THRESHOLD,
    CONF_RUNNING_THRESHOLD,
    CONF_SHED_DELAY,
    CONF_SHED_THRESHOLD,
    CONF_SUBSCRIPTION,
    CONF_TARIFF,
)
from .shedding import SheddingSettings
from .tariff import (
    DEFAULT_OFF_PEAK,
    TEMPO_COLORED_PERIODS,
    Period,
    Tariff,
    TariffKind,
    parse_off_peak_ranges,
)

DEFAULT_CONTRACT_LIMIT_VA = 6000.0
"""Without a limit set by the user or reported by the Linky (PREF/ISOUSC): a common 6 kVA."""

DEFAULT_PRICES: Mapping[Period, float] = MappingProxyType(
    {
        Period.BASE: 0.1952,
        Period.HP: 0.2081,
        Period.HC: 0.1635,
        Period.HP_BLUE: 0.1552,
        Period.HC_BLUE: 0.1288,
        Period.HP_WHITE: 0.1792,
        Period.HC_WHITE: 0.1447,
        Period.HP_RED: 0.6586,
        Period.HC_RED: 0.1518,
    }
)
DEFAULT_OFF_PEAK_TEXT = ", ".join(str(r) for r in DEFAULT_OFF_PEAK)
DEFAULTS = SheddingSettings()

PERIODS_OF: Mapping[TariffKind, tuple[Period, ...]] = MappingProxyType(
    {
        TariffKind.BASE: (Period.BASE,),
        TariffKind.HPHC: (Period.HP, Period.HC),
        TariffKind.TEMPO: tuple(p for p in Period if p in TEMPO_COLORED_PERIODS),
    }
)


def price_key(period: Period) -> str:
    """The option holding a period's price per kWh (`hc_price`, `hp_red_price`)."""
    return f"{period}_price"


def tariff_kind(options: Mapping[str, Any]) -> TariffKind:
    """The tariff option (base by default)."""
    return TariffKind(options.get(CONF_TARIFF, TariffKind.BASE))


def tariff_from_options(options: Mapping[str, Any], time_zone: ZoneInfo) -> Tariff:
    """The tariff the options describe; a `ValueError` names what is wrong."""
    kind = tariff_kind(options)
    prices = {
        period: float(options.get(price_key(period), DEFAULT_PRICES[period]))
        for period in PERIODS_OF[kind]
    }
    subscription = float(options.get(CONF_SUBSCRIPTION, 0.0))
    if kind is TariffKind.BASE:
        return Tariff.base(
            price_per_kwh=prices[Period.BASE],
            subscription_per_month=subscription,
            time_zone=time_zone,
        )
    if kind is TariffKind.HPHC:
        return Tariff.hphc(
            hp_price_per_kwh=prices[Period.HP],
            hc_price_per_kwh=prices[Period.HC],
            subscription_per_month=subscription,
            time_zone=time_zone,
            off_peak_ranges=parse_off_peak_ranges(
                options.get(CONF_OFF_PEAK_RANGES, DEFAULT_OFF_PEAK_TEXT)
            ),
        )
    return Tariff.tempo(
        prices_per_kwh=prices, subscription_per_month=subscription, time_zone=time_zone
    )


def contract_limit_va(
    options: Mapping[str, Any],
    reference_power_va: float | None,
    cutoff_power_va: float | None = None,
) -> float:
    """The limit the user set, else the meter's reference power (PREF/ISOUSC), else 6 kVA;
    never above the meter's cut-off power (PCOUP) when it reports one: the meter cuts there."""
    chosen = float(options.get(CONF_CONTRACT_LIMIT) or 0.0)
    if chosen > 0:
        limit = chosen
    elif reference_power_va is not None and reference_power_va > 0:
        limit = reference_power_va
    else:
        limit = DEFAULT_CONTRACT_LIMIT_VA
    if cutoff_power_va is not None and cutoff_power_va > 0:
        return min(limit, cutoff_power_va)
    return limit


def shedding_settings(
    options: Mapping[str, Any],
    reference_power_va: float | None = None,
    cutoff_power_va: float | None = None,
) -> SheddingSettings:
    """The shedding settings the options describe; a `ValueError` names what is wrong."""
    return SheddingSettings(
        contract_limit_va=contract_limit_va(options, reference_power_va, cutoff_power_va),
        shed_threshold_pct=float(options.get(CONF_SHED_THRESHOLD, DEFAULTS.shed_threshold_pct)),
        shed_delay=timedelta(
            seconds=float(options.get(CONF_SHED_DELAY, DEFAULTS.shed_delay.total_seconds()))
        ),
        restore_threshold_pct=float(
            options.get(CONF_RESTORE_THRESHOLD, DEFAULTS.restore_threshold_pct)
        ),
        restore_delay=timedelta(
            seconds=float(options.get(CONF_RESTORE_DELAY, DEFAULTS.restore_delay.total_seconds()))
        ),
        min_off_time=timedelta(
            minutes=float(
                options.get(CONF_MIN_OFF_TIME, DEFAULTS.min_off_time.total_seconds() / 60)
            )
        ),
        running_threshold_w=float(
            options.get(CONF_RUNNING_THRESHOLD, DEFAULTS.running_threshold_w)
        ),
    )
