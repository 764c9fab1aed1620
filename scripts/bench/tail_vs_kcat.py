#!/usr/bin/env python3
"""Benchmark: `vac tail topic` against Debian's kcat, reading one 1,000,000-message topic.

Run on the local stack (it is started if need be):  .venv/bin/python scripts/bench/tail_vs_kcat.py
It fills topic `bench.tail.1m` once (1,000,000 JSON values of ~200 bytes, 3 partitions),
then, alternating the tools to share out machine noise, times REPEAT reads of each:

  kcat -C -e -o beginning -f '%s\\n'                     (the peer)
  vac tail topic T --from beginning --no-follow -o raw    (target: >= 0.7x kcat's msg/s)
  vac ... -o jsonl --where 'value > `3.16e-7`'            (~10% match; target >= 200,000 msg/s)

Wall-clock times include each process's start-up, as a user would see it. Prints a table
and the ratios; writes a PNG bar chart beside it when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import orjson
from charts import pyplot  # noqa: E402  (a sibling module: scripts run from their folder)
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
TOPIC = "bench.tail.1m"
MESSAGES = 1_000_000
FILTER = "value > `3.16e-7`"  # values are log-uniform over 1e-11..1e-6: 10% lie above


def bootstrap_servers() -> str:
    out = subprocess.run([VAC, "config", "show", "-o", "json"], capture_output=True, text=True, check=True).stdout
    return str(orjson.loads(out)["kafka"]["bootstrap_servers"])


def topic_size(servers: str) -> int:
    consumer = Consumer({"bootstrap.servers": servers, "group.id": "bench-size"})
    try:
        metadata = consumer.list_topics(TOPIC, timeout=10).topics[TOPIC]
        if metadata.error is not None:
            return -1
        marks = [consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10) for p in metadata.partitions]
        return sum(high - low for low, high in marks)
    finally:
        consumer.close()


def fill_topic(servers: str) -> None:
    admin = AdminClient({"bootstrap.servers": servers})
    if topic_size(servers) >= 0:
        admin.delete_topics([TOPIC])[TOPIC].result(30)
        time.sleep(2)
    admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(30)
    producer = Producer(
        {
            "bootstrap.servers": servers,
            "linger.ms": 50,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
        }
    )
    rng = random.Random(42)
    sectors = [f"VACSECPR{i}" for i in range(10)]
    started = time.perf_counter()
    for seq in range(MESSAGES):
        value = {
            "id": f"VGPB_{seq % 9927}_5L4_B.PR",
            "value": 10 ** rng.uniform(-11, -6),
            "validityBit": 1,
            "timestamp": "2026-11-28T15:00:00.123456Z",
            "sector": sectors[seq % 10],
            "mainpart": "LSS1",
            "DCUM": "12500",
            "seq": seq,
        }
        while True:
            try:
                producer.produce(TOPIC, key=value["id"].encode(), value=orjson.dumps(value))
                break
            except BufferError:
                producer.poll(0.05)
        if seq % 50_000 == 0:
            producer.poll(0)
            print(f"\rfilling {TOPIC}: {seq:,}/{MESSAGES:,}", end="", file=sys.stderr, flush=True)
    producer.flush(60)
    print(f"\rfilled {TOPIC} with {MESSAGES:,} messages in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def timed(command: list[str]) -> float:
    """Wall seconds for `command` writing to /dev/null, as the issue's benchmark asks."""
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def count_lines(command: list[str]) -> int:
    """The lines `command` prints (a separate, untimed run: counting would slow the tool)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: process.stdout.read(1 << 20), b""))  # type: ignore[union-attr]
    process.wait()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plot", type=Path, default=Path("bench-tail.png"))
    args = parser.parse_args()
    if shutil.which("kcat") is None:
        if os.geteuid() != 0:
            raise SystemExit("kcat is needed: apt-get install kcat")
        subprocess.run(["apt-get", "install", "-y", "-qq", "kcat"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([VAC, "local", "up", "kafka"], check=True)
    servers = bootstrap_servers()
    if topic_size(servers) != MESSAGES:
        fill_topic(servers)

    runs = {
        "kcat raw": ["kcat", "-b", servers, "-C", "-t", TOPIC, "-e", "-o", "beginning", "-f", "%s\n", "-q"],
        "vac raw": [VAC, "tail", "topic", TOPIC, "--from", "beginning", "--no-follow", "-o", "raw"],
        "vac jsonl --where (10%)": [
            VAC,
            "tail",
            "topic",
            TOPIC,
            "--from",
            "beginning",
            "--no-follow",
            "-o",
            "jsonl",
            "--where",
            FILTER,
        ],
    }
    lines = {name: count_lines(command) for name, command in runs.items()}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_ in range(args.repeat):
        for name, command in runs.items():
            times[name].append(timed(command))
        print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)

    assert lines["kcat raw"] == MESSAGES and lines["vac raw"] == MESSAGES, lines
    rate = {name: MESSAGES / statistics.median(t) for name, t in times.items()}
    print(f"\n{MESSAGES:,} messages of ~200 bytes, 3 partitions, {args.repeat} runs each, median wall time")
    print(f"{'run':<26} {'median s':>9} {'best s':>7} {'msg/s':>10} {'vs kcat':>8} {'lines out':>10}")
    for name, samples in times.items():
        ratio = rate[name] / rate["kcat raw"]
        print(
            f"{name:<26} {statistics.median(samples):>9.2f} {min(samples):>7.2f} {rate[name]:>10,.0f} "
            f"{ratio:>7.2f}x {lines[name]:>10,}"
        )
    raw_ratio = rate["vac raw"] / rate["kcat raw"]
    filtered = rate["vac jsonl --where (10%)"]
    print(f"\nvac raw / kcat = {raw_ratio:.2f} (target >= 0.70); filtered = {filtered:,.0f} msg/s (target >= 200,000)")
    plot(args.plot, rate)


def plot(path: Path, rate: dict[str, float]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(figsize=(7, 3.2))
    names = list(rate)
    bars = axes.barh(names, [rate[n] / 1000 for n in names], color=["#888888", "#1f77b4", "#2ca02c"])
    axes.bar_label(bars, labels=[f"{rate[n]:,.0f}/s" for n in names], padding=4)
    axes.axvline(200, linestyle="--", color="#2ca02c", linewidth=1)
    axes.axvline(0.7 * rate["kcat raw"] / 1000, linestyle=":", color="#1f77b4", linewidth=1)
    axes.set_xlabel("thousand messages/s (1,000,000 messages, read to the end)")
    axes.invert_yaxis()
    axes.set_xlim(0, max(rate.values()) / 1000 * 1.35)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
