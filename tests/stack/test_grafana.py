"""Grafana: the provisioned data source and dashboards, and every Flux query they run.

Flux is checked by InfluxData's own parser and semantic analyser (flux-lsp, WebAssembly, from
npm); each measurement and field a query reads is checked against what the bridge's schema and
Home Assistant's export write.
"""

from dataclasses import replace
import json
import re
from typing import Any

import pytest

from tests.helpers.reference import ZLINKY_EXPOSES
from tests.stack import checks
from tests.stack.checks import Query, Stack
from tests.stack.conftest import StackCopy


@pytest.fixture(scope="module")
def flux_results(stack: Stack) -> tuple[list[str], dict[str, Any]]:
    """The Flux check of every query of the repository's dashboards."""
    return checks.flux_problems(checks.dashboard_queries(stack.dashboards()))


def panel_query(dashboard: dict[str, Any], title: str) -> dict[str, Any]:
    """The first target of the panel with this title."""
    (panel,) = (panel for panel in dashboard["panels"] if panel["title"] == title)
    return panel["targets"][0]  # type: ignore[no-any-return]


def test_the_stack_passes(stack: Stack) -> None:
    """The repository's provisioning and dashboards pass."""
    assert checks.grafana_problems(stack) == []


def test_every_dashboard_the_issue_asks_for_is_provisioned(stack: Stack) -> None:
    """Home overview, devices, Linky and bridge health, each with its queries."""
    dashboards = stack.dashboards()
    assert set(dashboards) == {"home.json", "devices.json", "linky.json", "bridge.json"}
    templating = {
        name: [variable["name"] for variable in dashboard["templating"]["list"]]
        for name, dashboard in dashboards.items()
    }
    assert templating["devices.json"] == ["datasource", "site", "device"]
    assert templating["linky.json"] == ["datasource", "site", "linky"]


# Points of a single home carry no `site` tag: they pass whatever the home chosen. The homes
# chosen go in as a regex: Grafana's `:regex` escapes `$`, `{`, `\`, `/`... in each value (and
# a regex literal has no `${...}` interpolation), where `:json` would leave `${` to Flux.
SITE_FILTER = "(not exists r.site or r.site =~ /^${site:regex}$/)"


@pytest.mark.parametrize("name", ["devices.json", "linky.json"])
def test_the_bridges_points_are_filtered_by_home(stack: Stack, name: str) -> None:
    """With many homes (`homes/+/zigbee2mqtt`), the `site` variable lists them, "All" by
    default, and every query of the bridge's points, the device list included, keeps the
    homes chosen; a single home's points, without the tag, always pass."""
    dashboard = stack.dashboards()[name]
    site, listed = dashboard["templating"]["list"][1:3]
    assert (site["includeAll"], site["multi"], site["current"]) == (True, True, {})
    assert site["allValue"] == ".*"  # "All": every home, without listing thousands
    assert 'tag: "site"' in site["query"]
    queries = [listed["query"]] + [
        target["query"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if '"zigbee2mqtt' in target["query"]
    ]
    assert len(queries) > 4
    unfiltered = [
        query for query in queries if query.count(SITE_FILTER) < max(1, query.count("from(bucket"))
    ]
    assert unfiltered == []


def grafana_regex(values: list[str]) -> str:
    """What Grafana's `:regex` format makes of a multi-value variable: each value escaped by
    its `kbn.regexEscape` (public/app/core/utils/kbn.ts: a backslash before each of
    `\\ ^ $ * + ? . ( ) | [ ] { } /`), one value as is, several as `(a|b)`."""
    escaped = [re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m[0], v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


# Homes are topic levels: anything but `/`, `+`, `#` and NUL, from whoever publishes.
HOSTILE_SITES = ["h1", "a${r._value}b", 'q"x', "c\x01d", "n\nl", "b\\s", "(.*)", "é ü"]


@pytest.mark.parametrize("chosen", [HOSTILE_SITES, ["a${r._value}b"]], ids=["all", "one"])
def test_any_home_name_stays_a_home_name_in_every_query(stack: Stack, chosen: list[str]) -> None:
    """Homes named with Flux interpolation, quotes, control characters or regex syntax: every
    query as Grafana sends it is valid Flux, and its site filter matches exactly the homes
    chosen (`:json` made `${...}` an interpolation and `\u0001` a syntax error)."""
    queries = [
        query
        for query in checks.dashboard_queries(stack.dashboards())
        if "${site:regex}" in query.text
    ]
    assert len(queries) > 10
    scripts = {}
    for query in queries:
        text = query.text.replace("${site:regex}", grafana_regex(chosen))
        scripts[query.where] = checks.as_sent_by_grafana(replace(query, text=text))[0]
    results = checks.check_flux(scripts)
    problems = {where: result["diagnostics"] for where, result in results.items()}
    assert problems == {where: [] for where in scripts}
    for result in results.values():
        patterns = {
            node["value"]
            for node in checks.nodes(result["ast"])
            if node.get("type") == "RegexpLiteral" and node["value"] != "^sample$"
        }
        (pattern,) = patterns  # the device's or the Linky's, filled with "sample", aside
        assert [site for site in HOSTILE_SITES if re.fullmatch(pattern, site)] == chosen
        assert re.fullmatch(pattern, "h1 ") is None


# Device names are Zigbee2MQTT friendly names: `/` for rooms, spaces, accents, quotes, anything.
HOSTILE_DEVICES = ["kitchen/plug", "a${r._value}b", 'q"x', "c\x01d", "b\\s", "(.*)", "é ü"]


@pytest.mark.parametrize("variable", ["device", "linky"])
def test_any_device_name_stays_a_device_name_in_every_query(stack: Stack, variable: str) -> None:
    """The devices (or the Linky) chosen go in through `:regex`, as the homes do: every query
    is valid Flux and matches exactly the names chosen (`:json` and a quoted `${linky}` let
    `${...}` reach Flux's interpolation and a quote end the string)."""
    queries = [
        query
        for query in checks.dashboard_queries(stack.dashboards())
        if "${" + variable in query.text
    ]
    assert queries
    assert all(f"${{{variable}:regex}}" in query.text for query in queries)
    chosen = HOSTILE_DEVICES[1:3] if variable == "device" else ["kitchen/plug"]
    scripts = {}
    for query in queries:
        text = query.text.replace(f"${{{variable}:regex}}", grafana_regex(chosen))
        scripts[query.where] = checks.as_sent_by_grafana(replace(query, text=text))[0]
    results = checks.check_flux(scripts)
    problems = {where: result["diagnostics"] for where, result in results.items()}
    assert problems == {where: [] for where in scripts}
    for result in results.values():
        patterns = [
            node["value"]
            for node in checks.nodes(result["ast"])
            if node.get("type") == "RegexpLiteral" and node["value"] != "^sample$"
        ]
        assert patterns
        for pattern in patterns:
            assert [name for name in HOSTILE_DEVICES if re.fullmatch(pattern, name)] == chosen


def test_every_query_is_valid_flux(flux_results: tuple[list[str], dict[str, Any]]) -> None:
    """No syntax error, unknown function, wrong argument or type error in any query."""
    problems, trees = flux_results
    assert problems == []
    assert len(trees) > 30


def test_every_query_reads_what_the_bridge_or_home_assistant_writes(
    flux_results: tuple[list[str], dict[str, Any]],
) -> None:
    """Each measurement and field filtered on exists in the bridge's schema or HA's export."""
    _, trees = flux_results
    assert checks.flux_schema_problems(trees) == []


def test_queries_read_each_kind_of_point(flux_results: tuple[list[str], dict[str, Any]]) -> None:
    """The dashboards cover the bridge's four measurements and Energy Edge's entities."""
    _, trees = flux_results
    measurements = set().union(
        *(checks.columns_read(tree)[0]["_measurement"] for tree in trees.values())
    )
    assert measurements == set(checks.fields_written())


VALID = "from(bucket: v.defaultBucket)\n  |> range(start: v.timeRangeStart)\n  |> last()"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("range(", "rnage(", "line 2: undefined identifier rnage"),
        ("last()", "last(", "expected RPAREN"),
    ],
    ids=["unknown-function", "syntax"],
)
def test_invalid_flux_is_caught(old: str, new: str, expected: str) -> None:
    """The real parser reports syntax and semantic errors, with the query's place."""
    text = VALID.replace(old, new)
    problems, _ = checks.flux_problems([Query("home.json: panel 'Broken'", text, frozenset())])
    assert len(problems) >= 1
    assert all(problem.startswith("home.json: panel 'Broken': line ") for problem in problems)
    assert any(expected in problem for problem in problems)


def test_valid_flux_passes() -> None:
    """The same query unbroken has no problem: the check tells good from bad."""
    assert checks.flux_problems([Query("q", VALID, frozenset())])[0] == []


def test_wrong_argument_is_caught() -> None:
    """flux-lsp knows the standard library's signatures."""
    text = "from(bucket: v.defaultBucket)\n  |> range(begin: v.timeRangeStart)"
    problems, _ = checks.flux_problems([Query("q", text, frozenset())])
    assert "q: line 2: found unexpected argument begin (Expected one of `start` or `stop`)" in (
        problems
    )


def test_undefined_template_variable_is_caught() -> None:
    """A query may only use the variables its dashboard defines."""
    text = (
        "from(bucket: v.defaultBucket)\n  |> range(start: -1h)\n"
        '  |> filter(fn: (r) => r.device == "${plug}")'
    )
    problems, _ = checks.flux_problems([Query("q", text, frozenset({"device"}))])
    assert problems == ["q uses $plug, which is not a variable"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('r._field == "power"', 'r._field == "powr"', "'zigbee2mqtt' has no field 'powr'"),
        (
            'r._measurement == "zigbee2mqtt"',
            'r._measurement == "zigbee"',
            "nothing writes the measurement 'zigbee'",
        ),
        (
            'r._measurement == "zigbee2mqtt"',
            "r._measurement =~ /zigbee2mqtt/",
            "filter _measurement and _field with == on a string only",
        ),
    ],
    ids=["unknown-field", "unknown-measurement", "unverifiable-filter"],
)
def test_query_reading_what_nothing_writes_is_caught(
    copy: StackCopy, old: str, new: str, expected: str
) -> None:
    """A typo in a measurement or field gives an empty panel: the check names it."""
    copy.edit_dashboard(
        "devices.json",
        lambda data: panel_query(data, "Power per device").update(
            query=panel_query(data, "Power per device")["query"].replace(old, new)
        ),
    )
    _, trees = checks.flux_problems(checks.dashboard_queries(copy.stack.dashboards()))
    problems = checks.flux_schema_problems(trees)
    assert problems
    assert all(problem.startswith("devices.json: panel 'Power per device'") for problem in problems)
    assert any(expected in problem for problem in problems)


def test_home_assistant_entity_outside_the_contract_is_caught(copy: StackCopy) -> None:
    """Energy Edge's entity ids are a contract: a query on another one is caught."""
    copy.edit_dashboard(
        "home.json",
        lambda data: panel_query(data, "Home power").update(
            query=panel_query(data, "Home power")["query"].replace("home_power", "house_power")
        ),
    )
    _, trees = checks.flux_problems(checks.dashboard_queries(copy.stack.dashboards()))
    assert checks.flux_schema_problems(trees) == [
        (
            "home.json: panel 'Home power': nothing writes the measurement "
            "'sensor.energy_edge_house_power'"
        )
    ]


def test_duplicate_uid_is_caught(copy: StackCopy) -> None:
    """Two dashboards with one uid: Grafana provisions only one of them."""
    copy.edit_dashboard("linky.json", lambda data: data.update(uid="energy-edge-home"))
    assert checks.grafana_problems(copy.stack) == [
        "linky.json and home.json share the uid energy-edge-home"
    ]


def test_other_data_source_is_caught(copy: StackCopy) -> None:
    """Every panel and variable uses the data source variable, not a fixed uid."""
    copy.edit_dashboard(
        "bridge.json",
        lambda data: panel_query(data, "Ingest rate").update(
            datasource={"uid": "energy-edge-influxdb"}
        ),
    )
    assert checks.grafana_problems(copy.stack) == [
        "bridge.json refers to data source {'uid': 'energy-edge-influxdb'}, not ${datasource}"
    ]


def test_a_dashboard_without_its_data_source_variable_is_caught(copy: StackCopy) -> None:
    """Imported elsewhere it must ask for the InfluxDB; provisioned, it opens on ours."""

    def other_default(data: dict[str, Any]) -> None:
        data["templating"]["list"][0]["current"] = {"text": "Old", "value": "influx-old"}

    def no_variable(data: dict[str, Any]) -> None:
        del data["templating"]["list"][0]

    copy.edit_dashboard("linky.json", other_default)
    copy.edit_dashboard("home.json", no_variable)
    assert checks.grafana_problems(copy.stack) == [
        "home.json has no datasource variable of InfluxDB data sources",
        "linky.json: the datasource variable does not default to energy-edge-influxdb",
    ]


def test_invalid_dashboard_json_is_caught(copy: StackCopy) -> None:
    """Grafana skips a dashboard it cannot parse."""
    path = copy.root / "grafana/dashboards/home.json"
    path.write_text(path.read_text().rstrip().removesuffix("}"))
    (problem,) = checks.grafana_problems(copy.stack)
    assert problem.startswith("a dashboard is not valid JSON")


def test_data_source_without_flux_or_token_from_env_is_caught(copy: StackCopy) -> None:
    """The data source speaks Flux and takes its token from the container's environment."""

    def weaken(data: dict[str, Any]) -> None:
        source = data["datasources"][0]
        source["jsonData"]["version"] = "InfluxQL"
        source["secureJsonData"]["token"] = "my-token"  # noqa: S105

    copy.edit_yaml("grafana/provisioning/datasources/influxdb.yaml", weaken)
    assert checks.grafana_problems(copy.stack) == [
        "the provisioned data source does not speak Flux",
        "the data source's token does not come from the environment",
    ]


def test_provisioning_variable_missing_from_the_container_is_caught(copy: StackCopy) -> None:
    """Grafana fills ${VAR} in provisioning from its environment: each must be there."""
    copy.edit_compose(lambda data: data["services"]["grafana"]["environment"].pop("INFLUXDB_ORG"))
    assert checks.grafana_problems(copy.stack) == [
        "influxdb.yaml reads $INFLUXDB_ORG, which Grafana's container lacks"
    ]


def test_unmounted_dashboard_folder_is_caught(copy: StackCopy) -> None:
    """The provider's path must be where the dashboards are mounted."""
    copy.replace(
        "grafana/provisioning/dashboards/energy-edge.yaml",
        "path: /etc/grafana/dashboards",
        "path: /var/lib/grafana/dashboards",
    )
    assert checks.grafana_problems(copy.stack) == [
        "dashboards are loaded from /var/lib/grafana/dashboards, unmounted"
    ]


# ---- the Linky dashboard in each TIC mode ---------------------------------------------------

# The ZLinky's exposes per TIC mode, as zigbee-herdsman-converters builds them (shared reference).
ZLINKY_MODES: dict[str, frozenset[str]] = (
    {
        mode: frozenset(e["property"] for e in exposes if e["type"] == "numeric")
        for mode, exposes in json.loads(ZLINKY_EXPOSES.read_text()).items()
    }
    if ZLINKY_EXPOSES.is_file()
    else {}
)
TIER = re.compile(r"^current_tier\d+_summ_delivered$")
needs_zlinky_modes = pytest.mark.skipif(not ZLINKY_MODES, reason="no ZLinky reference exposes")


def linky_fields_by_panel(trees: dict[str, Any]) -> dict[str, set[str]]:
    """The fields each panel of the Linky dashboard reads (the bridge writes Z2M's properties)."""
    return {
        where: checks.columns_read(tree)[0]["_field"]
        for where, tree in trees.items()
        if where.startswith("linky.json: panel")
    }


@needs_zlinky_modes
@pytest.mark.parametrize("mode", sorted(ZLINKY_MODES))
def test_every_linky_panel_shows_something_in_each_tic_mode(
    flux_results: tuple[list[str], dict[str, Any]], mode: str
) -> None:
    """Each panel reads a property the meter publishes in this mode (the tariff periods' panels
    only where the mode has tariff indexes)."""
    published = ZLINKY_MODES[mode]
    has_tiers = any(TIER.match(prop) for prop in published)
    empty = [
        where
        for where, fields in linky_fields_by_panel(flux_results[1]).items()
        if not fields & published and (has_tiers or not all(TIER.match(f) for f in fields))
    ]
    assert empty == []


@needs_zlinky_modes
@pytest.mark.parametrize("mode", sorted(m for m in ZLINKY_MODES if "TEMPO" in m or "BBR" in m))
def test_the_tariff_panels_chart_every_tempo_index(
    flux_results: tuple[list[str], dict[str, Any]], mode: str
) -> None:
    """Tempo has six indexes (HC and HP of blue, white and red days): a panel that reads tariff
    indexes reads all six."""
    tempo = {prop for prop in ZLINKY_MODES[mode] if TIER.match(prop)}
    assert len(tempo) == 6
    missing = {
        where: sorted(tempo - fields)
        for where, fields in linky_fields_by_panel(flux_results[1]).items()
        if any(TIER.match(f) for f in fields) and tempo - fields
    }
    assert missing == {}


def test_the_linky_contract_is_kva_in_both_modes(
    flux_results: tuple[list[str], dict[str, Any]],
) -> None:
    """`available_power` is PREF in kVA (standard mode, which alone sends the cut-off power
    PCOUP) or ISOUSC in A (historic mode): each query reading it tells the modes apart by PCOUP
    and converts amps at Enedis' 5 A per kVA (0.2 kVA per A)."""
    trees = flux_results[1]
    readers = {
        where: tree
        for where, tree in trees.items()
        if where.startswith("linky.json")
        and "available_power" in checks.columns_read(tree)[0]["_field"]
    }
    assert readers
    unconverted = [
        where
        for where, tree in readers.items()
        if "power_threshold" not in checks.columns_read(tree)[0]["_field"]
        or not any(
            node.get("type") == "FloatLiteral" and node["value"] == 1 / 5
            for node in checks.nodes(tree)
        )
    ]
    assert unconverted == []
