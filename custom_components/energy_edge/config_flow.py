"""Config flow: one entry per Zigbee2MQTT base topic, found by MQTT discovery or added by hand."""

from typing import TYPE_CHECKING, Any

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio as vol

from zigbee2mqtt_protocol.errors import RejectedInputError
from zigbee2mqtt_protocol.payloads import parse_online

from .const import (
    AUTOMATIC_MAIN_METER,
    CONF_BASE_TOPIC,
    CONF_DISCOVERY_PREFIX,
    CONF_ENERGY_DASHBOARD,
    CONF_MAIN_METER,
    CONF_TEMPO_TODAY_ENTITY,
    CONF_TEMPO_TOMORROW_ENTITY,
    DEFAULT_BASE_TOPIC,
    DEFAULT_DISCOVERY_PREFIX,
    DOMAIN,
)
from .engines.options import (
    CONF_CONTRACT_LIMIT,
    CONF_MIN_OFF_TIME,
    CONF_OFF_PEAK_RANGES,
    CONF_OFF_PEAK_SUMMER,
    CONF_OFF_PEAK_WINTER,
    CONF_PRICE_SOURCE,
    CONF_RESTORE_DELAY,
    CONF_RESTORE_THRESHOLD,
    CONF_RUNNING_THRESHOLD,
    CONF_SHED_DELAY,
    CONF_SHED_THRESHOLD,
    CONF_SUBSCRIBED_KVA,
    CONF_SUBSCRIPTION,
    CONF_TARIFF,
    CONF_UPSTREAM_DEVICES,
    PERIODS_OF,
    PriceSource,
    default_prices,
    off_peak_texts,
    price_key,
    price_source,
    shedding_settings,
    subscribed_kva,
    tariff_kind,
    upstream_devices,
)
from .engines.regulated import SUBSCRIBED_KVA
from .engines.tariff import MAX_OFF_PEAK_RANGES, TariffKind, parse_off_peak_ranges
from .loads_form import LoadsForm
from .upstream_form import UpstreamForm

if TYPE_CHECKING:
    from .data import EnergyEdgeConfigEntry

BRIDGE_STATE_SUFFIX = "/bridge/state"
# Offered on the last form of the set-up: Energy Edge's devices in HA's Energy dashboard.
ENERGY_DASHBOARD_FIELD = {vol.Optional(CONF_ENERGY_DASHBOARD, default=False): bool}
# Where other integrations show the Tempo colour (RTE's Tempo, EDF's, a helper of the user's).
COLOR_ENTITY_DOMAINS = ["sensor", "select", "input_select", "input_text"]


def _topics_schema(defaults: dict[str, Any]) -> vol.Schema:
    return vol.Schema(
        {
            vol.Required(
                CONF_BASE_TOPIC, default=defaults.get(CONF_BASE_TOPIC, DEFAULT_BASE_TOPIC)
            ): str,
            vol.Required(
                CONF_DISCOVERY_PREFIX,
                default=defaults.get(CONF_DISCOVERY_PREFIX, DEFAULT_DISCOVERY_PREFIX),
            ): str,
        }
    )


class EnergyEdgeConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle the set-up of Energy Edge."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: EnergyEdgeConfigEntry) -> EnergyEdgeOptionsFlow:
        """Options: the main meter, the tariff, the contract power and shedding."""
        return EnergyEdgeOptionsFlow()

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """Zigbee2MQTT announced its bridge state on the broker."""
        try:
            parse_online(discovery_info.payload)
        except RejectedInputError:
            return self.async_abort(reason="not_zigbee2mqtt")
        base_topic = discovery_info.topic.removesuffix(BRIDGE_STATE_SUFFIX)
        await self.async_set_unique_id(base_topic)
        self._abort_if_unique_id_configured()
        self.context["title_placeholders"] = {"base_topic": base_topic}
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the user to confirm a discovered Zigbee2MQTT."""
        base_topic = self.context["title_placeholders"]["base_topic"]
        if user_input is not None:
            return self.async_create_entry(
                title=base_topic,
                data={
                    CONF_BASE_TOPIC: base_topic,
                    CONF_DISCOVERY_PREFIX: DEFAULT_DISCOVERY_PREFIX,
                    **_energy_dashboard(user_input),
                },
            )
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema(ENERGY_DASHBOARD_FIELD),
            description_placeholders={"base_topic": base_topic},
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up Energy Edge by hand once HA's MQTT client is there.

        Zigbee2MQTT itself need not run yet: its devices appear whenever it publishes them.
        """
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_ready")
        errors: dict[str, str] = {}
        if user_input is not None:
            topics = _cleaned(user_input)
            if not (errors := _topic_errors(topics)):
                await self.async_set_unique_id(topics[CONF_BASE_TOPIC])
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=topics[CONF_BASE_TOPIC], data={**topics, **_energy_dashboard(user_input)}
                )
        return self.async_show_form(
            step_id="user",
            data_schema=_topics_schema(user_input or {}).extend(ENERGY_DASHBOARD_FIELD),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the base topic or discovery prefix of an entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = _cleaned(user_input)
            if not (errors := _topic_errors(user_input)):
                await self.async_set_unique_id(user_input[CONF_BASE_TOPIC])
                if user_input[CONF_BASE_TOPIC] != entry.unique_id:
                    self._abort_if_unique_id_configured()
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=user_input[CONF_BASE_TOPIC],
                    title=user_input[CONF_BASE_TOPIC],
                    data=user_input,
                )
        return self.async_show_form(
            step_id=SOURCE_RECONFIGURE,
            data_schema=_topics_schema(user_input or dict(entry.data)),
            errors=errors,
        )


class EnergyEdgeOptionsFlow(OptionsFlowWithReload):
    """Four steps: the main meter and tariff; the tariff's prices; contract power and shedding;
    the loads Energy Edge manages."""

    def __init__(self) -> None:
        """Options gathered over the steps, saved at the end."""
        self._options: dict[str, Any] = {}
        self._loads_form: LoadsForm | None = None
        self._upstream_form: UpstreamForm | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The main meter (automatic: the ZLinky, if any), the tariff and the subscription."""
        options = self.config_entry.options
        if user_input is not None:
            chosen = user_input[CONF_MAIN_METER]
            self._options = {
                **options,
                **user_input,
                CONF_MAIN_METER: "" if chosen == AUTOMATIC_MAIN_METER else chosen,
                CONF_SUBSCRIBED_KVA: int(user_input[CONF_SUBSCRIBED_KVA]),
            }
            return await self._async_step_prices(tariff_kind(self._options), None)
        choices = [SelectOptionDict(value=AUTOMATIC_MAIN_METER, label=AUTOMATIC_MAIN_METER)]
        entry: EnergyEdgeConfigEntry = self.config_entry
        if entry.state is ConfigEntryState.LOADED:  # else no device is known yet
            choices += [
                SelectOptionDict(value=device.ieee, label=f"{device.friendly_name} ({device.ieee})")
                for device in sorted(
                    entry.runtime_data.hub.catalog.energy_devices(),
                    key=lambda device: device.friendly_name,
                )
                if device.plan.power or device.plan.imported_energy
            ]
        current = options.get(CONF_MAIN_METER) or AUTOMATIC_MAIN_METER
        schema = vol.Schema(
            {
                vol.Required(CONF_MAIN_METER, default=current): SelectSelector(
                    SelectSelectorConfig(
                        options=choices,
                        mode=SelectSelectorMode.DROPDOWN,
                        translation_key=CONF_MAIN_METER,
                    )
                ),
                vol.Required(CONF_TARIFF, default=tariff_kind(options).value): SelectSelector(
                    SelectSelectorConfig(
                        options=[kind.value for kind in TariffKind],
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_TARIFF,
                    )
                ),
                vol.Required(
                    CONF_PRICE_SOURCE, default=price_source(options).value
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[source.value for source in PriceSource],
                        mode=SelectSelectorMode.LIST,
                        translation_key=CONF_PRICE_SOURCE,
                    )
                ),
                vol.Required(
                    CONF_SUBSCRIBED_KVA, default=str(subscribed_kva(options))
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=[str(kva) for kva in SUBSCRIBED_KVA],
                        mode=SelectSelectorMode.DROPDOWN,
                        translation_key=CONF_SUBSCRIBED_KVA,
                    )
                ),
                vol.Required(
                    CONF_SUBSCRIPTION, default=options.get(CONF_SUBSCRIPTION, 0.0)
                ): _amount(self.hass.config.currency, 1000.0),
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)

    async def async_step_base(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The base price."""
        return await self._async_step_prices(TariffKind.BASE, user_input)

    async def async_step_hphc(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Peak and off-peak prices, and the off-peak hours."""
        return await self._async_step_prices(TariffKind.HPHC, user_input)

    async def async_step_tempo(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The six Tempo prices, and where the day's colours come from."""
        return await self._async_step_prices(TariffKind.TEMPO, user_input)

    async def _async_step_prices(
        self, kind: TariffKind, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """The tariff's step: the user's own prices, the off-peak hours of each season (HP/HC),
        where Tempo colours come from. Regulated base prices need no step."""
        own_prices = price_source(self._options) is PriceSource.OWN
        if kind is TariffKind.BASE and not own_prices:
            return await self.async_step_shedding()
        errors: dict[str, str] = {}
        if user_input is not None:
            for optional in (CONF_TEMPO_TODAY_ENTITY, CONF_TEMPO_TOMORROW_ENTITY):
                self._options.pop(optional, None)  # a field left empty clears it
            self._options.update(user_input)
            errors = _off_peak_errors(user_input)
            if not errors:
                self._options.pop(CONF_OFF_PEAK_RANGES, None)  # the seasons replace it
                return await self.async_step_shedding()
        unit = f"{self.hass.config.currency}/kWh"
        defaults = default_prices(self._options)
        fields: dict[vol.Marker, Any] = {}
        if own_prices:
            fields = {
                vol.Required(
                    price_key(period),
                    default=self._options.get(price_key(period), defaults[period]),
                ): _amount(unit, 10.0)
                for period in PERIODS_OF[kind]
            }
        if kind is TariffKind.HPHC:
            for key, text in zip(
                (CONF_OFF_PEAK_WINTER, CONF_OFF_PEAK_SUMMER),
                off_peak_texts(self._options),
                strict=True,
            ):
                fields[vol.Required(key, default=text)] = TextSelector()
        if kind is TariffKind.TEMPO:
            for key in (CONF_TEMPO_TODAY_ENTITY, CONF_TEMPO_TOMORROW_ENTITY):
                fields[
                    vol.Optional(key, description={"suggested_value": self._options.get(key)})
                ] = EntitySelector(EntitySelectorConfig(domain=COLOR_ENTITY_DOMAINS))
        return self.async_show_form(
            step_id=kind.value, data_schema=vol.Schema(fields), errors=errors
        )

    async def async_step_shedding(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The contract limit (0: from the meter) and how shedding reacts."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._options.update(user_input)
            try:
                shedding_settings(self._options)
            except ValueError:
                errors["base"] = "restore_above_shed"
            else:
                return await self.async_step_loads()
        defaults = shedding_settings({})
        current = {
            CONF_CONTRACT_LIMIT: self._options.get(CONF_CONTRACT_LIMIT, 0),
            CONF_SHED_THRESHOLD: self._options.get(
                CONF_SHED_THRESHOLD, defaults.shed_threshold_pct
            ),
            CONF_SHED_DELAY: self._options.get(
                CONF_SHED_DELAY, defaults.shed_delay.total_seconds()
            ),
            CONF_RESTORE_THRESHOLD: self._options.get(
                CONF_RESTORE_THRESHOLD, defaults.restore_threshold_pct
            ),
            CONF_RESTORE_DELAY: self._options.get(
                CONF_RESTORE_DELAY, defaults.restore_delay.total_seconds()
            ),
            CONF_MIN_OFF_TIME: self._options.get(
                CONF_MIN_OFF_TIME, defaults.min_off_time.total_seconds() / 60
            ),
            CONF_RUNNING_THRESHOLD: self._options.get(
                CONF_RUNNING_THRESHOLD, defaults.running_threshold_w
            ),
        }
        schema = vol.Schema(
            {
                vol.Required(key, default=current[key]): _number(unit, maximum)
                for key, unit, maximum in (
                    (CONF_CONTRACT_LIMIT, "VA", 100_000),
                    (CONF_SHED_THRESHOLD, "%", 200),
                    (CONF_SHED_DELAY, "s", 600),
                    (CONF_RESTORE_THRESHOLD, "%", 200),
                    (CONF_RESTORE_DELAY, "s", 3600),
                    (CONF_MIN_OFF_TIME, "min", 240),
                    (CONF_RUNNING_THRESHOLD, "W", 1000),
                )
            }
        )
        return self.async_show_form(step_id="shedding", data_schema=schema, errors=errors)

    async def async_step_loads(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which switchable loads Energy Edge manages, and their priorities (skipped without
        loads). Stored with the loads' own switches and selects, not in the options."""
        if user_input is not None and self._loads_form is not None:
            self._loads_form.apply(user_input)
            return await self.async_step_upstream_devices()
        runtime = getattr(self.config_entry, "runtime_data", None)
        self._loads_form = LoadsForm.of(runtime.loads) if runtime is not None else None
        if self._loads_form is None or not self._loads_form.ieee_of:
            return await self.async_step_upstream_devices()
        return self.async_show_form(step_id="loads", data_schema=self._loads_form.schema())

    async def async_step_upstream_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Which metered device measures another one too, for the Energy dashboard (skipped
        with fewer than two metered devices)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None and self._upstream_form is not None:
            chosen, looped = self._upstream_form.chosen_from(user_input)
            if looped is None:
                return self.async_create_entry(
                    data={**self._options, CONF_UPSTREAM_DEVICES: chosen}
                )
            errors["base"] = "upstream_loop"
            placeholders["device"] = looped
        runtime = getattr(self.config_entry, "runtime_data", None)
        self._upstream_form = (
            UpstreamForm.of(runtime.hub.catalog.energy_devices(), upstream_devices(self._options))
            if runtime is not None
            else None
        )
        if self._upstream_form is None:
            return self.async_create_entry(data=self._options)
        return self.async_show_form(
            step_id="upstream_devices",
            data_schema=self.add_suggested_values_to_schema(
                self._upstream_form.schema(), user_input
            ),
            errors=errors,
            description_placeholders=placeholders,
        )


def _off_peak_errors(user_input: dict[str, Any]) -> dict[str, str]:
    """Each season's off-peak hours that cannot be read, or that have too many ranges."""
    errors: dict[str, str] = {}
    for key in (CONF_OFF_PEAK_WINTER, CONF_OFF_PEAK_SUMMER):
        if key not in user_input:
            continue
        try:
            ranges = parse_off_peak_ranges(user_input[key])
        except ValueError:
            errors[key] = "invalid_off_peak_ranges"
            continue
        if len(ranges) > MAX_OFF_PEAK_RANGES:
            errors[key] = "too_many_off_peak_ranges"
    return errors


def _amount(unit: str, maximum: float) -> NumberSelector:
    """A price or a subscription: any number of decimals."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0, max=maximum, step="any", mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


def _number(unit: str, maximum: float) -> NumberSelector:
    """A limit, threshold or delay."""
    return NumberSelector(
        NumberSelectorConfig(
            min=0, max=maximum, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement=unit
        )
    )


def _cleaned(user_input: dict[str, Any]) -> dict[str, Any]:
    """Topics without surrounding spaces or slashes."""
    return {
        key: str(user_input[key]).strip().strip("/")
        for key in (CONF_BASE_TOPIC, CONF_DISCOVERY_PREFIX)
    }


def _topic_errors(topics: dict[str, Any]) -> dict[str, str]:
    """Topics Energy Edge can subscribe under: not empty, no wildcard (`#` would swallow the
    whole broker), as MQTT's own rules for a topic name say."""
    errors = {}
    for key in (CONF_BASE_TOPIC, CONF_DISCOVERY_PREFIX):
        try:
            mqtt.valid_publish_topic(topics[key])
        except vol.Invalid:
            errors[key] = "invalid_topic"
    return errors


def _energy_dashboard(user_input: dict[str, Any]) -> dict[str, Any]:
    """The request to set up HA's Energy dashboard once the devices are known, if ticked."""
    return {CONF_ENERGY_DASHBOARD: True} if user_input.get(CONF_ENERGY_DASHBOARD) else {}
