"""The Loads form: every switchable load, whether Energy Edge manages it and its priority.

Shown as a step of the options flow and as the fix of the "no load managed" repair issue. The
answers go to the load controller, the same storage as each load's managed switch and priority
select, so those entities follow at once. Priorities are keyed by the load's Zigbee2MQTT
friendly name (unique within a Zigbee2MQTT), which the form shows as the field's label.
"""

from dataclasses import dataclass
from typing import Any

from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio as vol

from .engines.shedding import Priority
from .load_control import LoadController, is_switchable_load

MANAGED_LOADS = "managed_loads"
PRIORITY_SELECTOR = "load_priority"


@dataclass(frozen=True, slots=True)
class LoadsForm:
    """The loads as the form shows them: IEEE address by friendly name, sorted by name."""

    loads: LoadController
    ieee_of: dict[str, str]

    @classmethod
    def of(cls, loads: LoadController) -> LoadsForm:
        """The switchable loads Energy Edge knows now."""
        devices = sorted(
            (d for d in loads.hub.catalog.energy_devices() if is_switchable_load(d)),
            key=lambda device: device.friendly_name,
        )
        return cls(loads, {device.friendly_name: device.ieee for device in devices})

    def schema(self) -> vol.Schema:
        """Which loads are managed (ticked), then one priority per load."""
        settings = {ieee: self.loads.setting(ieee) for ieee in self.ieee_of.values()}
        fields: dict[vol.Marker, Any] = {
            vol.Optional(
                MANAGED_LOADS,
                default=[ieee for ieee, setting in settings.items() if setting.managed],
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=ieee, label=name)
                        for name, ieee in self.ieee_of.items()
                    ],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
        for name, ieee in self.ieee_of.items():
            fields[vol.Required(name, default=settings[ieee].priority.value)] = SelectSelector(
                SelectSelectorConfig(
                    options=[priority.value for priority in Priority],
                    mode=SelectSelectorMode.DROPDOWN,
                    translation_key=PRIORITY_SELECTOR,
                )
            )
        return vol.Schema(fields)

    def apply(self, user_input: dict[str, Any]) -> None:
        """Store what the user chose; the entities and the shedding engine follow at once."""
        managed = set(user_input.get(MANAGED_LOADS, []))
        for name, ieee in self.ieee_of.items():
            priority = user_input.get(name)
            self.loads.set_load(
                ieee,
                managed=ieee in managed,
                priority=None if priority is None else Priority(priority),
            )
