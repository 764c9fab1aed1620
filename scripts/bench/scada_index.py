#!/usr/bin/env python3
"""Benchmark: `vac index` on SCADA changes against a plain `_bulk` loader, on the same topic.

  .venv/bin/python scripts/bench/scada_index.py --config STACK.yaml [--seconds 10] [--rate 10000] [--runs 2]

Streams the 9,927 LHC DPEs with `vac stream scada` (simulator) into a fresh topic, then, in
alternation, `--runs` times each:
- `vac index --scada-topic TOPIC --until-caught-up` into a fresh `...-{yyyy.MM.dd}` index family
  (compact documents, ids DPE@source time, offsets committed after Elasticsearch accepted,
  dead letters), in its own consumer group;
- the peer: a plain consumer + `_bulk` loop writing each message's value as it is (no ids, no
  retries, no commits, no dead letters) into a fresh index with Elasticsearch's default dynamic
  mapping.
Prints documents/s over each process's whole run (start-up included), peak RSS, and the ratio
(target: vac >= 0.8x the plain loader). The index's 5 s refresh is the same for both.
"""

from __future__ import annotations

import argparse
import json
import os
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
from confluent_kafka import Consumer
from elasticsearch import Elasticsearch
broker, topic, es_url, index, expected = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
consumer = Consumer({"bootstrap.servers": broker, "group.id": "bench-plain-" + index, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
consumer.subscribe([topic])
es = Elasticsearch(es_url, request_timeout=120)
done = 0
while done < expected:
    messages = [m for m in consumer.consume(2000, 1.0) if m.error() is None]
    if not messages:
        continue
    body = b"".join(b'{"index":{"_index":"%s"}}\n%s\n' % (index.encode(), m.value()) for m in messages)
    es.bulk(operations=body)
    done += len(messages)
print(done)
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
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
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
    print(f"{'':<34}{'docs':>10}{'seconds':>9}{'docs/s':>9}{'RSS MB':>8}")
    vac_rates, plain_rates = [], []
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
        vac_rates.append(changes / seconds)
        print(f"{'vac index (SCADA changes)':<34}{changes:>10,}{seconds:>9.1f}{changes / seconds:>9,.0f}{rss:>8.0f}")
        plain_index = f"benchplain-scada-{run}-{attempt}"
        seconds, rss, _ = timed([sys.executable, "-c", PLAIN_LOADER, broker, topic, es_url, plain_index, str(changes)])
        plain_rates.append(changes / seconds)
        print(f"{'plain consumer + _bulk':<34}{changes:>10,}{seconds:>9.1f}{changes / seconds:>9,.0f}{rss:>8.0f}")
    ratios = [v / p for v, p in zip(vac_rates, plain_rates, strict=True)]
    print("vac index / plain _bulk loader: " + ", ".join(f"{r:.2f}x" for r in ratios))


if __name__ == "__main__":
    main()
