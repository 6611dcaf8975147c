#!/bin/sh
# Writes the broker's password file from the environment (compose/.env), copies the ACL beside it
# and runs Mosquitto. Every start rewrites both, so a password changed in .env applies on restart.
# Passwords never reach a command line: mosquitto_passwd -U hashes a plain file in place.
set -eu

config="${MOSQUITTO_CONFIG:-/mosquitto/config/mosquitto.conf}"
auth_dir="${MOSQUITTO_AUTH_DIR:-/mosquitto/auth}"

umask 077
mkdir -p "$auth_dir"
passwords="$auth_dir/passwords"
: >"$passwords"

add_user() { # add_user NAME PASSWORD
  if [ -z "$2" ]; then
    echo "mosquitto: no password for MQTT user '$1': run ./scripts/stack up to complete compose/.env" >&2
    exit 1
  fi
  printf '%s:%s\n' "$1" "$2" >>"$passwords"
}

add_user zigbee2mqtt "${MQTT_ZIGBEE2MQTT_PASSWORD:-}"
add_user simulator "${MQTT_SIMULATOR_PASSWORD:-}"
add_user bridge "${MQTT_BRIDGE_PASSWORD:-}"
add_user homeassistant "${MQTT_HOMEASSISTANT_PASSWORD:-}"
# The healthcheck's password is new at every start and never leaves the container.
head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$auth_dir/healthcheck"
add_user healthcheck "$(cat "$auth_dir/healthcheck")"

mosquitto_passwd -U "$passwords"
cp "$(dirname "$config")/acl" "$auth_dir/acl"
# Mosquitto drops to its own user before reading these files.
if [ "$(id -u)" = 0 ] && id mosquitto >/dev/null 2>&1; then
  chown -R mosquitto:mosquitto "$auth_dir"
fi

exec mosquitto -c "$config"
