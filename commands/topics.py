"""`vac topics`: what topics there are, and one topic in detail."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.completion import complete_topic
from commands.context import cli_context
from commands.output import TextOrJson, emit_json, stdout
from vac.kafka.topics import describe_topic, list_topics

app = typer.Typer(
    help="List and describe Kafka topics.\n\nExample: vac topics describe pressures", no_args_is_help=True
)
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")]


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Include internal topics (__consumer_offsets...).")] = False,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """List topics with their partition count and replication factor.

    Example: vac topics list --output json
    """
    topics = list_topics(cli_context(ctx).settings().kafka, include_internal=all_)
    if output is TextOrJson.json:
        emit_json(
            [
                {"name": t.name, "partitions": len(t.partitions), "replication_factor": t.replication_factor}
                for t in topics
            ]
        )
        return
    for t in topics:
        stdout.print(f"{t.name:<40} partitions={len(t.partitions):<4} replicas={t.replication_factor}", markup=False)


@app.command()
def describe(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The topic.", autocompletion=complete_topic)],
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Partitions (leader, replicas, in-sync replicas, watermarks, messages), configs, and
    the consumer groups reading the topic with their lag.

    Example: vac topics describe vac.logs
    """
    info = describe_topic(cli_context(ctx).settings().kafka, name)
    if output is TextOrJson.json:
        emit_json(info.to_json())
        return
    stdout.print(
        f"topic {info.name}: {len(info.partitions)} partitions, replication {info.replication_factor}, "
        f"{info.messages:,} messages",
        markup=False,
    )
    for key, value in info.configs.items():
        stdout.print(f"  {key}={value}", markup=False)
    stdout.print(f"  {'P':>3} {'LEADER':>6} {'REPLICAS':<12} {'ISR':<12} {'LOW':>10} {'HIGH':>10} {'MESSAGES':>10}")
    for p in info.partitions:
        replicas, isr = ",".join(map(str, p.replicas)), ",".join(map(str, p.isr))
        lagging = "" if set(p.isr) == set(p.replicas) else "  under-replicated"
        marks = f"{p.low:>10} {p.high:>10} {p.messages:>10}"
        stdout.print(
            f"  {p.partition:>3} {p.leader:>6} {replicas:<12} {isr:<12} {marks}{lagging}",
            markup=False,
        )
    for g in info.groups:
        stdout.print(f"  group {g.group}: committed {g.committed:,}, lag {g.lag:,}", markup=False)
    if not info.groups:
        stdout.print("  no consumer group has committed offsets here", markup=False)
