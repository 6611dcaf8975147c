"""Every command, entity, action and option the README and the docs name exists."""

from collections.abc import Iterator
import json
from pathlib import Path
import re

import yaml

from custom_components.energy_edge.binary_sensor import OVERLOAD
from custom_components.energy_edge.number import CONTRACT_LIMIT
from custom_components.energy_edge.sensor import HOME_COST, HOME_SENSORS, MANAGEMENT_SENSORS

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "custom_components" / "energy_edge"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

ACTION = re.compile(r"(?<![\w./-])energy_edge\.([a-z_]+)\b(?!\.)")
ENTITY = re.compile(r"\b((?:sensor|binary_sensor|number|switch|select)\.energy_edge_[a-z_]+)\b")
COMMAND = re.compile(r"\./scripts/([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")
OPTION_TABLE = re.compile(
    r"^\| (?:option|field) \| default \| [^\n]*\n\| ---[^\n]*\n((?:\|[^\n]*\n)+)", re.MULTILINE
)


def named(pattern: re.Pattern[str]) -> Iterator[tuple[str, re.Match[str]]]:
    """Every match in the docs, with the file it is in."""
    for path in DOCS:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            yield path.name, match


def hub_entity_ids() -> set[str]:
    """The hub's entity ids, fixed in English by the integration."""
    return {
        *(f"sensor.energy_edge_{d.key}" for d in (*HOME_SENSORS, *MANAGEMENT_SENSORS, HOME_COST)),
        f"number.energy_edge_{CONTRACT_LIMIT.key}",
        f"binary_sensor.energy_edge_{OVERLOAD.key}",
    }


def test_every_action_named_exists() -> None:
    actions = set(yaml.safe_load((COMPONENT / "services.yaml").read_text()))
    unknown = {(f, m[0]) for f, m in named(ACTION) if m[1] not in actions}
    assert not unknown
    assert {m[1] for _, m in named(ACTION)} == actions  # and every action is documented


def test_every_entity_named_exists() -> None:
    unknown = {(f, m[1]) for f, m in named(ENTITY) if m[1] not in hub_entity_ids()}
    assert not unknown
    assert {m[1] for _, m in named(ENTITY)} == hub_entity_ids()  # and every one is documented


def test_every_command_named_exists_with_its_subcommand() -> None:
    missing = []
    for file, match in named(COMMAND):
        script = ROOT / "scripts" / match[1]
        if not script.is_file() or (match[2] and match[2] not in _usage(script)):
            missing.append((file, match[0]))
    assert not missing


def _usage(script: Path) -> str:
    """The script's text, and for a Python launcher the package it runs."""
    text = script.read_text(encoding="utf-8")
    package = re.search(r"-m (?:scripts\.lib\.)?([a-z_]+)", text)
    if package and (ROOT / "scripts" / "lib" / package[1]).is_dir():
        text += "".join(p.read_text() for p in (ROOT / "scripts/lib" / package[1]).glob("*.py"))
    return text


def test_every_option_in_the_docs_tables_is_a_field_of_the_forms() -> None:
    strings = json.loads((COMPONENT / "strings.json").read_text())
    labels = {
        label
        for flow in ("config", "options")
        for step in strings[flow]["step"].values()
        for label in step.get("data", {}).values()
    }
    documented = [
        (file, row.split("|")[1].strip())
        for file, match in named(OPTION_TABLE)
        for row in match[1].splitlines()
    ]
    assert documented  # the tables are found
    unknown = [
        (file, name) for file, name in documented if re.sub(r" \([^)]*\)$", "", name) not in labels
    ]
    assert not unknown


LINK = re.compile(r"\]\(((?:docs/)?[a-z-]*\.md)?#([a-z0-9-]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to -."""
    headings = re.findall(r"^#+ (.+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_every_link_to_a_section_finds_it() -> None:
    broken = []
    for path in DOCS:
        for match in LINK.finditer(path.read_text(encoding="utf-8")):
            target = path if not match[1] else path.parent / match[1]
            if not target.is_file() or match[2] not in _anchors(target):
                broken.append((path.name, match[0]))
    assert not broken
