"""YAML parsing that remembers where each value came from.

Diagnostics must name the line of the offending key, and a few frontmatter values must be read from
their original text (``order: 08`` is a string to YAML 1.1 and ``order: 010`` is octal 8; ``version: 1.10``
would become the float 1.1). PyYAML's composer gives us the node tree with marks, and its constructor
turns that same tree into Python values, so the text is parsed once.

Aliases (``*name``) are refused: the files read here come from pull requests, and a kilobyte of nested
aliases ("billion laughs") expands to billions of values. Composing the node graph is linear in the text
(an alias is a second reference to one node); a node reached twice is the refusal, before anything expands.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import yaml

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_DEPTH = 64  # frontmatter and structure files nest a few levels; deeper input is refused, not recursed into

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
# scalar tags whose constructor is a plain function (others, like !!set or !!omap, are generators)
_SCALAR_TAGS = frozenset(
    {_STR, _TIMESTAMP, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
    | {"tag:yaml.org,2002:null", "tag:yaml.org,2002:binary"}
)


class _Loader(_BaseLoader):
    """The safe loader, except that an impossible date (``2025-02-30``) stays text instead of raising."""


def _lenient_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:  # the schema then reports it as "not a date written YYYY-MM-DD"
        return loader.construct_scalar(node)


_Loader.add_constructor(_TIMESTAMP, _lenient_timestamp)


class _Fallback(Exception):
    """The fast constructor met something it leaves to PyYAML's (merge keys, explicit tags)."""


class _AliasFound(Exception):
    """A node is reached a second time: the text uses an alias."""


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
    """Bad YAML. ``line``/``column`` (1-based) are where the mistake is: for a ``[``, ``{`` or quote that is
    never closed, the opener, not the later place where the parser gave up (``gave_up_line``)."""

    def __init__(
        self,
        message: str,
        line: int | None,
        column: int | None = None,
        source_line: str | None = None,
        gave_up: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.source_line = source_line
        self.gave_up = gave_up  # (line, column) where the parser gave up, when that is not ``line``

    def describe(self, offset: int = 0) -> str:
        """The message for a diagnostic that names ``line + offset``: the column, that line's text, the problem."""
        if self.column is None or self.source_line is None:
            return str(self)
        where = f"`{self.source_line}` (column {self.column})"
        if self.gave_up is None:
            return f"{where}: {self}"
        line, column = self.gave_up
        opener = self.source_line[self.column - 1 : self.column]
        return f"{where}: this `{opener}` is never closed ({self} at line {line + offset}, column {column})"


# contexts in which PyYAML names where an opener was, which is where the mistake is
_OPENERS = ("while parsing a flow sequence", "while parsing a flow mapping", "while scanning a quoted scalar")
_SOURCE_LINE_MAX = 80


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> YamlSyntaxError:
    context, problem = exc.context, exc.problem or str(exc)
    opener = context in _OPENERS and exc.context_mark is not None and exc.problem_mark is not None
    mark = exc.context_mark if opener else (exc.problem_mark or exc.context_mark)
    if mark is None:
        return YamlSyntaxError(f"{context}: {problem}" if context else problem, None)
    lines = text.split("\n")
    source = lines[mark.line].rstrip() if mark.line < len(lines) else ""
    if len(source) > _SOURCE_LINE_MAX:
        source = source[: _SOURCE_LINE_MAX - 3] + "..."
    message = f"{context}: {problem}" if context else problem
    if opener:
        assert exc.problem_mark is not None
        gave_up = (exc.problem_mark.line + 1, exc.problem_mark.column + 1)
        return YamlSyntaxError(message, mark.line + 1, mark.column + 1, source, gave_up)
    return YamlSyntaxError(message, mark.line + 1, mark.column + 1, source)


def parse_yaml(text: str) -> YamlDocument:
    """Parse one YAML document. Raises :class:`YamlSyntaxError` with a 1-based line on bad syntax.

    Values that YAML can write but not construct (``0x_``), nesting deeper than :data:`MAX_DEPTH` and
    aliases are reported the same way, so no input makes the caller crash or expand.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[JsonPath, int] = {}
        scalars: dict[JsonPath, str] = {}
        if node is None:
            return YamlDocument(None, lines, scalars)
        try:
            data = _construct(loader, node, (), lines, scalars, set(), 0)
        except _Fallback:
            # PyYAML's constructor handles merge keys and explicit tags; index the node tree separately
            lines.clear()
            scalars.clear()
            _index(node, (), lines, scalars, set(), 0)
            data = loader.construct_document(node)
    except _AliasFound:
        raise _alias_error(text) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from None
    except YamlSyntaxError:
        raise
    except (ValueError, OverflowError) as exc:  # a constructor refused a value reached through an alias
        raise YamlSyntaxError(f"cannot read a value: {exc}", None) from None
    finally:
        loader.dispose()
    return YamlDocument(data, lines, scalars)


def _alias_error(text: str) -> YamlSyntaxError:
    """The refusal, naming the first alias and its line (found again by the parser's events: nodes do not
    keep where an alias to them was written)."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                return YamlSyntaxError(
                    f"YAML aliases are not allowed (*{event.anchor} repeats the value of &{event.anchor}): "
                    "write the value out",
                    mark.line + 1 if mark else None,
                )
    finally:
        loader.dispose()
    return YamlSyntaxError("YAML aliases are not allowed: write the value out", None)  # pragma: no cover


def _check_node(node: yaml.Node, seen: set[int], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise YamlSyntaxError(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
    if id(node) in seen:
        raise _AliasFound
    seen.add(id(node))


def _construct(
    loader: _Loader,
    node: yaml.Node,
    path: JsonPath,
    lines: dict[JsonPath, int],
    scalars: dict[JsonPath, str],
    seen: set[int],
    depth: int,
) -> Any:
    """Build the value of ``node`` and index its lines in one pass; raise :class:`_Fallback` on anything
    but plain mappings, sequences and scalars of the core tags, and :class:`_AliasFound` on a node used
    twice."""
    _check_node(node, seen, depth)
    lines[path] = node.start_mark.line + 1
    tag = node.tag
    if isinstance(node, yaml.ScalarNode):
        if tag not in _SCALAR_TAGS:
            raise _Fallback
        if not node.style:
            scalars[path] = node.value
        if tag == _STR:
            return node.value
        try:
            return loader.yaml_constructors[tag](loader, node)
        except (ValueError, OverflowError) as exc:
            raise YamlSyntaxError(f"cannot read {node.value!r}: {exc}", node.start_mark.line + 1) from None
    if isinstance(node, yaml.SequenceNode):
        if tag != _SEQ:
            raise _Fallback
        return [
            _construct(loader, item, (*path, index), lines, scalars, seen, depth + 1)
            for index, item in enumerate(node.value)
        ]
    if not isinstance(node, yaml.MappingNode) or tag != _MAP:
        raise _Fallback
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
            raise _Fallback  # merge keys (<<), complex keys
        key = _construct(loader, key_node, (*path, "\0key"), {}, {}, seen, depth + 1)
        child = (*path, key_node.value)
        result[key] = _construct(loader, value_node, child, lines, scalars, seen, depth + 1)
        # a key's line is where the key is written, even when its value starts on the next line
        lines[child] = key_node.start_mark.line + 1
    return result


def _index(
    node: yaml.Node,
    path: JsonPath,
    lines: dict[JsonPath, int],
    scalars: dict[JsonPath, str],
    seen: set[int],
    depth: int,
) -> None:
    _check_node(node, seen, depth)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _check_node(key_node, seen, depth + 1)
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            child = (*path, key)
            _index(value_node, child, lines, scalars, seen, depth + 1)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), lines, scalars, seen, depth + 1)
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
