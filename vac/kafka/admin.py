"""Kafka administration: creating the topics vac writes to (`ensure_topics`, for the streamer,
the shipper and the local stack), and the topic commands of `vac topics` (create, delete,
alter-config). Consumer groups are in `vac.kafka.groups`."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from vac.errors import KafkaUnavailable, PermissionDenied, TopicNotFound, UsageError, VacError
from vac.kafka.client import cluster_metadata, connect
from vac.kafka.topics import check_topics
from vac.settings import KafkaSettings
from vac.topicnames import check_topic_name


def ensure_topics(
    kafka: KafkaSettings,
    topics: list[str],
    partitions: int,
    replication_factor: int,
    config: dict[str, str] | None = None,
) -> list[str]:
    """Create the missing ones among `topics` (with the topic `config`, if given); return those
    created. An existing topic is left as it is."""
    for topic in topics:
        check_topic_name(topic)
    connection = connect(AdminClient, kafka)
    admin = connection.client
    existing = cluster_metadata(connection).topics
    missing = [topic for topic in dict.fromkeys(topics) if topic not in existing]
    if not missing:
        return []
    futures = admin.create_topics([NewTopic(t, partitions, replication_factor, config=config or {}) for t in missing])
    created = []
    for topic, future in futures.items():
        try:
            future.result(timeout=kafka.timeout_s)
            created.append(topic)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            if error.code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED):
                raise PermissionDenied(
                    f"not allowed to create topic {topic!r}", hint="create it, or ask for CREATE"
                ) from None
            raise KafkaUnavailable(f"creating topic {topic!r} failed: {error.str()}") from None
    return created


def grant_all(kafka: KafkaSettings, principal: str) -> None:
    """Allow `principal` (e.g. User:vac) every operation on every topic and group."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    admin = connect(AdminClient, kafka).client
    bindings = [
        AclBinding(kind, "*", ResourcePatternType.LITERAL, principal, "*", AclOperation.ALL, AclPermissionType.ALLOW)
        for kind in (ResourceType.TOPIC, ResourceType.GROUP)
    ]
    for future in admin.create_acls(bindings).values():
        _result(future, kafka.timeout_s, f"granting {principal} topics and groups")


def set_scram_password(kafka: KafkaSettings, user: str, password: str) -> None:
    """Create or replace `user`'s SCRAM-SHA-512 credential."""
    from confluent_kafka.admin import (  # type: ignore[attr-defined]
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    admin = connect(AdminClient, kafka).client
    upsert = UserScramCredentialUpsertion(
        user, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password.encode()
    )
    for future in admin.alter_user_scram_credentials([upsert]).values():
        _result(future, kafka.timeout_s, f"setting the SCRAM credential of {user!r}")


def _result(future: object, timeout_s: float, what: str) -> None:
    try:
        future.result(timeout=timeout_s)  # type: ignore[attr-defined]
    except KafkaException as exc:
        raise KafkaUnavailable(f"{what} failed: {exc.args[0].str()}") from None
    except TimeoutError:
        raise KafkaUnavailable(f"{what} failed: no answer within {timeout_s:g} s") from None


# -- topic administration (`vac topics create | delete | alter-config`) --------------------

_REFUSED_AS_ASKED = frozenset(
    {
        KafkaError.INVALID_REPLICATION_FACTOR,
        KafkaError.INVALID_PARTITIONS,
        KafkaError.INVALID_CONFIG,
        KafkaError.POLICY_VIOLATION,
        KafkaError.INVALID_REQUEST,
        KafkaError.TOPIC_EXCEPTION,
        KafkaError.TOPIC_DELETION_DISABLED,
    }
)


def _admin_failure(error: KafkaError, what: str, need: str) -> VacError:
    """A refused admin request as the VacError it means: asked wrongly, not allowed, or Kafka's fault."""
    if error.code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED):
        return PermissionDenied(f"not allowed to {what}", hint=f"ask for {need} on it")
    if error.code() in _REFUSED_AS_ASKED:
        return UsageError(f"Kafka refused to {what}: {error.str()}")
    if error.code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC):
        return TopicNotFound(f"cannot {what}: no such topic", hint="`vac topics list` shows the topics there are")
    return KafkaUnavailable(f"{what} failed: {error.str()}")


def _wait(future: Any, timeout_s: float, what: str, need: str) -> Any:
    try:
        return future.result(timeout=timeout_s)
    except KafkaException as exc:
        raise _admin_failure(exc.args[0], what, need) from None
    except TimeoutError:
        raise KafkaUnavailable(f"{what}: no answer from Kafka within {timeout_s:g} s") from None


def create_topic(
    kafka: KafkaSettings,
    name: str,
    partitions: int,
    replication_factor: int,
    configs: dict[str, str] | None = None,
    if_not_exists: bool = False,
) -> bool:
    """Create topic `name`; False if it exists and `if_not_exists` (else UsageError)."""
    check_topic_name(name)
    if not 1 <= partitions <= 100_000:
        raise UsageError(f"--partitions {partitions}: must be 1..100000")
    if not 1 <= replication_factor <= 32_767:
        raise UsageError(f"--replication {replication_factor}: must be 1..32767")
    connection = connect(AdminClient, kafka)
    exists = name in cluster_metadata(connection).topics
    if exists:
        if if_not_exists:
            return False
        raise UsageError(f"topic {name!r} exists already", hint="add --if-not-exists to accept that")
    topic = NewTopic(name, partitions, replication_factor, config=dict(configs or {}))
    future = connection.client.create_topics([topic], operation_timeout=kafka.timeout_s)[name]
    try:
        _wait(future, kafka.timeout_s, f"create topic {name!r}", "CREATE on the cluster")
    except UsageError:
        raise
    except KafkaUnavailable:
        if if_not_exists and name in cluster_metadata(connection).topics:  # created meanwhile by another
            return False
        raise
    return True


def delete_topic(kafka: KafkaSettings, name: str) -> None:
    """Delete topic `name` and every message in it; TopicNotFound if it does not exist."""
    check_topic_name(name)
    connection = connect(AdminClient, kafka)
    check_topics(connection, [name])
    future = connection.client.delete_topics([name], operation_timeout=kafka.timeout_s)[name]
    _wait(future, kafka.timeout_s, f"delete topic {name!r}", "DELETE on the topic")


def alter_topic_config(
    kafka: KafkaSettings, name: str, set_: dict[str, str], delete: list[str] | None = None
) -> dict[str, str | None]:
    """Set (and reset to the default: `delete`) configs of topic `name`, leaving the others as
    they are (incremental alter); returns the values now in force for the names touched."""
    check_topic_name(name)
    if not set_ and not delete:
        raise UsageError("nothing to change", hint="give --config NAME=VALUE or --delete-config NAME")
    connection = connect(AdminClient, kafka)
    check_topics(connection, [name])
    entries = [ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET) for key, value in set_.items()]
    entries += [ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE) for key in delete or []]
    resource = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=entries)
    future = connection.client.incremental_alter_configs([resource])[resource]
    _wait(future, kafka.timeout_s, f"change the configs of topic {name!r}", "ALTER_CONFIGS on the topic")
    described = connection.client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, name)])
    now = _wait(next(iter(described.values())), kafka.timeout_s, f"read the configs of {name!r}", "DESCRIBE_CONFIGS")
    return {key: now[key].value if key in now else None for key in [*set_, *(delete or [])]}
