"""The pressure profile along the ring: the latest value of every pressure gauge (`.PR`) the
SCADA board holds, in DCUM order, and its highest point (where a pressure rise is). Called by
the dashboard's profile screen (`tui/screens/profile.py`) on every redraw, so it is one pass over
the board's rows (9,927 for the LHC) and a sort of what is kept; pure, no I/O.

It takes the SCADA table's filter words (`sector:S78 mainpart:ARC VGPB*`, `vac.dash.scada_board`),
which work on the positions derived from the names (`vac.records.positions`). `vac scada profile`
draws the same from the last-value topic (`vac.search.scada_history.sector_profile`)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter

from vac.dash.scada_board import DpeRow, row_filter
from vac.records.positions import is_placeholder

MAX_DCUM_M = 100_000.0
"""A DCUM beyond this (or below 0) is garbage, not a place: no ring is that long (the LHC is
26,659 m), and one such point would stretch the chart's axis until the ring is a dot."""


@dataclass(slots=True)  # not frozen: a frozen dataclass is built through object.__setattr__, 3x slower
class ProfilePoint:
    name: str
    dcum: float
    """Metres along the ring from IP1."""
    value: float
    """mbar."""
    sector: str
    mainpart: str
    ok: bool
    """No status flag set (invalid, out of range, ...)."""


@dataclass(frozen=True, slots=True)
class Profile:
    points: list[ProfilePoint]
    """The gauges charted, in DCUM order (then by name)."""
    highest: ProfilePoint | None
    """The highest pressure charted (the first by DCUM on a tie): where the spike is."""
    left_out: int
    """Gauges matched and placed whose value cannot be charted on a log axis: not finite,
    zero or below, or beyond the limit given (or below its inverse)."""
    unplaced: int
    """Gauges matched whose DCUM is missing, a placeholder (`125`) or garbage."""


def pressure_profile(rows: Iterable[DpeRow], filter_text: str = "", limit: float = math.inf) -> Profile:
    """The profile of the pressure gauges among `rows` that match `filter_text` (empty: the whole
    ring). Values must lie within [1/limit, limit] (the chart's range) to be charted."""
    keep = row_filter(filter_text) if filter_text.strip() else None
    lowest = 1 / limit if limit > 0 else math.inf
    points: list[ProfilePoint] = []
    left_out = unplaced = 0
    for row in rows:
        if not row.name.endswith(".PR") or (keep is not None and not keep(row)):
            continue
        dcum = _dcum(row.dcum)
        if dcum is None:
            unplaced += 1
            continue
        value = row.value
        # NaN fails every comparison; infinity passes a limit of infinity but not the last test.
        if not (value > 0 and lowest <= value <= limit and value < math.inf):
            left_out += 1
            continue
        flags = row.flags  # usually all off: the generator only when one is on
        ok = not any(flags.values()) or not any(on for flag, on in flags.items() if flag != "from_general_query")
        points.append(ProfilePoint(row.name, dcum, value, row.sector, row.mainpart, ok))
    points.sort(key=attrgetter("dcum", "name"))
    highest = max(points, key=lambda point: point.value, default=None)
    return Profile(points, highest, left_out, unplaced)


@lru_cache(maxsize=32_768)  # a DPE's DCUM text rarely changes; parsing it each redraw was a third of the time
def _dcum(text: str) -> float | None:
    if is_placeholder("dcum", text):  # the shared config's `125` for every entry is no place
        return None
    try:
        dcum = float(text)
    except ValueError:
        return None
    return dcum if 0 <= dcum <= MAX_DCUM_M else None  # NaN fails too
