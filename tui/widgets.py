"""What the screens share: the plain-text path every outside value goes through, the small
formatters, and the widgets more than one screen (or a later one) draws with.

Everything shown that came from outside (topic data, log text, DPE names, hosts, server
errors) goes through `plain`: a Rich `Text` (Textual parses a bare `str` in a cell or a
Static as markup, and `[/]` in a log line would end the app) with controls escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from vac.dash.history import CHART_LIMIT, ChartData
from vac.dash.profile import Profile
from vac.dash.scada_board import DpeRow
from vac.dash.state import DashState
from vac.printable import printable
from vac.units import decade_ticks, engineering

LEVEL_STYLES = {"FATAL": "bold red", "SEVERE": "red", "ERROR": "red", "WARNING": "yellow", "WARN": "yellow"}
CELL_CHARS = 200
"""A table cell shows at most this much of a value: a 1 MB log line costs what a screen shows."""
DETAIL_CHARS = 20_000
"""The most of one record the detail view shows."""
LEVEL_ORDER = ["FATAL", "SEVERE", "ERROR", "WARNING", "WARN", "INFO"]


def plain(value: object, style: str = "", limit: int = CELL_CHARS) -> Text:
    """Outside data as something to read: never markup, controls escaped, cut to `limit`."""
    return Text(printable(str(value), limit), style=style)


def lines(message: object) -> str:
    """A record's message for reading: its own lines kept, everything else escaped."""
    return printable(str(message), DETAIL_CHARS, keep_newlines=True)


def clock(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s).strftime("%H:%M:%S") if epoch_s else "-"


def age(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def dpe_value(row: DpeRow) -> str:
    """A DPE's value as operators read it: status words in hex, the rest in engineering notation."""
    if (row.type == "unsigned" or row.name.endswith(".RR1")) and math.isfinite(row.value):
        return f"0x{int(row.value):X}"
    return engineering(row.value)


def severity(level: str) -> int:
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else len(LEVEL_ORDER)


def log_axis(plot: Plot, values: Sequence[float]) -> list[float]:
    """A log y axis by hand: `values` (all > 0) as their log10, to draw on plotext's linear
    axis, with ticks at whole decades labelled `1e-9`. plotext 5's own `yscale("log")` takes
    the logarithm of its data in place each time it builds (plotext issue #209), and Textual
    builds again on every resize or refresh: the second build takes the log of logs and ends
    the app with a math domain error."""
    ticks = decade_ticks(min(values), max(values))
    plot.yticks([float(k) for k in ticks], [f"1e{k}" for k in ticks])
    return [math.log10(value) for value in values]


class Banner(Static):
    """The line on every screen: connection problems and unacknowledged alarms."""

    def show(self, state: DashState) -> None:
        text = Text()
        problem = state.connection_problem()
        if problem:
            text.append(f" {printable(problem, CELL_CHARS)} ", style="bold white on red")
            text.append(" ")
        alarms = state.alarms.unacknowledged
        if alarms:
            text.append(
                f" {alarms} alarm{'s' if alarms != 1 else ''} to acknowledge (2, a) ", style="bold black on yellow"
            )
        elif not text:
            text.append(" all quiet ", style="bold black on green")
        self.update(text)


class HistoryChart(PlotextPlot):
    """A DPE over a time range: the indexed slices as a band (low and high line), the live
    values after them; clock time on x, decades on a log y axis for pressures."""

    def show(self, data: ChartData, range_name: str) -> None:
        plot = self.plt
        plot.clear_data()
        # Decades by hand (log10 of the values on a linear axis, ticks labelled 1e-9...): plotext's
        # own log scale transforms its data in place at every build, so a second draw of the same
        # data (a resize) would take the log of a log.
        y = math.log10 if data.log_y else float
        if data.buckets:
            times = [b.at_s for b in data.buckets]
            plot.plot(times, [y(b.high) for b in data.buckets], marker="braille", label="high")
            if any(b.low != b.high for b in data.buckets):
                plot.plot(times, [y(b.low) for b in data.buckets], marker="braille", label="low")
        if data.live:
            plot.plot([at for at, _ in data.live], [y(v) for _, v in data.live], marker="braille", label="live")
        if data.log_y and not data.empty:
            decades = data.decades()
            plot.ylim(decades[0], decades[-1])
            plot.yticks([float(k) for k in decades], [f"1e{k}" for k in decades])
        plot.xlim(data.since_s, data.until_s)
        ticks = clock_ticks(data.since_s, data.until_s)
        plot.xticks([at for at, _ in ticks], [label for _, label in ticks])
        parts = [f"{printable(data.dpe, CELL_CHARS)}: last {range_name}"]
        if data.buckets:
            parts.append(f"{sum(b.count for b in data.buckets):,} indexed changes")
        parts.append(f"{len(data.live):,} live")
        if data.dropped:
            parts.append(f"{data.dropped} beyond ±{CHART_LIMIT:g} or not above 0 on the log axis not drawn")
        if data.note:
            parts.append(printable(data.note, CELL_CHARS))
        plot.title(", ".join(parts))
        self.refresh()


def clock_ticks(since_s: float, until_s: float, count: int = 6) -> list[tuple[float, str]]:
    """Evenly spaced x ticks in local clock time: hours and minutes within a day, the weekday
    and hour beyond."""
    form = "%H:%M" if until_s - since_s <= 86_400 else "%a %H:%M"
    step = (until_s - since_s) / (count - 1)
    return [(since_s + i * step, datetime.fromtimestamp(since_s + i * step).strftime(form)) for i in range(count)]


class LevelHistogram(PlotextPlot):
    """Records per minute, stacked by level."""

    def show(self, minutes: Sequence[tuple[float, dict[str, int]]], title: str) -> None:
        plot = self.plt
        plot.clear_data()
        levels = sorted({level for _, counts in minutes for level in counts}, key=severity)
        if levels:
            # Numbers on the x axis, labels set apart: plotext orders string categories by hash.
            positions = list(range(len(minutes)))
            plot.stacked_bar(  # type: ignore[call-arg]  # the stub says label; plotext takes labels
                positions, [[counts.get(level, 0) for _, counts in minutes] for level in levels],
                labels=[printable(level, 20) for level in levels],
            )  # fmt: skip
            every = positions[::6]
            plot.xticks(
                [float(i) for i in every], [datetime.fromtimestamp(minutes[i][0]).strftime("%H:%M") for i in every]
            )
        plot.title(title)
        self.refresh()


class ProfileChart(PlotextPlot):
    """Pressure against DCUM, one braille dot a gauge, on a log axis labelled in decades; gauges
    with a status flag set in their own colour, a red line through the highest (`log_axis`)."""

    def show(self, profile: Profile, title: str) -> None:
        plot = self.plt
        plot.clear_figure()  # the ticks too: the last profile's decades are not this one's
        good = [point for point in profile.points if point.ok]
        flagged = [point for point in profile.points if not point.ok]
        if good:
            plot.scatter([p.dcum for p in good], [math.log10(p.value) for p in good], marker="braille", color="cyan")
        if flagged:
            plot.scatter(
                [p.dcum for p in flagged], [math.log10(p.value) for p in flagged], marker="braille", color="yellow",
                label="status not ok",
            )  # fmt: skip
        if profile.points:
            log_axis(plot, [point.value for point in profile.points])
        highest = profile.highest
        if highest is not None:  # a line down the chart at the spike, and the spike itself in red
            plot.vline(highest.dcum, "red")
            plot.scatter([highest.dcum], [math.log10(highest.value)], marker="x", color="red")
        plot.xlabel("DCUM (m)")
        plot.ylabel("mbar (log)")
        plot.title(printable(title, CELL_CHARS))
        self.refresh()
