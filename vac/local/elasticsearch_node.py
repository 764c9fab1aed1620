"""One single-node Elasticsearch from the integ-test distribution.

Discovery single-node on loopback; security off (a development node, which `vac local status`
says) unless secured: then https with the vac local CA's certificate and a file-realm user.
Its directory is open to its owner only. Its config,
data, logs and temp files live in the state dir, so the unpacked distribution in the cache
stays read-only and can be shared. As root it runs as an unprivileged user, which
Elasticsearch demands.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vac import paths
from vac.errors import LocalStackError
from vac.local import process
from vac.local.java import Java

MIN_JAVA = 17
# The JVM that serves; `bin/elasticsearch` starts a launcher JVM that forks it.
SERVER_MAIN_CLASS = "org.elasticsearch.bootstrap.Elasticsearch"


@dataclass(frozen=True)
class ElasticsearchNode:
    port: int
    directory: Path
    secure: bool = False

    @property
    def transport_port(self) -> int:
        return self.port + 100

    @property
    def config_dir(self) -> Path:
        return self.directory / "config"

    @property
    def log_file(self) -> Path:
        """The console output; Elasticsearch's own logs are in logs/ beside it."""
        return self.directory / "elasticsearch.out"

    @property
    def marker(self) -> str:
        return str(self.config_dir)

    @property
    def url(self) -> str:
        # `localhost` when secured: the name its certificate is for, as a client would use.
        return f"https://localhost:{self.port}" if self.secure else f"http://127.0.0.1:{self.port}"


def plan_node(state_dir: Path, port: int, secure: bool = False) -> ElasticsearchNode:
    return ElasticsearchNode(port=port, directory=state_dir / "elasticsearch", secure=secure)


@dataclass(frozen=True)
class HttpTls:
    certificate: Path
    """PEM chain of the node's certificate."""
    key: Path
    """Its unencrypted PEM key."""
    ca: Path


def _security_settings(node: ElasticsearchNode, tls: HttpTls | None) -> dict[str, object]:
    if tls is None:
        return {"xpack.security.enabled": "false"}
    # Copied into the config dir: Elasticsearch reads TLS files from there only, and as
    # another user (when vac runs as root) it could not read the state dir's tls/.
    for source, name in ((tls.certificate, "http.pem"), (tls.key, "http.key"), (tls.ca, "ca.pem")):
        shutil.copyfile(source, node.config_dir / name)
        (node.config_dir / name).chmod(0o600)
    return {
        "xpack.security.enabled": "true",
        "xpack.security.http.ssl.enabled": "true",
        "xpack.security.http.ssl.certificate": "http.pem",
        "xpack.security.http.ssl.key": "http.key",
        "xpack.security.http.ssl.certificate_authorities": "ca.pem",
        # One node on loopback: no other node to talk TLS with.
        "xpack.security.transport.ssl.enabled": "false",
        "xpack.security.authc.api_key.enabled": "true",
    }


def write_config(node: ElasticsearchNode, home: Path, heap_mb: int, tls: HttpTls | None = None) -> None:
    process.private_dir(node.directory)
    for sub in ("config/jvm.options.d", "data", "logs", "tmp"):
        (node.directory / sub).mkdir(parents=True, exist_ok=True)
    for name in ("jvm.options", "log4j2.properties"):
        shutil.copyfile(home / "config" / name, node.config_dir / name)
    settings = {
        "cluster.name": "vac-local",
        "node.name": "vac-local",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.port": node.port,
        "transport.port": node.transport_port,
        "path.data": node.directory / "data",
        "path.logs": node.directory / "logs",
        **_security_settings(node, tls),
        # A nearly full disk must not turn the development node's indices read-only.
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",
    }
    (node.config_dir / "elasticsearch.yml").write_text("".join(f"{key}: {value}\n" for key, value in settings.items()))
    (node.config_dir / "jvm.options.d" / "heap.options").write_text(f"-Xms{heap_mb}m\n-Xmx{heap_mb}m\n")


def add_user(java: Java, home: Path, node: ElasticsearchNode, user: str, password: str) -> None:
    """Make `user` a superuser of the node's file realm with `password`, replacing the realm's
    users (vac owns them: `user` is the only one)."""
    for name in ("users", "users_roles"):  # emptied, not deleted: the tool wants them there
        (node.config_dir / name).write_text("")
    env = {"PATH": "/usr/bin:/bin", "ES_JAVA_HOME": str(java.home), "ES_PATH_CONF": str(node.config_dir)}
    result = subprocess.run(
        [str(home / "bin" / "elasticsearch-users"), "useradd", user, "-r", "superuser"],
        # Typed in, twice, as it asks: on the command line (-p) every user of the host sees it.
        input=f"{password}\n{password}\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
        raise LocalStackError(f"adding the Elasticsearch user {user!r} failed: {last[0]}")
    for name in ("users", "users_roles"):
        (node.config_dir / name).chmod(0o600)


def run_as_user(name: str) -> str | None:
    """The user to run Elasticsearch as: `name` when vac runs as root (created if need be),
    else None (the current user)."""
    if not paths.running_as_root():
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        result = subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise LocalStackError(
                f"could not create user {name!r} to run Elasticsearch: {result.stderr.strip()}",
                hint="create an unprivileged user yourself and name it in local.elasticsearch_user",
            ) from None
    return name


def hand_over(node: ElasticsearchNode, home: Path, user: str) -> None:
    """Give `user` the node's files and check it can reach them and the distribution."""
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(node.directory):
        for name in [*dirs, *files]:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(node.directory, entry.pw_uid, entry.pw_gid)
    for path in (node.directory, home):
        for parent in path.parents:
            if parent.stat().st_mode & 0o001 == 0:
                raise LocalStackError(
                    f"user {user!r} cannot reach {path}: {parent} is closed to other users",
                    hint="put local.state_dir and local.cache_dir outside root's home (the defaults are under /var)",
                )


def start(java: Java, home: Path, node: ElasticsearchNode, user: str | None) -> int:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(node.directory),
        "ES_JAVA_HOME": str(java.home),
        "ES_PATH_CONF": str(node.config_dir),
        "ES_TMPDIR": str(node.directory / "tmp"),
    }
    return process.spawn(
        [str(home / "bin" / "elasticsearch")], node.log_file, env=env, cwd=node.directory / "logs", user=user
    )
