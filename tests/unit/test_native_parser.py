"""The compiled WinCC OA parser (`vac_native`) gives byte for byte the documents of the Python
one (the reference), however the bytes arrive: the real sample, read in chunks of any size,
and lines written to break it (clobbers, bare CRs, bad UTF-8, caps, huge lines, odd times)."""

from __future__ import annotations

import os
import random

import pytest

from tests.helpers import SAMPLE_LOG, read_all
from vac.logs.reading import MAX_LINE_PIECE, Document, DocumentReader, PythonReader, make_reader, native_available
from vac.parse.winccoa import WinccoaParser
from vac.records.logrecord import FileOrigin
from vac.settings import LogInput, VacSettings

if not native_available():
    if os.environ.get("VAC_REQUIRE_NATIVE") == "1":  # set by scripts/test.sh where cargo is
        pytest.fail("vac_native is not installed (scripts/bootstrap.sh builds it with cargo)", pytrace=False)
    # Without cargo there is no compiled parser to compare (vac runs on the Python one); where
    # cargo is, scripts/test.sh sets VAC_REQUIRE_NATIVE and a missing build fails above.
    pytest.skip("vac_native is not built here (no cargo)", allow_module_level=True)


def readers(max_lines: int = 500, max_bytes: int = 128 * 1024) -> tuple[DocumentReader, DocumentReader]:
    settings = VacSettings.model_validate(
        {"logs": {"max_record_lines": max_lines, "max_record_bytes": max_bytes, "timezone": "Europe/Zurich"}}
    )
    spec = LogInput(paths=["/x"], app_id="vac_lhc_1_scada_logs", fields={"site": 'point "5"\\'})
    origin = FileOrigin("scada1", "/opt/log/PVSS_II.log", "k1", spec.app_id, spec.fields)
    native = make_reader(spec, settings, origin)
    assert not isinstance(native, PythonReader)
    return PythonReader(WinccoaParser(max_lines=max_lines, max_bytes=max_bytes), origin), native


def assert_same(data: bytes, chunks: list[int], **caps: int) -> list[Document]:
    python, native = readers(**caps)
    expected, expected_lines = read_all(python, data, chunks)
    got, got_lines = read_all(native, data, chunks)
    assert got_lines == expected_lines
    for want, have in zip(expected, got, strict=True):
        assert have == want
    return got


def test_the_sample_gives_the_same_documents_read_whole_or_in_pieces() -> None:
    data = SAMPLE_LOG.read_bytes()
    whole = assert_same(data, [len(data)])
    assert len(whole) == 4364
    chance = random.Random(5)
    assert_same(data, [chance.randint(1, 5000) for _ in range(len(data) // 2500 + 10)])


NASTY = [
    b"WCCOActrl    (2), 2019.08.03 14:53:25.608, CTRL, WARNING,    76/ctrl, Invalid, dpGet(a, b), x(, y)), z  \r",
    b"    Line: 12",
    b"Hostname: scada1",
    b"\ta tab-indented line",
    b"",
    b"a fragment that starts nothing",
    b"WCCILsim (1), 2019.08.03 14:53:25.608, SYS, INFO, 1, a secsWCCOActrl(3), 2019.08.03 14:53:25.609, CTRL, INFO,"
    b" 5, clobbered text",
    b"WCCILdata (7), 2019.08.03 14:53:26.000, PARAM, SEVERE, 12/, no catalog after the slash",
    b"PVSS00ui (4), 2019.10.27 02:30:00.001, IMPL, ERROR, 3, in the hour that repeats\rWCCOActrl (1), 2019.03.31 "
    b"02:30:00.000, CTRL, INFO, 4, in the hour that is skipped",
    b"WCCOAui (1), 2019.02.30 10:00:00.000, CTRL, INFO, 4, no such day",
    b"WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 1234567890123456789, a code of 19 digits",
    b"WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 123456789012345678, a code of 18 digits",
    b"WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5,",
    b"WCCOAui\t(1), 2019.01.05 10:00:00.000, CTRL,INFO,5/cat.a-b,\ttext\x1c\x1f \xc2\xa0",
    b"WCCOAui (\xd9\xa1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, Arabic digit",
    b"WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, bad \xff\xfe bytes \xe2\x82 and \xed\xa0\x80"
    b" too\x00\x07\x7f",
    b"\xff starts with a bad byte",
    b"\r\rWCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, after two CRs",
    b'WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, quotes " and \\ and \xe2\x80\xa8 and \xf0\x9f\x98\x80',
    b"PVSSxx (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, textWCCOAx (2), 2019.01.05 10:00:00.000, A, B, 1, "
    b"cPVSSy (3), 2019.01.05 10:00:00.000, C_D,",
    b"Key-word line: with a colon",
    b"Key-word line:no space",
    "WCCOAui (1), 2019.01.05 10:00:00.000, CTRL, INFO, 5, ünïcödé, ☃ (snow, man), €".encode(),
]


def test_lines_written_to_break_it_give_the_same_documents() -> None:
    data = b"\n".join(NASTY) + b"\n"
    documents = assert_same(data, [len(data)])
    assert len(documents) == 14  # the rest are continuations and fragments
    assert sum("clobbered" in (tags or []) for _, _, _, tags, _ in documents) == 4
    assert b'"number":123456789012345678,' in b"".join(document[4] for document in documents)
    chance = random.Random(7)
    for _ in range(50):
        lines = [chance.choice(NASTY) for _ in range(chance.randint(1, 40))]
        data = b"\n".join(lines) + (b"\n" if chance.random() < 0.5 else b"")
        assert_same(data, [chance.randint(1, 300) for _ in range(len(data) // 50 + 2)])


def test_caps_and_huge_lines_split_records_the_same_way() -> None:
    import vac_native

    assert vac_native.MAX_LINE_PIECE == MAX_LINE_PIECE
    header = NASTY[0]
    continuation = b"    Line: " + b"x" * 300
    data = b"\n".join([header, *[continuation] * 20, header, b"y" * (3 * MAX_LINE_PIECE + 17), header]) + b"\n"
    documents = assert_same(data, [len(data)], max_lines=5, max_bytes=1024)
    assert any(tags and "truncated" in tags for _, _, _, tags, _ in documents)
    assert_same(data, [MAX_LINE_PIECE // 3] * 20, max_lines=5, max_bytes=1024)
    # A huge last line without its newline: passed on in pieces, its rest at the end of input.
    assert_same(data + b"z" * (MAX_LINE_PIECE + 5), [len(data) + MAX_LINE_PIECE + 5])
