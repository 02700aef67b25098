"""An instance's status as people read it (Swedish table) and as scripts read it (JSON)."""

from __future__ import annotations

import json

import pendulum

from samverkan.process_definitions.model import ROLE_NAMES, Definition, Role
from samverkan.calendar import TIMEZONE
from samverkan.calendar.appeal import APPEAL_LAW, FinalityState
from samverkan.calendar.minutes import MINUTES_LAW, MinutesCheck
from samverkan.graph import Node
from samverkan.i18n import N_, _, n_
from samverkan.names import node_name, stages_named
from samverkan.rejections import FollowUp, Rejection
from samverkan.status import StatusRow, finality_line

from .plan_output import ASSUMPTION_MARK, assumption_notes, move_mark, moved_notes, short
from .table import table_lines


def _who(definition: Definition, node: Node) -> str:
    return node_name(definition, node)


def _node_ref(n: Node) -> dict:
    return {"id": n.stage, "party": n.party}


def rejections_as_dicts(definition: Definition, found: list[Rejection]) -> list[dict]:
    return [{
        "id": r.node.stage,
        "party": r.node.party,
        "party_name": definition.party(r.node.party).name if r.node.party else None,
        "state": r.state,
        "state_name": r.state_name,
        "at": r.at.in_timezone(TIMEZONE).isoformat() if r.at else None,
        "reference": r.reference,
        "decision_body": r.decision_body,
        "blocks": list(r.blocks),
        "join": r.join,
        "next_step": r.next_step,
        "text": rejection_text(definition, r),
    } for r in found]


def rejection_text(definition: Definition, r: Rejection) -> str:
    """One Swedish line: who said no, what it blocks, what has to happen next."""
    decided = ", ".join(x for x in (r.at.in_timezone(TIMEZONE).to_date_string() if r.at else None, r.reference, r.decision_body) if x)
    what = f"{_who(definition, r.node)}: {r.state_name}" + (f" ({decided})" if decided else "")
    stage = definition.stage(r.node.stage)
    taking_part = bool(stage.for_each and stage.for_each.join == "taking-part")
    if r.join and taking_part and not r.blocks:
        blocks = r.join_outcome or r.join
    elif r.blocks:
        blocks = _("blockerar {stages}", stages=stages_named(definition, r.blocks))
        blocks += _(" (steget {join})", join=r.join) if r.join else ""
    else:
        blocks = _("blockerar inget steg") + (_(" (steget {join})", join=r.join_rule) if r.join_rule else "")
    return f"{what}; {blocks}; {r.next_step}"


def follow_ups_as_dicts(definition: Definition, found: list[FollowUp]) -> list[dict]:
    return [{"id": f.node.stage, "party": f.node.party, "party_name": definition.party(f.node.party).name,
             "state_name": f.state_name, "decided": f.decided, "who": f.who, "next_step": f.next_step,
             "text": follow_up_text(definition, f)} for f in found]


def follow_up_text(definition: Definition, f: FollowUp) -> str:
    """One Swedish line: what was decided, and who does what next."""
    return f"{definition.party(f.node.party).name}: {f.state_name}. {f.decided}. {f.next_step[:1].upper()}{f.next_step[1:]}."


def _warnings(definition: Definition, rows: list[StatusRow]) -> list[tuple[StatusRow, str]]:
    return [(r, text) for r in rows for text in r.warnings]


def _iso(day) -> str | None:
    return day.isoformat() if day is not None else None


def finality_as_dict(f: FinalityState | None, reference: str | None) -> dict | None:
    """An adopted decision on its way to laga kraft: state not-announced, open-for-appeal or final."""
    if f is None:
        return None
    return {
        "state": f.state.value,
        "decision_date": _iso(f.decided),
        "reference": reference,
        "minutes_approved": _iso(f.minutes_approved),
        "announced": _iso(f.announced),
        "appeal_until": _iso(f.appeal_until),
        "appeal_until_nominal": _iso(f.appeal.nominal) if f.appeal else None,
        "appeal_until_moved_because": f.appeal.reason if f.appeal else None,
        "final_from": _iso(f.final_from),
        "final_text": f.final_text,
        "days_left": f.days_left,
        "appeal": {"court": f.court, "case": f.case, "decided": _iso(f.appeal_decided)} if f.court or f.appeal_decided else None,
        "law": APPEAL_LAW,
    }


def minutes_as_dict(m: MinutesCheck | None) -> dict | None:
    """A decision's minutes: the last days the law gives, what is missing, and the warnings."""
    if m is None:
        return None
    return {
        "approve_by": m.approve_by.due.isoformat(),
        "minutes_approved": _iso(m.approved),
        "announce_by": m.announce_by.due.isoformat() if m.announce_by else None,
        "announced": _iso(m.announced),
        "missing": m.missing.value if m.missing else None,
        "warnings": list(m.warnings),
        "law": MINUTES_LAW,
    }


def status_as_dict(instance_id: str, definition: Definition, rows: list[StatusRow], now: pendulum.DateTime,
                   illustrative: str | None = None, rejections: list[Rejection] | None = None, simulated: bool = False,
                   follow: list[FollowUp] | None = None) -> dict:
    return {
        "instance": instance_id,
        "illustrative": illustrative is not None,
        "illustrative_note": illustrative,
        "store_clock": "simulated" if simulated else "live",
        "process": {"id": definition.id, "name": definition.name, "version": definition.version},
        "as_of": now.in_timezone(TIMEZONE).isoformat(),
        "rejections": rejections_as_dicts(definition, rejections or []),
        "follow_ups": follow_ups_as_dicts(definition, follow or []),
        "warnings": [{"id": r.node.stage, "party": r.node.party, "party_name": r.party_name, "text": text}
                     for r, text in _warnings(definition, rows)],
        "stages": [{
            "id": r.node.stage,
            "name": r.name,
            "party": r.node.party,
            "party_name": r.party_name,
            "state": r.state,
            "state_name": r.state_name,
            "owner": r.owner,
            "owner_name": definition.party(r.owner).name,
            "assumption": definition.stage(r.node.stage).assumption,
            "responsible_role": r.responsible_role,
            "deadline": r.deadline.isoformat(),
            "nominal_deadline": r.nominal_deadline.isoformat(),
            "deadline_moved_because": r.deadline_reason,
            "deadline_moved_by": r.deadline_moved_by.value if r.deadline_moved_by else None,
            "days_left": r.days_left,
            "late": r.late,
            "failed": r.failed,
            "blocked": bool(r.blocked_by),
            "blocked_by": [_node_ref(n) for n in r.blocked_by],
            "outside_because_of": _node_ref(r.outside_by) if r.outside_by else None,
            "critical": r.critical,
            "completed_at": r.completed_at.in_timezone(TIMEZONE).isoformat() if r.completed_at else None,
            "waiting_for": [{"id": n.stage, "party": n.party} for n in r.waiting_for],
            "finality": finality_as_dict(r.finality, r.reference),
            "minutes": minutes_as_dict(r.minutes),
            "warnings": list(r.warnings),
        } for r in rows],
    }


def status_as_json(instance_id: str, definition: Definition, rows: list[StatusRow], now: pendulum.DateTime,
                   illustrative: str | None = None, rejections: list[Rejection] | None = None, simulated: bool = False,
                   follow: list[FollowUp] | None = None) -> str:
    data = status_as_dict(instance_id, definition, rows, now, illustrative, rejections, simulated, follow)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


_HEADINGS = (N_("Steg"), N_("Ansvarig part"), N_("Status"), N_("Sista dag"), N_("Dagar kvar"), N_("Väntar på"))


def _days(row: StatusRow) -> str:
    if row.outside_by is not None and not row.failed:
        return _("utanför")
    if row.failed:
        return _("AVSLAG")
    if row.blocked_by:
        return _("blockerat")
    if row.days_left is None:
        return _("klart")
    if row.awaiting_registration:
        return _("väntar på registrering")
    if row.days_left < 0:
        return n_("{n} dag försenat", "{n} dagar försenat", -row.days_left)
    return n_("{n} dag", "{n} dagar", row.days_left)


def _owner(definition: Definition, row: StatusRow) -> str:
    """The stage's owner, marked where the plan assumes it (the footnote says what)."""
    marked = definition.stage(row.node.stage).assumption is not None
    return definition.party(row.owner).name + (f" {ASSUMPTION_MARK}" if marked else "")


def _waiting(definition: Definition, row: StatusRow) -> str:
    if row.outside_by is not None and not row.failed:  # its party said no: nothing is waited for
        return _("står utanför: {node}", node=_who(definition, row.outside_by))
    if not row.waiting_for:
        return ""
    if row.waiting_for == (row.node,):
        return f"{_owner(definition, row)} ({_(ROLE_NAMES[Role(row.responsible_role)])})"
    names = [definition.party(n.party).name if n.party and n.stage == row.node.stage  # its own stage's branches
             else definition.stage(n.stage).name if n.party and n.party == row.node.party  # its own party's step
             else _who(definition, n) for n in row.waiting_for]
    shown = ", ".join(names[:4]) + (_(" och {count} till", count=len(names) - 4) if len(names) > 4 else "")
    return shown


def status_as_table(instance_id: str, definition: Definition, rows: list[StatusRow], now: pendulum.DateTime,
                    illustrative: str | None = None, rejections: list[Rejection] | None = None, marks: list[str] | None = None,
                    follow: list[FollowUp] | None = None) -> str:
    table = [(
        f"  └ {r.party_name}" if r.node.party else short(r.name),
        r.party_name if r.node.party else _owner(definition, r),
        ("! " if r.failed else "") + r.state_name + (_(" (kritisk)") if r.critical and r.days_left is not None else ""),
        r.deadline.isoformat() + move_mark(r.deadline_moved_by),
        _days(r),
        _waiting(definition, r),
    ) for r in rows]
    lines = [f"{definition.name}", _("Instans {instance}, läge {now}", instance=instance_id,
                                    now=now.in_timezone(TIMEZONE).to_datetime_string()), ""]
    lines[1:1] = marks if marks is not None else [illustrative] if illustrative else []
    warned = _warnings(definition, rows)
    if warned:  # a decision that may be annulled on appeal: seen first, until the office resolves it
        lines += [f"VARNING ({len(warned)}): kansliet behöver reda ut beslutet (samverkan resolve)"]
        lines += [f"! {r.party_name}, {r.name}: {text}" if r.party_name else f"! {r.name}: {text}" for r, text in warned]
        lines.append("")
    if rejections:
        # A "no" is seen first: before the table, with what it blocks and what has to happen.
        lines += [_("AVSLAG ({count}): ett nej stoppar det som väntar på det tills ett nytt beslut fattas", count=len(rejections))]
        lines += [f"! {rejection_text(definition, r)}" for r in rejections]
        lines.append("")
    if follow:
        lines += [f"UPPFÖLJNING ({len(follow)}): beslut som ännu varken är ett antagande eller ett avslag"]
        lines += [f"> {follow_up_text(definition, f)}" for f in follow]
        lines.append("")
    lines += table_lines([_(h) for h in _HEADINGS], table)
    notes = moved_notes(definition, [(r.node.stage, r.deadline_moved_by, r.deadline_reason) for r in rows])
    notes += assumption_notes(definition, [r.node.stage for r in rows])
    if notes:
        lines += ["", *notes]
    overdue = [r for r in rows if r.late]
    if overdue:
        named = ", ".join(_who(definition, r.node) for r in overdue[:6]) + (" …" if len(overdue) > 6 else "")
        lines += ["", _("Försenat: {count} ({nodes})", count=len(overdue), nodes=named)]
    pending = [line for line in map(finality_line, rows) if line]
    if pending:
        lines += ["", _("Ej laga kraft ({count}): kan överklagas i tre veckor från att justeringen anslagits ({law})",
                        count=len(pending), law=APPEAL_LAW)]
        lines += [f"  {line}" for line in pending]
    warnings = [(r.party_name or r.name, w) for r in rows for w in r.warnings]
    if warnings:
        lines += ["", f"Justering och anslag ({len(warnings)}): protokollet justeras inom 14 dagar, justeringen anslås "
                      f"inom två dagar därefter ({MINUTES_LAW})"]
        lines += [f"  {who}: {warning}" for who, warning in warnings]
    return "\n".join(lines) + "\n"
