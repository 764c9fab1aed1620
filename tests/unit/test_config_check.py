"""`check_file`: every problem of a config file, with its line, key and a suggestion."""

from __future__ import annotations

from pathlib import Path

from vac.settings import check_file


def problems(tmp_path: Path, text: str | bytes, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "vac.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return [str(problem).replace(f"{path}", "F") for problem in check_file(path, env or {})]


def test_a_valid_file_has_no_problems(tmp_path: Path) -> None:
    assert problems(tmp_path, "kafka:\n  bootstrap_servers: a:1,b:2\n") == []
    assert problems(tmp_path, "") == []


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "kafka:\n  client_id: vac\n  security: {protocol: SSL\nelasticsearch: {}\n")
    assert len(found) == 1
    assert found[0].startswith("F:4: YAML syntax error")


def test_unknown_keys_are_named_with_the_closest_valid_key(tmp_path: Path) -> None:
    text = (
        "kafka:\n"
        "  bootstrap_server: x:1\n"
        "  security:\n"
        "    protocoll: SSL\n"
        "elasticsaerch:\n"
        "  hosts: []\n"
        "completely_unrelated: 1\n"
    )
    assert sorted(problems(tmp_path, text)) == sorted(
        [
            "F:2: kafka.bootstrap_server: unknown key (did you mean 'bootstrap_servers'?)",
            "F:4: kafka.security.protocoll: unknown key (did you mean 'protocol'?)",
            "F:5: elasticsaerch: unknown key (did you mean 'elasticsearch'?)",
            "F:7: completely_unrelated: unknown key",
        ]
    )


def test_wrong_types_name_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "local:\n  kafka_brokers: 9\n  kafka_port: many\n")
    assert found[0].startswith("F:2: local.kafka_brokers: Input should be less than or equal to 5")
    assert found[1].startswith("F:3: local.kafka_port: Input should be a valid integer")


def test_list_items_name_their_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "elasticsearch:\n  hosts:\n    - http://a:9200\n    - [nested]\n")
    assert len(found) == 1
    assert found[0].startswith("F:4: elasticsearch.hosts.1: Input should be a valid string")


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    assert problems(tmp_path, "kafka:\n  client_id: a\n  client_id: b\n") == ["F:3: kafka.client_id: duplicate key"]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- kafka\n- elasticsearch\n")[0].startswith("F:1: the top level must be a mapping")


def test_non_utf8_file_is_reported_not_crashed_on(tmp_path: Path) -> None:
    assert problems(tmp_path, b"kafka:\n  client_id: \xff\xfe\n") == ["F: not UTF-8 text (byte 20)"]


def test_cross_field_rules_point_at_their_section(tmp_path: Path) -> None:
    found = problems(tmp_path, "kafka:\n  security:\n    protocol: SASL_SSL\n")
    assert found == ["F:2: kafka.security: protocol SASL_SSL needs sasl_mechanism"]


def test_secrets_from_the_environment_complete_the_file(tmp_path: Path) -> None:
    text = "elasticsearch:\n  username: writer\n"
    assert problems(tmp_path, text)[0].startswith("F:1: elasticsearch: username is set but password is not")
    assert problems(tmp_path, text, env={"VAC_ELASTICSEARCH__PASSWORD": "pw"}) == []


def test_problems_from_the_environment_name_the_variable(tmp_path: Path) -> None:
    found = problems(tmp_path, "{}\n", env={"VAC_KAFKA__TIMEOUT_S": "-1"})
    assert found == ["kafka.timeout_s (from $VAC_KAFKA__TIMEOUT_S): Input should be greater than 0"]
