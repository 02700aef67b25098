"""Reads a definition file: bytes -> UTF-8 -> YAML nodes -> plain data with line numbers ->
the pydantic model -> the checks across the document. Every problem found is reported as
`FILE:LINE: FIELD: what is wrong`, all of them at once, never a traceback."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from samverkan.errors import DefinitionError
from samverkan.text import shown_path

from .checks import check_definition
from .model import Definition
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
    try:
        definition = Definition.model_validate(data)
    except ValidationError as error:
        raise DefinitionError(*locator.describe_validation_errors(error)) from None
    problems = check_definition(definition, locator)
    if problems:
        raise DefinitionError(*problems)
    return LoadedDefinition(source, text, hashlib.sha256(text.encode("utf-8")).hexdigest(), definition)


