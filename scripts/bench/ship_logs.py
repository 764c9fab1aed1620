#!/usr/bin/env python3
"""Benchmark: `vac ship logs` and `vac index` on the local stack (started with `vac local up`).

  .venv/bin/python scripts/bench/ship_logs.py [--mb 200]

Builds a WinCC OA-style log of about --mb MB from the real sample (its records repeated, with
CRLF line ends), ships it with `vac ship logs --once --from-beginning` into a fresh Kafka topic
(idempotent, acks=all), then indexes that topic with `vac index --until-caught-up` into a fresh
index family. Prints lines/s acknowledged by Kafka (over the whole run of the process, start-up
included, and as the shipper counts them from its first read), documents/s indexed, and the
peak RSS of each (from wait4). The shipper runs twice: with the compiled WinCC OA parser
(`vac_native`, the default) and with the Python one (`logs.native_parser: false`), into a
topic of its own. Writes a PNG chart (--plot) when matplotlib is installed.

The peer, in the same run: rsyslog (Debian's rsyslogd with imfile -> omkafka, installed by
`apt-get install rsyslog rsyslog-kafka`) reads the same file, joins the same multi-line records
(startmsg.regex) and sends each as a JSON message to its own topic with acks=all and lz4; its
time is until the topic holds every record. rsyslog does not parse the records (vac does).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml
from charts import pyplot  # noqa: E402  (a sibling module: scripts run from their folder)

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
SAMPLE = ROOT / "data" / "winccoa" / "PVSS_II.sample.log"


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


RSYSLOG_CONF = """
global(workDirectory="{work}")
module(load="imfile")
module(load="omkafka")
template(name="json" type="list") {{
  constant(value="{{\\"message\\":\\"") property(name="msg" format="json") constant(value="\\"}}")
}}
input(type="imfile" file="{log}" tag="pvss" freshStartTail="off" readTimeout="1"
      startmsg.regex="^WCC[A-Za-z]+ *\\\\(" ruleset="to_kafka")
ruleset(name="to_kafka") {{
  action(type="omkafka" broker=["{broker}"] topic="{topic}" template="json"
         confParam=["acks=all", "enable.idempotence=true", "compression.codec=lz4", "linger.ms=20",
                    "batch.num.messages=10000", "queue.buffering.max.messages=100000"])
}}
"""


def topic_messages(broker: str, topic: str) -> int:
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer({"bootstrap.servers": broker, "group.id": "bench"})
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        return sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in metadata.partitions)
    except KafkaException:  # a new topic's leader is not known yet
        return 0
    finally:
        consumer.close()


def rsyslog_peer(work: Path, log: Path, broker: str, topic: str, records: int) -> tuple[float, float] | None:
    """Seconds until rsyslog put all `records` into `topic`, and its peak RSS in MB."""
    rsyslogd = shutil.which("rsyslogd") or ("/usr/sbin/rsyslogd" if Path("/usr/sbin/rsyslogd").exists() else None)
    if rsyslogd is None:
        print("(rsyslogd is not installed: apt-get install rsyslog rsyslog-kafka; no peer)", file=sys.stderr)
        return None
    state = work / "rsyslog"
    state.mkdir()
    conf = state / "rsyslog.conf"
    conf.write_text(RSYSLOG_CONF.format(work=state, log=log, broker=broker, topic=topic))
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})  # kept: the future dies with its client
    admin.create_topics([NewTopic(topic, 6, 1)])[topic].result(30)
    start = time.perf_counter()
    process = subprocess.Popen([rsyslogd, "-n", "-f", str(conf), "-i", str(state / "pid")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        while topic_messages(broker, topic) < records:
            if process.poll() is not None:
                sys.exit(f"rsyslogd stopped: {process.stderr.read().decode() if process.stderr else ''}")
            if time.perf_counter() - start > 1800:
                sys.exit("rsyslog did not deliver every record within 30 minutes")
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
    finally:
        process.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(process.pid, 0)
    return elapsed, usage.ru_maxrss / 1024


PLAIN_LOADER = r"""
import sys, time
from confluent_kafka import Consumer, TopicPartition
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


def plain_loader(broker: str, topic: str, es_url: str, index: str, expected: int) -> tuple[float, float]:
    """The peer of `vac index`: a plain consumer + `_bulk` loop (no ids, no retries, no
    commits, no dead letters) from the same topic; seconds and peak RSS."""
    seconds, rss, _ = timed([sys.executable, "-c", PLAIN_LOADER, broker, topic, es_url, index, str(expected)])
    return seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--config", type=Path, help="vac config of the stack (default: the built-in local stack)")
    parser.add_argument("--plot", type=Path, default=Path("bench-ship-logs.png"))
    parser.add_argument("--ship-only", action="store_true", help="skip the indexing half (for a 1 GB log)")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = yaml.safe_load(args.config.read_text()) if args.config else {}
        base["logs"] = {"topic": f"bench.logs.{run}"}
        base["index"] = {"group_id": f"bench-index-{run}", "name_template": f"benchlogs-{run}" + "-{app}-{yyyy.MM}"}
        config = work / "bench.yaml"
        config.write_text(yaml.safe_dump(base))
        python_config = work / "bench-python.yaml"
        python_config.write_text(
            yaml.safe_dump(base | {"logs": {"topic": f"bench.logs.{run}.python", "native_parser": False}})
        )
        log = work / "PVSS_II.log"
        lines = build_log(log, args.mb)
        size_mb = log.stat().st_size / (1 << 20)
        print(f"log: {size_mb:,.0f} MB, {lines:,} lines", file=sys.stderr)

        def ship(config: Path, registry: str) -> tuple[float, float, dict[str, Any]]:
            seconds, rss, out = timed(
                [
                    VAC,
                    "--config",
                    str(config),
                    "ship",
                    "logs",
                    "--path",
                    str(log),
                    "--app-id",
                    "vac_bench_scada_logs",
                    "--once",
                    "--from-beginning",
                    "--registry",
                    str(work / registry),
                    "-q",
                    "-o",
                    "json",
                ]  # fmt: skip
            )
            return seconds, rss, json.loads(out)

        ship_s, ship_rss, shipped = ship(config, "registry.json")
        python_s, python_rss, python_shipped = ship(python_config, "registry-python.json")
        broker = str(base.get("kafka", {}).get("bootstrap_servers", "127.0.0.1:9092"))
        records = len(re.findall(rb"^WCC[A-Za-z]+ *\(", log.read_bytes(), re.M))
        peer = rsyslog_peer(work, log, broker, f"bench.rsyslog.{run}", records)
        if not args.ship_only:
            index_s, index_rss, out = timed(
                [VAC, "--config", str(config), "index", "--until-caught-up", "-q", "-o", "json"]
            )
            indexed = json.loads(out)
            es_url = str((base.get("elasticsearch", {}).get("hosts") or ["http://127.0.0.1:9200"])[0])
            topic = base["logs"]["topic"]
            plain_s, plain_rss = plain_loader(broker, topic, es_url, f"benchplain-{run}", shipped["acked"])
    print(f"{'stage':<30}{'count':>12}{'seconds':>9}{'per second':>12}{'peak RSS MB':>13}{'from 1st read/s':>17}")
    row("ship (lines acked by Kafka)", shipped["lines"], ship_s, ship_rss, shipped["lines_per_s"])
    row("  same, Python parser", python_shipped["lines"], python_s, python_rss, python_shipped["lines_per_s"])
    print(f"compiled / Python parser: {python_s / ship_s:.2f}x the rate")
    if not args.ship_only:
        row("index (documents)", indexed["indexed"], index_s, index_rss)
        row("plain consumer + _bulk", shipped["acked"], plain_s, plain_rss)
        print(f"vac index / plain _bulk loader: {plain_s / index_s:.2f}x the rate")
    if peer is not None:
        peer_s, peer_rss = peer
        row("rsyslog imfile->omkafka", shipped["lines"], peer_s, peer_rss)
        print(f"vac ship / rsyslog: {peer_s / ship_s:.2f}x the rate (time {ship_s:.1f} s vs {peer_s:.1f} s)")
    print(
        f"records shipped {shipped['records']:,}, acked {shipped['acked']:,}, failed {shipped['failed']}"
        f" (Python parser: {python_shipped['acked']:,} acked, {python_shipped['failed']} failed)"
    )
    rates = {
        "vac ship logs": shipped["lines"] / ship_s,
        "vac ship logs, Python parser": python_shipped["lines"] / python_s,
    }
    if peer is not None:
        rates["rsyslog imfile -> omkafka"] = shipped["lines"] / peer[0]
    plot(args.plot, rates, f"{size_mb:,.0f} MB WinCC OA-style log, {lines:,} lines")


def row(stage: str, count: int, seconds: float, rss: float, own_rate: float | None = None) -> None:
    own = f"{own_rate:>17,.0f}" if own_rate is not None else ""
    print(f"{stage:<30}{count:>12,}{seconds:>9.1f}{count / seconds:>12,.0f}{rss:>13.0f}{own}")


def plot(path: Path, rates: dict[str, float], title: str) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, axes = plt.subplots(figsize=(7, 2.6))
    names, values = list(reversed(rates)), [rates[name] / 1000 for name in reversed(rates)]
    colours = ["#1f77b4" if name == "vac ship logs" else "#888888" for name in names]
    bars = axes.barh(names, values, color=colours)
    axes.bar_label(bars, labels=[f"{v:,.0f}k/s" for v in values], padding=4)
    axes.axvline(150, linestyle="--", color="#d62728", linewidth=1, label="target 150k/s")
    axes.set_xlabel("thousand lines/s acked by Kafka (whole run, start-up included)")
    axes.set_xlim(0, max(values) * 1.3)
    axes.legend(loc="lower right")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
