"""Pure parts of the local stack: node layout and configs, unzip, Java detection, exit codes."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from vac.errors import ToolMissing
from vac.local import elasticsearch_node, kafka_node
from vac.local.java import find_java, inspect_java
from vac.local.maven import unpack_zip


def properties(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def test_three_nodes_get_their_own_ports_and_one_quorum(tmp_path: Path) -> None:
    nodes = kafka_node.plan_nodes(tmp_path, 3, 9092)
    layout = [(n.node_id, n.port, n.controller_port) for n in nodes]
    assert layout == [(1, 9092, 9093), (2, 9094, 9095), (3, 9096, 9097)]
    assert kafka_node.bootstrap_servers(nodes) == "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    for node in nodes:
        kafka_node.write_config(node, nodes)
    second = properties(nodes[1].config_file)
    assert second["node.id"] == "2"
    assert second["process.roles"] == "broker,controller"
    assert second["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    assert second["listeners"] == "PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095"
    assert second["offsets.topic.replication.factor"] == "3"
    assert second["transaction.state.log.min.isr"] == "2"
    assert second["log.dirs"] == str(tmp_path / "kafka" / "node-2" / "data")


def test_a_single_node_needs_no_replication(tmp_path: Path) -> None:
    nodes = kafka_node.plan_nodes(tmp_path, 1, 29092)
    kafka_node.write_config(nodes[0], nodes)
    config = properties(nodes[0].config_file)
    assert config["offsets.topic.replication.factor"] == "1"
    assert config["transaction.state.log.min.isr"] == "1"


def test_cluster_ids_are_kraft_shaped() -> None:
    ids = {kafka_node.new_cluster_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) == 22 and "=" not in i for i in ids)


def test_elasticsearch_config_is_a_loopback_single_node(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "jvm.options").write_text("-XX:+UseG1GC\n")
    (home / "config" / "log4j2.properties").write_text("status = error\n")
    node = elasticsearch_node.plan_node(tmp_path / "state", 29200)
    elasticsearch_node.write_config(node, home, 384)
    yml = (node.config_dir / "elasticsearch.yml").read_text()
    assert "discovery.type: single-node\n" in yml
    assert "network.host: 127.0.0.1\n" in yml
    assert "http.port: 29200\n" in yml and "transport.port: 29300\n" in yml
    assert "xpack.security.enabled: false\n" in yml
    assert (node.config_dir / "jvm.options.d" / "heap.options").read_text() == "-Xms384m\n-Xmx384m\n"
    assert (node.config_dir / "jvm.options").read_text() == "-XX:+UseG1GC\n"


def test_unzip_keeps_executable_bits(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        script = zipfile.ZipInfo("dist/bin/run")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        zipped.writestr(script, "#!/bin/sh\necho ok\n")
        data = zipfile.ZipInfo("dist/lib/data.txt")
        data.external_attr = (stat.S_IFREG | 0o644) << 16
        zipped.writestr(data, "x")
    unpack_zip(archive, tmp_path / "out")
    assert os.access(tmp_path / "out" / "dist" / "bin" / "run", os.X_OK)
    assert not os.access(tmp_path / "out" / "dist" / "lib" / "data.txt", os.X_OK)


def fake_java(tmp_path: Path, version: str) -> Path:
    home = tmp_path / f"jdk-{version}"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2020-01-01' >&2\n")
    java.chmod(0o755)
    return home


@pytest.mark.parametrize(("version", "major"), [("1.8.0_292", 8), ("11.0.2", 11), ("17.0.15", 17), ("25", 25)])
def test_java_versions_are_parsed(tmp_path: Path, version: str, major: int) -> None:
    java = inspect_java(fake_java(tmp_path, version))
    assert java is not None and java.major == major


def test_a_configured_java_that_is_too_old_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing, match=r"holds Java 11\.0\.2; Java 17 or newer is needed"):
        find_java(17, fake_java(tmp_path, "11.0.2"))
    with pytest.raises(ToolMissing, match="no working Java"):
        find_java(17, tmp_path / "nothing-here")


def test_the_machine_has_a_java_for_the_stack() -> None:
    assert find_java(17).major >= 17


def test_cluster_ids_never_start_with_a_dash() -> None:
    from vac.local.kafka_node import new_cluster_id

    ids = [new_cluster_id() for _ in range(2000)]
    assert not any(cluster_id.startswith("-") for cluster_id in ids)
    assert all(len(cluster_id) == 22 for cluster_id in ids)
