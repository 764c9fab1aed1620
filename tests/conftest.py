"""The session fixture that starts (or reuses) the real local stack for integration tests.

The test stack has its own state dir (beside the user's) and its own ports, so tests never
touch the stack a developer runs; the downloads are shared through the default cache.
Set VAC_TEST_KEEP_STACK=1 to leave it running between test runs (much faster locally).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.helpers import free_base_port, run_vac
from vac.paths import default_state_dir


@dataclass(frozen=True)
class StackEndpoints:
    config_file: Path
    state_dir: Path
    bootstrap_servers: str
    elasticsearch_url: str

    @property
    def env(self) -> dict[str, str]:
        return {"VAC_CONFIG": str(self.config_file)}


def stack_state_dir(name: str = "vac-test") -> Path:
    return default_state_dir().parent / name


def _recorded_ports(state_dir: Path) -> tuple[int, int] | None:
    try:
        state = json.loads((state_dir / "stack.json").read_text())
        return state["kafka"]["port"], state["elasticsearch"]["port"]
    except (OSError, ValueError, KeyError):
        return None


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackEndpoints]:
    state_dir = stack_state_dir()
    ports = _recorded_ports(state_dir)
    kafka_port, es_port = ports or (free_base_port(29092, 1), free_base_port(29200, 100))
    config = {
        "local": {"state_dir": str(state_dir), "kafka_port": kafka_port, "elasticsearch_port": es_port},
        "kafka": {"bootstrap_servers": f"127.0.0.1:{kafka_port}", "timeout_s": 15},
        "elasticsearch": {"hosts": [f"http://127.0.0.1:{es_port}"], "request_timeout_s": 30},
    }
    config_file = tmp_path_factory.mktemp("stack") / "vac-test.yaml"
    config_file.write_text(yaml.safe_dump(config))
    result = run_vac("--config", str(config_file), "local", "up", timeout=900)
    assert result.returncode == 0, f"vac local up failed:\n{result.stdout}\n{result.stderr}"
    yield StackEndpoints(config_file, state_dir, f"127.0.0.1:{kafka_port}", f"http://127.0.0.1:{es_port}")
    if os.environ.get("VAC_TEST_KEEP_STACK", "") in ("", "0"):
        run_vac("--config", str(config_file), "local", "down", timeout=300)
