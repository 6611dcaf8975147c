"""The tariff in Home Assistant: the period and price in force, and the Tempo colours.

The period changes at known instants (`Tariff.next_change`): one timer at the next change, never
a polling timer. Tempo colours come from the service `energy_edge.set_tempo_color` or from the
entities the user picked (one for today's colour, one for tomorrow's), read at start and whenever
their state changes; "today" is the Tempo day in force (06:00 to 06:00). Colours are stored, so
costs waiting for a colour survive a restart.
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from .const import CONF_TEMPO_TODAY_ENTITY, CONF_TEMPO_TOMORROW_ENTITY
from .engines.tariff import (
    Period,
    Tariff,
    TariffKind,
    TempoColor,
    TempoColors,
    tempo_color_from_text,
    tempo_day,
)
from .lifecycle import Lifecycle
from .storage import ManagementStore

_LOGGER = logging.getLogger(__package__)


class Pricing:
    """The tariff and its Tempo colours; listeners hear when the period, price or colours change."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        store: ManagementStore,
        tariff: Tariff,
        now: Callable[[], datetime],
    ) -> None:
        """Nothing is tracked before `async_start`."""
        self.hass = hass
        self.tariff = tariff
        self.now = now
        self._store = store
        self._color_entities = {
            0: entry.options.get(CONF_TEMPO_TODAY_ENTITY) or None,
            1: entry.options.get(CONF_TEMPO_TOMORROW_ENTITY) or None,
        }
        self._lifecycle = Lifecycle(hass)

    @property
    def colors(self) -> TempoColors:
        """The known Tempo colours, by the date each Tempo day starts."""
        return self._store.state.tempo_colors

    @property
    def period(self) -> Period:
        """The period in force (uncoloured `hp`/`hc` while the Tempo colour is unknown)."""
        return self.tariff.period_at(self.now(), self.colors)

    @property
    def price(self) -> float | None:
        """The price per kWh in force, None while the Tempo colour is unknown."""
        return self.tariff.price_at(self.now(), self.colors)

    @callback
    def async_start(self) -> None:
        """Follow the colour entities (for Tempo) and the tariff's calendar."""
        if self.tariff.kind is TariffKind.TEMPO:
            for offset, entity_id in self._color_entities.items():
                if entity_id is None:
                    continue
                self._lifecycle.follow(
                    async_track_state_change_event(
                        self.hass, entity_id, partial(self._on_color_entity, offset)
                    )
                )
            self._read_color_entities()
        self._schedule_next_change()

    @callback
    def async_stop(self) -> None:
        """Stop the timer and the entity tracking."""
        self._lifecycle.async_stop()

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` when the period, the price or the colours change."""
        return self._lifecycle.async_add_listener(listener)

    @callback
    def set_colors(
        self, *, today: TempoColor | None = None, tomorrow: TempoColor | None = None
    ) -> None:
        """Set the colour of the Tempo day in force and/or of the next one."""
        day = tempo_day(self.now(), self.tariff.time_zone)
        changed = False
        for offset, color in ((0, today), (1, tomorrow)):
            if color is not None:
                changed |= self._set_color(day + timedelta(days=offset), color)
        if changed:
            self._store.prune_tempo_colors(day)
            self._store.save()
            self._lifecycle.notify()

    def _set_color(self, day: date, color: TempoColor) -> bool:
        if self.colors.get(day) is color:
            return False
        _LOGGER.info("Tempo day %s is %s", day, color)
        self._store.state.tempo_colors[day] = color
        return True

    @callback
    def _on_color_entity(self, offset: int, event: Event[EventStateChangedData]) -> None:
        state = event.data["new_state"]
        if state is not None:
            self._apply_color_text(offset, state.state)

    @callback
    def _read_color_entities(self) -> None:
        for offset, entity_id in self._color_entities.items():
            state = self.hass.states.get(entity_id) if entity_id else None
            if state is not None:
                self._apply_color_text(offset, state.state)

    @callback
    def _apply_color_text(self, offset: int, text: str) -> None:
        color = tempo_color_from_text(text)
        if color is None:
            _LOGGER.debug("No Tempo colour in %r (day +%d): colour left as it was", text, offset)
            return
        self.set_colors(**{"tomorrow" if offset else "today": color})

    @callback
    def _schedule_next_change(self) -> None:
        now = self.now()
        delay = (self.tariff.next_change(now) - now).total_seconds()
        self._lifecycle.call_later(delay, self._on_change)

    @callback
    def _on_change(self) -> None:
        """A period or a tariff day starts (the colour entities are read when they change, not
        now: a stale "today" must not colour the day that just began)."""
        self._schedule_next_change()
        self._lifecycle.notify()
