"""The Upstream devices form: for each metered device, the metered device upstream that measures
it too (a plug on a circuit a DIN-rail meter measures), for Home Assistant's Energy dashboard.

A step of the options flow. Fields are keyed by the devices' Zigbee2MQTT friendly names (unique
within a Zigbee2MQTT), which the form shows as labels; the choices are kept in the entry's
options by IEEE address, so a renamed device keeps its upstream. A device can be upstream of
any other, as in Home Assistant's own energy settings, but never of itself through others.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from .engines.devices import EnergyDevice, is_individual_device
from .engines.energy_preferences import makes_a_loop

NO_UPSTREAM = "none"
UPSTREAM_SELECTOR = "upstream_device"


@dataclass(frozen=True, slots=True)
class UpstreamForm:
    """The metered devices as the form shows them: IEEE address by friendly name, sorted."""

    ieee_of: dict[str, str]
    chosen: dict[str, str]
    """The upstream chosen so far: device IEEE -> upstream IEEE."""

    @classmethod
    def of(cls, devices: list[EnergyDevice], chosen: Mapping[str, str]) -> UpstreamForm | None:
        """The form for these devices, None when fewer than two could be nested."""
        parts = sorted(filter(is_individual_device, devices), key=lambda d: d.friendly_name)
        if len(parts) < 2:
            return None
        return cls({device.friendly_name: device.ieee for device in parts}, dict(chosen))

    def schema(self) -> vol.Schema:
        """One choice per device: none, or one of the other devices."""
        fields: dict[vol.Marker, Any] = {}
        for name, ieee in self.ieee_of.items():
            upstream = self.chosen.get(ieee)
            fields[
                vol.Required(
                    name, default=upstream if upstream in self.ieee_of.values() else NO_UPSTREAM
                )
            ] = SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=NO_UPSTREAM, label=NO_UPSTREAM),
                        *(
                            SelectOptionDict(value=other_ieee, label=other)
                            for other, other_ieee in self.ieee_of.items()
                            if other_ieee != ieee
                        ),
                    ],
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key=UPSTREAM_SELECTOR,
                )
            )
        return vol.Schema(fields)

    def chosen_from(self, user_input: Mapping[str, Any]) -> tuple[dict[str, str], str | None]:
        """The upstream devices the answers give (those of devices not shown are kept), and
        the name of a device that would end up behind itself (None when there is none)."""
        chosen = {ieee: up for ieee, up in self.chosen.items() if ieee not in self.ieee_of.values()}
        for name, ieee in self.ieee_of.items():
            upstream = user_input.get(name, NO_UPSTREAM)
            if upstream == NO_UPSTREAM:
                continue
            if makes_a_loop(chosen, ieee, upstream):
                return chosen, name
            chosen[ieee] = upstream
        return chosen, None
