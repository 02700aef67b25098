"""The adoption matrix: one row per party of the parallel stage where each party takes a
formal decision, with what it decided, where, when and under which §; and how many have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pendulum

from samverkan.calendar.appeal import APPEAL_CASE, APPEAL_COURT, APPEAL_DECIDED
from samverkan.process_definitions.model import Definition, FieldType, RecordField, Stage, StateKind
from samverkan.engine import InstanceState, kind_of
from samverkan.graph import Node, branch_parties
from samverkan.outcomes import warning_labels
from samverkan.status import finality_of, tracks_finality
from samverkan.i18n import N_, _

from .words import NOTHING


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    text: str  # "9 av 16 har antagit"
    fraction: float  # 0..1


def adoption_stage(definition: Definition) -> Stage | None:
    """The parallel stage whose record names a deciding body (each party decides formally);
    failing that, the last parallel stage; None for a process without one."""
    parallel = [s for s in definition.stages if s.for_each]
    return next((s for s in parallel if any(f.decision_body for f in s.record)), parallel[-1] if parallel else None)


def _outcome_heading(spec: RecordField) -> str:
    # "Beslut om överenskommelsen" is a form's label; in a matrix of decisions "Överenskommelsen" says it.
    name = spec.name.removeprefix("Beslut om ").strip()
    return name[:1].upper() + name[1:]


LAGA_KRAFT = N_("Laga kraft")

# What the registrar files (the decision register, samverkan.dashboard.register) and an appeal's
# court and case (said in the column "Laga kraft"): not columns of the matrix.
REGISTRATION_NUMBER = "registration_number"
EXTRACT_RECEIVED = "extract_received"
SIGNED_BY = "signed_by"
SIGNED_ON = "signed_on"
FILING_FIELDS = (REGISTRATION_NUMBER, EXTRACT_RECEIVED, SIGNED_BY, SIGNED_ON)
NOT_IN_MATRIX = frozenset({*FILING_FIELDS, APPEAL_COURT, APPEAL_CASE, APPEAL_DECIDED})


def _recorded_later(definition: Definition, stage: Stage) -> set[str]:
    """The fields a later step adds to a finished decision's record (its announcement)."""
    return {f for t in definition.lifecycle(stage.lifecycle).transitions for f in t.fields or []}


def _columns(definition: Definition, stage: Stage) -> list[tuple[str, RecordField]]:
    """Record fields as columns: the outcomes, the deciding body, the dates, the reference,
    the fields recorded after the decision (protokollet justerat, justeringen anslagen), then
    any other field, in the record's order within each."""
    later = _recorded_later(definition, stage)
    groups = (
        [f for f in stage.record if f.success is not None],
        [f for f in stage.record if f.decision_body],
        [f for f in stage.record if f.type is FieldType.date and f.id not in later],
        [f for f in stage.record if f.reference],
        [f for f in stage.record if f.id in later],
    )
    # The counterparty's answer to amendments is not the party's decision: the status says it.
    answers = {f for t in definition.lifecycle(stage.lifecycle).transitions if t.by == "counterparty" for f in t.fields or []}
    ordered: dict[str, RecordField] = {}  # the first group a field is in places it
    for spec in [*(f for g in groups for f in g), *stage.record]:
        if spec.id not in NOT_IN_MATRIX and spec.id not in answers:
            ordered.setdefault(spec.id, spec)
    return [(_outcome_heading(f) if f.success is not None else f.name, f) for f in ordered.values()]


def _cell(record: Mapping[str, Any], spec: RecordField) -> str:
    value = record.get(spec.id)
    return str(value) if value not in (None, "") else NOTHING


def final_text(definition: Definition, stage: Stage, current, today: pendulum.Date) -> str:
    """The day the decision became final (laga kraft); before that, when at the earliest, or
    that a court tries it; '–' until the approval of the minutes is announced."""
    f = finality_of(definition, stage, current, today)
    return (f.final_text if f is not None else None) or NOTHING


def matrix(definition: Definition, state: InstanceState, today: pendulum.Date) -> list[dict[str, str]]:
    """Definition order of the parties: the one place everyone looks their own party up.
    `today` says whether an announced decision is final yet."""
    stage = adoption_stage(definition)
    if stage is None:
        return []
    columns = _columns(definition, stage)
    states = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
    rows = []
    for party in branch_parties(definition, stage):
        current = state[Node(stage.id, party)]
        row = {_("Part"): definition.party(party).name}
        row.update({heading: _cell(current.record, spec) for heading, spec in columns})
        if tracks_finality(stage):
            row[_(LAGA_KRAFT)] = final_text(definition, stage, current, today)
        warned = warning_labels(current.record)
        row[_("Status")] = states[current.state] + "".join(f" – varning: {label}" for label in warned)
        rows.append(row)
    return rows


def progress(definition: Definition, state: InstanceState) -> Progress:
    stage = adoption_stage(definition)
    parties = branch_parties(definition, stage) if stage else []
    done = sum(kind_of(definition, stage, state[Node(stage.id, p)].state) is StateKind.done for p in parties)
    total = len(parties)
    return Progress(done, total, _("{done} av {total} har antagit", done=done, total=total), done / total if total else 0.0)
