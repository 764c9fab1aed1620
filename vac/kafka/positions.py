"""Where a read starts and stops: `--from` / `--until` expressions and their resolution.

Forms: `beginning`, `end`, `OFFSET`, `-N` (the last N of each partition), or a time in the
grammar of vac.timegrammar: `-10m`, `10m`, `now-1h/h`, `today`, `@ISO-TIME` or plain ISO (local
time unless it names a zone), `@EPOCH-MS`.
A stop position is exclusive: the read covers [from, until).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from vac.errors import UsageError
from vac.timegrammar import parse_instant

PositionKind = Literal["beginning", "end", "offset", "last", "time"]
# Kafka keeps offsets in signed 64 bits.
_MAX_OFFSET = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET_LIKE = re.compile(r"-?[0-9.]+", re.ASCII)  # 1.5 or -1.5: neither an offset nor a time
_POSITION_HINT = "use beginning, end, an offset, -N (last N) or a time: -10m, now-1h/h, today, @2026-11-28T14:00"


@dataclass(frozen=True)
class Position:
    kind: PositionKind
    value: int = 0
    """The offset, N of `-N`, or the time in epoch milliseconds."""


def parse_position(
    text: str, option: str = "--from", now_ms: int | None = None, local: tzinfo | None = None
) -> Position:
    """Parse one position; a UsageError says which part of `text` is wrong. Times are those of
    vac.timegrammar (local means `local`, else this machine's zone)."""
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
    if _OFFSET_LIKE.fullmatch(spec):
        raise UsageError(f"{option} {text!r}: not a position", hint=_POSITION_HINT)
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    moment = parse_instant(text, now, local, option)
    # A time before 1970 means the beginning: Kafka has nothing older, and it reads a
    # negative timestamp as "latest" (-1) or "earliest" (-2).
    return Position("time", max(0, _epoch_ms(moment)))


def _epoch_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit() also takes "²", which int() refuses


def _count(digits: str, text: str, option: str) -> int:
    if len(digits) > 19 or int(digits) > _MAX_OFFSET:
        raise UsageError(f"{option} {text!r}: beyond Kafka's largest offset ({_MAX_OFFSET:,})")
    return int(digits)


def parse_until(text: str, now_ms: int | None = None, local: tzinfo | None = None) -> Position:
    position = parse_position(text, "--until", now_ms, local)
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
