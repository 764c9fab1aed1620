#!/usr/bin/env python3
"""Benchmark: how long vac takes to start, next to the floor (`python -c pass`) and a minimal
confluent-kafka script reading one message (and kcat, where installed), in the same run.

Run on the local stack (the one `vac config show` points at, or --brokers B), or on a Kafka of
its own (--own-stack: `vac local up kafka` in a state dir of its own on free ports, stopped at
the end; the shared test stack is sometimes restarted under a run):
    .venv/bin/python scripts/bench/startup.py --runs 21 [--own-stack]
It makes a one-partition topic with one message (once), then, alternating the commands round
by round to share out the machine's noise, times RUNS runs of each:

  python -c pass                                   the interpreter alone (the floor)
  vac --version                                    target: <= 4x python -c pass
  vac --debug --version                            the same answer through typer (no short cut)
  vac --help                                       every command with its one-line help
  minimal.py (10 lines of confluent-kafka)         assign partition 0 from the beginning, poll one
  vac tail topic T --from beginning --count 1 -o raw   target: <= 1.5x minimal.py
  kcat -C -e -o beginning -c 1                     a C peer, where installed

Wall time of the whole process, as a user sees it; the medians and their ratios are printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import yaml
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

VAC = str(Path(sys.executable).parent / "vac")
TOPIC = "bench.startup.one"
MINIMAL_NAME = "minimal.py (confluent-kafka)"
TAIL_NAME = "vac tail ... --count 1 -o raw"
MINIMAL = """\
import sys
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
consumer = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "bench-startup", "enable.auto.commit": False})
consumer.assign([TopicPartition(sys.argv[2], 0, OFFSET_BEGINNING)])
message = consumer.poll(10)
while message is None or message.error():
    message = consumer.poll(10)
sys.stdout.buffer.write(message.value() + b"\\n")
consumer.close()
"""


def bootstrap_servers() -> str:
    out = subprocess.run([VAC, "config", "show", "-o", "json"], capture_output=True, text=True, check=True).stdout
    return str(orjson.loads(out)["kafka"]["bootstrap_servers"])


def free_port(start: int) -> int:
    """The first even port from `start` that is free along with the next (the controller's)."""
    for port in range(start, start + 2000, 2):
        with socket.socket() as one, socket.socket() as two:
            try:
                one.bind(("127.0.0.1", port))
                two.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free ports from {start}")


def own_stack(directory: Path) -> tuple[str, Path]:
    """`vac local up kafka` in a state dir of its own; its bootstrap servers and config."""
    port = free_port(27092)
    config = directory / "bench-startup.yaml"
    local = {"state_dir": str(directory / "state"), "kafka_port": port, "elasticsearch_port": free_port(27300)}
    config.write_text(yaml.safe_dump({"local": local, "kafka": {"bootstrap_servers": f"127.0.0.1:{port}"}}))
    print(f"starting a Kafka of its own on 127.0.0.1:{port}", file=sys.stderr)
    subprocess.run([VAC, "--config", str(config), "local", "up", "kafka"], check=True, stdout=subprocess.DEVNULL)
    return f"127.0.0.1:{port}", config


def one_message_topic(servers: str) -> None:
    admin = AdminClient({"bootstrap.servers": servers})
    if TOPIC in admin.list_topics(timeout=10).topics:
        return
    admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(30)
    producer = Producer({"bootstrap.servers": servers})
    producer.produce(TOPIC, b'{"id": "VGPB_1_5L4_B.PR", "value": 3.2e-9}')
    if producer.flush(30):
        raise SystemExit(f"could not write the message to {TOPIC}")


def timed(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run. On a busy machine the wall time
    carries the waits for a core; the CPU time is what the command itself costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 or (command[-1] == "raw" and not result.stdout):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.decode()[-500:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (the median is reported)")
    parser.add_argument("--brokers", help="bootstrap servers (default: the configured ones)")
    parser.add_argument("--own-stack", action="store_true", help="start a Kafka of its own (and stop it)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        config = None
        if args.own_stack:
            servers, config = own_stack(Path(scratch))
        else:
            servers = args.brokers or bootstrap_servers()
        try:
            times, cpu = measure(servers, Path(scratch), args.runs)
        finally:
            if config is not None:
                subprocess.run([VAC, "--config", str(config), "local", "down"], stdout=subprocess.DEVNULL)
    report(times, cpu, args.runs)


def measure(servers: str, scratch: Path, runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU times of each command, `runs` rounds, the commands alternating."""
    one_message_topic(servers)
    os.environ["VAC_KAFKA__BOOTSTRAP_SERVERS"] = servers
    minimal = scratch / "minimal.py"
    minimal.write_text(MINIMAL)
    tail = ["tail", "topic", TOPIC, "--from", "beginning", "--count", "1", "-o", "raw"]
    commands: dict[str, list[str]] = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "vac --version": [VAC, "--version"],
        "vac --debug --version": [VAC, "--debug", "--version"],
        "vac --help": [VAC, "--help"],
        MINIMAL_NAME: [sys.executable, str(minimal), servers, TOPIC],
        TAIL_NAME: [VAC, *tail],
    }
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat:
        commands["kcat -C -e -c 1"] = [kcat, "-C", "-b", servers, "-t", TOPIC, "-o", "beginning", "-c", "1", "-e"]
    for command in commands.values():  # warm the page cache and the .pyc files
        timed(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, used = timed(command)
            times[name].append(wall)
            cpu[name].append(used)
    return times, cpu


def report(times: dict[str, list[float]], cpu: dict[str, list[float]], runs: int) -> None:
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    median_cpu = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    floor, peer = "python -c pass", MINIMAL_NAME
    print(f"{runs} runs each, alternating; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; ms")
    print(
        f"{'command':<34} {'wall':>8} {'p10':>8} {'p90':>8} {'x python':>9} {'x minimal':>10} "
        f"{'cpu':>7} {'x python':>9} {'x minimal':>10}"
    )
    for name, values in times.items():
        ms = sorted(v * 1000 for v in values)
        p10, p90 = ms[len(ms) // 10], ms[(len(ms) * 9) // 10]
        print(
            f"{name:<34} {median[name]:>8.1f} {p10:>8.1f} {p90:>8.1f} "
            f"{median[name] / median[floor]:>8.2f}x {median[name] / median[peer]:>9.2f}x "
            f"{median_cpu[name]:>7.1f} {median_cpu[name] / median_cpu[floor]:>8.2f}x "
            f"{median_cpu[name] / median_cpu[peer]:>9.2f}x"
        )
    for label, name, against, target in (
        ("vac --version", "vac --version", floor, 4.0),
        ("one-message tail", TAIL_NAME, peer, 1.5),
    ):
        wall, used = median[name] / median[against], median_cpu[name] / median_cpu[against]
        verdict = "met" if wall <= target else "MISSED"
        print(f"{label}: {wall:.2f}x {against} in wall time (target <= {target:g}x: {verdict}), {used:.2f}x in CPU")


if __name__ == "__main__":
    main()
