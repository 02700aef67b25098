"""What Prefect must hold for an instance, given the store: which branch runs must wait for a
decision, which must end because their decision is recorded, and what disagrees.

Pure: (definition, state, the runs Prefect reports) -> a plan. The store is the one source of
truth; the flows apply the plan, and `samverkan doctor` prints it. Every branch run is keyed
by (instance, stage, party, n): n counts the runs that branch has had, so that two processes
planning at once ask Prefect for the same key, and Prefect creates it once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from samverkan.engine import InstanceState, kind_of
from samverkan.graph import Node
from samverkan.process_definitions.model import Definition, StateKind

# Prefect's state types, as its API names them.
FINAL_RUN_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
WAITING_RUN_STATES = frozenset({"PAUSED"})  # a suspended run: waiting for its form

OPEN_KINDS = (StateKind.ready, StateKind.active)
FINISHED_KINDS = (StateKind.done, StateKind.failed)


@dataclass(frozen=True)
class ObservedRun:
    """A branch run as Prefect reports it."""

    id: str
    stage: str
    party: str
    number: int  # n in the run's key: its place among the branch's runs
    state_type: str  # Prefect's StateType value: PAUSED, RUNNING, COMPLETED, …

    @property
    def final(self) -> bool:
        return self.state_type in FINAL_RUN_STATES


@dataclass(frozen=True)
class NewRun:
    node: Node
    number: int


@dataclass(frozen=True)
class EndRun:
    run: ObservedRun
    state_name: str  # the branch's state in the store, in Swedish, for the run's message
    succeeded: bool


@dataclass
class SyncPlan:
    create: list[NewRun] = field(default_factory=list)
    complete: list[EndRun] = field(default_factory=list)  # waiting runs whose decision is recorded
    cancel: list[tuple[ObservedRun, str]] = field(default_factory=list)  # runs that should not be waiting, and why
    disagreements: list[str] = field(default_factory=list)  # one Swedish line each, for doctor

    @property
    def in_agreement(self) -> bool:
        return not (self.create or self.complete or self.cancel)


def run_key(instance_id: str, node: Node, number: int) -> str:
    """The idempotency key of a branch's n-th run."""
    return f"{instance_id}/{node.stage}/{node.party}/{number}"


def parse_run_key(key: str | None) -> tuple[str, Node, int] | None:
    parts = (key or "").split("/")
    if len(parts) != 4 or not parts[3].isdigit():
        return None
    return parts[0], Node(parts[1], parts[2]), int(parts[3])


def open_branches(definition: Definition, state: InstanceState) -> list[Node]:
    """The branches waiting for someone's decision: a branch run must wait with a form for each."""
    return [node for node, current in state.items()
            if node.party is not None and kind_of(definition, definition.stage(node.stage), current.state) in OPEN_KINDS]


def plan_sync(definition: Definition, state: InstanceState, runs: list[ObservedRun]) -> SyncPlan:
    plan = SyncPlan()
    by_node: dict[Node, list[ObservedRun]] = defaultdict(list)
    for run in runs:
        node = Node(run.stage, run.party)
        if node not in state:
            plan.cancel.append((run, "grenen finns inte i processen"))
            plan.disagreements.append(f"{node.key}: körningen {run.id} hör inte till någon gren i processen")
            continue
        by_node[node].append(run)
    for node, current in state.items():
        if node.party is None:
            continue
        stage = definition.stage(node.stage)
        kind = kind_of(definition, stage, current.state)
        state_name = next(s.name for s in definition.lifecycle(stage.lifecycle).states if s.id == current.state)
        node_runs = sorted(by_node.get(node, []), key=lambda r: r.number)
        unfinished = [r for r in node_runs if not r.final]
        if kind in OPEN_KINDS:
            if not unfinished:
                plan.create.append(NewRun(node, max((r.number for r in node_runs), default=-1) + 1))
                plan.disagreements.append(f"{node.key}: väntar på beslut ({state_name}) men har ingen väntande körning")
            for extra in unfinished[:-1]:  # the newest one waits; older ones are leftovers
                plan.cancel.append((extra, "en nyare körning väntar på samma beslut"))
                plan.disagreements.append(f"{node.key}: {len(unfinished)} körningar väntar på samma beslut")
        elif kind in FINISHED_KINDS:
            for run in unfinished:
                if run.state_type in WAITING_RUN_STATES:
                    plan.complete.append(EndRun(run, state_name, kind is StateKind.done))
                    plan.disagreements.append(f"{node.key}: beslutet är registrerat ({state_name}) men körningen väntar fortfarande")
        else:  # waiting: the stage has not opened (or was corrected back); nothing may wait for it
            for run in unfinished:
                if run.state_type in WAITING_RUN_STATES:
                    plan.cancel.append((run, "grenen är inte öppen för beslut"))
                    plan.disagreements.append(f"{node.key}: körningen väntar men grenen är inte öppen ({state_name})")
    return plan
