"""Kafka topic names: the broker's rule, checked before any request is made.

A name the broker would refuse is the user's mistake, not an unavailable cluster: checked up
front, it is a usage error that names the rule, where the broker would only time out or
answer with an error vac would report as Kafka being unavailable. Used by the settings (every
topic key) and by every command that takes a topic.
"""

from __future__ import annotations

import re

from vac.errors import UsageError

MAX_TOPIC_LENGTH = 249
ALARMS_TOPIC = "vac.alarms"
"""The default topic of alarm states and acknowledgements (compacted; see `vac.alarms`)."""
_LEGAL = re.compile(r"[a-zA-Z0-9._-]+")


def topic_name_problem(name: str) -> str | None:
    """Why Kafka would refuse `name` as a topic name, or None if it is a legal one."""
    if not name:
        return "a topic name cannot be empty"
    if len(name) > MAX_TOPIC_LENGTH:
        return f"a topic name has at most {MAX_TOPIC_LENGTH} characters (this one has {len(name)})"
    if name in (".", ".."):
        return f"{name!r} is not a legal topic name"
    if not _LEGAL.fullmatch(name):
        return f"topic {name!r} has characters Kafka refuses (it allows letters, digits, '.', '_' and '-')"
    return None


def check_topic_name(name: str) -> str:
    """`name` if it is a legal topic name; else UsageError."""
    problem = topic_name_problem(name)
    if problem is not None:
        raise UsageError(problem, hint="Kafka topic names match [a-zA-Z0-9._-]{1,249}")
    return name
