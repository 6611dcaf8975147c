"""Config flow: one entry per Zigbee2MQTT base topic, found by MQTT discovery or added by hand."""

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio as vol

from .const import (
    CONF_BASE_TOPIC,
    CONF_DISCOVERY_PREFIX,
    DEFAULT_BASE_TOPIC,
    DEFAULT_DISCOVERY_PREFIX,
    DOMAIN,
)

USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_BASE_TOPIC, default=DEFAULT_BASE_TOPIC): str,
        vol.Required(CONF_DISCOVERY_PREFIX, default=DEFAULT_DISCOVERY_PREFIX): str,
    }
)


class EnergyEdgeConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle the set-up of Energy Edge."""

    VERSION = 1

    async def async_step_mqtt(self, discovery_info: MqttServiceInfo) -> ConfigFlowResult:
        """Zigbee2MQTT announced its bridge state on the broker."""
        base_topic = discovery_info.topic.removesuffix("/bridge/state")
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
        return self.async_show_form(
            step_id="confirm", description_placeholders={"base_topic": base_topic}
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Set up Energy Edge by hand."""
        if user_input is not None:
            await self.async_set_unique_id(user_input[CONF_BASE_TOPIC])
            self._abort_if_unique_id_configured()
            return self.async_create_entry(title=user_input[CONF_BASE_TOPIC], data=user_input)
        return self.async_show_form(step_id="user", data_schema=USER_SCHEMA)
