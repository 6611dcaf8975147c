"""The history query's Flux, and InfluxDB's annotated CSV answers (recorded, by InfluxDB's format).

InfluxDB 2 cannot run on these machines: the Flux text is checked as text, and the parser is
checked on recorded answers, against influxdb-client's own parser as an independent reader.
"""

from datetime import UTC, datetime, timedelta, timezone
import io
import math
from pathlib import Path

from influxdb_client.client.flux_csv_parser import FluxCsvParser, FluxSerializationMode
import pytest

from energy_edge_bridge.flux import (
    Aggregation,
    HistoryQuery,
    finite_or_none,
    flux_string,
    parse_annotated_csv,
    parse_duration,
)
from energy_edge_bridge.influxdb import QueryError
from tests.stack.checks import check_flux

RECORDINGS = Path(__file__).parent / "recordings"


def query(**changes: object) -> HistoryQuery:
    """The history of a plug's power, one day, 5-minute means."""
    values: dict[str, object] = {
        "bucket": "energy",
        "measurement": "zigbee2mqtt",
        "tag": "ieee",
        "tag_value": "0xa4c1380000000001",
        "field": "power",
        "start": datetime(2026, 11, 27, tzinfo=UTC),
        "stop": datetime(2026, 11, 28, tzinfo=UTC),
        "window": "5m",
        "aggregation": Aggregation.MEAN,
    }
    values.update(changes)
    return HistoryQuery(**values)  # type: ignore[arg-type]


def test_the_history_query_reads_one_field_of_one_device_per_window() -> None:
    """Bucket, range, filter on measurement + device + field, windowed aggregation, time order."""
    assert query().flux() == (
        'from(bucket: "energy")\n'
        "  |> range(start: 2026-11-27T00:00:00.000000Z, stop: 2026-11-28T00:00:00.000000Z)\n"
        '  |> filter(fn: (r) => r._measurement == "zigbee2mqtt"'
        ' and r.ieee == "0xa4c1380000000001" and r._field == "power")\n'
        "  |> group()\n"
        "  |> aggregateWindow(every: 5m, fn: mean, createEmpty: false)\n"
        '  |> keep(columns: ["_time", "_value"])\n'
        '  |> sort(columns: ["_time"])\n'
    )


def test_times_are_written_in_utc() -> None:
    """A time with an offset becomes the same instant in UTC."""
    paris = datetime(2026, 11, 27, 10, 30, tzinfo=timezone(timedelta(hours=1)))
    flux = query(start=paris, stop=paris + timedelta(hours=1)).flux()
    assert "start: 2026-11-27T09:30:00.000000Z, stop: 2026-11-27T10:30:00.000000Z" in flux


def test_names_cannot_escape_their_string() -> None:
    """Quotes, backslashes and Flux interpolation in a device name stay inside the literal."""
    hostile = 'x") |> drop() //${r.secret}\\'
    assert flux_string(hostile) == r'"x\") |> drop() //\${r.secret}\\"'
    flux = query(tag="device", tag_value=hostile).flux()
    assert r'r.device == "x\") |> drop() //\${r.secret}\\"' in flux


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("500ms", timedelta(milliseconds=500)),
    ],
)
def test_windows_are_flux_durations(text: str, duration: timedelta) -> None:
    """One number, one unit."""
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["5", "5 m", "1h30m", "-5m", "0m", "5mo", "m", "5m)"])
def test_other_windows_are_refused(text: str) -> None:
    """Anything else never reaches a query."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_recorded_history_answer_is_read() -> None:
    """Times in UTC (nanoseconds cut to microseconds), doubles, NaN and null values."""
    records = list(parse_annotated_csv((RECORDINGS / "history_power_mean_5m.csv").read_text()))
    assert [r["_time"] for r in records][:2] == [
        datetime(2026, 11, 27, 8, 5, tzinfo=UTC),
        datetime(2026, 11, 27, 8, 10, tzinfo=UTC),
    ]
    values = [r["_value"] for r in records]
    assert values[:3] == [118.25, 121.5, 1843.0625]
    assert isinstance(values[3], float)
    assert math.isnan(values[3])
    assert values[4] is None
    assert values[5] == 2500.0
    assert records[5]["_time"] == datetime(2026, 11, 27, 8, 30, 0, 123456, tzinfo=UTC)
    assert {r["result"] for r in records} == {"_result"}  # from the #default annotation
    assert [finite_or_none(v) for v in values] == [118.25, 121.5, 1843.0625, None, None, 2500.0]


def _oracle(name: str) -> list[dict[str, object]]:
    """influxdb-client's reading of a recorded answer."""
    data = (RECORDINGS / name).read_bytes()
    with FluxCsvParser(io.BytesIO(data), FluxSerializationMode.stream) as parser:
        return [dict(record.values) for record in parser.generator()]


@pytest.mark.parametrize("name", ["history_power_mean_5m.csv", "two_tables.csv", "empty.csv"])
def test_the_parser_agrees_with_the_official_client(name: str) -> None:
    """Several tables, a second header with another schema, defaults, quoted commas, every
    datatype: read as influxdb-client reads them."""
    ours = list(parse_annotated_csv((RECORDINGS / name).read_text()))
    theirs = _oracle(name)
    assert len(ours) == len(theirs)
    for mine, official in zip(ours, theirs, strict=True):
        assert mine.keys() == official.keys()
        for key, value in mine.items():
            expected = official[key]
            if isinstance(expected, float) and math.isnan(expected):
                assert isinstance(value, float)
                assert math.isnan(value)
            else:
                assert value == expected, key


def test_two_tables_keep_their_own_columns() -> None:
    """The second block's header and types replace the first's."""
    records = list(parse_annotated_csv((RECORDINGS / "two_tables.csv").read_text()))
    assert records[2]["device"] == "salon, lamp"
    assert records[3] == {
        "result": "counts",
        "table": 2,
        "device": "kitchen/kettle",
        "_value": 42,
        "online": True,
    }
    assert records[4]["online"] is False
    assert records[4]["_value"] == -7


def test_an_error_table_becomes_a_query_error() -> None:
    """InfluxDB reports errors met while running a query inside a 200 answer."""
    with pytest.raises(QueryError, match="unsupported aggregate column type string"):
        list(parse_annotated_csv((RECORDINGS / "runtime_error.csv").read_text()))


def test_finite_or_none_keeps_json_valid() -> None:
    """JSON has no NaN or infinity; booleans and text are not numbers."""
    assert finite_or_none(3) == 3.0
    assert finite_or_none(float("inf")) is None
    assert finite_or_none(True) is None
    assert finite_or_none("1") is None


def test_the_history_queries_pass_influxdatas_flux_checker() -> None:
    """InfluxData's own Flux parser and semantic analyser (flux-lsp, the engine of InfluxDB's
    and Grafana's editors, as the stack's dashboard tests run it) find no error in the history
    query, for every aggregation, hostile names included; a broken query shows it would."""
    scripts = {
        str(aggregation): query(aggregation=aggregation).flux() for aggregation in Aggregation
    }
    scripts["by name"] = query(tag="device", tag_value='x") |> drop() //${r.secret}\\').flux()
    scripts["broken"] = 'from(bucket: "energy") |> range(start: ) |> mean(colum: "_value")'
    diagnostics = {name: result["diagnostics"] for name, result in check_flux(scripts).items()}
    assert diagnostics.pop("broken")
    assert diagnostics == {name: [] for name in scripts if name != "broken"}
