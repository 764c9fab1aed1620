#!/usr/bin/env python3
"""Benchmark: `vac stream scada` into the local Kafka, next to Kafka's own ProducerPerformance.

Run on the local stack (started if need be):  .venv/bin/python scripts/bench/stream_scada.py
With the 9,927 real LHC DPEs (data/winccoa/LHC_KafkaStream.config):

  1. the highest sustained acked changes/s of one vac process (acks=all, idempotent), asked for
     far more than it can do, next to org.apache.kafka.tools.ProducerPerformance (the jars
     `vac local` resolved) at the same record size, acks and idempotence;
  2. ack latency (produce -> broker ack, HdrHistogram) at 10,000 and 50,000 changes/s;
  3. peak RSS at 10,000 changes/s.

Prints a table and writes a PNG chart when matplotlib is installed. Targets (issue 3):
>= 150,000/s and >= 0.5x the Java tool; p99 <= 20 ms at 10,000/s; <= 150 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

from charts import pyplot  # noqa: E402  (a sibling module: scripts run from their folder)

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
LHC_DPES = ROOT / "data" / "winccoa" / "LHC_KafkaStream.config"


def stream(rate: int, duration: int, dpes: Path) -> dict[str, object]:
    topic = f"bench.scada.{uuid.uuid4().hex[:6]}"
    result = subprocess.run(
        [
            VAC,
            "stream",
            "scada",
            "--dpes",
            str(dpes),
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--topic",
            topic,
            "-o",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary: dict[str, object] = json.loads(result.stdout)
    summary["topic"] = topic
    return summary


def record_size(topic: str) -> int:
    out = subprocess.run(
        [VAC, "tail", "topic", topic, "--from", "beginning", "--count", "200", "-o", "raw"],
        capture_output=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    return round(sum(map(len, lines)) / len(lines))


def producer_performance(records: int, size: int) -> float:
    """Records/s that Kafka's own tool reaches with vac's producer settings."""
    config = json.loads(
        subprocess.run([VAC, "config", "show", "-o", "json"], capture_output=True, text=True, check=True).stdout
    )
    local, servers = config["local"], config["kafka"]["bootstrap_servers"]
    cache = subprocess.run([VAC, "local", "fetch", "kafka"], capture_output=True, text=True, check=True).stdout
    libs = cache.split(": ", 1)[1].strip()
    topic = f"bench.producer-perf.{uuid.uuid4().hex[:6]}"
    subprocess.run(
        [VAC, "stream", "scada", "--devices", "1", "--rate", "1", "--duration", "0.1", "--topic", topic, "-q"],
        capture_output=True,
        check=True,
    )  # creates the topic like vac's own
    java = json.loads((Path(local["state_dir"] or "/var/lib/vac") / "stack.json").read_text())["kafka"]["java"]
    out = subprocess.run(
        [
            f"{java}/bin/java",
            "-Xmx512m",
            "-cp",
            f"{libs}/*",
            "org.apache.kafka.tools.ProducerPerformance",
            "--topic",
            topic,
            "--num-records",
            str(records),
            "--record-size",
            str(size),
            "--throughput",
            "-1",
            "--producer-props",
            f"bootstrap.servers={servers}",
            "acks=all",
            "enable.idempotence=true",
            "linger.ms=5",
            "compression.type=lz4",
            "batch.size=262144",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    final = out.strip().splitlines()[-1]
    return float(re.search(r"([\d.]+) records/sec", final)[1])  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpes", type=Path, default=LHC_DPES)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--plot", type=Path, default=Path("bench-stream-scada.png"))
    args = parser.parse_args()
    subprocess.run([VAC, "local", "up", "kafka"], check=True, capture_output=True)

    print("1/4 vac at full speed...", file=sys.stderr)
    flat_out = stream(1_000_000, args.duration, args.dpes)
    size = record_size(str(flat_out["topic"]))
    vac_rate = float(flat_out["acked"]) / float(flat_out["duration_s"])  # type: ignore[arg-type]
    print("2/4 ProducerPerformance...", file=sys.stderr)
    java_rate = producer_performance(2_000_000, size)
    print("3/4 10,000/s...", file=sys.stderr)
    at_10k = stream(10_000, args.duration, args.dpes)
    print("4/4 50,000/s...", file=sys.stderr)
    at_50k = stream(50_000, args.duration, args.dpes)

    print(
        f"\nvac stream scada, {args.dpes.name} ({args.duration} s runs), records of {size} bytes, acks=all, idempotent"
    )
    print(f"{'run':<34} {'acked/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} {'RSS MB':>7}")
    for name, summary in (
        ("vac, as fast as it goes", flat_out),
        ("vac at 10,000/s", at_10k),
        ("vac at 50,000/s", at_50k),
    ):
        latency = summary["ack_latency_ms"]
        rate = float(summary["acked"]) / float(summary["duration_s"])  # type: ignore[arg-type]
        print(
            f"{name:<34} {rate:>10,.0f} {latency['p50']:>8.2f} {latency['p99']:>8.2f} "  # type: ignore[index]
            f"{latency['p999']:>9.2f} {latency['max']:>8.2f} {summary['rss_mb']:>7.0f}"
        )  # type: ignore[index]
    print(f"{'ProducerPerformance (Java)':<34} {java_rate:>10,.0f}")
    print(
        f"\nvac / ProducerPerformance = {vac_rate / java_rate:.2f} (target >= 0.5); vac {vac_rate:,.0f}/s "
        f"(target >= 150,000); p99 at 10,000/s {at_10k['ack_latency_ms']['p99']:.1f} ms (target <= 20); "  # type: ignore[index]
        f"peak RSS at 10,000/s {at_10k['rss_mb']} MB (target <= 150)"
    )
    plot(args.plot, vac_rate, java_rate)


def plot(path: Path, vac_rate: float, java_rate: float) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(figsize=(7, 2.6))
    names = ["ProducerPerformance (Java)", "vac stream scada"]
    values = [java_rate / 1000, vac_rate / 1000]
    bars = axes.barh(names, values, color=["#888888", "#1f77b4"])
    axes.bar_label(bars, labels=[f"{v:,.0f}k/s" for v in values], padding=4)
    axes.axvline(150, linestyle="--", color="#d62728", linewidth=1, label="target 150k/s")
    axes.set_xlabel("thousand acked records/s (acks=all, idempotent)")
    axes.set_xlim(0, max(values) * 1.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
