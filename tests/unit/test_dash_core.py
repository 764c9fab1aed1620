"""The dashboard's state without a screen: the SCADA board's filters and sorts, what it hands
the alarm rules (tested in test_alarm_rules), the live log query, the
per-minute histogram and the fleet's heartbeats."""

from __future__ import annotations

import pytest

from vac.alarms.book import AlarmBook
from vac.dash.log_window import LogFilter, LogWindow
from vac.dash.pipeline import Fleet
from vac.dash.scada_board import ScadaBoard, Trace
from vac.errors import UsageError
from vac.search.livequery import compile_query
from vac.settings import AlarmRule

T0 = 1_800_000_000.0


def record(dpe: str, value: float, at: float, invalid: bool = False, sector: str = "VACSEC7R") -> dict[str, object]:
    stamp = f"2027-01-15T08:{int(at - T0) // 60:02d}:{int(at - T0) % 60:02d}.000000Z"
    return {"id": dpe, "value": value, "timestamp": stamp, "sector": sector, "mainpart": "ARC78", "DCUM": "12",
            "status": {"invalid": invalid, "out_of_range": False, "word": 0}}  # fmt: skip


def test_the_board_keeps_the_latest_value_and_filters_like_an_operator_types() -> None:
    board = ScadaBoard()
    board.apply(record("VGPB_1.PR", 1e-10, T0), T0)
    board.apply(record("VGPB_1.PR", 2e-10, T0 + 1), T0)
    board.apply(record("VGI_2.PR", 1e-6, T0, invalid=True, sector="VACSEC1L"), T0)
    board.apply({"id": "VVS_3.RR1", "value": 17, "validityBit": 0}, T0)
    assert board.apply({"value": 1.0}, T0) is None and board.apply({"id": "X", "value": "high"}, T0) is None
    assert board.unreadable == 2 and board.rows["VGPB_1.PR"].value == 2e-10
    assert len(board.rows["VGPB_1.PR"].history) == 2
    names = lambda text, sort="name": [r.name for r in board.matching(text, sort, T0 + 10)]  # noqa: E731
    assert names("vgpb") == ["VGPB_1.PR"]
    assert names("VG*") == ["VGI_2.PR", "VGPB_1.PR"]
    assert names("sector:1l") == ["VGI_2.PR"]
    assert names("status:invalid") == ["VGI_2.PR", "VVS_3.RR1"]
    assert names("status:bad VG*") == ["VGI_2.PR"]
    assert names("", "value") == ["VVS_3.RR1", "VGI_2.PR", "VGPB_1.PR"]


def test_rows_share_their_flag_sets_but_not_hostile_ones_and_keep_value_and_time_in_place() -> None:
    board = ScadaBoard()
    first = board.apply(record("VGPB_1.PR", 1e-10, T0), T0)
    second = board.apply(record("VGPB_2.PR", 3e-10, T0 + 1), T0)
    assert first is not None and second is not None
    assert first.flags is second.flags and first.flags == {"invalid": False, "out_of_range": False}
    assert (first.value, first.source_s, second.value) == (1e-10, T0, 3e-10)
    board.apply({**record("VGPB_1.PR", 7, T0 + 2), "type": "unsigned"}, T0)  # an int value, in place
    assert (first.value, first.source_s, first.type) == (7.0, T0 + 2, "unsigned")
    long_names = {"x" * 100_000: True, **{f"bit{n}": False for n in range(40)}}  # a hostile status
    third = board.apply({"id": "VGPB_3.PR", "value": 1e-9, "status": long_names}, T0)
    assert third is not None and third.flags == long_names and third.status == "x" * 100_000
    assert board.apply({"id": "VGPB_3.PR", "value": 2e-9, "status": long_names}, T0) is third
    assert third.flags is not first.flags


def test_a_trace_keeps_the_newest_points_oldest_first_in_flat_arrays() -> None:
    trace = Trace(capacity=4)
    assert list(trace) == [] and trace.since(0.0) == []
    for i in range(10):
        trace.append(T0 + i, i / 1e9)
    assert len(trace) == 4
    assert list(trace) == [(T0 + i, i / 1e9) for i in range(6, 10)]
    assert trace.since(T0 + 7.5) == [(T0 + 8, 8e-9), (T0 + 9, 9e-9)]
    trace.append(T0 + 10, float("inf"))  # odd values are kept as they came; the chart decides
    assert list(trace)[-1] == (T0 + 10, float("inf")) and len(trace) == 4


def test_the_board_feeds_the_alarm_book_with_source_times_and_the_invalid_flag() -> None:
    rules = [AlarmRule(match="VGPB*.PR", above=1e-8, min_s=10), AlarmRule(match="*", invalid=True, min_s=0)]
    board, book = ScadaBoard(), AlarmBook(rules)

    def feed(value: float, at: float, invalid: bool = False) -> list[str]:
        row = board.apply(record("VGPB_1.PR", value, at, invalid), at)
        assert row is not None
        changes = book.evaluate(row.name, row.value, row.source_s, bool(row.flags.get("invalid")))
        return [alarm.kind for alarm in changes.raised]

    assert feed(3e-8, T0) == [] and feed(3e-8, T0 + 5) == []  # above, but not yet for 10 s
    assert feed(3e-8, T0 + 10, invalid=True) == ["above", "invalid"]
    assert book.active_dpes() == {"VGPB_1.PR"} and book.unacknowledged == 2


DOCS = [
    {"@timestamp": "2027-01-15T08:00:10Z", "level": "INFO", "manager": "WCCOActrl", "type": "CTRL", "number": 4,
     "text": "Connection to (SYS: 1) established", "message": "WCCOActrl (2) ... established",
     "fields": {"app_id": "vac_lhc_1_scada_logs"}, "host": {"name": "cs-ccr-vac1"}, "event": {"id": "a"}},
    {"@timestamp": "2027-01-15T08:01:20Z", "level": "SEVERE", "manager": "WCCILdist", "type": "SYS", "number": 39,
     "text": "Connection lost", "message": "WCCILdist (0) ... Connection lost\n  Line: 17",
     "fields": {"app_id": "vac_sps_scada_logs"}, "host": {"name": "cs-ccr-vac2"}, "event": {"id": "b"}},
    {"@timestamp": "2027-01-15T08:01:40Z", "level": "SEVERE", "manager": "WCCILdist", "type": "SYS", "number": 39,
     "text": "Connection lost", "message": "WCCILdist (0) ... Connection lost", "tags": ["fragment"],
     "fields": {"app_id": "vac_sps_scada_logs"}, "host": {"name": "cs-ccr-vac2"}, "event": {"id": "c"}},
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("level:SEVERE", ["b", "c"]),
        ('"connection lost"', ["b", "c"]),
        ("manager:WCCI*", ["b", "c"]),
        ("connection and NOT level:SEVERE", ["a"]),
        ("not tags:fragment and level:SEVERE", ["b"]),
        ("level:severe", []),  # a keyword matches exactly, as in Elasticsearch
        ("level:(INFO or WARNING)", ["a"]),
        ("level:SEVERE or manager:WCCOActrl", ["a", "b", "c"]),
        ("tags:*", ["c"]),
        ("app:vac_sps_scada_logs AND host:cs-ccr-vac2", ["b", "c"]),
        ("number:39", ["b", "c"]),
        ("Line", ["b"]),
    ],
)
def test_the_live_query_matches_as_vac_query_would(query: str, ids: list[str]) -> None:
    check = compile_query(query)
    assert [doc["event"]["id"] for doc in DOCS if check(doc)] == ids  # type: ignore[index]


def test_the_live_query_refuses_what_it_cannot_do() -> None:
    with pytest.raises(UsageError, match="the live filter speaks KQL only"):
        compile_query("lucene:level:SEVERE OR level:FATAL")
    with pytest.raises(UsageError, match="quote at column 6 is not closed"):
        compile_query('text:"unclosed')


def test_the_log_window_drops_repeats_and_counts_per_minute_and_code() -> None:
    window = LogWindow(keep=100)
    for doc in [*DOCS, DOCS[0]]:
        window.add(dict(doc))
    assert window.received == 3
    minutes = window.per_minute(3, now_s=_epoch("2027-01-15T08:02:00Z"))
    assert [dict(counts) for _, counts in minutes] == [{"INFO": 1}, {"SEVERE": 2}, {}]
    assert window.top_codes(2) == [
        ("SYS/39", 2, "Connection lost"),
        ("CTRL/4", 1, "Connection to (SYS: 1) established"),
    ]
    window.set_filter(LogFilter(levels={"severe"}, host="vac2"))
    assert [d["event"]["id"] for d in window.shown()] == ["b", "c"]


def _epoch(stamp: str) -> float:
    from vac.timegrammar import epoch_seconds

    return epoch_seconds(stamp)


def test_the_fleet_keeps_each_components_latest_heartbeat() -> None:
    fleet = Fleet()
    fleet.apply({"host": "a", "component": "ship-logs", "time": "2027-01-15T08:00:10Z", "lines_per_s": 5.0,
                 "files": [{"behind_bytes": 100}, {"behind_bytes": 20}]}, 0)  # fmt: skip
    fleet.apply({"host": "a", "component": "ship-logs", "time": "2027-01-15T08:00:00Z", "lines_per_s": 1.0}, 0)
    fleet.apply({"no": "component"}, 0)
    fleet.apply({"host": "b", "component": "stream-scada", "time": "2027-01-15T08:00:00Z", "failed": 1,
                 "unknown": 40, "invalid_input": 2}, 0)  # fmt: skip
    member, streamer = fleet.listed()
    assert member.rate == 5.0 and member.behind == "120 B"
    assert streamer.errors == 43  # changes whose delivery is unknown are shown as problems too


def test_heartbeats_and_records_of_the_wrong_shape_are_read_without_failing() -> None:
    fleet = Fleet()
    heartbeat = {"host": "h", "component": "c", "time": 5, "rate": "fast",
                 "files": [{"behind_bytes": "x"}, {"behind_bytes": 4096}], "failed": "no",
                 "invalid_input": 2}  # fmt: skip
    fleet.apply(heartbeat, 7.0)
    [member] = fleet.listed()
    assert (member.last_s, member.rate, member.behind, member.errors) == (7.0, 0.0, "4,096 B", 2)
    window = LogWindow()
    path = {"file": {"path": "/logs/PVSS_II.log"}}
    docs = [{"log": {**path, "offset": offset}, "@timestamp": "9999-12-31T23:59:59-05:00"} for offset in (10, "x", 30)]
    for doc in docs:
        window.add(doc)
    assert window.neighbours(docs[2]) == ([docs[1], docs[0]], [])  # an offset that is not a number sorts first
    assert window.per_minute(30, 1_800_000_000)[-1][1] == {}
