"""Where a read starts and stops: `--from` / `--until` expressions and their resolution.

Forms: `beginning`, `end`, `OFFSET`, `-N` (the last N of each partition), `@ISO-TIME`
(local time unless it names a zone), `-10m` (that long ago; units ms, s, m, h, d, w).
A stop position is exclusive: the read covers [from, until).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from vac.errors import UsageError

PositionKind = Literal["beginning", "end", "offset", "last", "time"]
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_RELATIVE = re.compile(r"^-(?P<amount>\d+(?:\.\d+)?)(?P<unit>[a-z]+)$", re.ASCII)
# Kafka keeps offsets and timestamps in signed 64 bits; times are those a clock can name
# (years 1 to 9999). A time before 1970 means the beginning: Kafka has nothing older, and it
# reads a negative timestamp as "latest" (-1) or "earliest" (-2).
_MAX_OFFSET = 2**63 - 1
_FIRST_MS = int(datetime(1, 1, 2).timestamp() * 1000)
_LAST_MS = int(datetime(9999, 12, 30).timestamp() * 1000)
_RANGE_HINT = "times go from year 1 to 9999, e.g. @2026-11-28T14:00 or -10m"


@dataclass(frozen=True)
class Position:
    kind: PositionKind
    value: int = 0
    """The offset, N of `-N`, or the time in epoch milliseconds."""


def parse_position(text: str, option: str = "--from", now_ms: int | None = None) -> Position:
    """Parse one position; a UsageError says which part of `text` is wrong."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    spec = text.strip()
    if spec in ("beginning", "end"):
        return Position(spec)  # type: ignore[arg-type]
    if _digits(spec):
        return Position("offset", _count(spec, text, option))
    if spec.startswith("-") and _digits(spec[1:]):
        if int(spec[1:]) == 0:
            raise UsageError(f"{option} {text!r}: the last 0 messages is nothing", hint="use `end` to start at the end")
        return Position("last", _count(spec[1:], text, option))
    relative = _RELATIVE.match(spec)
    if relative:
        unit = relative["unit"]
        if unit not in _UNITS_MS:
            raise UsageError(
                f"{option} {text!r}: unknown time unit {unit!r}", hint=f"use one of {', '.join(_UNITS_MS)}, e.g. -10m"
            )
        ago_ms = float(relative["amount"]) * _UNITS_MS[unit]
        if not math.isfinite(ago_ms) or now_ms - ago_ms < _FIRST_MS:
            raise UsageError(f"{option} {text!r}: reaches back before year 1", hint=_RANGE_HINT)
        return Position("time", max(0, now_ms - int(ago_ms)))
    if spec.startswith("@"):
        return Position("time", max(0, _parse_time(spec[1:], text, option)))
    raise UsageError(
        f"{option} {text!r}: not a position",
        hint="use beginning, end, an offset, -N (last N), @2026-11-28T14:00 (a time) or -10m (time ago)",
    )


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit() also takes "²", which int() refuses


def _count(digits: str, text: str, option: str) -> int:
    if len(digits) > 19 or int(digits) > _MAX_OFFSET:
        raise UsageError(f"{option} {text!r}: beyond Kafka's largest offset ({_MAX_OFFSET:,})")
    return int(digits)


def _parse_time(moment: str, text: str, option: str) -> int:
    if _digits(moment):  # epoch milliseconds, as Kafka timestamps are
        if len(moment) > 16 or int(moment) > _LAST_MS:
            raise UsageError(f"{option} {text!r}: epoch milliseconds beyond year 9999", hint=_RANGE_HINT)
        return int(moment)
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError as exc:
        raise UsageError(
            f"{option} {text!r}: {moment!r} is not an ISO time ({exc})",
            hint="e.g. @2026-11-28T14:05:00, @2026-11-28 14:05+01:00 or @2026-11-28",
        ) from None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.astimezone()  # local time, as operators read clocks
        return int(parsed.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):  # 0001-01-01 or 9999-12-31 moved by a zone
        raise UsageError(f"{option} {text!r}: out of range", hint=_RANGE_HINT) from None


def parse_until(text: str, now_ms: int | None = None) -> Position:
    position = parse_position(text, "--until", now_ms)
    if position.kind in ("beginning", "last"):
        where = "the beginning" if position.kind == "beginning" else "the last N"
        raise UsageError(
            f"--until {text!r}: a read cannot stop at {where}",
            hint="use end, an offset, @TIME or -10m",
        )
    return position


def start_offset(position: Position, low: int, high: int, offset_for_time: int | None = None) -> int:
    """The first offset to read of a partition holding [low, high)."""
    if position.kind == "beginning":
        return low
    if position.kind == "end":
        return high
    if position.kind == "offset":
        return min(max(position.value, low), high)
    if position.kind == "last":
        return max(low, high - position.value)
    return high if offset_for_time is None or offset_for_time < 0 else offset_for_time


def stop_offset(position: Position, low: int, high: int, offset_for_time: int | None = None) -> int:
    """The offset to stop before, for a partition holding [low, high) when the read starts."""
    if position.kind == "end":
        return high
    if position.kind == "offset":
        return max(position.value, low)
    # A time no message has reached yet ends the read at the current end.
    return high if offset_for_time is None or offset_for_time < 0 else offset_for_time
