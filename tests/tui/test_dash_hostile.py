"""`vac dash` fed what anyone who can write to a topic may send: Rich markup, terminal escape
sequences, 1 MB values, right-to-left text and bidi overrides, combining characters, NUL. The
dashboard stays up, its screens still switch, and the hostile rows are shown as plain text
with their controls escaped."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import orjson
import pytest
from textual.widgets import DataTable, Static

from commands.dash import print_summary
from commands.main import run
from tests.tui.dash_fixture import NOW, change, filled_state, log_doc
from tui.app import VacDash
from tui.screens.dpe_detail import DpeDetail
from tui.screens.log_detail import LogDetail
from tui.screens.logs import LogsScreen
from tui.screens.overview import OverviewScreen
from tui.screens.scada import ScadaScreen

MARKUP = "[/] [bold unclosed [link=https://evil.example]click[/link] [/bold]"
ESCAPES = "\x1b[2J\x1b]0;owned\x07\x1b]8;;https://evil.example\x1b\\\x9b31m\x00"
BIDI = "\u202eSEVERE\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u2066x\u2069"
COMBINING = "Z\u0351\u0364\u036b\u0353\u0318a\u0346\u0352\u0315\u035bl\u0357\u0350g\u0300\u0301\u0302o"
HUGE = "A" * 1_000_000
HOSTILE = f"{MARKUP} {ESCAPES} {BIDI} {COMBINING}"


# JSON of the wrong shapes: numbers at float's edge, times at year 1 and 9999, strings for numbers.
ODD_LOGS: list[Any] = [
    {"@timestamp": 5, "level": {"a": 1}, "host": "str", "text": ["x"], "message": None, "manager": [1], "number": "x"},
    {"@timestamp": "9999-12-31T23:59:59Z", "level": None, "fields": "x", "event": {"id": [1]},
     "log": {"offset": "x", "file": {"path": "/logs/PVSS_II.log"}}},
    {"@timestamp": "0001-01-01T00:00:00+14:00", "message": "x", "number": 1e308, "type": {"x": 1}},
    {"@timestamp": "nonsense", "text": "", "message": ""},
    {},
]  # fmt: skip
ODD_HEALTH: list[Any] = [
    {"host": 5, "component": None, "time": 5, "rate": "fast", "files": "x", "failed": "no", "in_flight": "x"},
    {"host": "h", "component": "c", "time": "0001-01-01T00:00:00+14:00", "rate": 1e308,
     "files": [1, None, {"behind_bytes": "x"}]},
    [], "x", None, 3,
]  # fmt: skip
ODD_SCADA: list[Any] = [
    {"id": "A.PR", "value": 1e308, "timestamp": 5, "status": "x", "sector": None},  # first by name: its chart opens
    {"id": "B.RR1", "value": -1e308, "type": "unsigned", "timestamp": "0001-01-01T00:00:00+14:00"},
    {"id": "C.PR", "value": 0, "status": {"invalid": [1]}, "DCUM": {"a": 1}, "heartbeat": "yes"},
    {"id": "D.PR", "value": -5, "validityBit": "x"},
]  # fmt: skip


def hostile_state() -> Any:
    state = filled_state()
    state.take_logs([("vac.logs", orjson.dumps(doc), 0) for doc in ODD_LOGS])
    state.take_health([("vac.health", orjson.dumps(record), 0) for record in ODD_HEALTH])
    state.take_scada([("pressures", orjson.dumps(record), 0) for record in ODD_SCADA])
    state.take_scada([
        ("pressures", change(f"VGPB_[/]_{ESCAPES}.PR", 3.0e-6, 1, sector=MARKUP), 0),
        ("pressures", change(f"VGI_{BIDI}.PR", 2.0e-9, 1, sector=HUGE), 0),
        ("pressures", change(f"VGR_{COMBINING}[bold.PR", 1.0e-9, 1, sector=ESCAPES), 0),
        ("pressures", orjson.dumps({"id": "VVS_9.RR1", "value": 1e308 * 10, "type": "unsigned"}), 0),
    ])  # fmt: skip
    state.take_logs([
        ("vac.logs", log_doc(500, "SEVERE", f"WCC[/]{ESCAPES}", 77, HOSTILE, 20), 0),
        ("vac.logs", log_doc(600, "[bold", "WCCOActrl", 78, HUGE, 15), 0),
        ("vac.logs", log_doc(700, f"\u202e{MARKUP}", BIDI, 79, f"line one {ESCAPES}\nline two [/]", 10), 0),
    ])  # fmt: skip
    hostile_host = {"host": f"cs-{MARKUP}{ESCAPES}", "component": BIDI, "time": "2026-11-28T03:07:29Z",
                    "rate": 1.0, "files": [{"behind_bytes": 1}], "failed": 0}  # fmt: skip
    state.take_health([("vac.health", orjson.dumps(hostile_host), 0)])
    return state


def cells(app: VacDash, table_id: str) -> list[str]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [str(cell) for index in range(table.row_count) for cell in table.get_row_at(index)]


def assert_no_raw_controls(shown: list[str]) -> None:
    for text in shown:
        assert not any(char in text for char in "\x1b\x07\x00\x9b\u202e\u2066"), repr(text[:200])


def test_hostile_text_is_shown_plainly_and_the_dashboard_stays_up() -> None:
    app = VacDash(hostile_state(), feeds=None, screen="logs", clock=NOW.timestamp)

    async def run_it() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            records = cells(app, "records")
            assert_no_raw_controls(records)
            shown = " ".join(records)
            assert "[/] [bold unclosed [link=https://evil.example]click[/link]" in shown  # the markup, as text
            assert "\\x1b[2J\\x1b]0;owned\\x07" in shown and "\\u202eSEVERE" in shown
            assert COMBINING in shown and "\u05e9\u05dc\u05d5\u05dd" in shown  # text that is only text stays
            assert max(len(cell) for cell in records) <= 500  # a 1 MB line is cut to what a cell shows
            assert_no_raw_controls(cells(app, "codes"))
            await pilot.press("end", "enter")  # the whole of the newest record: its two lines
            await pilot.pause(0.3)
            assert isinstance(app.screen, LogDetail)
            record = str(app.screen.query_one("#record", Static).render())
            assert "line one \\x1b[2J" in record and "\nline two [/]" in record
            assert_no_raw_controls([record])
            await pilot.press("escape", "2")
            await pilot.pause(0.3)
            assert isinstance(app.screen, ScadaScreen)
            dpes = cells(app, "dpes")
            assert_no_raw_controls(dpes + cells(app, "alarms"))
            assert any(cell.startswith("VGPB_[/]_\\x1b[2J") for cell in dpes)
            await pilot.press("slash", *"VGPB_[", "enter")  # a filter typed with a bracket
            await pilot.pause(0.3)
            await pilot.press("escape", "home", "enter")  # the chart of A.PR at 1e308
            await pilot.pause(0.3)
            assert isinstance(app.screen, DpeDetail) and app.screen.dpe == "A.PR"
            await pilot.press("escape", "1")
            await pilot.pause(0.3)
            assert isinstance(app.screen, OverviewScreen)
            fleet = cells(app, "fleet")
            assert_no_raw_controls(fleet)
            assert any("cs-[/] [bold unclosed" in cell for cell in fleet)
            await pilot.press("3")
            await pilot.pause(0.3)
            assert isinstance(app.screen, LogsScreen)
            await pilot.press("slash", *"[/] [bold", "enter")  # a query of markup is a query
            await pilot.pause(0.3)
            await pilot.press("escape", "e", "home", "enter", "escape", "e", "2", "s", "s", "s", "s", "s", "s", "1")
            await pilot.pause(0.5)  # every sort over odd values, and back to the overview
            assert app.is_running and app.return_code is None

    asyncio.run(run_it())
    assert app.return_code in (None, 0)


def test_an_internal_error_of_the_dashboard_is_not_exit_status_0(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: VacDash) -> None:
        self._return_code = 1  # what Textual sets when an exception ends the app

    monkeypatch.setattr(VacDash, "run", crash)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setenv("VAC_CONFIG", "")
    assert run(["dash"]) == 1


def test_the_summary_without_a_terminal_shows_escape_sequences_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    print_summary({"elasticsearch": f"red {ESCAPES}", "fleet": [{"host": f"cs-{MARKUP}"}]})  # a server's answer
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "elasticsearch: red \\x1b[2J\\x1b]0;owned\\x07" in out and "cs-[/] [bold unclosed" in out
