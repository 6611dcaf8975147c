"""The Zigbee devices the simulator impersonates, defined as zigbee-herdsman-converters does.

Each `DeviceModel` carries what Zigbee2MQTT publishes about a model (definition, exposes, firmware,
clusters) and how the real device behaves on the air (reporting cadence, number precision).
"""

from dataclasses import dataclass
from enum import StrEnum
import hashlib

from .exposes import (
    ACCESS_ALL,
    ACCESS_SET,
    ACCESS_STATE,
    Expose,
    binary,
    current,
    energy,
    enum,
    identify,
    linkquality,
    numeric,
    power,
    switch,
    voltage,
)
from .z2mjson import JsonObject

ACCESS_STATE_GET = ACCESS_STATE | 0b100
ACCESS_STATE_SET = ACCESS_STATE | ACCESS_SET
MAINS = "Mains (single phase)"


@dataclass(frozen=True)
class ReportingPolicy:
    """When a device reports: on a large enough change, never faster than `min_interval_s`, and at
    least every `max_interval_s` (simulated seconds)."""

    min_interval_s: float
    max_interval_s: float
    min_change_w: float = 0.0
    min_change_ratio: float = 0.0

    def due(self, since_last_s: float, reported_w: float | None, power_w: float) -> bool:
        """Whether a device that reported `reported_w` `since_last_s` ago reports `power_w` now."""
        if reported_w is None or since_last_s >= self.max_interval_s:
            return True
        if since_last_s < self.min_interval_s:
            return False
        change = abs(power_w - reported_w)
        return change > 0 and change >= max(
            self.min_change_w, self.min_change_ratio * abs(reported_w)
        )


@dataclass(frozen=True)
class Precision:
    """Decimals of the numbers a device publishes."""

    power: int = 1
    current: int = 2
    voltage: int = 1
    energy: int = 2


@dataclass(frozen=True)
class DeviceModel:
    """A device model as Zigbee2MQTT knows it."""

    model: str
    vendor: str
    description: str
    exposes: tuple[Expose, ...]
    supports_ota: bool
    zigbee_model: str  # the model identifier the device reports (modelID)
    manufacturer_name: str
    ieee_prefix: str  # the vendor's OUI, so addresses look like theirs
    reporting: ReportingPolicy
    precision: Precision = Precision()
    software_build_id: str | None = None
    hardware_version: int | None = None
    date_code: str | None = None
    input_clusters: tuple[str, ...] = ("genBasic", "genIdentify", "genOnOff")
    output_clusters: tuple[str, ...] = ("genOta",)

    def definition(self) -> JsonObject:
        """The `definition` block of `bridge/devices`."""
        return {
            "description": self.description,
            "exposes": [expose.to_json() for expose in self.exposes],
            "model": self.model,
            "options": [],
            "source": "native",
            "supports_ota": self.supports_ota,
            "vendor": self.vendor,
        }

    def properties(self) -> tuple[str, ...]:
        """Every property its state message can carry (including the null ones)."""
        return tuple(
            leaf.property for expose in self.exposes for leaf in expose.leaves() if leaf.property
        )

    def expose_for(self, prop: str) -> Expose | None:
        """The expose (or composite feature) of a property."""
        for expose in self.exposes:
            for leaf in expose.leaves():
                if leaf.property == prop:
                    return leaf
        return None


@dataclass(frozen=True)
class Device:
    """One paired device: a model under a friendly name at an IEEE address."""

    friendly_name: str
    ieee_address: str
    model: DeviceModel
    network_address: int

    @classmethod
    def named(cls, friendly_name: str, model: DeviceModel) -> Device:
        """A device whose address is derived from its name: stable across runs and seeds."""
        digest = hashlib.sha256(f"{model.model}/{friendly_name}".encode()).hexdigest()
        suffix_length = 18 - len(model.ieee_prefix)
        return cls(
            friendly_name=friendly_name,
            ieee_address=model.ieee_prefix + digest[:suffix_length],
            model=model,
            network_address=int(digest[-4:], 16) % 0xFFF7 + 1,
        )

    @property
    def is_meter(self) -> bool:
        """The ZLinky on the Linky's customer port."""
        return self.model.model == ZLINKY_MODEL


PLUG_REPORTING = ReportingPolicy(
    min_interval_s=5, max_interval_s=60, min_change_w=2, min_change_ratio=0.05
)
METERING_CLUSTERS = ("genBasic", "genIdentify", "genOnOff", "haElectricalMeasurement", "seMetering")

TUYA_TS011F = DeviceModel(
    model="TS011F_plug_1",
    vendor="Tuya",
    description="Smart plug (with power monitoring)",
    exposes=(
        switch(),
        numeric(
            "countdown",
            ACCESS_STATE_SET,
            unit="s",
            description="Toggle the device after a set duration (one time action)",
            value_min=0,
            value_max=43200,
            value_step=1,
        ),
        enum(
            "power_outage_memory",
            ACCESS_ALL,
            ["on", "off", "restore"],
            description="Recover state after power outage",
            category="config",
        ),
        enum(
            "switch_type_button",
            ACCESS_ALL,
            ["release", "press"],
            description="Determines when the button actuates",
            category="config",
        ),
        enum(
            "indicator_mode",
            ACCESS_ALL,
            ["off", "off/on", "on/off", "on"],
            description="LED indicator mode",
            category="config",
        ),
        power(),
        current(),
        voltage(),
        energy(),
        binary(
            "child_lock",
            ACCESS_STATE_SET,
            "LOCK",
            "UNLOCK",
            description="Enables/disables physical input on the device",
        ),
        identify(),
        linkquality(),
    ),
    supports_ota=True,
    zigbee_model="TS011F",
    manufacturer_name="_TZ3000_okaz9tjs",
    ieee_prefix="0xa4c138",
    reporting=PLUG_REPORTING,
    precision=Precision(power=1, current=2, voltage=1, energy=2),
    input_clusters=(*METERING_CLUSTERS, "manuSpecificTuya_3"),
    date_code="",
)

IKEA_INSPELNING = DeviceModel(
    model="E22xx",
    vendor="IKEA",
    description="INSPELNING smart plug",
    exposes=(
        switch(),
        enum(
            "power_on_behavior",
            ACCESS_ALL,
            ["off", "on", "toggle", "previous"],
            label="Power-on behavior",
            description="Controls the behavior when the device is powered on after power loss",
            category="config",
        ),
        binary(
            "child_lock",
            ACCESS_ALL,
            "LOCK",
            "UNLOCK",
            description="Enables/disables physical input on the device.",
            category="config",
        ),
        binary(
            "led_enable",
            ACCESS_ALL,
            "TRUE",
            "FALSE",
            description="Enables/disables the led on the device.",
            category="config",
        ),
        identify(),
        power(ACCESS_STATE_GET),
        voltage(ACCESS_STATE_GET, diagnostic=True),
        current(ACCESS_STATE_GET),
        energy(ACCESS_STATE_GET),
        linkquality(),
    ),
    supports_ota=True,
    zigbee_model="INSPELNING Smart plug",
    manufacturer_name="IKEA of Sweden",
    ieee_prefix="0x0c4314fffe",
    reporting=ReportingPolicy(
        min_interval_s=10, max_interval_s=60, min_change_w=1, min_change_ratio=0.05
    ),
    precision=Precision(power=1, current=3, voltage=1, energy=3),
    software_build_id="2.4.34",
    hardware_version=1,
    date_code="20240215",
    input_clusters=(*METERING_CLUSTERS, "genScenes", "genGroups", "manuSpecificIkeaUnknown"),
)

AQARA_SP_EUC01 = DeviceModel(
    model="SP-EUC01",
    vendor="Aqara",
    description="Smart plug EU",
    exposes=(
        switch(),
        power(),
        energy(),
        binary(
            "power_outage_memory",
            ACCESS_ALL,
            value_on=True,
            value_off=False,
            description="Enable/disable the power outage memory, this recovers the on/off mode "
            "after power failure",
            category="config",
        ),
        voltage(),
        current(),
        numeric(
            "device_temperature",
            ACCESS_STATE,
            unit="°C",
            description="Device temperature (polled every 30 min)",
            category="diagnostic",
        ),
        binary(
            "consumer_connected",
            ACCESS_STATE,
            value_on=True,
            value_off=False,
            description="Indicates whether a plug is physically attached. Device does not have to "
            "pull power or even be connected electrically (state of this binary switch can be ON "
            "even if main power switch is OFF)",
            category="diagnostic",
        ),
        binary(
            "led_disabled_night",
            ACCESS_ALL,
            value_on=True,
            value_off=False,
            label="LED disabled night",
            description="Enable/disable the LED at night",
            category="config",
        ),
        numeric(
            "overload_protection",
            ACCESS_ALL,
            unit="W",
            description="Maximum allowed load, turns off if exceeded",
            category="config",
            value_min=100,
            value_max=2300,
        ),
        binary(
            "auto_off",
            ACCESS_ALL,
            value_on=True,
            value_off=False,
            label="Auto OFF",
            description="Turn the device automatically off when attached device consumes less "
            "than 2W for 20 minutes",
            category="config",
        ),
        binary(
            "button_lock",
            ACCESS_ALL,
            "ON",
            "OFF",
            description="Disables the physical switch button",
            category="config",
        ),
        linkquality(),
    ),
    supports_ota=True,
    zigbee_model="lumi.plug.maeu01",
    manufacturer_name="LUMI",
    ieee_prefix="0x54ef44100",
    reporting=ReportingPolicy(
        min_interval_s=3, max_interval_s=60, min_change_w=1, min_change_ratio=0.03
    ),
    precision=Precision(power=2, current=3, voltage=1, energy=2),
    software_build_id="0.0.0_0030",
    input_clusters=(*METERING_CLUSTERS, "genAnalogInput", "manuSpecificLumi"),
)

HEIMAN_HS2SK = DeviceModel(
    model="HS2SK_nxp",
    vendor="Heiman",
    description="Smart metering plug",
    exposes=(switch(), power(), current(), voltage(), linkquality()),
    supports_ota=False,
    zigbee_model="SmartPlug-N",
    manufacturer_name="HEIMAN",
    ieee_prefix="0x0015bc00",
    reporting=ReportingPolicy(
        min_interval_s=5, max_interval_s=60, min_change_w=2, min_change_ratio=0.05
    ),
    precision=Precision(power=1, current=3, voltage=1, energy=2),
    input_clusters=("genBasic", "genIdentify", "genOnOff", "haElectricalMeasurement"),
    output_clusters=(),
)

PLUG_MODELS = (TUYA_TS011F, IKEA_INSPELNING, AQARA_SP_EUC01, HEIMAN_HS2SK)

# --- ZLinky_TIC ----------------------------------------------------------------------------------

ZLINKY_MODEL = "ZLinky_TIC"


class LinkyMode(StrEnum):
    """The Linky's customer information output (TIC): modern "standard" or legacy "historique"."""

    STANDARD = "standard"
    HISTORIC = "historic"


def _tic(name: str, prop: str, unit: str | None = None, description: str | None = None) -> Expose:
    return numeric(name, ACCESS_STATE, prop=prop, unit=unit, description=description, label=name)


def _tic_text(name: str, prop: str, description: str) -> Expose:
    return Expose(
        type="text",
        name=name,
        label=name,
        access=ACCESS_STATE,
        property=prop,
        description=description,
    )


def _standard_exposes(producer: bool) -> list[Expose]:
    kwh = "kWh"
    exposes = [_tic("EAST", "current_summ_delivered", kwh, "Total active power delivered")]
    if producer:
        exposes.append(_tic("EAIT", "current_summ_received", kwh, "Total active power injected"))
    exposes += [
        _tic(
            "EASF01",
            "current_tier1_summ_delivered",
            kwh,
            "Total provider active power delivered (index 01)",
        ),
        _tic(
            "EASF02",
            "current_tier2_summ_delivered",
            kwh,
            "Total provider active power delivered (index 02)",
        ),
        _tic_text("ADSC", "meter_serial_number", "Serial Number"),
        _tic_text("PRM", "site_id", "PRM number"),
        _tic("PREF", "available_power", "kVA", "Apparent power of reference"),
        _tic("PCOUP", "power_threshold", "kVA", "Apparent power threshold"),
        _tic("VTIC", "software_revision", None, "Customer tele-information protocol version"),
        _tic("CCASN", "active_power", "W", "Current point of the active load curve drawn"),
        _tic("CCASN-1", "active_power_ph_b", "W", "Previous point of the active load curve drawn"),
        _tic("UMOY1", "average_rms_voltage_meas_period", "V", "Average RMS voltage (phase 1)"),
    ]
    if producer:
        exposes += [
            _tic(f"ERQ{index}", prop, "VArh", f"Total reactive power (Q{index})")
            for index, prop in enumerate(
                (
                    "total_reactive_power",
                    "reactive_power",
                    "reactive_power_ph_b",
                    "reactive_power_ph_c",
                ),
                start=1,
            )
        ]
    exposes += [
        _tic("IRMS1", "rms_current", "A", "RMS current"),
        _tic("URMS1", "rms_voltage", "V", "RMS voltage"),
        _tic(
            "EASD01", "active_energy_out_d01", kwh, "Active energy withdrawn Distributor (index 01)"
        ),
        _tic(
            "EASD02", "active_energy_out_d02", kwh, "Active energy withdrawn Distributor (index 02)"
        ),
        _tic_text("DATE", "current_date", "Current date and time"),
        _tic("NTARF", "current_index_tarif", None, "Current tariff index number"),
        _tic_text("LTARF", "current_price", "Current supplier price label"),
        _tic_text("NGTF", "current_tarif", "Supplier pricing schedule name"),
    ]
    if producer:
        exposes += [
            _tic(
                "CCAIN", "injected_active_load_n", "W", "Point n of the withdrawn active load curve"
            ),
            _tic(
                "CCAIN-1",
                "injected_active_load_n1",
                "W",
                "Point n-1 of the withdrawn active load curve",
            ),
            _tic("SINSTI", "injected_v_a", "VA", "Instantaneous apparent power injected"),
            _tic("SMAXIN", "injected_v_a_max_n", "VA", "Apparent power max. injected n"),
            _tic("SMAXIN-1", "injected_v_a_max_n1", "VA", "Apparent power max. injected n-1"),
        ]
    exposes += [
        _tic_text("MSG1", "message1", "Message short"),
        _tic_text("MSG2", "message2", "Message ultra-short"),
        _tic("RELAIS", "relais"),
        _tic_text("STGE", "status_register", "Register of Statutes"),
        _tic("SMAXSN", "active_power_max", "VA", "Apparent power delivered peak"),
        _tic("SINSTS", "apparent_power", "VA", "Immediate apparent power delivered"),
        _tic("SMAXSN-1", "drawn_v_a_max_n1", "VA", "Apparent power max. draw-off n-1"),
    ]
    return exposes


def _historic_exposes() -> list[Expose]:
    kwh = "kWh"
    return [
        _tic_text("PTEC", "active_register_tier_delivered", "Current pricing period"),
        _tic("HCHC", "current_tier1_summ_delivered", kwh, "HCHC index"),
        _tic("HCHP", "current_tier2_summ_delivered", kwh, "HCHP index"),
        _tic_text("ADCO", "meter_serial_number", "Serial Number"),
        _tic("ISOUSC", "available_power", "A", "Subscribed intensity level"),
        _tic("PAPP", "apparent_power", "VA", "Apparent power"),
        _tic_text("OPTARIF", "current_tarif", "Tarif option"),
        _tic_text("MOTDETAT", "MOTDETAT", "Meter Status Word"),
        _tic("HHPHC", "schedule_h_p_h_c", None, "Schedule HPHC"),
        _tic("IINST", "rms_current", "A", "RMS current"),
        _tic("IMAX", "rms_current_max", "A", "RMS current peak"),
        _tic("ADPS", "warn_d_p_s", "A", "Subscribed Power Exceeded Warning"),
    ]


def zlinky(mode: LinkyMode, *, producer: bool = False) -> DeviceModel:
    """The LiXee ZLinky_TIC for a single-phase peak/off-peak contract, as its mode exposes it."""
    if producer and mode is LinkyMode.HISTORIC:
        raise ValueError("a Linky in historic mode cannot report production")
    exposes = _standard_exposes(producer) if mode is LinkyMode.STANDARD else _historic_exposes()
    return DeviceModel(
        model=ZLINKY_MODEL,
        vendor="LiXee",
        description="Lixee ZLinky",
        exposes=(*exposes, linkquality()),
        supports_ota=True,
        zigbee_model="ZLinky_TIC",
        manufacturer_name="LiXee",
        ieee_prefix="0x00158d00",
        reporting=ReportingPolicy(min_interval_s=60, max_interval_s=60),
        precision=Precision(power=0, current=0, voltage=0, energy=3),
        software_build_id="4000-0016",
        date_code="20231012",
        input_clusters=(
            "genBasic",
            "genIdentify",
            "haMeterIdentification",
            "haElectricalMeasurement",
            "seMetering",
            "liXeePrivate",
        ),
    )


@dataclass(frozen=True)
class Coordinator:
    """The Zigbee adapter behind Zigbee2MQTT."""

    ieee_address: str = "0x00124b002a6f3c51"
    type: str = "zStack3x0"
    revision: int = 20240710
