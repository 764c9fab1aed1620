"""Histogram intervals and times shown in a zone. The times people type are parsed by
vac.timegrammar, the one time grammar of every command."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from vac.errors import UsageError

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
INTERVAL = re.compile(r"(\d+)\s*(s|m|h|d)", re.ASCII)


def parse_interval(text: str) -> tuple[str, float]:
    """`5m` -> (`5m`, 300.0): Elasticsearch's fixed_interval and its length in seconds."""
    match = INTERVAL.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise UsageError(f"interval {text!r} is not like 30s, 1m, 1h or 1d")
    return f"{match[1]}{match[2]}", int(match[1]) * UNIT_SECONDS[match[2]]


def to_local(moment: datetime, local: tzinfo | None = None) -> datetime:
    return moment.astimezone(local) if local is not None else moment.astimezone()
