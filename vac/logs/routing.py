"""Where one message of a log topic goes: a bulk item for Elasticsearch, the dead-letter topic
(with the reason), or nowhere (a tombstone). `vac index` calls `route_message` per message.

Everything that would make Elasticsearch refuse a whole bulk request (an over-long id) or
would name a nonsense index (`...-9999.-0` from a garbage `@timestamp`) is caught here, per
message, so that one poison message never stops the others. What only Elasticsearch can judge
(a field whose type conflicts with the mapping) it refuses per item, and `vac.es.bulk` hands
that back for the dead-letter topic too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from vac.es.bulk import BulkItem
from vac.records.logrecord import app_name, index_name_of

MAX_ID_BYTES = 512
"""Elasticsearch refuses a longer `_id`, and with it the whole bulk request."""
MAX_INDEX_NAME_BYTES = 255
# Characters Elasticsearch refuses in an index name (besides upper case, which app_name lowers).
_BAD_INDEX_CHARS = re.compile(r'[\\/*?"<>| ,#:]')


@dataclass(frozen=True)
class DeadLetter:
    reason: str


@dataclass(frozen=True)
class Skip:
    """A message with no value (a tombstone: the probe's write check on the logs topic): no
    document, nothing to repair, so not dead-lettered, but counted."""

    reason: str


Route = BulkItem | DeadLetter | Skip


def route_message(value: bytes | None, fallback_id: str, name_template: str) -> Route:
    """The bulk item for a message's value, or why there is none. Never raises: whatever the
    bytes, the answer is one of the three (the fuzz test holds it to that)."""
    if value is None:
        return Skip("tombstone (no value)")
    if not value:
        return DeadLetter("empty message")
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return DeadLetter(f"not JSON: {exc}")
    if not isinstance(doc, dict):
        return DeadLetter(f"not a JSON object but {_kind(doc)}")
    try:
        return _bulk_item(doc, value, fallback_id, name_template)
    except _Refused as refused:
        return DeadLetter(str(refused))


class _Refused(Exception):
    pass


def index_of(doc: dict[str, Any], name_template: str) -> str | None:
    """The index `route_message` writes `doc` to, or None where it dead-letters it instead
    (`vac audit logs` looks for each document where the indexer put it)."""
    try:
        return _index(doc, name_template)
    except _Refused:
        return None


def _bulk_item(doc: dict[str, Any], value: bytes, fallback_id: str, name_template: str) -> BulkItem:
    index = _index(doc, name_template)
    event = _object_or_none(doc, "event")
    doc_id = _event_id(event.get("id") if event is not None else None, fallback_id)
    # The bulk body is one document per line: a value spread over lines (pretty-printed JSON)
    # is written again on one, or Elasticsearch would refuse the whole request.
    source = orjson.dumps(doc) if b"\n" in value or b"\r" in value else value
    return BulkItem(index, doc_id, source)


def _index(doc: dict[str, Any], name_template: str) -> str:
    moment = _timestamp(doc.get("@timestamp"))
    fields = _object_or_none(doc, "fields")
    app_id = fields.get("app_id", "unknown") if fields is not None else "unknown"
    if not isinstance(app_id, str):
        raise _Refused(f"fields.app_id is {_kind(app_id)}, not text")
    app = app_name(app_id)
    if _BAD_INDEX_CHARS.search(app) or app.startswith(("-", "_", "+", ".")):
        raise _Refused(f"fields.app_id {app_id[:100]!r} cannot be part of an index name")
    index = index_name_of(name_template, app_id, moment.isoformat())
    if _utf8_bytes(index) > MAX_INDEX_NAME_BYTES:
        raise _Refused(f"index name longer than {MAX_INDEX_NAME_BYTES} bytes (fields.app_id too long)")
    return index


def _timestamp(raw: object) -> datetime:
    """The record's time, in UTC: it names the monthly index, so it must be a real date."""
    if raw is None:
        raise _Refused("no @timestamp")
    if not isinstance(raw, str):
        raise _Refused(f"@timestamp is {_kind(raw)}, not ISO 8601 text")
    try:
        moment = datetime.fromisoformat(raw)
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment
    except (ValueError, OverflowError):
        raise _Refused(f"@timestamp {raw[:100]!r} is not an ISO 8601 time") from None


def _event_id(raw: object, fallback_id: str) -> str:
    if raw is None:
        return fallback_id  # not from the shipper: the message's place in Kafka is unique too
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _Refused(f"event.id is {_kind(raw)}, not text")
    doc_id = str(raw)
    if not doc_id:
        raise _Refused("event.id is empty")
    size = _utf8_bytes(doc_id)
    if size > MAX_ID_BYTES:
        raise _Refused(f"event.id is {size} bytes, Elasticsearch takes at most {MAX_ID_BYTES}")
    return doc_id


def _object_or_none(doc: dict[str, Any], key: str) -> dict[str, Any] | None:
    if key not in doc:
        return None
    part = doc[key]
    if not isinstance(part, dict):
        raise _Refused(f"{key} is {_kind(part)}, not an object")
    return part


def _utf8_bytes(text: str) -> int:
    return len(text.encode(errors="surrogatepass"))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "a boolean"}.get(type(value), "a number")
