"""The records of the job shape: statuses print the JSON names `-o json` always had, every job's
heartbeat carries its figures under one name each and in one time format, the dash reads
new and old heartbeats alike, and whatever else arrives on the health topic reads as zeros."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import orjson
import pytest

from vac.dash.pipeline import Fleet
from vac.kafka.heartbeat import HeartbeatPublisher
from vac.records.clock import IsoClock, PerSecond, iso_utc
from vac.records.job import FileStatus, Heartbeat, IndexStatus, Latency, ShipStatus, ShipSummary, StreamSummary
from vac.settings import VacSettings

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def stream_summary(**changed: object) -> StreamSummary:
    fields: dict[str, object] = dict(
        changes=10, sent=9, acked=7, failed=1, unknown=1, in_flight=0, suppressed=1, heartbeats=0,
        invalid_input=2, rate=5.0, ack_latency_ms=Latency(1.0, 2.0, 3.0, 4.0), last_change_age_s=0.5,
        duration_s=2.0, topics=["t"], rss_mb=50.0,
    )  # fmt: skip
    return StreamSummary(**(fields | changed))  # type: ignore[arg-type]


def ship_status(**changed: object) -> ShipStatus:
    files = (FileStatus("/a", 10, 30, 20, None, "compiled"), FileStatus("/b", 0, 5, 5, 1.0, "python"))
    fields: dict[str, object] = dict(
        lines=4, records=3, acked=2, failed=0, in_flight=1, bytes=30, rate=2.0, files=files, open_files=2,
        files_waiting=0, rotations=0, truncations=0, tags={}, problems={}, duration_s=2.0,
    )  # fmt: skip
    return ShipStatus(**(fields | changed))  # type: ignore[arg-type]


def test_summaries_print_the_json_names_scripts_read() -> None:
    stream = stream_summary().as_json()
    assert stream["ack_latency_ms"] == {"p50": 1.0, "p99": 2.0, "p999": 3.0, "max": 4.0}
    assert stream["rate"] == 5.0 and stream["rss_mb"] == 50.0 and stream["duration_s"] == 2.0
    # Only said when there is something to say, as before.
    assert not {"last_change_age_s", "first_failure", "requested_rate", "rate_sustained"} & set(stream)
    assert stream_summary(first_failure="too large").as_json()["first_failure"] == "too large"
    ship = ShipSummary(**{n: getattr(ship_status(), n) for n in ShipStatus.__dataclass_fields__}).as_json()
    assert ship["lines_per_s"] == 2.0 and "rate" not in ship and ship["unacknowledged"] == 0
    assert ship["files"][0] == {"path": "/a", "offset": 10, "size": 30, "behind_bytes": 20,
                                "last_line_age_s": None, "parser": "compiled"}  # fmt: skip
    index = IndexStatus(5, 3, 1, 1, 0, 1, 0, 1.5, 2, 2.0, "h", 1, "0", iso_utc(datetime.now(UTC))).as_json()
    assert index["docs_per_s"] == 1.5 and "rate" not in index and ISO_MS.match(index["time"])
    orjson.dumps(stream), orjson.dumps(ship), orjson.dumps(index)  # JSON all the way down


def test_every_job_heartbeat_has_one_name_per_figure_and_one_time_format() -> None:
    sent: list[tuple[str, bytes, bytes]] = []
    settings = VacSettings()
    beats = []
    for component, status in (("stream-scada", stream_summary()), ("ship-logs", ship_status())):
        HeartbeatPublisher(settings, component, lambda *message: sent.append(message)).publish(status)
        beats.append(orjson.loads(sent[-1][2]))
        assert sent[-1][0] == settings.health_topic and sent[-1][1].endswith(f"/{component}".encode())
    stream, ship = beats
    figures = {"rate", "unit", "in_flight", "failed", "unknown", "invalid_input", "behind_bytes"}
    assert figures <= set(stream) and figures <= set(ship)
    assert (stream["rate"], stream["unit"], stream["behind_bytes"]) == (5.0, "changes", None)
    assert (ship["rate"], ship["unit"], ship["behind_bytes"]) == (2.0, "lines", 25)
    assert ISO_MS.match(stream["time"]) and ISO_MS.match(ship["time"])
    assert ship["detail"]["lines_per_s"] == 2.0  # the whole status rides along


def test_the_dash_reads_new_heartbeats_typed_and_old_ones_too() -> None:
    fleet = Fleet()
    new = HeartbeatPublisher(VacSettings(), "ship-logs", lambda *_: None).heartbeat(ship_status()).as_json()
    fleet.apply(new, 0)
    old_streamer = {"host": "b", "component": "stream-scada", "time": "2027-01-15T08:00:00.123456Z",
                    "rate": 7.0, "in_flight": 3, "failed": 1, "unknown": 2}  # fmt: skip
    fleet.apply(old_streamer, 0)
    by_component = {member.component: member for member in fleet.listed()}
    shipper, streamer = by_component["ship-logs"], by_component["stream-scada"]
    assert (shipper.rate, shipper.behind, shipper.errors) == (2.0, "25 B", 0)
    assert (streamer.rate, streamer.behind, streamer.errors) == (7.0, "3 in flight", 3)
    assert streamer.last_s == datetime(2027, 1, 15, 8, 0, 0, 123456, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "record",
    [
        {"component": "c", "rate": float("nan"), "behind_bytes": 1e400, "in_flight": True, "failed": [1]},
        {"component": ["not", "text"], "host": {"x": 1}, "unit": 5, "detail": "not an object", "pid": "1"},
        {"component": "\x1b[31mred\x1b[0m", "rate": -1e308, "behind_bytes": "9" * 5000, "time": "\udcff"},
    ],
)
def test_a_hostile_heartbeat_reads_as_zeros_and_question_marks(record: dict[str, object]) -> None:
    beat = Heartbeat.from_json(record)
    assert beat.figures.in_flight == 0 and beat.figures.failed == 0
    assert beat.figures.behind_bytes in (None, 0) and isinstance(beat.detail, dict)
    assert isinstance(beat.host, str) and isinstance(beat.component, str) and isinstance(beat.figures.unit, str)
    assert beat.figures.rate in (0.0, -1e308)
    fleet = Fleet()
    fleet.apply(record, 3.0)
    assert [member.last_s for member in fleet.listed()] == [3.0]  # a time that is no time: when it came


def test_per_second_memo_is_bounded_and_does_not_keep_no_answer() -> None:
    asked: list[int] = []

    def make(second: int) -> str | None:
        asked.append(second)
        return None if second < 0 else str(second)

    memo: PerSecond[int, str] = PerSecond(make, most=3)
    assert [memo.get(s) for s in (1, 1, 2, -1, -1)] == ["1", "1", "2", None, None]
    assert asked == [1, 2, -1, -1]
    for second in range(100):
        memo.get(second)
    assert len(memo._made) <= 4
    clock = IsoClock()
    assert clock.format(1_800_000_000_123_456) == "2027-01-15T08:00:00.123456Z"


def test_a_job_stopped_before_it_starts_returns_its_summary() -> None:
    """The shape the commands rely on: run(cancelled) with cancelled set returns at once."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from vac.logs.shipper import LogShipper, ShipOptions
    from vac.settings import LogInput

    class Sink:
        needs_index = False
        heartbeats: list[bytes] = []

        def send(self, *args: object) -> None: ...
        def poll(self, timeout: float) -> None: ...
        def flush(self, timeout: float) -> int:
            return 0

        def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
            self.heartbeats.append(value)

        def close(self) -> None: ...

    with TemporaryDirectory() as tmp:
        spec = LogInput(paths=[f"{tmp}/*.log"], app_id="vac_test_scada_logs")
        shipper = LogShipper(VacSettings(), [spec], Path(tmp) / "registry.json", ShipOptions(sink="stdout"))
        stopped = threading.Event()
        stopped.set()
        sink = Sink()
        summary = shipper.run(stopped, sink=sink)  # type: ignore[arg-type]
    assert isinstance(summary, ShipSummary) and summary.lines == 0 and summary.first_failure is None
    assert [orjson.loads(beat)["component"] for beat in sink.heartbeats] == ["ship-logs"]
