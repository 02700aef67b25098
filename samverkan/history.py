"""A history file: what already happened before the engine took over a process under way,
as back-dated transitions, applied in order by `samverkan start --history FILE`.

    illustrative: true        # optional: the decisions are invented examples, not the public record
    note: "Påhittad historik för att prova motorn."   # optional, shown with the mark
    started_at: 2025-10-17
    transitions:
      - {stage: memo, to: done, at: 2025-10-17}
      - {stage: adoption, party: umea, to: adopted, at: 2026-11-23, reference: "§187",
         fields: {decision_date: 2026-11-23, decision_body: Kommunfullmäktige, ...}}
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from samverkan.process_definitions.yaml_reader import decode, parse_yaml, read_file
from samverkan.clock import parse_moment
from samverkan.doors import HISTORY_FILE
from samverkan.engine import TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.i18n import N_, _
from samverkan.text import MAX_FIELD_VALUE, MAX_REASON, MAX_REFERENCE, MAX_SLUG, shown, shown_path, text_problem

MAX_BYTES = 1024 * 1024
KIND = "history file"


def _as_text(value: object, max_len: int, scalars: bool) -> str:
    """YAML reads 2026-11-23 as a date and 187 as a number; where a value is recorded as text,
    take them as written. Lists and mappings are a mistake in the file, whatever the field."""
    if isinstance(value, (list, dict)):
        raise ValueError(_("måste vara ett enda värde"))
    if value is None:
        raise ValueError(_("måste ha ett värde"))
    if isinstance(value, (dt.date, dt.datetime)):
        value = value.isoformat()
    elif scalars and isinstance(value, bool):  # before int: a bool is an int
        value = "true" if value else "false"
    elif scalars and isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(_("måste vara text (sätt den inom citattecken)"))
    problem = text_problem(value, max_len)
    if problem:
        raise ValueError(problem)
    return value


def _text(max_len: int, scalars: bool = False) -> BeforeValidator:
    return BeforeValidator(lambda value: _as_text(value, max_len, scalars))


def _moment(value: object) -> str:
    if isinstance(value, (str, dt.date)):
        return _as_text(value, 40, scalars=False)
    raise ValueError(_("måste vara ett datum eller klockslag: ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DDTHH:MM"))


Id = Annotated[str, _text(MAX_SLUG)]
Moment = Annotated[str, BeforeValidator(_moment)]  # parsed strictly by as_request
FieldValue = Annotated[str, _text(MAX_FIELD_VALUE, scalars=True)]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Id
    party: Id | None = None
    to: Id
    at: Moment
    reason: Annotated[str, _text(MAX_REASON, scalars=True)] | None = None
    reference: Annotated[str, _text(MAX_REFERENCE, scalars=True)] | None = None
    fields: dict[Annotated[str, _text(MAX_SLUG, scalars=True)], FieldValue] = Field(default_factory=dict)


class History(BaseModel):
    model_config = ConfigDict(extra="forbid")

    illustrative: StrictBool = Field(default=False, description="The decisions are invented examples, not the public record.")
    note: Annotated[str, _text(MAX_REASON)] | None = None
    started_at: Moment | None = None
    transitions: list[HistoryEntry] = Field(default_factory=list)


def load_history(path: Path) -> tuple[str, History]:
    """The same bounded reader as for definitions: a regular file of at most 1 MiB, aliases
    and nesting bounded, one line per problem."""
    source = shown_path(path)
    text = decode(read_file(path, MAX_BYTES, kind=KIND), source)
    data, _anchors = parse_yaml(text, source, kind=KIND)
    try:
        return source, History.model_validate(data if data is not None else {})
    except ValidationError as error:
        raise SamverkanError(*validation_problems(source, error)) from None


def validation_problems(source: str, error: ValidationError) -> list[str]:
    """One line per place in the file, with its first reason: `FILE: transitions[2].at: …`."""
    problems: dict[str, str] = {}
    for e in error.errors(include_url=False):
        problems.setdefault(_path(e["loc"]), _message(e))
    return [f"{source}: {where}: {why}" for where, why in problems.items()]


_MESSAGES = {
    "extra_forbidden": N_("okänt fält (felstavat?)"),
    "missing": N_("saknas; det krävs"),
    "model_type": N_("måste vara en mappning (nyckel: värde)"),
    "model_attributes_type": N_("måste vara en mappning (nyckel: värde)"),
    "dict_type": N_("måste vara en mappning (nyckel: värde)"),
    "list_type": N_("måste vara en lista"),
}


def _path(loc: tuple) -> str:
    """('transitions', 0, 'fields', 'x') as transitions[0].fields.x."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for a mapping's key rather than its value
            text += _(" (nyckeln)")
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else shown(part, 30)  # a key as written
            text += f".{name}" if text else name
    return text or _("översta nivån")


def _message(error: dict) -> str:
    if error["type"] == "value_error":
        return str(error["ctx"]["error"]) if "error" in error.get("ctx", {}) else error["msg"].removeprefix("Value error, ")
    return _(_MESSAGES[error["type"]]) if error["type"] in _MESSAGES else error["msg"]


def as_request(source: str, index: int, entry: HistoryEntry) -> TransitionRequest:
    where = f"{source}: transitions[{index}]"
    try:
        at = parse_moment(entry.at, f"{where}.at")
    except SamverkanError as error:
        raise SamverkanError(*error.problems) from None
    return TransitionRequest(
        stage=entry.stage,
        party=entry.party,
        to=entry.to,
        at=at,
        reason=entry.reason or _("Inläst historik"),
        reference=entry.reference,
        fields=dict(entry.fields),
        door=HISTORY_FILE,
    )
