"""Alarm policy: when a DPE is in alarm, and what acknowledging means. Pure logic, no I/O:
`vac alarms watch` (the headless evaluator), the dashboard and the tests drive it with
samples (DPE, value, source time, invalid) in time order per DPE.

Each (DPE, kind) has a `Track`, a small state machine with hysteresis:
- `above`: raise when the value is above `above`, clear when below `clear_below`;
- `rise`: raise when the value is `rise_decades` above its baseline, an exponential average of
  log10(value) with time constant `within_s` that is held while the value is raised (so a
  lasting rise stays in alarm rather than becoming the new normal), clear within
  `clear_decades`;
- `invalid`: raise while the status says invalid.
A change of state waits until its condition has held `min_s` of the DPE's own source time:
a value oscillating around a limit raises one alarm, a single odd sample none.

An alarm stays listed until it has both cleared and been acknowledged (who and when are
kept), as operators expect from any alarm screen. A cleared alarm raised again is a new
occurrence (a new `raised_s`); an acknowledgement names the occurrence it is for.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, field

from vac.settings import AlarmRule
from vac.units import engineering

KINDS = ("above", "rise", "invalid")


@dataclass
class Alarm:
    dpe: str
    kind: str
    """above, rise or invalid."""
    message: str
    raised_s: float
    cleared_s: float | None = None
    acked_by: str | None = None
    acked_s: float | None = None
    value: float | None = None
    """The value that raised it, then the worst since."""

    @property
    def key(self) -> tuple[str, str]:
        return (self.dpe, self.kind)

    @property
    def id(self) -> str:
        """What `vac alarms ack` takes: DPE/kind."""
        return f"{self.dpe}/{self.kind}"

    @property
    def acked(self) -> bool:
        return self.acked_by is not None

    @property
    def active(self) -> bool:
        return self.cleared_s is None

    @property
    def state(self) -> str:
        """What an alarm list says of it: active or cleared, acknowledged or NEW."""
        return f"{'active' if self.active else 'cleared'}, {'acked' if self.acked else 'NEW'}"


def parse_alarm_id(text: str) -> tuple[str, str]:
    """`VGPB_2_7L8_B.PR/above` -> (DPE, kind); ValueError when it is not one."""
    dpe, slash, kind = text.rpartition("/")
    if not slash or not dpe or kind not in KINDS:
        raise ValueError(f"{text!r} is not an alarm id (DPE/kind, kind one of {', '.join(KINDS)})")
    return dpe, kind


@dataclass
class Track:
    """The hysteresis of one condition of one DPE."""

    rule: AlarmRule
    kind: str
    raised: bool = False
    since_s: float | None = None
    """When the condition that would change the state started to hold, or None."""
    baseline: float | None = None
    """log10 of the smoothed level (rise only)."""
    last_s: float | None = None

    def _want(self, value: float, invalid: bool) -> tuple[bool, bool]:
        """(the raise condition holds, the clear condition holds)."""
        rule = self.rule
        if self.kind == "invalid":
            return invalid, not invalid
        if not math.isfinite(value):
            return False, False  # keep the state: a NaN says nothing either way
        if self.kind == "above":
            assert rule.above is not None
            clear_below = rule.clear_below if rule.clear_below is not None else rule.above / 2
            return value > rule.above, value < clear_below
        assert rule.rise_decades is not None
        if value <= 0 or self.baseline is None:
            return False, True
        rise = math.log10(value) - self.baseline
        clear = rule.clear_decades if rule.clear_decades is not None else rule.rise_decades / 2
        return rise >= rule.rise_decades, rise < clear

    def _follow(self, value: float, at_s: float) -> None:
        """Move the baseline towards the value, unless the value is raised above it."""
        if self.kind != "rise" or value <= 0 or not math.isfinite(value):
            return
        level = math.log10(value)
        if self.baseline is None or self.last_s is None:
            self.baseline = level
            return
        rule = self.rule
        clear = rule.clear_decades if rule.clear_decades is not None else (rule.rise_decades or 1.0) / 2
        if self.raised or level - self.baseline >= clear:
            return  # held: a rise in progress must not become the normal it is measured against
        weight = 1.0 - math.exp(-max(at_s - self.last_s, 0.0) / rule.within_s)
        self.baseline += weight * (level - self.baseline)

    def sample(self, value: float, invalid: bool, at_s: float) -> bool | None:
        """Take one sample; True when the alarm is to be raised now, False when cleared, else None."""
        raise_now, clear_now = self._want(value, invalid)
        changing = clear_now if self.raised else raise_now
        decided: bool | None = None
        if not changing:
            self.since_s = None
        else:
            if self.since_s is None:
                self.since_s = at_s
            if at_s - self.since_s >= self.rule.min_s:
                self.raised = not self.raised
                self.since_s = None
                decided = self.raised
        self._follow(value, at_s)
        self.last_s = at_s if self.last_s is None else max(self.last_s, at_s)
        return decided

    def describe(self, value: float) -> str:
        rule = self.rule
        if self.kind == "above":
            assert rule.above is not None
            return f"{engineering(value)} mbar above {engineering(rule.above)}"
        if self.kind == "rise":
            rise = math.log10(value) - (self.baseline or 0.0) if value > 0 else 0.0
            return f"{engineering(value)} mbar, {rise:.1f} decades above its baseline"
        return "invalid value"


@dataclass
class Changes:
    """What one evaluation changed: alarms raised, cleared, and dropped from the list."""

    raised: list[Alarm] = field(default_factory=list)
    cleared: list[Alarm] = field(default_factory=list)
    removed: list[Alarm] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.raised or self.cleared or self.removed)


class AlarmBook:
    def __init__(self, rules: list[AlarmRule]) -> None:
        self.rules = rules
        self.alarms: dict[tuple[str, str], Alarm] = {}
        self._kinds: dict[str, set[str]] = {}
        """The kinds of alarm listed per DPE: evaluating one DPE never walks the whole list."""
        self._tracks: dict[str, list[Track]] = {}

    def _tracks_for(self, name: str) -> list[Track]:
        tracks = self._tracks.get(name)
        if tracks is None:
            # One track per kind: the first rule that sets a kind for this DPE decides it.
            by_kind: dict[str, Track] = {}
            for rule in self.rules:
                if not fnmatch.fnmatchcase(name, rule.match):
                    continue
                for kind, wanted in (("above", rule.above), ("rise", rule.rise_decades), ("invalid", rule.invalid)):
                    if wanted not in (None, False) and kind not in by_kind:
                        by_kind[kind] = Track(rule, kind)
            tracks = self._tracks[name] = list(by_kind.values())
        return tracks

    def evaluate(self, dpe: str, value: float, at_s: float, invalid: bool = False) -> Changes:
        """Take one sample of one DPE (source time `at_s`); raise and clear its alarms."""
        changes = Changes()
        for track in self._tracks_for(dpe):
            decided = track.sample(value, invalid, at_s)
            alarm = self.alarms.get((dpe, track.kind))
            if decided is True:
                alarm = Alarm(dpe, track.kind, track.describe(value), at_s, value=value)
                self._put(alarm)
                changes.raised.append(alarm)
            elif alarm is not None and alarm.active:
                if decided is False:
                    alarm.cleared_s = at_s
                    changes.cleared.append(alarm)
                    if alarm.acked:
                        self._remove(alarm.key)
                        changes.removed.append(alarm)
                elif track.kind != "invalid" and math.isfinite(value) and value > (alarm.value or 0.0):
                    alarm.value, alarm.message = value, track.describe(value)  # the worst so far
        return changes

    def _put(self, alarm: Alarm) -> None:
        self.alarms[alarm.key] = alarm
        self._kinds.setdefault(alarm.dpe, set()).add(alarm.kind)

    def _remove(self, key: tuple[str, str]) -> None:
        del self.alarms[key]
        kinds = self._kinds[key[0]]
        kinds.discard(key[1])
        if not kinds:
            del self._kinds[key[0]]

    def restore(self, alarm: Alarm) -> None:
        """Take an alarm from the shared topic (a restarted evaluator, another dashboard);
        an active one primes its track so that it is cleared, not raised again."""
        if not alarm.active and alarm.acked:
            if alarm.key in self.alarms:
                self._remove(alarm.key)
            return
        self._put(alarm)
        if alarm.active:
            for track in self._tracks_for(alarm.dpe):
                if track.kind == alarm.kind:
                    track.raised = True

    def forget(self, key: tuple[str, str]) -> None:
        if key in self.alarms:
            self._remove(key)

    def acknowledge(
        self, key: tuple[str, str], by: str = "", at_s: float = 0.0, raised_s: float | None = None
    ) -> Alarm | None:
        """Acknowledge the alarm of `key` (only the occurrence raised at `raised_s`, if given);
        return it, or None if there is none to acknowledge."""
        alarm = self.alarms.get(key)
        if alarm is None or (raised_s is not None and alarm.raised_s != raised_s):
            return None
        if not alarm.acked:
            alarm.acked_by, alarm.acked_s = by or "someone", at_s
        if not alarm.active:
            self._remove(key)
        return alarm

    def acknowledge_dpe(self, dpe: str | None, by: str = "", at_s: float = 0.0) -> list[Alarm]:
        """Acknowledging from the DPE table: every alarm of the selected DPE; with none
        selected (an empty table), the alarm at the top of the list."""
        if dpe is None:
            listed = self.listed()
            keys = [listed[0].key] if listed else []
        else:
            keys = [(dpe, kind) for kind in sorted(self._kinds.get(dpe, ()))]
        return [alarm for key in keys if (alarm := self.acknowledge(key, by, at_s)) is not None]

    def acknowledge_all(self, by: str = "", at_s: float = 0.0) -> list[Alarm]:
        return [alarm for key in list(self.alarms) if (alarm := self.acknowledge(key, by, at_s)) is not None]

    def listed(self) -> list[Alarm]:
        """Unacknowledged first, then newest first."""
        return sorted(self.alarms.values(), key=lambda a: (a.acked, -a.raised_s))

    def active_dpes(self) -> set[str]:
        return {alarm.dpe for alarm in self.alarms.values() if alarm.active}

    @property
    def unacknowledged(self) -> int:
        return sum(1 for alarm in self.alarms.values() if not alarm.acked)
