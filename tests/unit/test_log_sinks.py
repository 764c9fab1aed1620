"""The Kafka sink's handling of documents too large for Kafka, on a real confluent-kafka
producer without a broker: librdkafka refuses a too-large message at `produce`, before any
connection, so no broker is needed."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson
import pytest

from vac.errors import ConfigError
from vac.logs.shipper import LogShipper, ShipOptions
from vac.logs.sinks import MIN_MESSAGE_MAX_BYTES, KafkaSink
from vac.settings import LogInput, VacSettings

from .test_log_shipper import RecordingSink, header


def sink_settings(message_max_bytes: object) -> VacSettings:
    return VacSettings(
        kafka={"bootstrap_servers": "127.0.0.1:1", "properties": {"message.max.bytes": message_max_bytes}},
        logs={"max_record_bytes": 1024},
    )


class Outcomes:
    def __init__(self) -> None:
        self.acked: list[bytes] = []
        self.failed: list[tuple[bytes, str]] = []
        self.too_large: list[tuple[bytes, str]] = []


def kafka_sink(message_max_bytes: object) -> tuple[KafkaSink, Outcomes]:
    outcomes = Outcomes()
    sink = KafkaSink(
        sink_settings(message_max_bytes),
        outcomes.acked.append,
        lambda key, reason: outcomes.failed.append((key, reason)),
        threading.Event(),
        on_too_large=lambda key, reason: outcomes.too_large.append((key, reason)),
    )
    return sink, outcomes


def test_a_document_still_too_large_once_cut_fails_instead_of_looping() -> None:
    sink, outcomes = kafka_sink(MIN_MESSAGE_MAX_BYTES)
    # Its `fields` alone are larger than the limit: cutting its message cannot make it fit.
    value = orjson.dumps({"message": "m" * 300_000, "fields": {"blob": "f" * 300_000}})
    sink.send("vac.logs", b"host:file", "", "", value)
    assert len(outcomes.too_large) == 1
    assert outcomes.failed and outcomes.failed[0][0] == b"host:file"
    assert "too large for Kafka even cut" in outcomes.failed[0][1]
    assert sink.flush(0) == 0 and outcomes.acked == []  # nothing of it went out


@pytest.mark.parametrize("value", ["1MB", "lots", ""])
def test_a_non_numeric_message_max_bytes_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="message.max.bytes"):
        kafka_sink(value)


@pytest.mark.parametrize("value", [1000, 64 * 1024, MIN_MESSAGE_MAX_BYTES - 1])
def test_a_message_max_bytes_below_vacs_minimum_is_refused_at_start(value: int) -> None:
    with pytest.raises(ConfigError, match="too small"):
        kafka_sink(value)


class FailingSink(RecordingSink):
    """Kafka refuses the record holding `refused` for good; it takes the others."""

    def __init__(self, shipper: LogShipper, refused: str) -> None:
        super().__init__(shipper)
        self.refused = refused

    def send(self, topic: str, key: bytes, doc_id: str, index: str, value: bytes) -> None:
        if self.refused.encode() in value:
            self.shipper.refused(key, "too large even cut")
        else:
            super().send(topic, key, doc_id, index, value)


def test_the_records_after_a_failed_one_never_move_its_file_offset_past_it(tmp_path: Path) -> None:
    log = tmp_path / "PVSS_II.log"
    log.write_bytes(b"".join(header(n) for n in range(5)))
    registry = tmp_path / "registry.json"
    spec = LogInput(paths=[str(log)], app_id="vac_test_scada_logs")
    shipper = LogShipper(VacSettings(), [spec], registry, ShipOptions(once=True, from_beginning=True))
    summary = shipper.run(threading.Event(), sink=FailingSink(shipper, "hello 2"))
    assert summary.first_failure == "too large even cut" and summary.failed == 1
    [state] = orjson.loads(registry.read_bytes())["files"]
    assert state["offset"] == len(header(0) + header(1))  # the file resumes at the failed record
