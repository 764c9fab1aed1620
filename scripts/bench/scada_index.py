#!/usr/bin/env python3
"""Benchmark: `vac index` on SCADA changes against a plain `_bulk` loader, on the same topic.

  .venv/bin/python scripts/bench/scada_index.py --config STACK.yaml [--seconds 30] [--runs 3] [--plain-ids]

Streams the 9,927 LHC DPEs with `vac stream scada` (simulator) into a fresh topic, then, in
alternation, `--runs` times each:
- `vac index --scada-topic TOPIC --until-caught-up` into a fresh `...-{yyyy.MM.dd}` index family
  (compact documents, ids source time@DPE, offsets committed after Elasticsearch accepted,
  dead letters), in its own consumer group;
- the peer: a plain consumer + `_bulk` loop writing each message's value as it is (no ids, no
  retries, no commits, no dead letters) into a fresh index with Elasticsearch's default dynamic
  mapping.
Prints documents/s over each process's whole run (start-up included) and over its consuming loop
(from its subscribe to its last document: the group join included, Python's imports, vac's
template and topic checks not), peak RSS, and both ratios (target: vac >= 0.8x the plain
loader). The index's 5 s refresh is the same for both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
DPES = ROOT / "data" / "winccoa" / "LHC_KafkaStream.config"

PLAIN_LOADER = r"""
import sys
import time
import orjson
from confluent_kafka import Consumer
from elasticsearch import Elasticsearch
broker, topic, es_url, index, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
with_ids = sys.argv[6:] == ["ids"]


def action(value):
    if not with_ids:
        return b'{"index":{"_index":"%s"}}' % index.encode()
    record = orjson.loads(value)
    return orjson.dumps({"index": {"_index": index, "_id": f"{record['timestamp']}@{record['id']}"}})



consumer = Consumer({"bootstrap.servers": broker, "group.id": "bench-plain-" + index, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
started = time.monotonic()  # as vac index's own duration_s: from the subscribe on
consumer.subscribe([topic])
es = Elasticsearch(es_url, request_timeout=120)
done = 0
while done < expected:
    messages = [m for m in consumer.consume(2000, 1.0) if m.error() is None]
    if not messages:
        continue
    body = b"".join(b"%s\n%s\n" % (action(m.value()), m.value()) for m in messages)
    es.bulk(operations=body)
    done += len(messages)
print(done, time.monotonic() - started)
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(command)}\n{process.stderr.read() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="vac config of the stack")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--plain-ids", action="store_true", help="also the plain loader with ids time@DPE")
    args = parser.parse_args()
    import yaml

    config = yaml.safe_load(args.config.read_text())
    broker = config["kafka"]["bootstrap_servers"]
    es_url = config["elasticsearch"]["hosts"][0]
    run = uuid.uuid4().hex[:8]
    topic = f"bench-scada-{run}"
    vac = [VAC, "--config", str(args.config)]
    env = {"VAC_SCADA__LAST_TOPIC": f"bench-scada-last-{run}"}
    _, _, out = timed(
        [*vac, "stream", "scada", "--dpes", str(DPES), "--rate", str(args.rate), "--duration", str(args.seconds),
         "--topic", topic, "-o", "json", "-q"],
        env,
    )  # fmt: skip
    changes = json.loads(out)["acked"]
    print(f"topic {topic}: {changes:,} changes of the 9,927 LHC DPEs")
    print(f"{'':<36}{'docs':>10}{'seconds':>9}{'docs/s':>9}{'in loop':>9}{'RSS MB':>8}")
    rates: dict[str, list[tuple[float, float]]] = {"vac": [], "plain": [], "plain+ids": []}

    def row(name: str, key: str, seconds: float, loop_s: float, rss: float) -> None:
        rates[key].append((changes / seconds, changes / loop_s))
        print(f"{name:<36}{changes:>10,}{seconds:>9.1f}{changes / seconds:>9,.0f}{changes / loop_s:>9,.0f}{rss:>8.0f}")

    peers = [("plain consumer + _bulk", "plain", [])]
    if args.plain_ids:
        peers.append(("plain consumer + _bulk (ids time@DPE)", "plain+ids", ["ids"]))
    for attempt in range(args.runs):
        index_env = {
            "VAC_INDEX__SCADA_NAME_TEMPLATE": f"bench-scada-{run}-{attempt}-{{yyyy.MM.dd}}",
            "VAC_INDEX__GROUP_ID": f"bench-scada-{run}-{attempt}",
            "VAC_INDEX__DEAD_LETTER_TOPIC": f"bench-scada-dlq-{run}",
        }
        seconds, rss, out = timed(
            [*vac, "index", "--topic", f"bench-scada-logs-{run}", "--scada-topic", topic, "--until-caught-up",
             "-o", "json", "-q"],
            index_env,
        )  # fmt: skip
        summary = json.loads(out)
        assert summary["indexed"] == changes, summary
        row("vac index (SCADA changes)", "vac", seconds, summary["duration_s"], rss)
        for name, key, extra in peers:
            plain_index = f"benchplain-scada-{run}-{attempt}{'-ids' if extra else ''}"
            seconds, rss, out = timed(
                [sys.executable, "-c", PLAIN_LOADER, broker, topic, es_url, plain_index, str(changes), *extra]
            )
            row(name, key, seconds, float(out.split()[1]), rss)
    for label, part in (("whole process", 0), ("consuming loop", 1)):
        ratios = [v[part] / p[part] for v, p in zip(rates["vac"], rates["plain"], strict=True)]
        print(f"vac index / plain _bulk loader, {label}: " + ", ".join(f"{r:.2f}x" for r in ratios)
              + f" (median {statistics.median(ratios):.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
