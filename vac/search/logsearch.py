"""One search of the log indices, as Kibana Discover runs it: a query-string query inside a
time window and a scope (apps, hosts, levels), read as a stream of hits, a count, a
histogram, the top values of a field, or the records around a moment of one source.

Reading past 10,000 hits uses a point in time and `search_after`, a page at a time, so
`--limit 1000000` streams in constant memory.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, TypeVar

import elasticsearch
from elasticsearch import Elasticsearch

from vac.errors import IndexNotFound, PermissionDenied, QueryError
from vac.search import kql
from vac.search.fields import field_path, field_value

PAGE = 1000
"""Hits per request when streaming many."""
MAX_BARS = 2000
"""A histogram with more buckets than this is a mistake in the interval, not a chart."""
FOLLOW_LOOKBACK_S = 120.0
"""`--follow` looks this far back for records that become searchable late (shipping and
indexing take seconds; the index refreshes every 5 s)."""

Hit = dict[str, Any]
"""`{"_id", "_index", "_source", "sort"}` as Elasticsearch returns it."""
T = TypeVar("T")


@dataclass(frozen=True)
class SearchScope:
    index: str
    query: str = ""
    """KQL (vac.search.kql), or Lucene query-string syntax with `lucene`; empty matches everything."""
    since: datetime | None = None
    until: datetime | None = None
    apps: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    lucene: bool = False
    local: tzinfo | None = None
    """The zone of times without one in the query's ranges."""

    def query_filter(self) -> dict[str, Any] | None:
        """The query text as Elasticsearch gets it (a UsageError if it is not valid KQL)."""
        if not self.query.strip():
            return None
        if self.lucene:
            return {"query_string": {"query": self.query, "default_operator": "AND"}}
        return kql.to_es(kql.parse(self.query), local=self.local)

    def es_query(self) -> dict[str, Any]:
        filters: list[dict[str, Any]] = []
        query = self.query_filter()
        if query is not None:
            filters.append(query)
        if self.since is not None or self.until is not None:
            bounds: dict[str, str] = {}
            if self.since is not None:
                bounds["gte"] = _es_time(self.since)
            if self.until is not None:
                bounds["lt"] = _es_time(self.until)
            filters.append({"range": {"@timestamp": bounds}})
        if self.apps:
            filters.append({"terms": {"fields.app_id": [name for app in self.apps for name in app_ids(app)]}})
        if self.hosts:
            filters.append({"terms": {"host.name": list(self.hosts)}})
        if self.levels:
            filters.append({"terms": {"level": [level.upper() for level in self.levels]}})
        return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def app_ids(app: str) -> list[str]:
    """`lhc_1` also means `vac_lhc_1_scada_logs`, the app_id the index name was made from."""
    return [app] if app.startswith("vac_") else [app, f"vac_{app}_scada_logs"]


def _es_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def time_sort(order: str) -> list[dict[str, Any]]:
    """By time, and by position in the file for records of the same millisecond."""
    return [
        {"@timestamp": {"order": order}},
        {"log.offset": {"order": order, "unmapped_type": "long"}},
    ]


@dataclass
class Bucket:
    start: datetime
    count: int
    levels: dict[str, int] = field(default_factory=dict)


@dataclass
class Histogram:
    interval: str
    buckets: list[Bucket]

    @property
    def total(self) -> int:
        return sum(bucket.count for bucket in self.buckets)


@dataclass
class TopValues:
    field: str
    values: list[tuple[Any, int]]
    other: int
    """Documents with a value outside the top ones."""
    missing: int
    """Documents without the field."""
    total: int


class LogSearch:
    def __init__(self, client: Elasticsearch, scope: SearchScope, hosts: list[str] | None = None) -> None:
        self.client = client
        self.scope = scope
        self.hosts = hosts
        """For the error message when none of them answers."""

    def _call(self, request: Callable[[], T]) -> T:
        """Elasticsearch's answers as vac errors: unreachable, a query it cannot parse, a
        request it refuses (with its own reason)."""
        try:
            return request()
        except PermissionDenied:
            raise  # wrong credentials or a missing privilege: not the query's fault (exit 1, not 2)
        except elasticsearch.ApiError as exc:  # no answer is a VacError already (vac.es.client)
            raise query_error(exc, self.scope.query) from None

    def check(self) -> None:
        """Before searching: raise IndexNotFound (naming the indices there are) when the
        pattern matches none, and QueryError when the query is not valid. The query is checked
        on its own: inside a time window that holds no data Elasticsearch never parses it."""
        self._check_index()
        query = self.scope.query_filter()
        if query is not None:
            answer = self._call(
                lambda: self.client.indices.validate_query(index=self.scope.index, query=query, explain=True)
            )
            if not answer["valid"]:
                reasons = [str(e.get("error", "")) for e in answer.get("explanations", []) if not e.get("valid")]
                raise reasons_error(reasons or ["not valid"], self.scope.query)

    def _check_index(self) -> None:
        resolved = self._call(lambda: self.client.indices.resolve_index(name=self.scope.index))
        if resolved["indices"] or resolved["aliases"] or resolved["data_streams"]:
            return
        existing = self._call(lambda: self.client.cat.indices(format="json", h="index"))
        rows: list[dict[str, str]] = list(existing)  # type: ignore[arg-type]
        names = sorted(row["index"] for row in rows if not row["index"].startswith("."))
        shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        raise IndexNotFound(
            f"index pattern {self.scope.index} matches no index",
            hint=f"indices here: {shown}" if names else "there is no index yet: run `vac index` to fill it",
        )

    def count(self) -> int:
        answer = self._call(lambda: self.client.count(index=self.scope.index, query=self.scope.es_query()))
        return int(answer["count"])

    def hits(self, limit: int, order: str = "desc", source: list[str] | None = None) -> Iterator[Hit]:
        """Up to `limit` hits in time order; pages through a point in time beyond one page."""
        if limit <= PAGE:
            answer = self._call(
                lambda: self.client.search(
                    index=self.scope.index,
                    query=self.scope.es_query(),
                    sort=time_sort(order),
                    size=limit,
                    source_includes=source,
                    track_total_hits=False,
                )
            )
            yield from answer["hits"]["hits"]
            return
        pit = self._call(lambda: self.client.open_point_in_time(index=self.scope.index, keep_alive="2m"))["id"]
        try:
            after: list[Any] | None = None
            left = limit
            while left > 0:
                page = self._page(pit, order, min(PAGE, left), after, source)
                if not page["hits"]["hits"]:
                    return
                pit = page.get("pit_id", pit)
                yield from page["hits"]["hits"]
                left -= len(page["hits"]["hits"])
                after = page["hits"]["hits"][-1]["sort"]
        finally:
            with contextlib.suppress(elasticsearch.ApiError, elasticsearch.TransportError):
                self.client.close_point_in_time(id=pit)  # else it expires by itself

    def _page(
        self, pit: str, order: str, size: int, after: list[Any] | None, source: list[str] | None
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"search_after": after} if after is not None else {}
        answer = self._call(
            lambda: self.client.search(
                pit={"id": pit, "keep_alive": "2m"},
                query=self.scope.es_query(),
                sort=time_sort(order),
                size=size,
                source_includes=source,
                track_total_hits=False,
                **extra,
            )
        )
        return dict(answer)

    def follow(
        self,
        seen: dict[str, str],
        cancelled: threading.Event,
        poll_s: float = 1.0,
        lookback_s: float = FOLLOW_LOOKBACK_S,
        source: list[str] | None = None,
    ) -> Iterator[list[Hit]]:
        """New matching hits, oldest first, a list per search as they become searchable (often
        empty: the caller shows them at once, not after a batch fills); `seen` maps the ids
        already shown to their @timestamp. Records arriving more than `lookback_s` late are
        not seen (Kibana's auto-refresh misses them as well)."""
        while not cancelled.wait(poll_s):
            since = datetime.now(UTC) - timedelta(seconds=lookback_s)
            recent = LogSearch(self.client, hosts=self.hosts, scope=replace(self.scope, since=since, until=None))
            arrived = [hit for hit in recent.hits(100_000, "asc", source) if hit["_id"] not in seen]
            for hit in arrived:
                seen[hit["_id"]] = str(field_value(hit["_source"], "@timestamp") or "")
            yield arrived
            horizon = _es_time(since)
            for doc_id in [doc_id for doc_id, stamp in seen.items() if stamp < horizon]:
                del seen[doc_id]

    def around(self, moment: datetime, count: int, source: list[str] | None = None) -> tuple[list[Hit], list[Hit]]:
        """The `count` records of the scope's source before `moment`, and `count` from it on
        (Kibana's surrounding documents). The query and time window do not apply."""
        base = replace(self.scope, query="", since=None, until=None)
        before = LogSearch(self.client, hosts=self.hosts, scope=replace(base, until=moment)).hits(count, "desc", source)
        after = LogSearch(self.client, hosts=self.hosts, scope=replace(base, since=moment)).hits(count, "asc", source)
        return list(reversed(list(before))), list(after)

    def histogram(self, interval: str, interval_s: float, time_zone: str | None = None) -> Histogram:
        """Counts per `interval` over the window, split by level; empty buckets included.
        Days start at midnight of `time_zone` (an IANA name), not of UTC."""
        since, until = self.scope.since, self.scope.until or datetime.now(UTC)
        if since is None:
            raise QueryError("--histogram needs a start: give --since")
        bars = (until - since).total_seconds() / interval_s
        if bars > MAX_BARS:
            raise QueryError(
                f"--histogram {interval} over this window would draw {bars:,.0f} bars (at most {MAX_BARS:,})",
                hint=f"use a larger interval, e.g. {_suggest_interval((until - since).total_seconds())}",
            )
        aggregation = {
            "date_histogram": {
                "field": "@timestamp",
                "fixed_interval": interval,
                "min_doc_count": 0,
                **({"time_zone": time_zone} if time_zone else {}),
                "extended_bounds": {"min": _epoch_ms(since), "max": _epoch_ms(until) - 1},
            },
            "aggs": {"levels": {"terms": {"field": "level", "size": 20, "missing": "-"}}},
        }
        scope = replace(self.scope, until=until)
        answer = self._call(
            lambda: self.client.search(
                index=scope.index, query=scope.es_query(), size=0, aggs={"over_time": aggregation}
            )
        )
        buckets = [
            Bucket(
                start=datetime.fromtimestamp(raw["key"] / 1000, UTC),
                count=raw["doc_count"],
                levels={level["key"]: level["doc_count"] for level in raw["levels"]["buckets"]},
            )
            for raw in answer["aggregations"]["over_time"]["buckets"]
        ]
        return Histogram(interval, buckets)

    def top(self, name: str, size: int) -> TopValues:
        """The `size` most frequent values of a keyword field (a terms aggregation)."""
        path = field_path(name)
        answer = self._call(
            lambda: self.client.search(
                index=self.scope.index,
                query=self.scope.es_query(),
                size=0,
                track_total_hits=True,
                aggs={
                    "top": {"terms": {"field": path, "size": size}},
                    "missing": {"missing": {"field": path}},
                },
            )
        )
        aggregations = answer["aggregations"]
        values = [(bucket["key"], bucket["doc_count"]) for bucket in aggregations["top"]["buckets"]]
        return TopValues(
            field=path,
            values=values,
            other=aggregations["top"]["sum_other_doc_count"],
            missing=aggregations["missing"]["doc_count"],
            total=answer["hits"]["total"]["value"],
        )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _suggest_interval(window_s: float) -> str:
    for interval, seconds in (("1m", 60), ("10m", 600), ("1h", 3600), ("6h", 21600), ("1d", 86400)):
        if window_s / seconds <= 100:
            return interval
    return "7d"


COLUMN = re.compile(r"line \d+, column (\d+)")


def _reasons(error: Any) -> Iterator[str]:
    """Every `reason` in an Elasticsearch error body, outermost first, shard failures included."""
    if isinstance(error, dict):
        if isinstance(error.get("reason"), str):
            yield error["reason"]
        for key in ("caused_by", "reason"):
            if isinstance(error.get(key), dict):
                yield from _reasons(error[key])
        for failure in error.get("failed_shards", []) or error.get("root_cause", []):
            yield from _reasons(failure)


def query_error(exc: elasticsearch.ApiError, query: str) -> QueryError:
    """One line saying why Elasticsearch refused the search; for a query it could not parse,
    the hint repeats the query with a caret under the position it names."""
    body = exc.body if isinstance(exc.body, dict) else {}
    reasons = list(dict.fromkeys(_reasons(body.get("error", {}))))
    return reasons_error(reasons, query, f"HTTP {exc.meta.status}")


def reasons_error(reasons: list[str], query: str, status: str = "") -> QueryError:
    parse = next((reason for reason in reasons if COLUMN.search(reason)), None)
    if parse is not None:
        column = int(COLUMN.search(parse)[1])  # type: ignore[index]
        cannot = parse.split("\n")[0]
        cannot = cannot[cannot.find("Cannot parse") :] if "Cannot parse" in cannot else cannot
        return QueryError(
            f"query is not valid Lucene syntax: {cannot}",
            hint=f"{query}\n{' ' * max(column - 1, 0)}^",
        )
    fielddata = next((reason for reason in reasons if "Fielddata is disabled" in reason), None)
    if fielddata is not None:
        return QueryError(
            "that field is full text and cannot be counted or sorted",
            hint="use a keyword field: manager, managerID, number, catalog, level, type, app, host, file",
        )
    detail = next((r for r in reversed(reasons) if r != "all shards failed"), None) or "no reason given"
    return QueryError(f"Elasticsearch refused the search{f' ({status})' if status else ''}: {detail.splitlines()[0]}")
