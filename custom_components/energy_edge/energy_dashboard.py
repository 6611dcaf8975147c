"""Home Assistant's Energy dashboard set up from Energy Edge's devices, on the user's request.

The grid is the grid meter's import counter (Energy Edge's `grid_import_energy` for a Linky)
priced by Energy Edge's current price, with its power for the Now view; each other metered device
is an individual device with its energy counter (Zigbee2MQTT's own, else the one Energy Edge
integrates from power), its power, and the energy counter of the device upstream the user chose
for it in the options (a plug behind a DIN-rail meter). Written through Home Assistant's energy
manager, merged by `energy_preferences` with what the user has; the upstream devices Energy Edge
set are remembered in each entry's store, so that a later choice in the options updates them.
"""

from datetime import datetime
from typing import cast

from homeassistant.components.energy.data import EnergyPreferencesUpdate, async_get_manager
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_call_later

from zigbee2mqtt_protocol.metering import Term

from .const import CONF_ENERGY_DASHBOARD, DOMAIN, MQTT_DOMAIN
from .engines.devices import EnergyDevice, is_individual_device
from .engines.energy_preferences import DeviceChoice, GridChoice, Merge, merge
from .engines.options import upstream_devices
from .hub import EnergyEdgeHub
from .storage import ManagementStore


async def async_configure_energy_dashboard(
    hass: HomeAssistant, entries: list[tuple[EnergyEdgeHub, ManagementStore]]
) -> Merge:
    """Add every entry's grid and devices the dashboard lacks, and set the upstream devices
    chosen; what the user set in Home Assistant stays."""
    grid: GridChoice | None = None
    devices_of: list[tuple[ManagementStore, list[DeviceChoice]]] = []
    ours: dict[str, str] = {}  # the upstream devices Energy Edge set before
    for hub, store in entries:
        finder = _Entities(hass, hub)
        grid = grid or finder.grid()
        devices_of.append((store, finder.devices()))
        ours |= store.state.dashboard_upstreams
    manager = await async_get_manager(hass)
    devices = [device for _, some in devices_of for device in some]
    merged = merge(manager.data, grid, devices, ours)
    if merged.update is not None:
        await manager.async_update(cast("EnergyPreferencesUpdate", merged.update))
    everyones = {device.stat_consumption for device in devices}
    for store, some in devices_of:  # each entry remembers its own devices'
        before = store.state.dashboard_upstreams
        mine = {device.stat_consumption for device in some} | (set(before) - everyones)
        after = {stat: up for stat, up in merged.upstreams_set.items() if stat in mine}
        if after != before:
            store.state.dashboard_upstreams = after
            store.save()
    return merged


# Zigbee2MQTT publishes its devices in a burst; their entities follow within seconds.
QUIET_BEFORE_CONFIGURING_S = 30.0


@callback
def async_configure_when_devices_are_known(
    hass: HomeAssistant, entry: ConfigEntry, hub: EnergyEdgeHub, store: ManagementStore
) -> None:
    """The user asked for the dashboard while setting Energy Edge up: once the devices have
    been quiet for a while, configure it; the request is then fulfilled and forgotten."""
    if entry.data.get(CONF_ENERGY_DASHBOARD):
        request = _DashboardRequest(hass, entry, hub, store)
        entry.async_on_unload(request.async_stop)


class _DashboardRequest:
    """Configures the dashboard once devices are quiet, until something was added."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, hub: EnergyEdgeHub, store: ManagementStore
    ) -> None:
        self._hass = hass
        self._entry = entry
        self._hub = hub
        self._store = store
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._stop_listening: CALLBACK_TYPE | None = hub.async_add_change_listener(
            self._devices_changed
        )
        self._devices_changed()

    @callback
    def _devices_changed(self) -> None:
        if self._cancel_timer is not None:
            self._cancel_timer()
        self._cancel_timer = async_call_later(
            self._hass, QUIET_BEFORE_CONFIGURING_S, self._async_configure
        )

    async def _async_configure(self, _now: datetime) -> None:
        self._cancel_timer = None
        merged = await async_configure_energy_dashboard(self._hass, [(self._hub, self._store)])
        if merged.grid_added or merged.devices_added:
            data = {k: v for k, v in self._entry.data.items() if k != CONF_ENERGY_DASHBOARD}
            self._hass.config_entries.async_update_entry(self._entry, data=data)
            self.async_stop()

    @callback
    def async_stop(self) -> None:
        """Stop waiting (done, or the entry unloads)."""
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None


class _Entities:
    """The entity ids of one entry's energy figures, found in the entity registry."""

    def __init__(self, hass: HomeAssistant, hub: EnergyEdgeHub) -> None:
        self._registry = er.async_get(hass)
        self._hub = hub
        self._base_topic = hub.entry.data["base_topic"]

    def grid(self) -> GridChoice | None:
        meter = self._hub.grid_meter
        if meter is None:
            return None
        energy = self._own(meter, "grid_import_energy") or self._z2m_single(
            meter, meter.plan.imported_energy
        )
        price = self._registry.async_get_entity_id(
            Platform.SENSOR, DOMAIN, f"{self._hub.entry.entry_id}_current_price"
        )
        power = self._own(meter, "grid_power") or self._z2m_single(meter, meter.plan.power)
        return (
            None
            if energy is None
            else GridChoice(stat_energy_from=energy, entity_energy_price=price, stat_rate=power)
        )

    def devices(self) -> list[DeviceChoice]:
        upstream_of = upstream_devices(self._hub.entry.options)
        parts = sorted(
            filter(is_individual_device, self._hub.catalog.energy_devices()),
            key=lambda device: device.friendly_name,
        )
        energy = {
            device.ieee: self._z2m_single(device, device.plan.imported_energy)
            or self._own(device, "integrated_energy")
            for device in parts
        }
        choices = []
        for device in parts:
            if (stat := energy[device.ieee]) is None:
                continue
            upstream = upstream_of.get(device.ieee)
            upstream_stat = energy.get(upstream) if upstream else None
            choices.append(
                DeviceChoice(
                    stat_consumption=stat,
                    stat_rate=self._z2m_single(device, device.plan.power),
                    included_in_stat=upstream_stat,
                    # Chosen, but not found now (offline, not discovered yet): left as it is.
                    upstream_unknown=upstream is not None and upstream_stat is None,
                )
            )
        return choices

    def _own(self, device: EnergyDevice, key: str) -> str | None:
        return self._registry.async_get_entity_id(
            Platform.SENSOR, DOMAIN, f"{device.ieee}_{key}_{DOMAIN}"
        )

    def _z2m_single(self, device: EnergyDevice, terms: tuple[Term, ...]) -> str | None:
        """Zigbee2MQTT's own sensor for a figure read from one property (not a sum of phases);
        Zigbee2MQTT's discovery names it `<ieee>_<property>_<base topic>`."""
        if len(terms) != 1:
            return None
        return self._registry.async_get_entity_id(
            Platform.SENSOR, MQTT_DOMAIN, f"{device.ieee}_{terms[0].property}_{self._base_topic}"
        )
