"""`vac local`: install, start, inspect, stop and wipe the local Kafka + Elasticsearch.

`LocalStack` is what the CLI and the tests' session fixture drive. It keeps what it started
(pids, ports, versions, the Kafka cluster id) in `stack.json` in the state dir, so every
call is idempotent: `up` on a running stack reports it, `down` on a stopped one is a no-op.

Secured (`local.secure`), a Kerberos KDC runs beside Kafka as a third service (started before
it, stopped with it), and `up` writes the client config of the stack's user (see `secure`).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vac import paths
from vac.errors import KafkaUnavailable, LocalStackError, SearchUnavailable, StartTimeout, UsageError
from vac.kafka.admin import grant_all, set_scram_password
from vac.kafka.client import probe_cluster as probe_kafka
from vac.local import elasticsearch_node, kafka_node, maven, process
from vac.local.elasticsearch_node import ElasticsearchNode, HttpTls
from vac.local.java import Java, find_java
from vac.local.kafka_node import KafkaNode, SecureListener
from vac.local.kdc import Kdc
from vac.local.logfiles import tail_lines
from vac.local.secure import BROKER_PRINCIPAL, CLIENT_USER, SecureMaterial
from vac.settings import ElasticsearchSettings, KafkaSecurity, KafkaSettings, LocalSettings, VacSettings

SERVICES = ("kafka", "elasticsearch")
STOP_TIMEOUT_S = 60.0
Progress = Callable[[str], None]


@dataclass
class ServiceStatus:
    name: str
    state: str
    """running, stopped, unhealthy (runs but does not answer as it should) or partial."""
    healthy: bool
    version: str | None
    endpoint: str | None
    detail: str
    pids: list[int] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    log_files: list[str] = field(default_factory=list)
    security: str = ""
    """How clients get in: open to anyone on this host, unless the stack is secured."""
    listeners: list[str] = field(default_factory=list)
    """Where clients get in, and how."""
    users: list[str] = field(default_factory=list)
    """Who may (empty: anyone on this host)."""


@dataclass
class StackStatus:
    state_dir: str
    services: list[ServiceStatus]
    client_config: str | None = None
    """The config vac talks to a secured stack with (None for an open one)."""
    client_env: dict[str, str] = field(default_factory=dict)
    """The environment a client of the secured stack needs besides that config."""

    @property
    def healthy(self) -> bool:
        return all(service.healthy for service in self.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "state_dir": self.state_dir,
            "healthy": self.healthy,
            "services": [asdict(s) for s in self.services],
            "client_config": self.client_config,
            "client_env": self.client_env,
        }


@dataclass
class UpResult:
    status: StackStatus
    started: list[str]
    already_running: list[str]


class LocalStack:
    def __init__(self, settings: VacSettings, progress: Progress | None = None) -> None:
        self.local: LocalSettings = settings.local
        self.state_dir = self.local.resolved_state_dir()
        self.cache_dir = self.local.resolved_cache_dir()
        self.state_file = self.state_dir / "stack.json"
        self.secure_material = SecureMaterial(self.state_dir, self.local.kdc_port)
        self._progress = progress or (lambda _message: None)

    # -- state -------------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.state_file.read_text()))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LocalStackError(
                f"cannot read the local stack state {self.state_file}: {exc}",
                hint="`vac local down` then `vac local up` rewrites it",
            ) from None

    def _save_state(self, state: dict[str, Any]) -> None:
        self._make_state_dir()
        tmp = self.state_file.with_suffix(".tmp")
        process.write_private(tmp, json.dumps(state, indent=2).encode())
        os.replace(tmp, self.state_file)

    def _make_state_dir(self) -> None:
        # Closed to other users; passable (not listable) when Elasticsearch runs as its own
        # user below it, as it does when vac runs as root.
        process.private_dir(self.state_dir, traversable=paths.running_as_root())

    def _close_to_others(self) -> None:
        """Make the state dir private, and the services' dirs of a stack set up before vac did."""
        self._make_state_dir()
        for service in SERVICES:
            if (self.state_dir / service).is_dir():
                (self.state_dir / service).chmod(0o700)
        if self.state_file.exists():
            self.state_file.chmod(0o600)

    def _kafka_nodes(self, state: dict[str, Any]) -> list[KafkaNode]:
        recorded = state.get("kafka", {})
        count = recorded.get("brokers", self.local.kafka_brokers)
        port = recorded.get("port", self.local.kafka_port)
        return kafka_node.plan_nodes(self.state_dir, count, port)

    def _es_node(self, state: dict[str, Any]) -> ElasticsearchNode:
        port = state.get("elasticsearch", {}).get("port", self.local.elasticsearch_port)
        return elasticsearch_node.plan_node(self.state_dir, port, self._secure(state))

    def _secure(self, state: dict[str, Any]) -> bool:
        """Whether the stack is (or, never started, will be) secured: what it was started as wins."""
        return bool(state.get("secure", self.local.secure))

    def _kdc(self, state: dict[str, Any]) -> Kdc:
        port = state.get("kdc", {}).get("port", self.local.kdc_port)
        return Kdc(self.secure_material.kdc.directory, port)

    # -- install -----------------------------------------------------------------------

    def java(self) -> Java:
        return find_java(max(kafka_node.MIN_JAVA, elasticsearch_node.MIN_JAVA), self.local.java_home)

    def fetch(self, services: Iterable[str] = SERVICES) -> dict[str, Path]:
        """Resolve the artifacts of `services` from Maven Central (once; later calls are free)."""
        found: dict[str, Path] = {}
        for service in services:
            if service == "kafka":
                self._progress(f"resolving Apache Kafka {self.local.kafka_version} with Maven")
                found[service] = maven.resolve_kafka(self.cache_dir, self.local.kafka_version)
            else:
                self._progress(f"resolving Elasticsearch {self.local.elasticsearch_version} with Maven")
                found[service] = maven.resolve_elasticsearch(self.cache_dir, self.local.elasticsearch_version)
        return found

    # -- up ----------------------------------------------------------------------------

    def up(self, services: Iterable[str] = SERVICES, cancelled: threading.Event | None = None) -> UpResult:
        """Start what is not running yet and wait until every asked service is healthy."""
        services = list(services)
        state = self._load_state()
        running = {service for service in services if self._is_running(service, state)}
        self._check_layout(state, running)
        to_start = [service for service in services if service not in running]
        self._close_to_others()
        secure = self.local.secure
        if to_start:
            java = self.java()
            if "elasticsearch" in to_start:
                self._stop_service("elasticsearch", state)  # a half-started one restarts whole
            ports = self._wanted_ports(to_start, state)
            kdc_needed = secure and "kafka" in to_start and not self._is_running("kdc", state)
            if kdc_needed:
                ports[self.local.kdc_port] = "Kerberos KDC"
            process.ensure_ports_free(ports)
            artifacts = self.fetch(to_start)
            state["secure"] = secure
            if secure:
                self._progress("preparing the KDC realm, the vac local CA and the credentials (once)")
                self.secure_material.prepare()
            if kdc_needed:
                self._start_kdc(state)
            self._save_state(state)
            if "kafka" in to_start:
                self._start_kafka(java, artifacts["kafka"], state)
                if secure:
                    self._provision_kafka(state, cancelled)
            if "elasticsearch" in to_start:
                self._start_elasticsearch(java, artifacts["elasticsearch"], state)
        self._wait_healthy(services, cancelled)
        # No API key: the integ-test distribution lacks the analysis-common module, and the
        # .security index that API keys (and native users) live in needs its pattern_capture
        # filter ("Unknown filter type [pattern_capture]"). The file realm's user works.
        if secure:
            kafka_port = state.get("kafka", {}).get("port", self.local.kafka_port)
            es_port = state.get("elasticsearch", {}).get("port", self.local.elasticsearch_port)
            self.secure_material.write_client_config(kafka_port, es_port)
        return UpResult(status=self.status(services), started=to_start, already_running=sorted(running))

    def _check_layout(self, state: dict[str, Any], running: set[str]) -> None:
        if self.local.secure and self.local.kafka_brokers > 1:
            raise UsageError(
                f"a secured local stack has one Kafka broker; {self.local.kafka_brokers} asked",
                hint="drop --kafka-brokers (or local.kafka_brokers) with --secure",
            )
        if running and self._secure(state) != self.local.secure:
            now, asked = ("secured", "open") if self._secure(state) else ("open", "secured")
            raise UsageError(
                f"the local stack runs {now}; {asked} asked",
                hint="`vac local down` first to restart it " + ("with --secure" if self.local.secure else "open"),
            )
        recorded_kdc = state.get("kdc", {}).get("port")
        if self.local.secure and recorded_kdc not in (None, self.local.kdc_port):
            raise UsageError(
                f"the local KDC was set up on port {recorded_kdc}, not {self.local.kdc_port}",
                hint=f"ask for port {recorded_kdc}, or `vac local reset --yes` to make a new realm",
            )
        kafka = state.get("kafka")
        if kafka and kafka.get("brokers") != self.local.kafka_brokers and self._kafka_formatted(state):
            brokers = kafka.get("brokers")
            raise UsageError(
                f"the local Kafka was set up with {brokers} broker(s); {self.local.kafka_brokers} asked",
                hint=f"`vac local reset --yes` wipes it so that it can start with {self.local.kafka_brokers}, "
                f"or ask for {brokers}",
            )
        for service, key, wanted in (
            ("kafka", "port", self.local.kafka_port),
            ("elasticsearch", "port", self.local.elasticsearch_port),
        ):
            recorded = state.get(service, {}).get(key)
            if service in running and recorded != wanted:
                raise UsageError(
                    f"the local {service} already runs on port {recorded}, not {wanted}",
                    hint="`vac local down` first to move it",
                )

    def _kafka_formatted(self, state: dict[str, Any]) -> bool:
        return any(kafka_node.is_formatted(node) for node in self._kafka_nodes(state))

    def _wanted_ports(self, services: list[str], state: dict[str, Any]) -> dict[int, str]:
        ports: dict[int, str] = {}
        if "kafka" in services:
            for node in self._dead_kafka_nodes(state):
                ports[node.port] = f"Kafka node {node.node_id} clients"
                ports[node.controller_port] = f"Kafka node {node.node_id} controller"
                if self.local.secure:
                    ports[node.internal_port] = f"Kafka node {node.node_id} internal listener"
        if "elasticsearch" in services:
            es = elasticsearch_node.plan_node(self.state_dir, self.local.elasticsearch_port)
            ports[es.port] = "Elasticsearch HTTP"
            ports[es.transport_port] = "Elasticsearch transport"
        return ports

    def _alive_kafka_pids(self, state: dict[str, Any]) -> dict[int, int]:
        """Node id -> pid of the nodes that still run (after a crash or a kill -9 of one)."""
        pids = state.get("kafka", {}).get("pids", [])
        nodes = kafka_node.plan_nodes(self.state_dir, self.local.kafka_brokers, self.local.kafka_port)
        return {
            node.node_id: pid
            for node, pid in zip(nodes, pids, strict=False)
            if pid and process.is_running(pid, node.marker)
        }

    def _dead_kafka_nodes(self, state: dict[str, Any]) -> list[KafkaNode]:
        alive = self._alive_kafka_pids(state)
        nodes = kafka_node.plan_nodes(self.state_dir, self.local.kafka_brokers, self.local.kafka_port)
        return [node for node in nodes if node.node_id not in alive]

    def _start_kafka(self, java: Java, libs: Path, state: dict[str, Any]) -> None:
        """Start the nodes that do not run; the others keep running (a cluster that lost a
        node gets it back without a restart of the rest)."""
        nodes = kafka_node.plan_nodes(self.state_dir, self.local.kafka_brokers, self.local.kafka_port)
        previous = state.get("kafka", {})
        cluster_id = previous.get("cluster_id") or kafka_node.new_cluster_id()
        alive = self._alive_kafka_pids(state)
        secure = self._secure_listener() if self.local.secure else None
        jvm_options = [f"-Djava.security.krb5.conf={self._kdc(state).krb5_conf}"] if secure else []
        for node in nodes:
            kafka_node.write_config(node, nodes, secure)
            if not kafka_node.is_formatted(node):
                self._progress(f"formatting Kafka node {node.node_id} storage")
                kafka_node.format_storage(java, libs, node, cluster_id)
        pids = []
        for node in nodes:
            if node.node_id in alive:
                pids.append(alive[node.node_id])
                continue
            self._progress(f"starting Kafka node {node.node_id} on port {node.port}")
            pids.append(kafka_node.start(java, libs, node, self.local.kafka_heap_mb, jvm_options))
        state["kafka"] = {
            "version": self.local.kafka_version,
            "brokers": len(nodes),
            "port": self.local.kafka_port,
            "cluster_id": cluster_id,
            "pids": pids,
            "java": str(java.home),
        }
        self._save_state(state)

    def _secure_listener(self) -> SecureListener:
        material = self.secure_material
        tls = material.server_tls("kafka")
        return SecureListener(tls.certificate, tls.key, material.broker_keytab, BROKER_PRINCIPAL, material.kdc.realm)

    def _start_kdc(self, state: dict[str, Any]) -> None:
        kdc = self.secure_material.kdc
        self._progress(f"starting the Kerberos KDC of realm {kdc.realm} on port {kdc.port}")
        state["kdc"] = {"port": kdc.port, "realm": kdc.realm, "pids": [kdc.start()]}
        self._save_state(state)

    def _internal_kafka(self, state: dict[str, Any]) -> KafkaSettings:
        """The secured broker's INTERNAL listener, where no principal needs ACLs."""
        (node,) = self._kafka_nodes(state)
        return KafkaSettings(bootstrap_servers=f"127.0.0.1:{node.internal_port}", client_id="vac-local")

    def _provision_kafka(self, state: dict[str, Any], cancelled: threading.Event | None) -> None:
        """Grant `vac` its topics and groups and set its SCRAM password, through the INTERNAL
        listener as soon as the broker answers there (both are idempotent: every `up` does it)."""
        internal = self._internal_kafka(state)
        password = self.secure_material.credentials()["kafka_scram_password"]
        deadline = time.monotonic() + self.local.start_timeout_s
        self._progress(f"granting User:{CLIENT_USER} topics and groups, setting its SCRAM-SHA-512 password")
        while True:
            try:
                grant_all(internal, f"User:{CLIENT_USER}")
                set_scram_password(internal, CLIENT_USER, password)
                return
            except KafkaUnavailable:
                if self._dead_nodes("kafka", state):
                    raise LocalStackError("kafka exited while starting", hint=self._log_hint("kafka", state)) from None
                if cancelled is not None and cancelled.is_set():
                    raise LocalStackError("interrupted while waiting for the local stack to start") from None
                if time.monotonic() > deadline:
                    raise StartTimeout(
                        f"kafka did not accept its ACLs within {self.local.start_timeout_s:g} s",
                        hint=self._log_hint("kafka", state),
                    ) from None
                time.sleep(1.0)

    def _kafka_settings(self, state: dict[str, Any], timeout_s: float = 10.0) -> KafkaSettings:
        """How `status` reaches Kafka: as a client would, over SASL_SSL with `vac`'s SCRAM
        password when secured (a ticket would need kinit)."""
        nodes = self._kafka_nodes(state)
        if not self._secure(state):
            return KafkaSettings(bootstrap_servers=kafka_node.bootstrap_servers(nodes), client_id="vac-local")
        password = self.secure_material.credentials().get("kafka_scram_password")
        if not password:
            raise LocalStackError(
                f"the secured stack's passwords are missing from {self.secure_material.credentials_file}",
                hint="`vac local down` then `vac local up --secure` makes new ones",
            )
        security = KafkaSecurity(
            protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            username=CLIENT_USER,
            password=password,
            ca_file=self.secure_material.ca.certificate,
        )
        return KafkaSettings(
            bootstrap_servers=f"localhost:{nodes[0].port}",
            client_id="vac-local",
            security=security,
            timeout_s=timeout_s,
        )

    def _es_settings(self, state: dict[str, Any]) -> ElasticsearchSettings:
        node = self._es_node(state)
        if not node.secure:
            return ElasticsearchSettings(hosts=[node.url])
        password = self.secure_material.credentials().get("elasticsearch_password", "")
        return ElasticsearchSettings(
            hosts=[node.url], username=CLIENT_USER, password=password, ca_file=self.secure_material.ca.certificate
        )

    def _start_elasticsearch(self, java: Java, home: Path, state: dict[str, Any]) -> None:
        node = elasticsearch_node.plan_node(self.state_dir, self.local.elasticsearch_port, self.local.secure)
        tls = None
        if node.secure:
            issued = self.secure_material.server_tls("elasticsearch")
            tls = HttpTls(issued.certificate, issued.key, self.secure_material.ca.certificate)
        elasticsearch_node.write_config(node, home, self.local.elasticsearch_heap_mb, tls)
        if node.secure:
            password = self.secure_material.credentials()["elasticsearch_password"]
            self._progress(f"adding the Elasticsearch user {CLIENT_USER}")
            elasticsearch_node.add_user(java, home, node, CLIENT_USER, password)
        user = elasticsearch_node.run_as_user(self.local.elasticsearch_user)
        if user is not None:
            elasticsearch_node.hand_over(node, home, user)
        self._progress(f"starting Elasticsearch on port {node.port}" + (f" as user {user}" if user else ""))
        pid = elasticsearch_node.start(java, home, node, user)
        state["elasticsearch"] = {
            "version": self.local.elasticsearch_version,
            "port": node.port,
            "pids": [pid],
            "user": user,
            "java": str(java.home),
        }
        self._save_state(state)

    def _wait_healthy(self, services: list[str], cancelled: threading.Event | None) -> None:
        deadline = time.monotonic() + self.local.start_timeout_s
        pending = list(services)
        while pending:
            state = self._load_state()
            for service in list(pending):
                dead = self._dead_nodes(service, state)
                if dead:
                    time.sleep(0.5)  # confirm: a process list read mid-start can mislead once
                    dead = self._dead_nodes(service, state)
                if dead:
                    raise LocalStackError(
                        f"{service} exited while starting",
                        hint=self._log_hint(service, state, dead[0]),
                    )
                status = self._service_status(service, state, timeout_s=2.0)
                if status.healthy:
                    self._progress(f"{service} is healthy ({status.detail})")
                    pending.remove(service)
            if not pending:
                return
            if cancelled is not None and cancelled.is_set():
                raise LocalStackError("interrupted while waiting for the local stack to start")
            if time.monotonic() > deadline:
                service = pending[0]
                raise StartTimeout(
                    f"{service} did not become healthy within {self.local.start_timeout_s:g} s",
                    hint=self._log_hint(service, state),
                )
            self._progress(f"waiting for {', '.join(pending)} to answer")
            time.sleep(1.0)

    def _dead_nodes(self, service: str, state: dict[str, Any]) -> list[int]:
        """Indexes of the service's processes that do not run."""
        pairs = self._pids_and_markers(service, state)
        return [index for index, (pid, marker) in enumerate(pairs) if not process.is_running(pid, marker)]

    def _log_hint(self, service: str, state: dict[str, Any], node: int = 0) -> str:
        log_file = self.log_files(service, state)[node]
        tail = tail_lines(log_file, 8)
        lines = "\n".join(f"  {line[:300]}" for line in tail) or "  (empty)"
        return f"last lines of {log_file}:\n{lines}"

    # -- status ------------------------------------------------------------------------

    def _markers(self, service: str, state: dict[str, Any]) -> list[str]:
        if service == "kafka":
            return [node.marker for node in self._kafka_nodes(state)]
        if service == "kdc":
            return [self._kdc(state).marker]
        return [self._es_node(state).marker]

    def _pids_and_markers(self, service: str, state: dict[str, Any]) -> list[tuple[int, str]]:
        pids = state.get(service, {}).get("pids", [])
        return list(zip(pids, self._markers(service, state), strict=False))

    def _is_running(self, service: str, state: dict[str, Any]) -> bool:
        pairs = self._pids_and_markers(service, state)
        return bool(pairs) and all(process.is_running(pid, marker) for pid, marker in pairs)

    def _with_kdc(self, services: Iterable[str], state: dict[str, Any]) -> list[str]:
        """`services`, and the KDC after Kafka when the stack is secured (Kafka needs it)."""
        services = list(services)
        if "kafka" in services and (self._secure(state) or "kdc" in state):
            services.append("kdc")
        return services

    def status(self, services: Iterable[str] = SERVICES, timeout_s: float = 3.0) -> StackStatus:
        state = self._load_state()
        secure = self._secure(state)
        config = self.secure_material.client_config
        return StackStatus(
            state_dir=str(self.state_dir),
            services=[self._service_status(service, state, timeout_s) for service in self._with_kdc(services, state)],
            client_config=str(config) if secure and config.exists() else None,
            client_env=self.secure_material.client_env() if secure else {},
        )

    def _kdc_status(self, state: dict[str, Any]) -> ServiceStatus:
        kdc = self._kdc(state)
        alive = [pid for pid, marker in self._pids_and_markers("kdc", state) if process.is_running(pid, marker)]
        endpoint = f"127.0.0.1:{kdc.port}"
        answering = bool(alive) and not process.port_free(kdc.port)
        state_word = "running" if answering else ("unhealthy" if alive else "stopped")
        return ServiceStatus(
            "kdc",
            state_word,
            answering,
            None,
            endpoint,
            f"realm {kdc.realm}" if alive else "not running",
            alive,
            [kdc.port],
            [str(kdc.log_file)],
            f"Kerberos realm {kdc.realm}, MIT krb5kdc on loopback",
            listeners=[f"kerberos {endpoint} (udp, tcp)"],
            users=[f"{BROKER_PRINCIPAL}@{kdc.realm}", f"{CLIENT_USER}@{kdc.realm}"],
        )

    def _service_status(self, service: str, state: dict[str, Any], timeout_s: float) -> ServiceStatus:
        if service == "kdc":
            return self._kdc_status(state)
        pairs = self._pids_and_markers(service, state)
        alive = [pid for pid, marker in pairs if process.is_running(pid, marker)]
        recorded = state.get(service, {})
        logs = [str(path) for path in self.log_files(service, state)]
        secure = self._secure(state)
        realm = self._kdc(state).realm
        if service == "kafka":
            nodes = self._kafka_nodes(state)
            ports = [node.port for node in nodes]
            if secure:
                (node,) = nodes
                endpoint = f"localhost:{node.port}"
                security = "SASL_SSL: GSSAPI, SCRAM-SHA-512; TLS by the vac local CA"
                listeners = [
                    f"SASL_SSL {endpoint} (GSSAPI, SCRAM-SHA-512)",
                    f"INTERNAL PLAINTEXT 127.0.0.1:{node.internal_port} (inter-broker, loopback)",
                    f"CONTROLLER PLAINTEXT 127.0.0.1:{node.controller_port} (loopback)",
                ]
                users = [f"User:{CLIENT_USER} ({CLIENT_USER}@{realm} by GSSAPI, {CLIENT_USER} by SCRAM-SHA-512)"]
            else:
                endpoint = kafka_node.bootstrap_servers(nodes)
                security = "PLAINTEXT on loopback: no TLS, no authentication"
                listeners, users = [f"PLAINTEXT {endpoint}"], []
        else:
            es = self._es_node(state)
            endpoint, ports = es.url, [es.port]
            if secure:
                security = f"security on: https, users {CLIENT_USER}"
                listeners, users = [f"https {endpoint}"], [f"{CLIENT_USER} (superuser, file realm)"]
            else:
                security = "security off: http on loopback, no TLS, no authentication"
                listeners, users = [f"http {endpoint}"], []
            # The launcher's pid is recorded (its group is what `down` stops); the server is its child.
            alive = [process.server_pid(pid, elasticsearch_node.SERVER_MAIN_CLASS) for pid in alive]
        version = recorded.get("version")
        access = {"listeners": listeners, "users": users}
        if not alive:
            return ServiceStatus(
                service, "stopped", False, version, endpoint, "not running", [], ports, logs, security, **access
            )
        if len(alive) < len(pairs):
            detail = f"{len(alive)} of {len(pairs)} processes running"
            return ServiceStatus(
                service, "partial", False, version, endpoint, detail, alive, ports, logs, security, **access
            )
        if service == "kafka":
            healthy, detail = self._kafka_health(self._kafka_settings(state), len(pairs), timeout_s)
        else:
            healthy, detail, version = self._search_health(self._es_settings(state), timeout_s, version)
        state_word = "running" if healthy else "unhealthy"
        return ServiceStatus(
            service, state_word, healthy, version, endpoint, detail, alive, ports, logs, security, **access
        )

    @staticmethod
    def _kafka_health(kafka: KafkaSettings, brokers: int, timeout_s: float) -> tuple[bool, str]:
        try:
            info = probe_kafka(kafka, timeout_s)
        except KafkaUnavailable:
            return False, "not answering"
        return len(info.brokers) == brokers, f"{len(info.brokers)}/{brokers} brokers, cluster {info.cluster_id}"

    @staticmethod
    def _search_health(
        es: ElasticsearchSettings, timeout_s: float, version: str | None
    ) -> tuple[bool, str, str | None]:
        # Imported here: the Elasticsearch client takes 0.1 s to import, and every `vac`
        # command loads this module.
        from vac.es.client import probe_cluster as probe_search

        try:
            info = probe_search(es, timeout_s)
        except SearchUnavailable:
            return False, "not answering", version
        return info.status in ("green", "yellow"), f"cluster {info.cluster_name} {info.status}", info.version

    # -- logs --------------------------------------------------------------------------

    def log_files(self, service: str, state: dict[str, Any] | None = None) -> list[Path]:
        state = self._load_state() if state is None else state
        if service == "kafka":
            return [node.log_file for node in self._kafka_nodes(state)]
        if service == "kdc":
            return [self._kdc(state).log_file]
        return [self._es_node(state).log_file]

    # -- down and reset ----------------------------------------------------------------

    def down(self, services: Iterable[str] = SERVICES) -> list[str]:
        """Stop `services` gracefully (data kept); return the ones that were running."""
        state = self._load_state()
        # The KDC after Kafka: a broker that stops may still talk to it.
        stopped = [service for service in self._with_kdc(services, state) if self._stop_service(service, state)]
        return stopped

    def _stop_service(self, service: str, state: dict[str, Any]) -> bool:
        pids = [pid for pid, marker in self._pids_and_markers(service, state) if process.is_running(pid, marker)]
        was_running = bool(pids)
        if pids:
            # All nodes at once: a KRaft node stopped last would wait for a quorum that is gone.
            self._progress(f"stopping {service} (pid {', '.join(map(str, pids))})")
            process.stop_groups(pids, STOP_TIMEOUT_S)
        # Servers whose pid was lost (a crashed `up`, a deleted state file) still carry a
        # path of this state dir in their command line.
        strays = [proc for marker in self._markers(service, state) for proc in process.find_by_marker(marker)]
        if strays:
            self._progress(f"stopping {len(strays)} leftover {service} process(es)")
            process.terminate(strays, STOP_TIMEOUT_S)
            was_running = True
        if service in state:
            state[service]["pids"] = []
            self._save_state(state)
        return was_running

    def reset_plan(self) -> list[Path]:
        """What `reset` would delete: all data, logs and state of the local stack."""
        candidates = [
            self.state_dir / "kafka",
            self.state_dir / "elasticsearch",
            *self.secure_material.paths(),
            self.state_file,
        ]
        return [path for path in candidates if path.exists()]

    def reset(self, plan: list[Path]) -> None:
        self.down()
        for path in plan:
            self._progress(f"deleting {path}")
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
