"""`--source` specs to sources: sim, jsonl:PATH, jsonl:-, tcp://[host]:port,
opcua://host:port[/path], mqtt://host:port/topic-filter, mqtts://host:port/topic-filter."""

from __future__ import annotations

from vac.errors import UsageError
from vac.records.change import ChangeSource
from vac.records.dpe import Dpe
from vac.settings import VacSettings
from vac.sources.jsonlines import open_line_source


def open_source(
    spec: str, dpes: list[Dpe], settings: VacSettings, rate: float, seed: int, events_per_hour: float | None = None
) -> ChangeSource:
    if spec == "sim":
        from vac.sources.simulator import DEFAULT_EVENTS_PER_HOUR, Simulator  # numpy: only its users pay

        return Simulator(dpes, rate, seed, DEFAULT_EVENTS_PER_HOUR if events_per_hour is None else events_per_hour)
    if spec.startswith(("jsonl:", "tcp://")):
        return open_line_source(spec)
    if spec.startswith("opcua://"):
        from vac.sources.opcua import OpcUaSource  # asyncua is slow to import; only its users pay

        scada = settings.scada
        return OpcUaSource(
            spec,
            dpes,
            scada.opcua_node_id,
            scada.opcua_publishing_ms,
            settings.kafka.timeout_s,
            scada.opcua_security,
        )
    if spec.startswith(("mqtt://", "mqtts://")):
        from vac.sources.mqtt import MqttSource

        return MqttSource(spec, settings.scada.mqtt_security, settings.kafka.timeout_s)
    raise UsageError(
        f"--source {spec!r}: unknown source",
        hint="use sim, jsonl:PATH, jsonl:-, tcp://[host]:port, opcua://host:port[/path] or mqtt[s]://host:port/filter",
    )
