"""Creating the topics vac writes to, with the partitions and replication it asks for."""

from __future__ import annotations

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from vac.errors import KafkaUnavailable, PermissionDenied
from vac.kafka.client import cluster_metadata, connect
from vac.kafka.names import check_topic_name
from vac.settings import KafkaSettings


def ensure_topics(kafka: KafkaSettings, topics: list[str], partitions: int, replication_factor: int) -> list[str]:
    """Create the missing ones among `topics`; return those created."""
    for topic in topics:
        check_topic_name(topic)
    connection = connect(AdminClient, kafka)
    admin = connection.client
    existing = cluster_metadata(connection).topics
    missing = [topic for topic in dict.fromkeys(topics) if topic not in existing]
    if not missing:
        return []
    futures = admin.create_topics([NewTopic(t, partitions, replication_factor) for t in missing])
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
