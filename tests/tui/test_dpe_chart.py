"""A DPE's chart: the history Elasticsearch holds over the chosen range (a stand-in reader here:
the query itself runs against the real cluster in tests/integration/test_scada_history.py),
joined to the live values, with clock time on x and decades on a log y axis."""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from tests.tui.dash_fixture import NOW, change, filled_state
from tui.app import VacDash
from tui.screens.dpe_detail import DpeDetail
from tui.widgets import HistoryChart
from vac.dash.history import HistoryReader
from vac.search.scada_history import Bucket, BucketedHistory
from vac.settings import VacSettings

NOW_S = NOW.timestamp()


class Indexed(HistoryReader):
    """Answers what a test says the index holds, and remembers what it was asked."""

    def __init__(self, buckets: list[Bucket], note: str = "") -> None:
        super().__init__(VacSettings())
        self.buckets, self.note, self.asked = buckets, note, []  # type: ignore[var-annotated]

    def read(self, dpe: str, since_s: float, until_s: float) -> tuple[BucketedHistory | None, str]:
        self.asked.append((dpe, round(until_s - since_s)))
        if self.note:
            return None, self.note
        kept = [b for b in self.buckets if since_s <= b.at_s < until_s]
        return BucketedHistory(kept, max((b.at_s for b in kept), default=None)), ""


def chart_text(app: VacDash) -> str:
    rendered = app.screen.query_one(HistoryChart).render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


def run(app: VacDash, steps) -> None:  # type: ignore[no-untyped-def]
    async def go() -> None:
        async with app.run_test(size=(140, 44)) as pilot:
            await pilot.pause(0.3)
            await steps(pilot)

    asyncio.run(go())


def test_the_chart_draws_the_indexed_day_on_decades_with_clock_time_and_the_live_end() -> None:
    # A day of slices: quiet at 1e-10, a spike to 3e-7 six hours ago; then the live values.
    day = [Bucket(NOW_S - 86_400 + i * 600, 1e-10, 3e-7 if i == 108 else 2e-10, 60) for i in range(144)]
    reader = Indexed(day)
    state = filled_state()
    app = VacDash(state, feeds=None, screen="scada", clock=lambda: NOW_S, history=reader)

    async def steps(pilot) -> None:  # type: ignore[no-untyped-def]
        app.push_screen(DpeDetail("VGPB_1_100.PR"))
        await pilot.pause(0.5)
        assert reader.asked == [("VGPB_1_100.PR", 3_600)]  # the hour first
        shown = chart_text(app)
        assert "last 1h" in shown and "360 indexed changes" in shown  # the six 10-minute slices of the hour
        assert "1e-10" in shown and "1e-9" in shown  # a log axis labelled in decades
        assert datetime.fromtimestamp(NOW_S - 3_600).strftime("%H:%M") in shown  # clock time on x
        await pilot.press("d")
        await pilot.pause(0.5)
        assert reader.asked[-1] == ("VGPB_1_100.PR", 86_400)
        shown = chart_text(app)
        assert "last 24h" in shown and f"{144 * 60:,} indexed changes" in shown
        assert "1e-7" in shown and "1e-10" in shown  # the spike raised the axis by three decades
        keys = str(app.screen.query_one("#detail-keys", Static).render())
        assert "[24h]" in keys
        await pilot.press("r")  # 24 h -> 7 d: the weekday on the axis
        await pilot.pause(0.5)
        assert reader.asked[-1] == ("VGPB_1_100.PR", 604_800)
        assert datetime.fromtimestamp(NOW_S - 604_800).strftime("%a") in chart_text(app)
        # A live value newer than the newest slice lands on the chart at once.
        app.state.take_scada([("pressures", change("VGPB_1_100.PR", 5e-6, 0), 0)])
        await pilot.pause(1.3)
        shown = chart_text(app)
        assert "live" in shown and "1e-5" in shown

    run(app, steps)


def test_without_elasticsearch_the_chart_says_so_and_shows_the_live_values() -> None:
    reader = Indexed([], note="Elasticsearch: no connection; live values only")
    state = filled_state()
    for seconds_ago in (40, 30, 20, 10):
        state.take_scada([("pressures", change("VGPB_1_100.PR", 10.0 ** -(seconds_ago / 4), seconds_ago), 0)])
    app = VacDash(state, feeds=None, screen="scada", clock=lambda: NOW_S, history=reader)

    async def steps(pilot) -> None:  # type: ignore[no-untyped-def]
        app.push_screen(DpeDetail("VGPB_1_100.PR"))
        await pilot.pause(0.5)
        shown = chart_text(app)
        assert "no connection; live values only" in shown and "5 live" in shown  # 4 here + the fixture's
        assert "1e-10" in shown and "1e-2" in shown

    run(app, steps)


def test_odd_values_are_left_off_the_chart_and_counted_and_the_app_stays_up() -> None:
    odd = [Bucket(NOW_S - 3_000, 1e-9, 1e308, 1), Bucket(NOW_S - 2_000, float("nan"), 1e-9, 1),
           Bucket(NOW_S - 1_000, -5.0, 1e-9, 1), Bucket(NOW_S - 500, 1e-9, 2e-9, 3)]  # fmt: skip
    app = VacDash(filled_state(), feeds=None, screen="scada", clock=lambda: NOW_S, history=Indexed(odd))
    name = "VGPB_[/]_\x1b[2J.PR"

    async def steps(pilot) -> None:  # type: ignore[no-untyped-def]
        app.state.take_scada([("pressures", change(name, 1e-300, 1), 0)])
        app.push_screen(DpeDetail(name))
        await pilot.pause(0.5)
        shown = chart_text(app)
        assert "4 beyond" in shown and "not drawn" in shown  # three slices and the 1e-300 live value
        assert "\x1b" not in shown and "VGPB_[/]_\\x1b[2J.PR" in shown
        await pilot.press("w", "h", "escape")
        await pilot.pause(0.3)
        assert app.is_running and not isinstance(app.screen, DpeDetail)

    run(app, steps)
