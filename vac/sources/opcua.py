"""Changes from an OPC UA server (`opcua://host:port[/path]`), such as WinCC OA's.

One subscription with data-change notifications on every configured DPE's node (the node id
comes from `scada.opcua_node_id`, e.g. `ns=2;s={dpe}`). A notification's value, source
timestamp and StatusCode become a change: a status that is not Good sets the invalid bit.
asyncua runs on an event loop of its own thread; changes reach the streamer through a
bounded queue.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from asyncua import ua
from asyncua.client import Client  # type: ignore[attr-defined,unused-ignore]
from asyncua.ua.uaerrors import UaError

from vac.errors import SourceUnavailable
from vac.scada import status as status_bits
from vac.scada.change import SOURCE_US_RANGE, Change, now_us
from vac.scada.dpes import Dpe
from vac.sources.badinput import BadInput
from vac.sources.queued import ChangeQueue

SUBSCRIBE_CHUNK = 1000
INVALID = status_bits.ACTIVE | (1 << status_bits.BITS["aut_inv"])


class OpcUaSource:
    def __init__(self, url: str, dpes: list[Dpe], node_id_template: str, publishing_ms: int, timeout_s: float) -> None:
        self.endpoint = "opc.tcp://" + url.removeprefix("opcua://")
        self.node_ids = {node_id_template.format(dpe=dpe.name): dpe.name for dpe in dpes}
        self.publishing_ms = publishing_ms
        self.timeout_s = timeout_s
        self.bad_input = BadInput()
        self.changes = ChangeQueue()
        self.subscribed = threading.Event()

    def batches(self, cancelled: threading.Event) -> Iterator[list[Change]]:
        stop = threading.Event()
        worker = threading.Thread(target=lambda: asyncio.run(self._run(stop)), name="vac-opcua", daemon=True)
        worker.start()
        try:
            yield from self.changes.batches(cancelled)
        finally:
            stop.set()
            worker.join(timeout=10)

    async def _run(self, stop: threading.Event) -> None:
        try:
            async with Client(self.endpoint, timeout=self.timeout_s) as client:
                subscription = await client.create_subscription(self.publishing_ms, self)
                nodes = [client.get_node(node_id) for node_id in self.node_ids]
                for start in range(0, len(nodes), SUBSCRIBE_CHUNK):
                    chunk = nodes[start : start + SUBSCRIBE_CHUNK]
                    results = await subscription.subscribe_data_change(chunk)
                    for node, result in zip(chunk, results, strict=True):
                        if isinstance(result, ua.StatusCode) and not result.is_good():
                            self.bad_input.add("unknown OPC UA node", f"{node.nodeid.to_string()}: {result.name}")
                self.subscribed.set()
                while not stop.is_set():
                    await asyncio.sleep(0.1)
        except (TimeoutError, OSError, UaError) as exc:
            self.changes.failure = SourceUnavailable(
                f"OPC UA server {self.endpoint} failed: {exc or type(exc).__name__}",
                hint="check the host, port and path in --source opcua://HOST:PORT/PATH",
            )

    # asyncua calls this on its loop for every data change (the subscription handler).
    def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
        name = self.node_ids.get(node.nodeid.to_string())
        if name is None:
            return
        data_value = data.monitored_item.Value
        source = data_value.SourceTimestamp or data_value.ServerTimestamp
        if source is not None and source.tzinfo is None:
            source = source.replace(tzinfo=UTC)  # asyncua gives naive UTC times
        source_us = int(source.timestamp() * 1_000_000) if source else now_us()
        if source_us not in SOURCE_US_RANGE:  # OPC UA times start in 1601; Kafka's in 1970
            self.bad_input.add("source time out of range", f"{name} at {source}")
            return
        good = data_value.StatusCode is None or data_value.StatusCode.is_good()
        self.changes.put(Change(name, value, source_us, status_bits.ACTIVE if good else INVALID))

    def status_change_notification(self, status: Any) -> None:
        self.changes.failure = SourceUnavailable(f"OPC UA subscription ended: {status}")
