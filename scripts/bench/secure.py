#!/usr/bin/env python3
"""Benchmark: what SASL_SSL costs `vac stream scada` and `vac ship logs`, against plaintext in the same run.

  .venv/bin/python scripts/bench/secure.py [--plain-config FILE] [--rounds 2] [--duration 10] [--mb 100]

Two single-broker Kafka stacks on this host: the plain one of --plain-config (default: vac's
own config, the stack of `vac local up`), and a secured one (`vac local up kafka --secure`:
SASL_SSL with TLS by the vac local CA, a local KDC) started in a state dir of its own on free
ports, or the one whose admin config (its `local` section) --secure-config names. Each stack
is started when not running and stopped at the end if this script started it (unless --keep).
The secured one gets the plain one's Kafka heap, so only the listener differs.

Then --rounds rounds, back to back so that every variant shares the machine's noise:

  1. `vac stream scada` flat out (asked 1,000,000 changes/s, far more than one process does)
     with the 9,927 LHC DPEs, plaintext, SASL_SSL+GSSAPI (a Kerberos ticket from the keytab
     `up` made) and SASL_SSL+SCRAM-SHA-512: acked changes/s and p99 ack latency;
  2. `vac ship logs --once --from-beginning` of a WinCC OA-style log of about --mb MB (the
     sample's records repeated, as ship_logs.py builds it), the same three ways: lines/s and
     MB/s over the whole process run, start-up included.

Every run checks its own counts: nothing failed or unknown, every change sent acked (every
line read, every record acked for the shipper) and the topic's watermarks hold exactly the
acked count. A run that lost anything stops the benchmark: its figures are not reported.
Each run writes a fresh topic, deleted after it was counted.

Prints the medians of the rounds and the secure/plain ratios (the median of each round's
ratio: the runs of one round are seconds apart), writes a PNG (--plot) when matplotlib is
installed, and with -o json prints every figure as JSON instead of the table.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from charts import pyplot  # noqa: E402  (a sibling module: scripts run from their folder)

from vac.paths import default_state_dir

ROOT = Path(__file__).resolve().parents[2]
VAC = str(Path(sys.executable).parent / "vac")
LHC_DPES = ROOT / "data" / "winccoa" / "LHC_KafkaStream.config"
SAMPLE = ROOT / "data" / "winccoa" / "PVSS_II.sample.log"
RECORD_START = re.compile(rb"^WCC[A-Za-z]+ *\(", re.M)
VARIANTS = ["plaintext", "SASL_SSL GSSAPI", "SASL_SSL SCRAM-SHA-512"]


class BenchError(Exception):
    """One line that says why the benchmark stopped."""


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mb: float
    cpu_s: float
    """The vac process's user + system CPU seconds."""
    broker_cpu_s: float
    """The broker JVM's over the same time (TLS and SASL cost it too)."""
    out: str


def broker_cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds the broker processes have used so far (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """How vac reaches one stack as a client: a config, the environment, and an admin
    connection (no ACLs) to count and delete the benchmark's topics."""

    name: str
    config_args: list[str]
    env: dict[str, str]
    admin_bootstrap: str
    broker_pids: list[int]

    def vac(self, *args: str) -> Run:
        """One vac run: wall time, peak RSS and CPU (from wait4), the broker's CPU, stdout;
        a failure stops the benchmark. Both outputs are small (-q, -o json): no pipe fills."""
        broker_before = broker_cpu_s(self.broker_pids)
        start = time.perf_counter()
        process = subprocess.Popen(
            [VAC, *self.config_args, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=self.env,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        out = process.stdout.read() if process.stdout else ""
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err = process.stderr.read() if process.stderr else ""
            raise BenchError(f"{self.name}: `vac {' '.join(args[:2])}` exited {code}: {last_line(err)}")
        broker = broker_cpu_s(self.broker_pids) - broker_before
        return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, broker, out)

    def messages(self, topic: str) -> int:
        """The records the topic holds (its end offsets: no transactions, no compaction)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.admin_bootstrap, "group.id": "bench-secure-count"})
        try:
            partitions = consumer.list_topics(topic, timeout=15).topics[topic].partitions
            return sum(
                high - low
                for low, high in (
                    consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15) for p in partitions
                )
            )
        finally:
            consumer.close()

    def delete(self, topic: str) -> None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": self.admin_bootstrap, "log_level": 5})  # no info chatter
        for future in admin.delete_topics([topic], operation_timeout=30).values():
            future.result(60)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_json(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> dict[str, Any]:
    result = subprocess.run([VAC, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if result.returncode != 0:
        raise BenchError(f"`vac {' '.join(args)}` exited {result.returncode}: {last_line(result.stderr)}")
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_base_port(start: int, *offsets: int) -> int:
    """The first port p >= start with p and p + each offset free (below Linux's ephemeral range)."""
    for port in range(start, start + 2000, 2):
        if all(port_free(port + offset) for offset in (0, *offsets)):
            return port
    raise BenchError(f"no free ports from {start}")


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """No VAC_* or KRB5_* setting of this shell leaks into a run."""
    base = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "NO_COLOR": "1"}
    return base | (extra or {})


@dataclass
class Stacks:
    started: list[tuple[list[str], str]] = field(default_factory=list)
    """(vac --config args, name) of each stack this script started, to stop at the end."""


def plain_stack(plain_config: Path | None, stacks: Stacks) -> tuple[Target, int]:
    config_args = ["--config", str(plain_config)] if plain_config else []
    env = clean_env()
    if plain_config is None and "VAC_CONFIG" in os.environ:  # vac's own config, wherever it is
        env["VAC_CONFIG"] = os.environ["VAC_CONFIG"]
    shown = run_json(*config_args, "config", "show", "-o", "json", env=env)
    if shown["kafka"]["security"]["protocol"] != "PLAINTEXT":
        raise BenchError("the plain stack's Kafka is not PLAINTEXT (it is the baseline): see --plain-config")
    print(f"plain stack: vac {' '.join(config_args)} local up kafka".replace("  ", " "), file=sys.stderr)
    up = run_json(*config_args, "local", "up", "kafka", "-o", "json", env=env)
    if "kafka" in up["started"]:
        stacks.started.append((config_args, "plain"))
    pids = next(service for service in up["services"] if service["name"] == "kafka")["pids"]
    target = Target(VARIANTS[0], config_args, env, shown["kafka"]["bootstrap_servers"], pids)
    return target, int(shown["local"]["kafka_heap_mb"])


def secure_admin_config(directory: Path, state_dir: Path, heap_mb: int) -> Path:
    """The `local` section of a secured stack in `state_dir`: the ports it had, or free ones."""
    try:
        state = json.loads((state_dir / "stack.json").read_text())
    except (OSError, ValueError):
        state = {}

    def port(service: str, start: int, *offsets: int) -> int:
        recorded = state.get(service, {}).get("port")  # a realm keeps its KDC's port
        return int(recorded) if recorded else free_base_port(start, *offsets)

    local = {
        "state_dir": str(state_dir),
        "kafka_port": port("kafka", 26092, 1, 2),  # clients, controller, INTERNAL
        "elasticsearch_port": port("elasticsearch", 26400, 100),
        "kdc_port": port("kdc", 26088),
        "kafka_heap_mb": heap_mb,
    }
    path = directory / "secure-local.yaml"
    path.write_text(yaml.safe_dump({"local": local}))
    return path


def secure_stack(admin: Path, stacks: Stacks) -> tuple[Path, dict[str, str], str, list[int], str]:
    """Client config, client env, the INTERNAL (ACL-free) bootstrap, the broker's pids and
    the SCRAM password."""
    print(f"secured stack: vac --config {admin} local up kafka --secure", file=sys.stderr)
    up = run_json("--config", str(admin), "local", "up", "kafka", "--secure", "-o", "json", env=clean_env())
    if "kafka" in up["started"]:
        stacks.started.append((["--config", str(admin)], "secured"))
    kafka = next(service for service in up["services"] if service["name"] == "kafka")
    internal = next((listener for listener in kafka["listeners"] if listener.startswith("INTERNAL ")), None)
    if internal is None or not up.get("client_config"):
        raise BenchError(f"{admin} is not the admin config of a secured stack (no INTERNAL listener)")
    credentials = json.loads((Path(up["state_dir"]) / "credentials.json").read_text())
    password = credentials["kafka_scram_password"]
    return Path(up["client_config"]), up["client_env"], internal.split()[2], kafka["pids"], password


def stop(stacks: Stacks) -> None:
    for config_args, name in reversed(stacks.started):
        print(f"stopping the {name} stack this script started", file=sys.stderr)
        subprocess.run([VAC, *config_args, "local", "down"], capture_output=True, env=clean_env(), timeout=300)


def stream_once(target: Target, duration: int, dpes: Path, rate: int = 1_000_000) -> dict[str, float]:
    topic = f"bench.secure.scada.{uuid.uuid4().hex[:8]}"
    run = target.vac(
        "stream", "scada", "--dpes", str(dpes), "--rate", str(rate), "--duration", str(duration),
        "--topic", topic, "-o", "json", "-q",
    )  # fmt: skip
    summary = json.loads(run.out)
    try:
        held = target.messages(topic)
    finally:
        target.delete(topic)
    lost = {name: summary[name] for name in ("failed", "unknown", "unflushed", "in_flight") if summary[name]}
    if lost or summary["acked"] != summary["sent"] or held != summary["acked"]:
        raise BenchError(
            f"{target.name}: vac stream scada lost changes, not reported: sent {summary['sent']:,}, "
            f"acked {summary['acked']:,}, topic holds {held:,}, {lost or ''}"
        )
    return {
        "acked_per_s": summary["acked"] / summary["duration_s"],
        "acked": summary["acked"],
        "p50_ms": summary["ack_latency_ms"]["p50"],
        "p99_ms": summary["ack_latency_ms"]["p99"],
        "rss_mb": summary["rss_mb"],
        "vac_us": run.cpu_s / summary["acked"] * 1e6,
        "broker_us": run.broker_cpu_s / summary["acked"] * 1e6,
    }


def ship_once(target: Target, log: Path, lines: int, records: int, work: Path) -> dict[str, float]:
    topic = f"bench.secure.logs.{uuid.uuid4().hex[:8]}"
    registry = work / f"registry-{uuid.uuid4().hex[:8]}.json"
    target.env["VAC_LOGS__TOPIC"] = topic
    try:
        run = target.vac(
            "ship", "logs", "--path", str(log), "--app-id", "vac_bench_secure_logs", "--once",
            "--from-beginning", "--registry", str(registry), "-q", "-o", "json",
        )  # fmt: skip
    finally:
        del target.env["VAC_LOGS__TOPIC"]
        registry.unlink(missing_ok=True)
    summary = json.loads(run.out)
    try:
        held = target.messages(topic)
    finally:
        target.delete(topic)
    if (summary["failed"], summary["lines"], summary["records"], summary["acked"], held) != (
        0, lines, records, records, records,
    ):  # fmt: skip
        raise BenchError(
            f"{target.name}: vac ship logs lost records, not reported: lines {summary['lines']:,} of {lines:,}, "
            f"records {summary['records']:,} of {records:,}, acked {summary['acked']:,}, failed "
            f"{summary['failed']:,}, topic holds {held:,}"
        )
    return {
        "lines_per_s": lines / run.seconds,
        "mb_per_s": log.stat().st_size / (1 << 20) / run.seconds,
        "seconds": run.seconds,
        "rss_mb": run.rss_mb,
        "vac_us": run.cpu_s / lines * 1e6,
        "broker_us": run.broker_cpu_s / lines * 1e6,
    }


def build_log(path: Path, megabytes: int) -> tuple[int, int]:
    """A WinCC OA-style log of about `megabytes` MB from the sample; its lines and records."""
    sample = SAMPLE.read_bytes()
    copies = max(1, megabytes * (1 << 20) // len(sample))
    with path.open("wb") as out:
        for _ in range(copies):
            out.write(sample)
    return copies * sample.count(b"\n"), copies * len(RECORD_START.findall(sample))


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def ratio(secure: list[dict[str, float]], plain: list[dict[str, float]], key: str) -> float:
    """The median of each round's secure/plain ratio."""
    return statistics.median(s[key] / p[key] for s, p in zip(secure, plain, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plain-config", type=Path, help="vac config of the plaintext stack (default: vac's own)")
    parser.add_argument("--secure-config", type=Path, help="admin config (`local` section) of a secured stack to use")
    parser.add_argument(
        "--secure-state-dir",
        type=Path,
        default=default_state_dir().parent / "vac-bench-secure",
        help="state dir of the secured stack this script starts (without --secure-config)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="plaintext, GSSAPI, SCRAM: this many times each")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each `vac stream scada` run")
    parser.add_argument("--dpes", type=Path, default=LHC_DPES)
    parser.add_argument(
        "--latency-rate",
        type=int,
        default=10_000,
        help="also stream at this rate, where ack latency is the path's, not the queue's (0: no)",
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds streamed to each variant first, not measured")
    parser.add_argument("--mb", type=int, default=100, help="size of the log to ship")
    parser.add_argument("--keep", action="store_true", help="leave running the stacks this script started")
    parser.add_argument("--plot", type=Path, default=Path("bench-secure.png"))
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text")
    args = parser.parse_args()
    if args.rounds < 1 or args.duration < 1 or args.mb < 1 or args.latency_rate < 0 or args.warmup < 0:
        parser.error("--rounds, --duration and --mb must be at least 1, --latency-rate and --warmup at least 0")
    for option in ("plain_config", "secure_config"):
        path = getattr(args, option)
        if path is not None and not path.is_file():
            parser.error(f"--{option.replace('_', '-')} {path}: no such file")
    with tempfile.TemporaryDirectory(prefix="bench-secure-") as tmp:
        work = Path(tmp)
        stacks = Stacks()
        try:
            figures = run(args, work, stacks)
        except BenchError as error:
            sys.exit(f"bench: error: {error}")
        finally:
            if not args.keep:
                stop(stacks)
            elif stacks.started:
                print(f"kept running: {', '.join(name for _, name in stacks.started)}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps(figures, indent=2))
    else:
        table(figures)
    plot(args.plot, figures)


def run(args: argparse.Namespace, work: Path, stacks: Stacks) -> dict[str, Any]:
    plain, heap_mb = plain_stack(args.plain_config, stacks)
    admin = args.secure_config or secure_admin_config(work, args.secure_state_dir, heap_mb)
    if args.keep and args.secure_config is None:  # `vac local down` needs it later
        kept = args.secure_state_dir.parent / f"{args.secure_state_dir.name}.yaml"
        kept.write_text(admin.read_text())
        admin = kept
        print(f"secured stack's admin config: {admin}", file=sys.stderr)
    client_config, client_env, internal, broker_pids, scram_password = secure_stack(admin, stacks)
    client_args = ["--config", str(client_config)]
    gssapi = Target(VARIANTS[1], client_args, clean_env(client_env), internal, broker_pids)
    scram_env = {
        "VAC_KAFKA__SECURITY__SASL_MECHANISM": "SCRAM-SHA-512",
        "VAC_KAFKA__SECURITY__USERNAME": "vac",
        "VAC_KAFKA__SECURITY__PASSWORD": scram_password,
    }
    scram = Target(VARIANTS[2], client_args, clean_env(client_env) | scram_env, internal, broker_pids)
    targets = [plain, gssapi, scram]
    log = work / "PVSS_II.log"
    lines, records = build_log(log, args.mb)
    size_mb = log.stat().st_size / (1 << 20)
    print(f"log: {size_mb:,.0f} MB, {lines:,} lines, {records:,} records", file=sys.stderr)
    if args.warmup:  # a broker just started has not compiled its TLS paths yet: not measured
        for target in targets:
            announce(f"warm-up: stream scada {args.warmup} s, {target.name}")
            reported(stream_once(target, args.warmup, args.dpes))
    streams: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    paced: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    ships: dict[str, list[dict[str, float]]] = {target.name: [] for target in targets}
    load_before = os.getloadavg()
    started = time.monotonic()
    for round_ in range(1, args.rounds + 1):
        for target in targets:
            announce(f"round {round_}/{args.rounds}: stream scada flat out, {target.name}")
            streams[target.name].append(reported(stream_once(target, args.duration, args.dpes)))
        for target in targets if args.latency_rate else []:
            announce(f"round {round_}/{args.rounds}: stream scada at {args.latency_rate:,}/s, {target.name}")
            paced[target.name].append(reported(stream_once(target, args.duration, args.dpes, args.latency_rate)))
        for target in targets:
            announce(f"round {round_}/{args.rounds}: ship logs, {target.name}")
            ships[target.name].append(reported(ship_once(target, log, lines, records, work)))
    cpu = ["vac_us", "broker_us"]
    figures = {
        "rounds": args.rounds,
        "stream_duration_s": args.duration,
        "latency_rate": args.latency_rate,
        "dpes": args.dpes.name,
        "log_mb": round(size_mb, 1),
        "log_lines": lines,
        "log_records": records,
        "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()],
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - started, 1),
        "stream": summarise(streams, ["acked_per_s", "p99_ms", *cpu]),
        "ship": summarise(ships, ["lines_per_s", "mb_per_s", *cpu], ["rss_mb"]),
    }
    if args.latency_rate:
        figures["paced"] = summarise(paced, ["p50_ms", "p99_ms", *cpu])
    return figures


def summarise(
    runs: dict[str, list[dict[str, float]]], compared: list[str], medians: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Each variant's runs, the median of each figure, and for each `compared` figure the
    median of each round's ratio to plaintext's (`KEY_ratio`)."""
    plain = runs[VARIANTS[0]]
    return {
        name: {"runs": each}
        | {key: median_of(each, key) for key in [*compared, *(medians or [])]}
        | {f"{key}_ratio": ratio(each, plain, key) for key in compared}
        for name, each in runs.items()
    }


def announce(label: str) -> None:
    print(f"{label}...", file=sys.stderr, end=" ", flush=True)


def reported(result: dict[str, float]) -> dict[str, float]:
    print(", ".join(f"{key} {value:,.1f}".removesuffix(".0") for key, value in result.items()), file=sys.stderr)
    return result


def table(figures: dict[str, Any]) -> None:
    rounds = figures["rounds"]
    note = f"median of {rounds} rounds; x: the median of each round's secure/plaintext ratio"
    cpu_head = f"{'vac us':>8}{'x':>6}{'broker us':>10}{'x':>6}"

    def cpu(row: dict[str, Any]) -> str:
        return (
            f"{row['vac_us']:>8.1f}{row['vac_us_ratio']:>6.2f}{row['broker_us']:>10.1f}{row['broker_us_ratio']:>6.2f}"
        )

    print(
        f"\nvac stream scada flat out, {figures['dpes']}, {figures['stream_duration_s']} s runs ({note}; "
        "us: CPU microseconds per acked change)"
    )
    print(f"{'Kafka listener':<24}{'acked/s':>10}{'x':>6}{'p99 ms':>8}{'x':>6}{cpu_head}   rounds' acked/s")
    for name, row in figures["stream"].items():
        each = ", ".join(f"{run['acked_per_s']:,.0f}" for run in row["runs"])
        print(
            f"{name:<24}{row['acked_per_s']:>10,.0f}{row['acked_per_s_ratio']:>6.2f}"
            f"{row['p99_ms']:>8.1f}{row['p99_ms_ratio']:>6.2f}{cpu(row)}   {each}"
        )
    if "paced" in figures:
        print(f"\nvac stream scada at {figures['latency_rate']:,} changes/s: ack latency")
        print(f"{'Kafka listener':<24}{'p50 ms':>10}{'x':>6}{'p99 ms':>8}{'x':>6}{cpu_head}   rounds' p99 ms")
        for name, row in figures["paced"].items():
            each = ", ".join(f"{run['p99_ms']:,.1f}" for run in row["runs"])
            print(
                f"{name:<24}{row['p50_ms']:>10.1f}{row['p50_ms_ratio']:>6.2f}"
                f"{row['p99_ms']:>8.1f}{row['p99_ms_ratio']:>6.2f}{cpu(row)}   {each}"
            )
    print(
        f"\nvac ship logs --once --from-beginning, {figures['log_mb']:,.0f} MB, {figures['log_lines']:,} lines "
        f"({figures['log_records']:,} records), whole process run (us: CPU microseconds per line)"
    )
    print(f"{'Kafka listener':<24}{'lines/s':>10}{'x':>6}{'MB/s':>8}{'RSS MB':>8}{cpu_head}   rounds' lines/s")
    for name, row in figures["ship"].items():
        each = ", ".join(f"{run['lines_per_s']:,.0f}" for run in row["runs"])
        print(
            f"{name:<24}{row['lines_per_s']:>10,.0f}{row['lines_per_s_ratio']:>6.2f}"
            f"{row['mb_per_s']:>8.1f}{row['rss_mb']:>8.0f}{cpu(row)}   {each}"
        )
    before, after = figures["load_average_before"], figures["load_average_after"]
    print(
        f"\n{figures['cpus']} CPUs; load average before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; {figures['seconds']:.0f} s of runs"
    )


def plot(path: Path, figures: dict[str, Any]) -> None:
    plt = pyplot()
    if plt is None:
        return
    figure, (streams, ships) = plt.subplots(1, 2, figsize=(10, 2.8))
    colours = ["#888888", "#1f77b4", "#ff7f0e"]
    for axes, section, key, unit in (
        (streams, "stream", "acked_per_s", "thousand acked changes/s (vac stream scada)"),
        (ships, "ship", "lines_per_s", "thousand lines/s (vac ship logs)"),
    ):
        names = list(reversed(figures[section]))
        values = [figures[section][name][key] / 1000 for name in names]
        ratios = [figures[section][name][f"{key}_ratio"] for name in names]
        bars = axes.barh(names, values, color=list(reversed(colours)))
        axes.bar_label(bars, labels=[f"{v:,.0f}k/s ({r:.2f}x)" for v, r in zip(values, ratios, strict=True)], padding=4)
        axes.set_xlabel(unit)
        axes.set_xlim(0, max(values) * 1.5)
    ships.set_yticklabels([])
    figure.suptitle(
        f"plaintext vs SASL_SSL, median of {figures['rounds']} rounds (x: median of each round's secure/plain)",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    print(f"plot: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
