"""Drive a process the way project leads would: each stage and branch to its done state,
on the day the plan says it finishes, with the record its transition requires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pendulum

from samverkan.graph import Node
from samverkan.process_definitions.model import Definition, FieldType, Stage, StateKind
from samverkan.planner import Actual, plan


@dataclass(frozen=True)
class Step:
    stage: str
    party: str | None
    to: str
    day: pendulum.Date
    fields: dict[str, str]

    def args(self, instance: str) -> list[str]:
        args = ["transition", instance, self.stage, "--to", self.to, "--at", self.day.isoformat()]
        if self.party:
            args += ["--party", self.party]
        for key, value in self.fields.items():
            args += ["--field", f"{key}={value}"]
        return args


def done_state(definition: Definition, stage: Stage) -> str:
    return next(s.id for s in definition.lifecycle(stage.lifecycle).states if s.kind is StateKind.done)


def record_for(stage: Stage, day: pendulum.Date, number: int, body: str | None = None) -> dict[str, str]:
    """The decision's record. Optional dates are left out: they are what happens after the
    decision (the minutes approved, the approval announced), recorded by a later step."""
    values = {}
    for field in stage.record:
        if field.type is FieldType.date and not field.required:
            continue
        if field.type is FieldType.date:
            values[field.id] = day.isoformat()
        elif field.type is FieldType.choice:
            values[field.id] = field.choices[0]
        elif field.reference:
            values[field.id] = f"§{number}"
        else:
            values[field.id] = (body or "Kommunfullmäktige") if "body" in field.id else "Dnr 2026/17"
    return values


def _body(definition: Definition, stage: Stage, party: str | None) -> str | None:
    """The body the definition says decides: the branch's party's, or the stage owner's."""
    return definition.party(party or stage.owner).decision_body


def planned_steps(definition: Definition, late: Mapping[Node, pendulum.Date] | None = None) -> list[Step]:
    """Every node a person finishes (not the whole of a parallel stage), in planned order.
    late: nodes finished on another day than planned; what follows them is planned from that
    day (a party's signing follows its own adoption)."""
    actuals = {node: Actual(finished=day) for node, day in (late or {}).items()}
    steps = []
    for number, node in enumerate(plan(definition, actuals).nodes, start=100):
        stage = definition.stage(node.node.stage)
        if stage.for_each and node.node.party is None:
            continue  # the engine finishes it when its branches meet the join rule
        steps.append(Step(stage.id, node.node.party, done_state(definition, stage), node.finish, record_for(stage, node.finish, number, _body(definition, stage, node.node.party))))
    return sorted(steps, key=lambda s: s.day)


def history_yaml(steps: list[Step]) -> str:
    lines = ["transitions:"]
    for step in steps:
        party = f", party: {step.party}" if step.party else ""
        fields = ", ".join(f'{k}: "{v}"' for k, v in step.fields.items())
        lines.append(f"  - {{stage: {step.stage}{party}, to: {step.to}, at: {step.day.isoformat()}, fields: {{{fields}}}}}")
    return "\n".join(lines) + "\n"
