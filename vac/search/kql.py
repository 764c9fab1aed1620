"""Kibana Query Language (KQL), the default query language of `vac query` and of the
dashboard's live log filter: one parser (a lark grammar) turns the text into a small tree,
which becomes (a) an Elasticsearch query for `vac query` and (b) a predicate over a record
dict for the dashboard, both with the same meaning.

    level:SEVERE and host:pcte197167     and / or / not in any case, as Kibana; no implicit and
    level:(SEVERE or WARNING)            several values of one field
    manager:WCCIL*   message:conn*       `*` is a wildcard; `\\*` is a star
    text:"Connection lost"               a phrase
    lines >= 2    @timestamp < now-1h     ranges: numbers, times (vac's time grammar), keywords
    host:*                               the field exists
    lost                                 a bare value searches the texts: message and text

How fields match comes from the index template (vac/es/logs-template.json): a keyword field
(level, host, manager, ...) matches its whole value exactly, case-sensitive; a text field
(message, text) is analyzed by Elasticsearch's standard analyzer, which the live predicate
approximates (`tokens`): words of letters/digits/_, joined across `.`, `:` or `'` as Unicode's
word-break rules join them, lower-cased. Where the approximation and Elasticsearch can differ:
scripts without spaces (CJK) and words longer than 255 characters are split differently.
Differences from Kibana: a bare value searches message and text only (Kibana: every field);
times in ranges are resolved once, when the query is compiled.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from vac.errors import UsageError
from vac.search.fields import field_path, field_value
from vac.timegrammar import parse_instant, parse_iso_utc

Predicate = Callable[[dict[str, Any]], bool]
MAX_QUERY = 10_000
MAX_DEPTH = 100
TEXT_FIELDS = ("message", "text")
IGNORE_ABOVE = 1024  # the template's dynamic strings: longer values are not indexed
QUERY_HINT = 'KQL, e.g. level:SEVERE and not host:x*, text:"lost", lines >= 2; or lucene:... for Lucene'

GRAMMAR = r"""
start: or_q?
or_q: and_q (OR and_q)*
and_q: not_q (AND not_q)*
?not_q: NOT not_q  -> negate
      | "(" or_q ")"
      | expr
?expr: WORD ":" vlist      -> field_match
     | WORD RANGE value    -> field_range
     | value               -> bare
vlist: "(" v_or ")" | value
v_or: v_and (OR v_and)*
v_and: v_not (AND v_not)*
?v_not: NOT v_not -> v_negate
      | "(" v_or ")"
      | value
value: QUOTED -> phrase
     | WORD+  -> words
OR.2: /(?i:or)(?![^\s()"])/
AND.2: /(?i:and)(?![^\s()"])/
NOT.2: /(?i:not)(?![^\s()"])/
RANGE: /<=|>=|<|>/
QUOTED: /"(?:\\.|[^"\\])*"/
WORD: /(?:\\[\s\S]|[^\s\\():<>"{}])+/
%ignore /\s+/
"""


@cache
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


# --- the tree --------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    pieces: tuple[str, ...]
    """The value split at its wildcards: ("WCC", "") is WCC*; one piece means no wildcard."""
    phrase: bool = False

    @property
    def text(self) -> str:
        return "*".join(self.pieces)

    @property
    def wildcard(self) -> bool:
        return len(self.pieces) > 1

    def es_wildcard(self) -> str:
        return "*".join(re.sub(r"([*?\\])", r"\\\1", piece) for piece in self.pieces)

    def regex(self, flags: int = 0) -> re.Pattern[str]:
        return re.compile(".*".join(re.escape(piece) for piece in self.pieces), flags | re.DOTALL)


@dataclass(frozen=True)
class Match:
    field: str | None
    value: Value


@dataclass(frozen=True)
class Range:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Bool:
    op: str  # "and" or "or"
    items: tuple[Node, ...]


Node = Match | Range | Not | Bool | None  # None: everything


def _unescape(text: str) -> str:
    return re.sub(r"\\([\s\S])", r"\1", text)


def _pieces(raw: str) -> tuple[str, ...]:
    """Split an unquoted value at its unescaped stars and unescape the rest."""
    pieces, current, index = [], [], 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            current.append(raw[index + 1])
            index += 2
            continue
        if char == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return tuple(pieces)


class _Tree(Transformer[Token, Node]):
    def start(self, items: list[Node]) -> Node:
        return items[0] if items else None

    def or_q(self, items: list[Node]) -> Node:
        kept = [item for item in items if not isinstance(item, Token)]
        return kept[0] if len(kept) == 1 else Bool("or", tuple(kept))

    def and_q(self, items: list[Node]) -> Node:
        kept = [item for item in items if not isinstance(item, Token)]
        return kept[0] if len(kept) == 1 else Bool("and", tuple(kept))

    v_or = or_q
    v_and = and_q

    def negate(self, items: list[Node]) -> Node:
        return Not(items[-1])

    v_negate = negate

    def vlist(self, items: list[Any]) -> Any:
        return items[0]

    def phrase(self, items: list[Token]) -> Value:
        return Value((_unescape(items[0][1:-1]),), phrase=True)

    def words(self, items: list[Token]) -> Value:
        # Kibana keeps an unquoted value's spaces: `message: connection lost` is one value.
        raw = " ".join(str(item) for item in items)
        return Value(_pieces(raw))

    def bare(self, items: list[Value]) -> Node:
        value = items[0]
        return None if value.pieces == ("", "") else Match(None, value)

    def field_match(self, items: list[Any]) -> Node:
        field = field_path(_unescape(str(items[0])))
        return _with_field(items[1], field)

    def field_range(self, items: list[Any]) -> Node:
        value: Value = items[2]
        return Range(field_path(_unescape(str(items[0]))), str(items[1]), value.text)


def _with_field(node: Any, field: str) -> Node:
    if isinstance(node, Value):
        return Match(field, node)
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))
    if isinstance(node, Bool):
        return Bool(node.op, tuple(_with_field(item, field) for item in node.items))
    return node  # type: ignore[no-any-return]


def parse(query: str) -> Node:
    """The tree of a KQL text; a UsageError (one line, naming the place) if it is not KQL."""
    if len(query) > MAX_QUERY:
        raise UsageError(f"query is {len(query):,} characters long; at most {MAX_QUERY:,}", hint=QUERY_HINT)
    bad = next((i for i, char in enumerate(query) if not char.isprintable() and char not in " \t\n"), None)
    if bad is not None:
        raise UsageError(f"query holds a control character ({query[bad]!r}) at column {bad + 1}", hint=QUERY_HINT)
    depth = deepest = 0
    for char in re.sub(r'"(?:\\.|[^"\\])*"|\\.', "", query):
        depth += (char == "(") - (char == ")")
        deepest = max(depth, deepest)
    if deepest > MAX_DEPTH:
        raise UsageError(f"query nests parentheses {deepest} deep; at most {MAX_DEPTH}", hint=QUERY_HINT)
    try:
        return _Tree().transform(_parser().parse(query))
    except UnexpectedInput as exc:
        raise UsageError(_syntax_error(query, exc), hint=QUERY_HINT) from None
    except VisitError as exc:
        raise UsageError(f"query {query[:80]!r}: {exc.orig_exc}", hint=QUERY_HINT) from None


def _syntax_error(query: str, exc: UnexpectedInput) -> str:
    column = getattr(exc, "column", 0)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        if query.count("(") > query.count(")"):
            return "query ends before a ')' closes its '('"
        return "query ends too soon (after an operator or ':')"
    if isinstance(exc, UnexpectedCharacters):
        at = exc.pos_in_stream or 0
        char = query[at] if at < len(query) else ""
        if char == '"':
            return f"query: the quote at column {column} is not closed"
        return f"query: {char!r} at column {column} is not expected here"
    token = getattr(exc, "token", "")
    return f"query: unexpected {str(token)[:40]!r} at column {column}"


# --- field types, from the index template ------------------------------------------------


@cache
def field_types() -> dict[str, str]:
    """`level` -> keyword, `message` -> text, `log.offset` -> long, ... from the template."""
    body = json.loads(resources.files("vac.es").joinpath("logs-template.json").read_text())
    types: dict[str, str] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
            else:
                types[prefix + name] = spec.get("type", "keyword")

    walk(body["template"]["mappings"]["properties"], "")
    return types


def field_type(field: str) -> str:
    """A field the template does not name is a string made keyword by its dynamic template."""
    return field_types().get(field, "keyword")


_NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}


def _number(field: str, text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise UsageError(f"query: {field} holds numbers; {text[:40]!r} is not one") from None
    if not math.isfinite(number):
        raise UsageError(f"query: {field} holds numbers; {text[:40]!r} is not a finite one")
    return number


def _instant(field: str, op: str, text: str, now: datetime, local: tzinfo | None) -> datetime:
    return parse_instant(text, now, local, f"query {field} {op}")


# --- (a) Elasticsearch --------------------------------------------------------------------


def to_es(node: Node, now: datetime | None = None, local: tzinfo | None = None) -> dict[str, Any]:
    """The Elasticsearch query of a tree."""
    now = now or datetime.now(UTC)
    if node is None:
        return {"match_all": {}}
    if isinstance(node, Bool):
        queries = [to_es(item, now, local) for item in node.items]
        if node.op == "and":
            return {"bool": {"filter": queries}}
        return {"bool": {"should": queries, "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [to_es(node.item, now, local)]}}
    if isinstance(node, Range):
        return {"range": {node.field: {_ES_OPS[node.op]: _es_bound(node, now, local)}}}
    return _es_match(node)


_ES_OPS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def _es_bound(node: Range, now: datetime, local: tzinfo | None) -> Any:
    kind = field_type(node.field)
    if kind == "text":
        raise UsageError(f"query: {node.field} is a text field; ranges work on numbers, times and keywords")
    if kind in _NUMERIC:
        return _number(node.field, node.value)
    if kind == "date":
        return _iso(_instant(node.field, node.op, node.value, now, local))
    return node.value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _es_match(node: Match) -> dict[str, Any]:
    value = node.value
    if node.field is None:
        if value.wildcard:
            wildcards = [_es_wildcard(field, value, True) for field in TEXT_FIELDS]
            return {"bool": {"should": wildcards, "minimum_should_match": 1}}
        kind = "phrase" if value.phrase else "best_fields"
        return {"multi_match": {"query": value.text, "fields": list(TEXT_FIELDS), "type": kind, "lenient": True}}
    if value.wildcard and not value.phrase and value.pieces == ("", ""):
        return {"exists": {"field": node.field}}
    kind = field_type(node.field)
    if kind == "text":
        if value.wildcard and not value.phrase:
            return _es_wildcard(node.field, value, True)
        return {"match_phrase" if value.phrase else "match": {node.field: value.text}}
    if value.wildcard and not value.phrase:
        if kind != "keyword":
            raise UsageError(f"query: {node.field} is a {kind} field; wildcards work on keywords and texts")
        return _es_wildcard(node.field, value, False)
    if kind in _NUMERIC:
        return {"term": {node.field: _number(node.field, value.text)}}
    if kind == "date":
        moment = _iso(_instant(node.field, ":", value.text, datetime.now(UTC), None))
        return {"range": {node.field: {"gte": moment, "lte": moment}}}
    return {"term": {node.field: value.text}}


def _es_wildcard(field: str, value: Value, case_insensitive: bool) -> dict[str, Any]:
    pattern = value.es_wildcard()
    return {"wildcard": {field: {"value": pattern.lower() if case_insensitive else pattern}}}


# --- (b) a record in memory ----------------------------------------------------------------

# Runs of letters, digits and _, joined across one `:` or `'` between letters, one `.` between two
# letters or two digits, one `,` or `;` between digits (UAX #29's MidLetter, MidNumLet, MidNum).
_LETTER = r"[^\W\d_]"
_TOKEN = re.compile(rf"\w+(?:(?:(?<={_LETTER})[:.'’](?={_LETTER})|(?<=\d)[.,;](?=\d))\w+)*")


@lru_cache(maxsize=65536)  # log texts repeat; the dashboard re-filters thousands at a time
def tokens(text: str) -> tuple[str, ...]:
    """The standard analyzer's terms of a text, approximately (UAX #29 word breaks, lower case)."""
    return tuple(_TOKEN.findall(text.lower()))


def _strings(value: Any) -> list[Any]:
    if value is None:
        return []
    return [item for item in value if item is not None] if isinstance(value, list) else [value]


def _as_keyword(item: Any) -> str | None:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (str, int, float)):
        text = str(item)
        return text if len(text) <= IGNORE_ABOVE else None  # not indexed: never matches
    return None


def to_predicate(node: Node, now: datetime | None = None, local: tzinfo | None = None) -> Predicate:
    """A test of one record that answers as Elasticsearch would for `to_es(node)`."""
    now = now or datetime.now(UTC)
    if node is None:
        return lambda doc: True
    if isinstance(node, Bool):
        checks = [to_predicate(item, now, local) for item in node.items]
        if node.op == "and":
            return lambda doc: all(check(doc) for check in checks)
        return lambda doc: any(check(doc) for check in checks)
    if isinstance(node, Not):
        inner = to_predicate(node.item, now, local)
        return lambda doc: not inner(doc)
    if isinstance(node, Range):
        return _range_predicate(node, now, local)
    if node.field is None:
        checks = [to_predicate(Match(field, node.value), now, local) for field in TEXT_FIELDS]
        return lambda doc: any(check(doc) for check in checks)
    return _match_predicate(node.field, node.value)


def _match_predicate(field: str, value: Value) -> Predicate:
    kind = field_type(field)
    to_es(Match(field, value))  # the same refusals as for Elasticsearch
    if value.wildcard and not value.phrase and value.pieces == ("", ""):
        return lambda doc: bool(_strings(field_value(doc, field)))
    if kind == "text":
        if value.wildcard and not value.phrase:
            pattern = Value(tuple(piece.lower() for piece in value.pieces)).regex()
            return lambda doc: any(
                pattern.fullmatch(term) for item in _strings(field_value(doc, field)) for term in tokens(str(item))
            )
        wanted = tokens(value.text)
        if value.phrase:
            return lambda doc: (
                bool(wanted) and any(_contains(tokens(str(item)), wanted) for item in _strings(field_value(doc, field)))
            )
        wanted_set = set(wanted)  # match: any of the words (the default operator is OR)
        return lambda doc: any(
            not wanted_set.isdisjoint(tokens(str(item))) for item in _strings(field_value(doc, field))
        )
    if kind in _NUMERIC:
        number = _number(field, value.text)
        return lambda doc: any(_numeric(item) == number for item in _strings(field_value(doc, field)))
    if kind == "date":
        moment = _instant(field, ":", value.text, datetime.now(UTC), None)
        return lambda doc: any(_moment(item) == moment for item in _strings(field_value(doc, field)))
    if value.wildcard and not value.phrase:
        regex = value.regex()
        return lambda doc: any(
            (text := _as_keyword(item)) is not None and regex.fullmatch(text) is not None
            for item in _strings(field_value(doc, field))
        )
    return lambda doc: any(_as_keyword(item) == value.text for item in _strings(field_value(doc, field)))


def _contains(terms: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    size = len(wanted)
    return any(terms[index : index + size] == wanted for index in range(len(terms) - size + 1))


def _numeric(item: Any) -> float | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, (int, float)):
        return float(item)
    if isinstance(item, str):
        try:
            return float(item)
        except ValueError:
            return None
    return None


def _moment(item: Any) -> datetime | None:
    if not isinstance(item, str):
        return None
    try:
        return parse_iso_utc(item)
    except (ValueError, OverflowError):
        return None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _range_predicate(node: Range, now: datetime, local: tzinfo | None) -> Predicate:
    bound = _es_bound(node, now, local)  # the same refusals and the same resolved bound
    compare = _COMPARE[node.op]
    kind = field_type(node.field)
    read: Callable[[Any], Any]
    if kind in _NUMERIC:
        read = _numeric
    elif kind == "date":
        bound = parse_iso_utc(bound)
        read = _moment
    else:
        read = _as_keyword
    return lambda doc: any(
        (item := read(raw)) is not None and compare(item, bound) for raw in _strings(field_value(doc, node.field))
    )


def words(node: Node) -> list[str]:
    """The values of a tree that are searched for (not negated): what to highlight."""
    if isinstance(node, Match):
        return [node.value.text] if node.value.text.strip("*") else []
    if isinstance(node, Bool):
        return [word for item in node.items for word in words(item)]
    return []


def split_language(query: str) -> tuple[bool, str]:
    """(True, rest) for a `lucene:` prefixed query, else (False, query)."""
    stripped = query.lstrip()
    if stripped[:7].lower() == "lucene:":
        return True, stripped[7:]
    return False, query
