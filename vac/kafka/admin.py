"""Creating the topics vac writes to, with the partitions and replication it asks for."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from vac.errors import KafkaUnavailable, PermissionDenied
from vac.kafka.client import cluster_metadata, connect
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
