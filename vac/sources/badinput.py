"""Counting bad input: each kind is counted, and logged once with an example."""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("vac.input")


class BadInput:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, kind: str, example: str) -> None:
        if kind not in self.counts:
            self.examples[kind] = printable(example[:200])
            log.warning("skipping bad input (%s), e.g. %s", kind, self.examples[kind])
        self.counts[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def printable(text: str) -> str:
    """`text` with control characters escaped: an example of bad input goes to the operator's
    terminal, where an escape sequence from an outsider would act instead of show."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
