"""Settings of the simulator: the bridge's MQTT connection plus what only the simulator needs."""

from pydantic import Field

from energy_edge_bridge.settings import MqttSettings


class SimulatorSettings(MqttSettings):
    """Read from the environment (or `.env`) like the bridge's; the extra variables are below."""

    ha_discovery_prefix: str = Field(default="homeassistant", min_length=1)  # HA_DISCOVERY_PREFIX
    sim_client_id: str = Field(default="energy-edge-simulator", min_length=1)  # SIM_CLIENT_ID
    sim_control_topic: str = Field(default="energy_edge/simulator/control", min_length=1)
    # Zigbee2MQTT republishes every state 30 s after Home Assistant says it is online.
    ha_status_delay_s: float = Field(default=30.0, ge=0)  # HA_STATUS_DELAY_S
