"""One log record, whatever format it came from, and the Elasticsearch document it becomes:
what `vac ship logs` writes and `vac index`, `vac query` and `vac dash` read, its id and its index.

The field names are the ones Filebeat + Logstash wrote (`@timestamp`, `level`, `type`,
`number`, `managerID`, `message`, `fields.app_id`, `host.name`, `log.file.path`,
`log.offset`), plus what users asked for: `manager`, `text`, `catalog`, `params`, `tags`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from vac.records.clock import iso_utc as iso_utc  # re-exported: the time format of documents


@dataclass
class LogRecord:
    message: str
    """The whole record, its lines joined by newlines (the `message` field of the index)."""
    offset: int
    """Byte offset of its first line in the file."""
    timestamp: datetime | None = None
    timestamp_text: str | None = None
    """`timestamp` as ISO 8601 UTC with milliseconds (`2019-08-03T12:53:25.608Z`), when the
    parser has it at hand (formatting a datetime per record cost a tenth of the shipping)."""
    level: str | None = None
    type: str | None = None
    number: int | None = None
    catalog: str | None = None
    manager: str | None = None
    manager_id: str | None = None
    text: str | None = None
    params: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    lines: int = 1
    end: int = 0
    """Byte offset just past its last line: where reading resumes once it is delivered."""
    extra: dict[str, str] = field(default_factory=dict)
    """Named groups of the regular-expression parsers that have no field of their own."""


@dataclass(frozen=True)
class FileOrigin:
    """Where records come from: the same for every record of one file."""

    host: str
    path: str
    key: str
    """The file's stable key (see `vac.logs.registry.content_key`)."""
    app_id: str
    fields: dict[str, str]

    # The parts of every document of this file that never change, built once and shared by
    # its documents (they are only ever serialised, never changed).
    @cached_property
    def fields_part(self) -> dict[str, str]:
        return {"app_id": self.app_id, **self.fields}

    @cached_property
    def host_part(self) -> dict[str, str]:
        return {"name": self.host}

    @cached_property
    def file_part(self) -> dict[str, str]:
        return {"path": self.path}


def doc_id(key: str, offset: int) -> str:
    """Deterministic: a record delivered twice overwrites itself instead of duplicating."""
    return f"{key}-{offset}"


def to_document(record: LogRecord, origin: FileOrigin, ingested: str) -> dict[str, Any]:
    """`ingested`: when the record was read, as `iso_utc` text (formatted once per batch)."""
    timestamp = record.timestamp_text or (iso_utc(record.timestamp) if record.timestamp else None)
    doc: dict[str, Any] = {
        # A record without a time of its own (parse failure) is dated when it was read.
        "@timestamp": timestamp or ingested,
        "message": record.message,
        "fields": origin.fields_part,
        "host": origin.host_part,
        "log": {"file": origin.file_part, "offset": record.offset},
        "event": {"id": doc_id(origin.key, record.offset), "ingested": ingested},
    }
    if record.level is not None:
        doc["level"] = record.level
    if record.type is not None:
        doc["type"] = record.type
    if record.number is not None:
        doc["number"] = record.number
    if record.manager_id is not None:
        doc["managerID"] = record.manager_id
    if record.manager is not None:
        doc["manager"] = record.manager
    if record.catalog is not None:
        doc["catalog"] = record.catalog
    if record.text is not None:
        doc["text"] = record.text
    if record.params:
        doc["params"] = record.params
    if record.tags:
        doc["tags"] = record.tags
    if record.lines > 1:
        doc["lines"] = record.lines
    if record.extra:
        doc["extra"] = record.extra
    return doc


def app_name(app_id: str) -> str:
    """`vac_lhc_1_scada_logs` -> `lhc_1`: the application part of the index name."""
    name = app_id.removeprefix("vac_").removesuffix("_scada_logs")
    return name.lower() or "unknown"


def index_name_of(template: str, app_id: str, timestamp: str) -> str:
    """`vacelastic-logs-scada-v1-{app}-{yyyy.MM}` from an app id and an ISO time."""
    year, month = (timestamp[0:4], timestamp[5:7]) if len(timestamp) >= 7 else ("0000", "00")
    return template.replace("{app}", app_name(app_id)).replace("{yyyy.MM}", f"{year}.{month}").replace("{yyyy}", year)
