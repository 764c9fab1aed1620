"""`vac service`: systemd units for the long-running jobs on a SCADA server."""

from __future__ import annotations

import logging
import pwd
import shutil
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from commands.output import TextOrJson, emit_json, info
from vac.errors import UsageError
from vac.service import (
    DEFAULT_CONFIG,
    DEFAULT_USER,
    UNIT_DIR,
    UnitOptions,
    hidden_interpreter,
    install_unit,
    next_steps,
    render_unit,
)

app = typer.Typer(
    help="systemd units for the long-running jobs (ship-logs, index, stream-scada).\n\n"
    "Example: vac service install ship-logs --keytab /etc/vac/vac.keytab --log-dir /opt/vacin/PVSS_projects",
    no_args_is_help=True,
)


class JobName(StrEnum):
    ship_logs = "ship-logs"
    index_ = "index"  # not `index`: a member may not shadow str.index
    stream_scada = "stream-scada"


JobArg = Annotated[
    JobName, typer.Argument(help="The job: ship-logs, index or stream-scada.", metavar="JOB", show_default=False)
]
ArgsArg = Annotated[
    list[str] | None,
    typer.Argument(help="After '--': arguments of the job's command, e.g. -- --source tcp://:7777 --dpes FILE."),
]
VacOpt = Annotated[Path | None, typer.Option("--vac", help="The vac executable the service runs (default: this one).")]
ConfigOpt = Annotated[Path, typer.Option("--config", help="The config file the service reads.")]
UserOpt = Annotated[str, typer.Option("--user", help="The user the service runs as.")]
GroupOpt = Annotated[str | None, typer.Option("--group", help="Its primary group (default: the user's).")]
ExtraGroupOpt = Annotated[
    list[str] | None,
    typer.Option("--supplementary-group", help="A group whose files it reads, e.g. the WinCC OA logs' (repeatable)."),
]
KeytabOpt = Annotated[
    Path | None, typer.Option("--keytab", help="Kerberos keytab (kafka.security.kerberos_keytab for the service).")
]
PrincipalOpt = Annotated[
    str | None, typer.Option("--principal", help="Kerberos principal (kafka.security.kerberos_principal).")
]
Krb5Opt = Annotated[Path | None, typer.Option("--krb5-config", help="krb5.conf of the realm (KRB5_CONFIG).")]
LogDirOpt = Annotated[
    list[Path] | None, typer.Option("--log-dir", help="A directory it reads logs from, kept visible (repeatable).")
]
RestartOpt = Annotated[int, typer.Option("--restart-sec", help="Seconds between a failure and the restart.")]
StopOpt = Annotated[
    int | None, typer.Option("--stop-timeout", help="Seconds it may drain after SIGTERM (default: the job's).")
]
OutputOpt = Annotated[TextOrJson, typer.Option("--output", "-o", help="text or json.")]


def _this_vac() -> Path:
    beside = Path(sys.executable).parent / "vac"  # the console script of this virtualenv
    if beside.is_file():
        return beside
    found = shutil.which("vac")
    if found is None:
        raise UsageError("cannot tell where the vac executable is", hint="name it with --vac /opt/vac/bin/vac")
    return Path(found).absolute()


def _options(
    vac: Path | None,
    config: Path,
    user: str,
    group: str | None,
    supplementary_group: list[str] | None,
    keytab: Path | None,
    principal: str | None,
    krb5_config: Path | None,
    log_dir: list[Path] | None,
    restart_sec: int,
    stop_timeout: int | None,
    args: list[str] | None,
) -> UnitOptions:
    executable = vac or _this_vac()
    hidden = hidden_interpreter(executable)
    if hidden is not None:
        logging.getLogger("vac.service").warning(
            "%s runs %s, under a home directory, which the service cannot see (ProtectHome=yes): "
            "install vac into a virtualenv made from a system Python, e.g. /usr/bin/python3 -m venv /opt/vac",
            executable,
            hidden,
        )
    return UnitOptions(
        vac=executable,
        config=config,
        user=user,
        group=group,
        supplementary_groups=tuple(supplementary_group or ()),
        keytab=keytab,
        principal=principal,
        krb5_config=krb5_config,
        log_dirs=tuple(log_dir or ()),
        extra_args=tuple(args or ()),
        restart_sec=restart_sec,
        stop_timeout_s=stop_timeout,
    )


@app.command()
def unit(
    job: JobArg,
    args: ArgsArg = None,
    vac: VacOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    user: UserOpt = DEFAULT_USER,
    group: GroupOpt = None,
    supplementary_group: ExtraGroupOpt = None,
    keytab: KeytabOpt = None,
    principal: PrincipalOpt = None,
    krb5_config: Krb5Opt = None,
    log_dir: LogDirOpt = None,
    restart_sec: RestartOpt = 10,
    stop_timeout: StopOpt = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Print the systemd unit of a job: restarts, a dedicated user, the keytab, hardening, journald.

    Example: vac service unit stream-scada -- --source tcp://:7777 --dpes /etc/vac/LHC_KafkaStream.config
    """
    options = _options(
        vac, config, user, group, supplementary_group, keytab, principal, krb5_config, log_dir, restart_sec,
        stop_timeout, args,
    )  # fmt: skip
    text = render_unit(job.value, options)
    if output is TextOrJson.json:
        emit_json({"job": job.value, "unit_name": f"vac-{job.value}.service", "unit": text})
    else:
        sys.stdout.write(text)


@app.command()
def install(
    job: JobArg,
    args: ArgsArg = None,
    directory: Annotated[Path, typer.Option("--dir", help="Where the unit goes.")] = UNIT_DIR,
    force: Annotated[bool, typer.Option("--force", help="Replace a different unit of the same name.")] = False,
    vac: VacOpt = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    user: UserOpt = DEFAULT_USER,
    group: GroupOpt = None,
    supplementary_group: ExtraGroupOpt = None,
    keytab: KeytabOpt = None,
    principal: PrincipalOpt = None,
    krb5_config: Krb5Opt = None,
    log_dir: LogDirOpt = None,
    restart_sec: RestartOpt = 10,
    stop_timeout: StopOpt = None,
    output: OutputOpt = TextOrJson.text,
) -> None:
    """Write the job's unit to /etc/systemd/system/vac-JOB.service and say what to run next.

    A different unit of that name is kept unless --force; the same one is left as it is.

    Example: vac service install ship-logs --keytab /etc/vac/vac.keytab --supplementary-group winccoa
    """
    options = _options(
        vac, config, user, group, supplementary_group, keytab, principal, krb5_config, log_dir, restart_sec,
        stop_timeout, args,
    )  # fmt: skip
    installed = install_unit(job.value, render_unit(job.value, options), directory, force)
    try:
        pwd.getpwnam(options.user)
        user_exists = True
    except KeyError:
        user_exists = False
    steps = next_steps(job.value, options, user_exists)
    if output is TextOrJson.json:
        emit_json({"job": job.value, "path": str(installed.path), "outcome": installed.outcome, "next_steps": steps})
        return
    info(f"{installed.outcome} {installed.path}")
    info("next, as root:")
    for step in steps:
        info(f"  {step}")
