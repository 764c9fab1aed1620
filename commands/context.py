"""What the global options give every command: where the config comes from, and the kcat-style
Kafka overrides (`-b/--brokers`, `-X key=value`) that every Kafka command takes."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar, cast

import typer

from commands.output import known_secrets
from vac.errors import UsageError

if TYPE_CHECKING:  # the settings (pydantic) load when a command reads them, not at start-up
    from vac.settings import LoadedSettings, VacSettings


@dataclass
class CliContext:
    config_path: Path | None
    debug: bool
    brokers: str | None = None
    """`-b/--brokers`: stands over kafka.bootstrap_servers of the file and the environment."""
    properties: dict[str, str] = field(default_factory=dict)
    """`-X key=value`: librdkafka properties over kafka.properties."""

    def add_kafka_flags(self, brokers: str | None, properties: list[str] | None) -> None:
        """The flags given before the sub-command and after it; the later ones win."""
        if brokers is not None:
            self.brokers = brokers
        self.properties |= parse_properties(properties or [])

    def kafka_overrides(self) -> dict[str, Any]:
        kafka: dict[str, Any] = {}
        if self.brokers is not None:
            kafka["bootstrap_servers"] = self.brokers
        if self.properties:
            kafka["properties"] = dict(self.properties)
        return {"kafka": kafka} if kafka else {}

    def load(self, overrides: Mapping[str, Any] | None = None) -> LoadedSettings:
        from vac.settings import deep_merge, load_settings, secret_values

        loaded = load_settings(self.config_path, overrides=deep_merge(self.kafka_overrides(), overrides or {}))
        known_secrets.update(secret_values(loaded.settings))
        return loaded

    def settings(self, overrides: Mapping[str, Any] | None = None) -> VacSettings:
        return self.load(overrides).settings


def parse_properties(given: list[str]) -> dict[str, str]:
    """`-X key=value` flags as a dict, as kcat reads them (the value may hold `=`)."""
    properties: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise UsageError(
                f"-X {item}: no property name and `=` in it", hint="give PROPERTY=VALUE, e.g. -X linger.ms=5"
            )
        properties[name.strip()] = value
    return properties


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext), "the root callback sets the CLI context"
    return obj


def drop_none(section: str, **values: Any) -> dict[str, Any]:
    """Flag overrides for one section, leaving out flags the user did not give."""
    given = {key: value for key, value in values.items() if value is not None}
    return {section: given} if given else {}


BROKERS_HELP = "Kafka brokers host:port,... (as kcat -b); stands over kafka.bootstrap_servers."
PROPERTY_HELP = "librdkafka property key=value (as kcat -X), repeatable; stands over kafka.properties."
BrokersOpt = Annotated[str | None, typer.Option("--brokers", "-b", metavar="HOST:PORT,...", help=BROKERS_HELP)]
PropertyOpt = Annotated[list[str] | None, typer.Option("-X", metavar="KEY=VALUE", help=PROPERTY_HELP)]

P = ParamSpec("P")
R = TypeVar("R")


def kafka_options(command: Callable[P, R]) -> Callable[P, R]:
    """Give a command (which has a `ctx: typer.Context` parameter) kcat's `-b` and `-X`, after
    the sub-command as kcat users type them: `vac tail topic T -b host:9092 -X fetch.min.bytes=1`.
    The flags go into the CLI context, so the command's `cli_context(ctx).settings()` sees them."""
    signature = inspect.signature(command, eval_str=True)  # typer reads the wrapper's signature as it is
    extra = [
        inspect.Parameter("kafka_brokers", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=BrokersOpt),
        inspect.Parameter("kafka_properties", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=PropertyOpt),
    ]

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        brokers = kwargs.pop("kafka_brokers", None)
        properties = kwargs.pop("kafka_properties", None)
        ctx = cast(typer.Context, kwargs["ctx"])  # click's Context, which typer.Context extends
        cli_context(ctx).add_kafka_flags(cast(str | None, brokers), cast(list[str] | None, properties))
        return command(*args, **kwargs)

    parameters = list(signature.parameters.values())
    wrapper.__signature__ = signature.replace(parameters=parameters + extra)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**command.__annotations__, "kafka_brokers": BrokersOpt, "kafka_properties": PropertyOpt}
    return wrapper
