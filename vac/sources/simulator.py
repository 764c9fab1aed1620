"""A simulated LHC vacuum producing changes at a steady rate: the default source of the demo,
the probe and many tests.

Each pressure DPE sits at its own level, drawn once from its family's range (see
`vac.sources.simlayout`: beam vacuum 1e-11..1e-9 mbar in the arcs and higher near the
experiments, insulation vacuum around 1e-6, Pirani and membrane gauges just above their
floors), with small noise: a mean-reverting deviation capped at NOISE_CAP_DECADES, far from
any alarm limit. Rare, local events (`events_per_hour`, a Poisson process in simulated time)
are what moves the machine:
- `bump`: a pressure bump at one gauge, spreading to the gauges of the same vacuum system
  nearby (falling off with distance), rising within seconds and decaying over minutes;
- `valve`: a sector valve closes: the gauges on one side of it rise slowly (no pumping),
  until it opens again minutes later;
- `pump_trip`: an ion pump trips: its reading turns invalid and its neighbours rise until it
  restarts;
- `gauge_invalid`: a gauge's reading turns invalid for a while.
Each event is kept in `injected` and handed to `listeners` (the log writer writes its lines).

Everything, events included, follows simulated time (the index of a change / the rate), never
the wall clock, so the same seed and rate give the same story whatever the pace.

Pacing is open-loop: by each tick the number of changes due is rate x elapsed time, and each
change's source time is the moment it was due. A stall is caught up afterwards, and a
streamer that cannot keep up shows as an achieved rate below the asked one
(`rate_sustained: false` in its summary) and as latency, never as a quiet slowdown.
`unpaced` draws the same story as fast as it can (tests at an accelerated pace).

Changes are drawn with numpy, a block at a time: drawn one by one in Python they cost 5 us
each, more than encoding and sending them; now under 1 us.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from vac.records import status as status_bits
from vac.records.badinput import BadInput
from vac.records.change import Change, now_us
from vac.records.dpe import Dpe
from vac.records.positions import RING_M
from vac.sources.simlayout import dcums_are_real, level_of, place_of

TICK_S = 0.002
MAX_BATCH = 5000
BLOCK = 256
"""Changes are drawn in blocks of this many, whatever the pace: a DPE picked twice in one block
draws both values from the same state, so fixed blocks keep the sequence a function of the
seed alone."""
INVALID = status_bits.ACTIVE | (1 << status_bits.BITS["aut_inv"])
NOISE_STEP_DECADES = 0.02
NOISE_CAP_DECADES = 0.1
"""Noise never moves a reading further than this from its level: a quarter of a decade below
the default limits, so that noise alone raises no alarm."""
DEFAULT_EVENTS_PER_HOUR = 12.0
EVENT_KINDS = ("bump", "valve", "pump_trip", "gauge_invalid")
EVENT_WEIGHTS = (0.45, 0.15, 0.25, 0.15)
NOTICEABLE_DECADES = 0.5
"""An event lists as `affected` the DPEs it lifts by at least this much at its peak: those
whose alarms it may raise (a rise of a decade, with the noise on top)."""
_GONE_DECADES = 0.02


@dataclass(frozen=True)
class SimEvent:
    """One injected event, as the log writer and the tests see it."""

    kind: str
    at_s: float
    """Simulated seconds since the start."""
    at_us: int
    """When it struck, epoch microseconds (the source time of the changes around it)."""
    dpe: str
    """Where it starts: the gauge of a bump, the gauge next to the valve, the pump, the gauge."""
    device: str
    """The device it concerns: the gauge, the valve's name, the pump."""
    peak_decades: float
    duration_s: float
    """Until its effect has faded (within 0.1 decade)."""
    cause_s: float
    """How long the cause lasts: the valve stays closed, the pump off, the gauge invalid."""
    affected: tuple[str, ...]
    """DPEs lifted by >= NOTICEABLE_DECADES at the peak, or flagged invalid."""


@dataclass
class _Effect:
    event: SimEvent
    amplitude: np.ndarray
    """Decades per DPE at the peak (dense; zero where the event does not reach)."""
    rise_s: float
    hold_s: float
    tau_s: float
    end_s: float = field(init=False)

    def __post_init__(self) -> None:
        peak = float(self.amplitude.max()) if self.amplitude.size else 0.0
        self.end_s = self.event.at_s + self.rise_s + self.hold_s + self.tau_s * math.log(max(peak, 1.0) / _GONE_DECADES)

    def shape(self, t_s: float) -> float:
        dt = t_s - self.event.at_s
        if dt < self.rise_s:
            return max(dt, 0.0) / self.rise_s
        if dt < self.rise_s + self.hold_s:
            return 1.0
        return math.exp(-(dt - self.rise_s - self.hold_s) / self.tau_s)


class Simulator:
    def __init__(
        self, dpes: list[Dpe], rate: float, seed: int = 0, events_per_hour: float = DEFAULT_EVENTS_PER_HOUR
    ) -> None:
        self.dpes = dpes
        self.rate = rate
        self.events_per_hour = events_per_hour
        # One generator per kind of draw, so that one kind's draws never shift another's.
        self._pick, self._drift, self._bit, self._event, self._level = (
            np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5)
        )
        self.bad_input = BadInput()  # the simulator makes none; the streamer's protocol wants it
        self.emitted = 0
        self.emitted_drawn = 0
        """Changes drawn so far (ahead of `emitted` by less than a block): simulated time."""
        self.injected: list[SimEvent] = []
        self.listeners: list[Callable[[SimEvent], None]] = []
        self._names = np.array([dpe.name for dpe in dpes], dtype=object)
        self._is_word = np.array([dpe.type == "unsigned" for dpe in dpes], dtype=bool)
        real_dcums = dcums_are_real(dpes)
        places = [place_of(dpe, real_dcums) for dpe in dpes]
        levels = [level_of(dpe, place) for dpe, place in zip(dpes, places, strict=True)]
        self._base = np.array([self._level.uniform(level.low, level.high) for level in levels])
        self._floor = np.array([level.floor for level in levels])
        self._dev = np.zeros(len(dpes))
        self._invalid_until = np.full(len(dpes), -math.inf)
        self._position = np.array([math.nan if p.position_m is None else p.position_m for p in places])
        self._system = np.array([p.system for p in places], dtype=object)
        self._words = np.full(len(dpes), 0x0101, dtype=np.int64)
        pressure = np.array([dpe.type == "float" for dpe in dpes], dtype=bool)
        placed = ~np.isnan(self._position)
        beam = np.array([p.beam_vacuum for p in places], dtype=bool)
        high_vacuum = self._base < -5.0  # not Pirani, membrane or pumping-group gauges at their floors
        self._gauges = np.flatnonzero(pressure)
        self._bump_sites = np.flatnonzero(pressure & placed & beam & high_vacuum)
        pumps = np.array([dpe.name.startswith(("VPI", "VRP")) for dpe in dpes], dtype=bool)
        self._pumps = np.flatnonzero(pressure & placed & beam & pumps)
        self._effects: list[_Effect] = []
        self._next_event_s = self._draw_wait()

    # -- events ------------------------------------------------------------------------------

    def _draw_wait(self) -> float:
        if self.events_per_hour <= 0:
            return math.inf
        return float(self._event.exponential(3600.0 / self.events_per_hour))

    def _advance(self, t_s: float, t_us: int) -> None:
        """Strike the events due by simulated time `t_s`; forget the ones that faded."""
        while self._next_event_s <= t_s:
            at_s = self._next_event_s
            self._strike(at_s, t_us - round((t_s - at_s) * 1e6))
            self._next_event_s = at_s + self._draw_wait()
        if self._effects:
            self._effects = [effect for effect in self._effects if effect.end_s > t_s]

    def _nearest(self, centre: int, most: int, reach_m: float, one_side: bool = False) -> np.ndarray:
        """Up to `most` DPEs of the centre's vacuum system (high-vacuum readings, the centre
        first), nearest along the ring within `reach_m` (downstream only if `one_side`).
        Positions are approximate (many DPEs share one cell): ties go in random order."""
        offset = (self._position - self._position[centre]) % RING_M
        distance = offset if one_side else np.minimum(offset, RING_M - offset)
        near = np.flatnonzero((distance <= reach_m) & (self._system == self._system[centre]) & ~self._is_word)
        near = near[(self._base[near] < -5.0) & (near != centre)]
        near = near[self._event.permutation(near.size)]
        near = near[np.argsort(distance[near], kind="stable")][: most - 1]
        return np.concatenate(([centre], near)).astype(np.int64)

    def _strike(self, at_s: float, at_us: int) -> None:
        rng = self._event
        kind = EVENT_KINDS[int(rng.choice(len(EVENT_KINDS), p=EVENT_WEIGHTS))]
        if kind == "pump_trip" and not self._pumps.size:
            kind = "bump"
        if kind in ("bump", "valve") and not self._bump_sites.size:
            kind = "gauge_invalid"
        if kind == "gauge_invalid" and not self._gauges.size:
            return
        amplitude = np.zeros(len(self.dpes))
        rise_s = hold_s = 0.0
        tau_s = 60.0
        invalid: list[int] = []
        if kind == "bump":
            centre = int(rng.choice(self._bump_sites))
            peak = float(rng.uniform(1.5, 3.0))
            near = self._nearest(centre, int(rng.integers(4, 9)), 300.0)
            amplitude[near] = peak * 0.6 ** np.arange(near.size)  # falls off gauge by gauge
            rise_s, tau_s = float(rng.uniform(10.0, 30.0)), float(rng.uniform(90.0, 240.0))
            device = str(self._names[centre]).rsplit(".", 1)[0]
        elif kind == "valve":
            centre = int(rng.choice(self._bump_sites))
            peak = float(rng.uniform(1.2, 2.0))
            near = self._nearest(centre, int(rng.integers(2, 5)), 250.0, one_side=True)  # one side of it
            amplitude[near] = peak
            rise_s, hold_s, tau_s = float(rng.uniform(60.0, 180.0)), float(rng.uniform(120.0, 300.0)), 60.0
            device = "VVGS_" + str(self._names[centre]).split("_", 2)[-1].rsplit(".", 1)[0]
        elif kind == "pump_trip":
            centre = int(rng.choice(self._pumps))
            peak = float(rng.uniform(1.2, 2.0))
            near = self._nearest(centre, 5, 150.0)
            amplitude[near] = peak * 0.7 ** np.arange(near.size)
            amplitude[centre] = 0.0  # its own reading is invalid meanwhile
            rise_s, hold_s, tau_s = 60.0, float(rng.uniform(300.0, 900.0)), 90.0
            invalid = [centre]
            device = str(self._names[centre]).rsplit(".", 1)[0]
        else:
            centre = int(rng.choice(self._gauges))
            hold_s = float(rng.uniform(60.0, 240.0))
            invalid = [centre]
            device = str(self._names[centre]).rsplit(".", 1)[0]
        for index in invalid:
            self._invalid_until[index] = at_s + rise_s + hold_s
        lifted = np.flatnonzero(amplitude >= NOTICEABLE_DECADES)
        affected = sorted({str(self._names[i]) for i in lifted} | {str(self._names[i]) for i in invalid})
        event = SimEvent(
            kind=kind,
            at_s=at_s,
            at_us=at_us,
            dpe=str(self._names[centre]),
            device=device,
            peak_decades=round(float(amplitude.max()), 2),
            duration_s=round(rise_s + hold_s + (tau_s * math.log(max(float(amplitude.max()), 1.0) / 0.1)), 1),
            cause_s=round(rise_s + hold_s, 1),
            affected=tuple(affected),
        )
        self.injected.append(event)
        if amplitude.any():
            self._effects.append(_Effect(event, amplitude, max(rise_s, 1.0), hold_s, tau_s))
        for listener in self.listeners:
            listener(event)

    # -- values ------------------------------------------------------------------------------

    def _draw(self, count: int, first_us: int, step_us: float) -> list[Change]:
        """`count` changes of DPEs picked at random, due `step_us` apart from `first_us`."""
        t_s = self.emitted_drawn * step_us / 1e6
        self._advance(t_s, first_us)
        picks = self._pick.integers(0, len(self.dpes), count)
        dev = self._dev[picks] * 0.7 + self._drift.normal(0.0, NOISE_STEP_DECADES, count)  # mean-reverting
        dev = np.clip(dev, -NOISE_CAP_DECADES, NOISE_CAP_DECADES)
        self._dev[picks] = dev
        level = self._base[picks] + dev
        for effect in self._effects:
            level += effect.amplitude[picks] * effect.shape(t_s)
        level = np.maximum(level, self._floor[picks])
        # Four significant digits, as a gauge reads: k / 10**n is the double nearest to the
        # decimal k·10**-n, so the value prints short (1.234e-09, not 1.2340000000000001e-09).
        digits = 3 - np.floor(level)
        pressures = np.round(10.0**level * 10.0**digits) / 10.0**digits
        words = self._words[picks] ^ (1 << self._bit.integers(0, 16, count))  # a valve moves, a pump trips
        self._words[picks] = words
        values = pressures.astype(object)  # Python floats, and Python ints where a word moved
        is_word = self._is_word[picks]
        values[is_word] = words[is_word].astype(object)
        statuses = np.where(self._invalid_until[picks] > t_s, INVALID, status_bits.ACTIVE)
        statuses[is_word] = status_bits.ACTIVE
        due_us = first_us + (np.arange(count) * step_us).astype(np.int64)
        self.emitted_drawn += count
        return list(map(Change, self._names[picks].tolist(), values.tolist(), due_us.tolist(), statuses.tolist()))

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        started, started_us = time.monotonic(), now_us()
        step_us = 1e6 / self.rate
        drawn: list[Change] = []  # drawn ahead in whole blocks, not due yet
        while not cancelled.is_set():
            now = time.monotonic()
            due = int((now - started) * self.rate) - self.emitted
            if due <= 0:
                time.sleep(TICK_S)
                continue
            count = min(due, MAX_BATCH)
            while len(drawn) < count:
                drawn += self._draw(BLOCK, started_us + round(self.emitted_drawn * step_us), step_us)
            batch, drawn = drawn[:count], drawn[count:]
            self.emitted += count
            yield batch

    def unpaced(self, seconds: float, started_us: int) -> Iterator[list[Change]]:
        """The first `seconds` of the story as fast as they can be drawn, as if started at
        `started_us`: the same changes `batches` would give, without waiting for them."""
        step_us = 1e6 / self.rate
        total = int(seconds * self.rate)
        while self.emitted_drawn < total:
            block = self._draw(BLOCK, started_us + round(self.emitted_drawn * step_us), step_us)
            self.emitted += len(block)
            yield block
