"""`vac doctor` says when the servers let anyone in: the local stack's Kafka (PLAINTEXT, no
SASL) and Elasticsearch (security off, plain http) are reported as warnings, in text and in
JSON, without failing the run (issue #15, finding 11)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import StackEndpoints
from tests.helpers import run_vac

pytestmark = pytest.mark.integration


def test_doctor_warns_that_the_local_stack_lets_anyone_in(local_stack: StackEndpoints) -> None:
    as_json = run_vac("doctor", "--output", "json", env=local_stack.env)
    assert as_json.returncode == 0, as_json.stdout
    checks = {check["name"]: check for check in json.loads(as_json.stdout)["checks"]}
    assert checks["kafka auth"]["status"] == "warn"
    assert checks["kafka auth"]["detail"] == (
        f"{local_stack.bootstrap_servers} is reached over PLAINTEXT without SASL: anyone who can reach it can "
        "read and write every topic"
    )
    assert checks["es auth"]["status"] == "warn"
    assert checks["es auth"]["detail"].startswith(
        f"{local_stack.elasticsearch_url} answers without authentication over plain http (security off)"
    )
    as_text = run_vac("doctor", env=local_stack.env)
    assert as_text.returncode == 0
    lines = as_text.stdout.splitlines()
    assert any(line.startswith("warn kafka auth") and "PLAINTEXT without SASL" in line for line in lines)
    assert any(line.startswith("warn es auth") and "without authentication" in line for line in lines)


def test_credentials_the_server_does_not_ask_for_are_still_a_warning(local_stack: StackEndpoints) -> None:
    env = {**local_stack.env, "VAC_ELASTICSEARCH__USERNAME": "writer", "VAC_ELASTICSEARCH__PASSWORD": "pw-unused"}
    result = run_vac("doctor", "--output", "json", env=env)
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["es auth"]["status"] == "warn"
    assert "pw-unused" not in result.stdout + result.stderr
