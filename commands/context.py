"""What the global options give every command: where the config comes from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from commands.output import known_secrets

if TYPE_CHECKING:  # the settings (pydantic) load when a command reads them, not at start-up
    from vac.settings import LoadedSettings, VacSettings


@dataclass
class CliContext:
    config_path: Path | None
    debug: bool

    def load(self, overrides: Mapping[str, Any] | None = None) -> LoadedSettings:
        from vac.settings import load_settings, secret_values

        loaded = load_settings(self.config_path, overrides=overrides)
        known_secrets.update(secret_values(loaded.settings))
        return loaded

    def settings(self, overrides: Mapping[str, Any] | None = None) -> VacSettings:
        return self.load(overrides).settings


def cli_context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext), "the root callback sets the CLI context"
    return obj


def drop_none(section: str, **values: Any) -> dict[str, Any]:
    """Flag overrides for one section, leaving out flags the user did not give."""
    given = {key: value for key, value in values.items() if value is not None}
    return {section: given} if given else {}
