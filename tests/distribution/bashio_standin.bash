# A stand-in for bashio, the Supervisor's shell library, with just what the add-on's run.sh calls,
# answering as bashio does. Options come from the JSON file $ADDON_OPTIONS, the MQTT service from
# $ADDON_MQTT_SERVICE (no such file: no service).
# shellcheck shell=bash

_bashio_value() { # _bashio_value FILE KEY: the value as bashio prints it (`null` when unset)
  python3 -c 'import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8")).get(sys.argv[2])
text = "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
print(text, end="")' "$1" "$2"
}

bashio::config() { _bashio_value "$ADDON_OPTIONS" "$1"; }
bashio::config.has_value() {
  local value
  value="$(bashio::config "$1")"
  [[ -n "$value" && "$value" != null ]]
}
bashio::config.true() { [[ "$(bashio::config "$1")" == true ]]; }
bashio::services.available() { [[ "$1" == mqtt && -f "$ADDON_MQTT_SERVICE" ]]; }
bashio::services() { _bashio_value "$ADDON_MQTT_SERVICE" "$2"; }
bashio::log.info() { echo "[info] $*"; }
bashio::exit.nok() {
  echo "[fatal] $*" >&2
  exit 1
}
