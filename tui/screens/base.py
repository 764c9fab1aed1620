"""What the mode screens share: the banner, and redrawing from the state at most
`dash.refresh_hz` times a second, only when it moved (or when time moves what it shows)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from textual.screen import Screen

from tui.widgets import Banner
from vac.dash.state import DashState

if TYPE_CHECKING:
    from tui.app import VacDash

TABLES_EVERY_S = 1.0


class DashScreen(Screen[None]):
    """A screen that redraws from the app's state when it changed. The state belongs to this
    (the UI) thread: the readers' updates are applied here too, so nothing is locked."""

    always_redraw = True
    """Ages and connection states move with time, not only with data."""

    def on_mount(self) -> None:
        # Textual calls the on_mount of every class in the MRO, the subclass's first (its
        # table columns exist before the first redraw): a subclass calling this again would
        # start a second timer and redraw twice as often.
        self._drawn_version = -1
        self._tables_version = -1
        """The version the tables show: data that came just after they were drawn is drawn
        with the next tables, even when nothing moves after it."""
        self._tables_at = 0.0
        self._tables_dpes = -1
        """The DPEs the tables showed when drawn."""
        self.set_interval(1 / self.state.settings.dash.refresh_hz, self._tick)
        self._tick(force=True)

    def on_screen_resume(self) -> None:
        # Back in view (a number key, or a modal closed over it): drawn at once, not within a second.
        self._tick(force=True)

    @property
    def dash(self) -> VacDash:
        return cast("VacDash", self.app)

    @property
    def state(self) -> DashState:
        return self.dash.state

    def _tick(self, force: bool = False) -> None:
        """Redraw; the big tables at most once a second unless the operator just asked for
        something (`force`): rebuilding them is what costs, and a second is what ages show."""
        if not force and self not in self.app.screen_stack:
            return  # another mode's screen is showing: this one catches up when it is back
        state = self.state
        drawn = state.version == self._drawn_version == self._tables_version
        if drawn and not self.always_redraw and not force:
            return
        # New DPEs (the last values at open, a DPE seen for the first time) are drawn at the next
        # tick, not up to a second later: the SCADA screen's count line says when every DPE is
        # there (issue 18: from start to every DPE shown). At most `refresh_hz` while they come.
        new_dpes = len(state.board.rows) != self._tables_dpes
        tables = force or new_dpes or time.monotonic() - self._tables_at >= TABLES_EVERY_S
        if tables:
            self._tables_at = time.monotonic()
            self._tables_version = state.version
            self._tables_dpes = len(state.board.rows)
        self._drawn_version = state.version
        self.redraw(state, tables)

    def redraw(self, state: DashState, tables: bool) -> None:
        """What every screen shows: the banner. Screens add theirs after calling this."""
        self.query_one(Banner).show(state)
