"""kcat -J's string encoding (yajl without UTF-8 validation), `-X` and `-H` parsing, and the
line splitting of `vac produce`: pure logic, checked against what kcat 1.7.1 printed for the
same bytes (tests/integration/test_kcat_habits.py compares with kcat itself)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.context import parse_properties
from commands.render import yajl_string
from vac.errors import UsageError
from vac.kafka.produce_lines import ProduceSpec, parse_headers, split_lines


@pytest.mark.parametrize(
    ("data", "written"),
    [
        (None, b"null"),
        (b"", b'""'),
        (b"v1", b'"v1"'),
        (b'x\xff\x01"\\/\ty\xc3\xa9\x7f', b'"x\xff\\u0001\\"\\\\/\\ty\xc3\xa9\x7f"'),  # kcat's own line
        (b"\x1b[2J\r\n\b\f", b'"\\u001B[2J\\r\\n\\b\\f"'),  # upper-case hex, as yajl
        ("h\x02", b'"h\\u0002"'),
    ],
)
def test_yajl_strings_are_kcats(data: bytes | str | None, written: bytes) -> None:
    assert yajl_string(data) == written


@given(st.binary(max_size=200))
def test_yajl_strings_of_any_bytes_read_back_as_json(data: bytes) -> None:
    text = json.loads(yajl_string(data).decode("latin-1"))
    assert text.encode("latin-1") == data  # every byte kept, control characters escaped
    assert not any(byte < 0x20 for byte in yajl_string(data))


def test_properties_split_at_the_first_equals() -> None:
    assert parse_properties(["a=1", "b=x=y", "c=", " d =2"]) == {"a": "1", "b": "x=y", "c": "", "d": "2"}
    for bad in ("novalue", "=1", " =1"):
        with pytest.raises(UsageError, match="no property name and `=`"):
            parse_properties([bad])


def test_headers_keep_order_and_repeats() -> None:
    assert parse_headers(["a=1", "a=2", "b="]) == [("a", b"1"), ("a", b"2"), ("b", b"")]
    with pytest.raises(UsageError):
        parse_headers(["nameonly"])


def test_lines_as_kcat_p_splits_them() -> None:
    chunks = [b"a\n", b"\n", b"k:\n", b"b\r\n", b"last"]
    assert list(split_lines(chunks)) == [b"a", b"k:", b"b\r", b"last"]


def test_a_spec_refuses_what_cannot_be() -> None:
    with pytest.raises(UsageError, match="do not go together"):
        ProduceSpec("t", key=b"k", key_delimiter=b":")
    with pytest.raises(UsageError, match="empty"):
        ProduceSpec("t", key_delimiter=b"")
    with pytest.raises(UsageError):
        ProduceSpec("bad topic\x1b")
