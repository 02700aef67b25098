"""What each open stage or branch does next in a simulated run, and on which day: a pure
function of (definition, state, scenario, random numbers).

A node is scripted when it is first seen open in a state: work on an estimate finishes on
the day the planner would plan it from when it could start, moved by the scenario's `late`
or `done_on`, or by a random spread around the estimate; a matter decided at meetings is sent
to the first body (within `send_within` of its material) and decided at the first deciding
meeting it can reach from there, the way the planner counts it, unless the meeting postpones
it. A node reopened (postponed, amended) is scripted again from its new state: amendments
are answered by the counterparty after the scenario's `renegotiation`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import pendulum

from samverkan.calendar import TIMEZONE, add_period, is_business_day, next_business_day, parse_period, to_date
from samverkan.calendar.appeal import ANNOUNCED, DECIDED, MINUTES_APPROVED
from samverkan.engine import InstanceState, NodeState, TransitionRequest
from samverkan.graph import Node
from samverkan.planner import Actual, node_finish
from samverkan.process_definitions.model import Basis, Definition, Stage, StateKind
from samverkan.status import actuals_of

from .records import decision_body, record_for
from .scenario import Outcome, Scenario, Step

ACT_HOUR = 16  # transitions are recorded in the afternoon, after the morning's sweep
MINUTES_AFTER = 3  # days from a meeting to its minutes approved and announced (the next business day from then)
REASON = "Simulering"


@dataclass(frozen=True)
class Act:
    """One transition the scenario makes."""

    day: pendulum.Date
    node: Node
    to: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def at(self) -> pendulum.DateTime:
        return pendulum.datetime(self.day.year, self.day.month, self.day.day, ACT_HOUR, tz=TIMEZONE)

    def request(self) -> TransitionRequest:
        return TransitionRequest(self.node.stage, self.node.party, self.to, self.at, reason=REASON, fields=self.fields)


def local_day(moment: pendulum.DateTime) -> pendulum.Date:
    return moment.in_timezone(TIMEZONE).date()


class Script:
    """The acts of one run. `rng` makes it random; the same seed gives the same run.
    `record_minutes`: each decision's minutes are registered too, as a secretary would (a run
    whose notices are sent needs them: no reminder to register them then; the odds do not)."""

    def __init__(self, definition: Definition, scenario: Scenario, rng: random.Random, record_minutes: bool = False) -> None:
        self.definition = definition
        self.scenario = scenario
        self.rng = rng
        self.record_minutes = record_minutes
        self._scripted: set[tuple[Node, str, pendulum.DateTime | None]] = set()
        self._applied: set[Node] = set()  # nodes whose scenario outcome has happened once
        self._number = 100  # paragraph numbers, as in a council's minutes
        self._decision_due: dict[Node, Act] = {}  # decisions scripted when the matter went to its first body

    def next_acts(self, state: InstanceState, today: pendulum.Date, changed: Iterable[Node] | None = None) -> list[Act]:
        """The acts for every node open and not yet scripted in its current state; `changed`:
        only these nodes can be (those a transition changed), the rest need no look."""
        acts = []
        for node in state if changed is None else dict.fromkeys(changed):
            current = state[node]
            key = (node, current.state, current.changed_at)
            if key in self._scripted:
                continue
            stage = self.definition.stage(node.stage)
            if stage.for_each and node.party is None:
                continue  # the engine finishes a parallel stage when its branches meet its join
            kind = self.definition.state_kind(stage.lifecycle, current.state)
            if kind is StateKind.done and self.record_minutes:
                self._scripted.add(key)
                act = self._minutes(stage, node, current, today)
                acts += [act] if act is not None else []
                continue
            if kind not in (StateKind.ready, StateKind.active):
                continue
            self._scripted.add(key)
            act = self._act(stage, node, current, state, today)
            if act is not None:
                acts.append(act)
        return acts

    def _act(self, stage: Stage, node: Node, current: NodeState, state: InstanceState, today: pendulum.Date) -> Act | None:
        step = self.scenario.step_for(node.stage, node.party)
        since = local_day(current.changed_at or current.ready_at) if (current.changed_at or current.ready_at) else today
        if stage.at_meetings:
            return self._decision(stage, node, current, state, step, since, today)
        ready_on = local_day(current.ready_at) if current.ready_at else since
        planned = node_finish(self.definition, node, ready_on).planned_finish
        if step and step.done_on:
            day = to_date(step.done_on)
        else:
            day = planned.add(days=self._delay(stage, step, (planned - ready_on).days))
            if day != planned and not is_business_day(day):
                day = next_business_day(day)
        return self._finish(stage, node, max(day, since, today), Outcome.done)

    def _decision(self, stage: Stage, node: Node, current: NodeState, state: InstanceState, step: Step | None,
                  since: pendulum.Date, today: pendulum.Date) -> Act | None:
        party = node.party or stage.owner
        scripted = self._decision_due.pop(node, None)
        if scripted is not None and current.state == self._new_matter(stage):
            return Act(max(scripted.day, today), scripted.node, scripted.to, scripted.fields)
        outcome = step.outcome if step and node not in self._applied else Outcome.done
        if current.state == Outcome.amended.value:
            # Without a step (a live instance's amendments): the counterparty's own estimate.
            renegotiation = step.renegotiation if step else stage.counterparty.answer_within if stage.counterparty else "P3W"
            day = max(next_business_day(add_period(since, parse_period(renegotiation))), today)
            # The counterparty answers the changes; under a definition without one, the contract
            # is renegotiated and goes back to the bodies as a new matter.
            return self._answer(stage, node, current.state, day, step) or Act(day, node, self._new_matter(stage))
        if step and step.done_on and outcome is Outcome.done:
            return self._finish(stage, node, max(to_date(step.done_on), since), outcome)
        actual = actuals_of(self.definition, {node: current}).get(node, Actual())
        available = since
        if self.definition.state_kind(stage.lifecycle, current.state) is StateKind.ready:
            available = since.add(days=self._send_delay(step))  # the material goes to the first body
            available = available if is_business_day(available) else next_business_day(available)
        planned = node_finish(self.definition, node, available, actual, as_of=max(available, today))
        day = planned.finish
        if day > self._horizon(party):
            return None  # no meeting left in the calendar: it stays open
        if (outcome is Outcome.done and self.scenario.spread and self._allowed(stage, current.state, Outcome.postponed.value)
                and self.rng.random() < self.scenario.spread.postpone):
            outcome = Outcome.postponed  # at most once a matter: the lifecycle has no postponing a postponed one
        elif outcome is not Outcome.done:
            self._applied.add(node)
        decision = self._finish(stage, node, day, outcome)
        if self.definition.state_kind(stage.lifecycle, current.state) is StateKind.ready and self._allowed(
                stage, current.state, self._new_matter(stage)):
            # A secretary registers the matter ("Påbörja beredning") the day it goes to the first
            # body; the decision then comes as scripted from here.
            self._decision_due[node] = decision
            return Act(max(available, today), node, self._new_matter(stage))
        return decision

    def _minutes(self, stage: Stage, node: Node, current: NodeState, today: pendulum.Date) -> Act | None:
        """A decision's minutes, as a secretary registers them: approved and announced on the
        same day, MINUTES_AFTER days after the meeting (next business day), well within the
        14 days the law gives (kommunallagen 8 kap. 12 §); for a stage whose lifecycle has the
        step that records them, once."""
        record = current.record
        if record.get(ANNOUNCED) or not record.get(DECIDED):
            return None
        lifecycle = self.definition.lifecycle(stage.lifecycle)
        step = next((t for t in lifecycle.transitions if t.source == [current.state] and t.to == current.state
                     and t.fields is not None and {MINUTES_APPROVED, ANNOUNCED} <= set(t.fields)), None)
        if step is None:
            return None
        day = next_business_day(to_date(record[DECIDED]).add(days=MINUTES_AFTER))
        return Act(max(day, today), node, current.state, {MINUTES_APPROVED: day.isoformat(), ANNOUNCED: day.isoformat()})

    def _answer(self, stage: Stage, node: Node, state: str, day: pendulum.Date, step: Step | None) -> Act | None:
        """The counterparty's answer to amendments: accepted (the branch is adopted) or not."""
        if stage.counterparty is None:
            return None
        accepted = step is None or step.amendments == "accepted"
        for transition in self.definition.lifecycle(stage.lifecycle).transitions:
            if transition.by != "counterparty" or state not in transition.source:
                continue
            done = self.definition.state_kind(stage.lifecycle, transition.to) is StateKind.done
            if done is accepted:
                return Act(day, node, transition.to, {f: day.isoformat() for f in transition.fields or []})
        return None

    def _allowed(self, stage: Stage, state: str, to: str) -> bool:
        return any(t.to == to and state in t.source for t in self.definition.lifecycle(stage.lifecycle).transitions)

    def _horizon(self, party: str) -> pendulum.Date:
        calendar = self.definition.meeting_calendar(party)
        return to_date(max(d for body in calendar.bodies for d in body.meetings))

    def _new_matter(self, stage: Stage) -> str:
        """The state a new decision starts from (after an amendment): the first active one."""
        lifecycle = self.definition.lifecycle(stage.lifecycle)
        return next(s.id for s in lifecycle.states if s.kind is StateKind.active)

    def _finish(self, stage: Stage, node: Node, day: pendulum.Date, outcome: Outcome) -> Act:
        lifecycle = self.definition.lifecycle(stage.lifecycle)
        if outcome is Outcome.done:
            to = next(s.id for s in lifecycle.states if s.kind is StateKind.done)
        else:
            to = outcome.value
        transition = next(t for t in lifecycle.transitions if t.to == to)
        fields = {}
        if transition.requires_record:
            self._number += 1
            fields = record_for(stage, day, self._number, decision_body(self.definition, stage, node.party), outcome)
        return Act(day, node, to, fields)

    def _delay(self, stage: Stage, step: Step | None, estimate_days: int) -> int:
        """Days after the planned finish: the scenario's `late`, else a random spread around an
        estimate (a date fixed by a decision does not move by chance)."""
        if step and step.late_period:
            return step.late_period.approx_days
        spread = self.scenario.spread
        basis = stage.timing.basis if stage.timing else Basis.estimate
        if spread is None or basis is not Basis.estimate or estimate_days <= 0:
            return 0
        return round(self.rng.triangular(-spread.early * estimate_days, spread.late * estimate_days, 0))

    def _send_delay(self, step: Step | None) -> int:
        if step and step.late_period:
            return step.late_period.approx_days
        spread = self.scenario.spread
        return round(self.rng.triangular(0, spread.send_days, 0)) if spread else 0


def apply(state: dict[Node, NodeState], changes) -> None:
    for change in changes:
        state[change.node] = change.after
