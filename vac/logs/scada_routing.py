"""Where one message of a SCADA change topic goes in `vac index`: one compact document in the
day's `vacelastic-scada-v1-{yyyy.MM.dd}`, the dead-letter topic (with the reason), or nowhere
(a tombstone). The indexer (`vac.logs.indexer`) calls `route_change` for messages of
`index.scada_topics`, `vac.logs.routing.route_message` for the rest: same batches, same commit
after Elasticsearch accepted, same dead letters.

The document keeps what history and profile queries need, typed (keyword, double, date; no full
text): `dpe`, `@timestamp` (the source time), `value`, `status` (the 64-bit word) and `flags`
(the names of the bits that are set), `sector`, `mainpart`, `dcum` (placeholders replaced by the
name's position, see `vac.records.positions`), `seq`, `type`, `heartbeat`, `ingested`. Its id is
the source time and the DPE (`2026-12-03T06:37:19.251040Z@VGPB_2_7L8_B.PR`): a change read
twice, or sent twice by a restarted streamer (whose `seq` starts again at 1), overwrites itself.
Time first, because an explicit id costs Elasticsearch a lookup in every segment of the shard,
and Lucene skips a segment whose ids are all older than the new one (its min/max term, LUCENE-8980);
ids that begin with the DPE name fall inside every segment's range.
"""

from __future__ import annotations

import contextlib
import math
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from vac.es.bulk import BulkItem
from vac.logs.routing import MAX_ID_BYTES, DeadLetter, Route, Skip
from vac.records.positions import resolve_place

MAX_NAME_BYTES = 256
# A DPE's place is the same in each of its records: resolved once (10,000 DPEs, a few MB at most).
_place = lru_cache(maxsize=65_536)(resolve_place)
_CANONICAL = re.compile(r"(?:19[7-9]\d|2[01]\d\d|22[0-5]\d)-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
"""The streamer's own time form, in date_nanos' range: taken as it is (see `_time`)."""
_FLAGS = ("invalid", "out_of_range", "default", "inactive")


def route_change(value: bytes | None, name_template: str) -> Route:
    """The bulk item for a change record, or why there is none. Never raises."""
    if value is None:
        return Skip("tombstone (no value)")
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return DeadLetter(f"not JSON: {exc}")
    if not isinstance(record, dict):
        return DeadLetter("not a JSON object")
    try:
        doc, moment = change_document(record)
    except ValueError as refused:
        return DeadLetter(str(refused))
    stamp = doc["@timestamp"]
    index = name_template.replace("{yyyy.MM.dd}", f"{stamp[0:4]}.{stamp[5:7]}.{stamp[8:10]}")
    doc_id = f"{doc['@timestamp']}@{doc['dpe']}"
    if len(doc_id.encode(errors="surrogatepass")) > MAX_ID_BYTES:
        return DeadLetter("id (source time + DPE) longer than Elasticsearch takes")
    return BulkItem(index, doc_id, orjson.dumps(doc))


def change_document(record: dict[str, Any]) -> tuple[dict[str, Any], datetime]:
    """The compact document of a change record (the streamer's JSON, vac or legacy format) and
    its source time; ValueError says why a record cannot be one."""
    name = record.get("id")
    if not isinstance(name, str) or not name or len(name.encode(errors="surrogatepass")) > MAX_NAME_BYTES:
        raise ValueError("id is not a DPE name")
    if not name.isprintable():
        raise ValueError("id has control characters")
    raw_value = record.get("value")
    if raw_value is None:
        number = None  # an invalid reading without a value: its status is the news
    elif isinstance(raw_value, bool) or not isinstance(raw_value, int | float) or not math.isfinite(raw_value):
        raise ValueError("value is not a finite number")
    else:
        number = float(raw_value)
    stamp, moment = _time(record.get("timestamp"), "timestamp")
    status = record.get("status")
    flags: list[str] = []
    word = None
    if isinstance(status, dict):
        flags = [flag for flag in _FLAGS if status.get(flag) is True]
        raw_word = status.get("word")
        if isinstance(raw_word, int) and not isinstance(raw_word, bool) and 0 <= raw_word < 1 << 64:
            word = raw_word if raw_word < 1 << 63 else raw_word - (1 << 64)  # ES long is signed
    elif record.get("validityBit") == 0:
        flags = ["invalid"]
    sector, mainpart, dcum_text = _place(
        name, _text(record.get("sector")), _text(record.get("mainpart")), _text(record.get("DCUM"))
    )
    doc: dict[str, Any] = {
        "dpe": name,
        "@timestamp": stamp,
        "value": number,
        "status": word,
        "flags": flags,
        "sector": sector,
        "mainpart": mainpart,
        "dcum": _number(dcum_text),
    }
    seq = record.get("seq")
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 1 << 63:
        doc["seq"] = seq
    kind = record.get("type")
    if isinstance(kind, str) and len(kind) <= 32:
        doc["type"] = kind
    if record.get("heartbeat") is True:
        doc["heartbeat"] = True
    if isinstance(record.get("ingest_ts"), str):
        with contextlib.suppress(ValueError):  # a bad ingest time costs the field, not the change
            doc["ingested"] = _time(record["ingest_ts"], "ingest_ts")[0]
    return doc, moment


def _time(raw: object, field: str) -> tuple[str, datetime]:
    """(ISO UTC text with microseconds, the moment) of a record's time. The streamer's own form
    (`2026-12-03T06:37:19.251040Z`) is kept as it is: formatting it again cost a third of a
    change's routing."""
    if not isinstance(raw, str) or len(raw) > 64:
        raise ValueError(f"{field} is not an ISO 8601 time")
    canonical = _CANONICAL.fullmatch(raw) is not None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{field} {raw[:64]!r} is not an ISO 8601 time") from None
    if canonical:
        return raw, moment
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 2261:  # date_nanos' range
        raise ValueError(f"{field} {raw!r} is out of range")
    return _iso(moment), moment


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(raw: object) -> str:
    if isinstance(raw, str):
        return raw[:256]
    return "" if raw is None or isinstance(raw, bool) else str(raw)[:64]


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
