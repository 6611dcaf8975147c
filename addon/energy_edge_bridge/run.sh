#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Starts the Energy Edge bridge, and the simulator when asked, with the add-on's options and the
# broker of Home Assistant's Mosquitto add-on.
set -euo pipefail

# Each of these options is the bridge setting of the same name: its variable is the name in upper case.
settings=(influxdb_url influxdb_token influxdb_org influxdb_bucket bridge_api_token z2m_base_topic
  bridge_spool_max_mb bridge_spool_full bridge_public_docs log_level)
for setting in "${settings[@]}"; do
  if bashio::config.has_value "${setting}"; then
    value="$(bashio::config "${setting}")"
    export "${setting^^}=${value}"
  fi
done

# The broker and the add-ons' credentials come from the Supervisor, never from the options.
if ! bashio::services.available mqtt; then
  bashio::exit.nok "No MQTT broker: install and start the Mosquitto broker add-on, then restart this one."
fi
MQTT_HOST="$(bashio::services mqtt host)"
MQTT_PORT="$(bashio::services mqtt port)"
MQTT_USERNAME="$(bashio::services mqtt username)"
MQTT_PASSWORD="$(bashio::services mqtt password)"
MQTT_TLS="$(bashio::services mqtt ssl)"
export MQTT_HOST MQTT_PORT MQTT_USERNAME MQTT_PASSWORD MQTT_TLS

# The bridge runs unprivileged; its spool under /data is the only place it writes.
mkdir -p "${BRIDGE_SPOOL_DIR}"
chown -R "${RUN_AS_USER}" "${BRIDGE_SPOOL_DIR}"

if bashio::config.true simulator; then
  bashio::log.info "Starting the simulator: a simulated household publishes under ${Z2M_BASE_TOPIC:-zigbee2mqtt}/"
  s6-setuidgid "${RUN_AS_USER}" energy-edge-sim &
fi
bashio::log.info "Starting the bridge: broker ${MQTT_HOST}:${MQTT_PORT}, API on port ${BRIDGE_API_PORT}"
exec s6-setuidgid "${RUN_AS_USER}" energy-edge-bridge
