"""Drive a process the way project leads would: each stage and branch to its done state,
on the day the plan says it finishes, with the record its transition requires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pendulum

from samverkan.calendar import next_business_day
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


def planned_steps(definition: Definition, late: Mapping[Node, pendulum.Date] | None = None, minutes: bool = False) -> list[Step]:
    """Every node a person finishes (not the whole of a parallel stage), in planned order.
    late: nodes finished on another day than planned; what follows them is planned from that
    day (a party's signing follows its own adoption). minutes: each decision's minutes are
    registered too, as its secretary would (`minutes_step`)."""
    actuals = {node: Actual(finished=day) for node, day in (late or {}).items()}
    steps = []
    for number, node in enumerate(plan(definition, actuals).nodes, start=100):
        stage = definition.stage(node.node.stage)
        if stage.for_each and node.node.party is None:
            continue  # the engine finishes it when its branches meet the join rule
        steps.append(Step(stage.id, node.node.party, done_state(definition, stage), node.finish, record_for(stage, node.finish, number, decision_body(definition, stage, node.node.party))))
        if minutes and (after := minutes_step(definition, steps[-1])) is not None:
            steps.append(after)
    return sorted(steps, key=lambda s: s.day)


def minutes_step(definition: Definition, decision: Step) -> Step | None:
    """The minutes of a decision approved and announced on one day, three days after the
    meeting (the next business day from then), as the simulation registers them; None for a
    step whose lifecycle has no step for them."""
    stage = definition.stage(decision.stage)
    step = next((t for t in definition.lifecycle(stage.lifecycle).transitions
                 if t.source == [decision.to] and t.to == decision.to and t.fields and "announced" in t.fields), None)
    if step is None or "decision_date" not in decision.fields:
        return None
    day = next_business_day(decision.day.add(days=3))
    return Step(stage.id, decision.party, decision.to, day, {"minutes_approved": day.isoformat(), "announced": day.isoformat()})


def history_yaml(steps: list[Step]) -> str:
    lines = ["transitions:"]
    for step in steps:
        party = f", party: {step.party}" if step.party else ""
        fields = ", ".join(f'{k}: "{v}"' for k, v in step.fields.items())
        lines.append(f"  - {{stage: {step.stage}{party}, to: {step.to}, at: {step.day.isoformat()}, fields: {{{fields}}}}}")
    return "\n".join(lines) + "\n"
