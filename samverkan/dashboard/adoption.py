"""The adoption matrix: one row per party of the parallel stage where each party takes a
formal decision, with what it decided, where, when and under which §; and how many have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from samverkan.process_definitions.model import Definition, FieldType, RecordField, Stage, StateKind
from samverkan.engine import InstanceState, kind_of
from samverkan.graph import Node, branch_parties

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


def _columns(stage: Stage) -> list[tuple[str, RecordField]]:
    """Record fields as columns: the outcomes, the deciding body, the dates, the reference,
    then any other field, in the record's order within each."""
    groups = (
        [f for f in stage.record if f.success is not None],
        [f for f in stage.record if f.decision_body],
        [f for f in stage.record if f.type is FieldType.date],
        [f for f in stage.record if f.reference],
    )
    ordered: dict[str, RecordField] = {}  # the first group a field is in places it
    for spec in [*(f for g in groups for f in g), *stage.record]:
        ordered.setdefault(spec.id, spec)
    return [(_outcome_heading(f) if f.success is not None else f.name, f) for f in ordered.values()]


def _cell(record: Mapping[str, Any], spec: RecordField) -> str:
    value = record.get(spec.id)
    return str(value) if value not in (None, "") else NOTHING


def matrix(definition: Definition, state: InstanceState) -> list[dict[str, str]]:
    """Definition order of the parties: the one place everyone looks their own party up."""
    stage = adoption_stage(definition)
    if stage is None:
        return []
    columns = _columns(stage)
    states = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
    rows = []
    for party in branch_parties(definition, stage):
        current = state[Node(stage.id, party)]
        row = {"Part": definition.party(party).name}
        row.update({heading: _cell(current.record, spec) for heading, spec in columns})
        row["Status"] = states[current.state]
        rows.append(row)
    return rows


def progress(definition: Definition, state: InstanceState) -> Progress:
    stage = adoption_stage(definition)
    parties = branch_parties(definition, stage) if stage else []
    done = sum(kind_of(definition, stage, state[Node(stage.id, p)].state) is StateKind.done for p in parties)
    total = len(parties)
    return Progress(done, total, f"{done} av {total} har antagit", done / total if total else 0.0)
