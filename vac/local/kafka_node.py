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

    @property
    def internal_port(self) -> int:
        """A secured node's INTERNAL listener (single-node only: node 2 would use this port)."""
        return self.port + 2


@dataclass(frozen=True)
class SecureListener:
    """What a secured node needs: its TLS certificate chain and key (PEM), its Kerberos keytab."""

    certificate: Path
    key: Path
    keytab: Path
    principal: str
    """The broker's Kerberos principal without the realm, e.g. kafka/localhost."""
    realm: str

    @property
    def user(self) -> str:
        """The Kafka principal the broker's own Kerberos name maps to (the DEFAULT rule keeps
        the primary): what `super.users` names."""
        return "User:" + self.principal.split("/")[0]


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


def _pem_value(pem: Path) -> str:
    """A PEM file as one Java properties value."""
    return pem.read_text().strip().replace("\n", "\\n")


def secure_properties(node: KafkaNode, secure: SecureListener) -> dict[str, object]:
    """Clients in over TLS with Kerberos (GSSAPI) or SCRAM-SHA-512 only, as in production,
    authorised by ACLs. The broker talks to itself over an INTERNAL PLAINTEXT listener on
    loopback: a one-node stack has no other broker to authenticate, and `vac local up` uses it
    to create the ACLs and the SCRAM credential before any client principal may do anything."""
    return {
        "listeners": f"SASL_SSL://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port},"
        f"INTERNAL://127.0.0.1:{node.internal_port}",
        "advertised.listeners": f"SASL_SSL://localhost:{node.port},INTERNAL://127.0.0.1:{node.internal_port}",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT",
        "inter.broker.listener.name": "INTERNAL",
        # Inline PEM strings: Kafka's Java side refuses an unencrypted PEM key *file*.
        "ssl.keystore.type": "PEM",
        "ssl.keystore.certificate.chain": _pem_value(secure.certificate),
        "ssl.keystore.key": _pem_value(secure.key),
        "sasl.enabled.mechanisms": "GSSAPI,SCRAM-SHA-512",
        "sasl.kerberos.service.name": secure.principal.split("/")[0],
        "listener.name.sasl_ssl.gssapi.sasl.jaas.config": "com.sun.security.auth.module.Krb5LoginModule required "
        f'useKeyTab=true storeKey=true keyTab="{secure.keytab}" principal="{secure.principal}@{secure.realm}";',
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        # ANONYMOUS is who comes in over INTERNAL and CONTROLLER (the broker itself, and `up`).
        # Kafka cannot tie a super user to a listener; SASL_SSL never yields ANONYMOUS, so only
        # a process on this host that reaches the loopback INTERNAL port is one.
        "super.users": f"{secure.user};User:ANONYMOUS",
    }


def write_config(node: KafkaNode, cluster: list[KafkaNode], secure: SecureListener | None = None) -> None:
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
    if secure is not None:
        properties |= secure_properties(node, secure)
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
