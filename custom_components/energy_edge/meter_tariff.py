"""What the Linky says about the tariff: tomorrow's Tempo colour, and the off-peak hours.

- A historic-mode ZLinky on a Tempo contract reports tomorrow's colour (TIC `DEMAIN`, Z2M's
  `tomorrow_color`: `BLEU`, `BLAN`, `ROUG`, or `----` while unknown). Like the tomorrow entity it
  colours the next Tempo day (06:00 to 06:00). Readings in the first minutes of a Tempo day are
  skipped: they may still carry the colour of the day that just began.
- Every ZLinky reports the tariff period in force (historic `PTEC`, standard `LTARF`; Z2M's
  `active_register_tier_delivered` / `current_price`). It is compared with the configured off-peak
  hours (`off_peak_check`): while they keep disagreeing, a repair issue shows both. The issue is
  lifted after a whole day in agreement, or at start when the user changed the hours since.
"""

from datetime import datetime
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN
from .engines.off_peak_check import BOUNDARY_TOLERANCE, OffPeakCheck
from .engines.tariff import (
    TariffKind,
    format_off_peak_ranges,
    tempo_color_from_text,
    tempo_day,
)
from .hub import DeviceUpdate, EnergyEdgeHub
from .pricing import Pricing

_LOGGER = logging.getLogger(__package__)

TOMORROW_COLOR = "tomorrow_color"
# Z2M writes the ZLinky's tariff period to both (historic PTEC, standard LTARF).
PERIOD_PROPERTIES = ("active_register_tier_delivered", "current_price")


class MeterTariffWatch:
    """Reads the grid meter's tariff fields (a ZLinky's) as they arrive."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, hub: EnergyEdgeHub, pricing: Pricing
    ) -> None:
        """Nothing is read before `async_start`."""
        self.hass = hass
        self._hub = hub
        self._pricing = pricing
        tariff = pricing.tariff
        self.check = None if tariff.kind is TariffKind.BASE else OffPeakCheck(tariff)
        self._issue_id = f"off_peak_mismatch_{entry.entry_id}"
        self._hours = {
            "winter": format_off_peak_ranges(tariff.off_peak_ranges),
            "summer": format_off_peak_ranges(
                tariff.summer_off_peak_ranges or tariff.off_peak_ranges
            ),
        }
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @callback
    def async_start(self) -> None:
        """Follow the grid meter; an issue raised for the same hours before a restart stays."""
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self._issue_id)
        if issue is not None:
            placeholders = issue.translation_placeholders or {}
            same_hours = all(placeholders.get(key) == hours for key, hours in self._hours.items())
            if self.check is not None and same_hours:
                self.check.raised = True
            else:
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        self._unsubscribe.append(self._hub.async_add_reading_listener(self._on_reading))

    @callback
    def async_stop(self) -> None:
        """Stop reading."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    @callback
    def _on_reading(self, update: DeviceUpdate) -> None:
        device = update.device
        status = self._hub.status(device.ieee)
        if device.ieee != self._hub.catalog.grid_meter or not device.is_zlinky or status is None:
            return
        state = status.last_state or {}
        now = self._pricing.now()
        color_text = state.get(TOMORROW_COLOR)
        if self._pricing.tariff.kind is TariffKind.TEMPO and isinstance(color_text, str):
            self._read_tomorrow(now, color_text)
        period = next(
            (text for key in PERIOD_PROPERTIES if isinstance(text := state.get(key), str)), None
        )
        if self.check is not None and period is not None and self.check.observe(now, period):
            self._update_issue(device.friendly_name, self.check)

    @callback
    def _read_tomorrow(self, now: datetime, text: str) -> None:
        zone = self._pricing.tariff.time_zone
        if tempo_day(now - BOUNDARY_TOLERANCE, zone) != tempo_day(now, zone):
            return  # the meter may not have moved to the new day yet
        color = tempo_color_from_text(text)
        if color is None:
            _LOGGER.debug("The Linky gives no colour for tomorrow yet (%r)", text)
            return
        self._pricing.set_colors(tomorrow=color)

    @callback
    def _update_issue(self, meter: str, check: OffPeakCheck) -> None:
        seen = check.last_disagreement
        if not check.raised or seen is None:
            _LOGGER.info("The Linky's tariff periods agree with the off-peak hours again")
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
            return
        _LOGGER.warning(
            "The Linky %s reports %s at %s, against the configured off-peak hours",
            meter,
            seen.meter_period,
            seen.at,
        )
        local = seen.at.astimezone(self._pricing.tariff.time_zone)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="off_peak_mismatch",
            translation_placeholders={
                "meter": meter,
                "meter_period": seen.meter_period,
                "at": f"{local:%Y-%m-%d %H:%M}",
                **self._hours,
            },
        )
