"""Read a mapping file, reporting every problem with its file, line and key.

PyYAML's composer keeps the position of every node, so the YAML is composed (not just loaded),
turned into plain data while recording the line of each key path, and validated by the pydantic
models. A person fixing a mapping sees one line per problem::

    mappings/acme.yaml:14: objects[0].fields[2].transform: 'txt' is not allowed; expected ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shared.errors import ConfigError
from shared.mapping.models import Mapping

Loc = tuple[str | int, ...]


class _Composer:
    """Turns a composed YAML node tree into data plus a map of key path → 1-based line."""

    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.problems: list[tuple[int, Loc, str]] = []
        self._scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalars.construct_object(key_node)
                key = str(key)
                line = key_node.start_mark.line + 1
                if key in out:
                    self.problems.append((line, (*loc, key), "duplicate key"))
                self.lines[(*loc, key)] = line
                out[key] = self.build(value_node, (*loc, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self._scalars.construct_object(node)


def _where(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_for(lines: dict[Loc, int], loc: Loc) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key; see docs/mapping.md for the valid keys"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{err.get('input')!r} is not allowed; expected {expected}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def parse_mapping(text: str, source: str = "<mapping>") -> Mapping:
    """Validate mapping text into a :class:`Mapping` (its effective form: disabled objects and
    references to them removed, see :meth:`Mapping.effective`).

    Args:
        text: YAML text of the mapping file.
        source: The file name shown in messages.

    Raises:
        ConfigError: One message per problem, each ``<file>:<line>: <key>: <what is wrong>``.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}:{line}: not valid YAML: {problem}"], source=source) from None
    if root is None:
        raise ConfigError([f"{source}:1: the mapping file is empty"], source=source)
    composer = _Composer()
    data = composer.build(root, ())
    problems = [f"{source}:{line}: {_where(loc)}: {msg}" for line, loc, msg in composer.problems]
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1: the top level must be a mapping of keys"], source=source)
    try:
        mapping = Mapping.model_validate(data, context={"defer_references": True})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(
                f"{source}:{_line_for(composer.lines, loc)}: {_where(loc)}: {_message(err)}"
            )
        raise ConfigError(problems, source=source) from None
    for loc, msg in mapping.reference_problems():
        problems.append(f"{source}:{_line_for(composer.lines, loc)}: {_where(loc)}: {msg}")
    if problems:
        raise ConfigError(problems, source=source)
    return mapping.effective()


def load_mapping(path: Path | str) -> Mapping:
    """Read and validate a mapping file (see :func:`parse_mapping`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [f"{file}: cannot be read: {exc.strerror or exc}"], source=str(file)
        ) from None
    return parse_mapping(text, str(file))
