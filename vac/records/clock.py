"""UTC times as ISO 8601 text, the one format of vac's own times: `iso_utc` for a moment
(milliseconds, `Z`), and `PerSecond`, the memo behind every hot path that writes times (the
streamer's IsoClock, the WinCC OA parser): the seconds part is formatted once per second of
time and kept, only the fraction is written per record."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Generic, TypeVar

ISO_SECOND = "%Y-%m-%dT%H:%M:%S"
"""strftime of the seconds part of an ISO 8601 UTC time (`2026-11-28T15:00:00`)."""

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")


def iso_utc(moment: datetime) -> str:
    """`2026-11-28T15:00:00.123Z`: the time of documents, heartbeats and statuses."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


class PerSecond(Generic[Key, Value]):
    """What is worked out once per second of time (its ISO text, its zone conversion), kept
    for the next records of the same second. Bounded: past `most` seconds it starts again, so
    a source sending times from all over the calendar cannot grow it. A `make` that answers
    None (no such time) is asked again next time."""

    __slots__ = ("_made", "_make", "_most")

    def __init__(self, make: Callable[[Key], Value | None], most: int) -> None:
        self._made: dict[Key, Value] = {}
        self._make = make
        self._most = most

    def get(self, key: Key) -> Value | None:
        value = self._made.get(key)
        if value is None:
            value = self._make(key)
            if value is None:
                return None
            if len(self._made) > self._most:
                self._made.clear()
            self._made[key] = value
        return value


class IsoClock:
    """ISO 8601 UTC with microseconds, `2026-11-28T15:00:00.123456Z`, of epoch microseconds:
    the seconds part from a `PerSecond` (a few of them: source and ingest times straddle
    second boundaries), the microseconds patched per change. Calling datetime's formatting
    per change would cost more than the send."""

    def __init__(self) -> None:
        self._prefixes: PerSecond[int, bytes] = PerSecond(_second_text, 64)

    def second(self, second: int) -> bytes:
        """`2026-11-28T15:00:00` of an epoch second, as ASCII bytes."""
        prefix = self._prefixes.get(second)
        assert prefix is not None
        return prefix

    def format(self, epoch_us: int) -> str:
        second, micros = divmod(epoch_us, 1_000_000)
        return f"{self.second(second).decode()}.{micros:06d}Z"


def _second_text(second: int) -> bytes:
    return datetime.fromtimestamp(second, tz=UTC).strftime(ISO_SECOND).encode()
