"""`vac tail topic`: a kcat-class live view of Kafka topics, for people and for pipes."""

from __future__ import annotations

import os
import sys
import threading
from typing import Annotated

import typer

from commands.completion import complete_topic
from commands.context import cli_context, kafka_options
from commands.output import info, quiet_on_closed_pipe
from commands.render import Decode, JsonArray, Output, kcat_renderer, make_renderer, table_header
from vac.errors import ExitStatus, UsageError
from vac.kafka.positions import parse_position, parse_until
from vac.kafka.tail import TailSpec, TailStats, TopicTail
from vac.printable import printable
from vac.timegrammar import zone

app = typer.Typer(
    help="Live views of Kafka data.\n\nExample: vac tail topic pressures --from -10m",
    no_args_is_help=True,
)


def colour_wanted() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def print_stats(stats: TailStats) -> None:
    invalid = f", {stats.invalid_json:,} not JSON" if stats.invalid_json else ""
    failed = f", {stats.filter_failed:,} where --where failed" if stats.filter_failed else ""
    info(
        f"read {stats.read:,} messages ({stats.bytes:,} bytes), matched {stats.matched:,}{invalid}{failed}, "
        f"{stats.rate:,.0f} msg/s over {stats.elapsed_s:.2f} s"
    )


def report_filter_failures(stats: TailStats) -> None:
    """Said even without --stats: messages the filter could not judge were left out."""
    if stats.filter_failed:
        info(
            f"{stats.filter_failed:,} message{'s' if stats.filter_failed != 1 else ''} did not match because "
            f"--where failed on them, the first with: {printable(stats.filter_failure or '')}"
        )


@app.command("topic")
@kafka_options
def topic(
    ctx: typer.Context,
    topics: Annotated[
        list[str], typer.Argument(help="Topics to read; several are merged.", autocompletion=complete_topic)
    ],
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start: beginning, end, OFFSET, -N (last N per partition), or a time: -10m, now/d, @ISO-TIME. "
            "Default: end when following, beginning with --no-follow.",
        ),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Stop before: end, OFFSET or a time (-5m, now/d, @ISO).")] = None,
    follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Keep waiting for new messages.")] = True,
    count: Annotated[int | None, typer.Option("--count", "-n", help="Stop after N matching messages.")] = None,
    partition: Annotated[
        list[int] | None, typer.Option("--partition", "-p", help="Only this partition (repeatable).")
    ] = None,
    group: Annotated[str | None, typer.Option("--group", "-g", help="Read as this consumer group and commit.")] = None,
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="Only keys matching this glob, e.g. 'VGPB_*_5L4*'.")
    ] = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", "-w", help="JMESPath condition on the JSON value, e.g. 'value > `1e-8` && sector == `\"S1\"`'."
        ),
    ] = None,
    output: Annotated[
        Output | None,
        typer.Option(
            "--output",
            "-o",
            help="pretty, table, raw, jsonl (the values, a line each), json (one array of envelopes), "
            "kcat (kcat -J's envelope, a line each). Default: pretty on a terminal, jsonl in a pipe.",
        ),
    ] = None,
    template: Annotated[str | None, typer.Option(help="Format each message, e.g. '{key} {value.value}'.")] = None,
    decode: Annotated[
        Decode, typer.Option(help="How to read values: auto (JSON if it parses), json, text, hex.")
    ] = Decode.auto,
    key_decode: Annotated[Decode, typer.Option(help="How to read keys: text or hex.")] = Decode.text,
    headers: Annotated[bool, typer.Option("--headers", help="Show message headers (pretty output).")] = False,
    stats: Annotated[
        bool, typer.Option("--stats", help="At the end or on Ctrl-C, print counts and rate to stderr.")
    ] = False,
) -> None:
    """Print the messages of one or more topics as they arrive, filtered and formatted.

    Example: vac tail topic pressures --from -10m --where 'value > `1e-8`' --no-follow
    """
    settings = cli_context(ctx).settings()
    local = zone(settings.query.timezone)
    chosen = output or (Output.pretty if sys.stdout.isatty() else Output.jsonl)
    needs_json = (
        template is not None or chosen not in (Output.raw, Output.kcat) and decode in (Decode.auto, Decode.json)
    )
    spec = TailSpec(
        topics=topics,
        start=parse_position(from_, local=local) if from_ is not None else None,
        until=parse_until(until, local=local) if until is not None else None,
        follow=follow,
        count=count,
        partitions=partition,
        key_glob=key,
        where=where,
        group=group,
        parse_values=needs_json,
    )
    if chosen is Output.json and follow and count is None and until is None:
        raise UsageError(
            "-o json writes one JSON array, which needs an end",
            hint="add --no-follow, --count or --until; for a stream use -o kcat (kcat -J's envelopes) or -o jsonl",
        )
    tail = TopicTail(settings.kafka, spec)
    if chosen is Output.kcat and template is None:
        render = kcat_renderer(lambda topic, partition: tail.leaders.get((topic, partition), -1))
    else:
        render = make_renderer(chosen, decode, key_decode, colour_wanted(), headers, len(topics) > 1, template)
    out = sys.stdout.buffer
    if chosen is Output.table and template is None:
        out.write(table_header(len(topics) > 1))
    cancelled = threading.Event()
    raw = chosen is Output.raw and template is None
    array = JsonArray(out) if chosen is Output.json and template is None else None
    try:
        with quiet_on_closed_pipe():
            try:
                for batch in tail.batches(cancelled):
                    if raw:  # the fast path of a full-topic dump
                        out.write(b"\n".join([payload or b"" for payload in batch.payloads]) + b"\n")
                    elif array is not None:
                        array.extend(map(render, batch.messages, batch.values))
                    else:
                        out.write(b"".join(map(render, batch.messages, batch.values)))
                    out.flush()
            except KeyboardInterrupt:
                if array is not None:  # a valid document also when Ctrl-C ends the read
                    array.close()
                raise
            if array is not None:
                array.close()
    except KeyboardInterrupt:
        cancelled.set()
        if stats:
            print_stats(tail.stats)
        report_filter_failures(tail.stats)
        raise typer.Exit(ExitStatus.INTERRUPTED) from None
    if stats:
        print_stats(tail.stats)
    report_filter_failures(tail.stats)
