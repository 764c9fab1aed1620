"""`vac dash`: the on-call screen. The app owns a `vac.dash.state.DashState` on its own (UI)
thread: background readers (`DashFeeds`) post immutable updates into a bounded `Inbox`, a
Textual thread worker hands what arrived to the UI thread in one call, and every screen
redraws at most `dash.refresh_hz` times a second, only when the state moved, whatever the
input rate. The screens live in `tui/screens/`, shared widgets in `tui/widgets.py`, the
layout in `tui/vac.tcss`."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import get_current_worker

from tui.screens.help import HelpScreen
from tui.screens.logs import LogsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.profile import ProfileScreen
from tui.screens.scada import ScadaScreen
from vac.dash.history import HistoryReader
from vac.dash.state import DashFeeds, DashState
from vac.dash.updates import Inbox, Update
from vac.heap import trim

HAND_OVER_WAIT_S = 0.2
"""How long the hand-over worker waits for an update before it looks whether to stop."""
HAND_OVER_MOST = 4
"""Updates applied in one go on the UI thread: a reader's batch is at most 2,000 records
(about 20 ms to apply), so catching up on history never holds a key press for long."""
TRIM_S = 3.0
"""How often the freed heap is handed back (`vac.heap.trim`: a few ms each time)."""


class VacDash(App[None]):
    TITLE = "vac dash"
    CSS_PATH = "vac.tcss"
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen, "scada": ScadaScreen, "logs": LogsScreen, "profile": ProfileScreen,
    }  # fmt: skip
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('overview')", "Overview", id="screen.overview"),
        Binding("2", "switch_mode('scada')", "SCADA", id="screen.scada"),
        Binding("3", "switch_mode('logs')", "Logs", id="screen.logs"),
        Binding("4", "switch_mode('profile')", "Profile", id="screen.profile"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        state: DashState,
        feeds: DashFeeds | None,
        screen: str = "overview",
        clock: Callable[[], float] = time.time,
        history: HistoryReader | None = None,
    ) -> None:
        super().__init__()
        self.state = state
        self.feeds = feeds
        self.history = history
        """Where a DPE's chart reads its past (None: the live values alone)."""
        self.inbox = Inbox()
        self.start_screen = screen
        self.now = clock
        """Wall-clock seconds; tests pin it so ages and histograms stay put."""

    def on_mount(self) -> None:
        if self.feeds is not None:
            self.state.on_ack = self.feeds.publish_ack  # acknowledgements go to every dashboard
            self.feeds.start(self.inbox.post)
            self.run_worker(self._hand_over, name="dash-hand-over", thread=True, exit_on_error=True)
            self.set_interval(TRIM_S, trim)  # what the parsed batches freed goes back to the OS
        self.switch_mode(self.start_screen)

    def on_unmount(self) -> None:
        self.inbox.close()  # first: a reader waiting for room in it lets go
        if self.feeds is not None:
            self.feeds.stop()

    def _hand_over(self) -> None:
        """A thread worker: what the readers posted goes to the UI thread, all that arrived
        in one call, and this waits until it is applied (so the inbox, not the app's message
        queue, is what fills when the screen falls behind)."""
        worker = get_current_worker()
        while not worker.is_cancelled and not self.inbox.closed:
            updates = self.inbox.take(HAND_OVER_WAIT_S, HAND_OVER_MOST)
            if not updates:
                continue
            try:
                self.call_from_thread(self._apply, updates)
            except (RuntimeError, concurrent.futures.CancelledError):
                return  # the app stopped meanwhile

    def _apply(self, updates: list[Update]) -> None:
        for update in updates:
            self.state.apply(update)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
