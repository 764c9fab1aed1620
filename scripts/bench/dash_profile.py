"""What one redraw of the dashboard's profile screen costs over the 9,927 gauges of the shared LHC
config: the profile itself (`vac.dash.profile.pressure_profile`) beside what the SCADA table
already does each second over the same rows (`ScadaBoard.matching`, sorted by DCUM), and the chart
(`tui.widgets.ProfileChart`, log10 on a linear axis) beside plotext's own log axis
(`yscale("log")` on a fresh figure, as `vac scada profile` draws), both built at 120x35.
No Kafka, no screen: figures for the README, not a test.

    .venv/bin/python scripts/bench/dash_profile.py --rounds 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual_plotext.plot import Plot  # noqa: E402

from tests.helpers import LHC_DPES  # noqa: E402
from tui.widgets import ProfileChart  # noqa: E402
from vac.dash.history import CHART_LIMIT  # noqa: E402
from vac.dash.profile import pressure_profile  # noqa: E402
from vac.dash.scada_board import ScadaBoard  # noqa: E402

WIDTH, HEIGHT = 120, 35


def median_ms(work: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def lhc_board() -> ScadaBoard:
    board = ScadaBoard()
    names = [entry["sourceDPE"] for entry in orjson.loads(LHC_DPES.read_bytes())]
    for i, name in enumerate(names):
        board.apply({"id": name, "value": 1e-10 * (1 + i % 7) if i != 100 else 3e-7,
                     "timestamp": "2026-12-03T10:00:00.000000Z", "sector": "VACSECPR123", "mainpart": "LSS1",
                     "DCUM": "125", "status": {"invalid": i % 50 == 0, "from_general_query": False}}, 0.0)  # fmt: skip
    return board


def measure(board: ScadaBoard, text: str, rounds: int) -> None:
    profile = pressure_profile(board.rows.values(), text, CHART_LIMIT)
    ours = median_ms(lambda: pressure_profile(board.rows.values(), text, CHART_LIMIT), rounds)
    table = median_ms(lambda: board.matching(text, "dcum"), rounds)
    chart = ProfileChart()
    chart.plt.plotsize(WIDTH, HEIGHT)

    def ours_chart() -> None:
        chart.show(profile, "the ring")
        chart.plt.build()

    def plotext_log() -> None:
        plot = Plot()
        plot.plotsize(WIDTH, HEIGHT)
        plot.yscale("log")
        plot.scatter([p.dcum for p in profile.points], [p.value for p in profile.points], marker="braille")
        plot.build()

    drawn = median_ms(ours_chart, rounds)
    peer = median_ms(plotext_log, rounds)
    print(
        f"{text or 'the ring':<13} {len(profile.points):>5,} gauges: profile {ours:5.1f} ms "
        f"(SCADA table's match+sort {table:5.1f} ms); chart {drawn:5.1f} ms (plotext's log axis {peer:5.1f} ms); "
        f"a redraw {ours + drawn:5.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    board = lhc_board()
    print(f"{len(board.rows):,} DPEs on the board, {rounds} rounds, medians")
    for text in ("", "sector:S78", "mainpart:ARC"):
        measure(board, text, rounds)


if __name__ == "__main__":
    main()
