"""A DPE's history from the SCADA change indices (`vac index` writes them, see
`vac.logs.scada_routing`), and the latest pressure along the ring of a sector (from the
last-value topic). Called by `vac scada history` and `vac scada profile`.

History is read in source-time order with `search_after` pages of 10,000 (one DPE changes at most
a few times a second: a day is tens of thousands of points at most), up to `limit`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch

from vac.errors import IndexNotFound
from vac.es.indices import index_pattern
from vac.kafka.lastvalues import read_last_values
from vac.records.positions import is_placeholder
from vac.settings import VacSettings

PAGE = 10_000
FIELDS = ["@timestamp", "value", "status", "flags", "seq", "sector", "mainpart", "dcum", "heartbeat"]


@dataclass(frozen=True)
class HistoryPoint:
    at: str
    """Source time, ISO 8601 UTC with microseconds."""
    value: float | None
    status: int | None
    flags: tuple[str, ...]
    seq: int | None

    def to_json(self) -> dict[str, Any]:
        return {"time": self.at, "value": self.value, "status": self.status, "flags": list(self.flags), "seq": self.seq}


def dpe_history(
    client: Elasticsearch,
    name_template: str,
    dpe: str,
    since: datetime,
    until: datetime,
    limit: int = 1_000_000,
    cancelled: threading.Event | None = None,
) -> list[HistoryPoint]:
    """The changes of `dpe` with since <= source time < until, oldest first, at most `limit`.
    IndexNotFound if there is no SCADA index at all."""
    query = _dpe_window(dpe, since, until)
    points: list[HistoryPoint] = []
    after: list[Any] | None = None
    while len(points) < limit and not (cancelled is not None and cancelled.is_set()):
        response = _search(
            client,
            name_template,
            query=query,
            sort=[{"@timestamp": "asc"}, {"seq": {"order": "asc", "unmapped_type": "long"}}],
            size=min(PAGE, limit - len(points)),
            source_includes=FIELDS,
            search_after=after,
        )
        hits = response["hits"]["hits"]
        for hit in hits:
            source = hit["_source"]
            points.append(
                HistoryPoint(
                    str(source.get("@timestamp")),
                    source.get("value"),
                    source.get("status"),
                    tuple(source.get("flags") or ()),
                    source.get("seq"),
                )
            )
        if len(hits) < PAGE:
            break
        after = hits[-1]["sort"]
    return points[:limit]


@dataclass(frozen=True)
class ProfilePoint:
    dpe: str
    dcum: float
    value: float
    age_time: str
    mainpart: str
    status: str

    def to_json(self) -> dict[str, Any]:
        return {
            "dpe": self.dpe,
            "dcum": self.dcum,
            "value": self.value,
            "time": self.age_time,
            "mainpart": self.mainpart,
            "status": self.status,
        }


def sector_profile(settings: VacSettings, sector: str | None, topic: str) -> list[ProfilePoint]:
    """The latest value of every pressure gauge (`.PR`) of `sector` (None: the whole ring) with a
    DCUM, in DCUM order, from the last-value topic."""
    found = read_last_values(settings.kafka, topic, keep=lambda name: name.endswith(".PR"))
    points = []
    wanted = sector.upper() if sector else None
    for row in found.rows():
        if wanted is not None and str(row["sector"]).upper() != wanted:
            continue
        if is_placeholder("dcum", str(row["DCUM"])):  # the config's `125` for a gauge placed nowhere
            continue
        try:
            dcum = float(row["DCUM"])
        except (TypeError, ValueError):
            continue
        value = row.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        status = row.get("status")
        bad = (
            [k for k, v in status.items() if v is True and k != "from_general_query"]
            if isinstance(status, dict)
            else []
        )
        points.append(
            ProfilePoint(
                str(row["id"]),
                dcum,
                float(value),
                str(row.get("timestamp", "")),
                str(row.get("mainpart", "")),
                ",".join(bad) or "ok",
            )
        )
    return sorted(points, key=lambda p: (p.dcum, p.dpe))


@dataclass(frozen=True)
class Bucket:
    """The changes of one DPE in one slice of a chart's time range: the slice's lowest and
    highest value, so a one-second spike survives a week drawn in a few hundred columns."""

    at_s: float
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class BucketedHistory:
    buckets: list[Bucket]
    latest_s: float | None
    """Source time of the newest change indexed in the range: live values after it fill the chart."""


def dpe_history_buckets(
    client: Elasticsearch, name_template: str, dpe: str, since: datetime, until: datetime, buckets: int
) -> BucketedHistory:
    """`dpe`'s changes with since <= source time < until in at most about `buckets` slices of
    whole seconds (Elasticsearch's date histogram: a week of once-a-second changes is one answer
    of a few hundred buckets, not 600,000 documents). IndexNotFound if there is no SCADA index."""
    span_s = max(1.0, (until - since).total_seconds())
    interval_s = max(1, math.ceil(span_s / max(1, buckets)))
    response = _search(
        client,
        name_template,
        size=0,
        query=_dpe_window(dpe, since, until),
        aggs={
            "slices": {
                "date_histogram": {"field": "@timestamp", "fixed_interval": f"{interval_s}s", "min_doc_count": 1},
                "aggs": {"low": {"min": {"field": "value"}}, "high": {"max": {"field": "value"}}},
            },
            "latest": {"max": {"field": "@timestamp"}},
        },
    )
    aggregations = response.get("aggregations") or {}
    found = []
    for slice_ in aggregations.get("slices", {}).get("buckets", []):
        low, high = slice_["low"].get("value"), slice_["high"].get("value")
        if low is None or high is None:  # changes without a numeric value (heartbeats)
            continue
        found.append(Bucket(slice_["key"] / 1000.0, float(low), float(high), int(slice_["doc_count"])))
    latest = aggregations.get("latest", {}).get("value")
    return BucketedHistory(found, None if latest is None else latest / 1000.0)


def _dpe_window(dpe: str, since: datetime, until: datetime) -> dict[str, Any]:
    """`dpe`'s changes with since <= source time < until."""
    return {
        "bool": {
            "filter": [
                {"term": {"dpe": dpe}},
                {"range": {"@timestamp": {"gte": since.isoformat(), "lt": until.isoformat()}}},
            ]
        }
    }


def _search(client: Elasticsearch, name_template: str, **request: Any) -> Any:
    """One search of the SCADA change indices; IndexNotFound when there is none at all."""
    pattern = index_pattern(name_template)
    try:
        return client.search(index=pattern, track_total_hits=False, allow_no_indices=False, **request)
    except elasticsearch.NotFoundError:
        raise IndexNotFound(
            f"no SCADA change index matches {pattern}",
            hint="`vac index` writes them from the SCADA topics (index.scada_topics)",
        ) from None
