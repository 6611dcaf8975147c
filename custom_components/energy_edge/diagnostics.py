"""Diagnostics: what Energy Edge knows, what it refused and why (personal data redacted);
the tariff in force, shedding's state, the planned runs and the home's usual load."""

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from zigbee2mqtt_protocol.errors import IDENTITY_PROPERTIES

from .data import EnergyEdgeConfigEntry

# Excerpts of refused payloads are redacted where they are made (`RejectedInputError`).
TO_REDACT = IDENTITY_PROPERTIES


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyEdgeConfigEntry
) -> dict[str, Any]:
    """Everything needed to understand what Energy Edge made of a Zigbee2MQTT network."""
    hub = entry.runtime_data.hub
    now = hub.clock()
    devices = []
    for device in hub.catalog:
        status = hub.status(device.ieee)
        devices.append(
            {
                "ieee": device.ieee,
                "friendly_name": device.friendly_name,
                "model": device.description.model,
                "model_id": device.description.model_id,
                "manufacturer": device.description.manufacturer,
                "role": device.role,
                "present": device.present,
                "available": hub.device_available(device.ieee),
                "sources": {
                    "discovery_configs": len(device.discovered),
                    "bridge_devices": device.in_bridge_list,
                },
                "plan": asdict(device.plan),
                "reading": None
                if status is None
                else {
                    "power_w": status.power_w,
                    "apparent_power_va": status.apparent_power_va,
                    "reference_power_va": status.reference_power_va,
                    "cutoff_power_va": status.cutoff_power_va,
                    "switch_on": status.switch_on,
                    "seconds_since_last_message": None
                    if status.last_seen is None
                    else round(now - status.last_seen, 1),
                    "unknown_properties": sorted(status.meter.unknown_properties),
                    "last_state": status.last_state,
                },
            }
        )
    data = entry.runtime_data
    pricing = data.pricing
    shedding = data.loads.status()
    settings = data.loads.engine.settings
    return async_redact_data(
        {
            "entry": {"data": dict(entry.data), "options": dict(entry.options)},
            "tariff": {
                "kind": pricing.tariff.kind,
                "period": pricing.period,
                "price_per_kwh": pricing.price,
                "tempo_colors": {day.isoformat(): color for day, color in pricing.colors.items()},
                "meter_disagrees_with_off_peak_hours": None
                if (check := data.meter_tariff.check) is None
                else {
                    "raised": check.raised,
                    "last_disagreement": None
                    if check.last_disagreement is None
                    else asdict(check.last_disagreement),
                },
            },
            "shedding": {
                "contract_limit_va": settings.contract_limit_va,
                "shed_threshold_va": settings.shed_threshold_va,
                "restore_threshold_va": settings.restore_threshold_va,
                "running_threshold_w": settings.running_threshold_w,
                "measured_va": shedding.measured_va,
                "meter_va": None if shedding.estimate is None else shedding.estimate.meter_va,
                "measured_from": data.loads.estimate_source(),
                "overloaded": shedding.overloaded,
                "meter_silent": shedding.meter_silent,
                "loads": [asdict(load) for load in shedding.loads],
            },
            "planned_runs": [
                {**item.run.to_dict(), "started": item.started}
                for item in data.store.state.runs.values()
            ],
            "usual_load": data.usual_load.profile.summary(),
            "bridge_online": hub.bridge_online,
            "grid_meter": hub.catalog.grid_meter,
            "meter_silent": hub.meter_silent,
            "home": hub.home._asdict(),
            "bad_input": dict(hub.bad_input),
            "last_bad_input": hub.last_bad_input,
            "devices": devices,
        },
        TO_REDACT,
    )
