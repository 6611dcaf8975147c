"""The ZLinky as Zigbee2MQTT's own definition describes it in each TIC mode, and what Energy Edge
reads from it: the contract in VA (Enedis' 5 A per kVA in historic mode), the cut-off power, and
no value that no Linky can have.

The exposes come from zigbee-herdsman-converters 26.112.0 (the ZLinky_TIC definition, built for
each `linky_mode`, phase and `tarif`), captured in the shared reference folder.
"""

import json
from typing import Any

import pytest

from custom_components.energy_edge.engines.devices import DeviceCatalog, EnergyDevice
from tests.helpers import z2m
from tests.helpers.reference import ZLINKY_EXPOSES
from zigbee2mqtt_protocol.bridge import parse_bridge_devices
from zigbee2mqtt_protocol.errors import Rejection
from zigbee2mqtt_protocol.readings import DeviceMeter

REFERENCE = ZLINKY_EXPOSES
MODES: dict[str, list[dict[str, Any]]] = (
    json.loads(REFERENCE.read_text()) if REFERENCE.is_file() else {}
)
HISTORIC = sorted(mode for mode in MODES if mode.startswith("historique"))
STANDARD = sorted(mode for mode in MODES if mode.startswith("standard"))
# Enedis: a subscribed current of 15, 30, 45, 60 A is a 3, 6, 9, 12 kVA contract.
SUBSCRIBED_CURRENTS = [(15, 3000.0), (30, 6000.0), (45, 9000.0), (60, 12000.0)]

pytestmark = pytest.mark.skipif(not MODES, reason="the ZLinky reference exposes are not here")


def _zlinky(exposes: list[dict[str, Any]]) -> EnergyDevice:
    """The ZLinky Energy Edge knows from Z2M's `bridge/devices`, with these exposes."""
    device = z2m.Device(
        "0x00158d0000700001", "linky", "ZLinky_TIC", "LiXee", "Lixee ZLinky", exposes, "ZLinky_TIC"
    )
    catalog = DeviceCatalog()
    listed, _ = parse_bridge_devices(z2m.bridge_devices([device]))
    catalog.apply_bridge_devices(listed)
    known = catalog.get(device.ieee)
    assert known is not None
    return known


def _meter(mode: str) -> DeviceMeter:
    device = _zlinky(MODES[mode])
    return DeviceMeter(device.plan, device.known_properties)


def test_the_reference_has_both_modes() -> None:
    """Both TIC modes are covered, with the units the converter gives `available_power`."""
    assert HISTORIC
    assert STANDARD
    for mode in HISTORIC + STANDARD:
        units = {e.get("unit") for e in MODES[mode] if e["property"] == "available_power"}
        assert units == ({"A"} if mode in HISTORIC else {"kVA"})


@pytest.mark.parametrize("mode", HISTORIC)
def test_historic_isousc_is_a_contract_at_five_amps_per_kva(mode: str) -> None:
    """ISOUSC is the subscribed current in A; there is no cut-off power in historic mode."""
    meter = _meter(mode)
    for amps, contract_va in SUBSCRIBED_CURRENTS:
        assert meter.read({"available_power": amps}, 0).reference_power_va == contract_va
    assert meter.plan.cutoff_power is None


@pytest.mark.parametrize("mode", STANDARD)
def test_standard_pref_and_pcoup_are_kva(mode: str) -> None:
    """PREF (contract) and PCOUP (cut-off) are in kVA."""
    reading = _meter(mode).read({"available_power": 9, "power_threshold": 6}, 0)
    assert (reading.reference_power_va, reading.cutoff_power_va) == (9000.0, 6000.0)
    assert reading.notes == []


@pytest.mark.parametrize("mode", HISTORIC + STANDARD)
@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"available_power": 0.0001}, Rejection.CONTRACT_OUT_OF_RANGE),
        ({"available_power": 1e12}, Rejection.CONTRACT_OUT_OF_RANGE),
        ({"available_power": 0xFFFF}, Rejection.NO_DATA),
        ({"apparent_power": 0xFFFF}, Rejection.NO_DATA),
        ({"apparent_power": -32768}, Rejection.NEGATIVE_VALUE),
    ],
    ids=["contract-0.0001", "contract-1e12", "contract-no-data", "papp-no-data", "int16-no-data"],
)
def test_values_no_linky_can_have_are_refused_with_their_reason(
    mode: str, values: dict[str, float], reason: Rejection
) -> None:
    """A contract outside 3-36 kVA and LiXee's "no data" values give no figure, and a reason."""
    reading = _meter(mode).read(values, 0)
    assert (reading.reference_power_va, reading.apparent_power_va, reading.power_w) == (
        None,
        None,
        None,
    )
    assert [note.reason for note in reading.notes] == [reason]


@pytest.mark.parametrize(
    ("fixture", "mode"),
    [
        (z2m.zlinky_historic("0x1", "l", option="BASE"), "single_phase Historique - BASE"),
        (z2m.zlinky_historic("0x1", "l"), "single_phase Historique - HCHP"),
        (z2m.zlinky_historic("0x1", "l", three_phase=True), "three_phase Historique - HCHP"),
        (z2m.zlinky_standard("0x1", "l"), "single_phase Standard - BASE"),
    ],
    ids=["historic-base", "historic-hchp", "historic-hchp-3p", "standard-base"],
)
def test_the_tests_zlinky_fixtures_expose_what_z2m_s_definition_exposes(
    fixture: z2m.Device, mode: str
) -> None:
    """Every property the tests' ZLinky exposes is one Z2M's definition exposes, in its unit."""
    (exposes,) = (exposes for name, exposes in MODES.items() if name.endswith(mode))
    reference = {expose["property"]: expose.get("unit") for expose in exposes}
    ours = {expose["property"]: expose.get("unit") for expose in fixture.exposes}
    assert {prop: unit for prop, unit in ours.items() if reference.get(prop, "?") != unit} == {}


def _z2m_metering(tiers_kwh: list[float], base_kwh: float = 0.0) -> dict[str, float]:
    """A metering report as Z2M's converter publishes it: the registers, and BASE filled with
    HCJB + HPJB when the ZLinky sends 0 and either is above 0 (lixee.ts, `lixee_metering`)."""
    values = {f"current_tier{i}_summ_delivered": kwh for i, kwh in enumerate(tiers_kwh, 1)}
    values["current_summ_delivered"] = base_kwh
    if base_kwh == 0 and (tiers_kwh[0] > 0 or tiers_kwh[1] > 0):
        values["current_summ_delivered"] = tiers_kwh[0] + tiers_kwh[1]
    return values


def test_a_historic_tempo_linky_counts_its_six_registers() -> None:
    """On a white day the white registers grow; BASE (blue registers only, by Z2M's rule) must
    not hide that: 1 kWh off-peak and 2 kWh peak are 3 kWh imported."""
    meter = _meter("historique single_phase Historique - BBR")
    meter.read(_z2m_metering([1000.0, 2000.0, 300.0, 400.0, 50.0, 60.0]), 0)
    reading = meter.read(_z2m_metering([1000.0, 2000.0, 301.0, 402.0, 50.0, 60.0]), 3600)
    assert reading.imported_kwh == pytest.approx(3.0)


def test_a_historic_base_linky_with_every_register_exposed_counts_base() -> None:
    """When Z2M could not tell the option (it then exposes every register), a BASE contract's
    idle tariff registers do not hide the BASE index."""
    meter = _meter("historique single_phase Historique - BBR")
    meter.read(_z2m_metering([0.0] * 6, base_kwh=5000.0), 0)
    reading = meter.read(_z2m_metering([0.0] * 6, base_kwh=5001.5), 3600)
    assert reading.imported_kwh == pytest.approx(1.5)


@pytest.mark.parametrize("mode", STANDARD)
def test_a_standard_linky_counts_east_alone(mode: str) -> None:
    """EAST is the sum of the supplier's indexes, which arrive in their own reports: counting
    both would count twice."""
    meter = _meter(mode)
    meter.read({"current_summ_delivered": 9000.0, "current_tier1_summ_delivered": 4000.0}, 0)
    assert meter.read({"current_summ_delivered": 9001.0}, 1800).imported_kwh == pytest.approx(1.0)
    assert meter.read({"current_tier1_summ_delivered": 4001.0}, 3600).imported_kwh == 0.0
