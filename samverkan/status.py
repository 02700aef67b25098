"""Where an instance stands: every stage and branch with its state, owner, deadline, days
left or late, and what it waits for. Pure: (definition, state, plan, now) -> rows."""

from __future__ import annotations

from dataclasses import dataclass

import pendulum

from samverkan.process_definitions.model import Definition, Stage, StateKind
from samverkan.calendar import TIMEZONE, legal_due, parse_period
from samverkan.calendar.appeal import ANNOUNCED, Finality, FinalityState, finality
from samverkan.calendar.minutes import MinutesCheck, minutes_check
from samverkan.engine import InstanceState, NodeState, kind_of, nodes_of, reference_of, unfinished_dependencies, waiting_for
from samverkan.graph import Node
from samverkan.outcomes import warning_texts
from samverkan.i18n import _
from samverkan.planner import Actual, MoveRule, Plan, plan
from samverkan.text import in_sentence


@dataclass(frozen=True)
class StatusRow:
    node: Node
    name: str
    party_name: str | None
    state: str
    state_name: str
    kind: StateKind
    owner: str  # the party that must act: the branch's party, or the stage's owner
    responsible_role: str
    deadline: pendulum.Date
    nominal_deadline: pendulum.Date
    deadline_reason: str | None  # why deadline differs from nominal_deadline, in Swedish
    deadline_moved_by: MoveRule | None
    days_left: int | None  # negative when late; None once finished, failed or blocked
    completed_at: pendulum.DateTime | None
    waiting_for: tuple[Node, ...]
    critical: bool
    failed: bool = False  # ended without success: a "no"
    blocked_by: tuple[Node, ...] = ()  # the failed nodes that keep it from finishing
    outside_by: Node | None = None  # the "no" that put its party outside: not waited for
    # A finished decision whose record tracks its announcement (the field `announced`): on its
    # way to laga kraft, with its reference (§). None for everything else.
    finality: FinalityState | None = None
    reference: str | None = None
    # The same decision's minutes (kommunallagen 8 kap. 12 §): what is late to approve, announce
    # or register, with its warnings. None for everything else.
    minutes: MinutesCheck | None = None
    # The recorded decision's warnings the office has not resolved (Swedish): a decision by
    # another body than the definition names, which may be annulled on appeal.
    record_warnings: tuple[str, ...] = ()
    # Its meeting has passed with nothing registered while the minutes are not yet due: the
    # decision was probably taken and awaits registration, which is not being late.
    awaiting_registration: bool = False

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.record_warnings + (self.minutes.warnings if self.minutes is not None else ())

    @property
    def late(self) -> bool:
        return self.days_left is not None and self.days_left < 0 and not self.awaiting_registration

    @property
    def not_final(self) -> bool:
        """Adopted, but not yet final: not announced, or open for appeal."""
        return self.finality is not None and self.finality.state is not Finality.final


def tracks_finality(stage: Stage) -> bool:
    """A stage whose record has the announcement of its decision (kommunallagen 13 kap. 5 §)."""
    return any(f.id == ANNOUNCED for f in stage.record)


def finality_of(definition: Definition, stage: Stage, current: NodeState, today: pendulum.Date) -> FinalityState | None:
    """Where a done branch of a stage that tracks its announcement stands on the way to laga kraft."""
    if not tracks_finality(stage) or kind_of(definition, stage, current.state) is not StateKind.done:
        return None
    return finality(current.record, today, appealed=definition.state_appealed(stage.lifecycle, current.state))


def minutes_of(definition: Definition, stage: Stage, current: NodeState, today: pendulum.Date) -> MinutesCheck | None:
    """The minutes of a done branch's decision, for a stage that tracks its announcement."""
    if not tracks_finality(stage) or kind_of(definition, stage, current.state) is not StateKind.done:
        return None
    return minutes_check(current.record, today)


def change_warnings(definition: Definition, node: Node, after: NodeState, today: pendulum.Date) -> tuple[str, ...]:
    """What a person who just recorded a decision, or its minutes, should hear at once: the
    minutes approved or announced later than the law allows, or not registered in time."""
    check = minutes_of(definition, definition.stage(node.stage), after, today)
    return check.warnings if check is not None else ()


def finality_line(row: StatusRow) -> str | None:
    """One Swedish line for a decision not yet final: 'Åsele kommun: antaget 2026-11-17 (§ 88);
    anslaget 2026-11-20, kan överklagas till och med 2026-12-11; laga kraft tidigast 2026-12-12,
    om ingen överklagar'; None once final."""
    f = row.finality
    if f is None or f.state is Finality.final:
        return None
    decided = f.decided or (row.completed_at.in_timezone(TIMEZONE).date() if row.completed_at else None)
    what = "beslutat" if f.state is Finality.appealed else in_sentence(row.state_name)
    line = f"{row.party_name or row.name}: {what}" + (f" {decided.isoformat()}" if decided else "")
    line += f" ({row.reference})" if row.reference else ""
    if f.state is Finality.appealed:
        line += f", överklagat; laga kraft {f.final_text}"
    elif f.state is Finality.open_for_appeal:
        line += _("; anslaget {announced}, kan överklagas till och med {until}", announced=f.announced.isoformat(),
                  until=f.appeal_until.isoformat())
        if f.appeal.moved:
            line += f" ({f.moved_because})"
        line += f"; laga kraft {f.final_text}"
    elif f.minutes_approved is not None:
        line += _("; protokollet justerat {day}, justeringen ännu inte anslagen", day=f.minutes_approved.isoformat())
    else:
        line += _("; protokollet ännu inte justerat, justeringen inte anslagen")
    return line


def actuals_of(definition: Definition, state: InstanceState) -> dict[Node, Actual]:
    actuals = {}
    for node, s in state.items():
        kind = kind_of(definition, definition.stage(node.stage), s.state)
        if s.completed_at:
            actuals[node] = Actual(finished=s.completed_at.in_timezone(TIMEZONE).date())
        elif kind is StateKind.failed:
            actuals[node] = Actual(failed=True)
        elif kind is StateKind.active and s.started_at is not None:
            stage = definition.stage(node.stage)
            postponed = definition.state_at_deciding_body(stage.lifecycle, s.state)
            # In its current state since: a matter back in preparation (a new decision after a
            # referral back or an amendment) goes through the bodies again from that day.
            current = (s.changed_at or s.started_at).in_timezone(TIMEZONE).date()
            # Postponed: the meeting that postponed it is behind it; it goes to a later one.
            actuals[node] = Actual(started=current, at_deciding_body=postponed,
                                   not_before=current.add(days=1) if postponed else None,
                                   answer_by=answer_expected(definition, stage, s))
    return actuals


def answer_expected(definition: Definition, stage: Stage, current: NodeState) -> pendulum.Date | None:
    """While a branch waits for the stage's counterparty to answer its amendments: the day the
    answer is expected (the counterparty's `answer_within` from the decision, an estimate)."""
    counterparty = stage.counterparty
    if counterparty is None or current.changed_at is None or not definition.awaits_counterparty(stage, current.state):
        return None
    return legal_due(current.changed_at.in_timezone(TIMEZONE).date(), parse_period(counterparty.answer_within)).due


def plan_for(definition: Definition, state: InstanceState, as_of: pendulum.Date) -> Plan:
    """An instance's plan: its recorded dates in place of the estimates, and its "no"s."""
    return plan(definition, actuals=actuals_of(definition, state), as_of=as_of)


def status_rows(definition: Definition, state: InstanceState, now: pendulum.DateTime, planned: Plan | None = None) -> list[StatusRow]:
    """`planned`: the instance's plan as of now's day, when the caller has made it already."""
    today = now.in_timezone(TIMEZONE).date()
    planned = planned or plan_for(definition, state, today)
    rows = []
    waiting: dict[str, tuple[Node, ...]] = {}  # the same for a waiting stage and all its branches
    for node in nodes_of(definition):
        stage = definition.stage(node.stage)
        current = state[node]
        kind = kind_of(definition, stage, current.state)
        if kind is StateKind.waiting and node.party and stage.for_each and stage.for_each.by_party:
            waits = tuple(unfinished_dependencies(definition, state, stage, node.party))
        elif kind is StateKind.waiting:
            if stage.id not in waiting:
                waiting[stage.id] = tuple(unfinished_dependencies(definition, state, stage))
            waits = waiting[stage.id]
        else:
            waits = tuple(waiting_for(definition, state, node))
        names = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
        item = planned.get(node.stage, node.party)
        finished = kind is StateKind.done
        no_countdown = finished or kind is StateKind.failed or item.blocked or item.outside_by is not None
        # Amendments to answer, a split decision to follow up: up to the counterparty, not the party.
        answering = stage.counterparty if node.party and definition.counterparty_acts(stage, current.state) else None
        rows.append(StatusRow(
            node=node,
            name=stage.name,
            party_name=definition.party(node.party).name if node.party else None,
            state=current.state,
            state_name=names[current.state],
            kind=kind,
            owner=answering.party if answering else node.party or stage.owner,
            responsible_role=answering.role.value if answering else stage.responsible_role.value,
            deadline=item.deadline,
            nominal_deadline=item.nominal_deadline,
            deadline_reason=item.deadline_reason,
            deadline_moved_by=item.deadline_moved_by,
            days_left=None if no_countdown else item.deadline.toordinal() - today.toordinal(),
            completed_at=current.completed_at,
            waiting_for=waits,
            critical=item.critical,
            failed=kind is StateKind.failed,
            blocked_by=item.blocked_by,
            outside_by=item.outside_by,
            finality=finality_of(definition, stage, current, today),
            reference=reference_of(stage, current.record),
            minutes=minutes_of(definition, stage, current, today),
            record_warnings=warning_texts(current.record),
            awaiting_registration=(not no_countdown and item.deadline < today and stage.at_meetings and node.party is not None
                                   and _awaits_registration(definition, state, node, today)),
        ))
    return rows


def _awaits_registration(definition: Definition, state: InstanceState, node: Node, today: pendulum.Date) -> bool:
    from samverkan.forecast import awaiting_registration  # the forecast builds on this module

    return awaiting_registration(definition, state, node, today) is not None
