#!/usr/bin/env python3
"""Benchmark: `vac produce` against Debian's kcat -P, sending the same keyed JSON lines.

Run against a running Kafka (default: the one `vac config show` names, or `-b`):
  .venv/bin/python scripts/bench/produce_vs_kcat.py --lines 200000 --repeat 3

Each run sends LINES lines of `KEY:{json ~120 bytes}` to a fresh 3-partition topic, alternating
the tools to share out machine noise:

  kcat -P -K : -X acks=all -X enable.idempotence=true    (the peer)
  vac produce T -K :                                     (acks=all, idempotent)

Wall-clock times include start-up and the wait for every acknowledgement. Prints the median
of each and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from confluent_kafka.admin import AdminClient, NewTopic

VAC = str(Path(sys.executable).parent / "vac")


def bootstrap_servers() -> str:
    out = subprocess.run([VAC, "config", "show", "-o", "json"], capture_output=True, text=True, check=True).stdout
    return str(orjson.loads(out)["kafka"]["bootstrap_servers"])


def fresh_topic(admin: AdminClient) -> str:
    topic = f"bench.produce.{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(30)
    return topic


def timed(command: list[str], data: Path) -> float:
    with data.open("rb") as stdin:
        start = time.perf_counter()
        subprocess.run(command, stdin=stdin, check=True, capture_output=True)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-b", "--brokers", default=None)
    args = parser.parse_args()
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        sys.exit("kcat is not installed (apt-get install kcat)")
    servers = args.brokers or bootstrap_servers()
    admin = AdminClient({"bootstrap.servers": servers})
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "lines.txt"
        data.write_bytes(
            b"".join(
                b"VGPB_%d_5L4_B.PR:" % (i % 9927)
                + orjson.dumps({"id": f"VGPB_{i % 9927}_5L4_B.PR", "value": 1e-9 * (i % 997), "seq": i})
                + b"\n"
                for i in range(args.lines)
            )
        )
        times: dict[str, list[float]] = {"kcat -P": [], "vac produce": []}
        created: list[str] = []
        for _ in range(args.repeat):
            for name in times:
                topic = fresh_topic(admin)
                created.append(topic)
                if name == "kcat -P":
                    command = [kcat, "-P", "-b", servers, "-t", topic, "-K", ":", "-X", "acks=all",
                               "-X", "enable.idempotence=true"]  # fmt: skip
                else:
                    command = [VAC, "produce", topic, "-b", servers, "-K", ":"]
                times[name].append(timed(command, data))
        for future in admin.delete_topics(created).values():
            future.result(60)
    print(f"{args.lines:,} lines, median of {args.repeat} runs, wall time including start-up")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"  {name:<12} {median:7.2f} s  {args.lines / median:>10,.0f} msg/s")
    print(f"  vac produce / kcat -P throughput: {medians['kcat -P'] / medians['vac produce']:.2f}x")


if __name__ == "__main__":
    main()
