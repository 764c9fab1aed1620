"""One timeline of a stretch of the machine: the values of its DPEs, the alarms raised,
acknowledged and cleared, and the log records of the SCADA servers in one window, merged by
time. Pure: `vac timeline` reads the parts from the servers (`vac.timeline.gather`), the
dashboard takes them from what it holds (`DashState.timeline`).

A sector (`S78`) is the stretch between two points; until the DPE positions of issue #18
land, a DPE belongs to it by its name: `..._7R7_...` (right of point 7) or `..._12L8_...`
(left of point 8). Values are thinned to what an operator reads: a DPE's first value in the
window, then each move of at least `MOVE_DECADES`, and each change of its invalid flag.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vac.alarms.book import Alarm
from vac.records.positions import position_of
from vac.timegrammar import epoch_seconds

MOVE_DECADES = 0.3
_SECTOR = re.compile(r"[Ss]?([1-8])([1-8])")


@dataclass(frozen=True, slots=True)
class Entry:
    at_s: float
    source: str
    """value, alarm or log."""
    subject: str
    """The DPE, or the log record's host and manager."""
    text: str
    level: str = ""
    """Log severity; `alarm` entries say raised, acked or cleared."""


def parse_sector(text: str) -> tuple[int, int]:
    """`S78` / `78` -> (7, 8); ValueError unless two neighbouring points."""
    match = _SECTOR.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"sector {text!r} is not like S78 (two neighbouring points, 1-8)")
    first, second = int(match[1]), int(match[2])
    if second != first % 8 + 1:
        raise ValueError(f"sector {text!r}: points {first} and {second} are not neighbours (S12, S23, ..., S81)")
    return first, second


def in_sector(dpe: str, sector: tuple[int, int]) -> bool:
    """Whether the place in `dpe`'s name lies in `sector` (the rules of vac.records.positions)."""
    position = position_of(dpe)
    return position is not None and position.sector == f"S{sector[0]}{sector[1]}"


def value_entries(records: Iterable[tuple[float, dict[str, Any]]], wanted: Any) -> list[Entry]:
    """Thinned value changes of the DPEs `wanted(name)` accepts; `records` are (time, record)."""
    last: dict[str, tuple[float, bool]] = {}
    entries = []
    for at_s, record in records:
        if not isinstance(record, dict):
            continue
        name, value = record.get("id"), record.get("value")
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not wanted(name):
            continue
        status = record.get("status")
        invalid = bool(status.get("invalid")) if isinstance(status, dict) else False
        level = math.log10(value) if value > 0 else -math.inf
        before = last.get(name)
        if before is not None and before[1] == invalid and abs(level - before[0]) < MOVE_DECADES:
            continue
        last[name] = (level, invalid)
        entries.append(Entry(at_s, "value", name, f"{value:.3g}{' invalid' if invalid else ''}"))
    return entries


def alarm_entries(alarms: Iterable[Alarm], wanted: Any, since_s: float, until_s: float) -> list[Entry]:
    entries = []
    for alarm in alarms:
        if not wanted(alarm.dpe):
            continue
        for at_s, what in ((alarm.raised_s, "raised"), (alarm.acked_s, "acked"), (alarm.cleared_s, "cleared")):
            if at_s is not None and since_s <= at_s <= until_s:
                by = f" by {alarm.acked_by}" if what == "acked" else ""
                entries.append(Entry(at_s, "alarm", alarm.dpe, f"{alarm.kind} {what}{by}: {alarm.message}", what))
    return entries


def log_entries(docs: Iterable[dict[str, Any]]) -> list[Entry]:
    entries = []
    for doc in docs:
        stamp = doc.get("@timestamp")
        if not isinstance(stamp, str):
            continue
        try:
            at_s = epoch_seconds(stamp)
        except (ValueError, OverflowError):
            continue
        host = doc.get("host", {}).get("name", "") if isinstance(doc.get("host"), dict) else ""
        params = doc.get("params")
        parts = [str(doc["text"])] if doc.get("text") else []  # code 0 has an empty text: its params say it
        parts += [str(param) for param in params] if isinstance(params, list) else []
        text = ", ".join(parts) if parts else str(doc.get("message") or "")
        subject = f"{host} {doc.get('manager') or ''}".strip()
        entries.append(Entry(at_s, "log", subject, str(text).split("\n", 1)[0], str(doc.get("level") or "")))
    return entries


def merge(*parts: list[Entry]) -> list[Entry]:
    """All entries by time; at the same moment values first, then alarms, then logs."""
    order = {"value": 0, "alarm": 1, "log": 2}
    return sorted((entry for part in parts for entry in part), key=lambda e: (e.at_s, order.get(e.source, 3)))
