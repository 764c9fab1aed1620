"""A simulated vacuum installation producing changes at a steady rate.

Pressures drift log-normally around a level per family (beam vacuum 1e-11..1e-8 mbar, the
insulation vacuum of Pirani and membrane gauges around 1e-6); now and then a sector rises by
two to three decades and decays back; valves open and close, pumps trip, status words change
bits, and about one change in 10,000 is flagged invalid. The same seed gives the same
sequence of DPEs and values, apart from when the pressure events strike (they follow the
wall clock).

Pacing is open-loop: by each tick the number of changes due is rate x elapsed time, and each
change's source time is the moment it was due. A stall is caught up afterwards, and a
streamer that cannot keep up shows as an achieved rate below the asked one
(`rate_sustained: false` in its summary) and as latency, never as a quiet slowdown.

Changes are drawn with numpy, a block at a time: drawn one by one in Python they cost 5 us
each, more than encoding and sending them; now under 1 us.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from vac.records import status as status_bits
from vac.records.badinput import BadInput
from vac.records.change import Change, now_us
from vac.records.dpe import Dpe

TICK_S = 0.002
MAX_BATCH = 5000
BLOCK = 256
"""Changes are drawn in blocks of this many, whatever the pace: a DPE picked twice in one block
draws both values from the same state, so fixed blocks keep the sequence a function of the
seed alone."""
LEVELS = {"VGR": -6.0, "VGM": -6.0, "VPI": -9.0, "VGI": -10.0, "VGP": -9.5}
INVALID = status_bits.ACTIVE | (1 << status_bits.BITS["aut_inv"])
INVALID_SHARE = 1e-4


class Simulator:
    def __init__(self, dpes: list[Dpe], rate: float, seed: int = 0) -> None:
        self.dpes = dpes
        self.rate = rate
        # One generator per kind of draw, so that one kind's draws never shift another's.
        self._pick, self._drift, self._bit, self._flag, self._event = (
            np.random.default_rng(stream) for stream in np.random.SeedSequence(seed).spawn(5)
        )
        self.bad_input = BadInput()  # the simulator makes none; the streamer's protocol wants it
        self.emitted = 0
        self._names = np.array([dpe.name for dpe in dpes], dtype=object)
        self._is_word = np.array([dpe.type == "unsigned" for dpe in dpes], dtype=bool)
        self._base = np.array([self._level(dpe) for dpe in dpes])
        self._log_level = self._base.copy()
        self._words = np.full(len(dpes), 0x0101, dtype=np.int64)
        sectors: dict[str, list[int]] = {}
        for index, dpe in enumerate(dpes):
            sectors.setdefault(dpe.sector, []).append(index)
        self._sectors = [np.array(members) for _, members in sorted(sectors.items())]

    @staticmethod
    def _level(dpe: Dpe) -> float:
        for prefix, level in LEVELS.items():
            if dpe.name.startswith(prefix):
                return level
        return -8.0

    def _draw(self, count: int, first_us: int, step_us: float) -> list[Change]:
        """`count` changes of DPEs picked at random, due `step_us` apart from `first_us`."""
        picks = self._pick.integers(0, len(self.dpes), count)
        level = self._log_level[picks]
        level += 0.1 * (self._base[picks] - level) + self._drift.normal(0.0, 0.05, count)  # mean-reverting drift
        self._log_level[picks] = level
        # Four significant digits, as a gauge reads: k / 10**n is the double nearest to the
        # decimal k·10**-n, so the value prints short (1.234e-09, not 1.2340000000000001e-09).
        digits = 3 - np.floor(level)
        pressures = np.round(10.0**level * 10.0**digits) / 10.0**digits
        words = self._words[picks] ^ (1 << self._bit.integers(0, 16, count))  # a valve moves, a pump trips
        self._words[picks] = words
        values = pressures.astype(object)  # Python floats, and Python ints where a word moved
        is_word = self._is_word[picks]
        values[is_word] = words[is_word].astype(object)
        statuses = np.where(self._flag.random(count) < INVALID_SHARE, INVALID, status_bits.ACTIVE)
        statuses[is_word] = status_bits.ACTIVE
        due_us = first_us + (np.arange(count) * step_us).astype(np.int64)
        return list(map(Change, self._names[picks].tolist(), values.tolist(), due_us.tolist(), statuses.tolist()))

    def _maybe_event(self, elapsed_s: float) -> None:
        # About one pressure event a minute: a sector rises by decades, then decays.
        if self._event.random() < elapsed_s / 60:
            sector = self._sectors[self._event.integers(len(self._sectors))]
            self._log_level[sector] += self._event.uniform(2.0, 3.0)

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        started, started_us = time.monotonic(), now_us()
        step_us = 1e6 / self.rate
        last = started
        drawn: list[Change] = []  # drawn ahead in whole blocks, not due yet
        while not cancelled.is_set():
            now = time.monotonic()
            due = int((now - started) * self.rate) - self.emitted
            if due <= 0:
                time.sleep(TICK_S)
                continue
            self._maybe_event(now - last)
            last = now
            count = min(due, MAX_BATCH)
            while len(drawn) < count:
                first = self.emitted + len(drawn)
                drawn += self._draw(BLOCK, started_us + round(first * step_us), step_us)
            batch, drawn = drawn[:count], drawn[count:]
            self.emitted += count
            yield batch
