"""`vac audit logs`: proof that the log pipeline lost nothing, file by file.

Three stages are compared for every file of the shipper's registry: the file itself, re-read
up to the offset the registry says was acknowledged, with the parser the shipper used; the
Kafka topic, read from its beginning by a group-less consumer that commits nothing; and
Elasticsearch, asked for the documents' ids a few thousand at a time (a multi-get, real
time: no refresh needed). A record is known everywhere by its file key and byte offset
(`event.id`). Each stage keeps byte ranges per file (`CountedRanges`), never a set of
records, so a multi-GB topic is audited in memory that grows with the holes.

Kafka carries a record's start, not its end. Where the file is still here, it says where
each record the topic holds ends (`_FileCursor`, reading along with the topic), so a record
the topic skipped stays outside every range and shows as a gap with its bytes and count.
Where the file is gone, the topic's own order stands in for it: the records of one file
reach Kafka in file order under one key (one partition) and the shipper sends every record
between two it sent, so a record ends where the next one of its file starts (a re-send
after a crash goes back, and its records count as duplicates). A rotated-away file is thus
audited from the topic only: its gaps have a byte range but no count.

Called by `commands/audit.py`; the log pipeline's integration tests end with it.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import elasticsearch
import orjson

from vac.errors import ConfigError, UsageError
from vac.es.client import make_client
from vac.kafka.positions import Position
from vac.kafka.tail import TailSpec, TopicTail
from vac.logs.intervals import CountedRanges
from vac.logs.reading import Document, DocumentReader, make_reader
from vac.logs.registry import FileState, load_states, read_head
from vac.logs.routing import index_of
from vac.records.logrecord import FileOrigin, doc_id, index_name_of, iso_utc
from vac.settings import LogInput, VacSettings

log = logging.getLogger("vac.audit")

Target = Literal["kafka", "elasticsearch", "both"]
FileStatus = Literal["present", "gone", "truncated", "changed"]
"""present: re-read; gone: rotated away or deleted; truncated: shorter than the registry's
offset; changed: other first bytes than the registry's fingerprint. All but the first are
audited from the topic only."""

READ_CHUNK = 1 << 20
ES_BATCH = 2000
"""Ids per multi-get: a few hundred kB of request, well inside Elasticsearch's limits."""


@dataclass(frozen=True)
class AuditOptions:
    registry: Path
    topic: str
    index_template: str
    to: Target = "both"
    """Where the shipper delivered: Kafka (audit file -> Kafka), Elasticsearch directly (file ->
    Elasticsearch), or both (file -> Kafka -> Elasticsearch, with `vac index` in between)."""
    path_glob: str | None = None
    """Only files whose registered path matches."""
    since: datetime | None = None
    until: datetime | None = None
    """Only records whose own time (`@timestamp`) lies in [since, until)."""
    fallback_input: LogInput | None = None
    """Parser and app id of files that no input of the settings matches (default: WinCC OA,
    no app id)."""


@dataclass(frozen=True)
class Gap:
    stage: Literal["kafka", "elasticsearch"]
    """kafka: in the file, not in Kafka; elasticsearch: in Kafka (or, with --to elasticsearch,
    in the file), not in Elasticsearch."""
    start: int
    end: int
    """The byte range [start, end) of the file the missing records came from."""
    records: int | None
    """How many records are missing; None when the file is gone and they cannot be counted."""


@dataclass
class _Held:
    """A Kafka record whose end is not known yet: the next record of its file sets it."""

    offset: int
    in_window: bool
    index: str
    doc_id: str


@dataclass
class FileAudit:
    key: str
    path: str
    registry_offset: int
    status: FileStatus = "present"
    lines: int | None = None
    """Lines of the file up to the registry offset (None when it was not re-read)."""
    records: int | None = None
    kafka_records: int = 0
    kafka_duplicates: int = 0
    """Records Kafka holds twice or more (re-sent after a crash): harmless, the ids dedup them."""
    es_documents: int = 0
    gaps: list[Gap] = field(default_factory=list)
    note: str | None = None
    in_kafka: CountedRanges = field(default_factory=CountedRanges, repr=False)
    not_in_kafka: CountedRanges = field(default_factory=CountedRanges, repr=False)
    not_in_es: CountedRanges = field(default_factory=CountedRanges, repr=False)
    held: _Held | None = field(default=None, repr=False)

    @property
    def missing(self) -> int:
        return sum(gap.records or 0 for gap in self.gaps)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "key": self.key,
            "status": self.status,
            "registry_offset": self.registry_offset,
            "lines": self.lines,
            "records": self.records,
            "kafka_records": self.kafka_records,
            "kafka_duplicates": self.kafka_duplicates,
            "es_documents": self.es_documents,
            "gaps": [gap.__dict__ for gap in self.gaps],
            "note": self.note,
        }


@dataclass
class AuditReport:
    registry: str
    topic: str
    index_template: str
    to: Target
    files: list[FileAudit]
    foreign: int = 0
    """Messages of the topic that are not a shipped record (not JSON, no event.id or log.offset)."""
    unregistered: int = 0
    """Records of files this registry does not know (another host's shipper, an older registry)."""
    kafka_messages: int = 0
    interrupted: bool = False
    """Stopped before the end (SIGTERM, Ctrl-C): the topic, the files or the look-ups in
    Elasticsearch only partly done, so no gap found proves nothing."""

    @property
    def gaps(self) -> list[tuple[FileAudit, Gap]]:
        return [(audit, gap) for audit in self.files for gap in audit.gaps]

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.interrupted

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "topic": self.topic,
            "index_template": self.index_template,
            "to": self.to,
            "complete": self.complete,
            "interrupted": self.interrupted,
            "gaps": len(self.gaps),
            "missing_records": sum(audit.missing for audit in self.files),
            "kafka_messages": self.kafka_messages,
            "foreign": self.foreign,
            "unregistered": self.unregistered,
            "files": [audit.to_json() for audit in self.files],
        }


Progress = Callable[[dict[str, Any]], None]


def audit_logs(
    settings: VacSettings, options: AuditOptions, cancelled: threading.Event, progress: Progress | None = None
) -> AuditReport:
    return LogAudit(settings, options, cancelled, progress).run()


def record_identity(doc: Any) -> tuple[str, int] | None:
    """(file key, byte offset) of a shipped record, or None for anything else."""
    if not isinstance(doc, dict):
        return None
    event, where = doc.get("event"), doc.get("log")
    if not isinstance(event, dict) or not isinstance(where, dict):
        return None
    ident, offset = event.get("id"), where.get("offset")
    if not isinstance(ident, str) or not isinstance(offset, int) or isinstance(offset, bool):
        return None
    key, dash, tail = ident.rpartition("-")
    if not dash or not key or tail != str(offset):
        return None
    return key, offset


def document_index(template: str, doc: dict[str, Any]) -> str | None:
    """The index `vac index` writes a record to; None for a record it could not place.
    The indexer's own function: a time in another zone can name another month."""
    return index_of(doc, template)


def load_registry(path: Path) -> dict[str, FileState]:
    """The shipper's saved states through its own loader (a corrupt registry is a ConfigError
    there), read only: a running shipper keeps its registry, and a reader needs no write access."""
    if not path.exists():
        raise ConfigError(
            f"no shipper registry at {path}",
            hint="give --registry with the file `vac ship logs` used (logs.registry_file)",
        )
    return load_states(path)


def locate(state: FileState) -> tuple[str | None, FileStatus]:
    """Where the registered content is now: its path, or beside it under another name
    (renamed to .bak), or nowhere."""
    if state.detached:
        return None, "gone"
    directory = os.path.dirname(state.path) or "."
    try:
        names = [os.path.join(directory, name) for name in sorted(os.listdir(directory))]
    except OSError:
        names = []
    for path in [state.path, *names]:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) != (state.dev, state.ino):
            continue
        try:
            with open(path, "rb") as file:
                head = read_head(file.fileno())
        except OSError:
            return None, "gone"
        if info.st_size < state.offset:
            return None, "truncated"
        if not state.matches_head(head):
            return None, "changed"
        return path, "present"
    return None, "gone"


class LogAudit:
    """One audit: `take` each message of the topic, then `end_of_topic`, `read_files` and
    `conclude` (what `run` does; tests feed messages without Kafka)."""

    def __init__(
        self, settings: VacSettings, options: AuditOptions, cancelled: threading.Event, progress: Progress | None = None
    ):
        self.settings, self.options, self.cancelled = settings, options, cancelled
        self.progress = progress or (lambda _status: None)
        self.states = load_registry(options.registry)
        self.files: dict[str, FileAudit] = {}
        self.paths: dict[str, str] = {}
        """Where each present file is read from (a renamed file's new name)."""
        for state in sorted(self.states.values(), key=lambda s: (s.path, s.key)):
            if options.path_glob and not fnmatch.fnmatch(state.path, options.path_glob):
                continue
            path, status = locate(state)
            audit = FileAudit(state.key, state.path, state.offset, status)
            if path is not None:
                self.paths[state.key] = path
            elif status != "gone":
                audit.note = f"the file is {status} under the registry: audited from the topic only"
            else:
                audit.note = "file gone: audited from the topic only"
            self.files[state.key] = audit
        self.report = AuditReport(
            str(options.registry), options.topic, options.index_template, options.to, list(self.files.values())
        )
        self._since = options.since.astimezone(UTC) if options.since else None
        self._until = options.until.astimezone(UTC) if options.until else None
        self._es: _EsLookup | None = None
        self._cursors: dict[str, _FileCursor] = {}

    def run(self) -> AuditReport:
        to = self.options.to
        if to in ("elasticsearch", "both"):
            self._es = _EsLookup(make_client(self.settings.elasticsearch), self.cancelled)
        try:
            if to in ("kafka", "both"):
                self._read_topic()
            self.read_files()
            if self._es is not None:
                self._es.flush()
        finally:
            if self._es is not None:
                self._es.close()
        return self.conclude()

    def read_files(self) -> None:
        for key, path in self.paths.items():
            if self.cancelled.is_set():
                break
            self._read_file(self.files[key], path)

    def conclude(self) -> AuditReport:
        for audit in self.files.values():
            self._conclude(audit)
        self.report.interrupted = self.cancelled.is_set()
        return self.report

    # -- the window ----------------------------------------------------------------------
    def _in_window(self, timestamp: Any) -> bool:
        if self._since is None and self._until is None:
            return True
        try:
            moment = datetime.fromisoformat(str(timestamp))
        except ValueError:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (self._since is None or moment >= self._since) and (self._until is None or moment < self._until)

    # -- Kafka ---------------------------------------------------------------------------
    def _read_topic(self) -> None:
        tail = TopicTail(self.settings.kafka, TailSpec([self.options.topic], start=Position("beginning"), follow=False))
        report = self.report
        for batch in tail.batches(self.cancelled):
            for payload in batch.payloads:
                self.take(payload)
            self.progress({"stage": "kafka", "messages": report.kafka_messages, "foreign": report.foreign})
        self.end_of_topic()

    def _cursor(self, audit: FileAudit) -> _FileCursor | None:
        cursor = self._cursors.get(audit.key)
        if cursor is None and audit.key in self.paths:
            spec = self._input_for(audit.path)
            origin = FileOrigin("", audit.path, audit.key, spec.app_id, spec.fields)
            try:
                cursor = _FileCursor(
                    self.paths[audit.key], audit.registry_offset, lambda: make_reader(spec, self.settings, origin)
                )
            except OSError:
                return None  # read_files says why
            self._cursors[audit.key] = cursor
        return cursor

    def end_of_topic(self) -> None:
        for audit in self.files.values():
            held = audit.held
            if held is not None:  # the last record of the file in the topic ends at the acknowledged offset
                end = audit.registry_offset if held.offset < audit.registry_offset else held.offset + 1
                self._resolve(audit, held, end)
                audit.held = None
        for cursor in self._cursors.values():
            cursor.close()
        self._cursors.clear()

    def take(self, payload: bytes | None) -> None:
        """One message of the topic, in the topic's order."""
        self.report.kafka_messages += 1
        try:
            doc = orjson.loads(payload) if payload else None
        except orjson.JSONDecodeError:
            doc = None
        identity = record_identity(doc)
        if identity is None:
            self.report.foreign += 1
            return
        key, offset = identity
        audit = self.files.get(key)
        if audit is None:
            if key not in self.states:
                self.report.unregistered += 1
            return  # or a file outside --path
        assert isinstance(doc, dict)  # record_identity checked it
        index = ""
        if self._es is not None:
            found = document_index(self.options.index_template, doc)
            if found is None:  # the indexer could not place it either
                self.report.foreign += 1
                return
            index = found
        in_window = self._in_window(doc.get("@timestamp"))
        held = audit.held
        if held is not None and offset > held.offset:
            self._resolve(audit, held, offset)
            held = audit.held = None
        if audit.in_kafka.covers(offset):
            if in_window:
                audit.kafka_duplicates += 1
            return
        if held is not None:  # a record before every one seen of this file: its end is unknown
            self._resolve(audit, held, held.offset + 1)
        audit.in_kafka.add(offset, offset + 1, 1)
        if in_window:
            audit.kafka_records += 1
        audit.held = _Held(offset, in_window, index, doc_id(key, offset))

    def _resolve(self, audit: FileAudit, held: _Held, end: int) -> None:
        """`end`: where the record ends by the topic's order; the file, where it is still here,
        says exactly, so a record the topic skipped stays outside the range."""
        cursor = self._cursor(audit)
        try:
            exact = cursor.end_of(held.offset) if cursor is not None else None
        except OSError:  # an I/O error while reading along: the topic's order stands in
            exact = None
        end = exact if exact is not None else end
        if end > held.offset + 1:
            audit.in_kafka.add(held.offset + 1, end, 0)
        if self._es is not None and held.in_window:
            self._es.check(audit, held.offset, end, held.index, held.doc_id)

    # -- the file ------------------------------------------------------------------------
    def _input_for(self, path: str) -> LogInput:
        for spec in self.settings.logs.inputs:
            if any(fnmatch.fnmatch(path, os.path.expanduser(p)) for p in spec.paths):
                return spec
        return self.options.fallback_input or LogInput(paths=[path], app_id="")

    def _read_file(self, audit: FileAudit, path: str) -> None:
        """Re-read the file up to the registry offset with the shipper's parser."""
        spec = self._input_for(audit.path)
        if self.options.to == "elasticsearch" and not spec.app_id:
            # Its documents' index names depend on it: without it every one would look missing.
            raise UsageError(
                f"{audit.path} matches no logs.inputs entry: its app id is unknown",
                hint="give --app-id (the one given to vac ship logs), or audit with the config that shipped it",
            )
        origin = FileOrigin("", audit.path, audit.key, spec.app_id, spec.fields)
        reader = make_reader(spec, self.settings, origin)
        ingested = iso_utc(datetime.now(UTC))
        audit.lines = audit.records = 0
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._unreadable(audit, exc)
            return
        try:
            self._read_records(audit, spec, path, fd, reader, ingested)
        except OSError as exc:  # an I/O error mid-way: what was counted is void
            self._unreadable(audit, exc)
        finally:
            os.close(fd)

    @staticmethod
    def _unreadable(audit: FileAudit, exc: OSError) -> None:
        audit.status, audit.lines, audit.records = "gone", None, None
        audit.note = f"unreadable ({exc.strerror or exc}): audited from the topic only"
        audit.not_in_kafka = CountedRanges()

    def _read_records(
        self, audit: FileAudit, spec: LogInput, path: str, fd: int, reader: DocumentReader, ingested: str
    ) -> None:
        limit, at, partial = audit.registry_offset, 0, b""
        lines = 0
        while at < limit and not self.cancelled.is_set():
            data = os.pread(fd, min(READ_CHUNK, limit - at), at)
            if not data:  # shrank since it was located
                audit.status, audit.note = "truncated", "the file shrank during the audit"
                break
            base, buffer = at - len(partial), partial + data
            at += len(data)
            documents, read, used = reader.feed(buffer, base, at >= limit, ingested)
            partial = buffer[used:]
            lines += read
            self._file_records(audit, spec, documents)
            self.progress({"stage": "files", "path": path, "offset": at, "size": limit})
        self._file_records(audit, spec, reader.flush(ingested))
        audit.lines = lines

    def _file_records(self, audit: FileAudit, spec: LogInput, documents: Iterable[Document]) -> None:
        check_kafka = self.options.to != "elasticsearch"
        for end, offset, timestamp, _tags, _value in documents:
            if not self._in_window(timestamp):
                continue
            assert audit.records is not None
            audit.records += 1
            if check_kafka:
                if not audit.in_kafka.covers(offset):
                    audit.not_in_kafka.add(offset, end, 1)
            elif self._es is not None:
                index = index_name_of(self.options.index_template, spec.app_id, timestamp)
                self._es.check(audit, offset, end, index, doc_id(audit.key, offset))

    # -- the verdict ---------------------------------------------------------------------
    def _conclude(self, audit: FileAudit) -> None:
        windowed = self._since is not None or self._until is not None
        if self.options.to != "elasticsearch":
            if audit.records is not None:
                audit.gaps += [Gap("kafka", s, e, n) for s, e, n in audit.not_in_kafka]
            elif not windowed:  # without the file, only what the topic lacks of [0, offset)
                audit.gaps += [Gap("kafka", s, e, None) for s, e in audit.in_kafka.holes(0, audit.registry_offset)]
        elif audit.records is None:
            audit.note = "file gone: with --to elasticsearch there is nothing to audit it against"
        audit.gaps += [Gap("elasticsearch", s, e, n) for s, e, n in audit.not_in_es]
        # Free the ranges: a report of many files outlives the audit.
        audit.in_kafka = audit.not_in_kafka = audit.not_in_es = CountedRanges()


class _FileCursor:
    """The records of a file in order, read as far as asked: where each one ends, which the
    topic does not say. Memory: one chunk of the file and the records it holds."""

    CHUNK = 256 * 1024

    def __init__(self, path: str, limit: int, make: Callable[[], DocumentReader]) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.limit, self.make = limit, make
        self._restart(0)

    def _restart(self, at: int) -> None:
        """Parse from `at`, a record's start (a re-send went back)."""
        self.reader, self.at, self.partial, self.done = self.make(), at, b"", False
        self.records: deque[tuple[int, int]] = deque()
        self.last_start = -1

    def end_of(self, offset: int) -> int | None:
        """The end of the record that starts at `offset`; None if none does (up to the limit)."""
        if offset <= self.last_start:
            self._restart(offset)
        records = self.records
        while records or self._fill():
            if not records:
                continue
            start, end = records[0]
            if start > offset:
                return None
            records.popleft()
            self.last_start = start
            if start == offset:
                return end
        return None

    def _fill(self) -> bool:
        """Parse the next chunk; False at the limit, once the last record is out."""
        if self.done:
            return False
        if self.at >= self.limit:
            documents = self.reader.flush("")
            self.done = True
        else:
            data = os.pread(self.fd, min(self.CHUNK, self.limit - self.at), self.at)
            if not data:
                self.limit = self.at  # shrank: what is left ends here
                return True
            base, buffer = self.at - len(self.partial), self.partial + data
            self.at += len(data)
            documents, _, used = self.reader.feed(buffer, base, self.at >= self.limit, "")
            self.partial = buffer[used:]
        self.records.extend((offset, end) for end, offset, *_ in documents)
        return True

    def close(self) -> None:
        os.close(self.fd)


class _EsLookup:
    """Which documents Elasticsearch holds, asked by id a batch at a time."""

    def __init__(self, client: elasticsearch.Elasticsearch, cancelled: threading.Event) -> None:
        self.client, self.cancelled = client, cancelled
        self.pending: list[tuple[FileAudit, int, int, str, str]] = []

    def check(self, audit: FileAudit, start: int, end: int, index: str, ident: str) -> None:
        self.pending.append((audit, start, end, index, ident))
        if len(self.pending) >= ES_BATCH:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending or self.cancelled.is_set():
            return
        docs = [{"_index": index, "_id": ident} for _, _, _, index, ident in pending]
        # What fails is a VacError already (vac.es.client): a 401 with its hint, no answer with the hosts.
        found = self.client.mget(docs=docs, source=False)["docs"]
        for (audit, start, end, _, _), answer in zip(pending, found, strict=True):
            # A missing index answers with an error instead of found: false; both are absent.
            if answer.get("found"):
                audit.es_documents += 1
            else:
                audit.not_in_es.add(start, end, 1)

    def close(self) -> None:
        self.client.close()
