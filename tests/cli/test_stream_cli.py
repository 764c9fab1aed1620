"""`vac stream scada` with a DPE list it cannot use: one error line and exit 2, before Kafka is
asked anything; a list with some unusable entries warns about them and goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import closed_port, error_line, run_vac


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is not JSON"),
        ("[]", "is empty"),
        ('[{"sourceDPE": 5, "topic": "vac.lhc.p"}, {"sourceDPE": null, "topic": "vac.lhc.p"}]', "no usable entry"),
        ('[{"sourceDPE": "[/]\\u001b[2J", "topic": "vac.lhc.p"}]', "no usable entry"),
    ],
)
def test_a_dpe_list_without_a_usable_dpe_exits_2_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    dpes = tmp_path / "[bold]dpes.json"  # markup in the path is shown, not applied
    dpes.write_text(content)
    env = {"VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}", "VAC_KAFKA__TIMEOUT_S": "2"}
    result = run_vac("stream", "scada", "--dpes", str(dpes), "--duration", "1", env=env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert message in error_line(result)
    assert "[bold]dpes.json" in error_line(result)
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr


def test_unusable_entries_are_named_in_a_warning_and_the_rest_is_used(tmp_path: Path) -> None:
    dpes = tmp_path / "dpes.json"
    dpes.write_text('[{"sourceDPE": "VGI_1.PR", "topic": "vac.lhc.p"}, {"sourceDPE": ["x"], "topic": "vac.lhc.p"}]')
    env = {"VAC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port()}", "VAC_KAFKA__TIMEOUT_S": "2"}
    result = run_vac("stream", "scada", "--dpes", str(dpes), "--duration", "1", env=env, timeout=60)
    assert "skipping bad input (DPE entry: sourceDPE is not a non-empty string)" in result.stderr
    assert "entry 1:" in result.stderr and "skipped 1 of 2 DPE entries" in result.stderr
    assert result.returncode == 3  # then Kafka, which is not there: the list itself was fine
    assert "Traceback" not in result.stderr
