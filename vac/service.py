"""systemd units for vac's long-running jobs (`ship logs`, `index`, `stream scada`) on the
SCADA servers, where Filebeat and Logstash ran as services before.

A unit is text that root installs and systemd parses with its own quoting, `%` specifiers and
`$` expansion, so every value that goes in is checked here and written escaped: a user name,
path or argument can never start a new line, a new setting or expand into something else.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vac import __version__
from vac.errors import ExitStatus, UsageError


@dataclass(frozen=True)
class Job:
    command: tuple[str, ...]
    description: str
    stop_timeout_s: int
    """After SIGTERM each job stops reading and flushes what is in flight: the shipper and the
    streamer for at most 30 s (their flush timeout); the indexer finishes its bulk request
    (elasticsearch.request_timeout_s, 10 s) and flushes dead letters (3 x kafka.timeout_s).
    systemd kills what is still running after this long."""


JOBS: dict[str, Job] = {
    "ship-logs": Job(("ship", "logs"), "vac ship logs: server logs into Kafka (the Filebeat successor)", 60),
    "index": Job(("index",), "vac index: log records from Kafka into Elasticsearch (the Logstash successor)", 90),
    "stream-scada": Job(("stream", "scada"), "vac stream scada: WinCC OA value changes into Kafka", 60),
}
DEFAULT_CONFIG = Path("/etc/vac/vac.yaml")
DEFAULT_USER = "vac"
UNIT_DIR = Path("/etc/systemd/system")
# ProtectHome= hides these from the service.
_HOME_DIRS = (PurePosixPath("/home"), PurePosixPath("/root"), PurePosixPath("/run/user"))
# The portable subset of user and group names (useradd's default NAME_REGEX, 32 characters).
_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# C0 and C1 controls, DEL, and the line and paragraph separators some parsers split on.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MAX_VALUE = 4096  # PATH_MAX; no legitimate value here is longer


@dataclass(frozen=True)
class UnitOptions:
    vac: Path
    """The `vac` executable the service runs (its virtualenv's console script)."""
    config: Path = DEFAULT_CONFIG
    user: str = DEFAULT_USER
    group: str | None = None
    """Primary group (default: the user's own)."""
    supplementary_groups: tuple[str, ...] = ()
    """Groups whose files the job reads, e.g. the WinCC OA project's group for its log dir."""
    keytab: Path | None = None
    principal: str | None = None
    krb5_config: Path | None = None
    log_dirs: tuple[Path, ...] = ()
    """Directories the job reads (the shipper's log dirs): kept visible and read-only."""
    extra_args: tuple[str, ...] = ()
    """Arguments after the job's command, e.g. `--source tcp://:7777 --dpes FILE`."""
    restart_sec: int = 10
    stop_timeout_s: int | None = None
    """Default: the job's own drain time."""


def unit_name(job: str) -> str:
    return f"vac-{job}.service"


def job_spec(job: str) -> Job:
    spec = JOBS.get(job)
    if spec is None:
        raise UsageError(f"unknown job {job!r}", hint=f"one of: {', '.join(JOBS)}")
    return spec


def _plain(what: str, value: str) -> str:
    """`value` if it holds no control character and is not absurdly long."""
    if _CONTROL.search(value):
        raise UsageError(f"{what} {value!r}: control characters (a newline?) cannot go into a unit file")
    if len(value) > _MAX_VALUE:
        raise UsageError(f"{what}: {len(value):,} characters is too long for a unit file (at most {_MAX_VALUE:,})")
    return value


def _name(what: str, value: str) -> str:
    _plain(what, value)
    if not _NAME.fullmatch(value):
        raise UsageError(
            f"{what} {value!r}: not a valid name",
            hint="lower-case letters, digits, '_' and '-', starting with a letter or '_', at most 32",
        )
    return value


def _path(what: str, path: Path, home_ok: bool = False) -> PurePosixPath:
    text = _plain(what, str(path))
    pure = PurePosixPath(text)
    if not pure.is_absolute():
        raise UsageError(
            f"{what} {text!r}: not an absolute path", hint="systemd starts services in /: give the full path"
        )
    if ".." in pure.parts:
        raise UsageError(f"{what} {text!r}: contains '..'", hint="give the path without '..'")
    if not home_ok and _under_home(pure):
        raise UsageError(
            f"{what} {text!r}: is under a home directory, which the service cannot see (ProtectHome=yes)",
            hint="keep vac, its config and its keytab outside /home and /root, e.g. in /opt/vac and /etc/vac",
        )
    return pure


def _under_home(path: PurePosixPath) -> bool:
    return any(path == home or home in path.parents for home in _HOME_DIRS)


def _escaped(value: str, in_command: bool = False) -> str:
    """`value` as one double-quoted word of a unit file: systemd unquotes it and reads C escapes
    (so `\\` and `"` are escaped), expands `%` specifiers (`%%` is a `%`) and, in Exec lines
    only, `$VARIABLES` (`$$` is a `$`)."""
    text = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    if in_command:
        text = text.replace("$", "$$")
    return f'"{text}"'


def _path_list_item(what: str, path: PurePosixPath) -> str:
    """A path in a space-separated path list (ReadOnlyPaths=): kept to characters that need
    no quoting there; `-` makes a directory that does not exist (yet) no error."""
    text = str(path)
    if re.search(r'[\s"\'\\]', text):
        raise UsageError(
            f"{what} {text!r}: spaces, quotes and backslashes cannot go into a systemd path list",
            hint="give a directory above it whose path has none",
        )
    return "-" + text.replace("%", "%%")


def _has_option(args: tuple[str, ...], option: str) -> bool:
    return any(arg == option or arg.startswith(option + "=") for arg in args)


def render_unit(job: str, options: UnitOptions) -> str:
    """The unit file of `job` (checked: see the module's docstring)."""
    spec = job_spec(job)
    vac = _path("vac executable", options.vac)
    config = _path("config", options.config)
    user = _name("user", options.user)
    group = _name("group", options.group) if options.group is not None else None
    supplementary = [_name("supplementary group", name) for name in options.supplementary_groups]
    args = tuple(_plain("argument", arg) for arg in options.extra_args)
    if job == "stream-scada" and not _has_option(args, "--source"):
        # Its default source is the simulator: a unit without one would stream made-up values.
        raise UsageError(
            "stream-scada needs its source after '--'",
            hint="e.g. vac service unit stream-scada -- --source tcp://:7777 --dpes /etc/vac/LHC_KafkaStream.config",
        )
    if options.restart_sec < 1 or options.restart_sec > 3600:
        raise UsageError(f"restart delay {options.restart_sec} s: give 1 to 3600 seconds")
    stop_timeout = spec.stop_timeout_s if options.stop_timeout_s is None else options.stop_timeout_s
    if stop_timeout < 1 or stop_timeout > 3600:
        raise UsageError(f"stop timeout {stop_timeout} s: give 1 to 3600 seconds")

    environment = {
        "NO_COLOR": "1",  # plain lines in the journal
        "PYTHONUNBUFFERED": "1",  # each line reaches the journal when written
        # librdkafka's kinit and GSSAPI use a ticket cache of this service's own, in its
        # runtime dir (owner-only, removed when it stops), not /tmp/krb5cc_UID shared by all jobs.
        "KRB5CCNAME": f"FILE:/run/vac-{job}/krb5cc",
    }
    if options.keytab is not None:
        keytab = str(_path("keytab", options.keytab))
        # vac's own setting: librdkafka runs `kinit -k -t KEYTAB PRINCIPAL` with it and renews.
        environment["VAC_KAFKA__SECURITY__KERBEROS_KEYTAB"] = keytab
        # MIT krb5 also gets initial credentials from it by itself (GSSAPI's client keytab).
        environment["KRB5_CLIENT_KTNAME"] = f"FILE:{keytab}"
    if options.principal is not None:
        principal = _plain("principal", options.principal)
        if not principal or re.search(r"\s", principal):
            raise UsageError(
                f"principal {principal!r}: not a Kerberos principal", hint="e.g. vac/scada1.cern.ch@CERN.CH"
            )
        environment["VAC_KAFKA__SECURITY__KERBEROS_PRINCIPAL"] = principal
    if options.krb5_config is not None:
        environment["KRB5_CONFIG"] = str(_path("krb5 config", options.krb5_config))

    log_dirs = [_path("log dir", path, home_ok=True) for path in options.log_dirs]
    command = [str(vac), "--config", str(config), *spec.command, *args]
    lines = [
        f"# {unit_name(job)}: made by `vac service unit {job}` (vac {__version__}).",
        "# Make it again with other options rather than editing it.",
        "[Unit]",
        f"Description={spec.description}",
        "Wants=network-online.target",
        "After=network-online.target",
        # Restarts are spaced by RestartSec, so a start limit would only leave the job dead
        # after a long Kafka outage (each attempt exits 3 after kafka.timeout_s); none.
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=exec",
        "ExecStart=" + " ".join(_escaped(word, in_command=True) for word in command),
        f"User={user}",
    ]
    if group is not None:
        lines.append(f"Group={group}")
    if supplementary:
        lines.append("SupplementaryGroups=" + " ".join(supplementary))
    lines += [f"Environment={_escaped(f'{key}={value}')}" for key, value in environment.items()]
    lines += [
        # Registry, offsets, locks: $STATE_DIRECTORY, which vac takes as its state dir.
        "StateDirectory=vac",
        "StateDirectoryMode=0700",
        f"RuntimeDirectory=vac-{job}",
        "RuntimeDirectoryMode=0700",
        "UMask=0077",
        "Restart=on-failure",
        f"RestartSec={options.restart_sec}",
        # A usage or config error: restarting cannot fix it.
        f"RestartPreventExitStatus={ExitStatus.USAGE.value}",
        # SIGTERM to vac alone (it flushes, saves its positions and exits; a kinit it runs
        # finishes), then SIGKILL to whatever is left after the timeout.
        "KillMode=mixed",
        "KillSignal=SIGTERM",
        f"TimeoutStopSec={stop_timeout}",
        f"SyslogIdentifier=vac-{job}",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        # Log dirs under a home directory stay readable; nothing there is writable.
        "ProtectHome=" + ("read-only" if any(_under_home(path) for path in log_dirs) else "yes"),
    ]
    if log_dirs:
        lines.append("ReadOnlyPaths=" + " ".join(_path_list_item("log dir", path) for path in log_dirs))
    lines += [
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateMounts=yes",
        "ProtectProc=invisible",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "RemoveIPC=yes",
        "CapabilityBoundingSet=",
        # AF_NETLINK: glibc's getaddrinfo asks the kernel for the host's addresses.
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallErrorNumber=EPERM",
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def hidden_interpreter(vac: Path) -> Path | None:
    """The Python that the `vac` script at `vac` starts, if it lies under a home directory
    (pyenv's, say), which the service cannot see: a virtualenv made from it fails there."""
    try:
        with open(vac, "rb") as script:
            first = script.readline(4096)
    except OSError:  # made for another machine: nothing to tell here
        return None
    if not first.startswith(b"#!"):
        return None
    interpreter = Path(os.fsdecode(first[2:].split()[0])) if first[2:].split() else None
    if interpreter is None:
        return None
    resolved = interpreter.resolve()
    return resolved if _under_home(PurePosixPath(resolved)) else None


@dataclass(frozen=True)
class Installed:
    path: Path
    outcome: str
    """written (new), replaced (--force over a different unit) or unchanged."""


def install_unit(job: str, text: str, directory: Path, force: bool = False) -> Installed:
    """Write `text` as `job`'s unit in `directory`; a different unit already there is kept
    unless `force`."""
    path = directory / unit_name(job)
    try:
        existing = path.read_text() if path.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if existing == text:
        return Installed(path, "unchanged")
    if existing is not None and not force:
        raise UsageError(
            f"{path} exists and differs from this unit",
            hint=f"compare with `vac service unit {job}`; --force replaces it",
        )
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # A unit is public configuration (no secrets go in: the keytab is a path); written
        # whole or not at all, so systemd never reads half a file.
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "w") as file:
            file.write(text)
        temporary.chmod(0o644)
        temporary.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise UsageError(
            f"cannot write {path}: {exc.strerror or exc}",
            hint="run as root, or write it elsewhere with --dir",
        ) from None
    return Installed(path, "written" if existing is None else "replaced")


def next_steps(job: str, options: UnitOptions, user_exists: bool) -> list[str]:
    """What root runs after installing `job`'s unit (shell commands, quoted)."""
    name = unit_name(job)
    user = shlex.quote(options.user)
    steps = []
    if not user_exists:
        steps.append(f"useradd --system --home-dir /var/lib/vac --shell /usr/sbin/nologin {user}")
    # doctor as the service will run: its user, and the Kerberos settings the unit adds
    settings = []
    if options.keytab is not None:
        keytab = shlex.quote(str(options.keytab))
        steps.append(f"chown {user}: {keytab} && chmod 600 {keytab}")
        settings.append(f"VAC_KAFKA__SECURITY__KERBEROS_KEYTAB={keytab}")
    if options.principal is not None:
        settings.append(f"VAC_KAFKA__SECURITY__KERBEROS_PRINCIPAL={shlex.quote(options.principal)}")
    if options.krb5_config is not None:
        settings.append(f"KRB5_CONFIG={shlex.quote(str(options.krb5_config))}")
    vac = " ".join(shlex.quote(str(word)) for word in (options.vac, "--config", options.config, "doctor"))
    steps += [
        " ".join(["sudo -u", user, "env", *settings, vac]),
        "systemctl daemon-reload",
        f"systemctl enable --now {name}",
        f"journalctl -u {name} -f",
    ]
    return steps
