#!/bin/sh
# Creates the files that Home Assistant's UI editors write to (configuration.yaml includes them),
# installs Energy Edge's Zigbee2MQTT library, then hands over to the image's own init
# (s6-overlay), which runs Home Assistant.
set -eu

cd "${HA_CONFIG_DIR:-/config}"
[ -s automations.yaml ] || echo '[]' >automations.yaml
touch scripts.yaml scenes.yaml

# Energy Edge requires its Zigbee2MQTT library (manifest.json, at the checkout's version): it is
# installed from the checkout, so Home Assistant finds it and installs nothing from PyPI, where an
# unreleased version is not. Home Assistant's image carries uv (it installs requirements with it).
protocol="${ENERGY_EDGE_PROTOCOL_DIR:-/energy-edge/protocol}"
if [ -d "$protocol" ]; then
  python3 -m uv pip install --quiet --no-deps "$protocol"
fi

exec "${HA_INIT:-/init}"
