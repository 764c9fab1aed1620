"""`vac dash` driven by Textual's Pilot over known contents: navigation, filtering, alarms
raised and acknowledged, the detail views, the lost-connection banner; and snapshots of every
screen at 80x24 and 120x40."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.helpers import closed_port
from tests.tui.dash_fixture import NOW, alarm_state, dashboard
from tui.app import VacDash
from tui.screens.dpe_detail import DpeDetail
from tui.screens.help import HelpScreen
from tui.screens.log_detail import LogDetail
from tui.screens.logs import LogsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.scada import ScadaScreen
from tui.screens.timeline import TimelineScreen
from tui.widgets import HistoryChart
from vac.dash.state import DashFeeds, DashState
from vac.settings import VacSettings


def drive(
    app: VacDash, steps: Callable[[Pilot[None], VacDash], Awaitable[None]], size: tuple[int, int] = (120, 40)
) -> None:
    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.3)
            await steps(pilot, app)

    asyncio.run(run())


def rows(app: VacDash, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def banner(app: VacDash) -> str:
    return str(app.screen.query_one("#banner", Static).render())


def test_number_keys_switch_screens_and_question_mark_opens_help() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("2")
        assert isinstance(app.screen, ScadaScreen)
        await pilot.press("3")
        assert isinstance(app.screen, LogsScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("1")
        assert isinstance(app.screen, OverviewScreen)
        assert rows(app, "topics")[0] == ["pressures", "9,950"]
        fleet = rows(app, "fleet")
        assert [r[:3] for r in fleet] == [["cs-ccr-vac1", "stream-scada", "3s"], ["cs-ccr-vac2", "ship-logs", "2m"]]

    drive(dashboard(), steps)


def test_typing_a_filter_narrows_the_dpe_table() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        assert len(rows(app, "dpes")) == 4
        await pilot.press("slash", *"sector:1L", "enter")
        await pilot.pause(0.3)
        assert [r[0] for r in rows(app, "dpes")] == ["VGI_3_300.PR", "VGR_4_400.PR"]
        await pilot.press("escape")  # clears the filter
        await pilot.pause(0.3)
        assert len(rows(app, "dpes")) == 4
        await pilot.press("slash", *"VGPB*", "enter")
        await pilot.pause(0.3)
        assert [r[0] for r in rows(app, "dpes")] == ["VGPB_1_100.PR", "VGPB_2_200.PR"]
        await pilot.press("slash", *"status:bad", "enter")  # / selects the filter: typing replaces it
        await pilot.pause(0.3)
        assert [r[0] for r in rows(app, "dpes")] == ["VGI_3_300.PR"]

    drive(dashboard("scada"), steps)


def test_alarms_from_the_topic_are_acknowledged_for_every_dashboard_and_leave_once_cleared() -> None:
    published: list[tuple[str, str | None]] = []

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        app.state.on_ack = lambda alarm: published.append((alarm.id, alarm.acked_by))
        app.state.user = "alice"
        alarms = rows(app, "alarms")
        assert [(r[1], r[3]) for r in alarms] == [("VGPB_2_200.PR", "active, NEW"), ("VGI_3_300.PR", "active, NEW")]
        assert "2 alarms to acknowledge" in banner(app)
        await pilot.press("tab")  # to the alarm list
        await pilot.press("a")
        await pilot.pause(0.3)
        assert [r[3] for r in rows(app, "alarms")] == ["active, NEW", "active, acked"]
        assert published == [("VGPB_2_200.PR/above", "alice")]  # to the alarm topic, with who
        assert "1 alarm to acknowledge" in banner(app)
        # The evaluator says the gauge cleared: the acknowledged alarm leaves, the other stays.
        app.state.take_alarms([("vac.alarms", alarm_state("VGPB_2_200.PR", "above", "42e-9 mbar", 2, 1), 0)])
        await pilot.pause(1.3)  # new data reaches the tables within a second
        assert [(r[1], r[3]) for r in rows(app, "alarms")] == [("VGI_3_300.PR", "active, NEW")]
        # Another dashboard's acknowledgement shows here too.
        ack = {"type": "ack", "dpe": "VGI_3_300.PR", "kind": "invalid", "raised_s": NOW.timestamp() - 12,
               "by": "bob", "at_s": NOW.timestamp()}  # fmt: skip
        app.state.take_alarms([("vac.alarms", orjson.dumps(ack), 0)])
        await pilot.pause(1.3)
        assert [(r[1], r[3]) for r in rows(app, "alarms")] == [("VGI_3_300.PR", "active, acked")]
        assert "to acknowledge" not in banner(app)

    drive(dashboard("scada"), steps)


def test_enter_opens_the_chart_of_a_dpe_and_the_whole_log_record() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        await pilot.press("down", "enter")  # the second row: VGPB_1_100.PR
        await pilot.pause(0.3)
        assert isinstance(app.screen, DpeDetail) and app.screen.dpe == "VGPB_1_100.PR"
        assert "250e-12 mbar" in str(app.screen.query_one("#detail-head", Static).render())
        await pilot.press("escape")
        await pilot.press("3")
        await pilot.pause(0.3)
        await pilot.press("up", "up", "enter")  # the SEVERE record with a continuation line
        await pilot.pause(0.3)
        assert isinstance(app.screen, LogDetail)
        shown = str(app.screen.query_one("#record", Static).render())
        assert "Connection lost\nLine: 17" in shown and "Connection lost to VGPB_2_200" in shown  # its neighbour

    drive(dashboard("scada"), steps)


def test_the_chart_of_a_pressure_survives_a_resize() -> None:
    """plotext 5 took the log of a log axis's data again on each build: the second build of a
    pressure's chart (a resize) ended the app with a math domain error."""

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        await pilot.press("down", "enter")  # VGPB_1_100.PR, 250e-12 mbar: a log axis
        await pilot.pause(0.3)
        assert isinstance(app.screen, DpeDetail)
        chart = app.screen.query_one(HistoryChart)
        assert "1e-10" in chart.plt.monitor.ylabels[0]  # labelled in decades
        for size in ((100, 30), (120, 40), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.2)
        assert app.is_running and isinstance(app.screen, DpeDetail)

    drive(dashboard("scada"), steps)


def test_the_log_screen_filters_by_query_and_by_errors() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        assert len(rows(app, "records")) == 5
        await pilot.press("e")
        await pilot.pause(0.3)
        assert {r[3] for r in rows(app, "records")} == {"SEVERE"}
        await pilot.press("e", "slash", *'manager:WCCOActrl and "connection lost"', "enter")
        await pilot.pause(0.3)
        assert [r[5] for r in rows(app, "records")] == ["Connection lost to VGPB_2_200"]
        assert rows(app, "codes")[0][:2] == ["CTRL/71", "1"]

    drive(dashboard("logs"), steps)


def test_a_lost_kafka_shows_on_the_screen() -> None:
    port = closed_port()
    settings = VacSettings.model_validate({
        "kafka": {"bootstrap_servers": f"127.0.0.1:{port}", "timeout_s": 2},
        "elasticsearch": {"hosts": [f"http://127.0.0.1:{port}"], "request_timeout_s": 2},
    })  # fmt: skip
    state = DashState(settings)
    app = VacDash(state, DashFeeds(settings, check_every_s=0.5))

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        for _ in range(40):
            if "Kafka: no connection" in banner(app):
                break
            await pilot.pause(0.25)
        assert "Kafka: no connection" in banner(app)
        assert "Kafka: DOWN" in str(app.screen.query_one("#services", Static).render())

    drive(app, steps)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", ["overview", "scada", "logs", "profile"])
def test_snapshot(snap_compare: Any, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(dashboard(screen), terminal_size=size, run_before=_settle)


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause(0.3)


def test_key_bindings_have_ids_and_can_be_remapped() -> None:
    app = dashboard("scada")
    app.set_keymap({"scada.sort": "o", "screen.logs": "l"})

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        await pilot.press("o")
        await pilot.pause(0.3)
        assert "sorted by value" in str(app.screen.query_one("#dpe-count", Static).render())
        await pilot.press("l")
        assert isinstance(app.screen, LogsScreen)

    drive(app, steps)


def test_enter_on_an_alarm_opens_its_timeline_with_the_matching_log_record() -> None:
    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        await pilot.press("tab")  # to the alarm list; the top row is VGPB_2_200.PR's
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, TimelineScreen)
        table = app.screen.query_one("#timeline", DataTable)
        entries = [[str(cell) for cell in table.get_row_at(n)] for n in range(table.row_count)]
        assert any(e[1] == "alarm" and e[3] == "VGPB_2_200.PR" and e[4].startswith("above raised") for e in entries)
        matching = [e for e in entries if e[1] == "log" and "VGPB_2_200" in e[4]]
        assert matching and matching[0][2] == "WARNING"  # the log record naming the gauge, in the window
        times = [e[0] for e in entries]
        assert times == sorted(times)  # merged by time
        await pilot.press("escape")
        assert isinstance(app.screen, ScadaScreen)

    drive(dashboard("scada"), steps)


def test_new_dpes_are_drawn_at_the_next_tick_and_mere_changes_wait_for_the_second() -> None:
    """Issue 18: the last values read at open show at once (the count line says when every DPE
    is there), while changes of DPEs already shown still rebuild the tables once a second."""
    import time

    from vac.dash.updates import ScadaChanges

    state = DashState(VacSettings())
    app = VacDash(state, None, screen="scada")

    def change(name: str, value: float) -> tuple[Any, None]:
        return ({"id": name, "value": value, "timestamp": "2026-12-03T10:00:00.000Z"}, None)

    async def steps(pilot: Pilot[None], app: VacDash) -> None:
        screen = app.screen
        assert isinstance(screen, ScadaScreen)
        count = screen.query_one("#dpe-count", Static)
        screen._tables_at = time.monotonic()  # the tables were just drawn: the second has not passed
        state.apply(ScadaChanges(tuple(change(f"VGPB_{n}_7L8_B.PR", 1e-9) for n in range(3))))
        screen._tick()
        assert "(3 seen)" in str(count.render())
        assert rows(app, "dpes")[0][1] == "1.00e-9"
        screen._tables_at = time.monotonic()
        state.apply(ScadaChanges((change("VGPB_0_7L8_B.PR", 5e-9),)))
        screen._tick()
        assert rows(app, "dpes")[0][1] == "1.00e-9"  # the same DPEs: the table waits for its second
        screen._tables_at = time.monotonic() - 1.0
        screen._tick()
        assert rows(app, "dpes")[0][1] == "5.00e-9"

    drive(app, steps)
