"""`vac dash` as an operator runs it, a real process in a 160x50 pseudo-terminal on the SCADA
screen, with the 9,927 LHC DPEs (data/winccoa/LHC_KafkaStream.config). Issue 18, two figures:

  1. start: `vac stream scada` fills a fresh changes topic and its last-value topic until every
     DPE has a last value, then stops (so they are silent); `vac dash --screen scada` is spawned
     RUNS times and timed from spawn to its count line saying "(9,927 seen)". Target <= 3 s.
     Beside it, in this process, the parts: reading the last-value topic (as the dash does at
     open), applying what was read to a `DashState`, and one redraw of the SCADA screen.
  2. memory: the streamer feeds 10,000 changes/s of the same DPEs while `vac dash` runs for
     MINUTES; the resident memory (RSS, children included) of the dashboard and of the streamer
     (the peer: the process that produces all of it) is sampled every 5 s. Once a minute the
     bench presses 1 (the overview says "changes seen: N"), then 2: N against the topic's end
     offset says whether the dashboard keeps up. Target <= 200 MB, flat after warm-up.

Each part prints a table; part 2 writes a PNG of RSS against time when matplotlib is installed.

    .venv/bin/python scripts/bench/dash_memory.py                  # both parts, 15 minutes
    .venv/bin/python scripts/bench/dash_memory.py --minutes 2 --runs 3
    .venv/bin/python scripts/bench/dash_memory.py --skip-start     # part 2 only
    .venv/bin/python scripts/bench/dash_memory.py --profile 3      # where memory goes, in-process

Without --config it uses the local stack (`vac local up kafka`, left running as the other
benches do). The topics are fresh ones of this run, so the shared stack's are not touched.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import pexpect
import psutil
import yaml
from charts import pyplot  # noqa: E402  (a sibling module: scripts run from their folder)
from confluent_kafka import TopicPartition

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tui.app import VacDash  # noqa: E402
from vac.dash.state import DashFeeds, DashState  # noqa: E402
from vac.kafka.consuming import new_consumer  # noqa: E402
from vac.settings import VacSettings, load_settings  # noqa: E402

VAC = str(Path(sys.executable).parent / "vac")
LHC_DPES = ROOT / "data" / "winccoa" / "LHC_KafkaStream.config"
SIZE = (50, 160)
"""Rows, columns of the pseudo-terminal."""
SAMPLE_S = 5.0
TARGET_START_S = 3.0
TARGET_RSS_MB = 200.0
SEEN = re.compile(r"\(([\d,]+) seen\)")
CHANGES_SEEN = re.compile(r"changes seen: ([\d,]+)")


class Run:
    """The fresh topics of this run and a config file that names them."""

    def __init__(self, base: Path | None, scratch: Path) -> None:
        tag = uuid.uuid4().hex[:6]
        self.topic, self.last_topic = f"bench-dash-mem-{tag}", f"bench-dash-mem-last-{tag}"
        raw: dict[str, Any] = yaml.safe_load(base.read_text()) if base is not None else {}
        raw = raw or {}
        raw.setdefault("dash", {})["scada_topics"] = [self.topic]
        raw.setdefault("scada", {})["last_topic"] = self.last_topic
        self.config = scratch / f"{self.topic}.yaml"
        self.config.write_text(yaml.safe_dump(raw))
        self.settings: VacSettings = load_settings(self.config).settings

    def stream(self, rate: float, seconds: float, dpes: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [VAC, "--config", str(self.config), "stream", "scada", "--dpes", str(dpes), "--rate", str(rate),
             "--duration", str(seconds), "--topic", self.topic, "-q", "-o", "json"],
            stdout=subprocess.PIPE,
        )  # fmt: skip

    def spawn_dash(self) -> pexpect.spawn:
        env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"} | {"TERM": "xterm-256color"}
        return pexpect.spawn(
            VAC, ["--config", str(self.config), "dash", "--screen", "scada"],
            env=env, encoding="utf-8", codec_errors="replace", timeout=60, dimensions=SIZE,
            maxread=65536, searchwindowsize=20000,
        )  # fmt: skip

    def end_offset(self) -> int:
        """The changes written to the topic so far (the sum of its partitions' ends)."""
        consumer = new_consumer(self.settings.kafka, None)
        try:
            partitions = consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
            return sum(consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)[1] for p in partitions)
        finally:
            consumer.close()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def rss_mb(process: psutil.Process) -> float:
    """Resident memory of a process and its children, MB (0 once it is gone)."""
    try:
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += child.memory_info().rss
    except psutil.NoSuchProcess:
        return 0.0
    return total / 1e6


def quit_dash(child: pexpect.spawn) -> None:
    try:
        child.send("q")
        child.expect(pexpect.EOF, timeout=20)
    except (pexpect.TIMEOUT, pexpect.EOF, OSError):
        pass
    child.close(force=True)


# ---------------------------------------------------------------------------------------------
# 1. From spawn to every DPE shown


def fill(run: Run, dpes: Path, seconds: float) -> int:
    """Stream until (almost surely) every DPE changed once; the DPEs with a last value."""
    print(f"filling {run.topic} and {run.last_topic}: {seconds:g} s at 10,000 changes/s", file=sys.stderr)
    streamer = run.stream(10_000, seconds, dpes)
    out, _ = streamer.communicate(timeout=seconds + 120)
    if streamer.returncode != 0:
        sys.exit(f"the streamer failed (status {streamer.returncode})")
    summary = json.loads(out)
    feeds = DashFeeds(run.settings)
    rows = sum(len(chunk.records) for chunk in feeds.last_values())
    if not rows:
        sys.exit(f"nothing read back from {run.last_topic}")
    print(f"streamed {summary['acked']:,} changes; {rows:,} DPEs have a last value", file=sys.stderr)
    return rows


def split(run: Run) -> dict[str, float]:
    """What the dash does between spawn and every DPE shown, each part alone, in this process."""
    feeds = DashFeeds(run.settings)
    started = time.perf_counter()
    chunks = feeds.last_values()  # the seeder's read: the last-value topic from its beginning, sorted rows
    read_s = time.perf_counter() - started
    state = DashState(run.settings)
    started = time.perf_counter()
    for chunk in chunks:
        state.apply(chunk)
    apply_s = time.perf_counter() - started
    draws: list[float] = []

    async def draw() -> None:
        app = VacDash(state, None, screen="scada")
        async with app.run_test(size=(SIZE[1], SIZE[0])) as pilot:
            await pilot.pause()
            for _ in range(3):
                began = time.perf_counter()
                app.screen.redraw(state, True)  # type: ignore[attr-defined]
                await pilot.pause()  # and Textual lays it out and renders it
                draws.append(time.perf_counter() - began)

    asyncio.run(draw())
    return {"read_s": read_s, "apply_s": apply_s, "draw_s": statistics.median(draws), "rows": len(state.board.rows)}


def start_time(run: Run, dpes: Path, runs: int, fill_s: float) -> dict[str, Any]:
    expected = fill(run, dpes, fill_s)
    wanted = f"({expected:,} seen)"
    rounds = []
    for n in range(1, runs + 1):
        time.sleep(2)
        loadavg = load()
        started = time.perf_counter()
        child = run.spawn_dash()
        try:
            child.expect(r"matching DPEs \(")
            first_frame = time.perf_counter() - started
            child.expect_exact(wanted)
            every = time.perf_counter() - started
        except pexpect.TIMEOUT:
            every = first_frame = float("nan")
            print(f"run {n}: no {wanted} within 60 s; last seen {SEEN.findall(child.before or '')[-1:]}")
        finally:
            quit_dash(child)
        parts = split(run)
        rounds.append({"first_frame_s": first_frame, "every_s": every, "load": loadavg, **parts})
        print(f"run {n}: screen up {first_frame:.2f} s, every DPE {every:.2f} s after spawn (load {loadavg}); "
              f"alone: last values read {parts['read_s']:.2f} s, applied {parts['apply_s']:.2f} s, "
              f"one redraw {parts['draw_s']:.2f} s", flush=True)  # fmt: skip
    return {"dpes": expected, "rounds": rounds}


def report_start(figures: dict[str, Any]) -> None:
    rounds = figures["rounds"]
    every = [r["every_s"] for r in rounds]
    print(f'\n1. vac dash --screen scada, spawn to "({figures["dpes"]:,} seen)", {len(rounds)} runs, 160x50 pty')
    print(f"{'':<40} {'median':>8} {'max':>8}")
    for name, key in (
        ("spawn to every DPE shown", "every_s"),
        ("spawn to the screen's first frame", "first_frame_s"),
        ("alone: read the last-value topic", "read_s"),
        ("alone: apply 9,927 last values", "apply_s"),
        ("alone: one redraw of the SCADA screen", "draw_s"),
    ):
        values = [r[key] for r in rounds]
        print(f"{name:<40} {statistics.median(values):>7.2f}s {max(values):>7.2f}s")
    verdict = "met" if max(every) <= TARGET_START_S else "missed"
    print(
        f"target <= {TARGET_START_S:g} s: {verdict} (median {statistics.median(every):.2f} s, max {max(every):.2f} s)"
    )


# ---------------------------------------------------------------------------------------------
# 2. Resident memory over time


class Terminal:
    """Drains the dashboard's pseudo-terminal on a thread (a full pty would stop the dashboard)
    and keeps the newest count line and "changes seen"."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.seen = 0
        self.changes: int | None = None
        self.received = 0
        self._tail = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop draining: whoever quits the dashboard reads its end."""
        self._stop.set()
        self._thread.join(5)

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.child.read_nonblocking(65536, timeout=0.5)
            except pexpect.TIMEOUT:
                continue
            except (pexpect.EOF, OSError, ValueError):
                return
            self.received += len(data)
            window = self._tail + data
            if found := SEEN.findall(window):
                self.seen = int(found[-1].replace(",", ""))
            if found := CHANGES_SEEN.findall(window):
                self.changes = int(found[-1].replace(",", ""))
            self._tail = window[-200:]

    def changes_seen(self) -> int | None:
        """Press 1 (the overview), read its "changes seen", press 2 (back to the SCADA screen)."""
        self.changes = None
        self.child.send("1")
        deadline = time.monotonic() + 5
        while self.changes is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a redraw later: the newest figure
        changes = self.changes
        self.child.send("2")
        return changes


def memory(run: Run, dpes: Path, minutes: float, rate: float) -> dict[str, Any]:
    seconds = minutes * 60
    streamer = run.stream(rate, seconds + 60, dpes)
    time.sleep(5)  # its topics exist and it runs; the dash reads all of it (history_s is 120 s)
    streamer_process = psutil.Process(streamer.pid)
    child = run.spawn_dash()
    dash_process = psutil.Process(child.pid)
    terminal = Terminal(child)
    samples: list[tuple[float, float, float]] = []
    minutes_rows: list[dict[str, Any]] = []
    started = time.monotonic()
    next_sample, next_minute = started, started + 60
    print(f"\n2. vac dash --screen scada for {minutes:g} min while vac stream scada sends {rate:,.0f} changes/s "
          f"of {dpes.name} to {run.topic}")  # fmt: skip
    print(f"{'min':>4} {'dash MB':>8} {'streamer MB':>12} {'DPEs seen':>10} {'changes seen':>13} "
          f"{'in topic':>11} {'behind':>8} {'dash CPU':>9} {'load 1/5':>9}", flush=True)  # fmt: skip
    cpu_before = dash_cpu(dash_process)
    try:
        while (now := time.monotonic()) < started + seconds:
            if child.isalive() is False:
                sys.exit("the dashboard stopped")
            if now >= next_sample:
                samples.append((now - started, rss_mb(dash_process), rss_mb(streamer_process)))
                next_sample += SAMPLE_S
            if now >= next_minute:
                in_topic = run.end_offset()  # then the dash's count, which includes the seed
                changes = terminal.changes_seen()
                cpu_now = dash_cpu(dash_process)
                row = {
                    "minute": round((now - started) / 60), "dash_mb": samples[-1][1], "streamer_mb": samples[-1][2],
                    "seen": terminal.seen, "changes": changes, "in_topic": in_topic,
                    "cores": (cpu_now - cpu_before) / 60, "load": load(),
                }  # fmt: skip
                cpu_before = cpu_now
                minutes_rows.append(row)
                print_minute(row)
                next_minute += 60
            time.sleep(max(0.0, min(next_sample, next_minute) - time.monotonic()))
        samples.append((time.monotonic() - started, rss_mb(dash_process), rss_mb(streamer_process)))
    finally:
        terminal.stop()
        quit_dash(child)
        streamer.terminate()
        out, _ = streamer.communicate(timeout=60)
    summary = json.loads(out) if out else {}
    return {
        "samples": samples,
        "minutes": minutes_rows,
        "streamer": summary,
        "rate": rate,
        "pty_bytes": terminal.received,
    }


def dash_cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.NoSuchProcess:
        return 0.0


def print_minute(row: dict[str, Any]) -> None:
    changes = "-" if row["changes"] is None else f"{row['changes']:,}"
    # "changes seen" counts the last values read at open too (one per DPE seen then, the seed)
    behind = "-" if row["changes"] is None else f"{row['in_topic'] - row['changes'] + row['seen']:,}"
    print(f"{row['minute']:>4} {row['dash_mb']:>8.0f} {row['streamer_mb']:>12.0f} {row['seen']:>10,} {changes:>13} "
          f"{row['in_topic']:>11,} {behind:>8} {row['cores']:>9.2f} {row['load']:>9}", flush=True)  # fmt: skip


def slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    xs, ys = [p[0] / 60 for p in points], [p[1] for p in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def report_memory(figures: dict[str, Any], plot_path: Path) -> None:
    samples = figures["samples"]
    end_s = samples[-1][0]
    later = [s for s in samples if s[0] >= end_s / 3]
    warm = later[0]
    dash_slope = slope_mb_per_min([(s[0], s[1]) for s in later])
    streamer_slope = slope_mb_per_min([(s[0], s[2]) for s in later])
    print(f"\n{'RSS, MB':<10} {'at 1/3 (warm)':>14} {'end':>8} {'max':>8} {'slope of last 2/3':>20}")
    for name, column, slope in (("vac dash", 1, dash_slope), ("streamer", 2, streamer_slope)):
        print(f"{name:<10} {warm[column]:>14.0f} {samples[-1][column]:>8.0f} {max(s[column] for s in samples):>8.0f} "
              f"{slope:>+13.2f} MB/min")  # fmt: skip
    peak = max(s[1] for s in samples)
    flat = abs(dash_slope) <= 0.5
    print(f"target <= {TARGET_RSS_MB:g} MB and flat: {'met' if peak <= TARGET_RSS_MB and flat else 'missed'} "
          f"(max {peak:.0f} MB, {dash_slope:+.2f} MB/min over the last 2/3)")  # fmt: skip
    rows = [r for r in figures["minutes"] if r["changes"] is not None]
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        minutes = last["minute"] - first["minute"]
        taken = (last["changes"] - first["changes"]) / (minutes * 60) if minutes else 0.0
        written = (last["in_topic"] - first["in_topic"]) / (minutes * 60) if minutes else 0.0
        behind = last["in_topic"] - last["changes"] + last["seen"]
        print(
            f"dashboard took in {taken:,.0f} changes/s while the streamer wrote {written:,.0f}/s "
            f"(minutes {first['minute']}-{last['minute']}); behind at the end: {behind:,}"
        )
    streamer = figures["streamer"]
    if streamer:
        print(f"streamer: {streamer.get('acked', 0):,} acked, peak RSS {streamer.get('rss_mb')} MB (its own figure)")
    plot(plot_path, samples, figures["rate"])


def plot(path: Path, samples: list[tuple[float, float, float]], rate: float) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(figsize=(7, 3))
    minutes = [s[0] / 60 for s in samples]
    axes.plot(minutes, [s[1] for s in samples], label="vac dash (SCADA screen, 160x50 pty)")
    axes.plot(minutes, [s[2] for s in samples], label="vac stream scada (the peer)")
    axes.axhline(TARGET_RSS_MB, color="#999999", linestyle="--", linewidth=1, label=f"target {TARGET_RSS_MB:g} MB")
    axes.set_xlabel("minutes")
    axes.set_ylabel("RSS, MB")
    axes.set_ylim(0, max(TARGET_RSS_MB * 1.2, max(max(s[1], s[2]) for s in samples) * 1.1))
    axes.set_title(f"resident memory at {rate:,.0f} changes/s of 9,927 DPEs", fontsize=10)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# --profile: where the memory goes, in this process


def profile(run: Run, dpes: Path, minutes: float, rate: float) -> None:
    """VacDash headless with its real readers while the streamer runs; tracemalloc snapshots a
    third and at the end of the run, and the lines whose memory grew most between them."""
    streamer = run.stream(rate, minutes * 60 + 60, dpes)
    time.sleep(5)
    tracemalloc.start(5)
    state = DashState(run.settings)
    app = VacDash(state, DashFeeds(run.settings), screen="scada")
    snapshots: list[tracemalloc.Snapshot] = []

    async def watch() -> None:
        async with app.run_test(size=(SIZE[1], SIZE[0])) as pilot:
            for mark in (minutes * 60 / 3, minutes * 60):
                while time.monotonic() - began < mark:
                    await pilot.pause(5)
                    traced = tracemalloc.get_traced_memory()[0] / 1e6
                    print(f"{(time.monotonic() - began) / 60:5.1f} min: RSS {rss_mb(psutil.Process()):.0f} MB "
                          f"(Python objects {traced:.0f} MB), {len(state.board.rows):,} DPEs, "
                          f"{state.changes:,} changes", flush=True)  # fmt: skip
                snapshots.append(tracemalloc.take_snapshot())

    began = time.monotonic()
    try:
        asyncio.run(watch())
    finally:
        streamer.terminate()
        streamer.communicate(timeout=60)
    print("\nwhere the Python objects are at the end:")
    for stat in snapshots[1].statistics("traceback")[:8]:
        print(f"{stat.size / 1e6:8.2f} MB {stat.count:9,} blocks")
        for line in stat.traceback.format()[-6:]:
            print(f"      {line}")
    print(f"\nwhat grew from {minutes / 3:g} to {minutes:g} min:")
    for stat in snapshots[1].compare_to(snapshots[0], "traceback")[:8]:
        print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+9,} blocks  now {stat.size / 1e6:7.2f} MB")
        for line in stat.traceback.format()[-6:]:
            print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=None, help="vac config (default: the local stack)")
    parser.add_argument("--dpes", type=Path, default=LHC_DPES)
    parser.add_argument("--runs", type=int, default=5, help="spawns of the dash for the start time")
    parser.add_argument("--fill", type=float, default=20.0, help="seconds of streaming before the start time")
    parser.add_argument("--minutes", type=float, default=15.0, help="length of the memory run")
    parser.add_argument("--rate", type=float, default=10_000, help="changes/s during the memory run")
    parser.add_argument("--skip-start", action="store_true", help="only the memory run")
    parser.add_argument("--skip-memory", action="store_true", help="only the start time")
    parser.add_argument("--profile", type=float, default=None, metavar="MINUTES",
                        help="instead: VacDash headless in this process, tracemalloc's biggest growth")  # fmt: skip
    parser.add_argument("--plot", type=Path, default=Path("bench-dash-memory.png"))
    args = parser.parse_args()
    if args.config is None:
        subprocess.run([VAC, "local", "up", "kafka"], check=True, capture_output=True)
    scratch = Path(f"/tmp/bench-dash-memory-{os.getpid()}")
    scratch.mkdir(exist_ok=True)
    print(f"load average at start {load()} (1/5 min), {os.cpu_count()} cores")
    if args.profile is not None:
        profile(Run(args.config, scratch), args.dpes, args.profile, args.rate)
        return
    if not args.skip_start:
        report_start(start_time(Run(args.config, scratch), args.dpes, args.runs, args.fill))
    if not args.skip_memory:
        report_memory(memory(Run(args.config, scratch), args.dpes, args.minutes, args.rate), args.plot)
    print(f"load average at end {load()}")


if __name__ == "__main__":
    main()
