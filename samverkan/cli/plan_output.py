"""A plan as people read it (a table, Swedish headings) and as scripts read it (JSON)."""

from __future__ import annotations

import json

from samverkan.i18n import N_, _, n_
from samverkan.names import node_name, stages_named
from samverkan.planner import MoveRule, Plan, PlannedNode
from samverkan.rejections import next_step

from samverkan.meetings.chains import MeetingPlan, Sitting, example_note, meetings_text

from .table import table_lines


def plan_as_dict(plan: Plan) -> dict:
    d = plan.definition
    return {
        "process": {"id": d.id, "name": d.name, "version": d.version, "timezone": d.timezone},
        "as_of": plan.as_of.isoformat() if plan.as_of else None,
        "example_calendars": d.example_calendars,
        "stages": [{**_node(n), "assumption": d.stage(n.node.stage).assumption} for n in plan.nodes],
        "blocked": [
            {"id": n.node.stage, "party": n.node.party, "blocked_by": [{"id": b.stage, "party": b.party} for b in n.blocked_by],
             "next_steps": [next_step(d, b) for b in n.blocked_by]}
            for n in plan.nodes if n.blocked and (n.node.party is None or n.blocked_by == (n.node,))
        ],
        "infeasible": [
            {
                "kind": i.kind.value,
                "id": i.node.stage,
                "party": i.node.party,
                "finish": i.finish.isoformat(),
                "deadline": i.deadline.isoformat(),
                "days_late": i.days_late,
                "cause": {"id": i.cause.stage, "party": i.cause.party, "why": i.why.value},
                "chain": [{"id": n.stage, "party": n.party} for n in i.chain],
            }
            for i in plan.infeasible
        ],
    }


def _node(n: PlannedNode) -> dict:
    return {
        "id": n.node.stage,
        "name": n.name,
        "party": n.node.party,
        "party_name": n.party_name,
        "depends_on": n.depends_on,
        "start": n.start.isoformat(),
        "planned_finish": n.planned_finish.isoformat(),
        "finish": None if n.blocked else n.finish.isoformat(),  # a "no" is not planned to finish
        "blocked": n.blocked,
        "blocked_by": [{"id": b.stage, "party": b.party} for b in n.blocked_by],
        "deadline": n.deadline.isoformat(),
        "nominal_deadline": n.nominal_deadline.isoformat(),
        "deadline_basis": n.deadline_basis.value,
        "deadline_fixed": n.deadline_fixed,
        "deadline_moved_because": n.deadline_reason,
        "deadline_moved_by": n.deadline_moved_by.value if n.deadline_moved_by else None,
        "hard_deadline": n.hard,
        "completed": n.completed.isoformat() if n.completed else None,
        "slack_days": None if n.blocked else n.slack_days,
        "critical": n.critical,
        "reminders": [{"kind": r.kind.value, "at": r.at.isoformat(), "offset": r.offset} for r in n.reminders],
        "reminders_aim_at": n.act_by.isoformat() if n.act_by else None,
        "outside_because_of": {"id": n.outside_by.stage, "party": n.outside_by.party} if n.outside_by else None,
        "meetings": meetings_as_dict(n.meetings) if n.meetings else None,
    }


def sitting_as_dict(s: Sitting | None) -> dict | None:
    if s is None:
        return None
    return {"body": s.body, "body_name": s.body_name, "date": s.day.isoformat(), "agenda_closes": s.agenda_closes.isoformat()}


def meetings_as_dict(m: MeetingPlan) -> dict:
    return {
        "example_calendar": m.example,
        "expected": [sitting_as_dict(s) for s in m.expected] if m.expected else None,
        "latest": [sitting_as_dict(s) for s in m.latest] if m.latest else None,
        "decision_meeting": sitting_as_dict(m.decision),
        "last_decision_meeting": sitting_as_dict(m.last_decision),
        "material_by": m.material_by.isoformat() if m.material_by else None,
        "slack_meetings": m.slack_meetings,
    }


def plan_as_json(plan: Plan) -> str:
    return json.dumps(plan_as_dict(plan), ensure_ascii=False, indent=2) + "\n"


_WHY = {
    "late": N_("försenat jämfört med planen"),
    "longest-estimate": N_("längsta uppskattningen i kedjan"),
    "fixed-date": N_("kedjan börjar med ett fast datum"),
    "own": N_("den egna sista dagen"),
}


def _label(d, node) -> str:
    return node_name(d, node)


_HEADINGS = (N_("Steg"), N_("Ansvarig part"), N_("Start"), N_("Klart"), N_("Sista dag"), N_("Grund"), N_("Marginal"),
             N_("Kritisk"))
_NAME_WIDTH = 52


def short(text: str, width: int = _NAME_WIDTH) -> str:
    """A stage's name cut to fit a column: "Utarbetande av förslag till överenskommelse och sam…"."""
    return text if len(text) <= width else text[: width - 1] + "…"


def basis_text(n: PlannedNode) -> str:
    """Where a deadline comes from, in Swedish: a date a decision fixed, a council's last meeting
    in time in its calendar (an invented example or the published one), or an estimate."""
    if n.deadline_fixed:
        return "fast"
    if n.meetings is not None and n.meetings.last_decision is not None:
        return "exempelkalender" if n.meetings.example else "sammanträdesplan"
    return "uppskattad"


# A stage whose owner or course the plan assumes rather than takes from its sources.
ASSUMPTION_MARK = "‡"
ASSUMPTION_HEAD = f"{ASSUMPTION_MARK} antagande i planen, inte angivet i underlaget:"


def assumption_notes(definition, stage_ids) -> list[str]:
    """The footnote for the stages marked with ASSUMPTION_MARK: each stage's assumption once."""
    stages = [definition.stage(s) for s in dict.fromkeys(stage_ids)]
    notes = [f"  {stage.name}: {stage.assumption}" for stage in stages if stage.assumption]
    return [ASSUMPTION_HEAD, *notes] if notes else []


# What moved a deadline: the law moves a last day forward; the process's own rule moves a
# limit that must not be passed back. Only the first is lag (1930:173) 2 §.
MOVE_MARKS = {MoveRule.law: "*", MoveRule.process_rule: "†"}
_MOVE_HEADS = {
    MoveRule.law: N_("* sista dagen flyttad framåt till nästa vardag: lördag, söndag, helgdag eller afton (lag (1930:173) 2 §):"),
    MoveRule.process_rule: N_("† sista dagen flyttad bakåt enligt processens egen planeringsregel, inte enligt lag:"),
}


def move_mark(rule: MoveRule | None) -> str:
    return MOVE_MARKS[rule] if rule else ""


def moved_notes(definition, moves: list[tuple[str, MoveRule | None, str | None]]) -> list[str]:
    """Footnotes for moved deadlines: one heading per rule used, then each distinct
    explanation once, with the stages (by name) it applies to. `moves`: (stage, rule, explanation)."""
    lines: list[str] = []
    for rule in MoveRule:
        reasons: dict[str, list[str]] = {}
        for stage, moved_by, reason in moves:
            if moved_by is rule and reason:
                stages = reasons.setdefault(reason, [])
                if stage not in stages:
                    stages.append(stage)
        if not reasons:
            continue
        lines.append(_(_MOVE_HEADS[rule]))
        lines += [f"  {stages_named(definition, stages)}: {reason}" for reason, stages in reasons.items()]
    return lines


_MEETING_HEADINGS = (N_("Part"), N_("Väntat beslut"), N_("Sista möjliga beslut"), N_("Ärendet hos första organet senast"),
                     N_("Marginal"), N_("Påminnelser"))


def _sitting(s: Sitting | None) -> str:
    return s.shown if s else _("inget sammanträde hinner")


def _meeting_row(n: PlannedNode) -> tuple:
    m = n.meetings
    slack = "–" if m.slack_meetings is None else meetings_text(m.slack_meetings)
    return (n.party_name or "", _sitting(m.decision), _sitting(m.last_decision), m.material_by.isoformat() if m.material_by else "–",
            slack, ", ".join(r.at.date().isoformat() for r in n.reminders) or "–")


def _owner(d, stage_id: str) -> str:
    stage = d.stage(stage_id)
    return d.party(stage.owner).name + (f" {ASSUMPTION_MARK}" if stage.assumption else "")


def plan_as_table(plan: Plan) -> str:
    d = plan.definition
    rows = []
    for n in plan.nodes:
        deadline = n.deadline.isoformat() + move_mark(n.deadline_moved_by)
        rows.append((
            f"  └ {n.party_name}" if n.node.party else short(n.name),
            n.party_name if n.node.party else _owner(d, n.node.stage),
            n.start.isoformat(),
            (_("AVSLAG") if n.blocked_by == (n.node,) else _("blockerad")) if n.blocked
            else _("utanför") if n.outside_by is not None else n.finish.isoformat(),
            # Hard only where the date is the hard deadline itself, not a meeting that keeps it.
            deadline + (_(" (hård)") if n.hard and n.deadline_fixed else ""),
            basis_text(n),
            "–" if n.slack_days is None or n.blocked or n.outside_by is not None else n_("{n} dag", "{n} dagar", n.slack_days),
            _("ja") if n.critical else "",
        ))
    lines = [f"{d.name} ({d.id}, version {d.version})"]
    if d.example_calendars:
        lines.insert(0, example_note(d))
    if plan.as_of:
        lines.append(_("Planerat per {day}", day=plan.as_of.isoformat()))
    lines.append("")
    lines += table_lines([_(h) for h in _HEADINGS], rows)
    meetings = [n for n in plan.nodes if n.meetings and n.completed is None and not n.blocked and n.outside_by is None]
    if meetings:
        lines += ["", _("Sammanträden (beslut på sammanträde; påminnelserna siktar på dagen då ärendet måste vara hos organet):")]
        lines += table_lines([_(h) for h in _MEETING_HEADINGS], [_meeting_row(n) for n in meetings])
    notes = moved_notes(d, [(n.node.stage, n.deadline_moved_by, n.deadline_reason) for n in plan.nodes])
    notes += assumption_notes(d, [n.node.stage for n in plan.nodes])
    if notes:
        lines.append("")
        lines += notes
    failed = [n for n in plan.nodes if n.blocked_by == (n.node,)]
    for n in failed:
        blocks = [m.node.stage for m in plan.nodes if m.node.party is None and n.node in m.blocked_by]
        what = _("blockerar {stages}", stages=stages_named(d, blocks)) if blocks else _("blockerar inget steg")
        lines.append(_("AVSLAG: {node} planeras inte att bli klart; {what}; {next}", node=_label(d, n.node), what=what,
                       next=next_step(d, n.node)))
    for i in plan.infeasible:
        what = {
            "deadline": n_("blir klart {finish}, {n} dag efter den hårda sista dagen {deadline}",
                           "blir klart {finish}, {n} dagar efter den hårda sista dagen {deadline}", i.days_late,
                           finish=i.finish, deadline=i.deadline),
            "missed": n_("blev klart {finish}, {n} dag efter den hårda sista dagen {deadline}",
                         "blev klart {finish}, {n} dagar efter den hårda sista dagen {deadline}", i.days_late,
                         finish=i.finish, deadline=i.deadline),
            "fixed-date": _("kan inte hålla sitt fastställda datum {deadline}: tidigast {finish}", deadline=i.deadline,
                            finish=i.finish),
        }[i.kind.value]
        lines.append(_("VARNING: {node} {what}; orsak: {cause} ({why})", node=_label(d, i.node), what=what,
                       cause=_label(d, i.cause), why=_(_WHY[i.why.value])))
    return "\n".join(lines) + "\n"
