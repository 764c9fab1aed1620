"""Resolving the local stack's artifacts from Maven Central with Maven itself.

Maven does the downloading, checksums and its own cache (~/.m2); vac then lays the files out
under its cache dir: the Kafka broker's runtime classpath as one folder of jars, and the
Elasticsearch integ-test zip unpacked with its file modes. A `.complete` marker makes both
steps idempotent and safe to interrupt.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from vac.errors import ArtifactUnavailable, ToolMissing

LOG4J_VERSION = "2.24.3"
ES_ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MARKER = ".complete"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# The broker and Kafka's own tools (ProducerPerformance for the benchmarks); the slf4j 1.x
# binding routes the broker's logging through log4j2 to a file instead of slf4j's no-op.
_KAFKA_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>vac.local</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def find_maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolMissing(
            "Maven (mvn) is needed to fetch Kafka and Elasticsearch from Maven Central and is not on PATH",
            hint="install it (apt-get install maven)",
        )
    return mvn


def _run_maven(args: list[str], cwd: Path, what: str) -> None:
    command = [find_maven(), "-B", "-q", "-ntp", *args]
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise ArtifactUnavailable(f"Maven did not finish resolving {what} within 30 minutes") from None
    if result.returncode != 0:
        output = strip_ansi(result.stdout + result.stderr).splitlines()
        errors = [line.strip() for line in output if "ERROR" in line] or output[-3:] or ["no output"]
        raise ArtifactUnavailable(
            f"Maven could not resolve {what}: {errors[0][:300]}",
            hint="check the version in the local section and that Maven reaches Maven Central (mvn -X for details)",
        )


def strip_ansi(text: str) -> str:
    """Maven colours its messages even when asked not to (-q with jansi); vac's are plain."""
    return _ANSI.sub("", text)


def kafka_libs(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"kafka-{version}" / "libs"


def resolve_kafka(cache_dir: Path, version: str) -> Path:
    """The folder holding the Kafka broker's runtime jars, resolved once."""
    root = cache_dir / f"kafka-{version}"
    libs = kafka_libs(cache_dir, version)
    if (root / MARKER).exists():
        return libs
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(_KAFKA_POM.format(version=version, log4j=LOG4J_VERSION))
    shutil.rmtree(libs, ignore_errors=True)
    _run_maven(
        ["dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        root,
        f"Apache Kafka {version}",
    )
    (root / MARKER).touch()
    return libs


def elasticsearch_home(cache_dir: Path, version: str) -> Path:
    return cache_dir / f"elasticsearch-{version}"


def resolve_elasticsearch(cache_dir: Path, version: str) -> Path:
    """The unpacked Elasticsearch home, resolved and unpacked once."""
    home = elasticsearch_home(cache_dir, version)
    if (home / MARKER).exists():
        return home
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        _run_maven(
            ["dependency:copy", f"-Dartifact={ES_ARTIFACT.format(version=version)}", f"-DoutputDirectory={tmp}"],
            Path(tmp),
            f"Elasticsearch {version}",
        )
        archive = Path(tmp) / f"elasticsearch-{version}.zip"
        unpack_zip(archive, Path(tmp) / "unpacked")
        shutil.rmtree(home, ignore_errors=True)
        (Path(tmp) / "unpacked" / f"elasticsearch-{version}").rename(home)
    (home / MARKER).touch()
    return home


def unpack_zip(archive: Path, target: Path) -> None:
    """Unzip keeping the Unix file modes (zipfile drops them; bin/ must stay executable)."""
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.infolist():
            path = Path(zipped.extract(member, target))
            mode = (member.external_attr >> 16) & 0o7777
            if mode:
                os.chmod(path, mode)
