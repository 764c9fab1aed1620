"""Reading a YAML config file so that every problem can be pointed at.

PyYAML's node tree keeps the line of every key; validation errors from pydantic are mapped
back onto those lines, and an unknown key gets the closest valid key as a suggestion (as
harlequin does, with difflib). Used by `vac.settings` for loading and by `vac config check`.
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
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return ConfigProblem(path, None, "", f"not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        return ConfigProblem(path, None, "", f"cannot read: {exc.strerror}")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        return ConfigProblem(path, line, "", f"YAML syntax error: {exc.problem or exc.context}")
    except yaml.YAMLError as exc:
        return ConfigProblem(path, None, "", f"YAML syntax error: {exc}")
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or root is None:
        return ConfigProblem(path, 1, "", "the top level must be a mapping of sections (kafka:, elasticsearch:, ...)")
    lines: dict[KeyPath, int] = {}
    duplicate = _index_lines(root, (), lines)
    if duplicate is not None:
        key, line = duplicate
        return ConfigProblem(path, line, ".".join(map(str, key)), "duplicate key")
    return data, lines


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    parsed = parse_yaml(path)
    if isinstance(parsed, ConfigProblem):
        raise ConfigError(f"invalid configuration: {parsed}", hint="fix the file, then run `vac config check`")
    return parsed


def _index_lines(node: yaml.Node, prefix: KeyPath, lines: dict[KeyPath, int]) -> tuple[KeyPath, int] | None:
    """Record the 1-based line of every key below `node`; return the first duplicate key."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            path = (*prefix, str(key_node.value))
            line = key_node.start_mark.line + 1
            if path in lines:
                return path, line
            lines[path] = line
            duplicate = _index_lines(value_node, path, lines)
            if duplicate:
                return duplicate
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            lines[path] = item.start_mark.line + 1
            duplicate = _index_lines(item, path, lines)
            if duplicate:
                return duplicate
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
