"""Which notices an instance prescribes at a given time: a pure function of (definition,
state, time). The sweep queues what `due_notices` returns; a transition queues what
`event_notices` returns, in its own transaction; delivery drops what `pointless` names.

The rules, per open stage or branch (ready or active, not held up by a "no"):
- `ready` ("ni kan nu …") goes at the first send slot at or after the moment it became ready;
- the reminders (before the deadline, on the day, while overdue) each at their slot; one that
  falls at or before the ready slot is covered by the ready notice; when a sweep finds several
  reminders due (it did not run for a while), only the latest goes: the older are superseded;
- overdue reminders stop at the last day that still keeps a hard deadline: after it they can
  change nothing, and the escalation has already gone;
- the escalation goes to the stage owner and the director's office some time after the
  deadline, but at the latest `before_hard` before that last day: time to act, never in January
  for a process that enters into force on 1 January;
- a confirmation goes when a branch's decision is recorded (a "no" included);
- the digest goes weekly to the director's office while the process is not finished.
A slot is the policy's local time on a business day: never at night, on a weekend, a holiday
or an eve (midsommarafton, julafton, nyårsafton)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pendulum

from samverkan.calendar import TIMEZONE, is_business_day, local_datetime, next_business_day
from samverkan.engine import Change, InstanceState, kind_of, nodes_of
from samverkan.graph import Node
from samverkan.planner import Plan
from samverkan.process_definitions.model import Definition, Role, Stage, StateKind
from samverkan.reminders import ReminderKind
from samverkan.status import StatusRow, plan_for, status_rows

from .facts import digest_facts, meeting_lines, node_facts, overview_line
from .model import Notice, NoticeKind, Recipient

OPEN_KINDS = (StateKind.ready, StateKind.active)


@dataclass(frozen=True)
class Evaluation:
    """One instance as the policy sees it at one moment."""

    definition: Definition
    state: InstanceState
    plan: Plan
    rows: dict[Node, StatusRow]
    now: pendulum.DateTime
    instance_id: str
    marks: tuple[str, ...]
    overview: str
    failed_notices: tuple[dict, ...] = ()  # the outbox's permanent failures, for the digest


def evaluate(definition: Definition, state: InstanceState, now: pendulum.DateTime, instance_id: str,
             marks: Iterable[str] = (), failed_notices: Iterable[dict] = (), planned: Plan | None = None) -> Evaluation:
    """`planned`: the plan of this definition and state as of now's day, when the caller has it
    already (the plan is most of the cost; it depends on the day, not the time)."""
    planned = planned or plan_for(definition, state, now.in_timezone(TIMEZONE).date())
    rows = {row.node: row for row in status_rows(definition, state, now, planned)}
    return Evaluation(definition, state, planned, rows, now, instance_id, tuple(marks),
                      overview_line(definition, state, list(rows.values())), tuple(failed_notices))


@dataclass(frozen=True)
class Slot:
    kind: NoticeKind
    sequence: int
    at: pendulum.DateTime


def first_slot(moment: pendulum.DateTime, time_text: str) -> pendulum.DateTime:
    """The first send slot (`time_text` on a business day) at or after `moment`."""
    local = moment.in_timezone(TIMEZONE)
    day = local.date()
    if is_business_day(day) and local <= local_datetime(day, time_text):
        return local_datetime(day, time_text)
    return local_datetime(next_business_day(day.add(days=1)), time_text)


def is_open(ev: Evaluation, node: Node) -> bool:
    """Ready or active, not held up by a "no"; a parallel stage speaks through its branches."""
    if node.party is None and ev.definition.stage(node.stage).for_each:
        return False
    row = ev.rows[node]
    return row.kind in OPEN_KINDS and not row.blocked_by


_KINDS = {ReminderKind.before: NoticeKind.before, ReminderKind.on_day: NoticeKind.on_day,
          ReminderKind.overdue: NoticeKind.overdue, ReminderKind.escalation: NoticeKind.escalation}


def schedule(ev: Evaluation, node: Node) -> tuple[Slot | None, list[Slot], Slot | None]:
    """(ready, reminders in chain order, escalation) for an open node: the planner's reminders
    (which already keep to the hard limit) and the ready slot from when it became ready."""
    stage = ev.definition.stage(node.stage)
    policy = ev.definition.reminder_policy(stage)
    item = ev.plan.get(node.stage, node.party)
    ready_at = ev.state[node].ready_at
    ready = Slot(NoticeKind.ready, 1, first_slot(ready_at, policy.at)) if ready_at else None
    chain, escalation = [], None
    for reminder in item.reminders:
        slot = Slot(_KINDS[reminder.kind], reminder.sequence, reminder.at)
        if slot.kind is NoticeKind.escalation:
            # It became ready already past the point of escalating: at once.
            escalation = Slot(slot.kind, 1, max(slot.at, ready.at)) if ready else slot
        else:
            chain.append(slot)
    return ready, chain, escalation


def due_slots(ev: Evaluation, node: Node) -> list[Slot]:
    """What an open node prescribes at ev.now: the latest of ready and its reminders, and the escalation."""
    ready, chain, escalation = schedule(ev, node)
    settings = ev.definition.notices
    after = ready.at if ready else None
    qualifying = [s for s in chain if s.at <= ev.now and (after is None or s.at > after)]
    due: list[Slot] = []
    if qualifying:
        latest = max(s.at for s in qualifying)
        due.append([s for s in qualifying if s.at == latest][-1])
    elif ready is not None and ready.at <= ev.now and settings.ready:
        due.append(ready)
    if escalation is not None and escalation.at <= ev.now:
        due.append(escalation)
    return due


def due_notices(ev: Evaluation) -> list[Notice]:
    """Everything the instance prescribes at ev.now, for the sweep to queue (the outbox keeps
    one of each identity, so queueing again is harmless)."""
    notices: list[Notice] = []
    grouped: dict[tuple[str, pendulum.DateTime], list[Node]] = {}
    for node in nodes_of(ev.definition):
        if is_open(ev, node):
            for slot in due_slots(ev, node):
                if slot.kind is NoticeKind.escalation and node.party:
                    grouped.setdefault((node.stage, slot.at), []).append(node)
                else:
                    notices += _node_notices(ev, node, slot)
    for (stage_id, at), nodes in grouped.items():
        notices += _grouped_escalation(ev, stage_id, nodes, Slot(NoticeKind.escalation, 1, at))
    notices += _digest(ev)
    return notices


def _grouped_escalation(ev: Evaluation, stage_id: str, nodes: list[Node], slot: Slot) -> list[Notice]:
    """The branches of one parallel stage that escalate on the same day, in one message per
    recipient rather than one per branch: its identity is the stage and that day.

    Branches decided at meetings each have their own deadline (their council's last meeting
    in time), so branches escalating together need not share one: the message gives each
    branch's own last day and meetings, and its deadline (subject, calendar event) is the
    earliest of them, the first that is at risk."""
    definition = ev.definition
    stage = definition.stage(stage_id)
    recipients = escalation_recipients(definition, stage)
    first = min(nodes, key=lambda n: ev.rows[n].deadline)  # the first deadline at risk (ties: the definition's order)
    facts = node_facts(ev, first, NoticeKind.escalation, slot.at, [r.name or r.email for r in recipients])
    names = [definition.party(n.party).name for n in nodes]
    facts |= {"party_id": None, "party_name": names[0] if len(names) == 1 else _several(names),
              "parties": names, "party_ids": [n.party for n in nodes], "decision_body": None}
    if len(nodes) > 1:
        facts["party_deadlines"] = [[name, ev.rows[n].deadline.isoformat()] for name, n in zip(names, nodes)]
        facts["meetings"] = [f"{name}: {line}" for name, n in zip(names, nodes)
                             for line in meeting_lines(ev.plan.get(n.stage, n.party))]
    day = slot.at.in_timezone(TIMEZONE).date()
    return [Notice(instance_id=ev.instance_id, kind=NoticeKind.escalation, sequence=1, stage=stage_id, party="", due_date=day,
                   send_at=slot.at.in_timezone("UTC"), recipient=r, facts=facts, language=definition.notices.language)
            for r in recipients]


def _several(names: list[str]) -> str:
    """"Bjurholms kommun, Dorotea kommun och 14 till": short enough for a subject line."""
    shown, rest = names[:2], len(names) - 2
    return f"{shown[0]}, {shown[1]} och {rest} till" if rest > 0 else " och ".join(shown)


def event_notices(ev: Evaluation, changes: Iterable[Change]) -> list[Notice]:
    """What a transition causes, queued in its own transaction: a ready notice for every node
    it opened, a confirmation for every decision it recorded."""
    notices: list[Notice] = []
    settings = ev.definition.notices
    for change in changes:
        stage = ev.definition.stage(change.node.stage)
        before = kind_of(ev.definition, stage, change.before)
        after = kind_of(ev.definition, stage, change.after.state)
        if settings.ready and before is StateKind.waiting and after in OPEN_KINDS and is_open(ev, change.node):
            ready, _, _ = schedule(ev, change.node)
            if ready is not None:
                notices += _node_notices(ev, change.node, ready)
        elif (settings.confirmation and not change.automatic and stage.record and change.after.record
              and change.before != change.after.state  # not for an addition (the announcement) or a resolved warning
              and (after in (StateKind.done, StateKind.failed) or _answered(ev, stage, change))):
            slot = Slot(NoticeKind.confirmation, 1, first_slot(ev.now, ev.definition.reminder_policy(stage).at))
            notices += _node_notices(ev, change.node, slot, decided_on=change.at)
    return notices


def _answered(ev: Evaluation, stage: Stage, change: Change) -> bool:
    """A decision that leaves its branch open but asks someone else to act: a split decision,
    amendments for the counterparty, or the counterparty's answer to them. The party is told
    at each step."""
    definition = ev.definition
    if definition.state_outcome(stage.lifecycle, change.after.state) is not None:
        return True
    return stage.counterparty is not None and definition.awaits_counterparty(stage, change.before)


def pointless(ev: Evaluation, kind: NoticeKind, stage: str, party: str, due_date: pendulum.Date,
              facts: dict | None = None) -> str | None:
    """Why a queued notice has become pointless (in Swedish), or None if it still matters."""
    if kind in (NoticeKind.confirmation, NoticeKind.digest):
        return None
    if kind is NoticeKind.escalation and not party and facts and facts.get("party_ids"):
        still = [p for p in facts["party_ids"] if Node(stage, p) in ev.rows and is_open(ev, Node(stage, p))]
        return None if still else "inte längre aktuellt: alla grenar i eskaleringen är klara eller stoppade"
    node = Node(stage, party or None)
    if node not in ev.rows:
        return "steget finns inte i instansens definition"
    row = ev.rows[node]
    if row.kind is StateKind.done:
        return f"inte längre aktuellt: {row.state_name.lower()}"
    if row.kind is StateKind.failed or row.blocked_by:
        return "inte längre aktuellt: steget har stoppats av ett avslag"
    if row.kind not in OPEN_KINDS:
        return "inte längre aktuellt: steget väntar på föregående steg"
    if row.deadline != due_date:
        return f"inte längre aktuellt: fristen är nu {row.deadline.isoformat()}"
    return None


def _recipients(definition: Definition, party_id: str, roles: Iterable[Role]) -> list[Recipient]:
    roles = set(roles)
    return [Recipient(c.email, c.name) for c in definition.party(party_id).contacts if c.role in roles]


def party_recipients(definition: Definition, stage: Stage, node: Node) -> list[Recipient]:
    policy = definition.reminder_policy(stage)
    return _recipients(definition, node.party or stage.owner, policy.to_roles or [stage.responsible_role])


def escalation_recipients(definition: Definition, stage: Stage) -> list[Recipient]:
    policy = definition.reminder_policy(stage)
    found = _recipients(definition, stage.owner, [stage.responsible_role])
    if policy.escalate:
        found += _recipients(definition, policy.escalate.to_party, [policy.escalate.to_role])
    unique: dict[str, Recipient] = {}
    for recipient in found:
        unique.setdefault(recipient.email.lower(), recipient)
    return list(unique.values())


def _node_notices(ev: Evaluation, node: Node, slot: Slot, decided_on: pendulum.DateTime | None = None) -> list[Notice]:
    definition = ev.definition
    stage = definition.stage(node.stage)
    escalation = slot.kind is NoticeKind.escalation
    recipients = escalation_recipients(definition, stage) if escalation else party_recipients(definition, stage, node)
    counterparty = stage.counterparty
    if not escalation and node.party and counterparty and definition.counterparty_acts(stage, ev.state[node].state):
        # Amendments to answer, a split decision to follow up: the counterparty is reminded; both are told.
        answering = _recipients(definition, counterparty.party, [counterparty.role])
        if slot.kind is NoticeKind.confirmation:
            answering = list({r.email.lower(): r for r in [*recipients, *answering]}.values())
        recipients = answering
    row = ev.rows[node]
    due = decided_on.in_timezone(TIMEZONE).date() if decided_on else row.deadline
    facts = node_facts(ev, node, slot.kind, slot.at, [r.name or r.email for r in recipients] if escalation else [])
    common = dict(instance_id=ev.instance_id, kind=slot.kind, sequence=slot.sequence, stage=node.stage, party=node.party or "",
                  due_date=due, send_at=slot.at.in_timezone("UTC"), language=definition.notices.language)
    if not recipients:
        who = definition.party(node.party or stage.owner).name
        return [Notice(**common, recipient=None, facts=facts,
                       missing_reason=f"{who} har ingen kontakt i definitionen som kan ta emot meddelandet")]
    return [Notice(**common, recipient=r, facts=facts) for r in recipients]


def week_start(moment: pendulum.DateTime) -> pendulum.Date:
    day = moment.in_timezone(TIMEZONE).date()
    return day.subtract(days=day.isoweekday() - 1)


def digest_slot(definition: Definition, monday: pendulum.Date) -> pendulum.DateTime | None:
    digest = definition.notices.digest
    if digest is None:
        return None
    day = next_business_day(monday.add(days=digest.weekday - 1))
    return local_datetime(day, digest.at) if day < monday.add(days=7) else None  # a week closed throughout has none


def _digest(ev: Evaluation) -> list[Notice]:
    digest = ev.definition.notices.digest
    if digest is None or all(row.kind in (StateKind.done, StateKind.failed) for row in ev.rows.values()):
        return []
    monday = week_start(ev.now)
    at = digest_slot(ev.definition, monday)
    if at is None or at > ev.now:
        return []
    facts = digest_facts(ev, monday)
    recipients = _recipients(ev.definition, digest.to_party, [digest.to_role])
    return [Notice(instance_id=ev.instance_id, kind=NoticeKind.digest, sequence=1, stage="", party="", due_date=monday,
                   send_at=at.in_timezone("UTC"), recipient=r, facts=facts, language=ev.definition.notices.language)
            for r in recipients]


__all__ = ["Evaluation", "Slot", "due_notices", "evaluate", "event_notices", "first_slot", "pointless", "schedule", "week_start"]
