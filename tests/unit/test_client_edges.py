"""The one edge per client where library errors become VacErrors: Elasticsearch's client
(`VacElasticsearch`) against a small real HTTP server that answers as told, and the Kafka
consumer (`VacConsumer`) with librdkafka's own errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import elasticsearch
import pytest
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from commands.main import exit_status_for
from tests.helpers import closed_port
from vac.errors import KafkaUnavailable, PermissionDenied, SearchUnavailable, VacError
from vac.es.client import make_client, probe_cluster
from vac.kafka.client import watermarks
from vac.kafka.consuming import VacConsumer, consumer_failed
from vac.settings import ElasticsearchSettings, KafkaSettings


class Answer:
    status = 200
    body = b"{}"
    content_type = "application/json"


class _Handler(BaseHTTPRequestHandler):
    answer = Answer()

    def _reply(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.send_response(self.answer.status)
        self.send_header("Content-Type", self.answer.content_type)
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(self.answer.body)))
        self.end_headers()
        self.wfile.write(self.answer.body)

    do_GET = do_POST = do_PUT = do_HEAD = _reply

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, Answer]]:
    answer = Answer()
    handler = type("Handler", (_Handler,), {"answer": answer})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", answer
    httpd.shutdown()
    httpd.server_close()


def _es(url: str) -> ElasticsearchSettings:
    return ElasticsearchSettings(hosts=[url], request_timeout_s=5)


def test_a_401_is_permission_denied_with_a_hint_exit_1(server: tuple[str, Answer]) -> None:
    url, answer = server
    answer.status = 401
    answer.body = b'{"error": {"type": "security_exception", "reason": "unable to authenticate user [vac]"}}'
    client = make_client(_es(url))
    with pytest.raises(PermissionDenied) as denied:
        client.search(index="vac-logs-*")
    assert "HTTP 401" in denied.value.message and "unable to authenticate user [vac]" in denied.value.message
    assert denied.value.hint is not None and "password" in denied.value.hint
    assert exit_status_for(denied.value) == 1
    assert isinstance(denied.value, elasticsearch.AuthenticationException)  # still the client's class


def test_the_health_probe_keeps_a_401_a_refusal_not_an_outage(server: tuple[str, Answer]) -> None:
    url, answer = server
    answer.status = 401
    answer.body = b'{"error": {"type": "security_exception", "reason": "missing authentication"}}'
    with pytest.raises(PermissionDenied) as denied:
        probe_cluster(_es(url))
    assert exit_status_for(denied.value) == 1  # was 3 (unavailable) before the one edge


def test_a_404_is_a_vac_error_and_still_the_clients_not_found(server: tuple[str, Answer]) -> None:
    url, answer = server
    answer.status = 404
    answer.body = b'{"error": {"type": "index_not_found_exception", "reason": "no such index [x]"}}'
    with pytest.raises(elasticsearch.NotFoundError) as missing:
        make_client(_es(url)).get(index="x", id="1")
    assert isinstance(missing.value, VacError)
    assert missing.value.meta.status == 404  # policies that read the status still can


@pytest.mark.parametrize(
    "body", [b"<html>502 Bad Gateway</html>", b'{"cut', b"\xff\xfe" * 1000], ids=["html", "cut", "binary"]
)
def test_an_answer_that_is_not_json_is_one_vac_error_exit_3(server: tuple[str, Answer], body: bytes) -> None:
    url, answer = server
    answer.body = body
    with pytest.raises(SearchUnavailable) as failed:
        make_client(_es(url)).search(index="vac-logs-*")
    assert "could not be read" in failed.value.message
    assert isinstance(failed.value, elasticsearch.TransportError)
    assert not isinstance(failed.value, elasticsearch.ConnectionError)  # the bulk loop must not retry it
    assert exit_status_for(failed.value) == 3


def test_no_answer_names_the_hosts_without_their_password() -> None:
    port = closed_port()
    client = make_client(_es(f"http://vac:s3cret@127.0.0.1:{port}"))
    with pytest.raises(SearchUnavailable) as unreachable:
        client.indices.put_index_template(name="t", index_patterns=["x-*"])
    assert f"127.0.0.1:{port}" in unreachable.value.message and "s3cret" not in unreachable.value.message
    assert isinstance(unreachable.value, elasticsearch.ConnectionError)  # retried by the bulk loop
    assert exit_status_for(unreachable.value) == 3


KAFKA = KafkaSettings(bootstrap_servers="127.0.0.1:9", timeout_s=1)


@pytest.mark.parametrize(
    "code",
    [
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    ],
)
def test_a_consumer_refused_is_permission_denied_naming_the_group(code: int) -> None:
    error = consumer_failed(KAFKA, "vac-index", KafkaError(code), "commit offsets")
    assert isinstance(error, PermissionDenied)
    assert exit_status_for(error) == 1
    assert error.hint is not None and "'vac-index'" in error.hint


def test_an_error_message_that_ends_the_read_raises_and_others_are_the_callers() -> None:
    consumer = VacConsumer(KAFKA, **{"group.id": "g", "enable.auto.commit": False})
    try:
        denied = Message(topic="[red]logs\x1b", partition=0, error=KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))
        with pytest.raises(PermissionDenied) as refused:
            consumer.check(denied)
        assert "read topic '[red]logs\\x1b'" in refused.value.message  # repr: no raw escape
        fatal = Message(topic="t", error=KafkaError(KafkaError._FENCED, fatal=True))
        with pytest.raises(KafkaUnavailable):
            consumer.check(fatal)
        for code in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._TRANSPORT):
            consumer.check(Message(topic="t", error=KafkaError(code)))  # end of data, retried: not raised
    finally:
        consumer.close()


def test_a_commit_that_fails_is_one_vac_error_not_a_kafka_exception() -> None:
    consumer = VacConsumer(KAFKA, **{"group.id": "g", "enable.auto.commit": False})
    try:
        with pytest.raises(KafkaUnavailable) as failed:
            consumer.commit()  # nothing consumed: librdkafka refuses at once
        assert "could not commit offsets" in failed.value.message
        assert exit_status_for(failed.value) == 3
    finally:
        consumer.close()
    consumer.close()  # twice: quiet


class MovingLeader:
    """A consumer whose partition has no leader for its first `moving` asks."""

    def __init__(self, moving: int, code: int = KafkaError.NOT_LEADER_FOR_PARTITION) -> None:
        self.moving, self.code, self.asks = moving, code, 0

    def get_watermark_offsets(self, _partition: TopicPartition, timeout: float) -> tuple[int, int]:
        self.asks += 1
        if self.asks <= self.moving:
            raise KafkaException(KafkaError(self.code, "Broker: Not leader for partition"))
        return 3, 7


def test_watermarks_wait_out_a_moving_leader() -> None:
    consumer = MovingLeader(moving=2)
    assert watermarks(consumer, TopicPartition("t", 0), 5) == (3, 7)  # type: ignore[arg-type]
    assert consumer.asks == 3


def test_watermarks_give_up_in_one_line() -> None:
    with pytest.raises(KafkaUnavailable, match=r"the offsets of t \[0\] could not be read: Broker: Not leader"):
        watermarks(MovingLeader(moving=10**6), TopicPartition("t", 0), 0.5)  # type: ignore[arg-type]
    with pytest.raises(KafkaUnavailable):  # not a moving leader: at once
        watermarks(MovingLeader(1, KafkaError.TOPIC_AUTHORIZATION_FAILED), TopicPartition("t", 0), 60)  # type: ignore[arg-type]
