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
- the escalation goes to the stage owner and the director's office only once the recorded
  facts and the calendars say the deadline will be missed (`out_of_reach`), never merely because
  it is near; then at its slot (some time after the deadline, but at the latest `before_hard`
  before that last day: time to act), or at once if it became out of reach later;
- a confirmation goes when a branch's decision is recorded (a "no" included);
- the digest goes weekly to the director's office while the process is not finished;
- a decision whose minutes are not registered as approved 14 days after the meeting, or as
  announced two days after the approval (kommunallagen 8 kap. 12 §, the last days moved per
  lag (1930:173) 2 §), gets one reminder to its party's secretary the business day after that
  last day, saying exactly how to register it.
A slot is the policy's local time on a business day: never at night, on a weekend, a holiday
or an eve (midsommarafton, julafton, nyårsafton)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pendulum

from samverkan.calendar import TIMEZONE, is_business_day, legal_due, local_datetime, next_business_day
from samverkan.engine import Change, InstanceState, kind_of, nodes_of
from samverkan.forecast import MINUTES_WITHIN, awaiting_registration
from samverkan.graph import Node
from samverkan.planner import Plan
from samverkan.process_definitions.model import ROLE_NAMES, Definition, Role, Stage, StateKind
from samverkan.reminders import ReminderKind
from samverkan.status import StatusRow, plan_for, status_rows

from .facts import digest_facts, meeting_lines, minutes_facts, node_facts, overview_line, recipient_role
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


def out_of_reach(ev: Evaluation, node: Node) -> pendulum.DateTime | None:
    """The moment from which the open node can no longer keep its deadline, by what is recorded
    and the calendars, or None while it still can. A moment, not a verdict of today: an
    escalation is named by when it became due, so a later one is never mistaken for an earlier.

    A branch decided at meetings is out of reach when the last agenda that keeps the deadline
    closed with the matter not even registered as under preparation (a forgotten registration
    earns reminders until then), or when its last meeting passed with no decision; other work
    when its plan finishes after the deadline, or when the deadline passed."""
    item = ev.plan.get(node.stage, node.party)
    meetings = item.meetings
    if meetings is not None and item.completed is None:
        if not meetings.latest:
            return _start_of(item.start)
        last = meetings.latest[-1]
        if ev.rows[node].kind is StateKind.ready:
            return _start_of(last.agenda_closes.add(days=1))
        # Its last meeting passed: the decision is probably taken and not yet registered until
        # the minutes are due (kommunallagen: 14 days); the party is reminded to register it.
        return _start_of(legal_due(last.day, MINUTES_WITHIN).due.add(days=1))
    if item.finish > item.deadline:
        current = ev.state[node]
        return current.changed_at or current.ready_at or _start_of(item.start)
    return _start_of(item.deadline.add(days=1))


def registration_slot(ev: Evaluation, node: Node) -> Slot | None:
    """A branch whose meeting has passed with no decision registered, while its minutes are not
    yet due: one reminder to register the decision (an "overdue" one: the step it asked for is
    past), the first business day after the meeting."""
    waiting = awaiting_registration(ev.definition, ev.state, node, ev.now.in_timezone(TIMEZONE).date())
    if waiting is None:
        return None
    policy = ev.definition.reminder_policy(ev.definition.stage(node.stage))
    return Slot(NoticeKind.overdue, 1, first_slot(_start_of(waiting.meeting.day.add(days=1)), policy.at))


def _start_of(day: pendulum.Date) -> pendulum.DateTime:
    return local_datetime(day, "00:00")


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
    if node.party:  # a passed meeting's registration supersedes the countdown before it
        waiting = registration_slot(ev, node)
        if waiting is not None and waiting.at <= ev.now:
            due = [waiting]
    if escalation is not None:
        missed = out_of_reach(ev, node)
        if missed is not None and missed <= ev.now:
            at = max(escalation.at, first_slot(missed, ev.definition.reminder_policy(ev.definition.stage(node.stage)).at))
            if at <= ev.now:
                due.append(Slot(NoticeKind.escalation, 1, at))
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
    notices += _minutes_reminders(ev)
    return notices


def minutes_slot(ev: Evaluation, node: Node) -> Slot | None:
    """When a decision whose minutes are not registered in time gets its reminder: the first
    send slot after the last day the law gives for what is missing."""
    check = ev.rows[node].minutes
    if check is None or check.missing is None:
        return None
    policy = ev.definition.reminder_policy(ev.definition.stage(node.stage))
    return Slot(NoticeKind.minutes, 1, first_slot(local_datetime(check.missing_due.due.add(days=1), policy.at), policy.at))


def _minutes_reminders(ev: Evaluation) -> list[Notice]:
    notices = []
    for node in nodes_of(ev.definition):
        slot = minutes_slot(ev, node) if node in ev.rows else None
        if slot is not None and slot.at <= ev.now:
            notices += _minutes_notices(ev, node, slot)
    return notices


def _minutes_notices(ev: Evaluation, node: Node, slot: Slot) -> list[Notice]:
    """To the party's secretary (the one who registers a council's minutes), or failing one
    the stage's reminder roles; its due date is the law's last day for what is missing."""
    definition = ev.definition
    stage = definition.stage(node.stage)
    check = ev.rows[node].minutes
    recipients = _recipients(definition, node.party or stage.owner, [Role.secretary])
    role = Role.secretary
    if not recipients:
        recipients = party_recipients(definition, stage, node)
        role = None
    facts = node_facts(ev, node, NoticeKind.minutes, slot.at, []) | minutes_facts(ev, node, check)
    facts["deadline"] = check.missing_due.due.isoformat()  # the law's last day, not the stage's
    facts["days_left"] = check.missing_due.due.toordinal() - slot.at.in_timezone(TIMEZONE).date().toordinal()
    if role is not None:
        facts["recipient_role"] = ROLE_NAMES[role]
    common = dict(instance_id=ev.instance_id, kind=NoticeKind.minutes, sequence=1, stage=node.stage, party=node.party or "",
                  due_date=check.missing_due.due, send_at=slot.at.in_timezone("UTC"), language=definition.notices.language)
    if not recipients:
        who = definition.party(node.party or stage.owner).name
        return [Notice(**common, recipient=None, facts=facts,
                       missing_reason=f"{who} har ingen kontakt i definitionen som kan ta emot meddelandet")]
    return [Notice(**common, recipient=r, facts=_as_recipient(definition, facts, r, node.party or stage.owner)) for r in recipients]


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
                   send_at=slot.at.in_timezone("UTC"), recipient=r, facts=_as_recipient(definition, facts, r, stage.owner),
                   language=definition.notices.language)
            for r in recipients]


def _as_recipient(definition: Definition, facts: dict, recipient: Recipient, *parties: str) -> dict:
    """The facts for one recipient: the role in which they get it, and no "ask yourself"."""
    concerned = [*parties, *([definition.contact.party] if definition.contact else []),
                 *(p.escalate.to_party for p in [definition.reminder_defaults] if p.escalate)]
    role = recipient_role(definition, recipient.email, [p for p in concerned if p])
    mine = dict(facts, recipient_role=role or facts.get("recipient_role"))
    if facts.get("ask_email") and facts["ask_email"].lower() == recipient.email.lower():
        mine |= {"ask_name": None, "ask_email": None, "ask_phone": None, "ask_role": None}
    return mine


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
              and before not in (StateKind.done, StateKind.failed)  # nor for what befalls a decision (an appeal)
              and (after in (StateKind.done, StateKind.failed) or _answered(ev, stage, change))):
            slot = Slot(NoticeKind.confirmation, 1, first_slot(ev.now, ev.definition.reminder_policy(stage).at))
            notices += _node_notices(ev, change.node, slot, decided_on=change.at)
            if after is StateKind.failed and change.node.party:
                notices += _told_to_the_office(ev, change.node, slot, change.at)
    return notices


def _told_to_the_office(ev: Evaluation, node: Node, slot: Slot, decided_on: pendulum.DateTime) -> list[Notice]:
    """A party's "no" goes to whoever can act on it (the project lead, the director's office)
    at once, not in next week's digest."""
    definition = ev.definition
    stage = definition.stage(node.stage)
    facts = node_facts(ev, node, NoticeKind.confirmation, slot.at, []) | {"to_office": True}
    party_addresses = {r.email.lower() for r in party_recipients(definition, stage, node)}
    return [Notice(instance_id=ev.instance_id, kind=NoticeKind.confirmation, sequence=1, stage=node.stage, party=node.party or "",
                   due_date=decided_on.in_timezone(TIMEZONE).date(), send_at=slot.at.in_timezone("UTC"), recipient=r,
                   facts=_as_recipient(definition, facts, r, stage.owner), language=definition.notices.language)
            for r in escalation_recipients(definition, stage) if r.email.lower() not in party_addresses]


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
    if kind is NoticeKind.minutes:
        return _minutes_pointless(ev, Node(stage, party or None), due_date, facts or {})
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


def _minutes_pointless(ev: Evaluation, node: Node, due_date: pendulum.Date, facts: dict) -> str | None:
    if node not in ev.rows:
        return "steget finns inte i instansens definition"
    check = ev.rows[node].minutes
    if check is None:
        return f"inte längre aktuellt: {ev.rows[node].state_name.lower()}"
    if check.missing is None or check.missing.value != facts.get("minutes_missing") or check.missing_due.due != due_date:
        what = "justeringen är registrerad" if facts.get("minutes_missing") == "approval" else "anslaget är registrerat"
        return f"inte längre aktuellt: {what}"
    return None


def _recipients(definition: Definition, party_id: str, roles: Iterable[Role]) -> list[Recipient]:
    roles = set(roles)
    return [Recipient(c.email, c.name) for c in definition.party(party_id).contacts if c.role in roles]


def party_recipients(definition: Definition, stage: Stage, node: Node) -> list[Recipient]:
    policy = definition.reminder_policy(stage)
    return _recipients(definition, node.party or stage.owner, policy.to_roles or [stage.responsible_role])


def escalation_recipients(definition: Definition, stage: Stage) -> list[Recipient]:
    """Whoever can act on it: the process's own contact (the project lead) and the director's
    office; without a process contact, the stage owner's responsible contact."""
    policy = definition.reminder_policy(stage)
    own = definition.process_contact()
    if own is not None:
        found = [Recipient(own[1].email, own[1].name)]
    else:
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
    return [Notice(**common, recipient=r, facts=_as_recipient(definition, facts, r, node.party or stage.owner)) for r in recipients]


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
