"""Turning tailed Kafka messages into output lines: pretty, json, jsonl, raw, table, template.

Each renderer maps one message and its parsed value to bytes; the caller writes a batch at once. raw and jsonl
stay byte-level (they are the fast paths of a full-topic read); the others are for people, and show every piece of
message data (topic, key, headers, keys and values) through `printable`: a message must not drive the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, BinaryIO

import orjson
from confluent_kafka import Message

from vac.kafka.tail import NOT_JSON, NOT_PARSED
from vac.printable import printable
from vac.units import engineering

Renderer = Callable[[Message, Any], bytes]
"""(message, its parsed value or NOT_JSON / NOT_PARSED) -> one output line."""


class Output(StrEnum):
    pretty = "pretty"
    json = "json"
    jsonl = "jsonl"
    raw = "raw"
    table = "table"
    kcat = "kcat"


class Decode(StrEnum):
    auto = "auto"
    json = "json"
    text = "text"
    hex = "hex"


_RED, _YELLOW, _DIM, _BOLD, _CYAN, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m", "\x1b[36m", "\x1b[0m"
_SEVERITY_COLOUR = {"SEVERE": _RED, "FATAL": _RED, "ERROR": _RED, "WARNING": _YELLOW, "WARN": _YELLOW}
_FIELD = re.compile(r"\{([^{}]+)\}")


def decode_bytes(data: str | bytes | None, how: Decode) -> str | None:
    if data is None:
        return None
    if isinstance(data, str):  # header values may be given as text (produce side); taken as UTF-8
        data = data.encode("utf-8", "surrogateescape")
    if how is Decode.hex:
        return data.hex()
    return data.decode("utf-8", "replace")


def header_pairs(message: Message) -> list[tuple[str, str | bytes | None]]:
    """A message's headers as (name, value) pairs. A consumed message has a list (names may
    repeat); the client's types also allow the dict a producer may be given."""
    headers = message.headers()
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def value_of(message: Message, value: Any, decode: Decode) -> Any:
    """The value as data: parsed JSON where it is JSON (and wanted), else text or hex."""
    if decode in (Decode.auto, Decode.json) and value is not NOT_JSON and value is not NOT_PARSED:
        return value
    return decode_bytes(message.value(), Decode.hex if decode is Decode.hex else Decode.text)


def local_time(timestamp_ms: int) -> str:
    return datetime.fromtimestamp(timestamp_ms / 1000).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def envelope(message: Message, value: Any, decode: Decode, key_decode: Decode) -> dict[str, Any]:
    _kind, timestamp = message.timestamp()
    headers = header_pairs(message)
    data: dict[str, Any] = {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp,
        "key": decode_bytes(message.key(), key_decode),
        "headers": {name: decode_bytes(raw, Decode.text) for name, raw in headers},
        "value": value_of(message, value, decode),
    }
    if decode is Decode.json and value is NOT_JSON:
        data["value_not_json"] = True
    return data


_YAJL_ESCAPE = re.compile(rb'[\x00-\x1f"\\]')
_YAJL_ESCAPES = {
    b'"': b'\\"',
    b"\\": b"\\\\",
    b"\n": b"\\n",
    b"\r": b"\\r",
    b"\t": b"\\t",
    b"\f": b"\\f",
    b"\b": b"\\b",
}


def _yajl_escape(match: re.Match[bytes]) -> bytes:
    char = match.group(0)
    return _YAJL_ESCAPES.get(char) or b"\\u00%02X" % char[0]


def yajl_string(data: str | bytes | None) -> bytes:
    """A JSON string as kcat's yajl writes it: the bytes as they are (no UTF-8 check, so a
    binary payload stays byte for byte), with `"`, `\\` and control characters escaped
    (`\\u00XX` in upper case); None is null."""
    if data is None:
        return b"null"
    if isinstance(data, str):  # header values a producer gave as text
        data = data.encode("utf-8", "surrogateescape")
    return b'"' + _YAJL_ESCAPE.sub(_yajl_escape, data) + b'"'


_TSTYPE = {1: b"create", 2: b"logappend"}  # confluent_kafka.TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME


def kcat_renderer(leader: Callable[[str | None, int | None], int]) -> Renderer:
    """Exactly kcat -J's envelope, one per line: topic, partition, offset, tstype, ts, broker,
    headers (a flat [name, value, ...] list, only when the message has headers), key, payload.
    `leader` names the broker of a partition (-1 if unknown)."""

    def render(message: Message, _value: Any) -> bytes:
        kind, timestamp = message.timestamp()
        topic, partition = message.topic(), message.partition()
        parts = [
            b'{"topic":' + yajl_string(topic),
            b'"partition":%d' % (partition if partition is not None else -1),
            b'"offset":%d' % (message.offset() or 0),
            b'"tstype":"' + _TSTYPE.get(kind, b"none") + b'"',
            b'"ts":%d' % (timestamp if kind in _TSTYPE else -1),
            b'"broker":%d' % leader(topic, partition),
        ]
        headers = message.headers()
        if headers is not None:
            flat = [yajl_string(item) for pair in header_pairs(message) for item in pair]
            parts.append(b'"headers":[' + b",".join(flat) + b"]")
        parts.append(b'"key":' + yajl_string(message.key()))
        parts.append(b'"payload":' + yajl_string(message.value()) + b"}\n")
        return b",".join(parts)

    return render


class JsonArray:
    """`-o json`: the rendered envelopes as one JSON array, written as they come."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.items = 0

    def extend(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.out.write((b"[" if self.items == 0 else b",\n") + line.rstrip(b"\n"))
            self.items += 1

    def close(self) -> None:
        self.out.write(b"[]\n" if self.items == 0 else b"]\n")
        self.out.flush()


def make_renderer(
    output: Output,
    decode: Decode,
    key_decode: Decode,
    colour: bool,
    show_headers: bool,
    show_topic: bool,
    template: str | None,
) -> Renderer:
    if template is not None:
        return _template_renderer(template, decode, key_decode)
    if output is Output.raw:
        return lambda message, _value: (message.value() or b"") + b"\n"
    if output is Output.jsonl:
        return _jsonl
    if output is Output.json:
        return lambda message, value: orjson.dumps(envelope(message, value, decode, key_decode), default=str) + b"\n"
    if output is Output.table:
        return _table_renderer(decode, key_decode, show_topic)
    return _pretty_renderer(decode, key_decode, colour, show_headers, show_topic)


def table_header(show_topic: bool) -> bytes:
    topic = f"{'TOPIC':<20} " if show_topic else ""
    return f"{topic}{'P':>3} {'OFFSET':>10} {'TIME':<23} {'KEY':<28} VALUE\n".encode()


def _jsonl(message: Message, value: Any) -> bytes:
    raw = message.value()
    if value is NOT_JSON:  # stays one valid JSON line: the text as a JSON string
        return orjson.dumps(decode_bytes(raw, Decode.text)) + b"\n"
    if raw is None:
        return b"null\n"
    if b"\n" in raw:  # pretty-printed JSON would break the one-document-per-line contract
        return orjson.dumps(value) + b"\n"
    return raw + b"\n"


def _compact(value: Any, colour: bool) -> str:
    if isinstance(value, dict):
        return " ".join(_pair(key, inner, colour) for key, inner in value.items())
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return engineering(value)
    if isinstance(value, str):
        return printable(value)
    if value is None:
        return "null"
    return printable(orjson.dumps(value).decode())  # JSON escapes controls, not direction overrides


def _plain(value: Any) -> str:
    """A template field as scripts want it: strings unquoted, numbers unformatted; controls
    escaped all the same, since a template's line lands on a terminal as often as in a pipe
    (`-o jsonl` or `raw` give the bytes as they are)."""
    if value is None:
        return ""
    return printable(value if isinstance(value, str) else orjson.dumps(value).decode())


def _pair(key: str, value: Any, colour: bool) -> str:
    text = f"{printable(key)}={_scalar(value)}"
    if not colour:
        return text
    if key in ("level", "severity") and isinstance(value, str) and value.upper() in _SEVERITY_COLOUR:
        return f"{_SEVERITY_COLOUR[value.upper()]}{text}{_RESET}"
    invalid = (key == "validityBit" and value == 0) or (
        key == "status" and isinstance(value, dict) and value.get("invalid") is True
    )
    return f"{_RED}{_BOLD}{text}{_RESET}" if invalid else text


def _pretty_renderer(
    decode: Decode, key_decode: Decode, colour: bool, show_headers: bool, show_topic: bool
) -> Renderer:
    def render(message: Message, value: Any) -> bytes:
        body = _compact(value_of(message, value, decode), colour)
        if decode is Decode.json and value is NOT_JSON:
            body = f"{_YELLOW if colour else ''}[not JSON]{_RESET if colour else ''} {body}"
        key = printable(decode_bytes(message.key(), key_decode) or "-")
        where = f"{printable(message.topic() or '')} " if show_topic else ""
        where += f"{message.partition()}:{message.offset()}"
        when = local_time(message.timestamp()[1])
        headers = ""
        if show_headers and (pairs := header_pairs(message)):
            shown = [f"{printable(n)}={printable(decode_bytes(v, Decode.text) or '')}" for n, v in pairs]
            headers = " [" + " ".join(shown) + "]"
        if colour:
            return f"{_DIM}{where} {when}{_RESET} {_CYAN}{key}{_RESET}{headers} {body}\n".encode()
        return f"{where} {when} {key}{headers} {body}\n".encode()

    return render


def _table_renderer(decode: Decode, key_decode: Decode, show_topic: bool) -> Renderer:
    def render(message: Message, value: Any) -> bytes:
        key = printable(decode_bytes(message.key(), key_decode) or "-")[:28]
        shown = _compact(value_of(message, value, decode), colour=False)
        topic = f"{printable(message.topic() or '')[:20]:<20} " if show_topic else ""
        when = local_time(message.timestamp()[1])
        return f"{topic}{message.partition():>3} {message.offset():>10} {when:<23} {key:<28} {shown}\n".encode()

    return render


def _template_renderer(template: str, decode: Decode, key_decode: Decode) -> Renderer:
    """`{key} {value.value}`: fields of the json envelope by dotted path; missing -> empty."""
    paths = [(match.group(0), match.group(1).split(".")) for match in _FIELD.finditer(template)]

    def render(message: Message, value: Any) -> bytes:
        data = envelope(message, value, decode, key_decode)
        text = template
        for placeholder, path in paths:
            current: Any = data
            for part in path:
                current = current.get(part) if isinstance(current, dict) else None
            text = text.replace(placeholder, _plain(current), 1)
        return (text + "\n").encode()

    return render
