"""`vac produce`: send lines of stdin or a file to a topic, as kcat -P does."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info
from vac.errors import ExitStatus, UsageError, VacError
from vac.kafka.produce_lines import MAX_LINE, ProduceSpec, parse_headers, produce_lines


class DeliveryFailed(VacError):
    """Some lines did not become acknowledged messages."""


@kafka_options
def produce(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="The topic to write to (it must exist: `vac topics create`).")],
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the lines from this file (default: stdin).")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", "-k", help="The key of every message.")] = None,
    key_delimiter: Annotated[
        str | None,
        typer.Option("--key-delimiter", "-K", help="Split each line at the first DELIM into key and value (kcat -K)."),
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="Header NAME=VALUE on every message; repeatable.")
    ] = None,
    validate_json: Annotated[
        bool, typer.Option("--validate-json", help="Send only lines that are JSON; count the others as failed.")
    ] = False,
    output: Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json (the summary).")] = TextOrJson.text,
) -> None:
    """Send each non-empty line as one message, with acks=all; exit 1 if any message failed.

    Lines are sent as bytes, without their newline. Empty lines are skipped, as kcat -P does.

    Example: printf 'VGPB_1:{"value": 1e-9}\\n' | vac produce pressures -K : -H source=manual
    """
    spec = ProduceSpec(
        topic=topic,
        key=key.encode("utf-8", "surrogateescape") if key is not None else None,
        key_delimiter=key_delimiter.encode("utf-8", "surrogateescape") if key_delimiter is not None else None,
        headers=parse_headers(header or []),
        validate_json=validate_json,
    )
    settings = cli_context(ctx).settings()
    cancelled = threading.Event()
    try:
        if file is None:
            result = produce_lines(settings.kafka, spec, _lines(sys.stdin.buffer), cancelled)
        else:
            if not file.is_file():
                raise UsageError(f"--file {file}: not a readable file")
            with file.open("rb") as stream:
                result = produce_lines(settings.kafka, spec, _lines(stream), cancelled)
    except KeyboardInterrupt:
        cancelled.set()
        raise typer.Exit(ExitStatus.INTERRUPTED) from None
    if output is TextOrJson.json:
        emit_json(result.to_json())
    else:
        info(f"produced {result.acked:,} of {result.sent:,} messages to {topic}")
    if not result.ok:
        bad = result.failed + result.not_json
        raise DeliveryFailed(
            f"{bad:,} line{'s' if bad != 1 else ''} did not arrive in {topic}: {result.first_error}",
            hint="the others were acknowledged; see --validate-json, the topic's message.max.bytes and the brokers",
        )


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    """Lines of at most MAX_LINE + 1 bytes: a longer one is refused, not read whole."""
    return iter(lambda: stream.readline(MAX_LINE + 1), b"")
