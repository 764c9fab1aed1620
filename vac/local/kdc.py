"""A real MIT Kerberos KDC of its own realm, on loopback: what a secured local stack
authenticates against (production Kafka accepts only GSSAPI).

It runs Debian's `krb5kdc` with its database, configs and keytabs in one directory closed to
other users, so it never touches the host's /etc/krb5.conf. Clients find it through
`KRB5_CONFIG` (see `client_env`); Java through `-Djava.security.krb5.conf`.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vac.errors import LocalStackError
from vac.local import process

DEFAULT_REALM = "VAC.LOCAL"
# Debian puts the KDC's tools in /usr/sbin, which a user's PATH may lack.
_SBIN = ("/usr/sbin", "/usr/local/sbin")


def find_tool(name: str) -> str | None:
    for directory in _SBIN:
        if Path(directory, name).is_file():
            return str(Path(directory, name))
    return shutil.which(name)


def _tool(name: str) -> str:
    found = find_tool(name)
    if found is None:
        raise LocalStackError(
            f"{name} is not installed: the secured local stack needs an MIT Kerberos KDC",
            hint="apt-get install krb5-kdc krb5-admin-server krb5-user (scripts/bootstrap.sh does it as root)",
        )
    return found


@dataclass(frozen=True)
class Kdc:
    directory: Path
    port: int
    realm: str = DEFAULT_REALM

    @property
    def krb5_conf(self) -> Path:
        return self.directory / "krb5.conf"

    @property
    def kdc_conf(self) -> Path:
        return self.directory / "kdc.conf"

    @property
    def log_file(self) -> Path:
        return self.directory / "kdc.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "krb5kdc.pid"

    @property
    def marker(self) -> str:
        """What identifies this KDC in a process list: its pid file, the one path of this
        directory on its command line (the configs come through the environment)."""
        return str(self.pid_file)

    @property
    def created(self) -> bool:
        return (self.directory / "stash").exists() and self.krb5_conf.exists()

    def keytab(self, principal: str) -> Path:
        return self.directory / "keytabs" / (principal.replace("/", "_") + ".keytab")

    def client_env(self, cache: Path) -> dict[str, str]:
        """What a Kerberos client (kinit, librdkafka's SASL) needs to use this realm, with its
        ticket cache at `cache` (not the user's)."""
        return {"KRB5_CONFIG": str(self.krb5_conf), "KRB5CCNAME": f"FILE:{cache}"}

    def _env(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin", "KRB5_CONFIG": str(self.krb5_conf), "KRB5_KDC_PROFILE": str(self.kdc_conf)}

    def _run(self, *args: str) -> str:
        result = subprocess.run(list(args), capture_output=True, text=True, env=self._env(), timeout=60)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise LocalStackError(
                f"{Path(args[0]).name} failed: {last[0]}", hint=f"the KDC's files are in {self.directory}"
            )
        return result.stdout

    def create(self) -> None:
        """Write the configs and a new realm database (a fresh master key each time)."""
        process.private_dir(self.directory)
        process.private_dir(self.directory / "keytabs")
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            f" default_realm = {self.realm}\n"
            " dns_lookup_kdc = false\n dns_lookup_realm = false\n"
            # Hosts are named as given: `localhost`, never what a reverse lookup returns.
            " rdns = false\n dns_canonicalize_hostname = false\n"
            " udp_preference_limit = 1\n ticket_lifetime = 10h\n forwardable = true\n"
            f"[realms]\n {self.realm} = {{\n  kdc = 127.0.0.1:{self.port}\n }}\n"
            f"[domain_realm]\n localhost = {self.realm}\n 127.0.0.1 = {self.realm}\n"
        )
        self.kdc_conf.write_text(
            f"[kdcdefaults]\n kdc_listen = 127.0.0.1:{self.port}\n kdc_tcp_listen = 127.0.0.1:{self.port}\n"
            f"[realms]\n {self.realm} = {{\n"
            f"  database_name = {self.directory / 'principal'}\n"
            f"  key_stash_file = {self.directory / 'stash'}\n"
            f"  acl_file = {self.directory / 'kadm5.acl'}\n"
            f"  kdc_listen = 127.0.0.1:{self.port}\n  kdc_tcp_listen = 127.0.0.1:{self.port}\n"
            "  max_life = 10h\n  max_renewable_life = 7d\n }\n"
            f"[logging]\n kdc = FILE:{self.log_file}\n"
        )
        (self.directory / "kadm5.acl").write_text("")
        for stale in self.directory.glob("principal*"):
            stale.unlink()
        master = secrets.token_urlsafe(24)  # stashed; nobody types it
        self._run(_tool("kdb5_util"), "create", "-s", "-r", self.realm, "-P", master)

    def add_principal(self, name: str) -> Path:
        """Add `name` (e.g. `kafka/localhost` or `vac`) with a random key; return its keytab,
        readable by its owner only."""
        kadmin = _tool("kadmin.local")
        keytab = self.keytab(name)
        keytab.unlink(missing_ok=True)
        self._run(kadmin, "-r", self.realm, "-q", f"addprinc -randkey {name}@{self.realm}")
        self._run(kadmin, "-r", self.realm, "-q", f"ktadd -k {keytab} -norandkey {name}@{self.realm}")
        keytab.chmod(0o600)
        return keytab

    def start(self) -> int:
        process.ensure_ports_free({self.port: "Kerberos KDC"})
        return process.spawn(
            [_tool("krb5kdc"), "-n", "-r", self.realm, "-P", str(self.pid_file)],
            self.log_file,
            env=self._env(),
            cwd=self.directory,
        )
