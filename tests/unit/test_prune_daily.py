"""`vac index prune` on the daily SCADA indices beside the monthly log indices: a daily index
goes once its whole day is older than the retention; names that are not dates are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from vac.es.indices import expired_indices


class FakeCat:
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def indices(self, **_: Any) -> SimpleNamespace:
        return SimpleNamespace(body=[{"index": name, "docs.count": "7"} for name in self.names])


def test_daily_indices_are_pruned_by_their_day() -> None:
    names = [
        "vacelastic-scada-v1-2026.06.01",
        "vacelastic-scada-v1-2026.06.02",
        "vacelastic-scada-v1-2026.06.03",
        "vacelastic-scada-v1-2026.02.30",  # no such day: kept, not a crash
        "vacelastic-scada-v1-latest",
    ]
    client: Any = SimpleNamespace(cat=FakeCat(names))
    now = datetime(2026, 6, 12, 12, 0, tzinfo=UTC)
    expired = expired_indices(client, "vacelastic-scada-v1-{yyyy.MM.dd}", now - timedelta(days=10))
    # The cutoff is 2026-06-02 12:00: June 1st ended before it, June 2nd did not.
    assert [(c.index, c.month, c.docs) for c in expired] == [("vacelastic-scada-v1-2026.06.01", "2026.06.01", 7)]
