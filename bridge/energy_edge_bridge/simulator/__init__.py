"""Simulation mode: a French household that speaks Zigbee2MQTT 2.x\x27s MQTT protocol."""
