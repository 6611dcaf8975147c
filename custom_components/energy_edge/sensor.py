"""Energy Edge's sensors: the home's figures on the hub, and what Z2M's own entities miss.

Z2M already publishes every raw property as a sensor; Energy Edge adds only what is missing:
energy integrated from power for devices without an energy counter, the Linky's grid power in W
and its grid import energy (all registers, usable by the Energy dashboard), and the hub's home
power, untracked power, home energy and devices online.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, Platform, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import EnergyEdgeConfigEntry
from .const import DOMAIN
from .devices import DeviceRole, EnergyDevice
from .entity import EnergyEdgeDeviceEntity, EnergyEdgeEntity, async_track_device_entities
from .hub import DeviceUpdate, EnergyEdgeHub, HomeSnapshot, HomeUpdate

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class HomeSensorDescription(SensorEntityDescription):
    """A sensor of the hub device, computed from the home's snapshot."""

    value_fn: Callable[[HomeSnapshot], float | int | None] = lambda _: None
    available_without_bridge: bool = False


@dataclass(frozen=True, kw_only=True)
class DeviceSensorDescription(SensorEntityDescription):
    """A sensor added to a Zigbee device; `exists_fn` says which devices get it."""

    exists_fn: Callable[[EnergyDevice], bool]
    value_fn: Callable[[DeviceUpdate], float | None] = lambda _: None


class _Measure(TypedDict):
    """The classes and unit shared by every power, or every energy, sensor."""

    device_class: SensorDeviceClass
    state_class: SensorStateClass
    native_unit_of_measurement: str
    suggested_display_precision: int


POWER_W = _Measure(
    device_class=SensorDeviceClass.POWER,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfPower.WATT,
    suggested_display_precision=0,
)
ENERGY_KWH = _Measure(
    device_class=SensorDeviceClass.ENERGY,
    state_class=SensorStateClass.TOTAL_INCREASING,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    suggested_display_precision=3,
)

HOME_SENSORS: tuple[HomeSensorDescription, ...] = (
    HomeSensorDescription(
        key="home_power",
        translation_key="home_power",
        **POWER_W,
        value_fn=lambda home: home.power_w,
    ),
    HomeSensorDescription(
        key="untracked_power",
        translation_key="untracked_power",
        **POWER_W,
        value_fn=lambda home: home.untracked_power_w,
    ),
    HomeSensorDescription(
        key="home_energy",
        translation_key="home_energy",
        **ENERGY_KWH,
    ),
    HomeSensorDescription(
        key="devices_online",
        translation_key="devices_online",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda home: home.devices_online,
        available_without_bridge=True,
    ),
)

DEVICE_SENSORS: tuple[DeviceSensorDescription, ...] = (
    DeviceSensorDescription(
        key="integrated_energy",
        translation_key="integrated_energy",
        **ENERGY_KWH,
        exists_fn=lambda device: device.plan.integrates_energy and not device.is_zlinky,
    ),
    DeviceSensorDescription(
        key="grid_power",
        translation_key="grid_power",
        **POWER_W,
        exists_fn=lambda device: (
            device.role is DeviceRole.GRID_METER and device.plan.power_from_apparent
        ),
        value_fn=lambda update: update.reading.power_w,
    ),
    DeviceSensorDescription(
        key="grid_import_energy",
        translation_key="grid_import_energy",
        **ENERGY_KWH,
        exists_fn=lambda device: (
            device.is_zlinky
            and bool(device.plan.imported_energy or device.plan.power_from_apparent)
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors now and each device's sensors as devices come and go."""
    hub = entry.runtime_data.hub
    async_add_entities(
        HomeEnergySensor(hub, description)
        if description.device_class is SensorDeviceClass.ENERGY
        else HomeSensor(hub, description)
        for description in HOME_SENSORS
    )
    descriptions = {description.key: description for description in DEVICE_SENSORS}

    def create(
        device: EnergyDevice,
        key: str,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> DeviceSensor:
        description = descriptions[key]
        sensor_class = (
            DeviceEnergySensor
            if description.device_class is SensorDeviceClass.ENERGY
            else DevicePowerSensor
        )
        return sensor_class(hub, description, device, z2m_device, forget)

    async_track_device_entities(
        hass,
        entry,
        hub,
        Platform.SENSOR,
        async_add_entities,
        keys_for=lambda device: [d.key for d in DEVICE_SENSORS if d.exists_fn(device)],
        create=create,
    )


class HomeSensor(EnergyEdgeEntity, SensorEntity):
    """A figure of the whole home, updated when readings arrive."""

    entity_description: HomeSensorDescription

    def __init__(self, hub: EnergyEdgeHub, description: HomeSensorDescription) -> None:
        """Name the entity id in English, whatever the language: dashboards rely on it."""
        super().__init__(hub, description, None)
        self.entity_id = f"sensor.{DOMAIN}_{description.key}"
        self._value_fn = description.value_fn
        self._attr_native_value = self._value_fn(hub.home)

    @property
    def available(self) -> bool:
        """Counting devices online still makes sense while Z2M is offline (none are)."""
        return self.entity_description.available_without_bridge or super().available

    async def async_added_to_hass(self) -> None:
        """Follow the home's updates."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_home_listener(self._on_home))

    @callback
    def _on_home(self, update: HomeUpdate) -> None:
        value = self._value_fn(update.home)
        if value != self._attr_native_value or self.available != self._last_available:
            self._attr_native_value = value
            self._last_available = self.available
            self.async_write_ha_state()


class EnergyTotal(RestoreSensor):
    """A kWh total made only of increments, restored across restarts: never counts twice."""

    _total_kwh = 0.0

    @property
    def native_value(self) -> float:
        """The total in kWh."""
        return self._total_kwh

    async def async_added_to_hass(self) -> None:
        """Start from the total before the restart (0 for a new sensor or an unusable value)."""
        await super().async_added_to_hass()
        data = await self.async_get_last_sensor_data()
        if data is not None and isinstance(data.native_value, int | float):
            self._total_kwh = float(data.native_value)

    @callback
    def _add(self, energy_kwh: float) -> None:
        if energy_kwh > 0.0:
            self._total_kwh += energy_kwh
            self.async_write_ha_state()


class HomeEnergySensor(EnergyEdgeEntity, EnergyTotal):
    """The home's energy: grid meter increments when there is one, else the devices' sum."""

    def __init__(self, hub: EnergyEdgeHub, description: HomeSensorDescription) -> None:
        """Name the entity id in English, whatever the language: dashboards rely on it."""
        super().__init__(hub, description, None)
        self.entity_id = f"sensor.{DOMAIN}_{description.key}"

    async def async_added_to_hass(self) -> None:
        """Add every increment of the home's energy."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.async_add_home_listener(lambda update: self._add(update.imported_kwh))
        )


class DeviceSensor(EnergyEdgeDeviceEntity, SensorEntity):
    """A sensor of one Zigbee device."""

    entity_description: DeviceSensorDescription


class DevicePowerSensor(DeviceSensor):
    """A power figure of one device (the Linky's apparent power, offered in W)."""

    async def async_added_to_hass(self) -> None:
        """Follow the device's readings."""
        await super().async_added_to_hass()
        status = self.hub.status(self.device_ieee)
        if status is not None:
            self._attr_native_value = status.power_w
        self.async_on_remove(
            self.hub.async_add_reading_listener(self._on_reading, self.device_ieee)
        )

    @callback
    def _on_reading(self, update: DeviceUpdate) -> None:
        value = self.entity_description.value_fn(update)
        if value is not None and value != self._attr_native_value:
            self._attr_native_value = value
            self.async_write_ha_state()


class DeviceEnergySensor(DeviceSensor, EnergyTotal):
    """A device's energy total, made of increments (counter steps or integrated power)."""

    async def async_added_to_hass(self) -> None:
        """Add every increment of the device's energy."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.async_add_reading_listener(
                lambda update: self._add(update.reading.imported_kwh), self.device_ieee
            )
        )
