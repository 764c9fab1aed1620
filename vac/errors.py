"""The one error tree of the core.

Every failure the core reports is a `VacError` with a one-line message and a hint that
suggests the fix. Library exceptions are wrapped where the core calls the library; the CLI
maps each class to an exit code in one place (`commands/main.py`).
"""

from __future__ import annotations


class VacError(Exception):
    """A failure an operator can act on: what happened, and what to do about it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(VacError):
    """The configuration file, an environment variable or a flag is invalid."""


class UsageError(VacError):
    """A command was asked for something that cannot be done as asked."""


class KafkaUnavailable(VacError):
    """Kafka could not be reached or did not answer in time."""


class SearchUnavailable(VacError):
    """Elasticsearch could not be reached or did not answer in time."""


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


class TopicNotFound(UsageError):
    """A topic that the cluster does not have."""


class PermissionDenied(VacError):
    """The cluster (or a data source) refused this client: its principal, password or certificate."""


class SourceUnavailable(VacError):
    """A data source (OPC UA server, MQTT broker) could not be reached."""


class QueryError(UsageError):
    """Elasticsearch could not parse or run a search as asked."""


class IndexNotFound(UsageError):
    """An index pattern that matches no index."""
