"""`vac doctor`: can this machine run vac against the configured Kafka and Elasticsearch?

Each check says ok, warn or fail with a reason and, when it fails, what to do. The checks
run in order and never stop early, so one run lists every problem.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import confluent_kafka

from vac.errors import VacError
from vac.es.client import CLIENT_MAJOR, shown_hosts
from vac.es.client import probe_cluster as probe_search
from vac.kafka.client import probe_cluster as probe_kafka
from vac.kafka.client import sasl_support
from vac.kafka.kerberos import KlistMissing, has_valid_ticket, keytab_principals
from vac.local.java import find_java
from vac.local.maven import strip_ansi
from vac.logs.reading import native_available
from vac.redact import redact_text
from vac.settings import VacSettings, secret_values

MIN_JAVA = 17


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    """ok, warn or fail."""
    detail: str
    hint: str | None = None


def run_checks(settings: VacSettings) -> list[Check]:
    kafka = check_kafka(settings)
    elasticsearch = check_elasticsearch(settings)
    # Whether a server lets anyone in is only known, or only matters, once it answered.
    checks = [
        check_java(settings),
        check_maven(),
        kafka,
        *([check_kafka_auth(settings)] if kafka.status == "ok" else []),
        check_sasl(settings),
        *([check_kerberos(settings)] if settings.kafka.security.sasl_mechanism == "GSSAPI" else []),
        elasticsearch,
        *([check_elasticsearch_auth(settings)] if elasticsearch.status == "ok" else []),
        check_log_parser(settings),
    ]
    secrets = secret_values(settings)
    return [_scrubbed(check, secrets) for check in checks]


def _failed(name: str, error: VacError) -> Check:
    return Check(name, "fail", error.message, error.hint)


def _scrubbed(check: Check, secrets: set[str]) -> Check:
    # Library messages may quote a URL or a property with its password in it.
    hint = redact_text(check.hint, secrets) if check.hint else None
    return replace(check, detail=redact_text(check.detail, secrets), hint=hint)


def check_java(settings: VacSettings) -> Check:
    try:
        java = find_java(MIN_JAVA, settings.local.java_home)
    except VacError as exc:
        return _failed("java", exc)
    return Check("java", "ok", f"Java {java.version} at {java.home}")


def check_maven() -> Check:
    mvn = shutil.which("mvn")
    if mvn is None:
        return Check(
            "maven",
            "fail",
            "mvn is not on PATH (vac local fetches Kafka and Elasticsearch with it)",
            "apt-get install maven",
        )
    try:
        result = subprocess.run([mvn, "-v"], capture_output=True, text=True, timeout=60)
        first = (result.stdout.splitlines() or ["unknown version"])[0]
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("maven", "fail", f"mvn -v failed: {exc}")
    return Check("maven", "ok", strip_ansi(first))


def check_kafka(settings: VacSettings) -> Check:
    try:
        info = probe_kafka(settings.kafka)
    except VacError as exc:
        return _failed("kafka", exc)
    brokers = f"{len(info.brokers)} broker(s), cluster {info.cluster_id}"
    return Check("kafka", "ok", f"{settings.kafka.bootstrap_servers}: {brokers}")


def check_sasl(settings: VacSettings) -> Check:
    librdkafka = confluent_kafka.libversion()[0]
    configured = settings.kafka.security.sasl_mechanism
    if configured is not None:
        problem = sasl_support(configured)
        if problem:
            return Check(
                "sasl",
                "fail",
                f"librdkafka {librdkafka} cannot do SASL {configured}: {problem}",
                "run scripts/build-kafka-client.sh (scripts/bootstrap.sh does): it builds confluent-kafka "
                "against a librdkafka with Cyrus SASL and GSSAPI",
            )
        return Check("sasl", "ok", f"librdkafka {librdkafka} supports the configured SASL {configured}")
    if sasl_support("GSSAPI"):
        return Check(
            "sasl",
            "warn",
            f"no SASL configured; librdkafka {librdkafka} lacks GSSAPI, which the production cluster needs",
        )
    return Check("sasl", "ok", f"no SASL configured; librdkafka {librdkafka} supports GSSAPI")


def check_kerberos(settings: VacSettings) -> Check:
    """What librdkafka's kinit will find: the configured principal's key in the keytab, kept
    from other users, or a valid ticket in the cache when no keytab is configured."""
    security = settings.kafka.security
    principal = security.kerberos_principal
    try:
        if security.kerberos_keytab is None:
            if has_valid_ticket():
                return Check("kerberos", "ok", "no keytab configured; the ticket cache holds a valid ticket")
            return Check(
                "kerberos",
                "fail",
                "no keytab configured and no valid ticket in the cache (none, or expired)",
                "kinit PRINCIPAL, or set kafka.security.kerberos_keytab and kerberos_principal",
            )
        keytab = Path(security.kerberos_keytab)
        try:
            principals = keytab_principals(keytab)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            return Check("kerberos", "fail", f"keytab {keytab} cannot be read: {reason}", "check kerberos_keytab")
    except KlistMissing:
        return Check(
            "kerberos",
            "warn",
            "klist is not installed: the keytab and ticket are not checked",
            "install MIT krb5's client tools (Debian: krb5-user); librdkafka's kinit needs them too",
        )
    if not principals or (principal is not None and principal not in principals):
        held = ", ".join(principals) or "no key at all"
        return Check(
            "kerberos",
            "fail",
            f"keytab {keytab} holds no key for {principal} (it has {held})",
            "check kerberos_principal",
        )
    if keytab.stat().st_mode & 0o077:
        return Check(
            "kerberos",
            "warn",
            f"keytab {keytab} holds {principal or principals[0]} but other users may read it",
            f"chmod 600 {keytab}: a keytab is a password",
        )
    return Check("kerberos", "ok", f"keytab {keytab} holds {principal or ', '.join(principals)}, owner-only")


def check_elasticsearch(settings: VacSettings) -> Check:
    try:
        info = probe_search(settings.elasticsearch)
    except VacError as exc:
        return _failed("elasticsearch", exc)
    server_major = int(info.version.split(".")[0])
    where = shown_hosts(settings.elasticsearch.hosts)
    if server_major != CLIENT_MAJOR:
        return Check(
            "elasticsearch",
            "fail",
            f"{where}: server {info.version} but the Python client is major {CLIENT_MAJOR}",
            f"install elasticsearch=={server_major}.* (the client's major must match the server's)",
        )
    status = "ok" if info.status in ("green", "yellow") else "fail"
    cluster = f"Elasticsearch {info.version}, cluster {info.cluster_name} {info.status}"
    return Check("elasticsearch", status, f"{where}: {cluster}")


def check_kafka_auth(settings: VacSettings) -> Check:
    """Kafka reached over PLAINTEXT: no authentication, no encryption."""
    security = settings.kafka.security
    if security.protocol == "PLAINTEXT":
        return Check(
            "kafka auth",
            "warn",
            f"{settings.kafka.bootstrap_servers} is reached over PLAINTEXT without SASL: anyone who can reach "
            "it can read and write every topic",
            "fine for the local stack; production uses kafka.security.protocol SASL_SSL",
        )
    how = f"{security.protocol} with SASL {security.sasl_mechanism}" if security.sasl_mechanism else security.protocol
    return Check("kafka auth", "ok", how)


def check_elasticsearch_auth(settings: VacSettings) -> Check:
    """Elasticsearch answering without credentials (security off), over plain http or not."""
    es = settings.elasticsearch
    anonymous = es.model_copy(update={"username": None, "password": None, "api_key": None})
    if anonymous != es:  # vac authenticates: does the server insist on it?
        try:
            probe_search(anonymous, timeout_s=min(es.request_timeout_s, 5.0))
        except VacError:
            return Check("es auth", "ok", "Elasticsearch requires authentication")
    plain = [host for host in es.hosts if host.lower().startswith("http://")]
    transport = " over plain http" if plain else ""
    return Check(
        "es auth",
        "warn",
        f"{shown_hosts(es.hosts)} answers without authentication{transport} (security off): anyone who can "
        "reach it can read and delete the logs",
        "fine for the local stack; production needs xpack.security on, https and credentials",
    )


def check_log_parser(settings: VacSettings) -> Check:
    if not settings.logs.native_parser:
        return Check("log parser", "ok", "Python (logs.native_parser is off)")
    if native_available():
        return Check("log parser", "ok", "compiled WinCC OA parser (vac_native)")
    return Check(
        "log parser",
        "warn",
        "vac_native is not installed: WinCC OA logs are parsed in Python (same documents, slower)",
        "install Rust (rustup.rs), then run scripts/bootstrap.sh again",
    )
