"""Alarms over the SCADA board: a DPE matching a rule's pattern is in alarm while its value is
above a limit, has risen by decades within a time, or is invalid. An alarm stays listed until
it has both cleared and been acknowledged, as operators expect from any alarm screen."""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass

from vac.dash.scada_board import LOW_WINDOW_S, DpeRow
from vac.settings import AlarmRule
from vac.units import engineering


@dataclass
class Alarm:
    dpe: str
    kind: str
    """above, rise or invalid."""
    message: str
    raised_s: float
    acked: bool = False
    cleared_s: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.dpe, self.kind)

    @property
    def state(self) -> str:
        """What an alarm list says of it: active or cleared, acknowledged or NEW."""
        return f"{'cleared' if self.cleared_s is not None else 'active'}, {'acked' if self.acked else 'NEW'}"


def _conditions(rule: AlarmRule, row: DpeRow, now_s: float) -> list[tuple[str, str]]:
    found = []
    if rule.above is not None and row.value > rule.above:
        found.append(("above", f"{engineering(row.value)} {row.unit} above {engineering(rule.above)}".strip()))
    if rule.rise_decades is not None and row.value > 0:
        low = row.lowest_since(now_s - min(rule.within_s, LOW_WINDOW_S))
        if low is not None and low > 0:
            rise = math.log10(row.value / low)
            if rise >= rule.rise_decades:
                found.append(("rise", f"rose {rise:.1f} decades within {rule.within_s:g} s"))
    if rule.invalid and row.flags.get("invalid"):
        found.append(("invalid", "invalid value"))
    return found


class AlarmBook:
    def __init__(self, rules: list[AlarmRule]) -> None:
        self.rules = rules
        self.alarms: dict[tuple[str, str], Alarm] = {}
        self._kinds: dict[str, set[str]] = {}
        """The kinds of alarm listed per DPE: evaluating one DPE never walks the whole list."""
        self._rules_of: dict[str, list[AlarmRule]] = {}

    def _rules_for(self, name: str) -> list[AlarmRule]:
        rules = self._rules_of.get(name)
        if rules is None:
            rules = self._rules_of[name] = [r for r in self.rules if fnmatch.fnmatchcase(name, r.match)]
        return rules

    def evaluate(self, row: DpeRow, now_s: float) -> list[Alarm]:
        """Raise and clear the alarms of one DPE after its value changed; return the new ones."""
        active: dict[str, str] = {}
        for rule in self._rules_for(row.name):
            for kind, message in _conditions(rule, row, now_s):
                active.setdefault(kind, message)
        raised = []
        for kind, message in active.items():
            alarm = self.alarms.get((row.name, kind))
            if alarm is None or alarm.cleared_s is not None:
                alarm = self.alarms[(row.name, kind)] = Alarm(row.name, kind, message, now_s)
                self._kinds.setdefault(row.name, set()).add(kind)
                raised.append(alarm)
            else:
                alarm.message = message
        for kind in list(self._kinds.get(row.name, ())):
            alarm = self.alarms[(row.name, kind)]
            if kind not in active and alarm.cleared_s is None:
                alarm.cleared_s = now_s
                if alarm.acked:
                    self._remove(alarm.key)
        return raised

    def _remove(self, key: tuple[str, str]) -> None:
        del self.alarms[key]
        kinds = self._kinds[key[0]]
        kinds.discard(key[1])
        if not kinds:
            del self._kinds[key[0]]

    def acknowledge(self, key: tuple[str, str]) -> None:
        alarm = self.alarms.get(key)
        if alarm is None:
            return
        alarm.acked = True
        if alarm.cleared_s is not None:
            self._remove(key)

    def acknowledge_dpe(self, dpe: str | None) -> None:
        """Acknowledging from the DPE table: every alarm of the selected DPE; with none
        selected (an empty table), the alarm at the top of the list."""
        if dpe is None:
            listed = self.listed()
            if listed:
                self.acknowledge(listed[0].key)
            return
        for kind in list(self._kinds.get(dpe, ())):
            self.acknowledge((dpe, kind))

    def acknowledge_all(self) -> None:
        for key in list(self.alarms):
            self.acknowledge(key)

    def listed(self) -> list[Alarm]:
        """Unacknowledged first, then newest first."""
        return sorted(self.alarms.values(), key=lambda a: (a.acked, -a.raised_s))

    def active_dpes(self) -> set[str]:
        return {alarm.dpe for alarm in self.alarms.values() if alarm.cleared_s is None}

    @property
    def unacknowledged(self) -> int:
        return sum(1 for alarm in self.alarms.values() if not alarm.acked)
