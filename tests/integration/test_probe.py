"""`vac probe latency` on the local stack: each path end to end, the sweep plot, a run the
sender could not keep up with, and a probe topic the principal may not write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import StackEndpoints
from tests.helpers import error_line, run_vac

pytestmark = pytest.mark.integration


def probe(stack: StackEndpoints, *args: str, timeout: float = 300) -> tuple[int, Any]:
    result = run_vac("--config", str(stack.config_file), "probe", "latency", *args, "-o", "json", timeout=timeout)
    assert result.stdout, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_kafka_path_at_ten_thousand_per_second(local_stack: StackEndpoints) -> None:
    status, run = probe(local_stack, "--path", "kafka", "--rate", "10000", "--duration", "8")
    assert status == 0, run
    assert run["valid"] and run["invalid_reason"] is None
    assert abs(run["achieved_rate"] - 10_000) <= 200  # within 2%
    assert run["sent"] == run["received"] == 100_000 and run["lost"] == 0 and run["duplicated"] == 0
    assert run["measured"] == 80_000  # the 2 s warm-up is sent, not measured
    latency = run["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["p999"] <= latency["max"]
    # The goal, p99 <= 20 ms, is a speed figure: measured by the probe itself on a quiet machine
    # (7 ms, see the README), not asserted here, where the previous test's Elasticsearch merges
    # share the 2 cores (one CI run saw 85 ms).


def test_scada_path_goes_through_the_streamer(local_stack: StackEndpoints) -> None:
    status, run = probe(local_stack, "--path", "scada", "--rate", "2000", "--duration", "3", "--warmup", "1")
    assert status == 0, run
    assert run["path"] == "scada" and run["valid"]
    assert run["sent"] == run["received"] == 8000 and run["lost"] == 0 and run["duplicated"] == 0
    assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["max"]


def test_logs_path_ends_when_each_line_is_searchable(local_stack: StackEndpoints) -> None:
    status, run = probe(local_stack, "--path", "logs", "--rate", "100", "--duration", "3", "--warmup", "1")
    assert status == 0, run
    assert run["sent"] == run["received"] == 400 and run["lost"] == 0 and run["duplicated"] == 0
    # Searchable takes at least an index refresh; never more than the drain allows.
    assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["max"] < 30_000


def test_sweep_writes_the_comparison_plot(local_stack: StackEndpoints, tmp_path: Path) -> None:
    plot = tmp_path / "sweep.png"
    status, sweep = probe(local_stack, "--sweep", "50,500", "--duration", "2", "--warmup", "0.5", "--plot", str(plot))
    assert status == 0, sweep
    assert [run["requested_rate"] for run in sweep["runs"]] == [50, 500]
    assert all(run["lost"] == 0 and run["valid"] for run in sweep["runs"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 20_000


def test_a_rate_the_sender_cannot_keep_is_an_invalid_run(local_stack: StackEndpoints) -> None:
    status, run = probe(local_stack, "--rate", "500000", "--duration", "1", "--warmup", "0", "--size", "16")
    assert status == 1
    assert not run["valid"] and "of the 500,000/s requested" in run["invalid_reason"]
    assert run["achieved_rate"] < 490_000


def test_errors_name_what_to_start(tmp_path: Path) -> None:
    closed = "127.0.0.1:9"  # discard: nothing listens
    env = {"VAC_CONFIG": "", "VAC_KAFKA__BOOTSTRAP_SERVERS": closed, "VAC_KAFKA__TIMEOUT_S": "2",
           "VAC_ELASTICSEARCH__HOSTS": f'["http://{closed}"]', "VAC_ELASTICSEARCH__REQUEST_TIMEOUT_S": "2"}  # fmt: skip
    kafka = run_vac("probe", "latency", "--duration", "1", env=env)
    assert kafka.returncode == 3 and "did not answer" in error_line(kafka)
    assert "vac local up" in kafka.stderr
    logs = run_vac("probe", "latency", "--path", "logs", "--duration", "1", env=env)
    assert logs.returncode == 3 and "Elasticsearch" in error_line(logs) and "vac local up" in logs.stderr
