"""Reading a YAML config file so that every problem can be pointed at.

PyYAML's node tree keeps the line of every key; validation errors from pydantic are mapped
back onto those lines, and an unknown key gets the closest valid key as a suggestion (as
harlequin does, with difflib). Used by `vac.settings` for loading and by `vac config check`.

A config file is input like any other: a YAML alias bomb (a few hundred bytes that expand to
gigabytes), deep nesting or a recursive alias must be refused quickly, not crash or hang vac.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vac.errors import ConfigError

KeyPath = tuple[str | int, ...]

MAX_FILE_BYTES = 1024 * 1024
"""A real vac.yaml is a few kilobytes; anything near this is not a config file."""
MAX_DEPTH = 32
"""vac's deepest key is five levels down; PyYAML's composer recurses once per level."""
MAX_NODES = 100_000
"""Nodes of the document with every alias expanded, as validation will walk it: anchors for
shared log inputs stay usable, "billion laughs" does not."""


class _Refused(Exception):
    """The document is too large or too deep to be a config file."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = mark.line + 1 if mark else None


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer stops at MAX_DEPTH levels of nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass(frozen=True)
class ConfigProblem:
    file: Path | None
    line: int | None
    key: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        hint = f" (did you mean '{self.suggestion}'?)" if self.suggestion else ""
        return f"{where}{key}{self.message}{hint}"


def parse_yaml(path: Path) -> tuple[dict[str, Any], dict[KeyPath, int]] | ConfigProblem:
    """The file's data and the line of each key path, or the problem that stops reading it."""
    if path.is_dir():
        return ConfigProblem(path, None, "", "is a directory, not a config file")
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return ConfigProblem(path, None, "", f"cannot read: {exc.strerror}")
    if len(raw) > MAX_FILE_BYTES:
        return ConfigProblem(path, None, "", f"larger than {MAX_FILE_BYTES // 1024} KiB: not a config file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ConfigProblem(path, None, "", f"not UTF-8 text (byte {exc.start})")
    lines: dict[KeyPath, int] = {}
    try:
        root, bad_key, data = _load(text, lines)
    except _Refused as exc:
        return ConfigProblem(path, exc.line, "", f"refused: {exc.message}")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return ConfigProblem(path, line, "", f"YAML syntax error: {exc.problem or exc.context}")
    except yaml.YAMLError as exc:
        return ConfigProblem(path, None, "", f"YAML syntax error: {exc}")
    except ValueError as exc:  # a scalar the constructor cannot build: a 5000-digit int, 2026-13-45
        return ConfigProblem(path, None, "", f"YAML value error: {exc}")
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or root is None:
        return ConfigProblem(path, 1, "", "the top level must be a mapping of sections (kafka:, elasticsearch:, ...)")
    if bad_key is not None:
        key, line, message = bad_key
        return ConfigProblem(path, line, ".".join(map(str, key)), message)
    return data, lines


def _load(text: str, lines: dict[KeyPath, int]) -> tuple[yaml.Node | None, tuple[KeyPath, int, str] | None, Any]:
    """The root node, the first bad key (see `_index_lines`) and the data, from one parse
    after the size checks; `lines` gets the line of every key."""
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None, None
        _check_expanded_size(root)
        # Before constructing: the constructor flattens merge keys (`<<: *base`) into the
        # node tree, which would read as duplicate keys.
        bad_key = _index_lines(root, (), lines)
        return root, bad_key, loader.construct_document(root)
    finally:
        loader.dispose()


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand past MAX_NODES nodes, or refer to themselves.
    Each node's expanded size is counted once (aliases share nodes), so this is linear in the
    file, not in the expansion."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _Refused("an alias refers to the node that contains it", node.start_mark)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if children and depth >= MAX_DEPTH:  # aliases can nest deeper than the text does
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", node.start_mark)
        open_nodes.add(key)
        total = 1 + sum(size(child, depth + 1) for child in children)
        open_nodes.discard(key)
        if total > MAX_NODES:
            raise _Refused(f"aliases expand to more than {MAX_NODES} values", node.start_mark)
        sizes[key] = total
        return total

    size(root, 0)


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    parsed = parse_yaml(path)
    if isinstance(parsed, ConfigProblem):
        raise ConfigError(f"invalid configuration: {parsed}", hint="fix the file, then run `vac config check`")
    return parsed


_STRING_KEY_TAGS = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:merge")


def _index_lines(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int]) -> tuple[KeyPath, int, str] | None:
    """Record the 1-based line of every key below `node`; return the first key that is a
    duplicate or no string (`1:`, `true:`, a bare `?`), with its line and what is wrong."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _STRING_KEY_TAGS:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                return prefix, line, f"key {shown!r} is not a string (every key is a name; quote it)"
            path = (*prefix, str(key_node.value))
            if path in lines:
                return path, line, "duplicate key"
            lines[path] = line
            bad = _index_lines(value_node, path, lines)
            if bad:
                return bad
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            bad = _index_lines(item, path, lines)
            if bad:
                return bad
    return None


def problems_from_validation(
    exc: ValidationError,
    model: type[BaseModel],
    file: Path | None,
    lines: dict[KeyPath, int],
    file_data: dict[str, Any],
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc: KeyPath = tuple(error["loc"])
        suggestion = None
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
            valid = _field_names(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
            suggestion = close[0] if close else None
        elif error["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        in_file = _in_data(file_data, loc)
        line = _nearest_line(lines, loc) if in_file else None
        problems.append(
            ConfigProblem(
                file=file if in_file else None,
                line=line,
                key=".".join(map(str, loc)),
                message=message,
                suggestion=suggestion,
            )
        )
    return problems


def _field_names(model: type[BaseModel], path: KeyPath) -> list[str]:
    current: Any = model
    for part in path:
        is_model = isinstance(current, type) and issubclass(current, BaseModel)
        if not is_model or str(part) not in current.model_fields:
            return []
        current = current.model_fields[str(part)].annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _in_data(data: Any, loc: KeyPath) -> bool:
    for part in loc:
        if not isinstance(data, dict | list):
            return False
        try:
            data = data[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return False
    return True


def _nearest_line(lines: dict[KeyPath, int], loc: KeyPath) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
