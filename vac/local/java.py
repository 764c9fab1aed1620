"""Finding a Java runtime that is new enough for Kafka 4 and Elasticsearch 8 (17+)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from vac.errors import ToolMissing

JVM_DIRS = (Path("/usr/lib/jvm"),)
_VERSION = re.compile(r'version "(?P<version>[^"]+)"')


@dataclass(frozen=True)
class Java:
    home: Path
    version: str
    major: int

    @property
    def executable(self) -> Path:
        return self.home / "bin" / "java"


def inspect_java(home: Path) -> Java | None:
    """The Java installed at `home`, or None if there is none that runs."""
    executable = home / "bin" / "java"
    if not os.access(executable, os.X_OK):
        return None
    try:
        result = subprocess.run([str(executable), "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(result.stderr)
    if result.returncode != 0 or match is None:
        return None
    version = match["version"]
    parts = version.split(".")
    major = int(parts[1]) if parts[0] == "1" else int(re.match(r"\d+", parts[0])[0])  # type: ignore[index]
    return Java(home=home, version=version, major=major)


def candidate_homes(preferred: Path | None) -> list[Path]:
    homes: list[Path] = []
    if preferred is not None:
        homes.append(preferred)
    if os.environ.get("JAVA_HOME"):
        homes.append(Path(os.environ["JAVA_HOME"]))
    on_path = shutil.which("java")
    if on_path:
        homes.append(Path(on_path).resolve().parent.parent)
    for jvm_dir in JVM_DIRS:
        if jvm_dir.is_dir():
            homes.extend(sorted(p for p in jvm_dir.iterdir() if p.is_dir() and not p.is_symlink()))
    return list(dict.fromkeys(homes))


def find_java(min_major: int, preferred: Path | None = None) -> Java:
    """The first Java of at least `min_major`, trying `preferred` (local.java_home) first."""
    if preferred is not None:
        java = inspect_java(preferred)
        if java is None or java.major < min_major:
            found = f"Java {java.version}" if java else "no working Java"
            raise ToolMissing(
                f"local.java_home {preferred} holds {found}; Java {min_major} or newer is needed",
                hint="point local.java_home at a JDK 17+ or remove it to let vac look for one",
            )
        return java
    seen = []
    for home in candidate_homes(None):
        java = inspect_java(home)
        if java is None:
            continue
        if java.major >= min_major:
            return java
        seen.append(f"{java.version} at {home}")
    found = f"only {', '.join(seen)}" if seen else "no Java at all"
    raise ToolMissing(
        f"Java {min_major} or newer is needed to run Kafka and Elasticsearch; found {found}",
        hint="install one (apt-get install openjdk-17-jre-headless) or set local.java_home",
    )
