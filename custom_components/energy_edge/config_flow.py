"""Config flow: one entry per Zigbee2MQTT base topic, found by MQTT discovery or added by hand."""

from typing import Any

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio as vol

from .const import (
    AUTOMATIC_MAIN_METER,
    CONF_BASE_TOPIC,
    CONF_DISCOVERY_PREFIX,
    CONF_MAIN_METER,
    DEFAULT_BASE_TOPIC,
    DEFAULT_DISCOVERY_PREFIX,
    DOMAIN,
)
from .z2m import RejectedInputError, parse_online

BRIDGE_STATE_SUFFIX = "/bridge/state"


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
    def async_get_options_flow(config_entry: ConfigEntry) -> EnergyEdgeOptionsFlow:
        """Options: which device is the main (grid) meter."""
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
                },
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="confirm", description_placeholders={"base_topic": base_topic}
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up Energy Edge by hand once HA's MQTT client is there.

        Zigbee2MQTT itself need not run yet: its devices appear whenever it publishes them.
        """
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_ready")
        if user_input is not None:
            user_input = _cleaned(user_input)
            await self.async_set_unique_id(user_input[CONF_BASE_TOPIC])
            self._abort_if_unique_id_configured()
            return self.async_create_entry(title=user_input[CONF_BASE_TOPIC], data=user_input)
        return self.async_show_form(step_id="user", data_schema=_topics_schema({}))

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the base topic or discovery prefix of an entry."""
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            user_input = _cleaned(user_input)
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
            step_id=SOURCE_RECONFIGURE, data_schema=_topics_schema(dict(entry.data))
        )


class EnergyEdgeOptionsFlow(OptionsFlowWithReload):
    """Choose the main meter among the energy devices Energy Edge knows."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """One form: the main meter (automatic: the ZLinky, if any)."""
        if user_input is not None:
            chosen = user_input[CONF_MAIN_METER]
            return self.async_create_entry(
                data={CONF_MAIN_METER: "" if chosen == AUTOMATIC_MAIN_METER else chosen}
            )
        choices = [SelectOptionDict(value=AUTOMATIC_MAIN_METER, label=AUTOMATIC_MAIN_METER)]
        runtime = getattr(self.config_entry, "runtime_data", None)
        if runtime is not None:
            choices += [
                SelectOptionDict(value=device.ieee, label=f"{device.friendly_name} ({device.ieee})")
                for device in sorted(
                    runtime.hub.catalog.energy_devices(), key=lambda device: device.friendly_name
                )
                if device.plan.power or device.plan.imported_energy
            ]
        current = self.config_entry.options.get(CONF_MAIN_METER) or AUTOMATIC_MAIN_METER
        schema = vol.Schema(
            {
                vol.Required(CONF_MAIN_METER, default=current): SelectSelector(
                    SelectSelectorConfig(
                        options=choices,
                        mode=SelectSelectorMode.DROPDOWN,
                        translation_key=CONF_MAIN_METER,
                    )
                )
            }
        )
        return self.async_show_form(step_id="init", data_schema=schema)


def _cleaned(user_input: dict[str, Any]) -> dict[str, Any]:
    """Topics without surrounding spaces or slashes."""
    return {key: str(value).strip().strip("/") for key, value in user_input.items()}
