"""The planner: from a definition, the dates of what is already done, and a day to plan from,
compute every stage's and branch's start, deadline, reminders, slack and whether it lies on
the critical path to entry into force; report what the plan cannot meet, and why.

A pure function of (definition, actuals, as_of). The method is the critical path method over
the Swedish legal calendar: a forward pass gives each node's start and planned finish; a
backward pass from the hard deadlines gives its latest finish, stepping back through the same
legal counting (lag (1930:173) §1 and §2) that the forward pass used; slack is the difference
in calendar days: how many days a node can slip before a hard deadline is missed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import pendulum

from samverkan.process_definitions.model import Adjust, Basis, Definition, Stage
from samverkan.calendar import LAW_SECTION_2, OutsideCalendar, legal_due, previous_business_day, subtract_period, to_date, why_closed
from samverkan.errors import SamverkanError
from samverkan.graph import Node, branch_parties, dependants, join_needed, outside_of, party_dependencies, stage_order
from samverkan.i18n import _
from samverkan.meetings.chains import MeetingPlan, current_chain, expected_chain, meeting_plan
from samverkan.rejections import blocked_by_failures
from samverkan.reminders import Reminder, in_blackouts, reminder_schedule


@dataclass(frozen=True)
class Actual:
    """What has really happened to a node: the day its transitions recorded it done.

    When work on a node began does not move its plan: a period (a referral's twelve weeks)
    runs from when the node could start, which the dependencies' actual dates already give."""

    finished: pendulum.Date | None = None
    failed: bool = False  # it ended without success (a council said no): it will not finish on its estimate
    started: pendulum.Date | None = None  # work began (a matter decided at meetings is with its first body)
    at_deciding_body: bool = False  # a matter decided at meetings waits at its deciding body (postponed)
    not_before: pendulum.Date | None = None  # it cannot be decided before this day (the meeting that postponed it is past)
    answer_by: pendulum.Date | None = None  # decided, with amendments the counterparty is expected to answer by this day


@dataclass
class PlannedNode:
    node: Node
    name: str
    party_name: str | None
    depends_on: list[str]
    start: pendulum.Date
    planned_finish: pendulum.Date  # from the start and the estimates alone
    finish: pendulum.Date  # the actual finish, or the planned one (never before as_of while open)
    nominal_deadline: pendulum.Date
    deadline: pendulum.Date  # after the move for weekends, holidays and eves
    deadline_basis: Basis  # the basis of the date the definition gives (its deadline, else its timing)
    deadline_reason: str | None  # why the deadline differs from the nominal one, in Swedish
    hard: bool  # the stage has a hard deadline: missing this node's deadline breaks the process
    # The deadline is a date a decision fixed, as the definition gives it (moved only off a
    # closed day): a hard deadline, a fixed day or window. Not one counted from a duration or
    # from estimates, nor a council's last meeting in time, taken from a meeting calendar.
    deadline_fixed: bool
    completed: pendulum.Date | None
    latest_finish: pendulum.Date | None = None
    critical: bool = False
    reminders: tuple[Reminder, ...] = ()
    blocked_by: tuple[Node, ...] = ()  # failed nodes that keep it from finishing: not planned
    outside_by: Node | None = None  # the "no" that put its party outside: not waited for
    meetings: MeetingPlan | None = None  # for a branch decided at meetings
    act_by: pendulum.Date | None = None  # what reminders aim at, when not the deadline: the agenda that matters

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)

    @property
    def deadline_moved_by(self) -> MoveRule | None:
        """What moved the deadline: the law (forward, §2) or the process's own rule (backward)."""
        if self.deadline == self.nominal_deadline:
            return None
        return MoveRule.law if self.deadline > self.nominal_deadline else MoveRule.process_rule

    @property
    def slack_days(self) -> int | None:
        return None if self.latest_finish is None else self.latest_finish.toordinal() - self.finish.toordinal()

    @property
    def delay_days(self) -> int:
        """How far it is behind its own plan: finished late, or still open past its finish."""
        return max(0, self.finish.toordinal() - self.planned_finish.toordinal())


class MoveRule(StrEnum):
    law = "law"  # lag (1930:173) 2 §: a last day on a closed day moves forward to the next weekday
    process_rule = "process-rule"  # the definition's `adjust: backward`: a limit moves back; no law says so


class Miss(StrEnum):
    deadline = "deadline"  # open work that will finish after a hard deadline
    missed = "missed"  # work done after its hard deadline
    fixed_date = "fixed-date"  # a date fixed by a decision that its dependencies make impossible


class Why(StrEnum):
    late = "late"  # the first node on the chain that is behind its own plan
    fixed_date = "fixed-date"  # a fixed date starts the chain too late
    longest_estimate = "longest-estimate"  # nothing is late: the longest estimate on the chain
    own = "own"  # the node's own deadline is earlier than it can start


@dataclass(frozen=True)
class Infeasibility:
    kind: Miss
    node: Node
    finish: pendulum.Date
    deadline: pendulum.Date
    cause: Node
    why: Why
    chain: tuple[Node, ...]  # the driving chain, from the node back to where it starts

    @property
    def days_late(self) -> int:
        return (self.finish - self.deadline).days


@dataclass
class Plan:
    definition: Definition
    as_of: pendulum.Date | None
    nodes: list[PlannedNode]
    infeasible: list[Infeasibility]

    def __post_init__(self) -> None:
        self._by_node = {n.node: n for n in self.nodes}  # status looks up every node

    def get(self, stage: str, party: str | None = None) -> PlannedNode:
        return self._by_node[Node(stage, party)]


def plan(
    definition: Definition,
    actuals: Mapping[Node, Actual] | None = None,
    as_of: pendulum.Date | None = None,
) -> Plan:
    actuals = actuals or {}
    as_of = to_date(as_of) if as_of is not None else None
    outside = outside_of(definition, {node for node, actual in actuals.items() if actual.failed and node.party})
    planned: dict[Node, PlannedNode] = {}
    ordered: list[PlannedNode] = []
    for stage_id in stage_order(definition):
        stage = definition.stage(stage_id)
        ready_on = max((planned[Node(d, None)].finish for d in stage.depends_on), default=None)
        by_party = stage.for_each is not None and stage.for_each.by_party
        with _calendar_bounds(stage):
            branches = [_forward(definition, stage, p, _party_ready(definition, stage, p, planned) if by_party else ready_on,
                                 actuals, as_of) for p in branch_parties(definition, stage)]
            for branch in branches:
                branch.outside_by = outside.get(branch.node)
            whole = _join(stage, branches, actuals) if branches else _forward(definition, stage, None, ready_on, actuals, as_of)
        for item in (whole, *branches):
            planned[item.node] = item
            ordered.append(item)
    _backward(definition, planned, actuals, as_of)
    _schedule_reminders(definition, ordered)
    _mark_critical(definition, planned)
    _mark_blocked(definition, planned, actuals)
    return Plan(definition, as_of, ordered, _infeasible(definition, planned))


def _party_ready(definition: Definition, stage: Stage, party: str, planned: dict[Node, PlannedNode]) -> pendulum.Date | None:
    return max((planned[d].finish for d in party_dependencies(definition, stage, party)), default=None)


def _schedule_reminders(definition: Definition, ordered: list[PlannedNode]) -> None:
    """Reminders for what is still open, once the backward pass has given each its limit. A
    schedule depends on the definition, the stage, its target and its limit only: kept with
    the definition (branches mostly share one, and a sweep plans the same nodes every day)."""
    for item in ordered:
        whole_parallel = item.node.party is None and definition.stage(item.node.stage).for_each
        if item.completed is None and not whole_parallel:  # a parallel stage is reminded through its branches
            if item.outside_by is not None:
                continue  # a party outside is not reminded
            target, limit = (item.act_by, item.act_by) if item.act_by else (item.deadline, item.latest_finish)
            stage_id = item.node.stage
            item.reminders = definition.derived(("reminders", stage_id, target, limit), lambda: in_blackouts(
                definition, reminder_schedule(definition.reminder_policy(definition.stage(stage_id)), target, limit)))


def _mark_blocked(definition: Definition, planned: dict[Node, PlannedNode], actuals: Mapping[Node, Actual]) -> None:
    """A failed node is not planned to finish on its estimate: it, and what it keeps from
    finishing (its stage when the join can no longer be met, and the stages after), are
    blocked by it until a new decision. Their dates stay as what a new decision would give."""
    # A "no" is not planned to finish, even one that only puts its party outside; what it
    # keeps from finishing is rejections' rule (a stage that counts the parties taking part
    # goes on without it).
    failed = [node for node, actual in actuals.items() if actual.failed
              and not (node.party is None and definition.stage(node.stage).for_each)]
    causes = blocked_by_failures(definition, failed)
    for node in failed:
        planned[node].blocked_by = (node,)
    own_stages = {node.stage for node in failed}
    for stage_id, blockers in causes.items():
        stage = definition.stage(stage_id)
        # In the failed branch's own stage only the whole is held up: the other parties still
        # decide, by their own deadline. The stages after cannot start at all.
        parties = [] if stage_id in own_stages else branch_parties(definition, stage)
        for party in [None, *parties]:
            item = planned[Node(stage_id, party)]
            if item.completed is None and not item.blocked_by:
                item.blocked_by = blockers
    for item in planned.values():
        if item.blocked:
            item.critical = False


class _calendar_bounds:
    """Dates pushed past the years the holiday data covers are the definition's problem,
    named by stage, not a crash."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, _trace) -> bool:
        if isinstance(error, (OutsideCalendar, OverflowError)):
            raise SamverkanError(_("steget {stage}: dess datum hamnar utanför de år som kalendern känner ({error})",
                                   stage=repr(self.stage.id), error=error)) from None
        return False


def _forward(
    definition: Definition,
    stage: Stage,
    party: str | None,
    ready_on: pendulum.Date | None,
    actuals: Mapping[Node, Actual],
    as_of: pendulum.Date | None,
) -> PlannedNode:
    node = Node(stage.id, party)
    timing = stage.timing
    candidates = [to_date(d) for d in (ready_on, timing.earliest if timing else None) if d is not None]
    start = max(candidates)

    period = timing.duration_period if timing else None
    basis = timing.basis if timing else Basis.estimate
    if period is not None:
        due = legal_due(start, period)
        planned, nominal, deadline, reason = due.due, due.nominal, due.due, due.reason
        fixed = False  # counted from a start its dependencies set
    else:
        latest = to_date(timing.latest) if timing and timing.latest else None
        planned = max(start, latest) if latest else start
        nominal = deadline = latest or start
        reason = None
        fixed = latest is not None and basis is Basis.fixed
    if stage.deadline is not None:
        nominal = to_date(stage.deadline.date)
        deadline, reason = _adjusted(nominal, stage.deadline.adjust)
        basis = stage.deadline.basis
        fixed = basis is Basis.fixed

    actual = actuals.get(node, Actual())
    completed = actual.finished
    if stage.at_meetings and party is not None or stage.at_meetings and not stage.for_each:
        planned, finish = _meeting_finish(definition, stage, party or stage.owner, start, actual, as_of)
    else:
        finish = completed or planned
        if completed is None and as_of is not None and finish < as_of:
            finish = as_of  # what is not done cannot finish in the past
    item = PlannedNode(
        node=node,
        name=stage.name,
        party_name=definition.party(party).name if party else None,
        depends_on=list(stage.depends_on),
        start=start,
        planned_finish=planned,
        finish=finish,
        nominal_deadline=nominal,
        deadline=deadline,
        deadline_basis=basis,
        deadline_reason=reason,
        hard=bool(stage.deadline and stage.deadline.hard),
        deadline_fixed=fixed,
        completed=completed,
    )
    return item


def node_finish(definition: Definition, node: Node, ready_on: pendulum.Date, actual: Actual | None = None,
                as_of: pendulum.Date | None = None) -> PlannedNode:
    """One node planned alone from the day it could start, by the same rules as in `plan`: what
    a simulation asks each time a node opens, without planning the whole process again."""
    stage = definition.stage(node.stage)
    with _calendar_bounds(stage):
        return _forward(definition, stage, node.party, ready_on, {node: actual or Actual()}, as_of)


def _meeting_finish(definition: Definition, stage: Stage, party: str, start: pendulum.Date, actual: Actual,
                    as_of: pendulum.Date | None) -> tuple[pendulum.Date, pendulum.Date]:
    """(planned, expected) decision day of a branch decided at meetings: the deciding body's
    first meeting the matter can reach from its start, and from today. Without such a meeting
    in the calendar, the day after the calendar ends: later than any deadline it could keep."""
    calendar = definition.meeting_calendar(party)
    horizon = to_date(max((d for body in calendar.bodies for d in body.meetings), default=start)).add(days=1)
    if stage.deadline is not None:
        horizon = max(horizon, to_date(stage.deadline.date).add(days=1))
    chain = expected_chain(definition, calendar, start)
    planned = chain[-1].day if chain else horizon
    if actual.finished:
        return planned, actual.finished
    if actual.answer_by is not None:  # decided: what it waits for is the counterparty's answer
        return planned, max(d for d in (actual.answer_by, as_of) if d is not None)
    available, from_body, since = _where(calendar, start, actual, as_of)
    chain = current_chain(definition, calendar, available, from_body, since)
    return planned, chain[-1].day if chain else max(horizon, available)


def _where(calendar, start: pendulum.Date, actual: Actual, as_of: pendulum.Date | None
           ) -> tuple[pendulum.Date, int | None, pendulum.Date | None]:
    """Where a matter decided at meetings stands: the first day it can move on, the body it is
    with already (its agenda no longer matters), if any, and since when it is with the first."""
    available = max(d for d in (start, as_of, actual.not_before) if d is not None)
    if actual.at_deciding_body:
        return available, len(calendar.bodies) - 1, None
    if actual.started is not None:
        return available, 0, max(start, actual.started)
    return available, None, None


def _adjusted(nominal: pendulum.Date, adjust: Adjust) -> tuple[pendulum.Date, str | None]:
    if adjust is Adjust.forward:
        due = legal_due(nominal)
        return due.due, due.reason
    if adjust is Adjust.backward:
        moved = previous_business_day(nominal)
        if moved != nominal:
            # Not the law: §2 only ever moves a last day forward. Moving a limit that must not be
            # passed back to a day one can act on is the process's own planning rule.
            return moved, _("{nominal} är {closed}; flyttad bakåt till närmaste vardag {moved} enligt processens "
                            "planeringsregel ({closed} är ingen arbetsdag); {law} flyttar bara framåt", nominal=nominal,
                            closed=why_closed(nominal), moved=moved, law=LAW_SECTION_2)
    return nominal, None


def _join(stage: Stage, branches: list[PlannedNode], actuals: Mapping[Node, Actual]) -> PlannedNode:
    """The parallel stage as a whole: done when its join rule is met by its branches."""
    taking_part = [b for b in branches if b.outside_by is None] or branches
    if stage.for_each.join == "taking-part":
        branches = taking_part  # the parties outside are not waited for
    needed = join_needed(stage, len(branches))
    latest = max(branches, key=lambda b: b.deadline)  # branches differ only where actual dates do
    completed = actuals.get(Node(stage.id, None), Actual()).finished
    return PlannedNode(
        node=Node(stage.id, None),
        name=stage.name,
        party_name=None,
        depends_on=list(stage.depends_on),
        start=min(b.start for b in branches),
        planned_finish=sorted(b.planned_finish for b in branches)[needed - 1],
        finish=completed or sorted(b.finish for b in branches)[needed - 1],
        nominal_deadline=latest.nominal_deadline,
        deadline=latest.deadline,
        deadline_basis=latest.deadline_basis,
        deadline_reason=latest.deadline_reason,
        hard=latest.hard,
        deadline_fixed=latest.deadline_fixed,
        completed=completed,
    )


def _backward(definition: Definition, planned: dict[Node, PlannedNode], actuals: Mapping[Node, Actual],
              as_of: pendulum.Date | None) -> None:
    """Latest finish of every node: the tightest of its own hard deadline and what the nodes
    after it need (a branch of a stage that goes party by party needs only its own party's
    branch before it). A node with neither has no latest finish (its slack is unbounded).
    A branch decided at meetings gets its last meetings here, and its deadline from them."""
    after = dependants(definition)
    latest_start: dict[Node, pendulum.Date | None] = {}
    for stage_id in reversed(stage_order(definition)):
        stage = definition.stage(stage_id)
        whole = planned[Node(stage_id, None)]
        own = [whole.deadline] if whole.hard else []
        members = [planned[Node(stage_id, p)] for p in branch_parties(definition, stage)]
        for item in (whole, *members):
            limits = list(own)
            for dependant in after[stage_id]:
                dep_stage = definition.stage(dependant)
                by_party = item.node.party and dep_stage.for_each and dep_stage.for_each.by_party \
                    and item.node.party in branch_parties(definition, dep_stage)
                limit = latest_start.get(Node(dependant, item.node.party if by_party else None))
                if limit is not None:
                    limits.append(limit)
            item.latest_finish = min(limits) if limits else None
            with _calendar_bounds(stage):
                if stage.at_meetings and (item.node.party or not stage.for_each):
                    latest_start[item.node] = _plan_meetings(definition, stage, item, actuals, as_of)
                else:
                    latest_start[item.node] = None if item.latest_finish is None else _latest_start(stage, item.latest_finish)
        if members:  # what comes before the whole must let every party still taking part make it
            starts = [latest_start[m.node] for m in members if m.outside_by is None and latest_start[m.node] is not None]
            latest_start[whole.node] = min(starts, default=latest_start[whole.node])


def _plan_meetings(definition: Definition, stage: Stage, item: PlannedNode, actuals: Mapping[Node, Actual],
                   as_of: pendulum.Date | None) -> pendulum.Date | None:
    """The branch's meetings: the last ones that still keep its latest finish give its deadline
    (the deciding body's last meeting) and its latest start (when the first agenda closes)."""
    party = item.node.party or stage.owner
    actual = actuals.get(item.node, Actual())
    available, from_body, since = _where(definition.meeting_calendar(party), item.start, actual, as_of)
    meetings = meeting_plan(definition, party, available, item.latest_finish, from_body=from_body, since=since)
    item.meetings = meetings
    last = meetings.last_decision
    if last is not None:  # done or not: what it was measured against stays its deadline
        item.nominal_deadline = item.deadline = last.day
        item.deadline_reason = None
        item.deadline_fixed = False  # the calendar's date, example or published, not the process's limit
        if item.completed is None:  # amendments awaiting the counterparty: reminded towards its expected answer
            item.act_by = actual.answer_by or (last.agenda_closes if actual.started is not None else meetings.material_by)
    return meetings.material_by if meetings.latest else item.latest_finish


def _latest_start(stage: Stage, latest_finish: pendulum.Date) -> pendulum.Date:
    """The last day the stage can start and still finish by `latest_finish`.

    A stage with a period finishes at the legal due day of its start, so this steps back
    through the same §1 counting and §2 moves (monotone in the start day). A stage pinned to a
    day or a window finishes on the later of its start and that day: it may start as late as
    the latest finish itself."""
    period = stage.timing.duration_period if stage.timing else None
    if period is None:
        return latest_finish
    start = subtract_period(latest_finish, period)
    while legal_due(start.add(days=1), period).due <= latest_finish:
        start = start.add(days=1)
    while legal_due(start, period).due > latest_finish:
        start = start.subtract(days=1)
    return start


def _mark_critical(definition: Definition, planned: dict[Node, PlannedNode]) -> None:
    """Critical: the open work on the chains that drive the final stages, the one whose slip
    moves the end. From each final stage back along the dependency that finished last (all of
    them when they tie, and every branch that finishes last), until a stage whose own date,
    not its dependencies, set its start. A final stage pinned to its day (entry into force on
    2027-01-01) still leads back to what feeds it."""
    after = dependants(definition)
    frontier = [(planned[Node(s.id, None)], True) for s in definition.stages if not after[s.id]]
    seen: set[Node] = set()
    while frontier:
        item, final = frontier.pop()
        if item.node in seen or item.completed is not None:
            continue
        seen.add(item.node)
        item.critical = True
        stage = definition.stage(item.node.stage)
        branches = [planned[Node(stage.id, p)] for p in branch_parties(definition, stage)]
        for branch in branches:
            branch.critical = branch.completed is None and branch.finish == item.finish
        predecessors = [planned[Node(d, None)] for d in stage.depends_on]
        if not predecessors:
            continue
        last = max(p.finish for p in predecessors)
        if last >= item.start or final:
            frontier.extend((p, False) for p in predecessors if p.finish == last)


def _infeasible(definition: Definition, planned: dict[Node, PlannedNode]) -> list[Infeasibility]:
    """What the plan cannot meet: hard deadlines (open or already missed) and fixed dates.
    A parallel stage that misses as a whole is reported once, not again for each branch."""
    def miss(item: PlannedNode) -> tuple[Miss, pendulum.Date] | None:
        stage = definition.stage(item.node.stage)
        if item.hard and item.finish > item.deadline:
            return (Miss.missed if item.completed else Miss.deadline), item.deadline
        timing = stage.timing
        if item.completed is None and timing and timing.basis is Basis.fixed and timing.latest and item.finish > to_date(timing.latest):
            return Miss.fixed_date, to_date(timing.latest)
        return None

    found = []
    for item in planned.values():
        if item.blocked or item.outside_by is not None:
            continue  # reported as blocked or outside, with its cause, not as a date it would miss
        found_miss = miss(item)
        if found_miss is None or (item.node.party and miss(planned[Node(item.node.stage, None)])):
            continue
        chain = _driving_chain(definition, planned, item)
        cause, why = _cause(definition, chain)
        found.append(Infeasibility(found_miss[0], item.node, item.finish, found_miss[1], cause.node, why, tuple(n.node for n in chain)))
    return found


def _driving_chain(definition: Definition, planned: dict[Node, PlannedNode], item: PlannedNode) -> list[PlannedNode]:
    """From a node back along what set its dates: the latest branch of a parallel stage, the
    dependency that finished last, until a node whose own date set its start."""
    chain = [item]
    current = item
    while True:
        stage = definition.stage(current.node.stage)
        if current.node.party is None and stage.for_each:
            current = max((planned[Node(stage.id, p)] for p in branch_parties(definition, stage)), key=lambda b: b.finish)
            chain.append(current)
        predecessors = [planned[Node(d, None)] for d in stage.depends_on]
        if not predecessors:
            return chain
        driver = max(predecessors, key=lambda p: p.finish)
        if driver.finish < current.start:
            return chain  # its own date, not its dependencies, set its start
        current = driver
        chain.append(current)


def _cause(definition: Definition, chain: list[PlannedNode]) -> tuple[PlannedNode, Why]:
    """Where the miss comes from: the first node behind its own plan; else, the plan is simply
    too long, and the longest estimate on the chain is the one to revisit; else the fixed
    date that starts the chain; else the node's own deadline."""
    behind = [n for n in chain if n.delay_days > 0]
    if behind:
        return behind[-1], Why.late
    estimated = [n for n in chain if (t := definition.stage(n.node.stage).timing) and t.basis is Basis.estimate and t.duration]
    if estimated:
        return max(estimated, key=lambda n: n.planned_finish.toordinal() - n.start.toordinal()), Why.longest_estimate
    first = chain[-1]
    timing = definition.stage(first.node.stage).timing
    if len(chain) > 1 and timing and timing.basis is Basis.fixed:
        return first, Why.fixed_date
    return chain[0], Why.own
