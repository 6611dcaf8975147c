"""English and French say the same things: the same keys and placeholders; every action,
entity, option and refusal has its words and its icon."""

import json
from pathlib import Path
import re
from typing import Any

import hass_frontend
from homeassistant.core import HomeAssistant
from homeassistant.helpers.service import async_get_all_descriptions
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.energy_edge import binary_sensor, number, select, sensor, switch
from custom_components.energy_edge.engines.options import PERIODS_OF, price_key
from custom_components.energy_edge.engines.scheduling import SchedulingErrorReason
from custom_components.energy_edge.engines.shedding import Priority, SheddingErrorReason
from custom_components.energy_edge.engines.tariff import Period

from .conftest import setup_energy_edge

PACKAGE = Path(__file__).parents[2] / "custom_components" / "energy_edge"
STRINGS = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
FRENCH = json.loads((PACKAGE / "translations" / "fr.json").read_text(encoding="utf-8"))
ICONS = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))
SERVICES = yaml.safe_load((PACKAGE / "services.yaml").read_text(encoding="utf-8"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def leaves(tree: dict[str, Any], path: str = "") -> dict[str, str]:
    """Every string of a translation tree, by its dotted path."""
    found: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            found |= leaves(value, f"{path}{key}.")
        else:
            found[f"{path}{key}"] = value
    return found


def test_english_translations_are_the_strings() -> None:
    english = json.loads((PACKAGE / "translations" / "en.json").read_text(encoding="utf-8"))
    assert english == STRINGS


def test_french_has_every_string_with_the_same_placeholders() -> None:
    english, french = leaves(STRINGS), leaves(FRENCH)
    assert english.keys() == french.keys()
    for path, text in english.items():
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(french[path])), path


def test_every_refusal_of_the_engines_has_a_message() -> None:
    for reason in (*SheddingErrorReason, *SchedulingErrorReason):
        assert reason.value in STRINGS["exceptions"], reason


def test_every_entity_has_a_name_and_an_icon() -> None:
    platforms = {
        "sensor": [
            *sensor.HOME_SENSORS,
            *sensor.DEVICE_SENSORS,
            *sensor.MANAGEMENT_SENSORS,
            sensor.HOME_COST,
            sensor.DEVICE_COST,
            sensor.NEXT_RUN,
        ],
        "binary_sensor": [binary_sensor.OVERLOAD],
        "number": [number.CONTRACT_LIMIT],
        "select": [select.PRIORITY],
        "switch": [switch.MANAGED],
    }
    for platform, descriptions in platforms.items():
        for description in descriptions:
            key = description.translation_key
            assert key is not None
            assert STRINGS["entity"][platform][key]["name"], key
            assert ICONS["entity"][platform][key]["default"].startswith("mdi:"), key
    assert set(STRINGS["entity"]["sensor"]["current_period"]["state"]) == {p.value for p in Period}
    assert set(STRINGS["entity"]["select"]["priority"]["state"]) == {p.value for p in Priority}


def test_every_price_option_has_a_label() -> None:
    steps = STRINGS["options"]["step"]
    for kind, periods in PERIODS_OF.items():
        for period in periods:
            assert steps[kind.value]["data"][price_key(period)], period


def test_every_action_has_words_and_an_icon_for_it_and_its_fields() -> None:
    assert SERVICES.keys() == STRINGS["services"].keys() == ICONS["services"].keys()
    for name, definition in SERVICES.items():
        fields = (definition or {}).get("fields", {})  # an action may take no field
        assert STRINGS["services"][name].get("fields", {}).keys() == fields.keys(), name


async def test_home_assistant_reads_the_actions_descriptions(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry
) -> None:
    await setup_energy_edge(hass)
    descriptions = (await async_get_all_descriptions(hass))["energy_edge"]
    assert descriptions.keys() == SERVICES.keys()
    assert descriptions["schedule_load"]["fields"]["duration"]["required"] is True
    assert descriptions["schedule_load"]["response"] == {"optional": True}


def test_every_icon_exists_in_the_frontend_s_icon_set() -> None:
    """An icon Material Design Icons lacks shows nothing: each one is in the set HA's frontend
    ships (the `home-assistant-frontend` package)."""
    shipped = Path(hass_frontend.where()) / "static" / "mdi" / "iconList.json"
    names = {f"mdi:{icon['name']}" for icon in json.loads(shipped.read_text(encoding="utf-8"))}
    used = set(re.findall(r"mdi:[a-z0-9-]+", json.dumps(ICONS)))
    assert used
    assert used - names == set()


def test_every_step_of_every_form_has_a_title_and_a_description() -> None:
    """Set-up, options and repair forms all say what they are for (French matches by keys)."""
    steps = {
        f"{flow}.{name}": step
        for flow in ("config", "options")
        for name, step in STRINGS[flow]["step"].items()
    }
    steps |= {
        f"issues.{issue}.{name}": step
        for issue, words in STRINGS["issues"].items()
        for name, step in words.get("fix_flow", {}).get("step", {}).items()
    }
    assert "options.loads" in steps
    assert "issues.no_managed_load.init" in steps
    untitled = [name for name, step in steps.items() if not step.get("title")]
    undescribed = [name for name, step in steps.items() if not step.get("description")]
    assert (untitled, undescribed) == ([], [])


def test_the_standby_threshold_is_called_so() -> None:
    shedding = "options.step.shedding.data.running_threshold_w"
    assert leaves(STRINGS)[shedding] == "Standby threshold"
    assert leaves(FRENCH)[shedding] == "Seuil de veille"
