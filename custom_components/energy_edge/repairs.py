"""Fixes for Energy Edge's repair issues: "no load managed" opens the Loads form."""

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .loads_form import LoadsForm

if TYPE_CHECKING:
    from .data import EnergyEdgeConfigEntry


class ManageLoadsFlow(RepairsFlow):
    """The Loads form, as in the options: ticking a load (or more) fixes the issue."""

    def __init__(self, entry_id: str) -> None:
        """For the loads of one entry."""
        self._entry_id = entry_id
        self._form: LoadsForm | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> RepairsFlowResult:
        """Show the loads; store the user's choices."""
        entry: EnergyEdgeConfigEntry | None = self.hass.config_entries.async_get_entry(
            self._entry_id
        )
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        if user_input is not None and self._form is not None:
            self._form.apply(user_input)
            return self.async_create_entry(data={})
        self._form = LoadsForm.of(entry.runtime_data.loads)
        return self.async_show_form(step_id="init", data_schema=self._form.schema())


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """The flow fixing one of Energy Edge's issues."""
    return ManageLoadsFlow(str((data or {}).get("entry_id")))  # the only fixable issue
