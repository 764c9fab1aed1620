"""The shape of a job that runs until stopped (`vac stream scada`, `vac ship logs`, `vac index`)
and the records it reports itself in.

A job is made with its settings and options, then `prepare(cancelled)` (create its topics, install
its templates, start its clients: what must exist before the first record; `cancelled` is the
event `run` will be given) and `run(cancelled, progress)`: it runs
until it is done or `cancelled` is set, calls `progress` with its status about once a second,
and returns its summary. Status and summary are typed records; their `figures()` are what every
job has, under one name each, and what its heartbeat on the health topic carries:

    rate           its units (changes, lines, documents) per second since it started
    in_flight      sent, not yet acknowledged
    failed         not stored (Kafka or Elasticsearch refused them)
    unknown        sent, never acknowledged: perhaps stored
    invalid_input  input refused before it was sent
    behind_bytes   what its sources hold that it has not delivered yet (the shipper)

`as_json()` is the record as `-o json` prints it (field names are a contract with scripts).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True, slots=True)
class Figures:
    rate: float = 0.0
    unit: str = "records"
    """What `rate` counts: changes, lines, documents."""
    in_flight: int = 0
    failed: int = 0
    unknown: int = 0
    invalid_input: int = 0
    behind_bytes: int | None = None
    """None: the job does not read files (it has nothing to be behind in, in bytes)."""

    @property
    def errors(self) -> int:
        """Records not stored, perhaps not stored, or refused as input."""
        return self.failed + self.unknown + self.invalid_input


class JobStatus(Protocol):
    def figures(self) -> Figures: ...

    def as_json(self) -> dict[str, Any]: ...


StatusT = TypeVar("StatusT", bound=JobStatus, covariant=True)
SummaryT = TypeVar("SummaryT", bound=JobStatus, covariant=True)


class Job(Protocol[StatusT, SummaryT]):
    """What a command runs through `commands.output.run_job`."""

    component: str
    """Its name on the health topic: stream-scada, ship-logs, index-logs."""

    def prepare(self, cancelled: threading.Event | None = None) -> None: ...

    def run(self, cancelled: threading.Event, progress: Callable[[StatusT], None] | None = None) -> SummaryT: ...


HEARTBEAT_FIGURES = ("rate", "unit", "in_flight", "failed", "unknown", "invalid_input", "behind_bytes")


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """What a running job publishes on the health topic every `health_interval_s`: who it is,
    when (ISO 8601 UTC, milliseconds, `Z`: `vac.records.clock.iso_utc`), its figures, and its
    whole status as `detail` (its `as_json()`)."""

    host: str
    component: str
    version: str
    pid: int
    time: str
    figures: Figures
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        figures = {name: getattr(self.figures, name) for name in HEARTBEAT_FIGURES}
        head = {"host": self.host, "component": self.component, "version": self.version, "pid": self.pid}
        return head | {"time": self.time} | figures | {"detail": self.detail}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Heartbeat:
        """A heartbeat as read from the topic, which anyone who may write it can send: what is
        not a finite number counts as 0, what is not text as `?`. Heartbeats of vac before
        this format (figures at the top with the rest of the status, the shipper's rate as
        `lines_per_s`, its backlog in `files`) read the same."""
        rate = record.get("rate")
        if rate is None:
            rate = record.get("lines_per_s")
        behind: int | None = None
        if "behind_bytes" in record:
            behind = None if record["behind_bytes"] is None else int(_number(record["behind_bytes"]))
        elif isinstance(record.get("files"), list):
            behind = int(sum(_number(f.get("behind_bytes")) for f in record["files"] if isinstance(f, dict)))
        figures = Figures(
            rate=_number(rate),
            unit=_text(record.get("unit", "records")),
            in_flight=int(_number(record.get("in_flight"))),
            failed=int(_number(record.get("failed"))),
            unknown=int(_number(record.get("unknown"))),
            invalid_input=int(_number(record.get("invalid_input"))),
            behind_bytes=behind,
        )
        detail = record.get("detail")
        return cls(
            host=_text(record.get("host", "?")),
            component=_text(record.get("component", "?")),
            version=_text(record.get("version", "?")),
            pid=int(_number(record.get("pid"))),
            time=_text(record.get("time", "")),
            figures=figures,
            detail=detail if isinstance(detail, dict) else {},
        )


def _number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return 0.0


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "?"


# -- the jobs' own statuses -------------------------------------------------------------------
# `rate` is each job's per-second figure; `as_json` keeps the names `-o json` always printed
# (`lines_per_s` of the shipper, `docs_per_s` of the indexer), scripts read them.


@dataclass(frozen=True, slots=True)
class Latency:
    """Produce -> broker acknowledgement, in milliseconds."""

    p50: float = 0.0
    p99: float = 0.0
    p999: float = 0.0
    max: float = 0.0


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """`vac stream scada` while it runs."""

    changes: int
    sent: int
    acked: int
    failed: int
    """Not stored: Kafka refused them, or they never left."""
    unknown: int
    """Sent but never acknowledged (a timeout): perhaps stored, perhaps not."""
    in_flight: int
    suppressed: int
    heartbeats: int
    invalid_input: int
    rate: float
    """Changes per second since the start."""
    ack_latency_ms: Latency
    last_change_age_s: float | None
    last_topic_failed: int = 0
    """Copies for the compacted last-value topic that Kafka did not take."""

    def figures(self) -> Figures:
        return Figures(self.rate, "changes", self.in_flight, self.failed, self.unknown, self.invalid_input)

    def as_json(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in _fields(StreamStatus)}


@dataclass(frozen=True, slots=True)
class StreamSummary(StreamStatus):
    """`vac stream scada` at its end."""

    duration_s: float = 0.0
    unflushed: int = 0
    invalid_input_kinds: dict[str, int] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)
    last_topic: str | None = None
    rss_mb: float = 0.0
    requested_rate: float | None = None
    rate_sustained: bool | None = None
    first_failure: str | None = None
    first_unknown: str | None = None

    def as_json(self) -> dict[str, Any]:
        record = {name: _plain(getattr(self, name)) for name in _fields(StreamSummary)}
        del record["last_change_age_s"]
        return _without_none(record, ("requested_rate", "rate_sustained", "first_failure", "first_unknown"))


@dataclass(frozen=True, slots=True)
class FileStatus:
    """One file the shipper follows (or has closed for want of slots)."""

    path: str
    offset: int
    """Acknowledged up to here."""
    size: int
    behind_bytes: int
    last_line_age_s: float | None
    parser: str
    """compiled or python."""


@dataclass(frozen=True, slots=True)
class ShipStatus:
    """`vac ship logs` while it runs."""

    lines: int
    records: int
    acked: int
    failed: int
    in_flight: int
    bytes: int
    rate: float
    """Lines per second since the start (`lines_per_s` in JSON)."""
    files: tuple[FileStatus, ...]
    open_files: int
    files_waiting: int
    rotations: int
    truncations: int
    tags: dict[str, int]
    problems: dict[str, int]
    duration_s: float

    @property
    def behind_bytes(self) -> int:
        return sum(file.behind_bytes for file in self.files)

    def figures(self) -> Figures:
        return Figures(self.rate, "lines", self.in_flight, self.failed, behind_bytes=self.behind_bytes)

    def as_json(self) -> dict[str, Any]:
        record = {name: _plain(getattr(self, name)) for name in _fields(ShipStatus)}
        return _renamed(record, "rate", "lines_per_s")


@dataclass(frozen=True, slots=True)
class ShipSummary(ShipStatus):
    """`vac ship logs` at its end."""

    unacknowledged: int = 0
    first_failure: str | None = None

    def as_json(self) -> dict[str, Any]:
        record = {name: _plain(getattr(self, name)) for name in _fields(ShipSummary)}
        return _without_none(_renamed(record, "rate", "lines_per_s"), ("first_failure",))


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """`vac index`, while it runs and at its end."""

    consumed: int
    """Every consumed message ends in exactly one of indexed, dead_lettered, skipped, or is
    still pending (read, not yet settled and committed): they always add up to consumed."""
    indexed: int
    dead_lettered: int
    skipped: int
    """Tombstones: nothing to index, nothing to repair."""
    pending: int
    batches: int
    retries: int
    rate: float
    """Documents indexed per second since the start (`docs_per_s` in JSON)."""
    partitions: int
    duration_s: float
    host: str
    pid: int
    version: str
    time: str

    def figures(self) -> Figures:
        return Figures(self.rate, "documents", self.pending, self.dead_lettered)

    def as_json(self) -> dict[str, Any]:
        record = {name: _plain(getattr(self, name)) for name in _fields(IndexStatus)}
        return _renamed(record, "rate", "docs_per_s")


def _fields(kind: type) -> list[str]:
    return [each.name for each in dataclasses.fields(kind)]


def _plain(value: Any) -> Any:
    """A field as JSON: records as objects, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _fields(type(value))}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return dict(value)
    return value


def _renamed(record: dict[str, Any], name: str, as_name: str) -> dict[str, Any]:
    return {as_name if key == name else key: value for key, value in record.items()}


def _without_none(record: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not (key in optional and value is None)}
