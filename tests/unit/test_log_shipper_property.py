"""Property: whatever a directory of small files looks like (identical files, files that are
prefixes of one another, files with the same banner, empty files, files under 1 KiB, a last
line without its newline), one `--once` run ships every line (every byte) of every file exactly once, and
a second run ships nothing. The real shipper on real files, against the recording sink."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_log_shipper import RecordingSink
from tests.unit.test_log_shipper import settings as shipper_settings
from vac.logs.shipper import LogShipper, ShipOptions
from vac.settings import LogInput

BANNER = b"WCCILpmon    (0), 2026.11.28 10:00:00.000, SYS,  INFO,       1, Process monitor started\n"


def record_line(n: int) -> bytes:
    return b"WCCOActrl    (1), 2026.11.28 10:00:01.%03d, CTRL, INFO, 7, line %d\n" % (n % 1000, n)


@st.composite
def directories(draw: st.DrawFn) -> list[bytes]:
    """The contents of up to 12 files, each built from an earlier one or from scratch."""
    files: list[bytes] = []
    for _ in range(draw(st.integers(1, 12))):
        numbers = draw(st.lists(st.integers(0, 40), max_size=12))
        fresh = b"".join(record_line(n) for n in numbers)
        kind = draw(
            st.sampled_from(
                ["fresh", "banner", "copy", "prefix", "extends", "empty"] if files else ["fresh", "banner", "empty"]
            )
        )
        if kind == "fresh":
            content = fresh
        elif kind == "banner":
            content = BANNER + fresh
        elif kind == "empty":
            content = b""
        else:
            base = draw(st.sampled_from(files))
            if kind == "copy":
                content = base
            elif kind == "prefix":
                content = base[: draw(st.integers(0, len(base)))]  # may cut a line: a last line without newline
            else:
                content = base + fresh
        files.append(content)
    return files


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=directories())
def test_every_line_of_every_file_is_shipped_exactly_once(contents: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        directory = Path(workdir)
        for number, content in enumerate(contents):
            (directory / f"f{number:02d}.log").write_bytes(content)

        def ship() -> list[dict[str, object]]:
            spec = LogInput(paths=[str(directory / "*.log")], app_id="vac_test_scada_logs")
            options = ShipOptions(once=True, from_beginning=True)
            shipper = LogShipper(shipper_settings(), [spec], directory / "registry.json", options)
            sink = RecordingSink(shipper)
            shipper.run(threading.Event(), sink=sink)
            return sink.docs

        docs = ship()
        for number, content in enumerate(contents):
            path = str(directory / f"f{number:02d}.log")
            mine = sorted((d for d in docs if d["log"]["file"]["path"] == path), key=lambda d: d["log"]["offset"])  # type: ignore[index]
            # Every byte once, in order (a line may be split where a clobbering record starts,
            # so records are compared by content, not one per line).
            assert "".join(str(d["message"]).replace("\n", "") for d in mine) == content.replace(b"\n", b"").decode()
        assert len({(d["log"]["file"]["path"], d["log"]["offset"]) for d in docs}) == len(docs)  # type: ignore[index]
        assert ship() == []
