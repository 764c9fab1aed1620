"""Screen 4: the pressure profile, the latest pressure of each gauge of a sector (or of the
whole ring) against DCUM on a log axis, live, and where the highest one is (`vac.dash.profile`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header, Input, Static

from tui.screens.base import DashScreen
from tui.widgets import Banner, ProfileChart, plain
from vac.dash.history import CHART_LIMIT
from vac.dash.profile import Profile, pressure_profile
from vac.dash.state import DashState


class ProfileScreen(DashScreen):
    AUTO_FOCUS = ""  # nothing: the number keys switch screens until / is pressed
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="profile.filter"),
        Binding("escape", "clear_filter", "Clear", show=False, id="profile.clear_filter"),
    ]
    always_redraw = False  # nothing here ages: it changes only with the data

    def compose(self) -> ComposeResult:
        yield Header()
        yield Banner(id="banner")
        yield Input(placeholder="/ filter: sector:S78  mainpart:ARC  VGPB*  (empty: the whole ring)",
                    id="profile-filter")  # fmt: skip
        yield ProfileChart(id="profile-chart")
        yield Static(id="profile-summary")
        yield Footer()

    def on_mount(self) -> None:
        self.filter_text = ""
        self.profile = Profile([], None, 0, 0)
        """What the chart shows now (the tests read it)."""

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "profile-filter":
            self.filter_text = event.value
            self._tick(force=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.set_focus(None)

    def action_focus_filter(self) -> None:
        self.query_one("#profile-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#profile-filter", Input).value = ""
        self.set_focus(None)

    def redraw(self, state: DashState, tables: bool) -> None:
        super().redraw(state, tables)
        if not tables:  # at most once a second, as the SCADA table: a chart of 10,000 dots costs as much
            return
        # A half-typed pattern (`VG[`, `VG[z-a]`) matches nothing: fnmatch never raises on one.
        self.profile = pressure_profile(state.board.rows.values(), self.filter_text, CHART_LIMIT)
        where = self.filter_text.strip() or "the whole ring"
        self.query_one(ProfileChart).show(self.profile, f"pressure along the ring: {where}")
        self.query_one("#profile-summary", Static).update(summary(self.profile, len(state.board.rows)))


def summary(profile: Profile, seen: int) -> Text:
    """The line under the chart: how many gauges, and where the highest is."""
    text = Text(f"{len(profile.points):,} gauge{'s' if len(profile.points) != 1 else ''}")
    highest = profile.highest
    if highest is not None:
        text.append(", highest: ")
        text.append_text(plain(highest.name, "bold"))
        text.append(f" {highest.value:.1e} mbar at DCUM {highest.dcum:,.0f} m (", style="bold")
        text.append_text(plain(highest.sector or "no sector"))
        text.append(", status not ok)" if not highest.ok else ")")
    else:
        text.append(f" with a position match ({seen:,} DPEs seen)")
    if profile.left_out:
        text.append(f"; {profile.left_out:,} left out (value <= 0, not finite or beyond {CHART_LIMIT:g})")
    if profile.unplaced:
        text.append(f"; {profile.unplaced:,} without a DCUM")
    return text
