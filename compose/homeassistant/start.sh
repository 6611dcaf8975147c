#!/bin/sh
# Creates the files that Home Assistant's UI editors write to (configuration.yaml includes them),
# then hands over to the image's own init (s6-overlay), which runs Home Assistant.
set -eu

cd "${HA_CONFIG_DIR:-/config}"
[ -s automations.yaml ] || echo '[]' >automations.yaml
touch scripts.yaml scenes.yaml

exec "${HA_INIT:-/init}"
