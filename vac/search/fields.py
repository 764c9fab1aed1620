"""Short names for the document fields people ask for most (`app` for `fields.app_id`),
and reading a dotted field out of a document."""

from __future__ import annotations

from typing import Any

ALIASES = {
    "app": "fields.app_id",
    "host": "host.name",
    "file": "log.file.path",
    "offset": "log.offset",
    "id": "event.id",
    "time": "@timestamp",
}


def field_path(name: str) -> str:
    return ALIASES.get(name, name)


def field_value(doc: dict[str, Any], name: str) -> Any:
    """The value at a dotted path (`host.name`), or None; Elasticsearch also accepts the
    flat form `{"host.name": ...}`, so that is looked up too."""
    path = field_path(name)
    if path in doc:
        return doc[path]
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
