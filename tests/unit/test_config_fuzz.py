"""Bounded fuzzing of configuration loading (issue #15, findings 8 and 12): whatever the file
or the `VAC_*` environment holds, `check_file` lists problems and `load_settings` either
succeeds or raises vac's own ConfigError; nothing else escapes, and each example is quick."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vac.config_file import ConfigProblem
from vac.errors import ConfigError
from vac.settings import VacSettings, check_file, load_settings

# Seconds one example may take: the alias bomb took more than 30 s before the fix.
PER_EXAMPLE_S = 2.0
BOUNDED = settings(
    max_examples=150,
    deadline=PER_EXAMPLE_S * 1000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure here is reproducible
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "..", "bad name!", "Nowhere/Town", "banana", "(?P<x>[", "9" * 5000, "127.0.0.1:9092"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


def known_keys() -> list[tuple[str, str | None]]:
    """(section, field) of every setting, and each section alone."""
    keys: list[tuple[str, str | None]] = []
    for name, field in VacSettings.model_fields.items():
        keys.append((name, None))
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys += [(name, sub) for sub in annotation.model_fields]
    return keys


@st.composite
def documents_under_known_keys(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for section, field in draw(st.lists(st.sampled_from(known_keys()), min_size=1, max_size=5)):
        value = draw(values)
        if field is None:
            document[section] = value
        elif isinstance(document.get(section), dict):
            document[section][field] = value
        else:
            document[section] = {field: value}
    return document


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def assert_handled(path: Path) -> None:
    """Checked and loaded: problems or ConfigError, never another exception, never slow."""
    started = time.monotonic()
    problems = check_file(path, env={})
    assert all(isinstance(problem, ConfigProblem) for problem in problems)
    try:
        load_settings(path, env={})
    except ConfigError as error:
        assert error.message.startswith("invalid configuration: ")
        assert problems, "load_settings refused a file that check_file passed"
    else:
        assert problems == [], "check_file found problems in a file that loads"
    assert time.monotonic() - started < PER_EXAMPLE_S


@BOUNDED
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes(workdir: Path, raw: bytes) -> None:
    path = workdir / "bytes.yaml"
    path.write_bytes(raw)
    assert_handled(path)


@BOUNDED
@given(text=st.text(alphabet=st.sampled_from(list("ab:- \n[]{}&*!|>'\"#%@`,?<.=0123456789")), max_size=300))
def test_arbitrary_yaml_like_text(workdir: Path, text: str) -> None:
    # YAML's own punctuation (anchors, aliases, tags, flow and block collections) at random.
    path = workdir / "text.yaml"
    path.write_text(text)
    assert_handled(path)


@BOUNDED
@given(document=values)
def test_arbitrary_yaml_documents(workdir: Path, document: Any) -> None:
    path = workdir / "document.yaml"
    path.write_text(yaml.safe_dump(document))
    assert_handled(path)


@BOUNDED
@given(document=documents_under_known_keys())
def test_arbitrary_values_under_known_keys(workdir: Path, document: dict[str, Any]) -> None:
    path = workdir / "known.yaml"
    path.write_text(yaml.safe_dump(document))
    assert_handled(path)


@BOUNDED
@given(
    env=st.dictionaries(
        st.sampled_from(["VAC_" + "__".join(part for part in key if part).upper() for key in known_keys()]),
        st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40)
        | st.sampled_from(["[", "{not json", "abc", "inf", "nan", "true", "[1, 2", '{"a": 1}', "-1", "1e999"]),
        max_size=4,
    )
)
def test_arbitrary_environment_values(env: dict[str, str]) -> None:
    try:
        load_settings(None, env={"VAC_CONFIG": "", **env})
    except ConfigError as error:
        assert error.message.startswith("invalid configuration: ")
