"""`-o json` on the commands that report an outcome: `vac index replay-dlq`."""

from __future__ import annotations

import json
import uuid

from tests.conftest import StackEndpoints
from tests.helpers import run_vac


def test_replay_dlq_reports_one_json_object(local_stack: StackEndpoints) -> None:
    dlq, target = f"startup-dlq-{uuid.uuid4().hex[:8]}", f"startup-target-{uuid.uuid4().hex[:8]}"
    env = {**local_stack.env, "VAC_INDEX__DEAD_LETTER_TOPIC": dlq}
    result = run_vac("index", "replay-dlq", "--to", target, "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"resent": 0, "from": dlq, "to": target}
