"""The shipper's file tracking on real files in a temporary directory: rotation by rename,
copytruncate, restarts from the registry, huge lines, binary bytes, unreadable paths.

The sink is a recording stand-in that acknowledges on flush: these tests are about which
bytes are read once and only once, not about Kafka (the integration tests cover that)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from vac.errors import ConfigError, UsageError
from vac.logs.registry import fingerprint
from vac.logs.shipper import Harvester, LogShipper, ShipOptions
from vac.settings import LogInput, VacSettings


class RecordingSink:
    """Keeps every document; acknowledges what it holds when polled or flushed."""

    needs_index = True

    def __init__(self, shipper: LogShipper) -> None:
        self.shipper = shipper
        self.docs: list[dict[str, Any]] = []
        self.unacked: list[bytes] = []

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        self.docs.append(orjson.loads(value))
        self.unacked.append(key)

    def poll(self, timeout_s: float = 0) -> None:
        self.flush(0)

    def flush(self, timeout_s: float) -> int:
        keys, self.unacked = self.unacked, []
        for key in keys:
            self.shipper.acked(key)
        return 0

    def publish_health(self, topic: str, key: bytes, value: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def header(n: int, text: str = "hello") -> bytes:
    second, milli = divmod(n, 1000)
    stamp = f"2026.11.28 10:{second // 60 % 60:02d}:{second % 60:02d}.{milli:03d}"
    return f"WCCOActrl    (1), {stamp}, CTRL, INFO, 7, {text} {n}\r\n".encode()


@pytest.fixture(autouse=True, params=["compiled", "python"])
def parser_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with both WinCC OA parsers (the compiled one falls back to Python
    where vac_native is not installed)."""
    monkeypatch.setenv("VAC_LOGS__NATIVE_PARSER", str(request.param == "compiled").lower())
    return str(request.param)


def logs_settings(**logs: Any) -> VacSettings:
    """Settings with these `logs` keys and the parser the fixture chose (VacSettings() alone
    reads no environment)."""
    native = os.environ.get("VAC_LOGS__NATIVE_PARSER", "true") == "true"
    return VacSettings(logs={"native_parser": native, **logs})


def settings() -> VacSettings:
    return logs_settings(scan_interval_s=0.01, close_inactive_s=0.01, idle_flush_s=0.01)


def ship_once(directory: Path, pattern: str = "PVSS_II.log*", **options: Any) -> list[dict[str, Any]]:
    """One `--once` run over the directory with the registry beside it; the documents."""
    spec = LogInput(paths=[str(directory / pattern)], app_id="vac_test_scada_logs")
    shipper = LogShipper(
        settings(), [spec], directory / "registry.json", ShipOptions(once=True, from_beginning=True, **options)
    )
    sink = RecordingSink(shipper)
    shipper.run(threading.Event(), sink=sink)
    return sink.docs


def texts(docs: list[dict[str, Any]]) -> list[str]:
    return [doc.get("text", doc["message"]) for doc in docs]


def test_a_file_is_shipped_once_and_a_rerun_sends_only_what_was_appended(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(100)))
    first = ship_once(tmp_path)
    assert len(first) == 100 and first[0]["log"]["offset"] == 0
    with log.open("ab") as out:
        out.write(b"".join(header(n) for n in range(100, 150)))
    second = ship_once(tmp_path)
    assert texts(second) == [f"hello {n}" for n in range(100, 150)]


def test_rename_to_bak_then_a_new_file_loses_and_repeats_nothing(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(50)))
    first = ship_once(tmp_path, pattern="PVSS_II.log")
    with log.open("ab") as out:  # written after the last read, then rotated: only in the .bak
        out.write(b"".join(header(n) for n in range(50, 70)))
    log.rename(tmp_path / "PVSS_II.log.bak")
    log.write_bytes(b"".join(header(n) for n in range(70, 90)))
    second = ship_once(tmp_path, pattern="PVSS_II.log")  # the glob does not even match the .bak
    assert sorted(texts(first + second)) == sorted(f"hello {n}" for n in range(90))


def test_copytruncate_resumes_in_the_copy_and_restarts_the_original(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(40)))
    first = ship_once(tmp_path)
    with log.open("ab") as out:
        out.write(b"".join(header(n) for n in range(40, 60)))
    (tmp_path / "PVSS_II.log.1").write_bytes(log.read_bytes())
    with log.open("r+b") as out:
        out.truncate(0)
    log.write_bytes(b"".join(header(n) for n in range(60, 75)))
    second = ship_once(tmp_path)
    assert sorted(texts(first + second)) == sorted(f"hello {n}" for n in range(75))
    # The copy continues the original: the same file key, so the same document ids.
    assert {d["event"]["id"].split("-")[0] for d in first} <= {d["event"]["id"].split("-")[0] for d in second}


def test_an_unacknowledged_tail_is_sent_again_after_a_crash(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(30)))
    spec = LogInput(paths=[str(log)], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(once=True, from_beginning=True))

    class NeverAcks(RecordingSink):
        def flush(self, timeout_s: float) -> int:
            return len(self.unacked)

    shipper.run(threading.Event(), sink=NeverAcks(shipper))
    again = ship_once(tmp_path, pattern="PVSS_II.log")
    assert texts(again) == [f"hello {n}" for n in range(30)]  # nothing was acknowledged


def test_a_huge_line_is_kept_whole_in_capped_records(tmp_path: Path) -> None:
    huge = b"x" * (10 << 20)
    (tmp_path / "PVSS_II.log").write_bytes(header(1) + huge + b"\r\n" + header(2))
    docs = ship_once(tmp_path)
    assert docs[0]["text"] == "hello 1" and docs[-1]["text"] == "hello 2"
    assert "".join(d["message"] for d in docs).count("x") == len(huge)  # every byte, in some record
    assert all(len(d["message"]) <= 128 * 1024 + 200 for d in docs)
    assert any("truncated" in d.get("tags", []) for d in docs) and any("continued" in d.get("tags", []) for d in docs)


def test_binary_garbage_is_kept_escaped_and_the_next_record_parses(tmp_path: Path) -> None:
    garbage = bytes(range(256)) * 4
    (tmp_path / "PVSS_II.log").write_bytes(header(1) + garbage.replace(b"\n", b"") + b"\r\n" + header(2))
    docs = ship_once(tmp_path)
    assert [d.get("text") for d in (docs[0], docs[-1])] == ["hello 1", "hello 2"]
    assert "\\xff" in "".join(d["message"] for d in docs)


def test_an_unreadable_match_is_reported_and_the_rest_shipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "PVSS_II.log.d").mkdir()  # matches the glob, is no file
    os.symlink(tmp_path / "missing", tmp_path / "PVSS_II.log.link")  # a dangling link
    (tmp_path / "PVSS_II.log").write_bytes(header(1))
    docs = ship_once(tmp_path)
    assert texts(docs) == ["hello 1"]
    assert "not a regular file" in caplog.text and "unreadable" in caplog.text


def test_a_first_run_without_from_beginning_starts_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(10)))
    spec = LogInput(paths=[str(log)], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(once=True))
    sink = RecordingSink(shipper)
    shipper.run(threading.Event(), sink=sink)
    assert sink.docs == []
    with log.open("ab") as out:
        out.write(header(10))
    assert texts(ship_once(tmp_path, pattern="PVSS_II.log")) == ["hello 10"]


def test_a_corrupt_registry_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "registry.json").write_text("{not json")
    (tmp_path / "PVSS_II.log").write_bytes(header(1))
    with pytest.raises(Exception, match="registry .* is unreadable"):
        ship_once(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [("offset", -5, "0 and 9223372036854775807"), ("fp_len", -1, "0 and 1024"), ("fp_len", 1025, "0 and 1024"),
     ("ino", -2, "0 and 18446744073709551615")],
)  # fmt: skip
def test_a_registry_with_a_negative_or_impossible_number_is_a_clear_error(
    tmp_path: Path, field: str, value: int, allowed: str
) -> None:
    """Refused at load, not by the first pread mid-run (EINVAL)."""
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(header(1))
    info = log.stat()
    entry = {"key": "k", "path": str(log), "dev": info.st_dev, "ino": info.st_ino, "offset": 0, "fp_len": 50}
    entry |= {"fp": fingerprint(header(1)[:50]), "updated": 0.0, "detached": False}  # it is this file
    entry[field] = value
    (tmp_path / "registry.json").write_bytes(orjson.dumps({"version": 1, "files": [entry]}))
    expected = rf"registry .* is unreadable: field '{field}' is {value}, not between {allowed}$"
    with pytest.raises(ConfigError, match=expected):
        ship_once(tmp_path)


def test_a_file_deleted_while_being_read_is_read_to_its_end_and_released(tmp_path: Path) -> None:
    """The shipper holds the file open: lines written before the delete are still shipped,
    once, and the file is let go afterwards (no descriptor kept on a deleted file)."""
    log = tmp_path / "PVSS_II.log"
    lines = 30_000  # about 2 MB: more than one read
    log.write_bytes(b"".join(header(n) for n in range(lines)))
    spec = LogInput(paths=[str(tmp_path / "PVSS_II.log*")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))

    class DeletesOnFirstRecord(RecordingSink):
        def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
            if log.exists():
                log.unlink()  # the first megabyte is read; the rest is only on the open descriptor
            super().send(topic, key, doc_id, index, value)

    sink = DeletesOnFirstRecord(shipper)
    stop = threading.Event()
    tailing = threading.Thread(target=shipper.run, args=(stop,), kwargs={"sink": sink})
    tailing.start()
    deadline = time.monotonic() + 20
    while shipper.counters.files_released == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    tailing.join(10)
    assert not log.exists()
    numbers = [int(doc["text"].rsplit(" ", 1)[1]) for doc in sink.docs]
    assert numbers == list(range(lines))  # every line, once, in order
    assert shipper.counters.acked == lines
    assert shipper.counters.files_released == 1 and shipper.harvesters == {}


def test_distinct_files_that_start_alike_are_each_shipped_whole(tmp_path: Path) -> None:
    """Identity is the inode, not the first bytes: an identical file and one that extends it
    are files of their own (the tester's a/b/c.log shipped 3 of 14 lines)."""
    first_four = b"".join(header(n) for n in range(4))
    (tmp_path / "a.log").write_bytes(first_four)
    (tmp_path / "b.log").write_bytes(first_four)
    (tmp_path / "c.log").write_bytes(first_four + b"".join(header(n) for n in range(4, 10)))
    docs = ship_once(tmp_path, pattern="*.log")
    by_file = {
        name: sorted(texts(d for d in docs if d["log"]["file"]["path"].endswith(f"/{name}.log"))) for name in "abc"
    }
    assert by_file == {
        "a": [f"hello {n}" for n in range(4)],
        "b": [f"hello {n}" for n in range(4)],
        "c": sorted(f"hello {n}" for n in range(10)),
    }
    assert ship_once(tmp_path, pattern="*.log") == []  # and a rerun repeats none of them


def test_a_file_under_one_kib_without_a_newline_is_shipped_with_once(tmp_path: Path) -> None:
    (tmp_path / "PVSS_II.log").write_bytes(header(1).rstrip(b"\r\n"))
    assert texts(ship_once(tmp_path)) == ["hello 1"]


def test_a_deleted_file_leaves_no_identity_a_new_file_could_be_taken_for(tmp_path: Path) -> None:
    """The service reads a file to its end, the file is deleted, a file starting alike comes:
    it is read whole, not resumed where the deleted one ended."""
    banner = b"".join(header(n) for n in range(3))
    log = tmp_path / "app.log"
    log.write_bytes(banner)
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    sink = RecordingSink(shipper)
    stop = threading.Event()
    tailing = threading.Thread(target=shipper.run, args=(stop,), kwargs={"sink": sink})
    tailing.start()
    try:
        deadline = time.monotonic() + 20
        while len(sink.docs) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        log.unlink()
        while shipper.counters.files_released == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        (tmp_path / "other.log").write_bytes(banner + header(3))
        while len(sink.docs) < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        tailing.join(10)
    assert sorted(texts(sink.docs)) == sorted([f"hello {n}" for n in range(3)] * 2 + ["hello 3"])


def test_two_shippers_never_share_a_registry(tmp_path: Path) -> None:
    (tmp_path / "PVSS_II.log").write_bytes(header(1))
    spec = LogInput(paths=[str(tmp_path / "PVSS_II.log")], app_id="vac_test_scada_logs")
    service = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions())
    with pytest.raises(UsageError, match=rf"registry .* is in use by another shipper \(pid {os.getpid()}\)"):
        LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(once=True))
    stopped = threading.Event()
    stopped.set()
    service.run(stopped, sink=RecordingSink(service))  # stopped at once: the registry is free again
    assert texts(ship_once(tmp_path)) == ["hello 1"]


def test_more_files_than_open_slots_are_read_in_turns_and_reopened_when_they_grow(tmp_path: Path) -> None:
    def open_logs() -> int:
        """This process's descriptors open on the test's log files (not every descriptor: other
        tests' threads may still hold sockets, which made a count of all of them flaky)."""
        count = 0
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):  # a descriptor closed since the listing
                target = os.readlink(f"/proc/self/fd/{fd}")
                count += target.startswith(str(tmp_path)) and target.endswith(".log")
        return count

    for number in range(10):
        (tmp_path / f"f{number}.log").write_bytes(b"".join(header(100 * number + n) for n in range(5)))
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    tight = logs_settings(scan_interval_s=0.01, idle_flush_s=0.01, max_open_files=3)

    def ship() -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
        shipper = LogShipper(tight, [spec], tmp_path / "registry.json", ShipOptions(once=True, from_beginning=True))
        most_open = 0

        class CountsOpenFiles(RecordingSink):
            def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
                nonlocal most_open
                most_open = max(most_open, open_logs())
                super().send(topic, key, doc_id, index, value)

        sink = CountsOpenFiles(shipper)
        summary = shipper.run(threading.Event(), sink=sink)
        return sink.docs, most_open, summary

    docs, most_open, summary = ship()
    assert sorted(texts(docs)) == sorted(f"hello {100 * f + n}" for f in range(10) for n in range(5))
    assert 1 <= most_open <= 3 and summary.open_files <= 3 and len(summary.files) == 10
    with (tmp_path / "f0.log").open("ab") as out:
        out.write(header(5))
    assert texts(ship()[0]) == ["hello 5"]


def test_the_service_reopens_a_file_it_closed_for_want_of_slots_when_it_grows(tmp_path: Path) -> None:
    for number in range(6):
        (tmp_path / f"f{number}.log").write_bytes(b"".join(header(100 * number + n) for n in range(3)))
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    tight = logs_settings(scan_interval_s=0.01, idle_flush_s=0.01, max_open_files=2)
    shipper = LogShipper(tight, [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    sink = RecordingSink(shipper)
    stop = threading.Event()
    tailing = threading.Thread(target=shipper.run, args=(stop,), kwargs={"sink": sink})
    tailing.start()
    try:
        deadline = time.monotonic() + 20
        while len(sink.docs) < 18 and time.monotonic() < deadline:
            time.sleep(0.01)
        with (tmp_path / "f0.log").open("ab") as out:  # closed by now: only two slots for six files
            out.write(header(3))
        while len(sink.docs) < 19 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        tailing.join(10)
    expected = [f"hello {100 * f + n}" for f in range(6) for n in range(3)] + ["hello 3"]
    assert sorted(texts(sink.docs)) == sorted(expected)
    assert shipper.status().open_files <= 2


def test_a_long_line_up_to_the_cap_is_one_record_joined_without_newlines(tmp_path: Path) -> None:
    """The 32 KiB pieces a long line is read in are joined back with nothing between them,
    count as one line, and a record exactly at the cap is not tagged truncated."""
    first = header(1).removesuffix(b"\r\n")
    cap = 128 * 1024
    line = first + b"x" * (cap - len(first) - 2) + b"\r\n"  # exactly the cap, in the file
    (tmp_path / "PVSS_II.log").write_bytes(line + header(2))
    spec = LogInput(paths=[str(tmp_path / "PVSS_II.log")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(once=True, from_beginning=True))
    sink = RecordingSink(shipper)
    summary = shipper.run(threading.Event(), sink=sink)
    assert [d["message"] for d in sink.docs] == [line[:-2].decode(), header(2)[:-2].decode()]
    assert [d.get("tags") for d in sink.docs] == [None, None] and "lines" not in sink.docs[0]
    assert summary.lines == summary.records == 2


def test_a_cr_only_file_counts_as_many_lines_as_records(tmp_path: Path) -> None:
    (tmp_path / "PVSS_II.log").write_bytes(b"".join(header(n).replace(b"\r\n", b"\r") for n in range(5)))
    spec = LogInput(paths=[str(tmp_path / "PVSS_II.log")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(once=True, from_beginning=True))
    sink = RecordingSink(shipper)
    summary = shipper.run(threading.Event(), sink=sink)
    assert texts(sink.docs) == [f"hello {n}" for n in range(5)]
    assert summary.lines == summary.records == 5


def run_service(tmp_path: Path, until: Callable[[RecordingSink], bool], act: Callable[[], None]) -> RecordingSink:
    """The shipper as a service over tmp_path/*.log: `act` once everything present is shipped,
    then run until `until` holds (20 s at most)."""
    spec = LogInput(paths=[str(tmp_path / "*.log*")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    sink = RecordingSink(shipper)
    stop = threading.Event()
    tailing = threading.Thread(target=shipper.run, args=(stop,), kwargs={"sink": sink})
    tailing.start()
    try:
        deadline = time.monotonic() + 20
        while not sink.docs and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        act()
        while not until(sink) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # nothing more should come
    finally:
        stop.set()
        tailing.join(10)
    return sink


def test_the_service_ships_an_identical_file_of_its_own_after_the_copy_grace(tmp_path: Path) -> None:
    content = b"".join(header(n) for n in range(5))
    (tmp_path / "a.log").write_bytes(content)
    sink = run_service(tmp_path, lambda s: len(s.docs) >= 10, lambda: (tmp_path / "b.log").write_bytes(content))
    assert sorted(texts(sink.docs)) == sorted([f"hello {n}" for n in range(5)] * 2)


def test_the_service_takes_a_copy_seen_before_its_original_is_truncated_for_a_copy(tmp_path: Path) -> None:
    """copytruncate, with a scan between the copy and the truncation: nothing twice."""
    log = tmp_path / "a.log"
    log.write_bytes(b"".join(header(n) for n in range(5)))

    def copytruncate_slowly() -> None:
        (tmp_path / "a.log.1").write_bytes(log.read_bytes())
        time.sleep(0.3)  # several scans see the copy beside its untruncated original
        with log.open("r+b") as out:
            out.truncate(0)
        log.write_bytes(header(5))

    sink = run_service(tmp_path, lambda s: len(s.docs) >= 6, copytruncate_slowly)
    assert sorted(texts(sink.docs)) == sorted(f"hello {n}" for n in range(6))


class ScansBetweenChanges:
    """The shipper as a service over tmp_path/*.log with one open slot; `changes` holds its
    scans off, so that a test changes files between two scans."""

    def __init__(self, tmp_path: Path) -> None:
        spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
        tight = logs_settings(scan_interval_s=0.01, idle_flush_s=0.01, max_open_files=1)
        self.shipper = LogShipper(tight, [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
        self.sink = RecordingSink(self.shipper)
        self.changes = threading.Lock()
        scan = self.shipper.scan

        def scan_unless_changing() -> None:
            with self.changes:
                scan()

        self.shipper.scan = scan_unless_changing  # type: ignore[method-assign]
        self.stop = threading.Event()
        self.tailing = threading.Thread(target=self.shipper.run, args=(self.stop,), kwargs={"sink": self.sink})
        self.deadline = time.monotonic() + 20

    def wait_for(self, condition: Callable[[], bool]) -> None:
        while not condition() and time.monotonic() < self.deadline:
            time.sleep(0.01)

    def __enter__(self) -> ScansBetweenChanges:
        self.tailing.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.tailing.join(10)


def test_a_file_closed_for_want_of_slots_then_appended_and_renamed_out_of_the_glob_is_read_to_its_end(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.log").write_bytes(b"".join(header(n) for n in range(3)))
    (tmp_path / "b.log").write_bytes(b"".join(header(100 + n) for n in range(3)))
    a = os.stat(tmp_path / "a.log")
    with ScansBetweenChanges(tmp_path) as service:
        service.wait_for(lambda: len(service.sink.docs) == 6 and (a.st_dev, a.st_ino) in service.shipper.resting)
        with service.changes:  # closed, so lines appended and the rename meet no descriptor
            with (tmp_path / "a.log").open("ab") as out:
                out.write(header(3) + header(4))
            (tmp_path / "a.log").rename(tmp_path / "a.log.old")
        service.wait_for(lambda: len(service.sink.docs) >= 8)
        time.sleep(0.2)  # nothing more should come
    expected = [f"hello {n}" for n in range(5)] + [f"hello {100 + n}" for n in range(3)]
    assert sorted(texts(service.sink.docs)) == sorted(expected)


def test_a_file_closed_for_want_of_slots_then_deleted_is_retired(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(b"".join(header(n) for n in range(3)))
    (tmp_path / "b.log").write_bytes(b"".join(header(100 + n) for n in range(3)))
    a = os.stat(tmp_path / "a.log")
    with ScansBetweenChanges(tmp_path) as service:
        service.wait_for(lambda: len(service.sink.docs) == 6 and (a.st_dev, a.st_ino) in service.shipper.resting)
        [state] = [s for s in service.shipper.registry.states.values() if s.path.endswith("/a.log")]
        with service.changes:
            (tmp_path / "a.log").unlink()
        service.wait_for(lambda: state.detached)
        assert (a.st_dev, a.st_ino) not in service.shipper.resting
    assert state.detached and state.fp == "" and state.fp_len == 0  # retired: nothing can be taken for it
    assert len(service.sink.docs) == 6


def close_scanned(shipper: LogShipper) -> None:
    """What `run` would release for a shipper only scanned: its open files and its registry."""
    for harvester in shipper.harvesters.values():
        harvester.close()
    shipper.registry.close()


def test_a_scan_with_many_files_waiting_for_a_slot_lists_the_open_ones_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which open file to close is decided from one look at each open file per scan, not one
    per waiting file (2,000 files for 500 slots made 750,000 fstat calls every 50 ms)."""
    for number in range(12):
        (tmp_path / f"f{number}.log").write_bytes(header(number))
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    tight = logs_settings(max_open_files=3)
    shipper = LogShipper(tight, [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    shipper.scan()
    for harvester in shipper.harvesters.values():  # read to their end: each may be closed
        harvester.read_offset = harvester.state.offset = harvester.size()
    sizes = 0
    size = Harvester.size

    def counted_size(harvester: Harvester) -> int:
        nonlocal sizes
        sizes += 1
        return size(harvester)

    monkeypatch.setattr(Harvester, "size", counted_size)
    shipper.scan()
    assert shipper.waiting == 6 and len(shipper.resting) == 3 and len(shipper.harvesters) == 3
    assert sizes == 3
    close_scanned(shipper)


def test_a_file_that_vanishes_while_it_waits_to_be_told_a_copy_is_forgotten(tmp_path: Path) -> None:
    content = b"".join(header(n) for n in range(5))
    (tmp_path / "a.log").write_bytes(content)
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    shipper = LogShipper(settings(), [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    shipper.scan()
    (tmp_path / "b.log").write_bytes(content)  # perhaps copytruncate's copy: it waits
    shipper.scan()
    assert len(shipper._waiting_since) == 1
    (tmp_path / "b.log").unlink()
    shipper.scan()
    assert shipper._waiting_since == {}
    close_scanned(shipper)


def test_the_copy_grace_is_a_setting(tmp_path: Path) -> None:
    """logs.copy_grace_s: how long a file starting like a live one waits to be told a copy."""
    content = b"".join(header(n) for n in range(5))
    (tmp_path / "a.log").write_bytes(content)
    spec = LogInput(paths=[str(tmp_path / "*.log")], app_id="vac_test_scada_logs")
    short = logs_settings(copy_grace_s=0.2)
    shipper = LogShipper(short, [spec], tmp_path / "registry.json", ShipOptions(from_beginning=True))
    shipper.scan()
    (tmp_path / "b.log").write_bytes(content)
    shipper.scan()
    assert len(shipper.harvesters) == 1  # perhaps a copy: it waits
    time.sleep(0.3)
    shipper.scan()
    assert len(shipper.harvesters) == 2  # a file of its own after 0.2 s, not the default 3 s
    close_scanned(shipper)
