"""Times as people type them: `15m` ago, `2019-08-03` (its midnight), `2019-08-03 03:07`
in local time, or ISO 8601 with a zone. Naive times are local, as in Kibana."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vac.errors import UsageError

RELATIVE = re.compile(r"(?:now-)?(\d+)\s*(ms|s|m|h|d|w|M|y)", re.ASCII)
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}
INTERVAL = re.compile(r"(\d+)\s*(s|m|h|d)", re.ASCII)
RANGE_HINT = "times go from year 1 to 9999: e.g. 15m, 7d, 2019-08-03"


def zone(name: str | None) -> tzinfo | None:
    """A named zone, or None for the machine's own (which knows its summer time)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Zurich or UTC") from None


def parse_time(text: str, now: datetime, local: tzinfo | None = None) -> datetime:
    """An aware UTC datetime from a relative (`15m`, `now-2h`, `now`) or absolute time."""
    text = text.strip()
    if text == "now":
        return now
    relative = RELATIVE.fullmatch(text)
    if relative is not None:
        try:
            return now - timedelta(seconds=int(relative[1]) * UNIT_SECONDS[relative[2]])
        except OverflowError:  # 1000000000d: further back than a date can be
            raise UsageError(f"time {text!r} reaches back before year 1", hint=RANGE_HINT) from None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise UsageError(
            f"time {text!r} is neither relative nor a date",
            hint="e.g. 15m, 2h, 7d, 2019-08-03, '2019-08-03 03:07', 2019-08-03T03:07:00+02:00",
        ) from None
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=local) if local is not None else moment.astimezone()
        return moment.astimezone(UTC)
    except (OverflowError, ValueError, OSError):  # 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise UsageError(f"time {text!r} is out of range", hint=RANGE_HINT) from None


def parse_interval(text: str) -> tuple[str, float]:
    """`5m` -> (`5m`, 300.0): Elasticsearch's fixed_interval and its length in seconds."""
    match = INTERVAL.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise UsageError(f"interval {text!r} is not like 30s, 1m, 1h or 1d")
    return f"{match[1]}{match[2]}", int(match[1]) * UNIT_SECONDS[match[2]]


def to_local(moment: datetime, local: tzinfo | None = None) -> datetime:
    return moment.astimezone(local) if local is not None else moment.astimezone()


def parse_es_time(value: str) -> datetime:
    """`2019-08-03T12:53:25.608Z` (what the documents hold) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
