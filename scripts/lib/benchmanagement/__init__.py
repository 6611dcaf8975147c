"""The outcome benchmark of load shedding and scheduling (`./scripts/bench-management`).

It replays the simulator's household (`fr_house`, no MQTT) second by second through the
integration's pure engines, as the Home Assistant layer feeds them: Linky readings at the ZLinky's
cadence, plug reports at each plug's own, commands that take effect after a switching lag. It
measures what the family would notice: time above the contract power, loads shed, and the bill.
"""
