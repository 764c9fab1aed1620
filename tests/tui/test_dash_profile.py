"""The dashboard's profile screen (`4`) driven by Pilot over the 9,927 gauges of the shared LHC
config, placed by their names: every gauge of a sector is charted, the spike is named, the
filter narrows, the axis is log, it follows new values, and hostile input keeps it up."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from textual.pilot import Pilot
from textual.widgets import Static

from tests.helpers import LHC_DPES
from tests.tui.dash_fixture import NOW, filled_state, iso
from tests.tui.test_dash_hostile import ESCAPES, MARKUP, assert_no_raw_controls, hostile_state
from tui.app import VacDash
from tui.screens.help import HelpScreen
from tui.screens.logs import LogsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.profile import ProfileScreen
from tui.screens.scada import ScadaScreen
from tui.widgets import ProfileChart
from vac.dash.state import DashState
from vac.records.positions import Position, position_of
from vac.settings import VacSettings

SPIKE = "VGPB_2_7L8_B.PR"
NAMES: list[str] = [entry["sourceDPE"] for entry in orjson.loads(LHC_DPES.read_bytes())]


def placed(name: str) -> Position:
    position = position_of(name)
    assert position is not None, name
    return position


def gauges_of(sector: str, mainpart: str = "") -> list[str]:
    return [
        name for name in NAMES
        if name.endswith(".PR") and (p := position_of(name)) is not None and p.sector == sector
        and mainpart in p.mainpart
    ]  # fmt: skip


def scada(record: dict[str, Any]) -> tuple[str, bytes, int]:
    return ("pressures", orjson.dumps(record), 0)


def lhc(state: DashState, spike: str = SPIKE, spike_value: float = 3.2e-7) -> DashState:
    """Every DPE of the shared LHC config with the config's placeholders, as the streamer sends
    them, at 1e-10 to 7e-10 mbar, and one spike."""
    at = iso(NOW)
    state.take_scada([
        scada({"id": name, "value": spike_value if name == spike else 1e-10 * (1 + i % 7), "timestamp": at,
               "sector": "VACSECPR123", "mainpart": "LSS1", "DCUM": "125", "type": "float"})
        for i, name in enumerate(NAMES)
    ])  # fmt: skip
    return state


def drive(state: DashState, steps: Callable[[Pilot[None], VacDash], Awaitable[None]], screen: str = "overview") -> None:
    app = VacDash(state, feeds=None, screen=screen, clock=NOW.timestamp)

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            await steps(pilot, app)
            assert app.is_running and app.return_code is None

    asyncio.run(run())


def summary(app: VacDash) -> str:
    return str(app.screen.query_one("#profile-summary", Static).render())


def chart(app: VacDash) -> ProfileChart:
    return app.screen.query_one(ProfileChart)


def plotted(app: VacDash) -> list[tuple[float, float]]:
    """The (DCUM, y) dots of the chart, the highest's red mark last."""
    monitor = chart(app).plt.monitor
    return [(x, y) for xs, ys in zip(monitor.x, monitor.y, strict=True) for x, y in zip(xs, ys, strict=True)]


async def type_filter(pilot: Pilot[None], text: str) -> None:
    await pilot.press("escape", "slash", *text, "enter")
    await pilot.pause(0.3)


def test_a_sector_s_gauges_are_all_charted_on_a_log_axis_and_the_spike_is_named() -> None:
    s78 = gauges_of("S78")
    spike_at = placed(SPIKE)

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        await pilot.press("4")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ProfileScreen)
        ring = len([name for name in NAMES if name.endswith(".PR") and position_of(name)]) + 4  # + the fixture's
        assert summary(app).startswith(f"{ring:,} gauges, highest: VGR_4_400.PR 3.3e-03 mbar at DCUM 23,000 m")
        await type_filter(pilot, "sector:S78")
        assert len(s78) > 1000
        assert summary(app) == (
            f"{len(s78):,} gauges, highest: {SPIKE} 3.2e-07 mbar at DCUM {float(spike_at.dcum_text):,.0f} m (S78)"
        )
        assert sorted(p.name for p in app.screen.profile.points) == sorted(s78)  # type: ignore[attr-defined]
        dots = plotted(app)
        assert len(dots) == len(s78) + 1  # and the red mark on the spike
        assert dots[-1] == (float(spike_at.dcum_text), math.log10(3.2e-7))
        assert sorted(y for _, y in dots[:-1]) == sorted(math.log10(p.value) for p in app.screen.profile.points)  # type: ignore[attr-defined]
        monitor = chart(app).plt.monitor
        decades = dict(zip(monitor.yticks[0], monitor.ylabels[0], strict=True))  # plotext keeps no order
        assert decades == {-10.0: "1e-10", -9.0: "1e-9", -8.0: "1e-8", -7.0: "1e-7", -6.0: "1e-6"}  # log, in decades
        assert monitor.vcoord[0] == [float(spike_at.dcum_text)]  # the line down the chart at the spike
        assert "DCUM (m)" in str(monitor.xlabel) and "sector:S78" in str(monitor.title)

    drive(lhc(filled_state()), steps)


def test_the_filter_narrows_the_profile_and_esc_returns_to_the_ring() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        ring = len(app.screen.profile.points)  # type: ignore[attr-defined]
        await type_filter(pilot, "sector:S81")
        assert summary(app).startswith(f"{len(gauges_of('S81')):,} gauges")
        await type_filter(pilot, "sector:S81 mainpart:ARC")
        arc = gauges_of("S81", "ARC")
        assert 0 < len(arc) < len(gauges_of("S81"))
        assert summary(app).startswith(f"{len(arc):,} gauges")
        await type_filter(pilot, "VGPB* sector:S81")
        assert {p.name[:4] for p in app.screen.profile.points} == {"VGPB"}  # type: ignore[attr-defined]
        await type_filter(pilot, "sector:S99")
        assert summary(app) == "0 gauges with a position match (9,931 DPEs seen)"
        assert plotted(app) == []
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert len(app.screen.profile.points) == ring  # type: ignore[attr-defined]
        await pilot.press("2")  # the filter let go of the keys: they switch screens again
        assert isinstance(app.screen, ScadaScreen)

    drive(lhc(filled_state()), steps, screen="profile")


def test_the_profile_follows_new_values() -> None:
    moved = "VGR_509_31R8_R.PR"  # in the arc of S81

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        assert f"highest: {SPIKE} 3.2e-07 mbar" in summary(app)
        app.state.take_scada([scada({"id": moved, "value": 4.5e-5, "timestamp": iso(NOW), "sector": "VACSECPR123",
                                     "mainpart": "LSS1", "DCUM": "125"})])  # fmt: skip
        await pilot.pause(1.3)  # the chart is redrawn at most once a second
        at = float(placed(moved).dcum_text)
        assert f"highest: {moved} 4.5e-05 mbar at DCUM {at:,.0f} m (S81)" in summary(app)
        assert plotted(app)[-1] == (at, math.log10(4.5e-5))

    state = lhc(DashState(VacSettings(), clock=NOW.timestamp))
    drive(state, steps, screen="profile")


def test_a_hidden_profile_costs_nothing_and_is_current_when_shown_again() -> None:
    moved = "VGR_509_31R8_R.PR"

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        profile_screen = app.screen
        assert isinstance(profile_screen, ProfileScreen)
        await pilot.press("1")
        app.state.take_scada([scada({"id": moved, "value": 4.5e-5, "timestamp": iso(NOW), "sector": "VACSECPR123",
                                     "mainpart": "LSS1", "DCUM": "125"})])  # fmt: skip
        await pilot.pause(1.3)
        assert (
            profile_screen.profile.highest is not None and profile_screen.profile.highest.name == SPIKE
        )  # not redrawn
        await pilot.press("4")
        await pilot.pause(0.1)  # less than the second between two redraws: shown again, drawn at once
        assert app.screen is profile_screen and f"highest: {moved} 4.5e-05 mbar" in summary(app)

    drive(lhc(DashState(VacSettings(), clock=NOW.timestamp)), steps, screen="profile")


def test_hostile_gauges_and_filters_leave_the_profile_up_and_plain() -> None:
    state = lhc(hostile_state())
    odd: list[tuple[str, float, Any]] = [
        ("HUGE", 1e308, "500"), ("NEG", -1e308, "600"), ("ZERO", 0, "700"), ("TINY", 5e-324, "800"),
        ("FAR", 1e-9, "1e400"), ("NAN", 1e-9, "NaN"), ("TEXT", 1e-9, f"[bold]{ESCAPES}"), ("LIST", 1e-9, [1]),
    ]  # fmt: skip
    state.take_scada(
        [scada({"id": f"VGPB_{MARKUP}{ESCAPES}.PR", "value": 5e-2, "DCUM": "1234", "sector": f"S78{ESCAPES}"})]
        + [scada({"id": f"{name}.PR", "value": value, "DCUM": dcum}) for name, value, dcum in odd]
        + [
            scada({"id": f"X_{i}_12R1.PR", "value": 10.0 ** -(2 + i % 300), "timestamp": iso(NOW)})
            for i in range(2_000)
        ]
    )

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        assert len(app.state.board.rows) > 10_000
        shown = summary(app)
        assert_no_raw_controls([shown, str(chart(app).plt.monitor.title)])
        assert shown.split(" gauges")[0].replace(",", "").isdigit()
        assert f"highest: VGPB_{MARKUP}\\x1b[2J" in shown  # the markup as text, the escape escaped
        assert "mbar at DCUM 1,234 m (S78\\x1b[2J" in shown
        assert "left out (value <= 0, not finite or beyond 1e+200)" in shown and "without a DCUM" in shown
        for text in ("[/] [bold", "sector:[", f"VG{ESCAPES}", "VG[z-a]*", "mainpart:*"):
            await type_filter(pilot, text)
            assert_no_raw_controls([summary(app), str(chart(app).plt.monitor.title)])
        for size in ((80, 24), (200, 60), (120, 40)):  # a resize builds the chart again
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
        for key, screen in (("1", OverviewScreen), ("2", ScadaScreen), ("3", LogsScreen), ("4", ProfileScreen)):
            await pilot.press("escape", key)
            await pilot.pause(0.3)
            assert isinstance(app.screen, screen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")

    drive(state, steps, screen="profile")
