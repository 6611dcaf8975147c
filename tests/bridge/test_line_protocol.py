"""Points are written in InfluxDB's line protocol, escaped so that any name survives."""

import httpx
from hypothesis import given, strategies as st
from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision

from energy_edge_bridge.line_protocol import (
    LineEncoder,
    escape_measurement,
    join_lines,
    line,
    tag_set,
)
from tests.bridge.support import VictoriaMetrics, wait_for_series


def test_a_point_is_measurement_tags_fields_and_nanoseconds() -> None:
    """Tags sorted by key, empty tags left out, fields as floats, the timestamp in ns."""
    series = escape_measurement("zigbee2mqtt") + tag_set(
        {"model": "TS011F_plug_1", "device": "kitchen/kettle", "ieee": None}
    )
    assert (
        line(series, {"power": 1234.5, "state": 1.0}, 1_764_000_000_123_456_789)
        == "zigbee2mqtt,device=kitchen/kettle,model=TS011F_plug_1 power=1234.5,state=1.0 "
        "1764000000123456789"
    )


def test_special_characters_are_escaped() -> None:
    """Commas, equals signs and spaces in names; backslashes doubled; newlines kept on one line."""
    assert escape_measurement("my measurement,x=1") == r"my\ measurement\,x=1"
    assert tag_set({"device": "salon lamp,left=1"}) == r",device=salon\ lamp\,left\=1"
    assert tag_set({"device": "ends with \\"}) == r",device=ends\ with\ \\"
    assert line("m", {"a b": 1.0, "line\nbreak": 2.0}, 1) == r"m a\ b=1.0,line\nbreak=2.0 1"


def test_the_encoder_escapes_like_line() -> None:
    """The hot path's cache changes nothing, even when it overflows."""
    encoder = LineEncoder()
    encoder.MAX_KEYS = 2
    fields = {"power": 1.0, "a b": 2.0, "c,d": 3.0, "x=y": 4.0}
    for _ in range(3):
        assert encoder.line("m", fields, 5) == line("m", fields, 5)


def test_a_write_body_ends_every_line() -> None:
    """One point per line, newline-terminated."""
    assert join_lines(["m a=1.0 1", "m a=2.0 2"]) == b"m a=1.0 1\nm a=2.0 2\n"


names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\\\n\r\t"), min_size=1, max_size=20
)


@given(measurement=names.filter(lambda name: name[0] not in "#_"), device=names, key=names)
def test_escaping_agrees_with_the_official_client(measurement: str, device: str, key: str) -> None:
    """influxdb-client's Point escapes names the same way (it does not double backslashes and
    trims `.0`, so the oracle avoids those two)."""
    expected = (
        Point(measurement)  # type: ignore[no-untyped-call]
        .tag("device", device)
        .field(key, 2.5)
        .time(7, WritePrecision.NS)
        .to_line_protocol()
    )
    series = escape_measurement(measurement) + tag_set({"device": device})
    assert line(series, {key: 2.5}, 7) == expected


def test_tricky_names_survive_a_real_line_protocol_parser(victoria: VictoriaMetrics) -> None:
    """Written to VictoriaMetrics and read back, every name comes out as it went in."""
    devices = ["salon lamp", "a,b=c", "cave/pompe", "chauffe-eau é", "back\\slash", "end\\"]
    body = join_lines(
        line("zigbee2mqtt" + tag_set({"device": name}), {"power w": float(n)}, 10**18 + n)
        for n, name in enumerate(devices)
    )
    response = httpx.post(f"{victoria.url}/api/v2/write?precision=ns", content=body)
    assert response.status_code == 204, response.text
    series = wait_for_series(victoria, '{__name__=~"zigbee2mqtt_power.*"}', len(devices))
    assert {s["metric"]["__name__"] for s in series} == {"zigbee2mqtt_power w"}
    assert sorted(s["metric"]["device"] for s in series) == sorted(devices)
