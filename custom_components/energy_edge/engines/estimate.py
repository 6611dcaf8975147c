"""The home's load between two meter readings: the last reading plus the plugs' changes since.

The Linky is read about once a minute; a plug reports within seconds of its load starting or
stopping. So between readings, the home's load is estimated as the last meter reading plus, for
each plug, its draw now minus its draw at that reading. Each meter reading replaces the estimate
and becomes the new baseline. Rules a user cares about:
- A plug counts by its draw now against its draw at the reading, never as a sum of its changes:
  a load switched off and reported twice (the state first, the power later) drops once.
- A plug switched off draws nothing, whatever power its message still carries (Zigbee2MQTT
  repeats the last power beside the new state).
- Plugs only, not sub-meters: a plug may sit behind a sub-meter, and counting both would see one
  load start twice. A sub-metered circuit's changes wait for the next meter reading, as before.
- Units: the Linky gives apparent power (VA), most plugs only active power (W). A plug's W are
  taken as VA (power factor 1): a resistive load (heater, oven, kettle, charger) draws as many VA
  as W; a motor or power supply draws more VA than W, so its start is under-counted until the
  meter's next reading, never over-counted.
- A plug that falls silent (unavailable) keeps its last change until the next meter reading, which
  then no longer counts it; back, its first report is its new baseline (its change while silent is
  in the meter's reading, not to be counted again). So is a plug first heard after a reading.
The estimate is never negative. Time is the caller's: any clock, only handed back.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Estimate:
    """The home's estimated load and what it rests on."""

    load_va: float
    meter_va: float
    """The last meter reading."""
    meter_at: float
    """When it was taken (the caller's clock)."""
    from_plugs: bool
    """Plugs changed since that reading: the estimate is the meter's reading plus their change."""


class LoadEstimate:
    """The last meter reading corrected by the plugs' changes since (see the module docstring)."""

    def __init__(self) -> None:
        """No estimate before the first meter reading."""
        self._meter: tuple[float, float] | None = None  # (VA, at)
        self._baseline_va: dict[str, float] = {}
        """Each plug's draw at the last meter reading (plugs heard then)."""
        self._draw_va: dict[str, float] = {}
        """Each plug's last reported draw."""
        self._silent: set[str] = set()
        self._change_va = 0.0
        self._from_plugs = False

    @property
    def current(self) -> Estimate | None:
        """The estimate now, None before the first meter reading."""
        if self._meter is None:
            return None
        meter_va, meter_at = self._meter
        return Estimate(
            load_va=max(meter_va + self._change_va, 0.0),
            meter_va=meter_va,
            meter_at=meter_at,
            from_plugs=self._from_plugs,
        )

    def meter_read(self, at: float, measured_va: float) -> None:
        """The meter read the home's load: it replaces the estimate and is the new baseline."""
        self._meter = (measured_va, at)
        self._baseline_va = {
            plug: draw for plug, draw in self._draw_va.items() if plug not in self._silent
        }
        self._change_va = 0.0
        self._from_plugs = False

    def plug_read(self, plug: str, draw_va: float) -> bool:
        """A plug reported its draw (0 when switched off); returns whether the estimate moved."""
        self._silent.discard(plug)
        previous = self._draw_va.get(plug)
        self._draw_va[plug] = draw_va
        if plug not in self._baseline_va:
            self._baseline_va[plug] = draw_va  # its change since the reading is unknown
            return False
        if previous is None or draw_va == previous:
            return False
        self._change_va += draw_va - previous
        self._from_plugs = self._meter is not None
        return self._from_plugs

    def moves(self, plug: str, draw_va: float) -> bool:
        """Whether this draw of a plug would move the estimate (as `plug_read` would tell)."""
        previous = self._draw_va.get(plug)
        return (
            self._meter is not None
            and plug in self._baseline_va
            and previous is not None
            and draw_va != previous
        )

    def plug_silent(self, plug: str) -> None:
        """A plug became unavailable: its change so far stands until the next meter reading."""
        if plug in self._draw_va:
            self._silent.add(plug)

    def forget(self, plug: str) -> bool:
        """A plug is gone (removed from Zigbee2MQTT): its change no longer counts; returns
        whether the estimate moved."""
        draw = self._draw_va.pop(plug, None)
        baseline = self._baseline_va.pop(plug, None)
        self._silent.discard(plug)
        if draw is None or baseline is None or draw == baseline:
            return False
        self._change_va -= draw - baseline
        return self._meter is not None
