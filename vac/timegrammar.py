"""One time grammar for every command that takes a time (`vac tail`, `vac query`, `vac audit`,
`vac index prune`, the config's `query.since`): what people type in Kibana and kcat.

    now                      this moment
    10m  -10m  now-10m       that long ago (units ms s m h d w M y; h also H)
    now/d  now-1d/d  now-1h/h  Kibana/Elasticsearch date math: +N, -N, /unit rounds down
    today  yesterday         now/d and now-1d/d
    2019-08-03               ISO 8601 (python-dateutil's isoparse): a date is its midnight;
    2019-08-03 03:07         no zone means local time (query.timezone, else this machine's)
    2019-08-03T03:07:00Z     with a zone (Z, +02:00), exactly that
    2019-08-03||+1d/d        date math anchored on an ISO time, as in Elasticsearch
    @ISO  @1700000000123     `@` before a time (kcat's habit); `@` + digits: epoch milliseconds

Seconds and smaller units move the clock; days, weeks, months and years move the calendar in
the local zone (as Kibana does: `now-1d` across a summer-time change is 23 or 25 hours ago), and
rounding (`/d`, `/w` to Monday, `/M`, `/y`) is to the local zone's midnight. A refused text
raises UsageError naming the part that is wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.parser import isoparse
from dateutil.relativedelta import relativedelta

from vac.errors import UsageError

FORMS_HINT = "e.g. 10m, -10m, now-10m, now/d, now-1d/d, yesterday, 2019-08-03, '2019-08-03 03:07', @2019-08-03T03:07Z"
RANGE_HINT = "times go from year 1 to 9999: e.g. 15m, 7d, 2019-08-03"
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "H": 3600.0}
_CALENDAR_UNITS = ("d", "w", "M", "y")
UNITS = (*_UNIT_SECONDS, *_CALENDAR_UNITS)
_STEP = re.compile(r"([+-])(\d+(?:\.\d+)?)?([A-Za-z]*)|/([A-Za-z]*)", re.ASCII)
_AGO = re.compile(r"-?(\d+(?:\.\d+)?)([A-Za-z]+)", re.ASCII)
_WORDS = {"now": "now", "today": "now/d", "yesterday": "now-1d/d"}
_LONGEST = 200  # no time is longer; a longer text is refused before any parsing
_LAST_MS = int(datetime(9999, 12, 30, tzinfo=UTC).timestamp() * 1000)


def zone(name: str | None) -> tzinfo | None:
    """A named zone, or None for the machine's own (which knows its summer time)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Zurich or UTC") from None


def parse_instant(text: str, now: datetime, local: tzinfo | None = None, option: str = "time") -> datetime:
    """An aware UTC datetime for `text` (see the module's grammar); `now` is aware."""
    label = f"{option} {text[:_LONGEST]!r}"
    spec = text.strip()
    if not spec:
        raise UsageError(f"{option}: empty time", hint=FORMS_HINT)
    if len(spec) > _LONGEST or not spec.isprintable():
        raise UsageError(f"{label}: not a time (too long or holds control characters)", hint=FORMS_HINT)
    try:
        return _parse(spec, label, now.astimezone(UTC), local)
    except (OverflowError, ValueError, OSError):  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise UsageError(f"{label}: out of range", hint=RANGE_HINT) from None


def _parse(spec: str, label: str, now: datetime, local: tzinfo | None) -> datetime:
    if spec.startswith("@"):
        spec = spec[1:]
        if spec.isascii() and spec.isdigit():  # epoch milliseconds, as Kafka timestamps are
            if len(spec) > 16 or int(spec) > _LAST_MS:
                raise UsageError(f"{label}: epoch milliseconds beyond year 9999", hint=RANGE_HINT)
            return datetime.fromtimestamp(int(spec) / 1000, UTC)
    spec = _WORDS.get(spec.lower(), spec)
    ago = _AGO.fullmatch(spec)
    if ago is not None:  # 10m and -10m: that long ago
        return _step(now, "-", ago[1], ago[2], label, local)
    if spec.startswith("now"):
        anchor, math = now, spec[3:]
    else:
        iso, bars, math = spec.partition("||")
        if not bars:
            math = ""
        anchor = _iso(iso, label, local)
    return _math(anchor, math, label, local)


def _iso(text: str, label: str, local: tzinfo | None) -> datetime:
    try:
        moment: datetime = isoparse(text)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"{label}: {text!r} is not a time ({exc})", hint=FORMS_HINT) from None
    if moment.tzinfo is None:
        moment = _localize(moment, local)
    return moment.astimezone(UTC)


def _math(moment: datetime, math: str, label: str, local: tzinfo | None) -> datetime:
    at = 0
    while at < len(math):
        step = _STEP.match(math, at)
        if step is None or step.end() == at:
            raise UsageError(f"{label}: unexpected {math[at:]!r}; date math is +N, -N or /unit", hint=FORMS_HINT)
        sign, amount, unit, rounding = step.groups()
        if rounding is not None:
            moment = _round(moment, rounding, label, local)
        else:
            if amount is None:
                raise UsageError(f"{label}: {step[0]!r} needs a number, e.g. -1d", hint=FORMS_HINT)
            moment = _step(moment, sign, amount, unit, label, local)
        at = step.end()
    return moment


def _check_unit(unit: str, label: str) -> None:
    if unit not in UNITS:
        raise UsageError(f"{label}: unknown time unit {unit!r}", hint=f"use one of {', '.join(UNITS)}, e.g. -10m")


def _step(moment: datetime, sign: str, amount: str, unit: str, label: str, local: tzinfo | None) -> datetime:
    _check_unit(unit, label)
    number = float(amount)
    if unit in _UNIT_SECONDS:
        delta = timedelta(seconds=number * _UNIT_SECONDS[unit])
        return moment - delta if sign == "-" else moment + delta
    if not number.is_integer():
        raise UsageError(f"{label}: {amount}{unit}: days, weeks, months and years take whole numbers")
    count = int(number) if sign == "+" else -int(number)
    if abs(count) > 10_000 * 366:
        raise OverflowError(amount)
    calendar = {"d": relativedelta(days=count), "w": relativedelta(weeks=count),
                "M": relativedelta(months=count), "y": relativedelta(years=count)}[unit]  # fmt: skip
    wall = _wall(moment, local) + calendar
    return _localize(wall, local).astimezone(UTC)


def _round(moment: datetime, unit: str, label: str, local: tzinfo | None) -> datetime:
    """Down to the start of the unit, in the local zone for days and longer."""
    _check_unit(unit, label)
    if unit in ("ms", "s", "m", "h", "H"):
        keep = {"ms": 1000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "H": 3_600_000_000}[unit]
        micros = (moment - datetime(1, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
        return datetime(1, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros - micros % keep)
    wall = _wall(moment, local).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        wall -= timedelta(days=wall.weekday())  # ISO weeks start on Monday, as Elasticsearch's
    elif unit == "M":
        wall = wall.replace(day=1)
    elif unit == "y":
        wall = wall.replace(month=1, day=1)
    return _localize(wall, local).astimezone(UTC)


def _wall(moment: datetime, local: tzinfo | None) -> datetime:
    """The local wall-clock time of `moment`, without a zone."""
    return (moment.astimezone(local) if local is not None else moment.astimezone()).replace(tzinfo=None)


def _localize(wall: datetime, local: tzinfo | None) -> datetime:
    return wall.replace(tzinfo=local) if local is not None else wall.astimezone()


def parse_iso_utc(stamp: str) -> datetime:
    """A stored timestamp (`2019-08-03T12:53:25.608Z`, what the documents and records hold) as
    an aware datetime; one without a zone is UTC. Raises ValueError for what is not one."""
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def epoch_seconds(stamp: str) -> float:
    """A stored timestamp in seconds since 1970 (ValueError or OverflowError if not a time)."""
    return parse_iso_utc(stamp).timestamp()
