"""`vac tail topic` in a real pseudo-terminal, as an operator runs it (pexpect)."""

from __future__ import annotations

import os
import time
import uuid

import orjson
import pexpect
import pytest

from tests.conftest import StackEndpoints
from tests.helpers import VAC
from tests.integration.test_tail import create_topic, produce

pytestmark = pytest.mark.integration


def spawn(stack: StackEndpoints, *args: str, no_color: bool = False) -> pexpect.spawn:
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env |= {"TERM": "xterm-256color", "COLUMNS": "200", "LINES": "40"}
    if no_color:
        env["NO_COLOR"] = "1"
    return pexpect.spawn(
        VAC,
        ["--config", str(stack.config_file), "tail", "topic", *args],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 200),
    )


def test_follow_shows_new_messages_in_colour_and_ctrl_c_prints_the_summary(local_stack: StackEndpoints) -> None:
    topic = f"it-pty-{uuid.uuid4().hex[:6]}"
    create_topic(local_stack, topic, partitions=1)
    child = spawn(local_stack, topic, "--stats")
    time.sleep(3)  # the reader starts at the end: let it get there before producing
    now = int(time.time() * 1000)
    produce(
        local_stack,
        topic,
        [
            (b"VGPB_1.PR", orjson.dumps({"value": 3.2e-9, "level": "SEVERE"}), now),
            (b"VGPB_2.PR", orjson.dumps({"value": 1.5e-10, "status": {"invalid": True}}), now),
        ],
    )
    child.expect("VGPB_1.PR")
    child.expect(r"value=3\.20e-9")
    child.expect(r"\x1b\[31mlevel=SEVERE")  # severity in red
    child.expect("VGPB_2.PR")
    child.expect(r"value=150e-12")
    child.expect(r"\x1b\[31m\x1b\[1mstatus=")  # invalid status in bold red
    child.sendintr()
    child.expect(r"read 2 messages \(\d+ bytes\), matched 2")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_no_color_gives_plain_text_on_a_terminal(local_stack: StackEndpoints) -> None:
    topic = f"it-pty-plain-{uuid.uuid4().hex[:6]}"
    create_topic(local_stack, topic, partitions=1)
    produce(local_stack, topic, [(b"k", orjson.dumps({"level": "SEVERE"}), int(time.time() * 1000))])
    child = spawn(local_stack, topic, "--from", "beginning", "--no-follow", no_color=True)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "k level=SEVERE" in child.before
    assert "\x1b[" not in child.before
