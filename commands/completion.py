"""Shell completion from the cluster: topic names, where asking is cheap."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer

COMPLETION_TIMEOUT_S = 1.5
"""How long a completion may wait for the cluster: a slow cluster completes nothing, quickly."""


def complete_topic(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of topic names from the configured cluster. Silent on any failure:
    a completion that prints an error would garble the command line being typed."""
    from vac.kafka.topics import list_topics
    from vac.settings import load_settings

    root = ctx.find_root()
    config = root.params.get("config") or ctx.params.get("config")
    saved_stderr = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:  # librdkafka's own connection errors
            os.dup2(devnull.fileno(), 2)
            with contextlib.suppress(Exception):
                overrides = {"kafka": {"timeout_s": COMPLETION_TIMEOUT_S}}
                kafka = load_settings(config if isinstance(config, Path) else None, overrides=overrides).settings.kafka
                return [t.name for t in list_topics(kafka) if t.name.startswith(incomplete)]
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
    return []
