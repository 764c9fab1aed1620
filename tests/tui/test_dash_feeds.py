"""Data from the readers' threads to the screen: a reader thread posts real batches (hostile
ones included) as `DashFeeds` does; the state is changed only on the app's own thread, screens
redraw at most `refresh_hz` times a second and not at all while nothing moves, and what came
from outside is shown escaped."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import orjson
from textual.widgets import DataTable, Static

from tests.tui.dash_fixture import NOW, change, log_doc
from tests.tui.test_dash_hostile import ESCAPES, MARKUP, assert_no_raw_controls
from tui.app import VacDash
from tui.screens.logs import LogsScreen
from tui.screens.scada import ScadaScreen
from vac.dash.state import DashFeeds, DashState
from vac.dash.updates import FeedProblem, Post, Update, log_records, scada_changes
from vac.settings import VacSettings

SETTINGS = VacSettings.model_validate({"dash": {"refresh_hz": 4}})


class OwnedState(DashState):
    """Records the thread of every change."""

    def __init__(self) -> None:
        super().__init__(SETTINGS, clock=NOW.timestamp)
        self.applied_on: set[int] = set()

    def apply(self, update: Update) -> None:
        self.applied_on.add(threading.get_ident())
        super().apply(update)


class ThreadFeeds(DashFeeds):
    """A reader thread that posts what `updates` yields, paced, like the Kafka readers do."""

    def __init__(self, updates: list[Update], every_s: float) -> None:
        super().__init__(SETTINGS)
        self.updates, self.every_s = updates, every_s
        self.done = threading.Event()
        self._reader: threading.Thread | None = None
        self.halt = threading.Event()

    def start(self, post: Post) -> None:
        def run() -> None:
            for update in self.updates:
                if self.halt.wait(self.every_s):
                    return
                post(update)
            self.done.set()

        self._reader = threading.Thread(target=run, name="test-reader", daemon=True)
        self._reader.start()

    def stop(self) -> None:
        self.halt.set()
        if self._reader is not None:
            self._reader.join(5)


def run_app(app: VacDash, steps: Any) -> None:
    async def go() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await steps(pilot)

    asyncio.run(go())


def test_updates_from_a_reader_thread_reach_the_screen_and_only_the_app_thread_changes_the_state() -> None:
    hostile = [("pressures", change(f"VGPB_[/]_{ESCAPES}.PR", 3.0e-6, 1, sector=MARKUP), 0)]
    updates: list[Update] = [FeedProblem("scada", "no connection to Kafka")]
    updates += [scada_changes([("pressures", change(f"VGI_{n}.PR", 1e-9 * (n + 1), 1), 0)]) for n in range(50)]
    updates += [scada_changes(hostile), FeedProblem("scada", "")]
    state = OwnedState()
    feeds = ThreadFeeds(updates, every_s=0.01)
    app = VacDash(state, feeds, screen="scada", clock=NOW.timestamp)

    async def steps(pilot: Any) -> None:
        assert feeds.done.wait(0) is False  # still posting while the screen is up
        for _ in range(40):
            await pilot.pause(0.1)
            if feeds.done.is_set() and state.changes == 51:
                break
        await pilot.pause(1.3)  # the tables catch up within a second
        assert state.changes == 51
        assert state.applied_on == {threading.get_ident()}  # the test runs on the app's thread
        table = app.screen.query_one("#dpes", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert len(names) == 51 and any(name.startswith("VGPB_[/]_\\x1b[2J") for name in names)
        assert_no_raw_controls(names)
        assert "Kafka" not in str(app.screen.query_one("#banner", Static).render())  # the problem went away

    run_app(app, steps)
    assert app.return_code in (None, 0)


def test_screens_redraw_at_most_refresh_hz_and_not_while_nothing_moves() -> None:
    batches = [log_records([("vac.logs", log_doc(n, "INFO", "WCCOActrl", 4, f"line {n}", 30), 0)]) for n in range(300)]
    state = OwnedState()
    feeds = ThreadFeeds(batches, every_s=0.005)  # 200 updates a second
    app = VacDash(state, feeds, screen="logs", clock=NOW.timestamp)
    redraws: list[int] = []
    original = LogsScreen.redraw

    def counting(self: LogsScreen, state: DashState, tables: bool) -> None:
        redraws.append(state.version)
        original(self, state, tables)

    async def steps(pilot: Any) -> None:
        assert isinstance(app.screen, LogsScreen)
        app.screen.redraw = counting.__get__(app.screen)  # type: ignore[method-assign]
        await pilot.pause(1.5)
        during = len(redraws)
        assert 2 <= during <= 4 * 1.5 + 2, redraws  # 4 a second at most, though 200 updates came each second
        for _ in range(40):
            if feeds.done.is_set():
                break
            await pilot.pause(0.1)
        await pilot.pause(1.3)  # the tables show the last of it within a second
        settled = len(redraws)
        await pilot.pause(1.0)
        assert len(redraws) == settled  # nothing moved: nothing redrawn
        assert state.logs.received == 300
        records = app.screen.query_one("#records", DataTable)
        assert str(records.get_row_at(records.row_count - 1)[5]) == "line 299"

    run_app(app, steps)


def test_a_hostile_record_posted_by_a_reader_does_not_end_the_app() -> None:
    odd = [orjson.dumps(v) for v in ({"id": "A.PR", "value": 1e308}, {"id": 5}, [], "x", None)]
    updates: list[Update] = [scada_changes([("pressures", value, -5) for value in [*odd, b"\x00\xff"]])]
    updates.append(log_records([("vac.logs", b'{"@timestamp": 5, "level": {"a": 1}, "message": "[/]"}', 0)]))
    state = OwnedState()
    app = VacDash(state, ThreadFeeds(updates, every_s=0.01), screen="scada", clock=NOW.timestamp)

    async def steps(pilot: Any) -> None:
        await pilot.pause(1.5)
        assert isinstance(app.screen, ScadaScreen)
        assert state.board.unreadable == 5 and "A.PR" in state.board.rows
        await pilot.press("3", "1", "2")
        await pilot.pause(0.3)
        assert app.is_running

    run_app(app, steps)
    assert app.return_code in (None, 0)
