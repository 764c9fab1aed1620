"""Which changes go out: only real changes, and a heartbeat for DPEs that stay silent.

A value within the deadband of the last value *sent* is suppressed (comparing with the last
sent value, not the last seen, lets a slow drift through once it adds up). Pressures use a
relative deadband (they span decades), other floats an absolute one, status words none. A
change of status always goes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vac.records.change import Change
from vac.records.dpe import Dpe


@dataclass(frozen=True)
class DeadbandRules:
    pressure_relative: float = 0.0
    """Suppress a pressure within this fraction of the last sent one (0.01 = 1%)."""
    float_absolute: float = 0.0
    """Suppress another float within this distance of the last sent one."""
    max_silence_s: float = 0.0
    """Re-send the last value of a DPE silent this long (0: never)."""


class DpeFilter:
    """The rule of one DPE and what it last sent. One per DPE, so the streamer finds a
    change's filter with the rest of the DPE's state in a single lookup."""

    __slots__ = ("relative", "absolute", "banded", "last", "sent_at")

    def __init__(self, dpe: Dpe, rules: DeadbandRules) -> None:
        self.relative = rules.pressure_relative if dpe.is_pressure else None
        self.absolute = rules.float_absolute
        self.banded = bool(self.absolute if self.relative is None else self.relative)
        """Whether a value unequal to the last one can still be suppressed."""
        self.last: Change | None = None
        self.sent_at = 0.0
        """Monotonic time of the last send."""

    def accept(self, change: Change, now: float) -> bool:
        """True if `change` must go out; records it as sent then."""
        last = self.last
        if last is not None and last.status64 == change.status64:  # a change of status always goes out
            new = change.value
            if new == last.value:
                return False
            # Without a deadband any other value is news (NaN, unequal to itself, is not).
            if (self.banded or new != new) and not self._differs(last.value, new):
                return False
        self.last = change
        self.sent_at = now
        return True

    def _differs(self, old: Any, new: Any) -> bool:
        if new == old:  # the common case of a repeated value, whatever the rules
            return False
        if not (isinstance(new, float) and isinstance(old, float)):
            return True
        if new != new or old != old:  # NaN: a repeated NaN is no change
            return not (new != new and old != old)
        if self.relative is not None:
            return old == 0.0 or abs(new - old) > self.relative * abs(old)
        return abs(new - old) > self.absolute


class ChangeFilter:
    def __init__(self, rules: DeadbandRules) -> None:
        self.rules = rules
        self._filters: dict[str, DpeFilter] = {}

    def of(self, dpe: Dpe) -> DpeFilter:
        """The DPE's filter, made on first use."""
        found = self._filters.get(dpe.name)
        if found is None:
            found = self._filters[dpe.name] = DpeFilter(dpe, self.rules)
        return found

    def silent(self, now: float) -> list[Change]:
        """The last sent change of every DPE silent for max_silence_s (their clocks restart)."""
        if self.rules.max_silence_s <= 0:
            return []
        cutoff = now - self.rules.max_silence_s
        due = [found for found in self._filters.values() if found.last is not None and found.sent_at <= cutoff]
        for found in due:
            found.sent_at = now
        return [found.last for found in due if found.last is not None]
