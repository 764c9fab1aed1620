"""What a Kerberos client holds: the principals of a keytab and whether the ticket cache has a
valid ticket. librdkafka runs `kinit` itself; these let `vac doctor` say what it will find,
through MIT krb5's own `klist` (which honours KRB5_CONFIG and KRB5CCNAME as librdkafka does)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class KlistMissing(Exception):
    """MIT krb5's klist is not installed (Debian: krb5-user)."""


def _klist(*args: str) -> subprocess.CompletedProcess[str]:
    klist = shutil.which("klist")
    if klist is None:
        raise KlistMissing
    return subprocess.run([klist, *args], capture_output=True, text=True, timeout=10)


def keytab_principals(keytab: Path) -> list[str]:
    """The distinct principals with keys in `keytab` (OSError if it cannot be read)."""
    with open(keytab, "rb"):  # unreadable or missing: say so before klist's own wording
        pass
    listed = _klist("-k", "-t", str(keytab))
    if listed.returncode != 0:
        raise OSError(listed.stderr.strip() or "klist cannot read it")
    principals: list[str] = []
    for line in listed.stdout.splitlines():
        fields = line.split()
        # "KVNO Timestamp Principal": data lines start with the key version number.
        if len(fields) >= 2 and fields[0].isdigit() and fields[-1] not in principals:
            principals.append(fields[-1])
    return principals


def has_valid_ticket() -> bool:
    """True if the ticket cache (KRB5CCNAME or the default) holds a ticket not expired."""
    return _klist("-s").returncode == 0
