"""Kafka's topic name rule, checked before any request (issue #15, finding 13)."""

from __future__ import annotations

import pytest

from vac.errors import UsageError
from vac.topicnames import check_topic_name, topic_name_problem


@pytest.mark.parametrize("name", ["pressures", "vac.logs.dlq", "a", "A-Z_0.9", "t" * 249, "..."])
def test_legal_names(name: str) -> None:
    assert topic_name_problem(name) is None
    assert check_topic_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "t" * 250, "bad name!", "a/b", "caf\u00e9", "a\nb", "a*"])
def test_illegal_names_are_usage_errors(name: str) -> None:
    assert topic_name_problem(name) is not None
    with pytest.raises(UsageError):
        check_topic_name(name)
