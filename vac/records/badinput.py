"""Counting bad input: each kind is counted, and logged once with an example."""

from __future__ import annotations

import logging
from collections import Counter

from vac.printable import printable

log = logging.getLogger("vac.input")


class BadInput:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, kind: str, example: str) -> None:
        if kind not in self.counts:
            # An outsider's bytes, on the operator's terminal: escapes show, never act.
            self.examples[kind] = printable(example, limit=200)
            log.warning("skipping bad input (%s), e.g. %s", kind, self.examples[kind])
        self.counts[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())
