"""A history file: what already happened before the engine took over a process under way,
as back-dated transitions, applied in order by `samverkan start --history FILE`.

    started_at: 2025-10-17
    transitions:
      - {stage: memo, to: done, at: 2025-10-17}
      - {stage: adoption, party: umea, to: adopted, at: 2026-11-23, reference: "§187",
         fields: {decision_date: 2026-11-23, decision_body: Kommunfullmäktige, ...}}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Union

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from samverkan.clock import parse_moment
from samverkan.engine import TransitionRequest
from samverkan.errors import SamverkanError

MAX_BYTES = 1024 * 1024


def _text(value: object) -> object:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


Scalar = Annotated[str, BeforeValidator(_text)]
Moment = Annotated[str, BeforeValidator(_text)]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str
    party: str | None = None
    to: str
    at: Moment
    reason: str | None = None
    reference: Scalar | None = None
    fields: dict[str, Union[Scalar, int]] = Field(default_factory=dict)


class History(BaseModel):
    model_config = ConfigDict(extra="forbid")

    started_at: Moment | None = None
    transitions: list[HistoryEntry] = Field(default_factory=list)


def load_history(path: Path) -> tuple[str, History]:
    source = str(path)
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as error:
        raise SamverkanError(f"{source}: cannot read: {error.strerror or error}") from None
    if len(raw) > MAX_BYTES:
        raise SamverkanError(f"{source}: file is larger than the limit of 1 MiB")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SamverkanError(f"{source}: not valid UTF-8; save the file as UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise SamverkanError(f"{source}{f':{mark.line + 1}' if mark else ''}: YAML syntax error: {getattr(error, 'problem', error)}") from None
    try:
        return source, History.model_validate(data if data is not None else {})
    except ValidationError as error:
        first = error.errors(include_url=False)
        raise SamverkanError(*(
            f"{source}: {'.'.join(str(p) for p in e['loc']) or 'top'}: {e['msg']}" for e in first
        )) from None


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
        reason=entry.reason or "Inläst historik",
        reference=entry.reference,
        fields={k: str(v) for k, v in entry.fields.items()},
    )
