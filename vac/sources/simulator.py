"""A simulated vacuum installation producing changes at a steady rate.

Pressures drift log-normally around a level per family (beam vacuum 1e-11..1e-8 mbar, the
insulation vacuum of Pirani and membrane gauges around 1e-6); now and then a sector rises by
two to three decades and decays back; valves open and close, pumps trip, status words change
bits, and about one change in 10,000 is flagged invalid. The same seed gives the same
sequence of DPEs and values; timestamps are the wall clock's.

Pacing is open-loop: by each tick the number of changes due is rate x elapsed time, so a
stall is caught up afterwards, and a streamer that cannot keep up shows as an achieved rate
below the asked one (`rate_sustained: false` in its summary), never as a quiet slowdown.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

from vac.scada import status as status_bits
from vac.scada.change import Change, now_us
from vac.scada.dpes import Dpe
from vac.sources.badinput import BadInput

TICK_S = 0.002
LEVELS = {"VGR": -6.0, "VGM": -6.0, "VPI": -9.0, "VGI": -10.0, "VGP": -9.5}
INVALID = status_bits.ACTIVE | (1 << status_bits.BITS["aut_inv"])


class Simulator:
    def __init__(self, dpes: list[Dpe], rate: float, seed: int = 0) -> None:
        self.dpes = dpes
        self.rate = rate
        self.rng = random.Random(seed)
        self.bad_input = BadInput()  # the simulator makes none; the streamer's protocol wants it
        self.emitted = 0
        self._base = [self._level(dpe) for dpe in dpes]
        self._log_level = list(self._base)
        self._words = [0x0101 for _ in dpes]
        self._sectors: dict[str, list[int]] = {}
        for index, dpe in enumerate(dpes):
            self._sectors.setdefault(dpe.sector, []).append(index)

    @staticmethod
    def _level(dpe: Dpe) -> float:
        for prefix, level in LEVELS.items():
            if dpe.name.startswith(prefix):
                return level
        return -8.0

    def _next(self, index: int) -> Change:
        dpe = self.dpes[index]
        rng = self.rng
        if dpe.type == "unsigned":
            word = self._words[index] ^ (1 << rng.randrange(16))  # a valve moves, a pump trips
            self._words[index] = word
            return Change(dpe.name, word, now_us())
        level = self._log_level[index]
        level += 0.1 * (self._base[index] - level) + rng.gauss(0.0, 0.05)  # mean-reverting drift
        self._log_level[index] = level
        status = INVALID if rng.random() < 1e-4 else status_bits.ACTIVE
        return Change(dpe.name, float(f"{10.0**level:.4g}"), now_us(), status)

    def _maybe_event(self) -> None:
        # About one pressure event a minute: a sector rises by decades, then decays.
        if self.rng.random() < TICK_S / 60:
            sector = self.rng.choice(list(self._sectors))
            rise = self.rng.uniform(2.0, 3.0)
            for index in self._sectors[sector]:
                self._log_level[index] += rise

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        started = time.monotonic()
        count = len(self.dpes)
        while not cancelled.is_set():
            due = int((time.monotonic() - started) * self.rate) - self.emitted
            if due <= 0:
                time.sleep(TICK_S)
                continue
            self._maybe_event()
            pick = self.rng.random
            batch = [self._next(int(pick() * count)) for _ in range(min(due, 5000))]
            self.emitted += len(batch)
            yield batch
