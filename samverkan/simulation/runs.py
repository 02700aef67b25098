"""Runs of a process in simulated time, in memory: the engine's own rules applied to the acts
a script makes, from a start (a new instance, or what is recorded today) to a last day. No
store, no notices: a run costs milliseconds, so a forecast can run a thousand of them."""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import pendulum

from samverkan import engine
from samverkan.calendar import to_date
from samverkan.engine import InstanceState, NodeState
from samverkan.errors import SamverkanError
from samverkan.graph import Node
from samverkan.process_definitions.model import Definition, Stage, StateKind

from .scenario import Scenario
from .script import Act, Script, apply, local_day


@dataclass
class Run:
    state: dict[Node, NodeState]
    acts: list[Act] = field(default_factory=list)

    def done_on(self, node: Node) -> pendulum.Date | None:
        current = self.state[node]
        return local_day(current.completed_at) if current.completed_at else None


def fixed_day(stage: Stage) -> bool:
    """A stage that happens on a day fixed in advance (entry into force): not work anyone does."""
    return bool(stage.timing and stage.timing.day and not stage.record)


def default_until(definition: Definition) -> pendulum.Date | None:
    """A month after the last hard deadline: long enough to see who misses it; None without one."""
    hard = [to_date(s.deadline.date) for s in definition.stages if s.deadline and s.deadline.hard]
    return max(hard).add(months=1) if hard else None


def completed_on(definition: Definition, state: InstanceState) -> pendulum.Date | None:
    """The day the last work was done, once every node is done, has failed or stands outside;
    None while anything is still open. Days fixed in advance (entry into force) are not work."""
    away = engine.outside(definition, state)
    last = None
    for node, current in state.items():
        stage = definition.stage(node.stage)
        kind = definition.state_kind(stage.lifecycle, current.state)
        if kind is StateKind.done:
            if not fixed_day(stage) and current.completed_at:
                last = max(last or local_day(current.completed_at), local_day(current.completed_at))
        elif kind is not StateKind.failed and node not in away:
            return None
    return last


def run(definition: Definition, state: InstanceState, today: pendulum.Date, until: pendulum.Date, scenario: Scenario,
        rng: random.Random, script: Script | None = None) -> Run:
    """One run from `state` on `today` to `until`, acts applied in the order of their days."""
    result = Run(dict(state))
    script = script or Script(definition, scenario, rng)
    pending: list[tuple[pendulum.Date, int, Act]] = []
    order = 0

    def schedule(day: pendulum.Date, changed: list[Node] | None = None) -> None:
        nonlocal order
        for act in script.next_acts(result.state, day, changed):
            order += 1
            heapq.heappush(pending, (act.day, order, act))

    schedule(today)
    while pending and pending[0][0] <= until:
        _, _, act = heapq.heappop(pending)
        try:
            changes = engine.decide(definition, result.state, act.request(), act.at)
        except SamverkanError as error:
            raise SamverkanError(f"simulation: {act.node.key} → {act.to} on {act.day}: {error.problems[0]}") from None
        apply(result.state, changes)
        result.acts.append(act)
        schedule(act.day, [c.node for c in changes])
    return result


def runs(definition: Definition, state: InstanceState, today: pendulum.Date, until: pendulum.Date, scenario: Scenario,
         count: int, seed: int) -> list[Run]:
    """`count` runs, each with its own stream of random numbers from one seed: run i is the
    same whatever the count, so a larger forecast extends a smaller one."""
    return [run(definition, state, today, until, scenario, random.Random(f"{seed}:{i}")) for i in range(count)]
