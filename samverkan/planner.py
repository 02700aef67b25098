"""The planner: from a definition, the dates of what is already done, and a day to plan from,
compute every stage's and branch's start, deadline, reminders, slack and whether it lies on
the critical path to entry into force; report any hard deadline the plan cannot meet.

A pure function of (definition, actuals, as_of). The method is the critical path method:
a forward pass gives each node's earliest start and planned finish; a backward pass from the
hard deadlines gives its latest finish; slack is the difference, in calendar days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pendulum

from process_definitions.model import Adjust, Basis, Definition, Stage
from samverkan.calendar import legal_due, previous_business_day, to_date
from samverkan.graph import Node, branch_parties, dependants, stage_order
from samverkan.reminders import Reminder, reminder_schedule


@dataclass(frozen=True)
class Actual:
    """What has really happened to a node: the day its transitions recorded it done.

    When work on a node began does not move its plan: a period (a referral's twelve weeks)
    runs from when the node could start, which the dependencies' actual dates already give."""

    finished: pendulum.Date | None = None


@dataclass
class PlannedNode:
    node: Node
    name: str
    party_name: str | None
    depends_on: list[str]
    start: pendulum.Date
    finish: pendulum.Date  # planned (or actual) finish
    nominal_deadline: pendulum.Date
    deadline: pendulum.Date  # after the move for weekends, holidays and eves
    deadline_basis: Basis
    deadline_reason: str | None
    hard: bool
    completed: pendulum.Date | None
    span_days: int  # the planned length, before actual dates: what the backward pass subtracts
    latest_finish: pendulum.Date | None = None
    critical: bool = False
    reminders: tuple[Reminder, ...] = ()

    @property
    def slack_days(self) -> int | None:
        return None if self.latest_finish is None else self.latest_finish.toordinal() - self.finish.toordinal()


@dataclass(frozen=True)
class Infeasibility:
    node: Node
    finish: pendulum.Date
    deadline: pendulum.Date
    cause: Node

    @property
    def days_late(self) -> int:
        return (self.finish - self.deadline).days


@dataclass
class Plan:
    definition: Definition
    as_of: pendulum.Date | None
    nodes: list[PlannedNode]
    infeasible: list[Infeasibility]

    def get(self, stage: str, party: str | None = None) -> PlannedNode:
        return next(n for n in self.nodes if n.node == Node(stage, party))


def plan(
    definition: Definition,
    actuals: Mapping[Node, Actual] | None = None,
    as_of: pendulum.Date | None = None,
) -> Plan:
    actuals = actuals or {}
    as_of = to_date(as_of) if as_of is not None else None
    planned: dict[Node, PlannedNode] = {}
    ordered: list[PlannedNode] = []
    schedules: dict[tuple[str, pendulum.Date], tuple[Reminder, ...]] = {}  # branches mostly share one
    for stage_id in stage_order(definition):
        stage = definition.stage(stage_id)
        ready_on = max((planned[Node(d, None)].finish for d in stage.depends_on), default=None)
        parties = branch_parties(definition, stage)
        branches = [_forward(definition, stage, party, ready_on, actuals, as_of, schedules) for party in parties]
        if branches:
            whole = _join(stage, branches, actuals)
        else:
            whole = _forward(definition, stage, None, ready_on, actuals, as_of, schedules)
        for item in (whole, *branches):
            planned[item.node] = item
            ordered.append(item)
    _backward(definition, planned)
    _mark_critical(definition, planned)
    return Plan(definition, as_of, ordered, _infeasible(definition, planned))


def _forward(
    definition: Definition,
    stage: Stage,
    party: str | None,
    ready_on: pendulum.Date | None,
    actuals: Mapping[Node, Actual],
    as_of: pendulum.Date | None,
    schedules: dict[tuple[str, pendulum.Date], tuple[Reminder, ...]],
) -> PlannedNode:
    node = Node(stage.id, party)
    actual = actuals.get(node, Actual())
    timing = stage.timing
    anchor = None
    if timing is not None:
        anchor = timing.on or (timing.window.start if timing.window else None) or timing.not_before
    candidates = [to_date(d) for d in (ready_on, anchor) if d is not None]
    start = max(candidates)

    period = timing.duration_period if timing else None
    if period is not None:
        due = legal_due(start, period)
        finish, nominal, deadline, reason = due.due, due.nominal, due.due, due.reason
    else:
        fixed_day = timing.on if timing and timing.on else (timing.window.end if timing and timing.window else None)
        finish = max(start, to_date(fixed_day)) if fixed_day else start
        nominal = deadline = to_date(fixed_day) if fixed_day else start
        reason = None
    basis = timing.basis if timing else Basis.estimate
    if stage.deadline is not None:
        nominal = to_date(stage.deadline.date)
        deadline, reason = _adjusted(nominal, stage.deadline.adjust)
        basis = stage.deadline.basis

    span_days = finish.toordinal() - start.toordinal()
    completed = actual.finished
    if completed is not None:
        finish = completed
    elif as_of is not None and finish < as_of:
        finish = as_of  # what is not done cannot finish in the past
    item = PlannedNode(
        node=node,
        name=stage.name,
        party_name=definition.party(party).name if party else None,
        depends_on=list(stage.depends_on),
        start=start,
        finish=finish,
        nominal_deadline=nominal,
        deadline=deadline,
        deadline_basis=basis,
        deadline_reason=reason,
        hard=bool(stage.deadline and stage.deadline.hard),
        completed=completed,
        span_days=span_days,
    )
    if completed is None:
        if (stage.id, deadline) not in schedules:
            schedules[stage.id, deadline] = reminder_schedule(definition.reminder_policy(stage), deadline)
        item.reminders = schedules[stage.id, deadline]
    return item


def _adjusted(nominal: pendulum.Date, adjust: Adjust) -> tuple[pendulum.Date, str | None]:
    if adjust is Adjust.forward:
        due = legal_due(nominal)
        return due.due, due.reason
    if adjust is Adjust.backward:
        moved = previous_business_day(nominal)
        if moved != nominal:
            return moved, f"{nominal} is not a business day; a limit that cannot be passed moves back to {moved}"
    return nominal, None


def _join(stage: Stage, branches: list[PlannedNode], actuals: Mapping[Node, Actual]) -> PlannedNode:
    """The parallel stage as a whole: done when its join rule is met by its branches."""
    join = stage.for_each.join
    needed = len(branches) if join == "all" else 1 if join == "any" else join
    finishes = sorted(b.finish for b in branches)
    latest = max(branches, key=lambda b: b.deadline)  # branches differ only where actual starts do
    completed = actuals.get(Node(stage.id, None), Actual()).finished
    return PlannedNode(
        node=Node(stage.id, None),
        name=stage.name,
        party_name=None,
        depends_on=list(stage.depends_on),
        start=min(b.start for b in branches),
        finish=completed or finishes[needed - 1],
        nominal_deadline=latest.nominal_deadline,
        deadline=latest.deadline,
        deadline_basis=latest.deadline_basis,
        deadline_reason=latest.deadline_reason,
        hard=latest.hard,
        completed=completed,
        span_days=max(b.span_days for b in branches),
    )


def _backward(definition: Definition, planned: dict[Node, PlannedNode]) -> None:
    """Latest finish of every node: the tightest of its own hard deadline and what the stages
    after it need. A node with neither has no latest finish (its slack is unbounded)."""
    after = dependants(definition)
    latest_start: dict[str, pendulum.Date | None] = {}
    for stage_id in reversed(stage_order(definition)):
        stage = definition.stage(stage_id)
        limits = [latest_start[d] for d in after[stage_id] if latest_start.get(d) is not None]
        whole = planned[Node(stage_id, None)]
        if whole.hard:
            limits.append(whole.deadline)
        latest = min(limits) if limits else None
        members = [planned[Node(stage_id, p)] for p in branch_parties(definition, stage)]
        starts = []
        for item in (whole, *members):
            item.latest_finish = latest
            if latest is not None:
                starts.append(latest.subtract(days=item.span_days))
        latest_start[stage_id] = min(starts) if starts else None


def _mark_critical(definition: Definition, planned: dict[Node, PlannedNode]) -> None:
    """Critical: the open work with the least slack, the chain where any slip moves the end.

    Events pinned to a fixed day (entry into force on 2027-01-01) have no slack by
    construction and would make every chain look loose, so they do not set the minimum;
    the final stages are on the critical path by definition."""
    finals = {stage_id for stage_id, after in dependants(definition).items() if not after}
    open_nodes = [n for n in planned.values() if n.completed is None and n.slack_days is not None]
    measured = [n.slack_days for n in open_nodes if not _pinned(definition.stage(n.node.stage))]
    least = min(measured, default=None)
    for item in open_nodes:
        item.critical = item.node.stage in finals or item.slack_days == least


def _pinned(stage: Stage) -> bool:
    return bool(stage.timing and stage.timing.on and stage.timing.basis is Basis.fixed)


def _infeasible(definition: Definition, planned: dict[Node, PlannedNode]) -> list[Infeasibility]:
    """Hard deadlines the plan misses. A parallel stage that misses as a whole is reported
    once, not once more for each of its branches."""
    def misses(item: PlannedNode) -> bool:
        return item.hard and item.completed is None and item.finish > item.deadline

    found = []
    for item in planned.values():
        if misses(item) and not (item.node.party and misses(planned[Node(item.node.stage, None)])):
            found.append(Infeasibility(item.node, item.finish, item.deadline, _cause(definition, planned, item)))
    return found


def _cause(definition: Definition, planned: dict[Node, PlannedNode], item: PlannedNode) -> Node:
    """The first node upstream, along the least-slack chain, that is already behind: where
    the delay comes from (a late actual, a long estimate, a fixed date that is too late)."""
    cause = item.node
    current = item
    while True:
        stage = definition.stage(current.node.stage)
        if current.node.party is None:
            members = [planned[Node(stage.id, p)] for p in branch_parties(definition, stage)]
            if members:
                current = max(members, key=lambda m: m.finish)
                cause = current.node
        predecessors = [planned[Node(d, None)] for d in stage.depends_on]
        behind = [p for p in predecessors if p.slack_days is not None and p.slack_days < 0]
        if not behind:
            return cause
        current = max(behind, key=lambda p: p.finish)
        cause = current.node

