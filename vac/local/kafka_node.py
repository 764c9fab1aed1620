"""One Apache Kafka node in KRaft combined mode (broker and controller in one JVM).

Node i (1-based) of an N-node cluster listens for clients on kafka_port + 2(i-1) and for
the controller quorum on the port after it. Internal topics get the replication the cluster
can give, so a 3-node cluster survives the loss of one node.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vac.errors import LocalStackError
from vac.local import process
from vac.local.java import Java

MIN_JAVA = 17

_LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = out
logger.kafka_request.name = kafka.request.logger
logger.kafka_request.level = WARN
"""


@dataclass(frozen=True)
class KafkaNode:
    node_id: int
    port: int
    controller_port: int
    directory: Path

    @property
    def config_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "kafka.log"

    @property
    def marker(self) -> str:
        """What identifies this node's JVM in a process list."""
        return str(self.config_file)


def plan_nodes(state_dir: Path, count: int, first_port: int) -> list[KafkaNode]:
    return [
        KafkaNode(
            node_id=i,
            port=first_port + 2 * (i - 1),
            controller_port=first_port + 2 * (i - 1) + 1,
            directory=state_dir / "kafka" / f"node-{i}",
        )
        for i in range(1, count + 1)
    ]


def bootstrap_servers(nodes: list[KafkaNode]) -> str:
    return ",".join(f"127.0.0.1:{node.port}" for node in nodes)


def new_cluster_id() -> str:
    """As Kafka's own `Uuid.randomUuid`: never starting with `-`, which the storage tool's
    argument parser would take for an option (one id in 64 did, failing `format`)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def write_config(node: KafkaNode, cluster: list[KafkaNode]) -> None:
    size = len(cluster)
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in cluster)
    replicas, min_isr = min(size, 3), min(size, 2)
    properties = {
        "process.roles": "broker,controller",
        "node.id": node.node_id,
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": node.data_dir,
        # vac creates its topics with the partitions and replication it wants; a typo in a
        # topic name should be an error, not a new topic.
        "auto.create.topics.enable": "false",
        "num.partitions": 1,
        "offsets.topic.replication.factor": replicas,
        "transaction.state.log.replication.factor": replicas,
        "transaction.state.log.min.isr": min_isr,
        "share.coordinator.state.topic.replication.factor": replicas,
        "share.coordinator.state.topic.min.isr": min_isr,
        "group.initial.rebalance.delay.ms": 0,
    }
    process.private_dir(node.directory.parent)
    process.private_dir(node.directory)
    node.config_file.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
    (node.directory / "log4j2.properties").write_text(_LOG4J2)


def is_formatted(node: KafkaNode) -> bool:
    return (node.data_dir / "meta.properties").exists()


def format_storage(java: Java, libs: Path, node: KafkaNode, cluster_id: str) -> None:
    """Format the node's log dir for `cluster_id` (KRaft needs this once, before first start)."""
    result = subprocess.run(
        [
            str(java.executable),
            "-cp",
            f"{libs}/*",
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id,
            "-c",
            str(node.config_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise LocalStackError(
            f"formatting Kafka node {node.node_id} storage failed: {last[0]}",
            hint="`vac local reset` clears the local data if it is from another cluster",
        )


def start(java: Java, libs: Path, node: KafkaNode, heap_mb: int, jvm_options: Sequence[str] = ()) -> int:
    """Start the node; `jvm_options` add system properties (a secured node's krb5.conf)."""
    args = [
        str(java.executable),
        *jvm_options,
        f"-Xms{heap_mb}m",
        f"-Xmx{heap_mb}m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={node.directory / 'log4j2.properties'}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(node.config_file),
    ]
    return process.spawn(args, node.log_file, env={"PATH": "/usr/bin:/bin"}, cwd=node.directory)
