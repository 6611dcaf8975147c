"""Energy Edge's sensors: the home's figures on the hub, and what Z2M's own entities miss.

Z2M already publishes every raw property as a sensor; Energy Edge adds only what is missing:
energy integrated from power for devices without an energy counter, the Linky's grid power in W,
its grid import energy (all registers, usable by the Energy dashboard) and its cut-off power in
VA (standard mode's PCOUP, checked), and the hub's home power, untracked power, home energy and
devices online.

Management adds the price and period in force, the contract headroom (VA) and the loads kept
off on the hub; the cost of the home and of each metered device (restored with their pricing
state, so nothing is counted twice across a restart); the next planned run of each load.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import math
from typing import Any, TypedDict

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    Platform,
    UnitOfApparentPower,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoredExtraData, RestoreEntity
from homeassistant.helpers.typing import StateType

from .const import DOMAIN
from .data import EnergyEdgeConfigEntry, EnergyEdgeData
from .engines.costs import CostAccumulator
from .engines.devices import DeviceRole, EnergyDevice
from .engines.home import HomeSnapshot
from .engines.tariff import Period
from .entity import EnergyEdgeDeviceEntity, EnergyEdgeEntity, async_track_device_entities
from .hub import DeviceStatus, DeviceUpdate, EnergyEdgeHub, HomeUpdate
from .load_control import is_switchable_load
from .pricing import Pricing

_LOGGER = logging.getLogger(__package__)

PARALLEL_UPDATES = 0
WRITE_EVERY_S = 60.0
"""A total changing below its display precision is written at most this late (at its next
change)."""
PRICE_EVERY_S = 1.0


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
    status_fn: Callable[[DeviceStatus], float | None] = lambda status: status.power_w


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
        key="cutoff_power",
        translation_key="cutoff_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        suggested_display_precision=0,
        exists_fn=lambda device: (
            device.role is DeviceRole.GRID_METER and device.plan.cutoff_power is not None
        ),
        value_fn=lambda update: update.reading.cutoff_power_va,
        status_fn=lambda status: status.cutoff_power_va,
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


@dataclass(frozen=True, kw_only=True)
class ManagementSensorDescription(SensorEntityDescription):
    """A sensor of the hub device showing what prices or shedding say now."""

    value_fn: Callable[[EnergyEdgeData], StateType]
    subscribe_fn: Callable[[EnergyEdgeData, CALLBACK_TYPE], CALLBACK_TYPE]
    attributes_fn: Callable[[EnergyEdgeData], Mapping[str, Any]] | None = None
    unit_fn: Callable[[HomeAssistant], str] | None = None
    needs_bridge: bool = False


def _subscribe_pricing(data: EnergyEdgeData, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
    return data.pricing.async_add_listener(listener)


def _subscribe_loads(data: EnergyEdgeData, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
    return data.loads.async_add_listener(listener)


def _kept_off(data: EnergyEdgeData) -> Mapping[str, Any]:
    status = data.loads.status()
    return {
        "loads": [load.name for load in status.shed_loads],
        "unresponsive": [load.name for load in status.unresponsive_loads],
    }


MANAGEMENT_SENSORS: tuple[ManagementSensorDescription, ...] = (
    ManagementSensorDescription(
        key="current_price",
        translation_key="current_price",
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=4,
        value_fn=lambda data: data.pricing.price,
        subscribe_fn=_subscribe_pricing,
        unit_fn=lambda hass: f"{hass.config.currency}/{UnitOfEnergy.KILO_WATT_HOUR}",
    ),
    ManagementSensorDescription(
        key="current_period",
        translation_key="current_period",
        device_class=SensorDeviceClass.ENUM,
        options=[period.value for period in Period],
        value_fn=lambda data: data.pricing.period.value,
        subscribe_fn=_subscribe_pricing,
    ),
    ManagementSensorDescription(
        key="power_headroom",
        translation_key="power_headroom",
        device_class=SensorDeviceClass.APPARENT_POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        suggested_display_precision=0,
        value_fn=lambda data: data.loads.status().headroom_va,
        subscribe_fn=_subscribe_loads,
        needs_bridge=True,
    ),
    ManagementSensorDescription(
        key="shed_loads",
        translation_key="shed_loads",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data: len(data.loads.status().shed_loads),
        attributes_fn=_kept_off,
        subscribe_fn=_subscribe_loads,
    ),
)

HOME_COST = SensorEntityDescription(key="home_cost", translation_key="home_cost")
DEVICE_COST = SensorEntityDescription(key="cost", translation_key="cost")
NEXT_RUN = SensorEntityDescription(
    key="next_run", translation_key="next_run", device_class=SensorDeviceClass.TIMESTAMP
)


def _has_cost(device: EnergyDevice) -> bool:
    """Metered devices other than the grid meter (the home's cost stands for it)."""
    return device.role in (DeviceRole.SUB_METER, DeviceRole.SWITCHABLE_LOAD)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyEdgeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the hub's sensors now and each device's sensors as devices come and go."""
    data = entry.runtime_data
    hub = data.hub
    async_add_entities(
        HomeEnergySensor(hub, description)
        if description.device_class is SensorDeviceClass.ENERGY
        else HomeSensor(hub, description)
        for description in HOME_SENSORS
    )
    async_add_entities(ManagementSensor(data, description) for description in MANAGEMENT_SENSORS)
    async_add_entities([HomeCostSensor(hass, data)])
    descriptions = {description.key: description for description in DEVICE_SENSORS}

    def create(
        device: EnergyDevice,
        key: str,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> EnergyEdgeDeviceEntity:
        if key == DEVICE_COST.key:
            return DeviceCostSensor(hass, data, device, z2m_device, forget)
        if key == NEXT_RUN.key:
            return NextRunSensor(data, device, z2m_device, forget)
        description = descriptions[key]
        sensor_class = (
            DeviceEnergySensor
            if description.device_class is SensorDeviceClass.ENERGY
            else DevicePowerSensor
        )
        return sensor_class(hub, description, device, z2m_device, forget)

    def keys_for(device: EnergyDevice) -> list[str]:
        keys = [d.key for d in DEVICE_SENSORS if d.exists_fn(device)]
        if _has_cost(device):
            keys.append(DEVICE_COST.key)
        if is_switchable_load(device):
            keys.append(NEXT_RUN.key)
        return keys

    async_track_device_entities(
        hass, entry, hub, Platform.SENSOR, async_add_entities, keys_for=keys_for, create=create
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


class ShownWrites(Entity):
    """Writes its state when what the user sees changes (at the entity's display precision),
    else at most `WRITE_EVERY_S` late: a state message that moves a total by less than its
    last shown digit costs no state write."""

    hub: EnergyEdgeHub
    _shown: object = None
    _written_at = -math.inf

    @callback
    def _write_if_shown(self, shown: object) -> None:
        now = self.hub.clock()
        if shown != self._shown or now - self._written_at >= WRITE_EVERY_S:
            self._shown, self._written_at = shown, now
            self.async_write_ha_state()


class EnergyTotal(RestoreSensor, ShownWrites):
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
            self._write_if_shown(round(self._total_kwh, ENERGY_KWH["suggested_display_precision"]))


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
    """A power figure of one device (the Linky's apparent power in W, its cut-off in VA)."""

    async def async_added_to_hass(self) -> None:
        """Follow the device's readings."""
        await super().async_added_to_hass()
        status = self.hub.status(self.device_ieee)
        if status is not None:
            self._attr_native_value = self.entity_description.status_fn(status)
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


class ManagementSensor(EnergyEdgeEntity, SensorEntity):
    """Prices or shedding, as they stand now, on the hub device."""

    entity_description: ManagementSensorDescription

    def __init__(self, data: EnergyEdgeData, description: ManagementSensorDescription) -> None:
        """Name the entity id in English, whatever the language: dashboards rely on it."""
        super().__init__(data.hub, description, None)
        self.entity_id = f"sensor.{DOMAIN}_{description.key}"
        self._data = data
        self._shown: tuple[StateType, dict[str, Any] | None] | None = None

    @property
    def available(self) -> bool:
        """Prices need nothing from Zigbee2MQTT; the headroom needs its meter."""
        return super().available if self.entity_description.needs_bridge else True

    async def async_added_to_hass(self) -> None:
        """Follow prices or shedding."""
        await super().async_added_to_hass()
        if self.entity_description.unit_fn is not None:
            self._attr_native_unit_of_measurement = self.entity_description.unit_fn(self.hass)
        self._refresh()
        self.async_on_remove(self.entity_description.subscribe_fn(self._data, self._on_change))

    @callback
    def _refresh(self) -> bool:
        """Read the figure again; True if it changed."""
        description = self.entity_description
        value = description.value_fn(self._data)
        attributes = (
            None
            if description.attributes_fn is None
            else dict(description.attributes_fn(self._data))
        )
        if (value, attributes) == self._shown:
            return False
        self._shown = (value, attributes)
        self._attr_native_value = value
        if attributes is not None:
            self._attr_extra_state_attributes = attributes
        return True

    @callback
    def _on_change(self) -> None:
        if self._refresh():
            self.async_write_ha_state()


class CostTotal(SensorEntity, RestoreEntity, ShownWrites):
    """A running cost in HA's currency, restored with its pricing state: never counts twice.

    Energy is priced at most once per second (pricing splits it at every price change): what
    comes within a second of the previous pricing is priced by the hub's deferred work."""

    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_state_class = SensorStateClass.TOTAL
    _attr_suggested_display_precision = 2
    _pricing: Pricing
    _cost: CostAccumulator
    _unpriced_kwh = 0.0
    _unpriced_at: float | None = None
    _priced_at = -math.inf
    _pricing_deferred = False

    @property
    def native_value(self) -> float:
        """The cost so far."""
        return round(self._cost.total_cost, 6)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Energy counted, and energy waiting for its Tempo colour."""
        return {
            "energy_kwh": round(self._cost.energy_kwh, 6),
            "pending_energy_kwh": round(self._cost.pending_energy_kwh, 6),
        }

    @property
    def extra_restore_state_data(self) -> RestoredExtraData:
        """The whole pricing state, to go on after a restart exactly where it stopped."""
        self._price_unpriced()
        return RestoredExtraData({"cost": self._cost.to_dict()})

    async def async_added_to_hass(self) -> None:
        """Start from the state before the restart; follow colours and period changes."""
        await super().async_added_to_hass()
        self._attr_native_unit_of_measurement = self.hass.config.currency
        extra = await self.async_get_last_extra_data()
        if extra is not None:
            try:
                restored = CostAccumulator.from_dict(extra.as_dict()["cost"])
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.warning("%s starts from 0: %s", self.entity_id, err)
            else:
                if restored.with_subscription == self._cost.with_subscription:
                    self._cost = restored
        self.async_on_remove(self._pricing.async_add_listener(self._on_prices))
        self._on_prices()

    @callback
    def _on_prices(self) -> None:
        """A Tempo colour may now price waiting energy; the subscription keeps running."""
        self._cost.advance(self._pricing.now(), self._pricing.tariff)
        self._cost.settle(self._pricing.tariff, self._pricing.colors)
        self.async_write_ha_state()

    async def async_will_remove_from_hass(self) -> None:
        """Price what is waiting: the state stored now must hold it."""
        self._price_unpriced()
        await super().async_will_remove_from_hass()

    @callback
    def _add(self, update: DeviceUpdate) -> None:
        self._unpriced_kwh += update.reading.imported_kwh
        self._unpriced_at = update.at
        if update.at - self._priced_at >= PRICE_EVERY_S:
            self._price()
        elif not self._pricing_deferred:
            self._pricing_deferred = True
            self.hub.async_defer(self._price)

    @callback
    def _price(self) -> None:
        self._pricing_deferred = False
        if self._price_unpriced():
            cost = self._cost
            self._write_if_shown(
                (
                    round(cost.total_cost, 2),
                    round(cost.energy_kwh, 3),
                    round(cost.pending_energy_kwh, 3),
                )
            )

    def _price_unpriced(self) -> bool:
        """Price the energy received since the last pricing; False if there was none."""
        if self._unpriced_at is None:
            return False
        self._cost.add_energy(
            datetime.fromtimestamp(self._unpriced_at, UTC),
            self._unpriced_kwh,
            self._pricing.tariff,
            self._pricing.colors,
        )
        self._priced_at, self._unpriced_at, self._unpriced_kwh = self._unpriced_at, None, 0.0
        return True


class HomeCostSensor(EnergyEdgeEntity, CostTotal):
    """The home's cost: the grid meter's energy (else the devices'), plus the subscription."""

    def __init__(self, hass: HomeAssistant, data: EnergyEdgeData) -> None:
        """Name the entity id in English, whatever the language: dashboards rely on it."""
        super().__init__(data.hub, HOME_COST, None)
        self.entity_id = f"sensor.{DOMAIN}_{HOME_COST.key}"
        self._pricing = data.pricing
        self._cost = CostAccumulator(with_subscription=True)

    async def async_added_to_hass(self) -> None:
        """Add every reading of the grid meter, or of every device when there is none."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_reading_listener(self._on_reading))

    @callback
    def _on_reading(self, update: DeviceUpdate) -> None:
        if self.hub.catalog.grid_meter in (None, update.device.ieee):
            self._add(update)


class DeviceCostSensor(EnergyEdgeDeviceEntity, CostTotal):
    """What a metered device's energy cost."""

    def __init__(
        self,
        hass: HomeAssistant,
        data: EnergyEdgeData,
        device: EnergyDevice,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """A cost of its own, on the device's page."""
        super().__init__(data.hub, DEVICE_COST, device, z2m_device, forget)
        self._pricing = data.pricing
        self._cost = CostAccumulator()

    async def async_added_to_hass(self) -> None:
        """Add every reading of the device."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hub.async_add_reading_listener(self._add, self.device_ieee))


class NextRunSensor(EnergyEdgeDeviceEntity, SensorEntity):
    """When a load's planned run starts (unknown when none is planned)."""

    def __init__(
        self,
        data: EnergyEdgeData,
        device: EnergyDevice,
        z2m_device: dr.DeviceEntry | None,
        forget: Callable[[], None],
    ) -> None:
        """Follow the load's plan."""
        super().__init__(data.hub, NEXT_RUN, device, z2m_device, forget)
        self._planner = data.planner

    @property
    def available(self) -> bool:
        """A plan is known whatever the device's reachability."""
        return True

    async def async_added_to_hass(self) -> None:
        """Show the plan now and whenever it changes."""
        await super().async_added_to_hass()
        self._refresh()
        self.async_on_remove(self._planner.async_add_listener(self._on_plans))

    @callback
    def _refresh(self) -> None:
        item = self._planner.run(self.device_ieee)
        if item is None:
            self._attr_native_value = None
            self._attr_extra_state_attributes = {}
            return
        run = item.run
        self._attr_native_value = run.start
        self._attr_extra_state_attributes = {
            "end": run.end.isoformat(),
            "deadline": run.deadline.isoformat(),
            "power_w": run.power_w,
            "expected_cost": round(run.expected_cost, 4),
            "prices_assumed": run.prices_assumed,
            "running": item.started,
        }

    @callback
    def _on_plans(self) -> None:
        self._refresh()
        self.async_write_ha_state()
