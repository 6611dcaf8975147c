"""The messages Zigbee2MQTT publishes: device states, `bridge/info`, `bridge/devices`, events."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
import hashlib

from .devices import MAINS, Coordinator, Device, DeviceModel, LinkyMode
from .discovery import Z2M_VERSION
from .household import MeterReading, PlugReading
from .tariff import TariffPeriod
from .z2mjson import JsonObject, JsonValue

HERDSMAN_VERSION = "4.5.1"
CONVERTERS_VERSION = "26.105.0"
PLUG_IDLE_TEMPERATURE_C = 31.0


def plug_values(model: DeviceModel, reading: PlugReading) -> JsonObject:
    """What a plug reports: relay state and measurements, rounded as the device rounds them."""
    precision = model.precision
    properties = set(model.properties())
    values: JsonObject = {"state": "ON" if reading.on else "OFF"}
    measured: dict[str, tuple[float, int]] = {
        "power": (reading.power_w, precision.power),
        "current": (reading.current_a, precision.current),
        "voltage": (reading.voltage_v, precision.voltage),
        "energy": (reading.energy_kwh, precision.energy),
    }
    for prop, (value, decimals) in measured.items():
        if prop in properties:
            values[prop] = round(value, decimals)
    if "device_temperature" in properties:
        values["device_temperature"] = round(PLUG_IDLE_TEMPERATURE_C + reading.power_w / 250)
    if "consumer_connected" in properties:
        values["consumer_connected"] = True
    return values


@dataclass(frozen=True)
class LinkyIdentity:
    """Serial number (ADSC/ADCO) and delivery point (PRM) of the meter, stable for an address."""

    serial: str
    delivery_point: str

    @classmethod
    def for_device(cls, device: Device) -> LinkyIdentity:
        """Numbers derived from the ZLinky's address."""
        digits = str(int(hashlib.sha256(device.ieee_address.encode()).hexdigest(), 16))
        return cls(serial="0216" + digits[:8], delivery_point="0" + digits[8:21])


def _status_register(meter: MeterReading, producer: bool) -> tuple[str, JsonObject]:
    """STGE: the Linky's status word, and the breakout the ZLinky converter adds."""
    tier = 0 if meter.tariff_period is TariffPeriod.OFF_PEAK else 1
    exporting = meter.active_power_w < 0
    word = (
        (int(meter.overloaded) << 7)
        | (int(producer) << 8)
        | (int(exporting) << 9)
        | (tier << 10)
        | (tier << 14)
        | (1 << 17)  # standard TIC
        | (3 << 19)  # Euridis output on, secured
        | (2 << 21)  # powerline registered
        | (1 << 23)  # powerline synchronised
    )
    breakout: JsonObject = {
        "cache_borne_dist": "ferme",
        "comm_euridis": "activee avec securite",
        "contact_sec": "ferme",
        "depassement_ref_pow": int(meter.overloaded),
        "etat_cpl": "enregistre",
        "horloge": "correcte",
        "organe_coupure": "ferme",
        "pointe_mobile": "AUCUN",
        "preavis_pointe_mobile": "AUCUN",
        "producteur": int(producer),
        "sens_energie_active": "negative" if exporting else "positive",
        "surtension_phase": 0,
        "sync_cpl": "synchronise",
        "tarif_dist": f"index_{tier + 1}",
        "tarif_four": f"index_{tier + 1}",
        "tempo_demain": "UNDEF",
        "tempo_jour": "UNDEF",
        "type_tic": "standard",
    }
    return f"{word:08X}", breakout


def _linky_date(moment: datetime) -> str:
    """The TIC's time stamp: season (H winter, E summer) then YYMMDDhhmmss."""
    season = "E" if moment.dst() else "H"
    return season + moment.strftime("%y%m%d%H%M%S")


def linky_values(
    mode: LinkyMode,
    meter: MeterReading,
    identity: LinkyIdentity,
    moment: datetime,
    *,
    kwh_decimals: int,
    producer: bool = False,
) -> JsonObject:
    """What the ZLinky reports from the Linky's customer port, in standard or historic mode."""
    off_peak = meter.tariff_period is TariffPeriod.OFF_PEAK

    def kwh(wh: float) -> float:
        return round(wh / 1000, kwh_decimals)

    current = round(meter.current_a)
    if mode is LinkyMode.HISTORIC:
        subscribed_a = round(meter.contract_va / 200)
        return {
            "active_register_tier_delivered": "HC.." if off_peak else "HP..",
            "apparent_power": min(99999, round(meter.apparent_power_va / 10) * 10),
            "available_power": subscribed_a,
            "current_summ_delivered": kwh(meter.import_wh),
            "current_tarif": "HC..",
            "current_tier1_summ_delivered": kwh(meter.off_peak_import_wh),
            "current_tier2_summ_delivered": kwh(meter.peak_import_wh),
            "meter_serial_number": identity.serial,
            "MOTDETAT": "000000",
            "rms_current": current,
            "rms_current_max": 90,
            "warn_d_p_s": current if current > subscribed_a else 0,
        }
    register, breakout = _status_register(meter, producer)
    relay = int(off_peak)  # relay 1 drives the water heater's off-peak contact
    values: JsonObject = {
        "active_energy_out_d01": kwh(meter.off_peak_import_wh),
        "active_energy_out_d02": kwh(meter.peak_import_wh),
        "active_power": round(meter.load_curve_w),
        "active_power_max": round(meter.max_apparent_power_today_va),
        "active_power_ph_b": round(meter.previous_load_curve_w),
        "apparent_power": round(meter.apparent_power_va),
        "available_power": round(meter.contract_va / 1000),
        "average_rms_voltage_meas_period": round(meter.voltage_v),
        "current_date": _linky_date(moment),
        "current_index_tarif": 1 if off_peak else 2,
        "current_price": "HEURE CREUSE" if off_peak else "HEURE PLEINE",
        "current_summ_delivered": kwh(meter.import_wh),
        "current_tarif": "H PLEINE/CREUSE",
        "current_tier1_summ_delivered": kwh(meter.off_peak_import_wh),
        "current_tier2_summ_delivered": kwh(meter.peak_import_wh),
        "drawn_v_a_max_n1": round(meter.max_apparent_power_yesterday_va),
        "message1": "PAS DE MESSAGE",
        "meter_serial_number": identity.serial,
        "power_threshold": round(meter.contract_va / 1000),
        "relais": relay,
        "relais_breakout": {f"relais{index}": relay if index == 1 else 0 for index in range(1, 9)},
        "rms_current": current,
        "rms_voltage": round(meter.voltage_v),
        "site_id": identity.delivery_point,
        "software_revision": 2,
        "status_register": register,
        "status_register_breakout": breakout,
    }
    if producer:
        values["current_summ_received"] = kwh(meter.export_wh)
        values["injected_v_a"] = round(meter.injected_apparent_power_va)
    return values


def last_seen(moment: datetime) -> str:
    """`last_seen` as Zigbee2MQTT's ISO_8601 setting writes it (UTC, milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bridge_state(online: bool) -> JsonObject:
    """`bridge/state` (and the last will)."""
    return {"state": "online" if online else "offline"}


def bridge_info(
    coordinator: Coordinator,
    *,
    base_topic: str,
    discovery_prefix: str,
    ha_discovery: bool,
    availability: bool,
    last_seen: bool = False,
    permit_join: bool = False,
) -> JsonObject:
    """`bridge/info`: versions, coordinator, network and the settings clients rely on."""
    return {
        "commit": "7a1c2b3",
        "config": {
            "advanced": {
                "cache_state": True,
                "cache_state_send_on_startup": True,
                "last_seen": "ISO_8601" if last_seen else "disable",
                "log_level": "info",
                "output": "json",
            },
            "availability": {"enabled": availability},
            "homeassistant": {
                "discovery_topic": discovery_prefix,
                "enabled": ha_discovery,
                "experimental_event_entities": False,
                "legacy_action_sensor": False,
                "status_topic": "homeassistant/status",
            },
            "mqtt": {
                "base_topic": base_topic,
                "force_disable_retain": False,
                "include_device_information": False,
            },
        },
        "coordinator": {
            "ieee_address": coordinator.ieee_address,
            "meta": {"revision": coordinator.revision},
            "type": coordinator.type,
        },
        "log_level": "info",
        "network": {"channel": 15, "extended_pan_id": "0xdddddddddddddddd", "pan_id": 6754},
        "permit_join": permit_join,
        "permit_join_end": None,
        "restart_required": False,
        "version": Z2M_VERSION,
        "zigbee_herdsman": {"version": HERDSMAN_VERSION},
        "zigbee_herdsman_converters": {"version": CONVERTERS_VERSION},
    }


def _endpoint(
    inputs: Iterable[str], outputs: Iterable[str], coordinator: Coordinator
) -> JsonObject:
    bindings: list[JsonValue] = [
        {
            "cluster": cluster,
            "target": {"endpoint": 1, "ieee_address": coordinator.ieee_address, "type": "endpoint"},
        }
        for cluster in inputs
        if cluster in {"genOnOff", "haElectricalMeasurement", "seMetering"}
    ]
    return {
        "bindings": bindings,
        "clusters": {"input": list(inputs), "output": list(outputs)},
        "configured_reportings": [],
        "scenes": [],
    }


def device_entry(device: Device, coordinator: Coordinator) -> JsonObject:
    """One paired device in `bridge/devices`."""
    model = device.model
    entry: JsonObject = {
        "definition": model.definition(),
        "disabled": False,
        "endpoints": {"1": _endpoint(model.input_clusters, model.output_clusters, coordinator)},
        "friendly_name": device.friendly_name,
        "ieee_address": device.ieee_address,
        "interview_completed": True,
        "interview_state": "SUCCESSFUL",
        "interviewing": False,
        "manufacturer": model.manufacturer_name,
        "model_id": model.zigbee_model,
        "network_address": device.network_address,
        "power_source": MAINS,
        "supported": True,
        "type": "Router",
    }
    if model.software_build_id is not None:
        entry["software_build_id"] = model.software_build_id
    if model.date_code is not None:
        entry["date_code"] = model.date_code
    return entry


def bridge_devices(coordinator: Coordinator, devices: Iterable[Device]) -> list[JsonValue]:
    """`bridge/devices`: the coordinator (no definition) then every paired device."""
    coordinator_entry: JsonObject = {
        "disabled": False,
        "endpoints": {"1": _endpoint((), (), coordinator)},
        "friendly_name": "Coordinator",
        "ieee_address": coordinator.ieee_address,
        "interview_completed": True,
        "interview_state": "SUCCESSFUL",
        "interviewing": False,
        "network_address": 0,
        "supported": True,
        "type": "Coordinator",
    }
    return [coordinator_entry, *(device_entry(device, coordinator) for device in devices)]


def bridge_event(kind: str, device: Device, **extra: JsonValue) -> JsonObject:
    """`bridge/event`: device_joined, device_interview, device_announce, device_leave."""
    return {
        "data": {
            "friendly_name": device.friendly_name,
            "ieee_address": device.ieee_address,
            **extra,
        },
        "type": kind,
    }


def interview_successful(device: Device) -> JsonObject:
    """The `device_interview` event that ends a successful pairing."""
    return bridge_event(
        "device_interview",
        device,
        status="successful",
        supported=True,
        definition=device.model.definition(),
    )
