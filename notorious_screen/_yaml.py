"""One safe, line-aware YAML loader for the market data and the rule packs.

Why not ``yaml.safe_load``: it forgets where values came from, silently keeps the last of two
duplicate keys, turns ``NO`` into ``False`` (YAML 1.1) and expands alias bombs. This loader:

* records the location of every mapping, sequence and key (:class:`YamlMap.loc`,
  :meth:`YamlMap.key_loc`, :meth:`YamlMap.value_loc`) so validation errors say ``path:line:col``;
* resolves scalars with the YAML 1.2 core schema: only ``true``/``false`` (any case) are
  booleans, so ``NO``, ``yes`` and ``off`` stay strings;
* rejects duplicate keys, explicit tags (``!!python/object`` and friends), anchors and aliases
  (no billion laughs), nesting deeper than :data:`MAX_DEPTH` and files larger than
  :data:`MAX_BYTES` (counted while reading, so ``/dev/zero`` stops too), and anything that is
  not a regular file (a FIFO would hang, a device never ends).

:func:`dump_yaml` writes what this loader reads back unchanged (the generated market data, the
overlays ``markets import`` makes): block style, every string double-quoted, no anchors or tags.

A service module (private to the package; its public names are imported by `editions`,
`markets`, `rules`).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from .errors import DataError, Location

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "YamlList",
    "YamlMap",
    "dump_yaml",
    "load_yaml",
    "load_yaml_bytes",
    "load_yaml_file",
    "read_capped",
    "scalar_words",
]

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 64

_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_NULL = {"", "~", "null", "Null", "NULL"}


class YamlMap(dict[str, Any]):
    """A mapping that remembers where it and each of its keys and values were written."""

    __slots__ = ("_key_locs", "_value_locs", "loc")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self._key_locs: dict[str, Location] = {}
        self._value_locs: dict[str, Location] = {}

    def key_loc(self, key: str) -> Location:
        return self._key_locs.get(key, self.loc)

    def value_loc(self, key: str) -> Location:
        return self._value_locs.get(key, self.key_loc(key))

    def put(self, key: str, value: Any, key_loc: Location, value_loc: Location) -> None:
        """Set ``key`` with the places it and its value were written (for merged documents)."""
        self[key] = value
        self._key_locs[key] = key_loc
        self._value_locs[key] = value_loc

    def copy_located(self) -> YamlMap:
        """A shallow copy that keeps every location."""
        out = YamlMap(self.loc)
        for key, value in self.items():
            out.put(key, value, self.key_loc(key), self.value_loc(key))
        return out


class YamlList(list[Any]):
    """A sequence that remembers where it and each of its items were written."""

    __slots__ = ("_item_locs", "loc")

    def __init__(self, loc: Location) -> None:
        super().__init__()
        self.loc = loc
        self._item_locs: list[Location] = []

    def item_loc(self, index: int) -> Location:
        if 0 <= index < len(self._item_locs):
            return self._item_locs[index]
        return self.loc

    def add(self, value: Any, where: Location) -> None:
        """Append ``value`` written at ``where`` (for merged documents)."""
        self.append(value)
        self._item_locs.append(where)

    def replace_at(self, index: int, value: Any, where: Location) -> None:
        self[index] = value
        self._item_locs[index] = where


def _resolve(event: ScalarEvent) -> Any:
    value = event.value
    # Quoted scalars and block scalars are always strings.
    if event.style is not None and event.style != "":
        return value
    if value in _NULL:
        return None
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value) and any(c.isdigit() for c in value):
        return float(value)
    return value


def load_yaml(text: str, path: str = "<string>") -> Any:
    """Parse one YAML document into plain values, :class:`YamlMap` and :class:`YamlList`.

    Raises :class:`DataError` with the location of the first problem.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DataError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB", Location(path))
    if "\x00" in text:
        raise DataError("file contains a NUL byte; not a YAML text file", Location(path))

    def loc(event: Event) -> Location:
        mark = event.start_mark
        if mark is None:
            return Location(path)
        return Location(path, mark.line + 1, mark.column + 1)

    # libyaml's parser, when PyYAML was built with it, is several times faster and reports the
    # same events and marks; the pure-Python parser is the fallback.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    events = yaml.parse(text, Loader=loader)
    # Each stack frame: [container, pending_key, pending_key_loc]
    stack: list[list[Any]] = []
    root: Any = None
    have_root = False
    docs = 0

    def attach(value: Any, where: Location) -> None:
        nonlocal root, have_root
        if not stack:
            root, have_root = value, True
            return
        frame = stack[-1]
        container = frame[0]
        if isinstance(container, YamlList):
            container.append(value)
            container._item_locs.append(where)
            return
        if frame[1] is _NO_KEY:
            if isinstance(value, (YamlMap, YamlList)):
                raise DataError("a mapping key must be a plain value", where)
            key = "" if value is None else str(value) if not isinstance(value, str) else value
            if key in container:
                first = container.key_loc(key)
                raise DataError(
                    f"duplicate key '{key}' (first defined at line {first.line})", where
                )
            frame[1], frame[2] = key, where
        else:
            key = frame[1]
            container[key] = value
            container._key_locs[key] = frame[2]
            container._value_locs[key] = where
            frame[1] = _NO_KEY

    try:
        for event in events:
            if isinstance(event, (StreamStartEvent, StreamEndEvent, DocumentEndEvent)):
                continue
            if isinstance(event, DocumentStartEvent):
                docs += 1
                if docs > 1:
                    raise DataError("only one YAML document per file is allowed", loc(event))
                continue
            if isinstance(event, AliasEvent):
                raise DataError("YAML aliases (*name) are not allowed", loc(event))
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise DataError(f"YAML anchors (&{anchor}) are not allowed", loc(event))
            tag = getattr(event, "tag", None)
            if tag is not None and tag != "!":
                raise DataError(f"YAML tags are not allowed ({tag})", loc(event))
            if isinstance(event, ScalarEvent):
                # A mapping key is kept as written: `true:` is the key "true", not "True".
                awaiting_key = bool(stack) and isinstance(stack[-1][0], YamlMap)
                awaiting_key = awaiting_key and stack[-1][1] is _NO_KEY
                attach(event.value if awaiting_key else _resolve(event), loc(event))
            elif isinstance(event, MappingStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise DataError(f"nesting deeper than {MAX_DEPTH} levels", loc(event))
                m = YamlMap(loc(event))
                attach(m, m.loc)
                stack.append([m, _NO_KEY, None])
            elif isinstance(event, SequenceStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise DataError(f"nesting deeper than {MAX_DEPTH} levels", loc(event))
                s = YamlList(loc(event))
                attach(s, s.loc)
                stack.append([s, _NO_KEY, None])
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                stack.pop()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        problem = exc.problem or exc.context or "invalid YAML"
        raise DataError(f"invalid YAML: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise DataError(f"invalid YAML: {exc}", Location(path)) from None
    except RecursionError:
        raise DataError(f"nesting deeper than {MAX_DEPTH} levels", Location(path)) from None
    return root if have_root else None


_NO_KEY = object()


def scalar_words(value: str, where: Location, line: str) -> list[tuple[str, Location]]:
    """The words of a one-line scalar written at ``where`` on ``line``, each at its own column
    when the text there is the value as written (else all at ``where``)."""
    start = where.column - 1
    if line[start : start + 1] in ("'", '"'):
        start += 1
    exact = line[start : start + len(value)] == value
    return [
        (
            word.group(),
            Location(where.path, where.line, start + word.start() + 1) if exact else where,
        )
        for word in re.finditer(r"\S+", value)
    ]


def load_yaml_file(path: str | Path, *, display: str | None = None) -> Any:
    """Read a UTF-8 YAML file; errors name ``display`` (default: the path as given)."""
    name = display if display is not None else str(path)
    return load_yaml_bytes(read_capped(path, name), name)


def read_capped(path: str | Path, name: str) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_BYTES`, or a :class:`DataError`.

    The cap is applied to what is read, not to what ``stat`` says: ``/dev/zero`` and
    ``/proc`` files report size 0 and never end. A FIFO, a device or a directory is refused
    before reading (the file is opened non-blocking, so opening a FIFO cannot hang either).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", Location(name)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise DataError(f"cannot read file: {what}", Location(name))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise DataError(f"cannot read file: {exc.strerror or exc}", Location(name)) from None
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        raise DataError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB", Location(name))
    return b"".join(chunks)


def load_yaml_bytes(raw: bytes, path: str) -> Any:
    """Decode UTF-8 (a BOM is allowed) and parse; bad bytes are an error with their line."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError("file is not valid UTF-8", Location(path, line, col)) from None
    return load_yaml(text, path)


# ---- writing -----------------------------------------------------------------------------------
# Block style (sequence items not indented past their key), every string double-quoted (JSON
# escaping is valid YAML 1.2), scalar lists in wrapped flow style. No anchors, no tags, one
# document: what the loader above accepts.
_WIDTH = 100


def dump_yaml(doc: dict[str, Any]) -> str:
    """``doc`` (plain dicts, lists, str, int, bool, None) as YAML text, keys in their order."""
    return "\n".join(_emit(doc)) + "\n"


def _scalar(value: Any) -> str:
    import json

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _emit(value: Any, indent: int = 0) -> list[str]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a mapping, got {type(value).__name__}")
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        head = f"{pad}{key}:"
        if isinstance(item, dict):
            if not item:
                lines.append(f"{head} {{}}")
            else:
                lines.append(head)
                lines.extend(_emit(item, indent + 2))
        elif isinstance(item, list):
            lines.extend(_emit_list(head, item, indent))
        else:
            lines.append(f"{head} {_scalar(item)}")
    return lines


def _emit_list(head: str, items: list[Any], indent: int) -> list[str]:
    pad = " " * indent
    if not items:
        return [f"{head} []"]
    if all(not isinstance(i, (dict, list)) for i in items):
        # Flow style, wrapped: continuation lines are indented past the key, as YAML requires.
        lines, line = [], f"{head} ["
        for n, item in enumerate(items):
            text = _scalar(item) + ("]" if n == len(items) - 1 else ",")
            if n > 0 and len(line) + 1 + len(text) > _WIDTH:
                lines.append(line)
                line = f"{pad}    {text}"
            else:
                line += ("" if line.endswith("[") else " ") + text
        return [*lines, line]
    lines = [head]
    for item in items:
        sub = _emit(item, indent + 2)
        lines.append(f"{pad}- {sub[0].lstrip()}")
        lines.extend(sub[1:])
    return lines
