"""Energy Edge's actions: Tempo colours, the contract limit, shedding, deferrable loads and
the Energy dashboard.

Registered once in `async_setup`, whatever entries are loaded. A load is chosen by its Home
Assistant device (Zigbee2MQTT's own, or the one Energy Edge made); the entry is the one whose
Zigbee2MQTT has that device. Refusals are `ServiceValidationError`s whose translation keys are
the engines' reasons (`SheddingError.reason`, `SchedulingError.reason`).
"""

from datetime import datetime, timedelta

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr, service
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio as vol

from zigbee2mqtt_protocol.discovery import ZIGBEE2MQTT_IDENTIFIER_PREFIX

from .const import DOMAIN, MAX_LIMIT_VA, MIN_LIMIT_VA, MQTT_DOMAIN
from .data import EnergyEdgeConfigEntry
from .energy_dashboard import async_configure_energy_dashboard
from .engines.scheduling import SchedulingError
from .engines.shedding import SheddingError
from .engines.tariff import TempoColor
from .load_control import is_switchable_load

SERVICE_SET_TEMPO_COLOR = "set_tempo_color"
SERVICE_SET_POWER_LIMIT = "set_power_limit"
SERVICE_SHED_LOAD = "shed_load"
SERVICE_RESTORE_LOADS = "restore_loads"
SERVICE_SCHEDULE_LOAD = "schedule_load"
SERVICE_CANCEL_SCHEDULE = "cancel_schedule"
SERVICE_CONFIGURE_ENERGY_DASHBOARD = "configure_energy_dashboard"

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_TODAY = "today"
ATTR_TOMORROW = "tomorrow"
ATTR_LIMIT_VA = "limit_va"
ATTR_DURATION = "duration"
ATTR_DEADLINE = "deadline"
ATTR_POWER_W = "power_w"

MAX_LOAD_POWER_W = 100_000.0

_COLOR = vol.All(cv.string, vol.Lower, vol.Coerce(TempoColor))

SET_TEMPO_COLOR_SCHEMA = vol.All(
    vol.Schema({vol.Optional(ATTR_TODAY): _COLOR, vol.Optional(ATTR_TOMORROW): _COLOR}),
    cv.has_at_least_one_key(ATTR_TODAY, ATTR_TOMORROW),
)
SET_POWER_LIMIT_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_LIMIT_VA): vol.All(
            vol.Coerce(float), vol.Range(min=MIN_LIMIT_VA, max=MAX_LIMIT_VA)
        ),
    }
)
LOAD_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
RESTORE_LOADS_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})
SCHEDULE_LOAD_SCHEMA = LOAD_SCHEMA.extend(
    {
        vol.Required(ATTR_DURATION): cv.positive_time_period,
        vol.Required(ATTR_DEADLINE): cv.datetime,
        vol.Optional(ATTR_POWER_W): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=MAX_LOAD_POWER_W)
        ),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action of Energy Edge."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_TEMPO_COLOR, _set_tempo_color, schema=SET_TEMPO_COLOR_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_POWER_LIMIT, _set_power_limit, schema=SET_POWER_LIMIT_SCHEMA
    )
    hass.services.async_register(DOMAIN, SERVICE_SHED_LOAD, _shed_load, schema=LOAD_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_RESTORE_LOADS, _restore_loads, schema=RESTORE_LOADS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SCHEDULE_LOAD,
        _schedule_load,
        schema=SCHEDULE_LOAD_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_SCHEDULE, _cancel_schedule, schema=LOAD_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CONFIGURE_ENERGY_DASHBOARD,
        _configure_energy_dashboard,
        schema=vol.Schema({}),
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _set_tempo_color(call: ServiceCall) -> None:
    """The colour of today's Tempo day and/or tomorrow's, for every entry."""
    for entry in _loaded_entries(call):
        entry.runtime_data.pricing.set_colors(
            today=call.data.get(ATTR_TODAY), tomorrow=call.data.get(ATTR_TOMORROW)
        )


async def _set_power_limit(call: ServiceCall) -> None:
    """The contract limit in VA, until changed again."""
    entry = _entry(call)
    entry.runtime_data.loads.set_contract_limit(call.data[ATTR_LIMIT_VA])


async def _shed_load(call: ServiceCall) -> None:
    """Shed one load now; it comes back by the usual rules."""
    entry, ieee, name = _load(call)
    try:
        entry.runtime_data.loads.shed_now(ieee)
    except SheddingError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.reason,
            translation_placeholders={"load": name},
        ) from err


async def _restore_loads(call: ServiceCall) -> None:
    """Bring back every load kept off (of one entry, or of all)."""
    entries = [_entry(call)] if ATTR_CONFIG_ENTRY_ID in call.data else _loaded_entries(call)
    for entry in entries:
        entry.runtime_data.loads.restore_all()


async def _schedule_load(call: ServiceCall) -> ServiceResponse:
    """Plan a run in the cheapest window before the deadline; answer with the window."""
    entry, ieee, name = _load(call)
    planner = entry.runtime_data.planner
    duration: timedelta = call.data[ATTR_DURATION]
    deadline = dt_util.as_utc(call.data[ATTR_DEADLINE])  # a time without zone is local
    power_w = call.data.get(ATTR_POWER_W, planner.expected_power_w(ieee))
    if power_w is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="power_unknown",
            translation_placeholders={"load": name},
        )
    try:
        run = await planner.async_plan(ieee, duration=duration, deadline=deadline, power_w=power_w)
    except SchedulingError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.reason,
            translation_placeholders={
                "load": name,
                "duration": str(duration),
                "deadline": _local(deadline),
                "power": f"{power_w:.0f}",
                "limit": f"{entry.runtime_data.loads.engine.settings.contract_limit_va:.0f}",
            },
        ) from err
    return {
        "load": name,
        "start": _local(run.start),
        "end": _local(run.end),
        "power_w": run.power_w,
        "expected_cost": round(run.expected_cost, 4),
        "currency": call.hass.config.currency,
        "prices_assumed": run.prices_assumed,
    }


async def _cancel_schedule(call: ServiceCall) -> None:
    """Cancel a load's planned run (switching it off if under way)."""
    entry, ieee, name = _load(call)
    if not entry.runtime_data.planner.cancel(ieee):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="no_schedule",
            translation_placeholders={"load": name},
        )


async def _configure_energy_dashboard(call: ServiceCall) -> ServiceResponse:
    """Add the grid meter and metered devices to the Energy dashboard, with the upstream
    devices chosen in the options; answer with what was added or changed (nothing when
    everything is there already)."""
    merged = await async_configure_energy_dashboard(
        call.hass,
        [(entry.runtime_data.hub, entry.runtime_data.store) for entry in _loaded_entries(call)],
    )
    return {
        "grid_added": merged.grid_added,
        "devices_added": list[JsonValueType](merged.devices_added),
        "upstreams_added": list[JsonValueType](merged.upstreams_added),
        "upstreams_changed": list[JsonValueType](merged.upstreams_changed),
        "upstreams_removed": list[JsonValueType](merged.upstreams_removed),
    }


def _loaded_entries(call: ServiceCall) -> list[EnergyEdgeConfigEntry]:
    """Every loaded entry; an action that would act on none is refused, not silently done."""
    entries: list[EnergyEdgeConfigEntry] = call.hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return entries


def _entry(call: ServiceCall) -> EnergyEdgeConfigEntry:
    """The entry named in the call, or the only one loaded."""
    entry: EnergyEdgeConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    return entry


def _load(call: ServiceCall) -> tuple[EnergyEdgeConfigEntry, str, str]:
    """The entry, IEEE address and name of the switchable load a device stands for."""
    device_id: str = call.data[ATTR_DEVICE_ID]
    device = dr.async_get(call.hass).async_get(device_id)
    if device is not None:
        ieees = {
            identifier.removeprefix(ZIGBEE2MQTT_IDENTIFIER_PREFIX)
            for domain, identifier in device.identifiers
            if domain in (MQTT_DOMAIN, DOMAIN)
        }
        entry: EnergyEdgeConfigEntry
        for entry in call.hass.config_entries.async_loaded_entries(DOMAIN):
            for ieee in ieees:
                found = entry.runtime_data.hub.device(ieee)
                if found is not None and is_switchable_load(found):
                    return entry, ieee, found.friendly_name
    name = (device.name_by_user or device.name) if device else None
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_load",
        translation_placeholders={"load": name or device_id},
    )


def _local(instant: datetime) -> str:
    """An instant as local ISO 8601, as automations and the UI show time."""
    return dt_util.as_local(instant).isoformat()
