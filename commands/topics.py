"""`vac topics`: what topics there are, and one topic in detail."""

from __future__ import annotations

from typing import Annotated

import typer

from commands.completion import complete_topic
from commands.context import cli_context, kafka_options
from commands.output import TextOrJson, emit_json, info, stdout
from vac.errors import UsageError
from vac.kafka.admin import alter_topic_config, create_topic, delete_topic
from vac.kafka.topics import describe_topic, list_topics
from vac.printable import printable

app = typer.Typer(
    help="List, describe, create, delete and configure Kafka topics.\n\nExample: vac topics describe pressures",
    no_args_is_help=True,
)
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")]


@app.command("list")
@kafka_options
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
@kafka_options
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


def _configs(given: list[str] | None, flag: str) -> dict[str, str]:
    configs: dict[str, str] = {}
    for item in given or []:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"{flag} {item}: no config name and `=` in it", hint=f"give {flag} NAME=VALUE")
        configs[name.strip()] = value
    return configs


@app.command()
@kafka_options
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The topic.")],
    partitions: Annotated[int, typer.Option("--partitions", "-p", help="Number of partitions.")] = 1,
    replication: Annotated[int, typer.Option("--replication", "-r", help="Replication factor.")] = 1,
    config: Annotated[
        list[str] | None, typer.Option("--config", help="Topic config NAME=VALUE, e.g. retention.ms=86400000.")
    ] = None,
    if_not_exists: Annotated[bool, typer.Option("--if-not-exists", help="An existing topic is not an error.")] = False,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Create a topic (kafka-topics.sh --create).

    Example: vac topics create pressures.replay --partitions 3 --config retention.ms=86400000
    """
    configs = _configs(config, "--config")
    created = create_topic(cli_context(ctx).settings().kafka, name, partitions, replication, configs, if_not_exists)
    if output is TextOrJson.json:
        emit_json({"topic": name, "created": created, "partitions": partitions, "replication_factor": replication})
    else:
        info(f"created topic {name}" if created else f"topic {name} exists already")


@app.command()
@kafka_options
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The topic.")],
    yes: Annotated[bool, typer.Option("--yes", help="Really delete the topic and every message in it.")] = False,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Delete a topic with all its messages; needs --yes.

    Example: vac topics delete pressures.replay --yes
    """
    if not yes:
        raise UsageError(f"deleting topic {name!r} loses every message in it", hint="add --yes to delete it")
    delete_topic(cli_context(ctx).settings().kafka, name)
    if output is TextOrJson.json:
        emit_json({"topic": name, "deleted": True})
    else:
        info(f"deleted topic {name}")


@app.command("alter-config")
@kafka_options
def alter_config(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The topic.")],
    config: Annotated[list[str] | None, typer.Option("--config", help="Set NAME=VALUE; repeatable.")] = None,
    delete_config: Annotated[
        list[str] | None, typer.Option("--delete-config", help="Back to the broker's default; repeatable.")
    ] = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Change some configs of a topic, leaving the others as they are.

    Example: vac topics alter-config vac.logs --config retention.ms=604800000
    """
    changed = alter_topic_config(
        cli_context(ctx).settings().kafka, name, _configs(config, "--config"), list(delete_config or [])
    )
    if output is TextOrJson.json:
        emit_json({"topic": name, "configs": changed})
        return
    for key, value in changed.items():
        stdout.print(f"{printable(key)}={printable(value) if value is not None else '(default)'}", markup=False)
