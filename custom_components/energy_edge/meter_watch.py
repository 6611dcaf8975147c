"""The grid meter's silence: a repair issue while it says nothing, lifted when it speaks.

While the meter is silent, the home's power falls back to the sum of the devices (the protocol
library's rule) and shedding acts on the plugs' estimate.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
import logging

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from zigbee2mqtt_protocol.home import METER_SILENCE_S, meter_silent

from .const import DOMAIN, METER_WATCH_INTERVAL_S

_LOGGER = logging.getLogger(__package__)


@dataclass(frozen=True, slots=True)
class WatchedMeter:
    """The grid meter as the watch sees it."""

    name: str
    last_heard: float | None  # when its last state message came (seconds), if ever


class MeterWatch:
    """Watches the grid meter every minute; `on_change()` when it falls silent or speaks again."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        meter: Callable[[], WatchedMeter | None],
        on_change: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        """Nothing watched before `async_start`; `meter()` is None without a grid meter, or
        while Zigbee2MQTT itself is offline (its devices' silence is not theirs)."""
        self.hass = hass
        self.silent = False
        self.clock = clock
        self._issue_id = f"meter_silent_{entry_id}"
        self._meter = meter
        self._on_change = on_change
        self._listening_since = 0.0
        self._unsubscribe: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> None:
        """Start watching: the meter has its full delay to speak from now."""
        self.listen_again()
        self._unsubscribe = async_track_time_interval(
            self.hass,
            self.check,
            timedelta(seconds=METER_WATCH_INTERVAL_S),
            name="energy_edge meter watch",
        )

    @callback
    def async_stop(self) -> None:
        """Stop watching."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def listen_again(self) -> None:
        """Zigbee2MQTT is back (or Energy Edge starts): the meter gets its full delay again."""
        self._listening_since = self.clock()

    @callback
    def heard(self) -> None:
        """The meter spoke: lift the issue at once."""
        if self.silent:
            self._set_silent(False, None)

    @callback
    def check(self, _now: object = None) -> None:
        """Raise the repair issue when the meter has been silent too long (lift it otherwise)."""
        meter = self._meter()
        if meter is None:
            return
        silent = meter_silent(meter.last_heard, self._listening_since, self.clock())
        if silent != self.silent:
            self._set_silent(silent, meter.name)

    @callback
    def _set_silent(self, silent: bool, name: str | None) -> None:
        self.silent = silent
        if silent:
            _LOGGER.warning("The grid meter %s has not reported for a while", name)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="meter_silent",
                translation_placeholders={
                    "meter": name or "",
                    "minutes": str(round(METER_SILENCE_S / 60)),
                },
            )
        else:
            _LOGGER.info("The grid meter reports again")
            ir.async_delete_issue(self.hass, DOMAIN, self._issue_id)
        self._on_change()
