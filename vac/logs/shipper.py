"""`vac ship logs`: tail log files, join and parse their records, deliver them, lose nothing.

One loop on one thread. Each scan expands the inputs' globs and follows every file by its
identity (device + inode, see `registry`), not its name or its content, so a file renamed
to `.bak` is read to its end under its new name, a truncated file (copytruncate) starts over,
and its copy resumes where the original was acknowledged. Records of one file go out in order
under one key; the registry advances only past records the sink acknowledged, and is saved
atomically every second and at the end, so a crash re-sends at most what was in flight (the
deterministic document ids turn those re-sends into overwrites in Elasticsearch).
"""

from __future__ import annotations

import glob
import itertools
import logging
import os
import resource
import socket
import stat
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vac.errors import UsageError
from vac.hotloop import rare_collections
from vac.kafka.admin import ensure_topics
from vac.kafka.heartbeat import HeartbeatPublisher, ensure_health_topic
from vac.logs.reading import Document, PythonReader, make_reader
from vac.logs.registry import FINGERPRINT_BYTES, FileState, Registry, content_key, fingerprint, read_head
from vac.logs.sinks import KafkaSink, Sink, SinkCancelled, StdoutSink, check_kafka_limits
from vac.records.clock import now_iso
from vac.records.job import FileStatus, ShipStatus, ShipSummary
from vac.records.logrecord import FileOrigin, doc_id, index_name_of
from vac.settings import LogInput, VacSettings

log = logging.getLogger("vac.ship")

READ_CHUNK = 1 << 20
CHECKPOINT_S = 1.0
MAX_DIRECTORY_ENTRIES = 100_000
"""How many entries of a directory are looked through for a file renamed in it."""


@dataclass(frozen=True)
class ShipOptions:
    once: bool = False
    """Read every file to its end, deliver, and exit."""
    from_beginning: bool = False
    """On a first run (no registry yet), read existing files from their start, not their end."""
    flush_timeout_s: float = 30.0
    sink: str | None = None
    """kafka, elasticsearch or stdout; None: `logs.sink`. Tests hand `run` a sink of their own."""


@dataclass
class ShipCounters:
    lines: int = 0
    records: int = 0
    bytes: int = 0
    acked: int = 0
    failed: int = 0
    files_opened: int = 0
    files_released: int = 0
    rotations: int = 0
    truncations: int = 0
    tags: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)


@dataclass
class RestingFile:
    """A file closed to free a slot, read and acknowledged to its end: reopened by its
    identity once its size or mtime changes, or once it is renamed out of the globs."""

    state: FileState
    path: str
    spec: LogInput
    size: int
    mtime_ns: int
    parser: str


class Harvester:
    """One open file, read from `read_offset` on; its records wait in `in_flight` (their end
    offsets, in order) until the sink acknowledges them."""

    def __init__(self, state: FileState, path: str, fd: int, spec: LogInput, settings: VacSettings, host: str):
        self.state, self.path, self.fd, self.spec = state, path, fd, spec
        self.read_offset = state.offset
        self.partial = b""
        self.in_flight: deque[int] = deque()
        self.last_data = time.monotonic()
        self.last_line_at: float | None = None
        self.gone = False
        """No watched path holds this file any more (renamed away or deleted)."""
        self.truncated = False
        self.scanned_mtime_ns = 0
        """The file's mtime when its head was last compared: unchanged, no need to read it again."""
        self.origin = FileOrigin(host, path, state.key, spec.app_id, spec.fields)
        self.reader = make_reader(spec, settings, self.origin)
        self.kafka_key = f"{host}:{state.key}".encode()

    def size(self) -> int:
        return os.fstat(self.fd).st_size

    @property
    def parser(self) -> str:
        return "python" if isinstance(self.reader, PythonReader) else "compiled"

    def read(self, at_end_of_input: bool) -> tuple[list[Document], int, int]:
        """The documents finished by what the file holds now; how many lines and bytes were
        read. A partial last line waits for its newline (or the end of input)."""
        data = os.pread(self.fd, READ_CHUNK, self.read_offset)
        if not data and not self.partial:
            return [], 0, 0  # the usual answer of an idle file: no clock read, no parser call
        if data:
            self.last_data = time.monotonic()
        base = self.read_offset - len(self.partial)
        buffer = self.partial + data if self.partial else data
        self.read_offset += len(data)
        documents, lines, used = self.reader.feed(buffer, base, at_end_of_input and not data, _now_iso())
        self.partial = buffer[used:]
        return documents, lines, len(data)

    def close(self) -> None:
        os.close(self.fd)


class LogShipper:
    """A job (`vac.records.job.Job`): `prepare()`, then `run(cancelled, progress)`."""

    component = "ship-logs"

    def __init__(self, settings: VacSettings, inputs: list[LogInput], registry_path: Path, options: ShipOptions):
        if not inputs:
            raise UsageError("nothing to ship", hint="give --path GLOB --app-id ID, or logs.inputs in the config")
        self.settings = settings
        self.inputs = inputs
        self.options = options
        self.registry = Registry(registry_path)
        self.host = socket.gethostname()
        self.counters = ShipCounters()
        self.harvesters: dict[tuple[int, int], Harvester] = {}
        self.draining: list[Harvester] = []
        """Truncated files: no more reading, only waiting for the acks of what was sent."""
        self.by_key: dict[bytes, Harvester] = {}
        self._warned: set[tuple[str, str]] = set()
        self._first_scan = True
        self._matched = 0
        """How many paths the globs matched at the last scan."""
        self.max_open = _open_file_budget(settings.logs.max_open_files)
        self.resting: dict[tuple[int, int], RestingFile] = {}
        """Files closed to keep within `max_open`, read and acknowledged to their end."""
        self.waiting = 0
        """Files the last scan could not open for want of a free slot."""
        self._closable: deque[tuple[int, int]] | None = None
        """This scan's open files that may be closed to free a slot, quietest first (None until
        first needed: listed once per scan, not once per waiting file)."""
        self._waiting_since: dict[tuple[int, int], float] = {}
        """Files that may be copies, since when they wait (see `_may_wait`)."""
        self.failure: str | None = None
        self._sink: Sink | None = None
        """The sink `prepare` opened."""
        self._failed_keys: set[bytes] = set()
        """Files whose oldest record in flight failed: their offsets stay before it."""

    # -- acknowledgements ---------------------------------------------------------------
    def acked(self, key: bytes) -> None:
        harvester = self.by_key.get(key)
        self.counters.acked += 1
        if harvester is None or not harvester.in_flight or key in self._failed_keys:
            return  # after a failed record, a later ack of its file must not move past it
        harvester.state.offset = harvester.in_flight.popleft()
        harvester.state.updated = time.time()

    def rejected(self, key: bytes, reason: str) -> None:
        """Elasticsearch refused a record for good (mapping error): counted, reported once."""
        self.counters.failed += 1
        self._warn_once("rejected by Elasticsearch", "records", reason)

    def too_large(self, key: bytes, reason: str) -> None:
        """Kafka refused a record as too large; it is sent cut instead: counted, reported once."""
        self._warn_once("too large for Kafka, sent cut and tagged too_large", "records", reason)

    def refused(self, key: bytes, reason: str) -> None:
        """The sink could not send the record just handed to it (too large for Kafka even
        cut): it leaves its file's acknowledgements, so its offset is never passed, and the
        shipper stops as for a failed delivery."""
        harvester = self.by_key.get(key)
        if harvester is not None and harvester.in_flight:
            harvester.in_flight.pop()
        self._stop_on(reason)

    def failed(self, key: bytes, reason: str) -> None:
        """Kafka gave up on a record (it retries for ever, so this is a fatal error such as a
        refused authorisation): stop, keeping the registry before it."""
        self._failed_keys.add(key)
        self._stop_on(reason)

    def _stop_on(self, reason: str) -> None:
        self.counters.failed += 1
        if self.failure is None:
            self.failure = reason
            log.error("delivery failed: %s", reason)

    # -- files --------------------------------------------------------------------------
    def _warn_once(self, kind: str, path: str, detail: str) -> None:
        self.counters.problems[kind] += 1
        if (kind, path) not in self._warned:
            self._warned.add((kind, path))
            log.warning("%s: %s (%s)", path, kind, detail)

    def _watched(self) -> list[tuple[str, LogInput]]:
        seen: dict[str, LogInput] = {}
        for spec in self.inputs:
            for pattern in spec.paths:
                for path in sorted(glob.glob(os.path.expanduser(pattern))):
                    seen.setdefault(path, spec)
        return list(seen.items())

    def scan(self) -> None:
        """Expand the globs; open new files, follow renamed ones, notice truncation."""
        opened_before, truncations_before = self.counters.files_opened, self.counters.truncations
        self._closable = None
        found: set[tuple[int, int]] = set()
        unmatched: list[tuple[str, LogInput, os.stat_result]] = []
        watched = self._watched()
        self._matched = len(watched)
        for path, spec in watched:
            try:
                info = os.stat(path)
            except OSError as exc:
                self._warn_once("unreadable", path, exc.strerror or str(exc))
                continue
            if not stat.S_ISREG(info.st_mode):
                self._warn_once("not a regular file", path, stat.filemode(info.st_mode))
                continue
            identity = (info.st_dev, info.st_ino)
            found.add(identity)
            harvester = self.harvesters.get(identity)
            if harvester is None:
                resting = self.resting.get(identity)
                if resting is not None and (resting.size, resting.mtime_ns) == (info.st_size, info.st_mtime_ns):
                    continue  # closed for want of slots, and unchanged since
                unmatched.append((path, spec, info))
                continue
            if harvester.path != path:
                self.counters.rotations += 1
                harvester.path = path
            harvester.gone = False
            if info.st_mtime_ns == harvester.scanned_mtime_ns:
                continue
            harvester.scanned_mtime_ns = info.st_mtime_ns
            if info.st_size < harvester.read_offset or not harvester.state.matches_head(read_head(harvester.fd)):
                self._truncated(harvester)
                unmatched.append((path, spec, info))
        for identity, harvester in list(self.harvesters.items()):
            if identity not in found:
                harvester.gone = True  # renamed out of the globs, or deleted: read to its end
        for identity in [i for i in self._waiting_since if i not in found]:
            del self._waiting_since[identity]  # gone while it waited to be told a copy
        self.waiting = 0
        self._follow_lost_resting(found)
        # Exact identities first, so a copy never takes the state of a file that is still here.
        later = []
        for path, spec, info in unmatched:
            if not self._open(path, spec, info, copies=False):
                later.append((path, spec, info))
        for path, spec, info in later:
            self._open(path, spec, info, copies=True)
        if self._first_scan:
            self._first_scan = False
            self._resume_renamed_while_down()
        self._release_finished()
        if self.counters.files_opened != opened_before or self.counters.truncations != truncations_before:
            # A new file key must be on disk before its first record leaves: after a crash the
            # file (or its copy) must get the same key again, or its documents would double.
            self.registry.save()

    def _truncated(self, harvester: Harvester) -> None:
        self.counters.truncations += 1
        log.info("%s was truncated; reading it again from its start", harvester.path)
        harvester.truncated = True
        harvester.state.detached = True
        del self.harvesters[(harvester.state.dev, harvester.state.ino)]
        self.draining.append(harvester)

    def _open(self, path: str, spec: LogInput, info: os.stat_result, copies: bool) -> bool:
        """Start reading a file; False if it should wait (for the second pass or a later scan)."""
        if len(self.harvesters) + len(self.draining) >= self.max_open and not self._close_one_read():
            self.waiting += 1  # no slot free: a later scan opens it
            return True
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            self._warn_once("unreadable", path, exc.strerror or str(exc))
            return True
        try:
            head = read_head(fd)
            state = self.registry.find(info.st_dev, info.st_ino, head)
            if state is None:
                for replaced in self.registry.replaced_at(info.st_dev, info.st_ino, self._busy_keys()):
                    # Truncated (or its inode reused) while the shipper was down: a copy of it
                    # may now continue it.
                    self.counters.truncations += 1
                    log.info("%s no longer holds what was read of it; reading it from its start", path)
                    replaced.detached, replaced.updated = True, time.time()
            if state is None and not copies:
                os.close(fd)
                return False
            if state is None:
                state = self._continued_or_new(path, info, head)
                if state is None:
                    os.close(fd)  # waits for a later scan
                    return True
            self._waiting_since.pop((info.st_dev, info.st_ino), None)
            self.resting.pop((info.st_dev, info.st_ino), None)
            if info.st_size < state.offset:  # shrank while we were away
                state.offset = 0
            harvester = Harvester(state, path, fd, spec, self.settings, self.host)
        except BaseException:
            os.close(fd)
            raise
        self.harvesters[(info.st_dev, info.st_ino)] = harvester
        self.by_key[harvester.kafka_key] = harvester
        self.counters.files_opened += 1
        return True

    def _close_one_read(self) -> bool:
        """Free a slot: close the file longest quiet among those read to their end with
        nothing in flight (it is reopened by its identity when it changes). Files opened by
        this scan wait for the next one: they are not read yet."""
        if self._closable is None:
            done = [
                (h.last_data, identity)
                for identity, h in self.harvesters.items()
                if self._drained(h) and not h.gone and h.read_offset >= h.size()
            ]
            self._closable = deque(identity for _, identity in sorted(done, key=lambda item: item[0]))
        if not self._closable:
            return False
        identity = self._closable.popleft()
        harvester = self.harvesters.pop(identity)
        info = os.fstat(harvester.fd)
        self.resting[identity] = RestingFile(
            harvester.state, harvester.path, harvester.spec, info.st_size, info.st_mtime_ns, harvester.parser
        )
        self._forget(harvester)
        return True

    def _busy_keys(self) -> set[str]:
        return {h.state.key for h in self.harvesters.values()} | {h.state.key for h in self.draining}

    def _continued_or_new(self, path: str, info: os.stat_result, head: bytes) -> FileState | None:
        """The state of a file seen for the first time: the truncated file it is a copy of, or
        a new one; None if it should wait for a later scan."""
        copy_of = self.registry.find_copy_of(head, info.st_dev, info.st_ino)
        if copy_of is not None and copy_of.key in self._busy_keys():
            return None  # the original's records are still being acknowledged: then resume after them
        if copy_of is not None and info.st_size < copy_of.offset:
            if self._may_wait(info):
                return None  # a copy still being written: wait until it holds what was read
            copy_of = None  # too small to be its copy after all: a file of its own
        if copy_of is not None:
            log.info("%s continues %s (a copy) from byte %d", path, copy_of.path, copy_of.offset)
            copy_of.dev, copy_of.ino, copy_of.path, copy_of.detached = info.st_dev, info.st_ino, path, False
            return copy_of
        if self.registry.starts_like_a_live_file(head, info.st_dev, info.st_ino) and self._may_wait(info):
            return None  # perhaps copytruncate's copy, its original about to be truncated
        return self._new_state(path, info, head)

    def _may_wait(self, info: os.stat_result) -> bool:
        """A file that may be a copy waits a little for its original to be truncated, then it
        is a file of its own: content alone never makes a distinct file vanish. With --once
        nothing is being rotated meanwhile, so nothing waits."""
        if self.options.once:
            return False
        now = time.monotonic()
        since = self._waiting_since.setdefault((info.st_dev, info.st_ino), now)
        return now - since < self.settings.logs.copy_grace_s

    def _new_state(self, path: str, info: os.stat_result, head: bytes) -> FileState | None:
        key = content_key(self.host, info.st_dev, info.st_ino, head, partial=self.options.once)
        salt = 0
        while key is not None and key in self.registry.states:  # an earlier file on this inode
            salt += 1
            key = content_key(self.host, info.st_dev, info.st_ino, head, partial=True, salt=salt)
        if key is None:
            return None
        start_at_end = self._first_scan and not self.registry.existed and not self.options.from_beginning
        state = FileState(
            key=key,
            path=path,
            dev=info.st_dev,
            ino=info.st_ino,
            offset=_line_start_before(path, info.st_size) if start_at_end else 0,
            fp_len=len(head),
            fp=fingerprint(head),
            updated=time.time(),
        )
        self.registry.add(state)
        return state

    def _resume_renamed_while_down(self) -> None:
        """A file renamed while the shipper was down (PVSS_II.log -> PVSS_II.log.bak) is found
        by its inode beside its old name and read to its end."""
        busy = self._busy_keys()
        by_directory: dict[str, dict[tuple[int, int], FileState]] = {}
        for state in self.registry.states.values():
            if state.key not in busy and not state.detached:
                by_directory.setdefault(os.path.dirname(state.path) or ".", {})[(state.dev, state.ino)] = state
        for directory, states in by_directory.items():
            for identity, (path, info) in _find_by_identity(directory, set(states)).items():
                state = states[identity]
                if info.st_size > state.offset:
                    spec = next(
                        (s for s in self.inputs if any(_same_dir(p, state.path) for p in s.paths)), self.inputs[0]
                    )
                    self._read_moved_to_end(path, spec, info, state.path)

    def _follow_lost_resting(self, found: set[tuple[int, int]]) -> None:
        """Resting files no watched path holds any more: renamed (lines may have been appended
        since they were closed) are found by their identity beside their old name and read to
        their end; deleted are retired, as open files are."""
        lost: dict[str, set[tuple[int, int]]] = {}
        for identity, resting in self.resting.items():
            if identity not in found:
                lost.setdefault(os.path.dirname(resting.path) or ".", set()).add(identity)
        for directory, identities in lost.items():
            moved = _find_by_identity(directory, identities)
            for identity in identities:
                resting = self.resting[identity]
                if identity in moved:
                    path, info = moved[identity]
                    waiting_before = self.waiting
                    if self._read_moved_to_end(path, resting.spec, info, resting.path):
                        if self.waiting > waiting_before:
                            continue  # no slot free: a later scan tries again
                    else:
                        resting.state.retire()  # its inode holds another file: this one was deleted
                else:
                    resting.state.retire()  # deleted: its inode may come back as another file
                self.resting.pop(identity, None)

    def _read_moved_to_end(self, path: str, spec: LogInput, info: os.stat_result, was: str) -> bool:
        """Open a file found by its identity outside the globs and read it to its end before
        letting it go, as a file renamed while open is; False if its inode holds other content."""
        if not self._open(path, spec, info, copies=False):
            return False
        harvester = self.harvesters.get((info.st_dev, info.st_ino))
        if harvester is not None:
            harvester.gone = True
            log.info("%s (was %s) is read to its end", path, was)
        return True

    def _release_finished(self) -> None:
        now = time.monotonic()
        close_after = self.settings.logs.close_inactive_s
        for identity, harvester in list(self.harvesters.items()):
            idle = now - harvester.last_data >= close_after
            if harvester.gone and idle and self._drained(harvester) and harvester.read_offset >= harvester.size():
                del self.harvesters[identity]
                if os.fstat(harvester.fd).st_nlink == 0:
                    harvester.state.retire()  # deleted: its inode may come back as another file
                self._forget(harvester)
        for harvester in list(self.draining):
            if not harvester.in_flight:
                self.draining.remove(harvester)
                self._forget(harvester)

    @staticmethod
    def _drained(harvester: Harvester) -> bool:
        """Nothing of it waits: no record in flight, none in progress, no partial line."""
        return not harvester.in_flight and not harvester.partial and harvester.reader.pending_offset is None

    def _forget(self, harvester: Harvester) -> None:
        harvester.close()
        self.by_key.pop(harvester.kafka_key, None)
        self.counters.files_released += 1

    def _refresh_fingerprint(self, harvester: Harvester) -> None:
        state = harvester.state
        if state.fp_len < FINGERPRINT_BYTES and harvester.read_offset > state.fp_len and not harvester.truncated:
            head = read_head(harvester.fd)
            if state.matches_head(head):  # not if it was just truncated and rewritten
                state.fp_len, state.fp = len(head), fingerprint(head)

    # -- records ------------------------------------------------------------------------
    def _deliver(self, sink: Sink, harvester: Harvester, documents: list[Document]) -> None:
        topic = harvester.spec.topic or self.settings.logs.topic
        template = self.settings.index.name_template
        counters, origin, key, in_flight = self.counters, harvester.origin, harvester.kafka_key, harvester.in_flight
        needs_index = sink.needs_index
        for end, offset, timestamp, tags, value in documents:
            if self.failure is not None:
                return  # the records after a failed one wait in their file for the next run
            if tags:
                counters.tags.update(tags)
            in_flight.append(end)
            counters.records += 1
            if needs_index:
                index = index_name_of(template, origin.app_id, timestamp)
                sink.send(topic, key, doc_id(origin.key, offset), index, value)
            else:
                sink.send(topic, key, "", "", value)

    def _read(self, sink: Sink, harvester: Harvester, at_end: bool) -> int:
        documents, lines, read = harvester.read(at_end)
        self.counters.bytes += read
        if lines:
            self.counters.lines += lines
            harvester.last_line_at = time.time()
        if documents:
            self._deliver(sink, harvester, documents)
        return read

    @property
    def sink_name(self) -> str:
        return self.options.sink or self.settings.logs.sink

    def topics(self) -> list[str]:
        return sorted({spec.topic or self.settings.logs.topic for spec in self.inputs})

    def prepare(self, cancelled: threading.Event | None = None) -> None:
        """Into Kafka: check the record limits, start the producer (given `cancelled`, the
        event `run` will get), create the log topics and the health topic. The producer starts
        first: an idempotent one refused by the brokers is then stopped before the first record
        leaves, and the run ends at once with that cause instead of purging what it queued."""
        settings = self.settings
        if self.sink_name == "kafka":
            check_kafka_limits(settings)
        if cancelled is not None:
            self._sink = self.open_sink(cancelled)
        if self.sink_name == "kafka":
            ensure_topics(settings.kafka, self.topics(), settings.logs.partitions, settings.scada.replication_factor)
            ensure_health_topic(settings)

    def open_sink(self, cancelled: threading.Event) -> Sink:
        """The sink `options.sink` (or `logs.sink`) names, reporting to this shipper."""
        if self.sink_name == "kafka":
            return KafkaSink(
                self.settings, self.acked, self.failed, cancelled, on_too_large=self.too_large, on_refused=self.refused
            )
        if self.sink_name == "elasticsearch":
            from vac.logs.es_sink import ElasticsearchSink  # lazily: the client costs start-up time

            return ElasticsearchSink(self.settings, self.acked, self.rejected, cancelled)
        return StdoutSink(self.acked)

    def run(
        self,
        cancelled: threading.Event,
        progress: Callable[[ShipStatus], None] | None = None,
        *,
        sink: Sink | None = None,
    ) -> ShipSummary:
        """Ship until `cancelled` is set (or, with `once`, every file is read and delivered);
        flush, save the registry and return the summary."""
        if sink is None:
            sink = self._sink or self.open_sink(cancelled)
        heartbeat = HeartbeatPublisher(self.settings, self.component, sink.publish_health)
        try:
            with rare_collections():
                self._ship(sink, cancelled, progress, heartbeat)
        except SinkCancelled:
            pass
        finally:
            unflushed = sink.flush(self.options.flush_timeout_s)
            heartbeat.publish(self.status())
            sink.flush(1.0)
            try:
                self.registry.save()
            finally:
                self.registry.close()
                sink.close()
        status = self.status()
        return ShipSummary(
            **{name: getattr(status, name) for name in ShipStatus.__dataclass_fields__},
            unacknowledged=unflushed,
            first_failure=self.failure,
        )

    def _ship(
        self,
        sink: Sink,
        cancelled: threading.Event,
        progress: Callable[[ShipStatus], None] | None,
        heartbeat: HeartbeatPublisher,
    ) -> None:
        counters = self.counters
        counters.started = time.monotonic()
        next_scan = next_checkpoint = 0.0
        next_health = time.monotonic()
        while not cancelled.is_set() and self.failure is None:
            now = time.monotonic()
            if now >= next_scan:
                self.scan()
                next_scan = now + self.settings.logs.scan_interval_s
                if self.options.once and not self._matched:
                    patterns = ", ".join(p for spec in self.inputs for p in spec.paths)
                    raise UsageError(
                        f"nothing to ship: no file matches {patterns}",
                        hint="check the glob (quoted, so that the shell does not expand it) and the directory",
                    )
            read = 0
            for harvester in list(self.harvesters.values()):
                read += self._read(sink, harvester, at_end=self.options.once)
                if harvester.reader.pending_offset is not None and self._record_complete(harvester, now):
                    self._deliver(sink, harvester, harvester.reader.flush(_now_iso()))
                self._refresh_fingerprint(harvester)
            sink.poll(0 if read else 0.05)
            if now >= next_checkpoint:
                next_checkpoint = now + CHECKPOINT_S
                self.registry.save()
                if progress is not None:
                    progress(self.status())
            if now >= next_health:
                next_health = now + self.settings.logs.health_interval_s
                heartbeat.publish(self.status())
            if self.waiting and not read:
                next_scan = min(next_scan, now + 0.05)  # a slot may be free once the acks are in
            if self.options.once and not read and not self.waiting and self._all_read():
                break

    def _record_complete(self, harvester: Harvester, now: float) -> bool:
        """The record in progress is complete when its file is quiet (or, with --once, read)."""
        if self.options.once:
            return harvester.read_offset >= harvester.size()
        idle = self.settings.logs.idle_flush_s
        # The file's own modification time: a shipper restarted beside a rotated, finished
        # file (.bak, a copy) sends its last record at once instead of waiting again.
        return now - harvester.last_data >= idle or time.time() - os.fstat(harvester.fd).st_mtime >= idle

    def _all_read(self) -> bool:
        """Every file read to its end and its last record sent (--once then waits for the acks)."""
        return all(
            h.read_offset >= h.size() and not h.partial and h.reader.pending_offset is None
            for h in self.harvesters.values()
        )

    def status(self) -> ShipStatus:
        counters = self.counters
        elapsed = time.monotonic() - counters.started
        files = []
        for harvester in self.harvesters.values():
            size = harvester.size()
            age = None if harvester.last_line_at is None else round(time.time() - harvester.last_line_at, 1)
            offset = harvester.state.offset
            files.append(FileStatus(harvester.path, offset, size, max(0, size - offset), age, harvester.parser))
        for resting in self.resting.values():  # closed for want of slots: listed all the same
            offset = resting.state.offset
            files.append(
                FileStatus(resting.path, offset, resting.size, max(0, resting.size - offset), None, resting.parser)
            )
        return ShipStatus(
            lines=counters.lines,
            records=counters.records,
            acked=counters.acked,
            failed=counters.failed,
            in_flight=counters.records - counters.acked - counters.failed,
            bytes=counters.bytes,
            rate=round(counters.lines / elapsed, 1) if elapsed > 0 else 0.0,
            files=tuple(files),
            open_files=len(self.harvesters) + len(self.draining),
            files_waiting=self.waiting,
            rotations=counters.rotations,
            truncations=counters.truncations,
            tags=dict(counters.tags),
            problems=dict(counters.problems),
            duration_s=round(elapsed, 3),
        )


def _now_iso() -> str:
    """The read time of records (`event.ingested`, and `@timestamp` of those without one)."""
    return now_iso()


def _line_start_before(path: str, size: int) -> int:
    """Where to start tailing an existing file: its end (a first run without
    --from-beginning); a partial last line is read whole once it completes."""
    with open(path, "rb") as file:
        file.seek(max(0, size - 65536))
        tail = file.read(size - file.tell())
    newline = tail.rfind(b"\n")
    return size - len(tail) + newline + 1 if newline >= 0 else max(0, size - len(tail))


def _open_file_budget(setting: int) -> int:
    """`logs.max_open_files`, within half the process's descriptor limit (the rest is for
    Kafka's sockets, the registry and Python itself)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return setting
    return max(1, min(setting, soft // 2))


def _find_by_identity(
    directory: str, identities: set[tuple[int, int]]
) -> dict[tuple[int, int], tuple[str, os.stat_result]]:
    """Where these files (device + inode) are in `directory` now, under whatever name: one pass
    over at most MAX_DIRECTORY_ENTRIES entries, the inode taken from the listing, a stat only
    for an entry whose inode is wanted."""
    inodes = {ino for _, ino in identities}
    where: dict[tuple[int, int], tuple[str, os.stat_result]] = {}
    try:
        with os.scandir(directory) as entries:
            for entry in itertools.islice(entries, MAX_DIRECTORY_ENTRIES):
                if entry.inode() not in inodes:
                    continue
                try:
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                identity = (info.st_dev, info.st_ino)
                if identity in identities and stat.S_ISREG(info.st_mode):
                    where.setdefault(identity, (entry.path, info))
    except OSError:
        pass
    return where


def _same_dir(pattern: str, path: str) -> bool:
    return os.path.dirname(os.path.expanduser(pattern)) == os.path.dirname(path)
