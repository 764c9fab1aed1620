"""Starting, finding and stopping the local stack's server processes.

Each server runs in a session of its own (so one signal reaches the launcher and the JVM it
forks) and is recognised by a marker in its command line, a path inside the stack's state
dir, so a recycled pid is never mistaken for a server and stray servers can still be found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from vac.errors import PortInUse

# The servers' data, logs and configs are the operator's alone: files they create are owner-only.
SERVER_UMASK = 0o077


def private_dir(path: Path, traversable: bool = False) -> None:
    """Create `path` (and its parents) and close it to other users. `traversable` leaves it
    passable, not listable, for a server that runs as another user below it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o711 if traversable else 0o700)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str | None:
    """'pid 123 (java)' for the process listening on `port`, when this user may see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            try:
                return f"pid {conn.pid} ({psutil.Process(conn.pid).name()})"
            except psutil.Error:
                return f"pid {conn.pid}"
    return None


def ensure_ports_free(ports: Mapping[int, str]) -> None:
    """Raise PortInUse naming the first taken port, what vac wanted it for, and who has it."""
    for port, purpose in ports.items():
        if not port_free(port):
            owner = port_owner(port)
            held = f" by {owner}" if owner else ""
            raise PortInUse(
                f"port {port} ({purpose}) is in use{held}",
                hint="stop that process, or move the stack: local.kafka_port / local.elasticsearch_port "
                "(vac local up --kafka-port N --elasticsearch-port M)",
            )


def spawn(
    args: Sequence[str],
    log_file: Path,
    env: Mapping[str, str],
    cwd: Path,
    user: str | None = None,
) -> int:
    """Start a detached server writing stdout and stderr to `log_file`; return its pid."""
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            user=user,
            umask=SERVER_UMASK,
        )
    return process.pid


def is_running(pid: int | None, marker: str) -> bool:
    """True if `pid` lives, is no zombie, and carries `marker` in its command line or
    in one of its children's (a launcher script may fork the JVM that has it)."""
    if not pid:
        return False
    try:
        leader = psutil.Process(pid)
        if leader.status() == psutil.STATUS_ZOMBIE:
            return False
        family = [leader, *leader.children(recursive=True)]
    except psutil.Error:
        return False
    cmdlines = []
    for member in family:
        try:
            cmdlines.append(" ".join(member.cmdline()))
        except psutil.Error:  # a child that just ended says nothing about the leader
            continue
    # Right after it starts, the java launcher may exec itself again: for that moment the
    # kernel shows no command line. A live process without one is taken as ours.
    return any(marker in cmdline for cmdline in cmdlines) or not cmdlines or not cmdlines[0]


def write_private(path: Path, data: bytes) -> None:
    """Write `path` for its owner's eyes only (a key, a password, the stack's state); a file
    that was there before is closed to others too (O_CREAT keeps an existing file's mode)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(data)
    path.chmod(0o600)


def server_pid(pid: int, main_class: str) -> int:
    """The pid of the process in `pid`'s family that runs `main_class`: a launcher (such as
    Elasticsearch's CLI) forks the JVM that serves, and that is the pid an operator wants."""
    try:
        for child in psutil.Process(pid).children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if any(main_class in arg for arg in child.cmdline()):
                    return int(child.pid)
    except psutil.Error:
        pass
    return pid


def find_by_marker(marker: str) -> list[psutil.Process]:
    """Every live process whose command line mentions `marker`."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if marker in " ".join(cmdline) and process.pid != os.getpid():
            found.append(process)
    return found


def stop_groups(pids: list[int], timeout_s: float) -> None:
    """SIGTERM the process groups the `pids` lead, all at once (a clean shutdown), SIGKILL
    what is left after `timeout_s`, and wait until all of it is gone."""
    members = []
    for pid in pids:
        try:
            leader = psutil.Process(pid)
            members += [leader, *leader.children(recursive=True)]
        except psutil.Error:
            continue
    terminate(members, timeout_s)
    for pid in pids:
        _signal_group(pid, signal.SIGKILL)


def terminate(processes: list[psutil.Process], timeout_s: float) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout_s)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=10)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
