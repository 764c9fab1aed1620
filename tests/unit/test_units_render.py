"""Engineering notation, and the output lines `vac tail topic` prints."""

from __future__ import annotations

import orjson
import pytest
from confluent_kafka import Message

from commands.render import Decode, Output, make_renderer
from vac.kafka.tail import NOT_JSON
from vac.units import engineering


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.2e-9, "3.20e-9"),
        (1.5e-10, "150e-12"),
        (1e-11, "10.0e-12"),
        (9.999e-9, "10.0e-9"),
        (999.95e-9, "1.00e-6"),
        (2.5, "2.50"),
        (1234.5, "1.23e3"),
        (-4.2e-7, "-420e-9"),
        (0.0, "0"),
        (5e-324, "4.94e-324"),  # the smallest subnormal: 10**-324 is 0.0, so no dividing by it
        (-2.2250738585072014e-308, "-22.3e-309"),
        (1e308, "100e306"),
    ],
)
def test_engineering_notation(value: float, text: str) -> None:
    assert engineering(value) == text


def message(value: bytes | None, key: bytes | None = b"VGPB_1.PR") -> Message:
    return Message(
        topic="pressures",
        partition=2,
        offset=41,
        key=key,
        value=value,
        headers=[("source", b"sim")],
        timestamp=(1, 1_700_000_000_000),
    )


def render(
    output: Output,
    msg: Message,
    parsed: object,
    colour: bool = False,
    template: str | None = None,
    decode: Decode = Decode.auto,
) -> str:
    renderer = make_renderer(
        output, decode, Decode.text, colour, show_headers=True, show_topic=False, template=template
    )
    return renderer(msg, parsed).decode()


DOC = {"id": "VGPB_1.PR", "value": 3.2e-9, "status": {"invalid": True}, "level": "SEVERE"}
RAW = orjson.dumps(DOC)


def test_raw_and_jsonl_keep_the_bytes() -> None:
    assert render(Output.raw, message(RAW), DOC) == RAW.decode() + "\n"
    assert render(Output.jsonl, message(RAW), DOC) == RAW.decode() + "\n"


def test_jsonl_keeps_one_document_per_line() -> None:
    pretty = b'{\n  "a": 1\n}'
    assert render(Output.jsonl, message(pretty), {"a": 1}) == '{"a":1}\n'
    assert render(Output.jsonl, message(b"not json"), NOT_JSON) == '"not json"\n'
    assert render(Output.jsonl, message(None), None) == "null\n"


def test_json_envelope_is_kcat_like() -> None:
    envelope = orjson.loads(render(Output.json, message(RAW), DOC))
    assert envelope == {
        "topic": "pressures",
        "partition": 2,
        "offset": 41,
        "timestamp": 1_700_000_000_000,
        "key": "VGPB_1.PR",
        "headers": {"source": "sim"},
        "value": DOC,
    }


def test_json_envelope_marks_values_that_are_not_json() -> None:
    envelope = orjson.loads(render(Output.json, message(b"\xffbroken"), NOT_JSON, decode=Decode.json))
    assert envelope["value"] == "\ufffdbroken"
    assert envelope["value_not_json"] is True


def test_pretty_is_one_plain_line_without_colour() -> None:
    line = render(Output.pretty, message(RAW), DOC)
    assert line.startswith("2:41 ")
    assert line.rstrip().endswith(
        'VGPB_1.PR [source=sim] id=VGPB_1.PR value=3.20e-9 status={"invalid":true} level=SEVERE'
    )
    assert "\x1b[" not in line


def test_pretty_colours_severity_and_invalid_status() -> None:
    line = render(Output.pretty, message(RAW), DOC, colour=True)
    assert "\x1b[31mlevel=SEVERE\x1b[0m" in line
    assert "\x1b[31m\x1b[1mstatus=" in line


def test_pretty_marks_non_json_in_json_mode() -> None:
    assert "[not JSON] hello" in render(Output.pretty, message(b"hello"), NOT_JSON, decode=Decode.json)


def test_template_reads_dotted_fields_and_leaves_numbers_plain() -> None:
    line = render(Output.pretty, message(RAW), DOC, template="{key} {value.value} {partition}:{offset} {value.nope}")
    assert line == "VGPB_1.PR 3.2e-9 2:41 \n"
