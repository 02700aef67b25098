"""The facts a notice's text is made from (the keys are listed in model.py): plain,
JSON-serialisable data, Swedish where it is words, stored in the outbox with the notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pendulum

from samverkan.calendar import TIMEZONE
from samverkan.dashboard.adoption import progress
from samverkan.dashboard.tables import first_late_and_rejected
from samverkan.engine import InstanceState
from samverkan.forecast import forecast
from samverkan.graph import Node
from samverkan.meetings.chains import example_note
from samverkan.outcomes import decided_text, decided_when, mid_sentence, not_adopted_documents, record_outcome, warning_texts
from samverkan.planner import PlannedNode
from samverkan.process_definitions.model import ROLE_NAMES, DecisionOutcome, Definition, Role, StateKind
from samverkan.rejections import rejections
from samverkan.status import StatusRow
from samverkan.text import in_sentence

from .model import ACTION_KINDS, NoticeKind

if TYPE_CHECKING:
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
        parts.append(f"{late} försenade")
    failed = sum(r.failed for r in rows)
    if failed:
        parts.append(f"{failed} avslag")
    if all(r.kind is StateKind.done for r in rows):
        parts.append("processen är avslutad")
    return " · ".join(parts)


def _ask(definition: Definition, stage_id: str) -> tuple[str | None, str | None]:
    """Whom to ask: the stage owner's contact in the stage's responsible role."""
    stage = definition.stage(stage_id)
    contact = next((c for c in definition.party(stage.owner).contacts if c.role is stage.responsible_role), None)
    return (contact.name, contact.email) if contact else (None, None)


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
    ask_name, ask_email = _ask(definition, node.stage)
    policy = definition.reminder_policy(stage)
    roles = policy.to_roles or [stage.responsible_role]
    if kind is NoticeKind.escalation:  # it goes to the stage's owner and the director's office instead
        roles = list(dict.fromkeys([stage.responsible_role, *([policy.escalate.to_role] if policy.escalate else [])]))
    current = ev.state[node]
    if kind is not NoticeKind.escalation and node.party and definition.counterparty_acts(stage, current.state):
        # The counterparty must act (policy._node_notices): it is reminded; both are told.
        roles = [*roles, stage.counterparty.role] if kind is NoticeKind.confirmation else [stage.counterparty.role]
    note = example_note(definition) if item.meetings and item.meetings.example else None
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
        "deadline": row.deadline.isoformat(),
        "deadline_hard": item.hard,
        "deadline_reason": row.deadline_reason,
        "hard_limit": limit.isoformat() if limit is not None and limit != row.deadline else None,
        "days_left": row.deadline.toordinal() - send_day.toordinal(),
        "decision_body": (party or definition.party(stage.owner)).decision_body,
        "ask_name": ask_name,
        "ask_email": ask_email,
        "overview": ev.overview,
        "recipient_role": ", ".join(ROLE_NAMES[Role(r)] for r in roles),
        "escalated_to": escalated_to,
        "meetings": meeting_lines(item) if kind is not NoticeKind.confirmation else [],
        "record": [],
        "outcome": None,
        "outcome_failed": False,
        "decided": None,
        "next_step": None,
        "warnings": [],
        # A reminder to a party about its branch says how to act: its form, with a one-time code.
        "form_code": node.party is not None and kind.value in ACTION_KINDS,
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


def meeting_lines(item: PlannedNode) -> list[str]:
    """What a branch decided at meetings must reach, and when, in Swedish."""
    meetings = item.meetings
    if meetings is None or item.completed is not None:
        return []
    lines = []
    under_way = item.act_by is not None and item.act_by != meetings.material_by  # with its first body already
    if meetings.latest and under_way:
        last = meetings.latest[-1]
        lines.append(f"Ärendet måste finnas på {in_sentence(last.body_name)}s föredragningslista senast {item.act_by.isoformat()} "
                     f"för att hinna till {in_sentence(last.body_name)} {last.day.isoformat()}, det sista sammanträdet som hinner "
                     "besluta i tid.")
    elif meetings.latest:
        sittings = [f"{in_sentence(s.body_name)} {s.day.isoformat()}" for s in meetings.latest]
        chain = " och ".join([", ".join(sittings[:-1]), sittings[-1]]) if len(sittings) > 1 else sittings[0]
        lines.append(f"Ärendet måste vara hos {in_sentence(meetings.latest[0].body_name)} senast {meetings.material_by.isoformat()} "
                     f"för att hinna till {chain}, de sista sammanträdena som hinner besluta i tid.")
    if meetings.decision:
        spare = meetings.slack_meetings
        margin = "" if spare is None else f" ({spare} sammanträde{'n' if spare != 1 else ''} i marginal)" if spare >= 0 \
            else " – efter det sista sammanträdet som hinner besluta i tid"
        lines.append(f"Väntat beslut: {in_sentence(meetings.decision.body_name)} {meetings.decision.day.isoformat()}{margin}.")
    else:
        lines.append("Inget sammanträde i kalendern som ärendet kan nå hinner besluta i tid.")
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
    ahead = forecast(definition, ev.state, today, ev.plan)  # the digest leads with the parties at risk
    return {
        "process_name": definition.name,
        "instance_id": ev.instance_id,
        "marks": list(ev.marks) + ([example_note(definition)] if definition.example_calendars else []),
        "at_risk": [p.cause for p in ahead.at_risk][:MAX_LIST],
        "outside": [p.cause for p in ahead.outside][:MAX_LIST],
        "week": monday.isocalendar()[1],
        "week_start": monday.isoformat(),
        "overview": ev.overview,
        "progress": progress_lines,
        "late": [{"stage_name": r.name, "party_name": r.party_name, "deadline": r.deadline.isoformat(),
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
