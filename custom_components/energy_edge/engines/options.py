"""The entry's options turned into the engines' settings: the tariff and the shedding settings.

Pure module (no Home Assistant import). Options are stored flat in the config entry; any option
not set takes its default here, so an entry made before an option existed keeps working.

Prices are either the regulated tariff's (`regulated`, the default: see `regulated`; the Base
price depends on the subscribed kVA) or the user's own (`own`): prices the user entered are kept
whatever the defaults of a later version. An entry from before this choice that saved prices keeps
them as its own. The subscription is always the user's (the figure on the bill), 0 until entered.
Off-peak hours are given per season (summer: 1 April to 31 October); an entry from before the
seasons keeps its one `off_peak_ranges` for both.
"""

from collections.abc import Mapping
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

from .regulated import DEFAULT_SUBSCRIBED_KVA, REGULATED
from .shedding import DEFAULT_CONTRACT_LIMIT_VA, SheddingSettings
from .tariff import (
    DEFAULT_OFF_PEAK,
    TEMPO_COLORED_PERIODS,
    Period,
    Tariff,
    TariffKind,
    format_off_peak_ranges,
    parse_off_peak_ranges,
)

# The options' keys (prices per kWh are keyed `<period>_price`, e.g. `hc_price`, `hp_red_price`).
CONF_TARIFF: Final = "tariff"
CONF_PRICE_SOURCE: Final = "price_source"  # regulated prices, or the user's own
CONF_SUBSCRIBED_KVA: Final = "subscribed_kva"
CONF_OFF_PEAK_WINTER: Final = "off_peak_ranges_winter"
CONF_OFF_PEAK_SUMMER: Final = "off_peak_ranges_summer"
CONF_OFF_PEAK_RANGES: Final = "off_peak_ranges"  # before seasons: the same hours all year
CONF_SUBSCRIPTION: Final = "subscription_per_month"
CONF_CONTRACT_LIMIT: Final = "contract_limit_va"  # 0: from the meter (PREF/ISOUSC), else default
CONF_SHED_THRESHOLD: Final = "shed_threshold_pct"
CONF_SHED_DELAY: Final = "shed_delay_s"
CONF_RESTORE_THRESHOLD: Final = "restore_threshold_pct"
CONF_RESTORE_DELAY: Final = "restore_delay_s"
CONF_MIN_OFF_TIME: Final = "min_off_time_min"
CONF_RUNNING_THRESHOLD: Final = "running_threshold_w"
# For the Energy dashboard: device IEEE -> IEEE of the metered device upstream that measures it too.
CONF_UPSTREAM_DEVICES: Final = "upstream_devices"

DEFAULT_OFF_PEAK_TEXT = format_off_peak_ranges(DEFAULT_OFF_PEAK)
DEFAULTS = SheddingSettings()

PERIODS_OF: Mapping[TariffKind, tuple[Period, ...]] = MappingProxyType(
    {
        TariffKind.BASE: (Period.BASE,),
        TariffKind.HPHC: (Period.HP, Period.HC),
        TariffKind.TEMPO: tuple(p for p in Period if p in TEMPO_COLORED_PERIODS),
    }
)


class PriceSource(StrEnum):
    """Where the prices per kWh come from."""

    REGULATED = "regulated"
    OWN = "own"


def price_key(period: Period) -> str:
    """The option holding a period's price per kWh (`hc_price`, `hp_red_price`)."""
    return f"{period}_price"


def price_source(options: Mapping[str, Any]) -> PriceSource:
    """The price source chosen; before the choice existed, saved prices are the user's own."""
    if chosen := options.get(CONF_PRICE_SOURCE):
        return PriceSource(chosen)
    if any(price_key(period) in options for period in Period):
        return PriceSource.OWN
    return PriceSource.REGULATED


def subscribed_kva(options: Mapping[str, Any]) -> int:
    """The contract's subscribed power (kVA), 6 unless set."""
    return int(options.get(CONF_SUBSCRIBED_KVA, DEFAULT_SUBSCRIBED_KVA))


def default_prices(options: Mapping[str, Any]) -> Mapping[Period, float]:
    """The regulated prices for the contract's subscribed power."""
    return REGULATED.prices_for(subscribed_kva(options))


def prices_from_options(options: Mapping[str, Any]) -> dict[Period, float]:
    """The prices of the chosen tariff: regulated, or the user's own (regulated where unset)."""
    defaults = default_prices(options)
    own = price_source(options) is PriceSource.OWN
    return {
        period: float(options.get(price_key(period), defaults[period]) if own else defaults[period])
        for period in PERIODS_OF[tariff_kind(options)]
    }


def off_peak_texts(options: Mapping[str, Any]) -> tuple[str, str]:
    """The winter and summer off-peak hours as written in the options (before the seasons
    existed, one `off_peak_ranges` served all year)."""
    all_year = options.get(CONF_OFF_PEAK_RANGES, DEFAULT_OFF_PEAK_TEXT)
    winter = options.get(CONF_OFF_PEAK_WINTER, all_year)
    return winter, options.get(CONF_OFF_PEAK_SUMMER, winter)


def upstream_devices(options: Mapping[str, Any]) -> dict[str, str]:
    """Each metered device's upstream device, by IEEE address (none chosen by default)."""
    return dict(options.get(CONF_UPSTREAM_DEVICES, {}))


def tariff_kind(options: Mapping[str, Any]) -> TariffKind:
    """The tariff option (base by default)."""
    return TariffKind(options.get(CONF_TARIFF, TariffKind.BASE))


def tariff_from_options(options: Mapping[str, Any], time_zone: ZoneInfo) -> Tariff:
    """The tariff the options describe; a `ValueError` names what is wrong."""
    kind = tariff_kind(options)
    prices = prices_from_options(options)
    subscription = float(options.get(CONF_SUBSCRIPTION, 0.0))
    if kind is TariffKind.BASE:
        return Tariff.base(
            price_per_kwh=prices[Period.BASE],
            subscription_per_month=subscription,
            time_zone=time_zone,
        )
    if kind is TariffKind.HPHC:
        winter, summer = off_peak_texts(options)
        return Tariff.hphc(
            hp_price_per_kwh=prices[Period.HP],
            hc_price_per_kwh=prices[Period.HC],
            subscription_per_month=subscription,
            time_zone=time_zone,
            off_peak_ranges=parse_off_peak_ranges(winter),
            summer_off_peak_ranges=parse_off_peak_ranges(summer),
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
