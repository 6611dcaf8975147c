"""Small pieces: JSON as Z2M writes it, the clock, reporting cadence, payload details."""

from datetime import datetime
import math

import certifi
import pytest

from energy_edge_sim import z2mjson
from energy_edge_sim.clock import SimulationClock
from energy_edge_sim.devices import (
    AQARA_SP_EUC01,
    HEIMAN_HS2SK,
    TUYA_TS011F,
    Device,
    LinkyMode,
    ReportingPolicy,
    zlinky,
)
from energy_edge_sim.exposes import Expose, numeric
from energy_edge_sim.household import MeterReading, PlugReading
from energy_edge_sim.localtime import PARIS
from energy_edge_sim.payloads import (
    LinkyIdentity,
    bridge_event,
    last_seen,
    linky_values,
    plug_values,
)
from energy_edge_sim.publisher import BrokerAddress, Publisher
from energy_edge_sim.runtime import SimulationOptions, Simulator
from energy_edge_sim.settings import SimulatorSettings
from energy_edge_sim.tariff import TariffPeriod


def test_json_is_written_like_zigbee2mqtt() -> None:
    """Sorted keys, no spaces, raw UTF-8, 230.0 written 230; NaN refused."""
    assert (
        z2mjson.dumps({"b": [1.0, 2.5], "a": {"unit": "°C", "v": -0.0}})
        == '{"a":{"unit":"°C","v":0},"b":[1,2.5]}'
    )
    with pytest.raises(ValueError, match="NaN"):
        z2mjson.dumps({"power": math.nan})


def test_the_clock_runs_speed_times_faster() -> None:
    """Simulated seconds are wall seconds times the speed; the speed must be positive."""
    wall = [100.0]
    clock = SimulationClock(1_000.0, 60.0, monotonic=lambda: wall[0])
    wall[0] = 102.0
    assert clock.now() == 1_120.0
    assert clock.wall_seconds_until(1_180.0) == 1.0
    assert clock.wall_seconds_until(0.0) == 0.0
    assert clock.simulated(0.5) == 30.0
    with pytest.raises(ValueError, match="positive"):
        SimulationClock(0.0, 0.0)


def test_devices_report_on_change_but_not_too_often() -> None:
    """First report at once, a heartbeat at the maximum interval, changes after the minimum."""
    policy = ReportingPolicy(
        min_interval_s=5, max_interval_s=60, min_change_w=2, min_change_ratio=0.05
    )
    assert policy.due(0, None, 10)
    assert policy.due(60, 100, 100)
    assert not policy.due(3, 100, 500), "too soon"
    assert policy.due(5, 100, 106)
    assert not policy.due(30, 100, 104), "below 5 %"
    assert not policy.due(30, 0.5, 1.5), "below 2 W"
    assert not policy.due(30, 100, 100)


def test_addresses_look_like_the_vendors_and_do_not_collide() -> None:
    """IEEE addresses start with the vendor's prefix, are 64-bit, and differ between devices."""
    first, second = Device.named("oven", TUYA_TS011F), Device.named("ev_charger", TUYA_TS011F)
    assert first.ieee_address.startswith("0xa4c138")
    assert len(first.ieee_address) == 18
    assert first.ieee_address != second.ieee_address
    assert 0 < first.network_address < 0xFFF8
    assert TUYA_TS011F.expose_for("nope") is None
    assert TUYA_TS011F.expose_for("state") is not None


def test_exposes_read_from_json_ignore_what_they_do_not_know() -> None:
    """Odd or missing fields read as absent instead of failing."""
    expose = Expose.from_json(
        {"type": "numeric", "name": 3, "access": True, "values": "x", "features": [1]}
    )  # type: ignore[dict-item]
    assert expose.name is None
    assert expose.access is None
    assert expose.values is None
    assert expose.features == ()
    assert numeric("power", 1, unit="W").to_json()["property"] == "power"


def plug(power: float, energy: float = 1.23456) -> PlugReading:
    """A plug reading."""
    return PlugReading("x", True, power, power, power / 230, 230.04, energy)


def test_plug_values_follow_each_models_precision_and_exposes() -> None:
    """TuYa rounds to 0.1 W and 0.01 kWh; the Heiman has no energy; the Aqara adds a temperature."""
    tuya = plug_values(TUYA_TS011F, plug(1234.567))
    assert (tuya["power"], tuya["energy"], tuya["voltage"]) == (1234.6, 1.23, 230.0)
    assert "energy" not in plug_values(HEIMAN_HS2SK, plug(50))
    aqara = plug_values(AQARA_SP_EUC01, plug(2000))
    assert aqara["device_temperature"] == 39
    assert aqara["consumer_connected"] is True


def meter(**changes: float) -> MeterReading:
    """A meter reading with overrides."""
    values: dict[str, float] = {
        "active_power_w": 7000,
        "apparent_power_va": 7200,
        "injected_apparent_power_va": 0,
        "voltage_v": 231,
        "current_a": 31.2,
        "off_peak_import_wh": 1_000_000,
        "peak_import_wh": 2_000_000,
        "export_wh": 5_432,
        "contract_va": 6000,
        "max_apparent_power_today_va": 7200,
        "max_apparent_power_yesterday_va": 5000,
        "load_curve_w": 3000,
        "previous_load_curve_w": 2000,
    }
    values.update(changes)
    return MeterReading(tariff_period=TariffPeriod.PEAK, **values)  # type: ignore[arg-type]


def test_the_historic_linky_warns_when_the_subscribed_current_is_exceeded() -> None:
    """ADPS carries the current above ISOUSC (30 A for 6 kVA), 0 otherwise; PAPP counts in 10 VA."""
    identity = LinkyIdentity("021600000000", "01234567890123")
    moment = datetime(2025, 1, 15, 19, tzinfo=PARIS)
    values = linky_values(LinkyMode.HISTORIC, meter(), identity, moment, kwh_decimals=0)
    assert (values["warn_d_p_s"], values["rms_current"], values["apparent_power"]) == (31, 31, 7200)
    assert values["current_summ_delivered"] == 3000
    quiet = linky_values(
        LinkyMode.HISTORIC,
        meter(current_a=5, apparent_power_va=1234),
        identity,
        moment,
        kwh_decimals=0,
    )
    assert (quiet["warn_d_p_s"], quiet["apparent_power"]) == (0, 1230)


def test_a_producing_linky_reports_exported_energy() -> None:
    """With solar panels, EAIT and SINSTI appear; exporting sets the status word's direction bit."""
    identity = LinkyIdentity("021600000000", "01234567890123")
    summer = datetime(2025, 6, 15, 13, tzinfo=PARIS)
    exporting = meter(active_power_w=-1500, apparent_power_va=0, injected_apparent_power_va=1500)
    values = linky_values(
        LinkyMode.STANDARD, exporting, identity, summer, kwh_decimals=3, producer=True
    )
    assert values["current_summ_received"] == 5.432
    assert values["injected_v_a"] == 1500
    assert values["status_register_breakout"]["sens_energie_active"] == "negative"  # type: ignore[index]
    assert values["current_date"] == "E250615130000"
    assert zlinky(LinkyMode.STANDARD, producer=True).expose_for("injected_v_a") is not None


def test_small_payload_helpers() -> None:
    """last_seen is UTC with milliseconds; bridge events name the device."""
    assert last_seen(datetime(2025, 1, 15, 19, tzinfo=PARIS)) == "2025-01-15T18:00:00.000Z"
    event = bridge_event("device_announce", Device.named("tv", HEIMAN_HS2SK))
    assert event["type"] == "device_announce"
    assert event["data"]["friendly_name"] == "tv"


def test_the_simulator_refuses_impossible_options() -> None:
    """An unknown household or a non-positive speed fail before anything connects."""
    settings = SimulatorSettings()
    with pytest.raises(ValueError, match="unknown household"):
        Simulator(settings, SimulationOptions(seed=1, household="castle"))
    with pytest.raises(ValueError, match="speed"):
        Simulator(settings, SimulationOptions(seed=1, speed=math.nan))


def test_tls_uses_the_configured_authority() -> None:
    """MQTT_TLS with MQTT_CA_FILE sets up certificate checking before connecting."""
    import queue

    publisher = Publisher(
        BrokerAddress(
            "broker.lan", 8883, "sim", "user", "secret", tls=True, ca_file=certifi.where()
        ),
        will=("zigbee2mqtt/bridge/state", "{}"),
        subscriptions=[],
        inbox=queue.Queue(),
    )
    assert publisher._client._ssl_context is not None
    assert not publisher.connected
