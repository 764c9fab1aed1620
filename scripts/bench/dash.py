"""How `vac dash` holds up under load: `vac stream scada` feeds 10,000 changes/s into a topic
the dashboard shows, and the dashboard (headless, real background readers) is driven by key
presses. Prints key-to-screen latency percentiles and the dashboard's CPU use, and how many
changes it took in. Not a test: figures for the README.

    .venv/bin/python scripts/bench/dash.py --rate 10000 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from textual.widgets import Static  # noqa: E402

from tui.app import VacDash  # noqa: E402
from vac.dash.state import DashFeeds, DashState  # noqa: E402
from vac.settings import load_settings  # noqa: E402

VAC = str(Path(sys.executable).parent / "vac")


async def drive(app: VacDash, presses: int) -> list[float]:
    latencies = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        await pilot.pause(5)  # let the readers catch up with the stream
        for _ in range(presses):
            before = str(app.screen.query_one("#dpe-count", Static).render())
            started = time.perf_counter()
            # The key goes in as a terminal's would: Pilot.press would also wait for the whole
            # screen to go idle, which it never is at 10,000 changes/s.
            app.simulate_key("s")  # cycle the sort: the table is rebuilt and the count line says so
            while str(app.screen.query_one("#dpe-count", Static).render()) == before:
                await asyncio.sleep(0.001)
            latencies.append((time.perf_counter() - started) * 1000)
            await pilot.pause(0.2)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, default=None, help="vac config (default: the local stack)")
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--presses", type=int, default=50)
    args = parser.parse_args()
    topic = f"bench-dash-{uuid.uuid4().hex[:6]}"
    loaded = load_settings(args.config)
    raw = loaded.settings.model_dump(mode="json", exclude_none=True)
    raw["dash"]["scada_topics"] = [topic]
    settings = type(loaded.settings).model_validate(raw)
    config_file = Path(f"/tmp/{topic}.yaml")
    config_file.write_text(yaml.safe_dump({"kafka": raw["kafka"]}))
    streamer = subprocess.Popen(
        [VAC, "--config", str(config_file), "stream", "scada", "--devices", "9927", "--rate", str(args.rate),
         "--duration", str(args.seconds + 20), "--topic", topic, "-q", "-o", "json"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(3)
    state = DashState(settings)
    app = VacDash(state, DashFeeds(settings), screen="overview")
    me = psutil.Process()
    cpu_before, wall_before = me.cpu_times(), time.monotonic()
    changes_before = state.changes
    latencies = asyncio.run(drive(app, args.presses))
    cpu_after, wall_after = me.cpu_times(), time.monotonic()
    streamer.terminate()
    out, _ = streamer.communicate(timeout=60)
    cpu_s = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    wall_s = wall_after - wall_before
    ordered = sorted(latencies)
    print(f"stream: {args.rate:,.0f} changes/s requested into {topic}")
    print(f"dashboard took in {state.changes - changes_before:,} changes in {wall_s:.1f} s "
          f"({(state.changes - changes_before) / wall_s:,.0f}/s), {len(state.board.rows):,} DPEs")  # fmt: skip
    print(f"key-to-screen latency over {len(ordered)} presses: median {statistics.median(ordered):.1f} ms, "
          f"p90 {ordered[int(0.9 * len(ordered)) - 1]:.1f} ms, max {ordered[-1]:.1f} ms")  # fmt: skip
    print(f"dashboard CPU: {cpu_s / wall_s:.2f} cores (user+system over wall time)")
    if out:
        print(f"streamer summary: {out.decode().strip()[:200]}")


if __name__ == "__main__":
    main()
