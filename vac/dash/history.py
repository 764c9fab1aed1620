"""What a DPE's chart shows: its history from Elasticsearch over a time range (1 h, 24 h,
7 d), in slices with their low and high, then the live values the screen holds that are newer
than the newest indexed one. The reading runs on a worker thread (it waits on the network);
the joining and the axis rules are pure and run on the screen's."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vac.dash.scada_board import Trace
from vac.errors import IndexNotFound, VacError
from vac.es.client import make_client
from vac.search.scada_history import Bucket, BucketedHistory, dpe_history_buckets
from vac.settings import VacSettings
from vac.units import decade_ticks

RANGES: dict[str, float] = {"1h": 3_600.0, "24h": 86_400.0, "7d": 604_800.0}
"""The chart's time ranges, in the order its key cycles through them."""
SLICES = 400
"""Slices asked of Elasticsearch: about the columns of braille dots a wide chart has."""
CHART_LIMIT = 1e200
"""The largest magnitude charted (pressures span 1e-13 to 1e3 mbar; plotext overflows on its
axis ticks near float's limit, which would end the app)."""


@dataclass(frozen=True)
class ChartData:
    dpe: str
    since_s: float
    until_s: float
    buckets: list[Bucket] = field(default_factory=list)
    live: list[tuple[float, float]] = field(default_factory=list)
    note: str = ""
    """Why the indexed part is missing, when it is ("no Elasticsearch: live values only")."""
    dropped: int = 0
    """Values left out: beyond ±CHART_LIMIT, or not above zero on a log axis."""
    log_y: bool = False

    @property
    def empty(self) -> bool:
        return not self.buckets and not self.live

    def decades(self) -> list[int]:
        """The powers of ten a log axis labels: from below the lowest value to above the highest."""
        values = [b.low for b in self.buckets] + [b.high for b in self.buckets] + [v for _, v in self.live]
        if not values:
            return []
        return decade_ticks(min(values), max(values))


def next_range(current: str) -> str:
    names = list(RANGES)
    return names[(names.index(current) + 1) % len(names)] if current in RANGES else names[0]


def chart_data(
    dpe: str,
    range_name: str,
    now_s: float,
    indexed: BucketedHistory | None,
    trace: Trace | None,
    log_y: bool,
    note: str = "",
) -> ChartData:
    """The chart of `dpe` over the range ending now: the indexed slices, then the live points
    newer than the newest indexed change (all of them when nothing is indexed)."""
    since_s = now_s - RANGES.get(range_name, RANGES["1h"])
    buckets = indexed.buckets if indexed is not None else []
    after_s = max(since_s, indexed.latest_s if indexed is not None and indexed.latest_s is not None else since_s)
    live = sorted(point for point in trace or () if point[0] > after_s or (not buckets and point[0] >= since_s))

    def drawable(value: float) -> bool:
        return math.isfinite(value) and abs(value) <= CHART_LIMIT and (not log_y or value >= 1 / CHART_LIMIT)

    kept_buckets = [b for b in buckets if b.at_s >= since_s and drawable(b.low) and drawable(b.high)]
    kept_live = [(at, value) for at, value in live if drawable(value)]
    dropped = len(buckets) - len(kept_buckets) + len(live) - len(kept_live)
    return ChartData(dpe, since_s, now_s, kept_buckets, kept_live, note, dropped, log_y)


class HistoryReader:
    """Reads slices from the SCADA change indices; one client for the chart's lifetime."""

    def __init__(self, settings: VacSettings, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self.timeout_s = timeout_s

    def read(self, dpe: str, since_s: float, until_s: float) -> tuple[BucketedHistory | None, str]:
        """The indexed history, or None and why not, in words for the chart's title."""
        client = make_client(self.settings.elasticsearch, timeout_s=self.timeout_s)
        try:
            return dpe_history_buckets(
                client,
                self.settings.index.scada_name_template,
                dpe,
                datetime.fromtimestamp(since_s, UTC),
                datetime.fromtimestamp(until_s, UTC),
                SLICES,
            ), ""
        except IndexNotFound:
            return None, "no SCADA history indexed yet: live values only"
        except VacError as problem:
            return None, f"Elasticsearch: {problem}; live values only"
        finally:
            client.close()
