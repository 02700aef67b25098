"""Reads a definition file: bytes -> UTF-8 -> YAML nodes -> plain data with line numbers ->
the pydantic model -> the checks across the document. Every problem found is reported as
`FILE:LINE: FIELD: what is wrong`, all of them at once, never a traceback."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from samverkan.errors import DefinitionError

from .checks import check_definition
from .model import Definition
from .paths import Locator

MAX_BYTES = 1024 * 1024  # a real definition is ~30 KiB; anything this big is a mistake
MAX_NODES = 200_000  # bounds alias expansion ("billion laughs")
MAX_DEPTH = 64  # a definition nests about 6 deep; bounds recursive aliases too

_SAFE = yaml.SafeLoader("")  # only for its scalar constructors


@dataclass(frozen=True)
class LoadedDefinition:
    source: str  # the file name as given, for messages
    text: str  # the exact text, so a running instance can keep what it started with
    sha256: str
    definition: Definition


def load_definition(path: str | Path) -> LoadedDefinition:
    source = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise DefinitionError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DefinitionError(f"{source}: is a folder, not a definition file") from None
    except OSError as error:
        raise DefinitionError(f"{source}: cannot read: {error.strerror or error}") from None
    return parse_definition(raw, source)


def parse_definition(raw: bytes | str, source: str = "<definition>") -> LoadedDefinition:
    text = _decode(raw, source) if isinstance(raw, bytes) else raw
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise DefinitionError(f"{source}: file is larger than the limit of {MAX_BYTES // 1024} KiB")
    data, locator = _parse_yaml(text, source)
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(*locator.describe_validation_errors(error)) from None
    problems = check_definition(definition, locator)
    if problems:
        raise DefinitionError(*problems)
    return LoadedDefinition(source, text, hashlib.sha256(text.encode("utf-8")).hexdigest(), definition)


def _decode(raw: bytes, source: str) -> str:
    if len(raw) > MAX_BYTES:
        raise DefinitionError(f"{source}: file is larger than the limit of {MAX_BYTES // 1024} KiB")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DefinitionError(
            f"{source}:{line}: not valid UTF-8 (byte 0x{raw[error.start]:02x} at offset {error.start}); save the file as UTF-8"
        ) from None


def _parse_yaml(text: str, source: str) -> tuple[Any, Locator]:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise DefinitionError(f"{source}:{line}: the file holds a NUL byte; it is not a text file")
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        raise DefinitionError(_syntax_error(error, text, source)) from None
    except yaml.YAMLError as error:
        raise DefinitionError(f"{source}: YAML syntax error: {error}") from None
    except RecursionError:
        raise DefinitionError(f"{source}: YAML nests too deep to be a process definition") from None
    if not documents or documents[0] is None:
        raise DefinitionError(f"{source}: the file is empty; expected a process definition")
    if len(documents) > 1:
        raise DefinitionError(f"{source}:{documents[1].start_mark.line + 1}: one definition per file, found a second YAML document")
    locator = Locator(source)
    converter = _Converter(locator)
    data = converter.convert(documents[0], ())
    locator.label_ids(data)  # before the problems are worded, so they read `stages[drafting]`
    if converter.problems:
        raise DefinitionError(*converter.describe())
    if not isinstance(data, dict):
        top = documents[0].start_mark.line + 1
        raise DefinitionError(f"{source}:{top}: expected a mapping of fields (format, id, version, …) at the top")
    return data, locator


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
        self.too_big = False

    def convert(self, node: yaml.Node, path: tuple) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES or len(path) > MAX_DEPTH:
            if not self.too_big:
                self.too_big = True
                self.problems.append((None, None,
                    f"the YAML is too large or nests too deep (limits: {MAX_NODES} nodes, depth {MAX_DEPTH}); aliases that expand too far?"))
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
