"""Filtering JSON documents with JMESPath, fast enough for a stream.

The expression language is JMESPath (the `jmespath` library parses it and is the reference
for its meaning): `value > \\`1e-8\\` && sector == \\`"VACSECPR123"\\``, `status.invalid`,
`starts_with(id, 'VGPB')`. The library's interpreter costs 4-7 us a document, too slow for
200,000 messages/s, so the common node types are compiled once into Python closures; any
other node falls back to the library's own interpreter for that subtree, so every valid
expression works and means what JMESPath says.

What the library only finds out on a document (an unknown function, a wrong number of
arguments) is checked once when the filter is made, as the usage error it is. What can only
fail on a document (`starts_with(id, 'VGPB')` where `id` is missing or a number) counts that
document as not matching: one odd message must not end a read of a million.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.functions import Functions
from jmespath.visitor import Options, TreeInterpreter

from vac.errors import UsageError

Getter = Callable[[Any], Any]
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
}


def _strict_eq(a: Any, b: Any) -> bool:
    # JMESPath: true != 1, unlike Python.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _truthy(value: Any) -> bool:
    # JMESPath truth: false, null, "", [] and {} are false; 0 is true.
    return not (value is False or value is None or value == "" or value == [] or value == {})


_HINT = 'literals go in backticks: value > `1e-8` && sector == `"VACSECPR123"`'
_FUNCTIONS: dict[str, Any] = Functions().FUNCTION_TABLE


def _check_functions(expression: str, node: dict[str, Any]) -> None:
    """Unknown functions and wrong argument counts, which the library reports only when it
    first evaluates the call, as a usage error before anything is read."""
    if node.get("type") == "function_expression":
        name = node["value"]
        function = _FUNCTIONS.get(name)
        if function is None:
            raise UsageError(
                f"--where {expression!r}: unknown function {name}()",
                hint=f"JMESPath's functions: {', '.join(sorted(_FUNCTIONS))}",
            )
        signature = function["signature"]
        given = len(node.get("children", []))
        variadic = bool(signature) and bool(signature[-1].get("variadic"))
        if given < len(signature) if variadic else given != len(signature):
            wanted = f"{'at least ' if variadic else ''}{len(signature)} argument{'s' if len(signature) != 1 else ''}"
            raise UsageError(
                f"--where {expression!r}: {name}() takes {wanted}, not {given}",
                hint=_HINT,
            )
    for child in node.get("children", []):
        if isinstance(child, dict):
            _check_functions(expression, child)


class JsonFilter:
    """A compiled JMESPath condition: `matches(document)` is True where the expression's
    result is truthy in JMESPath's sense. `failed` counts documents the expression could not
    be evaluated on (they do not match); `first_failure` says why, for the summary."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.failed = 0
        self.first_failure: str | None = None
        try:
            self._parsed = jmespath.compile(expression)
            _check_functions(expression, self._parsed.parsed)
        except jmespath_errors.JMESPathError as exc:
            column = getattr(exc, "lex_position", None)
            where = f" at column {column + 1}" if isinstance(column, int) else ""
            raise UsageError(
                f"--where {expression!r}: not a JMESPath expression{where} ({exc.msg if hasattr(exc, 'msg') else exc})",
                hint=_HINT,
            ) from None
        except RecursionError:
            raise UsageError(f"--where: the expression nests too deeply ({len(expression):,} characters)") from None
        self._interpreter = TreeInterpreter(Options())
        self._get = self._compile(self._parsed.parsed)

    def search(self, document: Any) -> Any:
        return self._get(document)

    def matches(self, document: Any) -> bool:
        try:
            return _truthy(self._get(document))
        # Whatever the expression meets in one document (a function given null, a number too
        # deep to compare) is that document's problem: it does not match, and is counted.
        except Exception as exc:
            self.failed += 1
            if self.first_failure is None:
                self.first_failure = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return False

    # Each node type maps to a closure; anything else is interpreted by the library.
    def _compile(self, node: dict[str, Any]) -> Getter:
        kind = node["type"]
        children = node.get("children", [])
        if kind == "field":
            name = node["value"]
            return lambda doc: doc.get(name) if isinstance(doc, dict) else None
        if kind == "subexpression":
            getters = [self._compile(child) for child in children]

            def chain(doc: Any) -> Any:
                for get in getters:
                    doc = get(doc)
                    if doc is None:
                        return None
                return doc

            return chain
        if kind == "literal":
            value = node["value"]
            return lambda _doc: value
        if kind == "current":
            return lambda doc: doc
        if kind == "comparator":
            left, right = (self._compile(child) for child in children)
            op = node["value"]
            if op in ("eq", "ne"):
                negate = op == "ne"
                return lambda doc: _strict_eq(left(doc), right(doc)) != negate
            compare = _ORDERINGS[op]

            def ordered(doc: Any) -> Any:
                a, b = left(doc), right(doc)
                if _is_number(a) and _is_number(b):
                    return compare(a, b)
                return None  # JMESPath: ordering non-numbers gives null

            return ordered
        if kind == "and_expression":
            left, right = (self._compile(child) for child in children)
            return lambda doc: (lambda a: right(doc) if _truthy(a) else a)(left(doc))
        if kind == "or_expression":
            left, right = (self._compile(child) for child in children)
            return lambda doc: (lambda a: a if _truthy(a) else right(doc))(left(doc))
        if kind == "not_expression":
            inner = self._compile(children[0])
            return lambda doc: not _truthy(inner(doc))
        interpret = self._interpreter.visit
        return lambda doc: interpret(node, doc)
