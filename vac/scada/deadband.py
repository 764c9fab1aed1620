"""Which changes go out: only real changes, and a heartbeat for DPEs that stay silent.

A value within the deadband of the last value *sent* is suppressed (comparing with the last
sent value, not the last seen, lets a slow drift through once it adds up). Pressures use a
relative deadband (they span decades), other floats an absolute one, status words none. A
change of status always goes out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vac.scada.change import Change
from vac.scada.dpes import Dpe


@dataclass(frozen=True)
class DeadbandRules:
    pressure_relative: float = 0.0
    """Suppress a pressure within this fraction of the last sent one (0.01 = 1%)."""
    float_absolute: float = 0.0
    """Suppress another float within this distance of the last sent one."""
    max_silence_s: float = 0.0
    """Re-send the last value of a DPE silent this long (0: never)."""


class ChangeFilter:
    def __init__(self, rules: DeadbandRules) -> None:
        self.rules = rules
        self._last: dict[str, Change] = {}
        """DPE -> the change last sent."""
        self._sent_at: dict[str, float] = {}
        """DPE -> monotonic time of the last send."""

    def accept(self, dpe: Dpe, change: Change, now: float) -> bool:
        """True if `change` must go out; records it as sent then."""
        previous = self._last.get(dpe.name)
        if (
            previous is not None
            and previous.status64 == change.status64  # a change of status always goes out
            and not self._differs(dpe, previous.value, change.value)
        ):
            return False
        self._last[dpe.name] = change
        self._sent_at[dpe.name] = now
        return True

    def _differs(self, dpe: Dpe, old: Any, new: Any) -> bool:
        if new == old:  # the common case of a repeated value, whatever the rules
            return False
        if not (isinstance(new, float) and isinstance(old, float)):
            return True
        if math.isnan(new) or math.isnan(old):
            return not (math.isnan(new) and math.isnan(old))
        if dpe.is_pressure:
            return old == 0.0 or abs(new - old) > self.rules.pressure_relative * abs(old)
        return abs(new - old) > self.rules.float_absolute

    def silent(self, now: float) -> list[Change]:
        """The last sent change of every DPE silent for max_silence_s (their clocks restart)."""
        if self.rules.max_silence_s <= 0:
            return []
        cutoff = now - self.rules.max_silence_s
        due = [name for name, sent_at in self._sent_at.items() if sent_at <= cutoff]
        for name in due:
            self._sent_at[name] = now
        return [self._last[name] for name in due]
