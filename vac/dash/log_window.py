"""The live log records the dashboard holds: the newest few thousand, filtered by level, app,
host, manager and a query; per-minute counts by level; the top message codes."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from vac.search.fields import field_value
from vac.search.livequery import Predicate, compile_query
from vac.timegrammar import epoch_seconds

KEEP = 5000


def _epoch_s(doc: dict[str, Any]) -> float:
    stamp = doc.get("@timestamp")
    if isinstance(stamp, str):
        try:
            return epoch_seconds(stamp)
        except (ValueError, OverflowError):  # not a time, or one at the edge of year 1 or 9999
            pass
    return 0.0


def _offset(doc: dict[str, Any]) -> int:
    """Where a record sits in its file; records come from a topic anyone can write to."""
    offset = field_value(doc, "offset")
    return offset if isinstance(offset, int) and not isinstance(offset, bool) else 0


@dataclass
class LogFilter:
    levels: set[str] = field(default_factory=set)
    app: str = ""
    host: str = ""
    manager: str = ""
    query: str = ""

    def predicate(self, local: tzinfo | None = None) -> Predicate:
        """`local`: the zone of times without one in the query (query.timezone)."""
        query = compile_query(self.query, local) if self.query.strip() else None
        levels = {level.upper() for level in self.levels}

        def check(doc: dict[str, Any]) -> bool:
            if levels and str(doc.get("level", "")).upper() not in levels:
                return False
            for name, wanted in (("app", self.app), ("host", self.host), ("manager", self.manager)):
                if wanted and wanted.lower() not in str(field_value(doc, name) or "").lower():
                    return False
            return query is None or query(doc)

        return check


class LogWindow:
    def __init__(self, keep: int = KEEP, local: tzinfo | None = None) -> None:
        self.local = local
        self.records: deque[dict[str, Any]] = deque(maxlen=keep)
        self.filter = LogFilter()
        self._predicate: Predicate = self.filter.predicate()
        self.seen_ids: set[str] = set()
        self.received = 0

    def add(self, doc: dict[str, Any]) -> bool:
        """Keep one record (a record already seen, from history and then live, is dropped)."""
        doc_id = str(field_value(doc, "id") or "")
        if doc_id:
            if doc_id in self.seen_ids:
                return False
            self.seen_ids.add(doc_id)
            if len(self.seen_ids) > 4 * (self.records.maxlen or KEEP):
                self.seen_ids = {str(field_value(d, "id") or "") for d in self.records}
        self.records.append(doc)
        self.received += 1
        return True

    def set_filter(self, log_filter: LogFilter) -> None:
        self._predicate = log_filter.predicate(self.local)  # a bad query raises here, before it is kept
        self.filter = log_filter

    def shown(self, limit: int = 500) -> list[dict[str, Any]]:
        """The newest matching records, newest last."""
        out: list[dict[str, Any]] = []
        for doc in reversed(self.records):
            if self._predicate(doc):
                out.append(doc)
                if len(out) >= limit:
                    break
        return out[::-1]

    def per_minute(self, minutes: int, now_s: float) -> list[tuple[float, Counter[str]]]:
        """Counts of the matching records per minute by level, oldest minute first."""
        first = (int(now_s) // 60 - minutes + 1) * 60
        buckets = [(float(first + 60 * n), Counter[str]()) for n in range(minutes)]
        for doc in self.records:
            at = _epoch_s(doc)
            index = int((at - first) // 60)
            if 0 <= index < minutes and self._predicate(doc):
                buckets[index][1][str(doc.get("level", "-"))] += 1
        return buckets

    def top_codes(self, n: int = 5) -> list[tuple[str, int, str]]:
        """(message code, count, an example text) of the matching records."""
        counts: Counter[str] = Counter()
        example: dict[str, str] = {}
        for doc in self.records:
            if "number" in doc and self._predicate(doc):
                code = f"{doc.get('type', '')}/{doc['number']}"
                counts[code] += 1
                example.setdefault(code, str(doc.get("text") or doc.get("message", ""))[:60])
        return [(code, count, example[code]) for code, count in counts.most_common(n)]

    def neighbours(self, doc: dict[str, Any], count: int = 3) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Records of the same file just before and after `doc`, among those held."""
        path = field_value(doc, "file")
        same = sorted(
            (d for d in self.records if field_value(d, "file") == path),
            key=_offset,
        )
        at = next((i for i, d in enumerate(same) if d is doc), None)
        if at is None:
            return [], []
        return same[max(0, at - count) : at], same[at + 1 : at + 1 + count]
