"""The engines: the logic that decides, with no Home Assistant import.

Tariffs and prices (`tariff`, `regulated`, `off_peak_check`), costs (`costs`), load shedding
(`shedding`, `estimate`), scheduling and the usual load (`scheduling`, `load_profile`), devices'
roles and readings (`devices`, `energy`), the entry's options as settings (`options`), the Energy
dashboard's preferences (`energy_preferences`), stored values (`stored`) and refusals (`errors`).
They import each other and the Zigbee2MQTT protocol module (`z2m`) only; the Home Assistant side
wires them to entities, actions and MQTT. `tests/engines/test_purity.py` keeps it so.
"""
