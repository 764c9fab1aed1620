"""Bounded fuzzing of the log parsers, as the shipper's readers use them (chunked reads, the
partial line carried over): on any bytes no exception, every byte of the input in exactly
one record in order, the records' line counts adding up to the lines read, and for WinCC OA
the compiled parser giving byte for byte the documents and line count of the Python one.

Line accounting: a record counts the lines it holds; the reader counts lines (a bare CR is a
line end for WinCC OA); a record that starts inside a line (a clobbering header, the rest of
a line cut at the cap) holds a line the reader counted for the record before it."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import read_all
from vac.logs.reading import Document, PythonReader, make_reader, native_available
from vac.records.logrecord import FileOrigin
from vac.settings import LogInput, VacSettings

HEADERS = [
    b"WCCOActrl    (2), 2019.08.03 14:53:25.608, CTRL, WARNING,    76/ctrl, Invalid, dpGet(a, b), x",
    b"WCCILpmon    (0), 2019.08.03 14:53:26.001, SYS,  INFO,       1, Process monitor started",
    b"PVSS00ui     (3), 2019.10.27 02:30:00.000, PARAM, SEVERE, 54, Ambiguous hour",
    b'10.0.0.1 - bob [03/Aug/2019:14:53:25 +0200] "GET /vac/api HTTP/1.1" 200 512 "-" "curl" 12',
    b"2019-08-03 14:53:25.608  INFO 4242 --- [main] o.s.b.App : Started App in 3.1 seconds",
    b"2019-08-03T14:53:25Z ERROR boom",
]
PIECES = st.one_of(
    st.sampled_from(HEADERS),
    st.sampled_from([b"\n", b"\r\n", b"\r", b"    Line: 12", b"Hostname: scada1", b"\t", b", ", b"(", b")"]),
    st.binary(max_size=40),
    st.just(b"x" * 40_000 + b"\n"),  # longer than a read piece (32 KiB)
)
INPUTS = st.lists(PIECES, max_size=40).map(b"".join)
CHUNKS = st.lists(st.integers(1, 70_000), min_size=1, max_size=8)
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reader(parser: str, native: bool, max_lines: int, max_bytes: int) -> Any:
    config = {"max_record_lines": max_lines, "max_record_bytes": max_bytes, "native_parser": native}
    spec = LogInput(
        paths=["/x"], app_id="vac_test_logs", parser=parser,  # type: ignore[arg-type]
        pattern=r"(?P<timestamp>\S+Z) (?P<level>[A-Z]+) (?P<text>.*)" if parser == "regex" else None,
    )  # fmt: skip
    origin = FileOrigin("host", "/x/app.log", "k", spec.app_id, {})
    return make_reader(spec, VacSettings.model_validate({"logs": config}), origin)


def chunked(data: bytes, sizes: list[int]) -> list[int]:
    """Chunk sizes that cover `data` (the last one repeated as needed)."""
    chunks, covered = [], 0
    while covered < len(data):
        size = sizes[len(chunks) % len(sizes)]
        chunks.append(size)
        covered += size
    return chunks


def check_accounting(data: bytes, documents: list[Document], lines: int) -> None:
    docs = [orjson.loads(document[4]) for document in documents]
    offsets = [doc["log"]["offset"] for doc in docs]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)  # in order, each once
    shipped = "".join(doc["message"] for doc in docs).replace("\n", "").replace("\r", "")
    # Decoded line by line, as the parsers decode (an invalid byte never pairs across a line end).
    assert shipped == "".join(part.decode("utf-8", "backslashreplace") for part in re.split(rb"[\r\n]", data))
    inside_a_line = sum(1 for offset in offsets if offset > 0 and data[offset - 1] not in b"\r\n")
    assert sum(doc.get("lines", 1) for doc in docs) == lines + inside_a_line


CAPS = st.sampled_from([(500, 128 * 1024), (3, 1024), (1, 50_000)])


@pytest.mark.parametrize("parser", ["tomcat_access", "spring_boot", "regex"])
@BOUNDED
@given(data=INPUTS, sizes=CHUNKS, caps=CAPS)
def test_the_web_app_parsers_account_for_every_byte_and_line(
    parser: str, data: bytes, sizes: list[int], caps: tuple[int, int]
) -> None:
    documents, lines = read_all(reader(parser, False, *caps), data, chunked(data, sizes))
    check_accounting(data, documents, lines)


@BOUNDED
@given(data=INPUTS, sizes=CHUNKS, caps=CAPS)
def test_the_winccoa_parsers_agree_and_account_for_every_byte_and_line(
    data: bytes, sizes: list[int], caps: tuple[int, int]
) -> None:
    chunks = chunked(data, sizes)
    python = reader("winccoa", False, *caps)
    assert isinstance(python, PythonReader)
    documents, lines = read_all(python, data, chunks)
    check_accounting(data, documents, lines)
    if native_available():
        compiled = reader("winccoa", True, *caps)
        assert not isinstance(compiled, PythonReader)
        assert read_all(compiled, data, chunks) == (documents, lines)
