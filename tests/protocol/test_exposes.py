"""A definition's exposes: which properties can be set, and with which values."""

from zigbee2mqtt_protocol.exposes import Setting, SettingKind, collect_settings


def settings_of(exposes: list[object]) -> dict[str, Setting]:
    """The settable properties of a definition's exposes."""
    settings: dict[str, Setting] = {}
    collect_settings(exposes, settings)
    return settings


def test_every_kind_of_setting_is_understood() -> None:
    """Binary with booleans, enums, text, composites, lists; read-only and unknown left out."""
    settings = settings_of(
        [
            {
                "type": "binary",
                "property": "led",
                "access": 7,
                "value_on": True,
                "value_off": False,
            },
            {"type": "text", "property": "label", "access": 2},
            {"type": "numeric", "property": "level", "access": 3},
            {
                "type": "composite",
                "property": "color",
                "access": 2,
                "features": [{"type": "numeric", "property": "x", "access": 2}],
            },
            {"type": "list", "property": "schedule", "access": 3},
            {"type": "enum", "property": "mode", "access": 2, "values": "broken"},
            {"type": "numeric", "property": "power", "access": 5},
            {"type": "gizmo", "property": "unknown", "access": 7},
            {"type": "numeric", "property": "no_access"},
            "not an object",
        ]
    )
    assert set(settings) == {"led", "label", "level", "color", "schedule", "mode"}
    assert settings["led"].problem(True) is None
    assert settings["label"].problem("x") is None
    assert settings["level"].problem(1e6) is None
    assert settings["color"].problem({"x": 0.1}) is None
    assert settings["schedule"].problem([]) is None
    assert settings["led"].problem("ON") == "expected one of true, false"
    assert settings["label"].problem(3) == "expected a string"
    assert settings["color"].problem([1]) == "expected an object"
    assert settings["schedule"].problem({}) == "expected a list"
    assert settings["mode"].problem("eco") == "expected one of "


def test_a_switch_and_its_features_give_their_settings() -> None:
    """A TS011F plug's exposes (Zigbee2MQTT 2.12.1): the switch's `state` with ON, OFF and
    TOGGLE, an enum, a bounded number; measurements (access 5: state and get) are not
    settable."""
    settings = settings_of(
        [
            {
                "type": "switch",
                "features": [
                    {
                        "access": 7,
                        "type": "binary",
                        "property": "state",
                        "value_on": "ON",
                        "value_off": "OFF",
                        "value_toggle": "TOGGLE",
                    }
                ],
            },
            {
                "access": 7,
                "type": "enum",
                "property": "power_outage_memory",
                "values": ["on", "off", "restore"],
            },
            {
                "access": 3,
                "type": "numeric",
                "property": "countdown",
                "value_min": 0,
                "value_max": 43200,
            },
            {"access": 5, "type": "numeric", "property": "power", "unit": "W"},
        ]
    )
    assert settings == {
        "state": Setting(SettingKind.BINARY, ("ON", "OFF", "TOGGLE")),
        "power_outage_memory": Setting(SettingKind.ENUM, ("on", "off", "restore")),
        "countdown": Setting(SettingKind.NUMERIC, minimum=0.0, maximum=43200.0),
    }
