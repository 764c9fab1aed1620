"""How updates travel from the dashboard's readers to the thread that owns its state: parsed
on the reader's thread (unreadable and hostile input included), through a bounded inbox that
makes readers wait and never the owner, applied by one thread; and the rules the screens ask
the core for (is the pipeline connected, what acknowledging a DPE means)."""

from __future__ import annotations

import dataclasses
import threading
import time

import orjson
import pytest

from vac.alarms.book import AlarmBook
from vac.dash.pipeline import PipelineSnapshot
from vac.dash.state import DashState
from vac.dash.updates import (
    INBOX_MOST,
    FeedProblem,
    Inbox,
    LogRecords,
    PipelineChecked,
    ScadaChanges,
    alarm_messages,
    heartbeats,
    log_records,
    scada_changes,
)
from vac.settings import AlarmRule, VacSettings

T0 = 1_800_000_000.0


def test_batches_are_parsed_into_frozen_updates_and_unreadable_input_is_kept_or_dropped_as_before() -> None:
    changes = scada_changes([
        ("p", orjson.dumps({"id": "VGPB_1.PR", "value": 1e-9}), 1_800_000_000_500),
        ("p", b"{not json", 0),
        ("p", b"\xff\xfe[/]\x1b[2J", -1),
    ])  # fmt: skip
    assert changes.records == (({"id": "VGPB_1.PR", "value": 1e-9}, 1_800_000_000.5), (None, None), (None, None))
    with pytest.raises(dataclasses.FrozenInstanceError):
        changes.records = ()  # type: ignore[misc]
    logs = log_records([("l", b'{"message": "[/]"}', 0), ("l", b"[1, 2]", 0), ("l", b"null", 0), ("l", b"{", 0)])
    assert logs.docs == ({"message": "[/]"},)  # only records that are objects
    beats = heartbeats([("h", b'{"component": "x"}', 0), ("h", b"3", 0), ("h", b"{", 0), ("h", b"null", 0)])
    assert beats.records == ({"component": "x"}, 3)  # the fleet itself ignores what is not an object


def test_the_owner_applies_updates_the_version_moves_and_unreadable_changes_are_counted() -> None:
    state = DashState(VacSettings(), clock=lambda: T0)
    state.apply(ScadaChanges(((None, None), ({"id": "VGPB_1.PR", "value": 5e-8}, None))))
    assert state.version == 1 and state.changes == 1 and state.board.unreadable == 1
    assert state.board.rows["VGPB_1.PR"].source_s == T0  # no time in the record or message: the owner's clock
    assert state.alarms.listed() == []  # the dashboard evaluates nothing: `vac alarms watch` does
    state.apply(LogRecords(({"message": "x", "event": {"id": "1"}}, {"message": "x", "event": {"id": "1"}})))
    assert state.version == 2 and state.logs.received == 1  # the repeat dropped by id
    raised = {"type": "state", "dpe": "VGPB_1.PR", "kind": "above", "message": "m", "raised_s": T0, "cleared_s": None}
    state.apply(alarm_messages([("vac.alarms", orjson.dumps(raised), 0), ("vac.alarms", b"\xff[/]", 0)]))
    assert [a.key for a in state.alarms.listed()] == [("VGPB_1.PR", "above")] and state.version == 3


def test_the_connection_problem_rule() -> None:
    state = DashState(VacSettings())
    assert state.connection_problem() == ""  # nothing known yet: no alarm bells
    state.apply(FeedProblem("scada", "no connection to Kafka"))
    assert state.connection_problem() == "Kafka: no connection to Kafka"  # before the first check, a reader speaks
    state.apply(PipelineChecked(PipelineSnapshot(kafka_up=False)))
    assert state.connection_problem() == "Kafka: no connection"
    state.apply(PipelineChecked(PipelineSnapshot(kafka_up=True, es_status=None)))
    assert state.connection_problem() == "Elasticsearch: no connection"  # the check decides once it answered
    state.apply(PipelineChecked(PipelineSnapshot(kafka_up=True, es_status="yellow")))
    assert state.connection_problem() == ""
    state.apply(FeedProblem("scada", ""))
    state.apply(PipelineChecked(PipelineSnapshot()))
    assert state.connection_problem() == ""  # the reader reads again


def test_a_pipeline_snapshot_cannot_change_once_made() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PipelineSnapshot().kafka_up = True  # type: ignore[misc]


def test_acknowledging_a_dpe_takes_all_its_alarms_and_with_none_selected_the_top_of_the_list() -> None:
    book = AlarmBook([AlarmRule(match="VG*", above=1e-8, min_s=0), AlarmRule(match="*", invalid=True, min_s=0)])
    book.evaluate("VGPB_1.PR", 5e-8, T0, invalid=True)
    book.evaluate("VGI_2.PR", 1.0, T0 + 5)
    assert [a.state for a in book.listed()] == ["active, NEW"] * 3
    book.acknowledge_dpe("VGPB_1.PR")
    assert {a.key: a.acked for a in book.listed()} == {
        ("VGPB_1.PR", "above"): True, ("VGPB_1.PR", "invalid"): True, ("VGI_2.PR", "above"): False,
    }  # fmt: skip
    book.acknowledge_dpe("no-such-DPE [/]")
    assert book.unacknowledged == 1
    book.acknowledge_dpe(None)
    assert book.unacknowledged == 0
    book.evaluate("VGI_2.PR", 1e-10, T0 + 9)  # cleared and acknowledged: it leaves
    assert [a.state for a in book.listed()] == ["active, acked", "active, acked"]


def test_the_inbox_is_bounded_makes_the_reader_wait_and_lets_it_go_when_closed() -> None:
    inbox = Inbox(most=2)
    posted: list[int] = []
    assert INBOX_MOST <= 8  # a bound in SCADA records too: each update carries up to 2,000 of them

    def reader() -> None:
        for n in range(4):
            inbox.post(FeedProblem("scada", str(n)))
            posted.append(n)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    time.sleep(0.5)
    assert posted == [0, 1]  # the third waits for room
    first = inbox.take(1.0, most=1)
    assert [u.problem for u in first if isinstance(u, FeedProblem)] == ["0"]
    time.sleep(0.5)
    assert posted == [0, 1, 2]
    assert [u.problem for u in inbox.take(1.0) if isinstance(u, FeedProblem)] == ["1", "2"]  # all there was
    time.sleep(0.5)
    assert posted == [0, 1, 2, 3]
    thread.join(2)
    stuck = threading.Thread(target=lambda: [inbox.post(FeedProblem("logs", "x")) for _ in range(3)], daemon=True)
    stuck.start()  # one more than there is room for
    time.sleep(0.5)
    assert stuck.is_alive()
    inbox.close()  # the owner stops: a reader waiting for room does not hang
    stuck.join(2)
    assert not stuck.is_alive()


def test_take_waits_only_as_long_as_asked_when_nothing_came() -> None:
    started = time.monotonic()
    assert Inbox().take(0.1) == []
    assert time.monotonic() - started < 1.0


def test_a_feed_bounds_what_librdkafka_fetches_ahead_of_the_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    """librdkafka's default prefetch (64 MB a consumer) sat in the dashboard's RSS while it caught
    up on its history: each feed's consumer is made with the bound (an operator may still set
    another in kafka.properties, which wins over vac's tuning), and librdkafka accepts the
    setting (a real consumer is made, with no broker to reach)."""
    import vac.dash.feeds as feeds_module

    made: list[dict[str, object]] = []
    real = feeds_module.new_consumer

    def recording(kafka, group, tuning=None, **kwargs):  # type: ignore[no-untyped-def]
        made.append(dict(tuning or {}))
        return real(kafka, group, tuning, **kwargs)

    monkeypatch.setattr(feeds_module, "new_consumer", recording)
    feed = feeds_module.TopicFeed(VacSettings(), ["t"], 60.0, on_batch=lambda batch: None)
    feed._stop.set()  # the reader makes its consumer, sees it is stopped and closes it
    feed._run()
    assert len(made) == 1
    assert made[0]["queued.max.messages.kbytes"] == feeds_module.PREFETCH_KB <= 16 * 1024
