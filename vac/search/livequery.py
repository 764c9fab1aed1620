"""The query-string syntax of `vac query`, evaluated on documents in memory (the live log
stream has no Elasticsearch behind it). A subset: `field:value` (quoted phrases, `*` and
`?` wildcards), bare words and phrases matched in the message and text, `NOT`/`-` to negate, terms
joined by AND (the default operator, as in `vac query`); `OR` is not supported here."""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable
from typing import Any

from vac.errors import UsageError
from vac.search.fields import field_value

Predicate = Callable[[dict[str, Any]], bool]


def _term(field: str | None, value: str) -> Predicate:
    wanted = value.lower()
    wildcard = any(char in value for char in "*?")

    def matches(text: str) -> bool:
        text = text.lower()
        if wildcard:
            return fnmatch.fnmatchcase(text, wanted) or any(fnmatch.fnmatchcase(w, wanted) for w in text.split())
        return wanted in text if field in (None, "message", "text") else text == wanted

    def check(doc: dict[str, Any]) -> bool:
        # A bare word looks in the texts, as Elasticsearch's default fields would.
        for name in (field,) if field else ("message", "text"):
            value_in_doc = field_value(doc, name)
            if isinstance(value_in_doc, list) and any(matches(str(item)) for item in value_in_doc):
                return True
            if value_in_doc is not None and not isinstance(value_in_doc, list) and matches(str(value_in_doc)):
                return True
        return False

    return check


def compile_query(query: str) -> Predicate:
    """A predicate for `query`; raises UsageError for what this subset cannot evaluate."""
    try:
        words = shlex.split(query, posix=True)
    except ValueError as exc:
        raise UsageError(f"query {query!r}: {exc}") from None
    checks: list[tuple[bool, Predicate]] = []
    negate = False
    for word in words:
        if word == "AND":
            continue
        if word == "OR":
            raise UsageError("OR is not supported on the live stream; use `vac query` for it")
        if word == "NOT":
            negate = True
            continue
        if word.startswith("-") and len(word) > 1:
            negate, word = True, word[1:]
        match = re.fullmatch(r"([\w.@]+):(.+)", word)
        check = _term(match[1], match[2]) if match else _term(None, word)
        checks.append((negate, check))
        negate = False
    return lambda doc: all(check(doc) != negated for negated, check in checks)
