"""Drive a process the way project leads would: each stage and branch to its done state,
on the day the plan says it finishes, with the record its transition requires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pendulum

from samverkan.graph import Node
from samverkan.process_definitions.model import Definition, Stage, StateKind
from samverkan.planner import Actual, plan
from samverkan.simulation.records import decision_body, record_for


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
        steps.append(Step(stage.id, node.node.party, done_state(definition, stage), node.finish, record_for(stage, node.finish, number, decision_body(definition, stage, node.node.party))))
    return sorted(steps, key=lambda s: s.day)


def history_yaml(steps: list[Step]) -> str:
    lines = ["transitions:"]
    for step in steps:
        party = f", party: {step.party}" if step.party else ""
        fields = ", ".join(f'{k}: "{v}"' for k, v in step.fields.items())
        lines.append(f"  - {{stage: {step.stage}{party}, to: {step.to}, at: {step.day.isoformat()}, fields: {{{fields}}}}}")
    return "\n".join(lines) + "\n"
