"""The `VAC_*` environment, read by vac.settings itself (pydantic-settings' rules, without
loading pydantic-settings): nesting, JSON where a field is a list, a mapping or a section."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vac.errors import ConfigError
from vac.settings import env_values, load_settings


def test_nesting_case_and_what_is_no_setting() -> None:
    env = {
        "vac_kafka__client_id": "lower",
        "VAC_KAFKA__SECURITY__PROTOCOL": "SSL",
        "VAC_CONFIG": "/etc/vac/vac.yaml",  # where the file is, not a setting
        "VAC_DEBUG": "1",
        "VAC_TEST_KEEP_STACK": "1",
        "OTHER": "x",
    }
    assert env_values(env) == {"kafka": {"client_id": "lower", "security": {"protocol": "SSL"}}}


def test_a_whole_section_is_json_and_its_nested_variables_win() -> None:
    env = {"VAC_KAFKA": '{"client_id": "whole", "timeout_s": 4}', "VAC_KAFKA__CLIENT_ID": "nested"}
    settings = load_settings(None, env=env).settings
    assert settings.kafka.client_id == "nested"
    assert settings.kafka.timeout_s == 4


def test_mapping_keys_below_a_field_nest_and_lists_parse() -> None:
    env = {"VAC_KAFKA__PROPERTIES__LINGER.MS": "7", "VAC_QUERY__FIELDS": '["@timestamp", "text"]'}
    settings = load_settings(None, env=env).settings
    assert settings.kafka.properties == {"linger.ms": "7"}
    assert settings.query.fields == ["@timestamp", "text"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VAC_DASH__ALARMS", "[{"),
        ("VAC_LOGS__INPUTS", "\x1b[31m"),
        ("VAC_KAFKA__SECURITY", "\udcff"),
        ("VAC_QUERY__FIELDS", "9" * 5000),  # JSON, but a number where a list goes
    ],
)
def test_bad_json_or_a_wrong_type_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, env={name: value})
    assert f"${name}" in caught.value.message or name.split("__", 1)[1].lower() in caught.value.message


def test_an_unknown_key_inside_a_section_is_rejected() -> None:
    with pytest.raises(ConfigError, match="VAC_KAFKA__BOOTSTRAP_SERVER"):
        load_settings(None, env={"VAC_KAFKA__BOOTSTRAP_SERVER": "x:1"})


def test_loading_settings_does_not_load_asyncio_argparse_or_dotenv() -> None:
    code = (
        "import sys\nfrom vac.settings import load_settings\nload_settings(None, env={'VAC_KAFKA__CLIENT_ID': 'x'})\n"
        "print(sorted({'asyncio', 'argparse', 'dotenv', 'pydantic_settings'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
