"""Reads a definition file: bytes -> UTF-8 -> YAML nodes -> plain data with line numbers ->
the pydantic model -> the checks across the document. Every problem found is reported as
`FILE:LINE: FIELD: what is wrong`, all of them at once, never a traceback."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from samverkan.errors import DefinitionError
from samverkan.text import shown, shown_path

from .checks import check_definition
from .model import Definition
from .paths import Locator
from .yaml_reader import decode, parse_yaml, read_file

MAX_BYTES = 1024 * 1024  # a real definition is ~30 KiB; anything this big is a mistake
KIND = "process definition"


@dataclass(frozen=True)
class LoadedDefinition:
    source: str  # the file name as given, for messages
    text: str  # the exact text, so a running instance can keep what it started with
    sha256: str
    definition: Definition


def load_definition(path: str | Path) -> LoadedDefinition:
    return parse_definition(read_file(path, MAX_BYTES, DefinitionError, KIND), shown_path(path))


def parse_definition(raw: bytes | str, source: str = "<definition>") -> LoadedDefinition:
    if len(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise DefinitionError(f"{source}: file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MiB")
    text = decode(raw, source, DefinitionError) if isinstance(raw, bytes) else raw
    data, locator = parse_yaml(text, source, DefinitionError, KIND)
    if data is None:
        raise DefinitionError(f"{source}: the file is empty; expected a process definition")
    if not isinstance(data, dict):
        raise DefinitionError(f"{locator.at(locator.line(()))}: expected a mapping of fields (format, id, version, …) at the top")
    unprintable = _control_characters(data, locator)
    if unprintable:
        raise DefinitionError(*unprintable)
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(*locator.describe_validation_errors(error)) from None
    problems = check_definition(definition, locator)
    if problems:
        raise DefinitionError(*problems)
    return LoadedDefinition(source, text, hashlib.sha256(text.encode("utf-8")).hexdigest(), definition)




# What no text of a definition may hold: control characters (a line break in a party's name
# would end up in an e-mail header, an escape sequence in a terminal), bidirectional overrides
# and line or paragraph separators. A description or help text may run over several lines.
_NEVER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\t\n]")
_MULTI_LINE_KEYS = frozenset({"description", "help", "note"})
MAX_TEXT_PROBLEMS = 20


def _control_characters(data: Any, locator: Locator, path: tuple = ()) -> list[str]:
    """One line per text of the definition that holds a character it may not (see _NEVER)."""
    found: list[str] = []
    if isinstance(data, dict):
        items = list(data.items())
        for key, value in items:
            if isinstance(key, str) and (_NEVER.search(key) or _LINE_BREAK.search(key)):
                found.append(locator.problem(path, f"a key holds a control character: {shown(key)}"))
            found += _control_characters(value, locator, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _control_characters(value, locator, (*path, index))
    elif isinstance(data, str):
        bad = _NEVER.search(data)
        if bad is None and (not path or path[-1] not in _MULTI_LINE_KEYS):
            bad = _LINE_BREAK.search(data)
        if bad is not None:
            found.append(locator.problem(path, f"{shown(data)} holds a control or invisible character "
                                               f"({bad.group().encode('unicode_escape').decode('ascii')}); write it without"))
    return found[:MAX_TEXT_PROBLEMS]
