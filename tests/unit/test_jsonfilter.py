"""The compiled JMESPath filter means exactly what the jmespath library means."""

from __future__ import annotations

import re
from typing import Any

import jmespath
import pytest

from vac.errors import UsageError
from vac.jsonfilter import JsonFilter

DOCUMENTS: list[Any] = [
    {"id": "VGPB_1_5L4_B.PR", "value": 3.2e-9, "sector": "S1", "status": {"invalid": False}, "validityBit": 1},
    {"id": "VGPB_2_5L4_B.PR", "value": 2.0e-7, "sector": "S2", "status": {"invalid": True}, "validityBit": 0},
    {"id": "VVS_3.RR1", "value": 4097, "sector": "S1", "tags": ["a", "b"], "status": {}},
    {"id": "VGI_4.PR", "value": None, "sector": "", "level": "SEVERE"},
    {"value": True, "flag": 1},
    {"value": "1e-9"},
    {},
    [],
    "text",
    None,
    3,
]

EXPRESSIONS = [
    "value > `1e-8`",
    "value >= `3.2e-9` && sector == 'S1'",
    "value < `1e-8` || status.invalid",
    "!status.invalid",
    "status.invalid == `true`",
    "sector != 'S1'",
    "value == `true`",
    "flag == `true`",
    "value == '1e-9'",
    "status",
    "tags",
    "level == 'SEVERE' && value == `null`",
    "starts_with(id, 'VGPB')",
    "contains(id, 'RR1')",
    "tags[0] == 'a'",
    "length(tags) > `1`",
    "value > sector",
    "@",
    "validityBit == `0` || value > `1e-7`",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_compiled_filter_agrees_with_jmespath(expression: str) -> None:
    compiled = JsonFilter(expression)
    for document in DOCUMENTS:
        try:
            expected = jmespath.search(expression, document)
        except jmespath.exceptions.JMESPathError:
            continue  # a function given the wrong type: the library raises too
        except TypeError:
            # jmespath 1.1 orders a string against a number with Python's `>` and fails;
            # the specification says such a comparison is null, which is what vac gives.
            assert compiled.search(document) is None or not compiled.matches(document), (expression, document)
            continue
        assert compiled.search(document) == expected, (expression, document)
        truthy = expected not in (False, None, "", [], {})
        assert compiled.matches(document) is truthy, (expression, document)


def test_a_malformed_expression_is_a_usage_error_with_its_column() -> None:
    with pytest.raises(UsageError) as caught:
        JsonFilter("value > ")
    assert caught.value.message.startswith("--where 'value > ': not a JMESPath expression at column")
    assert caught.value.hint is not None and "backticks" in caught.value.hint


def test_a_function_failing_on_one_document_counts_it_as_not_matching() -> None:
    # The README's own example on vac.health, where some messages lack `id` or hold a number.
    where = JsonFilter("starts_with(id, 'VGPB')")
    documents: list[Any] = [{"id": "VGPB_1"}, {"component": "ship-logs"}, {"id": 7}, {"id": "VGI_2"}, "text"]
    assert [where.matches(document) for document in documents] == [True, False, False, False, False]
    assert where.failed == 3
    assert where.first_failure is not None and "starts_with()" in where.first_failure


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("foo(bar)", "unknown function foo()"),
        ("value > `1` && nope(@)", "unknown function nope()"),
        ("starts_with(id)", "starts_with() takes 2 arguments, not 1"),
        ("not_null()", "not_null() takes at least 1 argument, not 0"),
    ],
)
def test_unknown_functions_and_wrong_arities_are_usage_errors_at_start(expression: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        JsonFilter(expression)
