"""The facts a notice's text is made from (the keys are listed in model.py): plain,
JSON-serialisable data, Swedish where it is words, stored in the outbox with the notice."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pendulum

from samverkan.calendar import TIMEZONE
from samverkan.calendar.appeal import ANNOUNCED, MINUTES_APPROVED
from samverkan.calendar.legal import LAW_SECTION_2, why_closed
from samverkan.calendar.minutes import MINUTES_LAW, MinutesCheck, Missing
from samverkan.dashboard.adoption import progress
from samverkan.dashboard.tables import first_late_and_rejected
from samverkan.engine import InstanceState, reference_of
from samverkan.forecast import awaiting_registration, forecast
from samverkan.graph import Node
from samverkan.meetings.chains import example_note, reserve_text
from samverkan.outcomes import decided_text, decided_when, mid_sentence, not_adopted_documents, record_outcome, warning_texts
from samverkan.planner import PlannedNode
from samverkan.process_definitions.model import ROLE_NAMES, DecisionOutcome, Definition, Role, StateKind
from samverkan.rejections import rejections
from samverkan.status import StatusRow
from samverkan.text import in_sentence

from .model import ACTION_KINDS, NoticeKind, link_mark

if TYPE_CHECKING:
    from samverkan.forecast import Unregistered

    from .policy import Evaluation

MAX_LIST = 40  # a digest lists at most this many of each; the dashboard has the rest


def overview_line(definition: Definition, state: InstanceState, rows: list[StatusRow]) -> str:
    """Where the whole process stands, in one line: "3 av 16 har antagit · pågår: … · 2 försenade"."""
    parts = [progress(definition, state).text]
    running = list(dict.fromkeys(r.name for r in rows if r.kind in (StateKind.ready, StateKind.active) and not r.blocked_by))
    if running:
        parts.append("pågår: " + ", ".join(running[:3]) + (f" och {len(running) - 3} till" if len(running) > 3 else ""))
    late = sum(r.late for r in rows if not r.failed and not r.blocked_by)
    if late:
        parts.append(f"{late} {'försenat' if late == 1 else 'försenade'}")
    failed = sum(r.failed for r in rows)
    if failed:
        parts.append(f"{failed} avslag")
    if all(r.kind is StateKind.done for r in rows):
        parts.append("processen är avslutad")
    return " · ".join(parts)


def ask_facts(definition: Definition, stage_id: str) -> dict[str, Any]:
    """Whom to ask: the process's own contact (the project lead), else the stage owner's
    contact in the stage's responsible role."""
    found = definition.process_contact()
    if found is None:
        stage = definition.stage(stage_id)
        owner = definition.party(stage.owner)
        contact = next((c for c in owner.contacts if c.role is stage.responsible_role), None)
        found = (owner, contact) if contact else None
    if found is None:
        return {"ask_name": None, "ask_email": None, "ask_phone": None, "ask_role": None}
    party, contact = found
    return {"ask_name": contact.name, "ask_email": contact.email, "ask_phone": contact.phone,
            "ask_role": f"{ROLE_NAMES[contact.role]} på {party.name}"}


def recipient_role(definition: Definition, email: str, parties: Iterable[str]) -> str | None:
    """The role in which this recipient gets the message ("sekreterare för Bjurholms kommun"):
    their own contact entry among the parties the message concerns, the first that names them."""
    for party_id in dict.fromkeys(parties):
        party = definition.party(party_id)
        roles = [ROLE_NAMES[c.role] for c in party.contacts if c.email.lower() == email.lower()]
        if roles:
            return f"{' och '.join(roles)} för {party.name}"
    return None


def _actions(definition: Definition, stage_id: str, state: str) -> list[str]:
    cycle = definition.lifecycle(definition.stage(stage_id).lifecycle)
    return [t.name or t.to for t in cycle.transitions if state in t.source]


def node_facts(ev: Evaluation, node: Node, kind: NoticeKind, send_at: pendulum.DateTime, escalated_to: list[str]) -> dict[str, Any]:
    definition = ev.definition
    stage = definition.stage(node.stage)
    row = ev.rows[node]
    party = definition.party(node.party) if node.party else None
    item = ev.plan.get(node.stage, node.party)
    limit = item.latest_finish
    send_day = send_at.in_timezone(TIMEZONE).date()
    policy = definition.reminder_policy(stage)
    roles = policy.to_roles or [stage.responsible_role]
    if kind is NoticeKind.escalation:  # it goes to the stage's owner and the director's office instead
        roles = list(dict.fromkeys([stage.responsible_role, *([policy.escalate.to_role] if policy.escalate else [])]))
    current = ev.state[node]
    if kind is not NoticeKind.escalation and node.party and definition.counterparty_acts(stage, current.state):
        # The counterparty must act (policy._node_notices): it is reminded; both are told.
        roles = [*roles, stage.counterparty.role] if kind is NoticeKind.confirmation else [stage.counterparty.role]
    note = example_note(definition) if item.meetings and item.meetings.example else None
    # A countdown asks for the step due next, on its own day: for a matter decided at meetings,
    # the day it must reach a body's agenda, not the council's day it aims at.
    unregistered = awaiting_registration(definition, ev.state, node, send_day) if kind is not NoticeKind.confirmation else None
    step = _next_step(item) if kind.value in ACTION_KINDS and unregistered is None else None
    # A meeting passed with nothing registered: what is asked now is the registration, by the
    # day its minutes are due.
    due = step.due if step else unregistered.minutes_by if unregistered and kind.value in ACTION_KINDS else row.deadline
    facts: dict[str, Any] = {
        "process_name": definition.name,
        "instance_id": ev.instance_id,
        "marks": [*ev.marks, *([note] if note else [])],
        "stage_id": stage.id,
        "stage_name": stage.name,
        "stage_description": stage.description,
        "party_id": node.party,
        "party_name": party.name if party else None,
        "state_name": row.state_name,
        "actions": _actions(definition, node.stage, current.state),
        "deadline": due.isoformat(),
        # "fast" only for a date that truly cannot move (the planner's deadline_fixed), never a step's day.
        "deadline_fixed": item.deadline_fixed and not step,
        "deadline_reason": row.deadline_reason if not step else None,
        # The process's own last day belongs in an escalation, not beside a party's own deadline.
        "hard_limit": limit.isoformat() if kind is NoticeKind.escalation and limit is not None and limit != row.deadline else None,
        "days_left": due.toordinal() - send_day.toordinal(),
        "step": step.kind if step else None,
        "step_body": step.body if step else None,
        "goal": step.goal if step else None,
        "goal_day": step.goal_day.isoformat() if step else None,
        "decision_body": (party or definition.party(stage.owner)).decision_body,
        **ask_facts(definition, node.stage),
        "overview": ev.overview,
        "recipient_role": ", ".join(ROLE_NAMES[Role(r)] for r in roles),
        "escalated_to": escalated_to,
        "meetings": meeting_lines(item, unregistered) if kind is not NoticeKind.confirmation else [],
        # Its meeting has passed and the minutes are not yet due: the decision is probably
        # taken; the party is asked to register it, not told it is late.
        "awaiting_registration": None if unregistered is None else {
            "body": unregistered.meeting.body_name, "meeting": unregistered.meeting.day.isoformat(),
            "minutes_by": unregistered.minutes_by.isoformat()},
        "record": [],
        "outcome": None,
        "outcome_failed": False,
        "decided": None,
        "next_step": None,
        "warnings": [],
        # A reminder to a party about its branch says how to act: its form, with a one-time code.
        "form_code": node.party is not None and kind.value in ACTION_KINDS,
        # A stage of the office's own is recorded from the command line (or the transition
        # deployment's form): the mail gives the command.
        "command": f"samverkan transition {ev.instance_id} {stage.id} --to …" if node.party is None and kind.value in ACTION_KINDS else None,
    }
    if kind is NoticeKind.confirmation:
        names = {f.id: f.name for f in stage.record}
        facts["record"] = [[names.get(key, key), str(value)] for key, value in current.record.items() if key in names]
        facts["outcome"] = row.state_name
        said = record_outcome(stage, current.record)
        facts["outcome_failed"] = row.kind is StateKind.failed and said is not DecisionOutcome.split
        facts["actions"] = []
        who = party or definition.party(stage.owner)
        decided = decided_text(stage, current.record, who.decision_body or who.name)
        facts["decided"] = decided + decided_when(stage, current.record) if decided else None
        facts["next_step"] = confirmation_next_step(definition, stage, node, current, row.kind)
        facts["warnings"] = list(warning_texts(current.record))
    return facts


def minutes_facts(ev: Evaluation, node: Node, check: MinutesCheck) -> dict[str, Any]:
    """What a reminder to register a decision's minutes says beyond a node's facts: what is
    missing, the last days the law gives, and exactly how to register it (model.py)."""
    definition = ev.definition
    stage = definition.stage(node.stage)
    current = ev.state[node]
    state = current.state
    loop = next((t for t in definition.lifecycle(stage.lifecycle).transitions
                 if t.source == [state] and t.to == state and t.fields is not None), None)
    wanted = [MINUTES_APPROVED, ANNOUNCED] if check.missing is Missing.approval or loop is None or not loop.partial else [ANNOUNCED]
    if loop is not None:
        wanted = [f for f in wanted if f in loop.fields]
    values = {f: (current.record.get(f) if f == MINUTES_APPROVED and check.approved and check.missing is Missing.announcement
                  else "ÅÅÅÅ-MM-DD") for f in wanted}
    party = f" --party {node.party}" if node.party else ""
    command = (f"samverkan transition {ev.instance_id} {node.stage}{party} --to {state} "
               + " ".join(f"--field {f}={v}" for f, v in values.items()))
    registrar = next((c for c in definition.party(stage.owner).contacts if c.role is Role.registrar), None)
    return {
        "minutes_missing": check.missing.value,
        "decision_date": check.decided.isoformat(),
        "paragraph": reference_of(stage, current.record),
        "approve_by": check.approve_by.due.isoformat(),
        "approve_by_reason": _moved(check.approve_by),
        "minutes_approved": check.approved.isoformat() if check.approved else None,
        "announce_by": check.announce_by.due.isoformat() if check.announce_by else None,
        "announce_by_reason": _moved(check.announce_by),
        "law": MINUTES_LAW,
        "register_state": state,
        "register_fields": wanted,
        "register_command": command,
        "register_json": json.dumps(values, ensure_ascii=False),
        "registrar_name": registrar.name if registrar else None,
        "registrar_email": registrar.email if registrar else None,
    }


def _moved(due) -> str | None:
    """Why a last day is not the one counted: '2026-11-21 är en lördag, lag (1930:173) 2 §'."""
    if due is None or not due.moved:
        return None
    return f"{due.nominal.isoformat()} är {why_closed(due.nominal)}, {LAW_SECTION_2}"



@dataclass(frozen=True)
class NextStep:
    kind: str  # "to-body": the matter must reach `body`; "on-agenda": be on `body`'s agenda
    body: str  # the body's name, as the calendar gives it ("Kommunstyrelsen")
    due: pendulum.Date
    goal: str  # the deciding body whose meeting it must reach in time for
    goal_day: pendulum.Date


def _next_step(item: PlannedNode) -> NextStep | None:
    """The step a branch decided at meetings must take next, and by when, to reach the last
    deciding meeting that keeps its deadline."""
    meetings = item.meetings
    if meetings is None or item.completed is not None or not meetings.latest or meetings.material_by is None:
        return None
    last = meetings.latest[-1]
    if item.act_by is not None and item.act_by != meetings.material_by:  # with its first body already
        return NextStep("on-agenda", last.body_name, item.act_by, last.body_name, last.day)
    return NextStep("to-body", meetings.latest[0].body_name, meetings.material_by, last.body_name, last.day)


def confirmation_next_step(definition: Definition, stage, node: Node, current, kind: StateKind) -> str | None:
    """What happens after a decision that asks someone else to act, in Swedish: amendments the
    counterparty must answer (and its answer), a split decision the counterparty follows up."""
    counterparty = stage.counterparty
    if counterparty is None or node.party is None:
        return None
    who = definition.party(counterparty.party).name
    party = definition.party(node.party)
    body = mid_sentence(party.decision_body or party.name)
    said = record_outcome(stage, current.record)
    answered = _answer_day(definition, stage, current.record)
    if definition.awaits_counterparty(stage, current.state):
        return (f"{who} ({ROLE_NAMES[counterparty.role]}) ska nu godta eller avvisa ändringarna. Godtas de är antagandet "
                f"klart, utan något nytt beslut; godtas de inte behöver ärendet ett nytt beslut i {body}. "
                "Ni får en bekräftelse när svaret är registrerat.")
    if said is DecisionOutcome.amended and answered and kind is StateKind.done:
        return f"{who} godtog ändringarna {answered}. Antagandet är klart; inget nytt beslut behövs."
    if said is DecisionOutcome.amended and answered and kind is StateKind.active:
        return f"{who} godtog inte ändringarna ({answered}). Ärendet behöver ett nytt beslut i {body}."
    if definition.state_outcome(stage.lifecycle, current.state) is DecisionOutcome.split:
        missing = " och ".join(not_adopted_documents(stage, current.record)) or "det som inte antogs"
        return (f"Beslutet är delat. {who} ({ROLE_NAMES[counterparty.role]}) följer upp med er: ett nytt beslut om "
                f"{missing} i {body}, eller att {party.name} står utanför.")
    return None


def _answer_day(definition: Definition, stage, record) -> str | None:
    """The day the counterparty answered amendments, from the field its transitions record."""
    fields = [f for t in definition.lifecycle(stage.lifecycle).transitions if t.by == "counterparty" for f in t.fields or []]
    return next((str(record[f]) for f in fields if record.get(f)), None)


def meeting_lines(item: PlannedNode, unregistered: Unregistered | None = None) -> list[str]:
    """What a branch decided at meetings must reach, and when, in Swedish; once its meeting has
    passed with the decision not yet registered, that it should be registered."""
    meetings = item.meetings
    if meetings is None or item.completed is not None:
        return []
    if unregistered is not None:
        meeting = unregistered.meeting
        return [f"{meeting.body_name} sammanträdde {meeting.day.isoformat()}. Om beslutet fattades då: registrera det när "
                f"protokollet är justerat, senast {unregistered.minutes_by.isoformat()}."]
    lines = []
    under_way = item.act_by is not None and item.act_by != meetings.material_by  # with its first body already
    if meetings.latest and under_way:
        last = meetings.latest[-1]
        lines.append(f"Ärendet måste finnas på {in_sentence(last.body_name)}s föredragningslista senast {item.act_by.isoformat()} "
                     f"för att hinna till {in_sentence(last.body_name)} {last.day.isoformat()}, det sista sammanträde där "
                     "beslutet hinner fattas.")
    elif meetings.latest:
        sittings = [f"{in_sentence(s.body_name)} {s.day.isoformat()}" for s in meetings.latest]
        chain = " och ".join([", ".join(sittings[:-1]), sittings[-1]]) if len(sittings) > 1 else sittings[0]
        lines.append(f"Ärendet måste vara hos {in_sentence(meetings.latest[0].body_name)} senast {meetings.material_by.isoformat()} "
                     f"för att hinna till {chain}, {'de sista sammanträden' if len(sittings) > 1 else 'det sista sammanträde'} "
                     "där beslutet hinner fattas.")
    if meetings.decision:
        spare = meetings.slack_meetings
        margin = "" if spare is None else f" ({reserve_text(spare)} i reserv)" if spare >= 0 \
            else " – efter det sista sammanträde där beslutet hinner fattas"
        lines.append(f"Väntat beslut: {in_sentence(meetings.decision.body_name)} {meetings.decision.day.isoformat()}{margin}.")
    else:
        lines.append("Inget planerat sammanträde som ärendet kan nå hinner fatta beslutet i tid; ett extra sammanträde "
                     "(kommunallagen 5 kap.) kan behövas.")
    lines += [f"Observera: {warning}." for warning in meetings.warnings]
    return lines


def _names(definition: Definition, nodes) -> list[str]:
    return [definition.party(n.party).name if n.party else definition.stage(n.stage).name for n in nodes]


def digest_facts(ev: Evaluation, monday: pendulum.Date) -> dict[str, Any]:
    definition = ev.definition
    # A parallel stage as a whole is told through its branches.
    rows = [r for r in ev.rows.values() if r.node.party or not definition.stage(r.node.stage).for_each]
    today = ev.now.in_timezone(TIMEZONE).date()

    late = [r for r in first_late_and_rejected(rows) if r.late and not r.failed and not r.blocked_by]
    blocked = [r for r in rows if r.blocked_by and not r.failed]
    upcoming = sorted((r for r in rows if r.kind in (StateKind.ready, StateKind.active) and not r.blocked_by
                       and r.days_left is not None and r.days_left >= 0), key=lambda r: (r.deadline, r.node.key))
    running = [r for r in rows if r.kind in (StateKind.ready, StateKind.active) and not r.node.party and not r.blocked_by]
    parallel = dict.fromkeys(r.node.stage for r in rows if r.node.party and r.kind in (StateKind.ready, StateKind.active))
    progress_lines = [f"{r.name}: {r.state_name.lower()}, frist {r.deadline.isoformat()}" for r in running]
    for stage_id in parallel:  # branches still waiting for what comes before are not done
        branches = [r for r in rows if r.node.stage == stage_id]
        done = sum(1 for r in branches if r.kind is StateKind.done)
        progress_lines.append(f"{definition.stage(stage_id).name}: {done} av {len(branches)} klara")
    ahead = forecast(definition, ev.state, today, ev.plan)  # the digest leads with who cannot make it and who is at risk
    return {
        "process_name": definition.name,
        "instance_id": ev.instance_id,
        "marks": list(ev.marks) + ([example_note(definition)] if definition.example_calendars else []),
        "cannot": [p.cause for p in ahead.cannot][:MAX_LIST],
        "at_risk": [p.cause for p in ahead.at_risk][:MAX_LIST],
        # Each party named links to its branch's page, put in as the digest is sent.
        "cannot_links": [link_mark(ahead.stage, p.party) for p in ahead.cannot][:MAX_LIST],
        "at_risk_links": [link_mark(ahead.stage, p.party) for p in ahead.at_risk][:MAX_LIST],
        "links": [[ahead.stage, p.party] for p in [*ahead.cannot[:MAX_LIST], *ahead.at_risk[:MAX_LIST]]]
                 + [[r.node.stage, r.node.party] for r in late[:MAX_LIST] if r.node.party],
        "awaiting_registration": [p.cause for p in ahead.awaiting_registration][:MAX_LIST],
        "outside": [p.cause for p in ahead.outside][:MAX_LIST],
        "week": monday.isocalendar()[1],
        "week_start": monday.isoformat(),
        "overview": ev.overview,
        "progress": progress_lines,
        "late": [{"stage_name": r.name, "party_name": r.party_name, "deadline": r.deadline.isoformat(),
                  "link": link_mark(r.node.stage, r.node.party) if r.node.party else None,
                  "days_late": -(r.days_left or 0), "owner_name": definition.party(r.owner).name} for r in late[:MAX_LIST]],
        "rejected": [{"stage_name": definition.stage(x.node.stage).name,
                      "party_name": definition.party(x.node.party).name if x.node.party else None,
                      "state_name": x.state_name, "reason": x.next_step,
                      "blocks": [definition.stage(s).name for s in x.blocks]} for x in rejections(definition, ev.state)][:MAX_LIST],
        "blocked": [{"stage_name": r.name, "party_name": r.party_name, "waiting_on": _names(definition, r.blocked_by)}
                    for r in blocked[:MAX_LIST]],
        "failed_notices": list(ev.failed_notices)[:MAX_LIST],
        "next_deadlines": [{"stage_name": r.name, "party_name": r.party_name, "deadline": r.deadline.isoformat(),
                            "days_left": r.deadline.toordinal() - today.toordinal()} for r in upcoming[:10]],
    }
