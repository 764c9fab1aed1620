"""The one error tree of the core, and the exit statuses it ends in.

Every failure the core reports is a `VacError` with a one-line message and a hint that
suggests the fix. Library exceptions become VacErrors at one edge per client
(`vac.es.client.VacElasticsearch`, `vac.kafka.client`, `vac.kafka.producing`).

Each class carries the exit status it ends a command with: the status is part of what the
failure means (systemd units do not restart on USAGE; scripts retry on UNAVAILABLE), so it
lives with the class, where a new subclass inherits it, and the CLI (`commands/main.py`) and
the core (`vac.service`'s units) read the same values. No front end is needed to import it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitStatus(IntEnum):
    """What `vac` exits with."""

    OK = 0
    ERROR = 1
    """A failure, or a check that found a problem (a gap, a lost message, an unhealthy node)."""
    USAGE = 2
    """A bad flag, config or request: running again as it is cannot succeed."""
    UNAVAILABLE = 3
    """Kafka, Elasticsearch or a data source did not answer: may succeed later."""
    TIMEOUT = 4
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT), as shells report it."""


class VacError(Exception):
    """A failure an operator can act on: what happened, and what to do about it."""

    exit_status: ClassVar[ExitStatus] = ExitStatus.ERROR
    """What the command ends with; subclasses that mean something else say so."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(VacError):
    """The configuration file, an environment variable or a flag is invalid."""

    exit_status = ExitStatus.USAGE


class UsageError(VacError):
    """A command was asked for something that cannot be done as asked."""

    exit_status = ExitStatus.USAGE


class KafkaUnavailable(VacError):
    """Kafka could not be reached or did not answer in time."""

    exit_status = ExitStatus.UNAVAILABLE


class KafkaTimeout(KafkaUnavailable):
    """Kafka answered, but a read did not finish in time (e.g. a last-value topic that is not compacted)."""

    exit_status = ExitStatus.TIMEOUT


class SearchUnavailable(VacError):
    """Elasticsearch could not be reached or did not answer in time."""

    exit_status = ExitStatus.UNAVAILABLE


class LocalStackError(VacError):
    """The local Kafka/Elasticsearch stack could not be installed, started or stopped."""


class ToolMissing(LocalStackError):
    """A program the local stack needs (Java, Maven) is missing or too old."""


class ArtifactUnavailable(LocalStackError):
    """Maven could not resolve an artifact the local stack needs."""


class PortInUse(LocalStackError):
    """A port the local stack wants is taken by another process."""


class StartTimeout(LocalStackError):
    """A local service started but did not become healthy in time."""

    exit_status = ExitStatus.TIMEOUT


class TopicNotFound(UsageError):
    """A topic that the cluster does not have."""


class PermissionDenied(VacError):
    """The cluster (or a data source) refused this client: its principal, password or certificate."""


class SourceUnavailable(VacError):
    """A data source (OPC UA server, MQTT broker) could not be reached."""

    exit_status = ExitStatus.UNAVAILABLE


class QueryError(UsageError):
    """Elasticsearch could not parse or run a search as asked."""


class IndexNotFound(UsageError):
    """An index pattern that matches no index."""
