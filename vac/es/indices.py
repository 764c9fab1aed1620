"""The log and SCADA indices: their templates (field mappings) and their retention
(`vac index prune`)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import elasticsearch
from elasticsearch import Elasticsearch

from vac.errors import UsageError


def index_pattern(name_template: str) -> str:
    """`vacelastic-logs-scada-v1-{app}-{yyyy.MM}` -> `vacelastic-logs-scada-v1-*-*`."""
    return re.sub(r"\{[^}]*\}", "*", name_template)


def template_name(name_template: str) -> str:
    """One index template per index family (tests and sites may run several side by side)."""
    prefix = index_pattern(name_template).split("*")[0]
    return "vac-" + (re.sub(r"[^a-z0-9]+", "-", prefix.lower()).strip("-") or "logs")


def logs_template(name_template: str, file: str = "logs-template.json") -> dict[str, Any]:
    body: dict[str, Any] = json.loads(resources.files("vac.es").joinpath(file).read_text())
    body["index_patterns"] = [index_pattern(name_template)]
    body["priority"] = 200
    return body


def install_template(client: Elasticsearch, name_template: str, file: str = "logs-template.json") -> None:
    """Create or update the index template (the logs' or, with `file` scada-template.json, the
    SCADA changes'); indices created from now on get its mapping."""
    try:
        client.indices.put_index_template(name=template_name(name_template), **logs_template(name_template, file))
    except elasticsearch.ApiError as exc:  # already a vac error (vac.es.client); a 400 says more
        if exc.meta.status != 400:
            raise
        reason = str(exc.body["error"].get("reason", exc.message)) if isinstance(exc.body, dict) else str(exc)
        raise UsageError(
            f"Elasticsearch refused the index template {template_name(name_template)}: {reason}",
            hint="another template with the same index pattern and priority is in the way: delete it "
            "(DELETE _index_template/NAME) or change index.name_template",
        ) from None


@dataclass(frozen=True)
class PruneCandidate:
    index: str
    month: str
    """yyyy.MM (a daily index: yyyy.MM.dd) from its name."""
    docs: int


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def expired_indices(client: Elasticsearch, name_template: str, cutoff: datetime) -> list[PruneCandidate]:
    """Indices whose whole month lies before `cutoff` (a monthly index is kept until its last
    day is that old)."""
    pattern = index_pattern(name_template)
    rows = client.cat.indices(index=pattern, format="json", h="index,docs.count", expand_wildcards="open,closed")
    candidates = []
    listing: list[dict[str, Any]] = rows.body  # type: ignore[assignment]  # format=json gives rows
    for row in listing:
        daily = re.search(r"(\d{4})\.(\d{2})\.(\d{2})$", row["index"])
        match = daily or re.search(r"(\d{4})\.(\d{2})$", row["index"])
        if match is None:
            continue
        year, month = int(match[1]), int(match[2])
        if daily is not None:  # a daily index (SCADA changes) ends where its next day begins
            try:
                end = datetime(year, month, int(daily[3]), tzinfo=UTC) + timedelta(days=1)
            except ValueError:
                continue
            period = f"{year}.{month:02d}.{int(daily[3]):02d}"
        else:
            after = _month_index(year, month) + 1  # the index's month ends where the next begins
            end = datetime(after // 12, after % 12 + 1, 1, tzinfo=UTC)
            period = f"{year}.{month:02d}"
        if end <= cutoff:
            candidates.append(PruneCandidate(row["index"], period, int(row.get("docs.count") or 0)))
    return sorted(candidates, key=lambda c: c.index)


def delete_indices(client: Elasticsearch, names: list[str]) -> None:
    for name in names:
        client.indices.delete(index=name)
