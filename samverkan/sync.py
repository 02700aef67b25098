"""What Prefect must hold for an instance, given the store: which branch runs must wait for a
decision, which must end because their decision is recorded, which have lost their process,
and what disagrees.

Pure: (definition, state, the runs Prefect reports) -> a plan. The store is the one source of
truth; the flows apply the plan, and `samverkan doctor` prints it. Every branch run is keyed
by (instance, stage, party, n): n counts the runs that branch has had, so that two processes
planning at once ask Prefect for the same key, and Prefect creates it once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from samverkan.engine import InstanceState, kind_of
from samverkan.graph import Node
from samverkan.process_definitions.model import Definition, StateKind

# Prefect's state types, as its API names them.
FINAL_RUN_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
WAITING_RUN_STATES = frozenset({"PAUSED"})  # a suspended run: waiting for its form
ACTIVE_RUN_STATES = frozenset({"PENDING", "RUNNING"})  # a process has (or had) the run
UNSUCCESSFUL_RUN_STATES = frozenset({"FAILED", "CRASHED"})

OPEN_KINDS = (StateKind.ready, StateKind.active)
FINISHED_KINDS = (StateKind.done, StateKind.failed)

# A run with no process of its own in sight (another machine) counts as stranded once it has
# given no sign of life, neither a change of state nor a heartbeat, for this long. The flows
# send heartbeats every 30 s (PREFECT_FLOWS_HEARTBEAT_FREQUENCY, see prefect.yaml), and a
# branch or transition run takes seconds, so four missed heartbeats mean its process is gone.
STRANDED_AFTER = dt.timedelta(seconds=120)


def is_stranded(state_type: str, entered: dt.datetime | None, now: dt.datetime, alive: bool | None,
                last_heartbeat: dt.datetime | None, after: dt.timedelta = STRANDED_AFTER) -> bool:
    """Whether a run Prefect shows as Pending or Running has no live process behind it: its
    process is known to be gone (`alive` False), or, where that cannot be told, nothing has
    been heard of it for `after`."""
    if state_type not in ACTIVE_RUN_STATES or alive is True:
        return False
    if alive is False:
        return True
    signs = [moment for moment in (entered, last_heartbeat) if moment is not None]
    return bool(signs) and now - max(signs) > after


@dataclass(frozen=True)
class ObservedRun:
    """A branch run as Prefect reports it."""

    id: str
    stage: str
    party: str
    number: int  # n in the run's key: its place among the branch's runs
    state_type: str  # Prefect's StateType value: PAUSED, RUNNING, COMPLETED, …
    stranded: bool = False  # Pending or Running with no live process behind it (is_stranded)

    @property
    def final(self) -> bool:
        return self.state_type in FINAL_RUN_STATES

    @property
    def live(self) -> bool:
        """Waiting for its form, or in the hands of a process that is still there."""
        return not self.final and not self.stranded


@dataclass(frozen=True)
class NewRun:
    node: Node
    number: int


@dataclass(frozen=True)
class EndRun:
    run: ObservedRun
    state_name: str  # the branch's state in the store, in Swedish, for the run's message
    succeeded: bool
    force: bool = False  # out of a state Prefect would not leave on its own (crashed, stranded)


@dataclass
class SyncPlan:
    create: list[NewRun] = field(default_factory=list)
    complete: list[EndRun] = field(default_factory=list)  # waiting runs whose decision is recorded
    cancel: list[tuple[ObservedRun, str]] = field(default_factory=list)  # runs that should not be waiting, and why
    crash: list[ObservedRun] = field(default_factory=list)  # stranded runs of branches still undecided
    disagreements: list[str] = field(default_factory=list)  # one Swedish line each, for doctor

    @property
    def in_agreement(self) -> bool:
        return not (self.create or self.complete or self.cancel or self.crash)


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


def _stranded_line(node: Node, run: ObservedRun) -> str:
    return f"{node.key}: körningen {run.id} står som {run.state_type} men ingen process kör den längre"


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
        if kind in FINISHED_KINDS:
            for run in node_runs:
                if run.state_type in WAITING_RUN_STATES:
                    plan.complete.append(EndRun(run, state_name, kind is StateKind.done))
                    plan.disagreements.append(f"{node.key}: beslutet är registrerat ({state_name}) men körningen väntar fortfarande")
                elif run.stranded:
                    plan.complete.append(EndRun(run, state_name, kind is StateKind.done, force=True))
                    plan.disagreements.append(_stranded_line(node, run))
            newest = node_runs[-1] if node_runs else None
            if newest is not None and newest.state_type in UNSUCCESSFUL_RUN_STATES:
                # Its process died after the decision was recorded (or a worker was killed under
                # it): the run's outcome is the decision, which the store holds.
                plan.complete.append(EndRun(newest, state_name, kind is StateKind.done, force=True))
                plan.disagreements.append(f"{node.key}: beslutet är registrerat ({state_name}) men körningen står som {newest.state_type}")
            continue
        for run in node_runs:
            if run.stranded:
                plan.crash.append(run)
                plan.disagreements.append(_stranded_line(node, run))
        live = [r for r in node_runs if r.live]
        if kind in OPEN_KINDS:
            if not live:
                plan.create.append(NewRun(node, max((r.number for r in node_runs), default=-1) + 1))
                plan.disagreements.append(f"{node.key}: väntar på beslut ({state_name}) men har ingen väntande körning")
            for extra in live[:-1]:  # the newest one waits; older ones are leftovers
                plan.cancel.append((extra, "en nyare körning väntar på samma beslut"))
                plan.disagreements.append(f"{node.key}: {len(live)} körningar väntar på samma beslut")
        else:  # waiting: the stage has not opened (or was corrected back); nothing may wait for it
            for run in live:
                if run.state_type in WAITING_RUN_STATES:
                    plan.cancel.append((run, "grenen är inte öppen för beslut"))
                    plan.disagreements.append(f"{node.key}: körningen väntar men grenen är inte öppen ({state_name})")
    return plan
