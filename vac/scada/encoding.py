"""How a change goes out as JSON: the Kafka value of `vac stream scada`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from vac.records import status as status_bits
from vac.records.change import Change
from vac.records.clock import IsoClock
from vac.records.dpe import Dpe

__all__ = ["ChangeEncoder", "IsoClock", "RecordTemplate", "encode"]


_STATUS_RECORDS: dict[int, dict[str, Any]] = {}
STATUS_CACHE_SIZE = 4096
"""Real installations use a few dozen status words; a source sending random ones must not
grow the caches without bound, so past this size they start again."""


def _status_record(status64: int) -> dict[str, Any]:
    """The decoded status of a word, built once per distinct word (there are few)."""
    record = _STATUS_RECORDS.get(status64)
    if record is None:
        if len(_STATUS_RECORDS) >= STATUS_CACHE_SIZE:
            _STATUS_RECORDS.clear()
        record = _STATUS_RECORDS[status64] = status_bits.decode(status64) | {"word": status64}
    return record


def encode(
    dpe: Dpe, change: Change, seq: int, ingest_us: int, clock: IsoClock, legacy: bool = False, heartbeat: bool = False
) -> bytes:
    """The Kafka value. `legacy` keeps exactly the fields of the WinCC OA script's messages;
    otherwise vac adds the decoded status, the ingest time and a per-DPE sequence number."""
    flags = _status_record(change.status64)
    record: dict[str, Any] = {"id": dpe.name, "value": change.value}
    if dpe.validity_bit is not None:
        record["validityBit"] = 0 if flags["invalid"] else 1
    record["timestamp"] = clock.format(change.source_us)
    record["sector"] = dpe.sector
    record["mainpart"] = dpe.mainpart
    record["DCUM"] = dpe.dcum
    if not legacy:
        record["type"] = dpe.type
        record["status"] = flags
        record["ingest_ts"] = clock.format(ingest_us)
        record["seq"] = seq
        if heartbeat:
            record["heartbeat"] = True
    return orjson.dumps(record)


@dataclass(frozen=True, slots=True)
class RecordTemplate:
    """One DPE's record with holes for what changes per change (see `ChangeEncoder`)."""

    text: bytes
    has_validity: bool


class ChangeEncoder:
    """`encode`, byte for byte, at a fraction of the cost: what never changes for a DPE (its
    name, sector, mainpart, DCUM, type) is written once into a %-template per DPE, and each
    distinct status word is encoded once; per change one `%` fills in the value, times and
    sequence number. One instance per stream."""

    def __init__(self, legacy: bool = False) -> None:
        self.legacy = legacy
        self.clock = IsoClock()
        self._templates: dict[str, RecordTemplate] = {}
        self._status: dict[int, tuple[bytes, bytes]] = {}

    def ingest_field(self, ingest_us: int) -> bytes:
        """The `ingest_ts` of the changes sent now (formatted once per batch, not per change)."""
        return b',"ingest_ts":"' + self.clock.format(ingest_us).encode() + b'"'

    def template(self, dpe: Dpe) -> RecordTemplate:
        """The DPE's record with holes for value, validity, time (second, micros) and, unless
        legacy, status, ingest time, seq and the heartbeat flag."""
        template = self._templates.get(dpe.name)
        if template is None:
            fixed = {
                "head": b'{"id":' + orjson.dumps(dpe.name) + b',"value":',
                "place": b',"sector":' + orjson.dumps(dpe.sector) + b',"mainpart":' + orjson.dumps(dpe.mainpart)
                + b',"DCUM":' + orjson.dumps(dpe.dcum),
                "type": b"" if self.legacy else b',"type":' + orjson.dumps(dpe.type),
            }  # fmt: skip
            head, place, kind = (part.replace(b"%", b"%%") for part in fixed.values())
            text = head + b'%s%s,"timestamp":"%s.%06dZ"' + place + kind
            text += b"}" if self.legacy else b'%s%s,"seq":%d%s}'
            template = self._templates[dpe.name] = RecordTemplate(text, dpe.validity_bit is not None)
        return template

    def _status_fields(self, status64: int) -> tuple[bytes, bytes]:
        """The `validityBit` and `status` fields of a status word."""
        fields = self._status.get(status64)
        if fields is None:
            if len(self._status) >= STATUS_CACHE_SIZE:
                self._status.clear()
            flags = _status_record(status64)
            validity = b',"validityBit":0' if flags["invalid"] else b',"validityBit":1'
            fields = self._status[status64] = (validity, b',"status":' + orjson.dumps(flags))
        return fields

    def encode(self, dpe: Dpe, change: Change, seq: int, ingest_field: bytes, heartbeat: bool = False) -> bytes:
        return self.fill(self.template(dpe), change, seq, ingest_field, heartbeat)

    def fill(
        self, template: RecordTemplate, change: Change, seq: int, ingest_field: bytes, heartbeat: bool = False
    ) -> bytes:
        """`encode` for a caller that keeps the DPE's template at hand."""
        validity, status = self._status_fields(change.status64)
        if not template.has_validity:
            validity = b""
        second, micros = divmod(change.source_us, 1_000_000)
        value, stamp = orjson.dumps(change.value), self.clock.second(second)
        if self.legacy:
            return template.text % (value, validity, stamp, micros)
        heartbeat_field = b',"heartbeat":true' if heartbeat else b""
        return template.text % (value, validity, stamp, micros, status, ingest_field, seq, heartbeat_field)
