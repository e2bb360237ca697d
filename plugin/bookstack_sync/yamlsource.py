"""YAML parsing that remembers where each value came from.

Diagnostics must name the line of the offending key, and a few frontmatter values must be read from
their original text (``order: 08`` is a string to YAML 1.1 and ``order: 010`` is octal 8; ``version: 1.10``
would become the float 1.1). PyYAML's composer gives us the node tree with marks, and its constructor
turns that same tree into Python values, so the text is parsed once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML document: its value, the 1-based line of every node, and plain scalars' text."""

    data: Any
    lines: dict[JsonPath, int]
    scalars: dict[JsonPath, str]

    def line_of(self, path: JsonPath, offset: int = 0) -> int | None:
        """The line of the deepest known node on ``path`` (a missing key reports its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line + offset
        return None


class YamlSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document. Raises :class:`YamlSyntaxError` with a 1-based line on bad syntax."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise YamlSyntaxError(problem, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from None
    finally:
        loader.dispose()
    lines: dict[JsonPath, int] = {}
    scalars: dict[JsonPath, str] = {}
    if node is not None:
        _index(node, (), lines, scalars)
    return YamlDocument(data, lines, scalars)


def _index(node: yaml.Node, path: JsonPath, lines: dict[JsonPath, int], scalars: dict[JsonPath, str]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            _index(value_node, child, lines, scalars)
            # a key's line is where the key is written, even when its value starts on the next line
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), lines, scalars)
    elif isinstance(node, yaml.ScalarNode) and not node.style:
        scalars[path] = node.value


def to_json_value(value: Any) -> Any:
    """Normalise YAML-only types to JSON ones: dates become ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value
