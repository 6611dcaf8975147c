"""What a Home Assistant side part (pricing, load control, the planner) keeps while it runs.

Listeners told of its changes; what it follows (the callbacks that undo subscriptions); its
timers, at most one per key (the part's own, or one per load). `async_stop` cancels the timers and
undoes what is followed; the listeners are the entities', and they remove themselves.
"""

from collections.abc import Callable, Hashable
from functools import partial

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later


class Lifecycle:
    """Listeners, followed subscriptions and timers of one part, undone together."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Nothing followed, no timer."""
        self.hass = hass
        self._listeners: list[CALLBACK_TYPE] = []
        self._followed: list[CALLBACK_TYPE] = []
        self._timers: dict[Hashable, CALLBACK_TYPE] = {}

    @callback
    def async_add_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` at every `notify`; the callable returned removes it."""
        self._listeners.append(listener)
        return partial(self._listeners.remove, listener)

    @callback
    def notify(self) -> None:
        """Tell every listener (one may remove itself meanwhile)."""
        for listener in list(self._listeners):
            listener()

    @callback
    def follow(self, *unsubscribe: CALLBACK_TYPE) -> None:
        """Keep what undoes a subscription, for `async_stop`."""
        self._followed.extend(unsubscribe)

    @callback
    def call_later(self, delay_s: float, action: Callable[[], None], key: Hashable = None) -> None:
        """Call `action` in `delay_s` seconds (at once if negative), replacing `key`'s timer."""
        self.cancel(key)
        self._timers[key] = async_call_later(
            self.hass, max(delay_s, 0.0), partial(self._fire, key, action)
        )

    def has_timer(self, key: Hashable = None) -> bool:
        """Whether `key`'s timer is set and has not fired."""
        return key in self._timers

    @callback
    def cancel(self, key: Hashable = None) -> None:
        """Cancel `key`'s timer, if set."""
        if (cancel := self._timers.pop(key, None)) is not None:
            cancel()

    @callback
    def async_stop(self) -> None:
        """Cancel every timer and undo what is followed."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()
        for unsubscribe in self._followed:
            unsubscribe()
        self._followed.clear()

    @callback
    def _fire(self, key: Hashable, action: Callable[[], None], _now: object) -> None:
        del self._timers[key]
        action()
