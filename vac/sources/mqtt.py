"""Changes from MQTT (`mqtt://host:port/topic-filter`): the JSON payloads of the WinCC OA MQTT
publisher (`value`, `stime`, `status`). The DPE is the payload's `dpe`/`id`, else the last
level of the MQTT topic. paho-mqtt runs its network loop on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vac.errors import SourceUnavailable, UsageError
from vac.scada.change import Change
from vac.sources.badinput import BadInput
from vac.sources.jsonlines import parse_record
from vac.sources.queued import ChangeQueue


class MqttSource:
    def __init__(self, url: str) -> None:
        # Not urlsplit: `#`, the MQTT multi-level wildcard, would be taken for a URL fragment.
        address, _, topic_filter = url.removeprefix("mqtt://").partition("/")
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "1883")
        if not host or not port.isdigit() or not topic_filter:
            raise UsageError(f"--source {url}: give a broker and a topic filter, e.g. mqtt://broker:1883/vacuum/#")
        self.host, self.port, self.topic_filter = host, int(port), topic_filter
        self.bad_input = BadInput()
        self.changes = ChangeQueue()
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"vac-stream-{id(self):x}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, _reason: object, _props: object
    ) -> None:
        client.subscribe(self.topic_filter, qos=1)  # again after every reconnect
        self.connected.set()

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            record = orjson.loads(message.payload)
        except orjson.JSONDecodeError:
            self.bad_input.add("invalid JSON payload", message.payload[:200].decode("utf-8", "replace"))
            return
        dpe = message.topic.rsplit("/", 1)[-1]
        change = parse_record(record, bytes(message.payload), self.bad_input, default_dpe=dpe)
        if change is not None:
            self.changes.put(change)

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise SourceUnavailable(
                f"MQTT broker {self.host}:{self.port} is unreachable: {exc.strerror or exc}",
                hint="check the host and port in --source mqtt://HOST:PORT/FILTER",
            ) from None
        self.client.loop_start()  # reconnects by itself when the broker goes away
        try:
            yield from self.changes.batches(cancelled)
        finally:
            self.client.loop_stop()
            self.client.disconnect()
