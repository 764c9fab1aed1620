"""The latest value of every DPE seen on the SCADA topics, with a short history for charts,
filtered and sorted as the operator asks.

Memory is what bounds this: ten thousand DPEs, each changing about once a second. The long
history lives in Elasticsearch (the chart asks it); a row keeps only its newest `RECENT_POINTS`
in two flat arrays, 16 bytes a point, not a deque of tuples of Python floats (about 100)."""

from __future__ import annotations

import fnmatch
import math
import sys
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from vac.records.positions import resolve_place
from vac.timegrammar import epoch_seconds

RECENT_POINTS = 300
"""Points a row keeps: about five minutes at the usual once a second, the live end of a chart
whose older part comes from Elasticsearch (9,927 DPEs x 300 points x 16 bytes = 48 MB at most)."""
SORT_KEYS = ("name", "value", "age", "sector", "dcum", "status")


class Trace:
    """The newest `capacity` (time, value) points, oldest first when read. A ring over two
    `array('d')`: they grow to `capacity` only for DPEs that change that often."""

    __slots__ = ("_at", "_next", "_values", "capacity")

    def __init__(self, capacity: int = RECENT_POINTS) -> None:
        self.capacity = capacity
        self._at = array("d")
        self._values = array("d")
        self._next = 0
        """Where the next point goes once the ring is full (the oldest point's index)."""

    def append(self, at_s: float, value: float) -> None:
        if len(self._at) < self.capacity:
            self._at.append(at_s)
            self._values.append(value)
            return
        self._at[self._next], self._values[self._next] = at_s, value
        self._next = (self._next + 1) % self.capacity

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        start, size = self._next, len(self._at)
        for i in range(size):
            j = (start + i) % size
            yield self._at[j], self._values[j]

    def since(self, at_s: float) -> list[tuple[float, float]]:
        """The points newer than `at_s`: the live part after what Elasticsearch already holds."""
        return [point for point in self if point[0] > at_s]


@dataclass(slots=True)
class DpeRow:
    name: str
    sector: str = ""
    mainpart: str = ""
    dcum: str = ""
    type: str = "float"
    flags: dict[str, bool] = field(default_factory=dict)
    history: Trace = field(default_factory=Trace)
    _now: array[float] = field(default_factory=lambda: array("d", (0.0, 0.0)), repr=False)
    """The value and its source time, written in place: two Python floats made per change and
    kept until the next would each pin the memory of the batch they came in."""

    @property
    def value(self) -> float:
        return self._now[0]

    @property
    def source_s(self) -> float:
        """Source time, epoch seconds."""
        return self._now[1]

    def set_now(self, value: float, source_s: float) -> None:
        self._now[0], self._now[1] = value, source_s

    def remember(self, at_s: float, value: float) -> None:
        self.history.append(at_s, value)

    @property
    def unit(self) -> str:
        return "mbar" if self.name.endswith(".PR") else ""

    @property
    def status(self) -> str:
        bad = [name.replace("_", " ") for name, on in self.flags.items() if on and name != "from_general_query"]
        return ", ".join(bad) if bad else "ok"

    def age_s(self, now_s: float) -> float:
        return max(0.0, now_s - self.source_s)


def _flags(items: tuple[tuple[str, bool], ...]) -> dict[str, bool]:
    """One shared, never-changed dict per set of status flags: ten thousand DPEs have a handful.
    A dict made per change and kept by its row until the next one is a long-lived object amid
    the batch's short-lived records, and Python's allocator cannot give back an arena that
    still holds one. Odd sets (many or long names: a hostile topic) are not kept."""
    if len(items) > 16 or any(len(name) > 64 for name, _ in items):
        return dict(items)
    return _shared_flags(items)


@lru_cache(maxsize=1024)
def _shared_flags(items: tuple[tuple[str, bool], ...]) -> dict[str, bool]:
    return dict(items)


def _epoch_s(timestamp: Any) -> float | None:
    if not isinstance(timestamp, str):
        return None
    try:
        return epoch_seconds(timestamp)
    except ValueError:
        return None


class ScadaBoard:
    def __init__(self) -> None:
        self.rows: dict[str, DpeRow] = {}
        self.records = 0
        self.unreadable = 0

    def apply(self, record: Any, fallback_s: float) -> DpeRow | None:
        """Take one change record (the streamer's JSON, legacy or vac format)."""
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            self.unreadable += 1
            return None
        value = record.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.unreadable += 1
            return None
        self.records += 1
        name = record["id"]
        source_s = _epoch_s(record.get("timestamp")) or fallback_s
        row = self.rows.get(name)
        if row is None:
            row = self.rows[name] = DpeRow(name)
        row.set_now(value, source_s)
        row.sector, row.mainpart, row.dcum = _place(
            name,
            str(record.get("sector", row.sector)),
            str(record.get("mainpart", row.mainpart)),
            str(record.get("DCUM", row.dcum)),
        )
        # The few distinct types and flag sets are shared, not a new object per change kept by
        # the row: each would pin the memory of the batch it came in (see `_flags`).
        row.type = sys.intern(str(record.get("type", row.type)))
        status = record.get("status")
        if isinstance(status, dict):
            row.flags = _flags(tuple((k, bool(v)) for k, v in status.items() if k != "word"))
        elif "validityBit" in record:
            row.flags = _flags((("invalid", record["validityBit"] == 0),))
        if not record.get("heartbeat"):
            row.remember(source_s, float(value))
        return row

    def matching(self, filter_text: str, sort: str = "name", now_s: float = 0.0) -> list[DpeRow]:
        """Rows matching every word of `filter_text`: `sector:S`, `mainpart:M`, `status:invalid`
        (or `status:bad` for any problem), otherwise a name pattern (`VGPB*`) or part of a name."""
        keep = row_filter(filter_text)
        rows = [row for row in self.rows.values() if keep(row)]
        return sorted(rows, key=_sort_key(sort, now_s))


def row_filter(filter_text: str) -> Callable[[DpeRow], bool]:
    """The test of `ScadaBoard.matching` for one row: every word of `filter_text` must match.
    The profile (`vac.dash.profile`) takes the same words as the SCADA table."""
    checks = [_check(word) for word in filter_text.split()]
    return lambda row: all(check(row) for check in checks)


# Records of older streamers (or other producers) carry the config's placeholders: the name's
# position replaces them, so `sector:S78` finds something. Cached: a DPE's place rarely changes.
_place = lru_cache(maxsize=32_768)(resolve_place)


def _check(word: str) -> Any:
    key, _, wanted = word.partition(":")
    wanted_lower = wanted.lower()
    if wanted and key in ("sector", "mainpart"):
        if any(char in wanted for char in "*?["):
            return lambda row: fnmatch.fnmatchcase(getattr(row, key).lower(), wanted_lower)
        return lambda row: wanted_lower in getattr(row, key).lower()
    if wanted and key == "status":
        if wanted_lower in ("bad", "any"):
            return lambda row: row.status != "ok"
        return lambda row: wanted_lower in row.status
    lowered = word.lower()
    if any(char in word for char in "*?["):
        return lambda row: fnmatch.fnmatchcase(row.name.lower(), lowered)
    return lambda row: lowered in row.name.lower()


def _sort_key(sort: str, now_s: float) -> Any:
    if sort == "value":
        return lambda row: -row.value if math.isfinite(row.value) else math.inf
    if sort == "age":
        return lambda row: row.age_s(now_s)
    if sort == "sector":
        return lambda row: (row.sector, row.name)
    if sort == "dcum":
        return lambda row: (float(row.dcum) if row.dcum.replace(".", "", 1).isdigit() else math.inf, row.name)
    if sort == "status":
        return lambda row: (row.status == "ok", row.name)
    return lambda row: row.name
