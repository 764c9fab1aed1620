#!/usr/bin/env python3
"""Benchmark: `vac ship logs` and `vac index` on the local stack (started with `vac local up`).

  .venv/bin/python scripts/bench/ship_logs.py [--mb 200]

Builds a WinCC OA-style log of about --mb MB from the real sample (its records repeated, with
CRLF line ends), ships it with `vac ship logs --once --from-beginning` into a fresh Kafka topic
(idempotent, acks=all), then indexes that topic with `vac index --until-caught-up` into a fresh
index family. Prints lines/s acknowledged by Kafka, documents/s indexed, and the shipper's
peak RSS (from wait4). Not yet here: the rsyslog (imfile -> omkafka) peer and the plain
`_bulk` loader the issue asks to compare with.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
SAMPLE = ROOT.parent / "shared" / "data" / "winccoa" / "PVSS_II.sample.log"


def build_log(path: Path, megabytes: int) -> int:
    sample = SAMPLE.read_bytes()
    copies = max(1, megabytes * (1 << 20) // len(sample))
    with path.open("wb") as out:
        for _ in range(copies):
            out.write(sample)
    return copies * sample.count(b"\n")


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--config", type=Path, help="vac config of the stack (default: the built-in local stack)")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = yaml.safe_load(args.config.read_text()) if args.config else {}
        base["logs"] = {"topic": f"bench.logs.{run}"}
        base["index"] = {"group_id": f"bench-index-{run}", "name_template": f"benchlogs-{run}" + "-{app}-{yyyy.MM}"}
        config = work / "bench.yaml"
        config.write_text(yaml.safe_dump(base))
        log = work / "PVSS_II.log"
        lines = build_log(log, args.mb)
        size_mb = log.stat().st_size / (1 << 20)
        print(f"log: {size_mb:,.0f} MB, {lines:,} lines", file=sys.stderr)
        ship = [VAC, "--config", str(config), "ship", "logs", "--path", str(log), "--app-id", "vac_bench_scada_logs",
                "--once", "--from-beginning", "--registry", str(work / "registry.json"), "-q", "-o", "json"]  # fmt: skip
        ship_s, ship_rss, out = timed(ship)
        shipped = json.loads(out)
        index_s, index_rss, out = timed(
            [VAC, "--config", str(config), "index", "--until-caught-up", "-q", "-o", "json"]
        )
        indexed = json.loads(out)
    print(f"{'stage':<28}{'count':>14}{'seconds':>10}{'per second':>14}{'peak RSS MB':>14}")
    print(f"{'ship (lines acked by Kafka)':<28}{shipped['lines']:>14,}{ship_s:>10.1f}{shipped['lines'] / ship_s:>14,.0f}"
          f"{ship_rss:>14.0f}")  # fmt: skip
    print(f"{'index (documents)':<28}{indexed['indexed']:>14,}{index_s:>10.1f}{indexed['indexed'] / index_s:>14,.0f}"
          f"{index_rss:>14.0f}")  # fmt: skip
    print(f"records shipped {shipped['records']:,}, acked {shipped['acked']:,}, failed {shipped['failed']}")


if __name__ == "__main__":
    main()
