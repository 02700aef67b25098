"""The one bounded reader for every YAML file the program reads (definitions, histories):
a regular file only, checked before it is opened (a FIFO would hang, /dev/zero would never
end); at most `max_bytes`, read no further; UTF-8; one document; aliases expanded to at most
MAX_NODES values and MAX_DEPTH levels; plain data with the line of every path, for messages."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from samverkan.errors import SamverkanError
from samverkan.text import shown_path

from .paths import Locator

MAX_NODES = 200_000  # bounds alias expansion ("billion laughs")
MAX_DEPTH = 64  # real files nest about 6 deep; bounds recursive aliases too
MAX_CHARS = 4 * 1024 * 1024  # text after alias expansion: one long string aliased 30,000 times is not a file

_SAFE = yaml.SafeLoader("")  # only for its scalar constructors


def read_file(path: str | Path, max_bytes: int, error: type[SamverkanError] = SamverkanError, kind: str = "file") -> bytes:
    """At most `max_bytes` of a regular file; anything else is refused before it is read."""
    source = shown_path(path)
    try:
        info = os.stat(path)  # follows a symbolic link: what it points at must be a regular file
    except FileNotFoundError:
        raise error(f"{source}: no such file") from None
    except OSError as problem:
        raise error(f"{source}: cannot read: {problem.strerror or problem}") from None
    _check_regular(info, source, max_bytes, error, kind)
    try:
        # O_NONBLOCK: should the file be swapped for a FIFO after the check, opening it must not hang.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as problem:
        raise error(f"{source}: cannot read: {problem.strerror or problem}") from None
    with os.fdopen(descriptor, "rb") as handle:
        _check_regular(os.fstat(handle.fileno()), source, max_bytes, error, kind)
        try:
            raw = handle.read(max_bytes + 1)
        except OSError as problem:
            raise error(f"{source}: cannot read: {problem.strerror or problem}") from None
    if len(raw) > max_bytes:
        raise error(f"{source}: file is larger than the limit of {_size(max_bytes)}")
    return raw


def _check_regular(info: os.stat_result, source: str, max_bytes: int, error: type[SamverkanError], kind: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{source}: is a folder, not a {kind}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{source}: is not a regular file (a device, pipe or socket); give a {kind}")
    if info.st_size > max_bytes:
        raise error(f"{source}: file is larger than the limit of {_size(max_bytes)}")


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count % (1024 * 1024) == 0 else f"{count // 1024} KiB"


def decode(raw: bytes, source: str, error: type[SamverkanError] = SamverkanError) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as problem:
        line = raw[: problem.start].count(b"\n") + 1
        raise error(f"{source}:{line}: not valid UTF-8 (byte 0x{raw[problem.start]:02x} at offset {problem.start}); "
                    "save the file as UTF-8") from None
    return text


def parse_yaml(text: str, source: str, error: type[SamverkanError] = SamverkanError, kind: str = "file") -> tuple[Any, Locator]:
    """One YAML document as plain data (None when empty), with the line of every path."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise error(f"{source}:{line}: the file holds a NUL byte; it is not a text file")
    try:
        documents = _compose(text)
    except yaml.MarkedYAMLError as problem:
        raise error(_syntax_error(problem, text, source)) from None
    except yaml.YAMLError as problem:
        raise error(f"{source}: YAML syntax error: {problem}") from None
    except RecursionError:
        raise error(f"{source}: YAML nests too deep to be a {kind}") from None
    if len(documents) > 1:
        raise error(f"{source}:{documents[1].start_mark.line + 1}: one {kind.removesuffix(' file')} per file, found a second YAML document")
    locator = Locator(source)
    if not documents or documents[0] is None:
        return None, locator
    converter = _Converter(locator)
    data = converter.convert(documents[0], ())
    locator.label_ids(data)  # before the problems are worded, so they read `stages[drafting]`
    if converter.problems:
        raise error(*converter.describe())
    return data, locator


def _compose(text: str) -> list:
    """The documents' nodes: by libyaml when it is there (ten times faster on a definition with
    meeting calendars), else, and for any problem, by the pure-Python parser, whose messages
    say where and what in the words the error lines use."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return list(yaml.compose_all(text, Loader=fast))
        except (yaml.YAMLError, RecursionError):
            pass
    return list(yaml.compose_all(text, Loader=yaml.SafeLoader))


def _syntax_error(error: yaml.MarkedYAMLError, text: str, source: str) -> str:
    context, problem = error.context_mark, error.problem_mark
    # At the end of the file (an unclosed quote or bracket) the place the construct began is the
    # one to look at; otherwise the problem's own place, naming where the construct began.
    at_end = problem is not None and problem.index >= len(text)
    mark = context if context and (at_end or not problem) else problem
    what = error.context or ""
    if what and context and mark is not context and context.line != mark.line:
        what += f" (from line {context.line + 1})"
    what = " ".join(filter(None, [what, error.problem]))
    return f"{source}:{mark.line + 1}: YAML syntax error: {what}" if mark else f"{source}: YAML syntax error: {what}"


class _Converter:
    """YAML nodes to plain data, remembering the line of every path for error messages."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self.problems: list[tuple[int | None, tuple | None, str]] = []  # line, field path, message
        self.nodes = 0
        self.chars = 0
        self.too_big = False

    def convert(self, node: yaml.Node, path: tuple) -> Any:
        self.nodes += 1
        if isinstance(node, yaml.ScalarNode):
            self.chars += len(node.value)
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH or self.chars > MAX_CHARS:
            if not self.too_big:
                self.too_big = True
                self.problems.append((None, None,
                    f"the YAML is too large or nests too deep (limits: {MAX_NODES} nodes, {MAX_CHARS // (1024 * 1024)} MiB of text, "
                    f"depth {MAX_DEPTH}); aliases that expand too far?"))
            return None
        self.locator.remember(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: tuple) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append((line, path, "merge keys (<<) are not supported"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append((line, path, "a key must be a plain word"))
                continue
            # The raw text, not YAML 1.1's reading: `on:` is a key here, not the boolean true.
            key = key_node.value
            if key in result:
                self.problems.append((line, (*path, key), f"duplicate key {key!r}"))
                continue
            self.locator.remember((*path, key), line)
            result[key] = self.convert(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: tuple) -> Any:
        try:
            return _SAFE.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as error:
            line = node.start_mark.line + 1
            kind = "date" if node.tag.endswith(":timestamp") else "value"
            reason = error.problem if isinstance(error, yaml.MarkedYAMLError) else error  # without YAML's own "in <unicode string>, line …"
            self.problems.append((line, path, f"invalid {kind} {node.value!r}: {reason}"))
            return None

    def describe(self) -> list[str]:
        return [
            f"{self.locator.at(line)}: {self.locator.dotted(path) or 'top'}: {message}" if path is not None
            else f"{self.locator.at(line)}: {message}"
            for line, path, message in self.problems
        ]
