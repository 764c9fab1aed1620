"""The typed configuration of vac, and where its values come from.

One YAML file, validated by one pydantic model; unknown keys are rejected. Precedence, highest
first: command-line flags > `VAC_*` environment variables (`__` nests: `VAC_KAFKA__CLIENT_ID`)
> the file (`--config`, `$VAC_CONFIG`, `./vac.yaml`, the user config dir) > defaults, which
point at the local stack that `vac local up` starts. Every command and the TUI load their
configuration through `load_settings`.
"""

from __future__ import annotations

import json
import os
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from vac import paths
from vac.config_file import ConfigProblem, parse_yaml, problems_from_validation, read_yaml
from vac.errors import ConfigError, UsageError
from vac.redact import redact_properties, redact_url, secret_property, url_password
from vac.timegrammar import parse_instant
from vac.topicnames import ALARMS_TOPIC, topic_name_problem

ENV_PREFIX = "VAC_"
CONFIG_ENV_VAR = "VAC_CONFIG"


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Europe/Zurich or UTC)") from None
    return name


def _legal_topic(name: str) -> str:
    problem = topic_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"the regular expression does not compile: {exc}") from None
    return pattern


def _a_time(text: str) -> str:
    try:
        parse_instant(text, datetime.now(UTC))
    except UsageError as exc:
        raise ValueError(exc.message) from None
    except (OverflowError, ValueError):
        raise ValueError(f"time {text!r} is out of range") from None
    return text


def _broker_list(servers: str) -> str:
    if not servers.strip() or any(not part.strip() for part in servers.split(",")):
        raise ValueError("needs at least one host:port, and no empty entry between commas")
    if not servers.isprintable():  # a -b or an environment variable can carry anything
        raise ValueError("has control characters; give host:port,host:port")
    return servers


# Checked when the file is read, so that `vac config check` catches what would otherwise fail
# (or silently misbehave) only when a command gets to use the value.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]
TopicName = Annotated[str, AfterValidator(_legal_topic)]
RegexPattern = Annotated[str, AfterValidator(_compiles)]
TimeText = Annotated[str, AfterValidator(_a_time)]
BrokerList = Annotated[str, AfterValidator(_broker_list)]


def _is_number(annotation: Any) -> bool:
    """int or float, possibly optional (`float | None`)."""
    if annotation in (int, float):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_number(arg) for arg in get_args(annotation))
    return False


class Section(BaseModel):
    """A config section: typos are errors, not silently ignored keys; inf and NaN are no
    numbers a setting can use."""

    # The docstring under each field documents it here; pydantic's `use_attribute_docstrings`
    # would copy them into `Field.description` by re-parsing this module at every start (a
    # third of building these models), and nothing reads the descriptions.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic's lax mode reads `timeout_s: true` as 1.0; a boolean where a number goes is
        # a mistake in the file, not a timeout of one second.
        if isinstance(value, bool) and info.field_name and _is_number(cls.model_fields[info.field_name].annotation):
            raise ValueError("expected a number, not a boolean")
        return value


def _check_login(username: str | None, password: SecretStr | None, password_env: str) -> None:
    """A user and a password go together; `password_env` is where else the password may come from."""
    if username is not None and password is None:
        raise ValueError(f"username is set but password is not (set it here, in password_file or in ${password_env})")
    if password is not None and username is None:
        raise ValueError("password is set but username is not")


def _secret_from_file(data: Any, secret: str) -> Any:
    """`<secret>_file`: the secret read from a file (a systemd credential, a mounted secret),
    so that it sits neither in the config nor in the environment nor in a process's command
    line. One trailing newline is not part of it."""
    file_key = f"{secret}_file"
    if not isinstance(data, dict) or data.get(file_key) is None:
        return data
    if data.get(secret) is not None:
        raise ValueError(f"set either {secret} or {file_key}, not both")
    path = Path(str(data[file_key])).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"{file_key} {path} cannot be read: {reason}") from None
    if text.endswith("\n"):
        text = text[:-2] if text.endswith("\r\n") else text[:-1]
    if not text:
        raise ValueError(f"{file_key} {path} is empty")
    return {**data, secret: text}


class KafkaSecurity(Section):
    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """librdkafka `security.protocol`; production uses SASL_SSL."""
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI"] | None = None
    """SASL mechanism; required with SASL_PLAINTEXT and SASL_SSL."""
    username: str | None = None
    """User for PLAIN and SCRAM."""
    password: SecretStr | None = None
    """Password for PLAIN and SCRAM; never printed."""
    password_file: Path | None = None
    """A file whose content is the password (instead of `password`)."""
    ca_file: Path | None = None
    """PEM bundle of the CA that signed the brokers' certificates."""
    cert_file: Path | None = None
    """Client certificate (PEM) for mutual TLS."""
    key_file: Path | None = None
    """Client private key (PEM) for mutual TLS."""
    key_password: SecretStr | None = None
    """Password of the client private key."""
    key_password_file: Path | None = None
    """A file whose content is the key's password (instead of `key_password`)."""
    kerberos_service_name: str = "kafka"
    """Kerberos service name of the brokers (GSSAPI)."""
    kerberos_principal: str | None = None
    """Client principal (GSSAPI), e.g. vacuum@CERN.CH."""
    kerberos_keytab: Path | None = None
    """Keytab of the client principal (GSSAPI); without it the ticket cache is used."""

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        return _secret_from_file(_secret_from_file(data, "password"), "key_password")

    @model_validator(mode="after")
    def _mechanism_fits_protocol(self) -> KafkaSecurity:
        sasl = self.protocol.startswith("SASL_")
        if sasl and self.sasl_mechanism is None:
            raise ValueError(f"protocol {self.protocol} needs sasl_mechanism")
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(f"sasl_mechanism is set but protocol {self.protocol} does not use SASL")
        if self.sasl_mechanism in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512") and not (self.username and self.password):
            raise ValueError(
                f"sasl_mechanism {self.sasl_mechanism} needs username and password "
                "(the password may come from $VAC_KAFKA__SECURITY__PASSWORD)"
            )
        if self.kerberos_keytab is not None and not self.kerberos_principal:
            raise ValueError("kerberos_keytab needs kerberos_principal")
        return self


class KafkaSettings(Section):
    bootstrap_servers: BrokerList = "127.0.0.1:9092"
    """Comma-separated host:port list of brokers."""
    client_id: str = "vac"
    """Client id the brokers see (quotas, logs)."""
    timeout_s: float = Field(10.0, gt=0)
    """How long a metadata request or a flush may take before vac reports Kafka unavailable."""
    security: KafkaSecurity = KafkaSecurity()
    """Transport security and authentication."""
    properties: dict[str, str | int | float | bool] = {}
    """Any extra librdkafka property, e.g. `linger.ms: 5`; wins over vac's own choices."""


class ElasticsearchSettings(Section):
    hosts: list[str] = ["http://127.0.0.1:9200"]
    """Elasticsearch URLs."""
    username: str | None = None
    """User for basic authentication."""
    password: SecretStr | None = None
    """Password for basic authentication; never printed."""
    password_file: Path | None = None
    """A file whose content is the password (instead of `password`)."""
    api_key: SecretStr | None = None
    """API key (the base64 `id:key` form); used instead of username/password."""
    api_key_file: Path | None = None
    """A file whose content is the API key (instead of `api_key`)."""
    ca_file: Path | None = None
    """PEM bundle of the site's CA."""
    verify_certs: bool = True
    """Verify the server certificate (leave on outside tests)."""
    request_timeout_s: float = Field(10.0, gt=0)
    """Timeout of one request."""

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        return _secret_from_file(_secret_from_file(data, "password"), "api_key")

    @model_validator(mode="after")
    def _one_auth(self) -> ElasticsearchSettings:
        if self.api_key is not None and self.username is not None:
            raise ValueError("set either api_key or username/password, not both")
        _check_login(self.username, self.password, "VAC_ELASTICSEARCH__PASSWORD")
        return self


class LocalSettings(Section):
    state_dir: Path | None = None
    """Data, logs and pids of the local stack, and the shipper's registry (default: systemd's
    $STATE_DIRECTORY in a service, /var/lib/vac as root, else the user state dir)."""
    cache_dir: Path | None = None
    """Resolved Kafka jars and the unpacked Elasticsearch (default: /var/cache/vac as root,
    else the user cache dir)."""
    kafka_version: str = "4.1.1"
    """Apache Kafka version (org.apache.kafka:kafka_2.13 on Maven Central)."""
    elasticsearch_version: str = "8.19.21"
    """Elasticsearch version (integ-test-zip on Maven Central); 8.x runs on Java 17."""
    kafka_brokers: int = Field(1, ge=1, le=5)
    """Number of combined broker+controller KRaft nodes."""
    kafka_port: int = Field(9092, ge=1024, le=65000)
    """Client port of node 1; node i uses kafka_port+2(i-1), its controller the port after."""
    elasticsearch_port: int = Field(9200, ge=1024, le=65000)
    """HTTP port of Elasticsearch; its transport port is this plus 100."""
    kafka_heap_mb: int = Field(512, ge=128)
    """Heap of each Kafka node."""
    elasticsearch_heap_mb: int = Field(512, ge=256)
    """Heap of Elasticsearch."""
    java_home: Path | None = None
    """JDK to run both services with (default: the first Java 17+ found)."""
    elasticsearch_user: str = "vac"
    """Unprivileged user that runs Elasticsearch when vac runs as root."""
    start_timeout_s: float = Field(180.0, gt=0)
    """How long `vac local up` waits for the services to become healthy."""
    secure: bool = False
    """Start the stack secured as production is: Kafka on SASL_SSL (Kerberos GSSAPI and
    SCRAM-SHA-512) with ACLs, Elasticsearch with users over https, a KDC of realm VAC.LOCAL."""
    kdc_port: int = Field(9088, ge=1024, le=65000)
    """Port of the local Kerberos KDC (with `secure`)."""

    def resolved_state_dir(self) -> Path:
        return self.state_dir or paths.default_state_dir()

    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or paths.default_cache_dir()


class OpcUaSecurity(Section):
    """How `--source opcua://` secures its channel and logs in (production: Basic256Sha256,
    SignAndEncrypt, a client certificate the server trusts, a user and password)."""

    policy: Literal["none", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"] = "none"
    """Security policy of the secure channel; none sends everything in clear."""
    mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    """Message security mode (with a policy other than none)."""
    certificate: Path | None = None
    """vac's client certificate (PEM or DER, RSA), with its application URI in subjectAltName;
    the server must trust it (or its CA)."""
    private_key: Path | None = None
    """The client certificate's private key (PEM or DER)."""
    private_key_password: SecretStr | None = None
    """Password of an encrypted private key; never printed."""
    private_key_password_file: Path | None = None
    """A file whose content is the key's password (instead of `private_key_password`)."""
    server_certificate: Path | None = None
    """The server's certificate (PEM or DER): connect only to a server that presents it. Without
    it, vac uses whichever certificate the server announces."""
    username: str | None = None
    """User of the session (without it: anonymous)."""
    password: SecretStr | None = None
    """The user's password; never printed."""
    password_file: Path | None = None
    """A file whose content is the password (instead of `password`)."""

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        return _secret_from_file(_secret_from_file(data, "password"), "private_key_password")

    @model_validator(mode="after")
    def _complete(self) -> OpcUaSecurity:
        if self.policy != "none" and (self.certificate is None or self.private_key is None):
            raise ValueError(f"policy {self.policy} needs certificate and private_key")
        if self.policy == "none" and (self.certificate or self.private_key or self.server_certificate):
            raise ValueError("certificate, private_key and server_certificate need a policy other than none")
        _check_login(self.username, self.password, "VAC_SCADA__OPCUA_SECURITY__PASSWORD")
        return self


class MqttSecurity(Section):
    """How `--source mqtt://` secures its connection and logs in (production: TLS with the
    site CA, a user and password). `mqtts://` turns TLS on as `tls: true` does."""

    tls: bool = False
    """Connect over TLS (default port 8883 instead of 1883)."""
    ca_file: Path | None = None
    """PEM bundle of the CA that signed the broker's certificate (default: the system's CAs)."""
    cert_file: Path | None = None
    """Client certificate (PEM) for mutual TLS."""
    key_file: Path | None = None
    """Client private key (PEM) for mutual TLS."""
    key_password: SecretStr | None = None
    """Password of an encrypted client key; never printed."""
    key_password_file: Path | None = None
    """A file whose content is the key's password (instead of `key_password`)."""
    username: str | None = None
    """User of the MQTT connection."""
    password: SecretStr | None = None
    """The user's password; never printed."""
    password_file: Path | None = None
    """A file whose content is the password (instead of `password`)."""

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, data: Any) -> Any:
        return _secret_from_file(_secret_from_file(data, "password"), "key_password")

    @model_validator(mode="after")
    def _complete(self) -> MqttSecurity:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (mutual TLS needs both)")
        _check_login(self.username, self.password, "VAC_SCADA__MQTT_SECURITY__PASSWORD")
        return self


class ScadaSettings(Section):
    topic: TopicName | None = None
    """Output topic; default: the last part of each DPE's `topic` (`vac.lhc.pressures` ->
    `pressures`)."""
    last_topic: TopicName | None = "vac.scada.last"
    """Log-compacted topic keyed by DPE that the streamer also writes every change to: every
    DPE's last value, read at open by `vac scada now` and `vac dash`; null: not written."""
    partitions: int = Field(6, ge=1)
    """Partitions of topics vac creates."""
    replication_factor: int = Field(1, ge=1)
    """Replication factor of topics vac creates (3 in production)."""
    opcua_node_id: str = "ns=2;s={dpe}"
    """OPC UA node id of a DPE; `{dpe}` is replaced by its name."""
    opcua_publishing_ms: int = Field(100, ge=10)
    """OPC UA subscription publishing interval."""
    opcua_security: OpcUaSecurity = OpcUaSecurity()
    """Secure channel and login of `--source opcua://`."""
    mqtt_security: MqttSecurity = MqttSecurity()
    """TLS and login of `--source mqtt://` and `mqtts://`."""


class LogInput(Section):
    """One group of log files that share an application and a format."""

    paths: list[str] = Field(min_length=1)
    """File globs, e.g. /opt/vacin/PVSS_projects/*/*/log/PVSS_II.log; new matches are picked up
    while running."""
    app_id: str
    """`fields.app_id` of the records (e.g. vac_lhc_1_scada_logs)."""
    fields: dict[str, str] = {}
    """Extra `fields.*` of every record of this input."""
    parser: Literal["winccoa", "tomcat_access", "spring_boot", "regex"] = "winccoa"
    pattern: RegexPattern | None = None
    """With parser regex: a regular expression with named groups (timestamp, level, text...)."""
    time_format: str | None = None
    """With parser regex: strptime format of the timestamp group (default: ISO 8601)."""
    multiline: bool = True
    """With parser regex: lines that do not match join the record before them."""
    timezone: TimeZoneName | None = None
    """Zone of timestamps written without one (default: logs.timezone)."""
    topic: TopicName | None = None
    """Kafka topic of this input (default: logs.topic)."""

    @model_validator(mode="after")
    def _regex_needs_pattern(self) -> LogInput:
        if self.parser == "regex" and not self.pattern:
            raise ValueError("parser regex needs a pattern")
        return self


class LogsSettings(Section):
    topic: TopicName = "vac.logs"
    """Kafka topic of shipped log records."""
    timezone: TimeZoneName = "Europe/Zurich"
    """Time zone of WinCC OA log timestamps, which carry none."""
    inputs: list[LogInput] = []
    """What `vac ship logs` tails (or give --path and --app-id)."""
    sink: Literal["kafka", "elasticsearch", "stdout"] = "kafka"
    """Where `vac ship logs` delivers records."""
    registry_file: Path | None = None
    """Read positions of `vac ship logs` (default: ship-registry.json in the state dir)."""
    partitions: int = Field(6, ge=1)
    """Partitions of the log topic when vac creates it."""
    scan_interval_s: float = Field(1.0, gt=0)
    """How often the globs are expanded again and files checked for rotation."""
    idle_flush_s: float = Field(1.0, gt=0)
    """A record is complete when its file has been quiet this long (or the next record starts)."""
    close_inactive_s: float = Field(10.0, gt=0)
    """A file renamed or deleted away is released after this long at its end."""
    copy_grace_s: float = Field(3.0, ge=0)
    """How long a new file that starts like another file still there waits to be told
    copytruncate's copy (its original truncated meanwhile) from a distinct file."""
    max_open_files: int = Field(500, ge=1)
    """Files `vac ship logs` holds open at once (at most half the process's descriptor limit);
    more are read in turns: a file read to its end and acknowledged is closed, and reopened by
    its identity when it grows."""
    max_record_lines: int = Field(500, ge=1)
    max_record_bytes: int = Field(128 * 1024, ge=1024)
    """Caps per record: the rest goes on in a new record, and the capped one is tagged truncated."""
    native_parser: bool = True
    """Parse WinCC OA logs with the compiled parser (`vac_native`) when it is installed; the
    Python parser gives the same documents, at about a third of the speed."""
    health_interval_s: float = Field(10.0, gt=0)
    """Heartbeat records to the health topic."""


class IndexSettings(Section):
    group_id: str = "vac-index"
    """Consumer group of `vac index`."""
    name_template: str = "vacelastic-logs-scada-v1-{app}-{yyyy.MM}"
    """Index per application per month, as the dashboards expect."""
    batch_docs: int = Field(2000, ge=1)
    batch_mb: float = Field(8.0, gt=0)
    batch_s: float = Field(1.0, gt=0)
    """A bulk request goes when it holds batch_docs documents, batch_mb, or is batch_s old."""
    dead_letter_topic: TopicName = "vac.logs.dlq"
    """Documents Elasticsearch rejects, with the reason (`vac index replay-dlq` resends them)."""
    scada_topics: list[TopicName] = ["pressures", "statuses"]
    """SCADA change topics `vac index` also indexes (one compact document per change); []: none."""
    scada_name_template: str = "vacelastic-scada-v1-{yyyy.MM.dd}"
    """Index of SCADA changes per day of their source time."""


class QuerySettings(Section):
    timezone: TimeZoneName | None = None
    """Zone of times typed without one and of times shown (null: this machine's)."""
    since: TimeText = "15m"
    """Start of the default time window, as Kibana's."""
    fields: list[str] = ["@timestamp", "host", "app", "level", "manager", "text"]
    """Columns of the table (app, host, file, offset and id are short names)."""
    limit: int = Field(500, ge=1)
    """Records shown without --limit."""


class AlarmRule(Section):
    """When a DPE whose name matches `match` (a shell pattern) is in alarm. Each condition has
    hysteresis: it raises above one threshold and clears below a lower one, and either change
    waits until the condition has held for `min_s` (a value hovering at a limit raises one
    alarm, and a single sample raises none)."""

    match: str
    above: float | None = None
    """Raise when the value is above this (e.g. 1e-8 mbar for beam vacuum gauges)."""
    clear_below: float | None = None
    """Clear when the value is below this again (default: half of `above`)."""
    rise_decades: float | None = Field(None, gt=0, le=20)
    """Raise when the value is this many decades above its baseline (its own smoothed level)."""
    clear_decades: float | None = Field(None, ge=0, le=20)
    """Clear when the value is back within this many decades of the baseline (default: half
    of `rise_decades`)."""
    within_s: float = Field(300.0, gt=0, le=86_400)
    """The baseline follows the value with this time constant (an exponential average in log
    scale, held while the value is raised): a rise faster than this stands out, a slow drift
    does not, and one noisy sample moves it little."""
    invalid: bool = False
    """Raise while its status says invalid."""
    min_s: float = Field(10.0, ge=0, le=86_400)
    """The minimum time in state: a condition must hold this long (in the DPE's source time)
    before the alarm is raised, and be gone this long before it clears."""

    @model_validator(mode="after")
    def _clear_under_raise(self) -> AlarmRule:
        if self.above is not None and self.clear_below is not None and self.clear_below > self.above:
            raise ValueError(f"clear_below {self.clear_below:g} is above `above` {self.above:g}: nothing would clear")
        if self.rise_decades is not None and self.clear_decades is not None and self.clear_decades > self.rise_decades:
            raise ValueError("clear_decades is above rise_decades: nothing would clear")
        return self


class DashSettings(Section):
    refresh_hz: float = Field(4.0, gt=0, le=30)
    """Screen redraws per second at most, whatever the input rate."""
    scada_topics: list[TopicName] = ["pressures", "statuses"]
    """Topics of `vac stream scada` the SCADA screen shows."""
    history_s: float = Field(120.0, ge=0)
    """On start, read this far back in the SCADA and log topics (values, charts, histogram)."""
    stale_after_s: float = Field(30.0, gt=0)
    """A streamer or shipper whose last heartbeat is older is shown stale."""
    alarms: list[AlarmRule] = [
        AlarmRule(match="VGPB*.PR", above=1e-8, clear_below=5e-9),
        AlarmRule(match="V*.PR", rise_decades=1.0, clear_decades=0.5),
        AlarmRule(match="*", invalid=True),
    ]
    """Beam vacuum gauges above 1e-8 mbar (clear below 5e-9), any pressure a decade above its
    baseline (clear within half a decade), any invalid value; each held 10 s."""


class VacSettings(BaseModel):
    """The whole configuration; each section has its own defaults. `load_settings` merges the
    file, the `VAC_*` environment and the flags into it."""

    model_config = ConfigDict(extra="forbid")

    health_topic: TopicName = "vac.health"
    """Topic of the heartbeat records that streamers and shippers publish."""
    alarm_topic: TopicName = ALARMS_TOPIC
    """Compacted topic of alarm states and acknowledgements (who, when), shared by every
    dashboard, `vac alarms watch` (which evaluates the rules of dash.alarms) and `vac alarms`."""
    kafka: KafkaSettings = KafkaSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    local: LocalSettings = LocalSettings()
    scada: ScadaSettings = ScadaSettings()
    logs: LogsSettings = LogsSettings()
    index: IndexSettings = IndexSettings()
    query: QuerySettings = QuerySettings()
    dash: DashSettings = DashSettings()


@dataclass(frozen=True)
class LoadedSettings:
    settings: VacSettings
    config_file: Path | None
    """The file the settings were read from; None when only defaults/env/flags applied."""


def find_config_file(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    """The config file to read: `--config`, then `$VAC_CONFIG`, then ./vac.yaml, then the
    user config dir. A file named explicitly must exist; the others are optional."""
    named = explicit or (Path(env[CONFIG_ENV_VAR]) if env.get(CONFIG_ENV_VAR) else None)
    if named is not None:
        if named.is_dir():
            raise ConfigError(
                f"config file {named} is a directory",
                hint=f"name the YAML file inside it, e.g. --config {named / 'vac.yaml'}",
            )
        if not named.is_file():
            raise ConfigError(
                f"config file {named} does not exist",
                hint="check the path given with --config or $VAC_CONFIG",
            )
        return named
    for candidate in (Path("vac.yaml"), paths.user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def env_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The `VAC_*` variables as a nested dict: `VAC_KAFKA__CLIENT_ID=x` is {"kafka": {"client_id":
    "x"}}, names in any case. A variable whose field is a list, a mapping or a section (given
    whole) must be JSON; when one is not, the error names that variable. Variables that name no
    setting at the top (`VAC_CONFIG`, `VAC_DEBUG`) are not settings; unknown keys inside a
    section are kept, for the model to reject. (pydantic-settings' rules, without its import
    cost: it loads asyncio, argparse and dotenv, a fifth of a Kafka command's start-up.)"""
    whole: dict[str, Any] = {}
    nested: dict[str, Any] = {}
    for name, value in sorted(env.items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in VacSettings.model_fields or not all(path):
            continue
        annotation = _annotation_at(path)
        if annotation is not None and _is_complex(annotation):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(
                    f"invalid configuration: ${name.upper()}: not valid JSON ({exc})",
                    hint="sections and lists given in the environment are JSON, e.g. "
                    "VAC_ELASTICSEARCH__HOSTS='[\"https://es-1:9200\"]'",
                ) from None
        target = whole if len(path) == 1 else nested
        for key in path[:-1]:
            child = target.get(key)
            target = target.setdefault(key, {}) if not isinstance(child, dict) else child
        target[path[-1]] = value
    return deep_merge(whole, nested)


def _annotation_at(path: list[str]) -> Any:
    """The type of the setting at `path` (`["kafka", "security", "protocol"]`), or None when
    the path leaves the model (a key of a mapping, an unknown key)."""
    model: Any = VacSettings
    annotation: Any = None
    for key in path:
        if model is None:
            return None
        field = model.model_fields.get(key)
        if field is None:
            return None
        annotation = field.annotation
        model = next((arg for arg in _union_args(annotation) if _is_model(arg)), None)
    return annotation


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (Union, types.UnionType):
        return tuple(arg for arg in get_args(annotation) if arg is not type(None))
    return (annotation,)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_complex(annotation: Any) -> bool:
    """Given as JSON in the environment: a section, a list, a set, a tuple or a mapping."""
    # `str | list[str]` is not: a plain string is a value of it too.
    return all(_complex_one(arg) for arg in _union_args(annotation))


def _complex_one(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _complex_one(get_args(annotation)[0])
    if _is_model(annotation):
        return True
    candidate = origin or annotation
    return isinstance(candidate, type) and issubclass(candidate, list | set | tuple | dict | Mapping)


def deep_merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge dicts, later layers winning key by key (nested sections merge, not replace)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = dict(value) if isinstance(value, Mapping) else value
    return merged


def load_settings(
    config: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Read, merge and validate the configuration. Raises ConfigError naming every problem."""
    env = os.environ if env is None else env
    config_file = find_config_file(config, env)
    file_data, lines = read_yaml(config_file) if config_file else ({}, {})
    merged = deep_merge(file_data, env_values(env), overrides or {})
    try:
        settings = VacSettings.model_validate(merged)
    except ValidationError as exc:
        problems = problems_from_validation(exc, VacSettings, config_file, lines, file_data)
        raise config_error([_blame_env(problem, env) for problem in problems]) from None
    return LoadedSettings(settings=settings, config_file=config_file)


def check_file(path: Path, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
    """Every problem of one config file, with lines. The `VAC_*` environment is merged in as
    vac would (secrets usually come from there), and problems it causes are named as such."""
    env = os.environ if env is None else env
    parsed = parse_yaml(path)
    if isinstance(parsed, ConfigProblem):
        return [parsed]
    data, lines = parsed
    try:
        VacSettings.model_validate(deep_merge(data, env_values(env)))
    except ValidationError as exc:
        return [_blame_env(p, env) for p in problems_from_validation(exc, VacSettings, path, lines, data)]
    return []


def _blame_env(problem: ConfigProblem, env: Mapping[str, str]) -> ConfigProblem:
    """Name the environment variable behind a problem: the variable of the key, or of the
    section or list that holds it (`VAC_ELASTICSEARCH__HOSTS` for elasticsearch.hosts.1). The
    environment wins over the file, so a file line would point at the wrong value."""
    given = {key.upper() for key in env}
    parts = problem.key.split(".")
    for end in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:end]).upper()
        if name in given:
            return ConfigProblem(None, None, f"{problem.key} (from ${name})", problem.message, problem.suggestion)
    return problem


def config_error(problems: list[ConfigProblem]) -> ConfigError:
    first, rest = problems[0], len(problems) - 1
    more = f" (and {rest} more problem{'s' if rest > 1 else ''})" if rest else ""
    return ConfigError(f"invalid configuration: {first}{more}", hint="run `vac config check` to list every problem")


def secret_values(settings: VacSettings) -> set[str]:
    """Every secret the settings hold, so that a message quoting one can be scrubbed."""
    kafka, es = settings.kafka, settings.elasticsearch
    secrets = _typed_secrets(settings)
    secrets |= {str(value) for name, value in kafka.properties.items() if secret_property(name)}
    secrets |= {password for host in es.hosts if (password := url_password(host))}
    return secrets


def _typed_secrets(model: BaseModel) -> set[str]:
    """The value of every SecretStr field, however deep in the sections (new secret settings
    are covered without a list to keep up to date)."""
    found: set[str] = set()
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.add(value.get_secret_value())
        elif isinstance(value, BaseModel):
            found |= _typed_secrets(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, BaseModel):
                    found |= _typed_secrets(item)
    return found


def redacted(settings: VacSettings) -> dict[str, Any]:
    """The effective settings as plain data, secrets replaced by '**********': the typed
    secrets, secret-named librdkafka properties and credentials inside Elasticsearch URLs."""
    data = settings.model_dump(mode="json")
    data["kafka"]["properties"] = redact_properties(data["kafka"]["properties"])
    data["elasticsearch"]["hosts"] = [redact_url(host) for host in data["elasticsearch"]["hosts"]]
    return data
