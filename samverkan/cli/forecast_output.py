"""The forecast as a table or JSON (`samverkan forecast`)."""

from __future__ import annotations

from samverkan.forecast import OUTLOOK_NAMES, Forecast, PartyForecast
from samverkan.meetings.chains import Sitting, meetings_text

from .plan_output import sitting_as_dict
from .table import table_lines

_HEADINGS = ("Part", "Läge", "Väntat beslut", "Sista möjliga beslut", "Hos första organet senast", "Marginal", "I kraft")


def _slack(p: PartyForecast) -> str:
    if p.slack_meetings is None:
        return "–"
    return meetings_text(p.slack_meetings) + (f", {p.slack_days} d" if p.slack_days is not None else "")


def _sitting(s: Sitting | None) -> str:
    return s.shown if s else "–"


def forecast_as_table(f: Forecast, instance_id: str, marks: list[str], note: str | None) -> str:
    lines = [*marks]
    if note:
        lines.append(note)
    lines.append(f"Prognos för {instance_id} per {f.as_of.isoformat()}")
    if f.completion:
        lines.append(f"Sista part som deltar väntas träda i kraft {f.completion.isoformat()}")
    lines.append("")
    risky = f.at_risk
    if risky:
        lines.append(f"I RISKZONEN ({len(risky)}):")
        lines += [f"  {p.cause}" for p in risky]
        lines.append("")
    for p in f.outside:
        lines.append(f"UTANFÖR: {p.cause}")
    if f.outside:
        lines.append("")
    rows = [(p.name, OUTLOOK_NAMES[p.outlook], p.decided_on.isoformat() + " (beslutat)" if p.decided_on else _sitting(p.decision),
             _sitting(p.last_decision), p.material_by.isoformat() if p.material_by else "–", _slack(p),
             p.in_force.isoformat() if p.in_force else "–") for p in f.parties]
    lines += table_lines(_HEADINGS, rows)
    if f.critical_path:
        lines += ["", "Kritisk linje till ikraftträdandet: " + " → ".join(dict.fromkeys(n.stage for n in f.critical_path))]
    return "\n".join(lines) + "\n"


def forecast_as_dict(f: Forecast, instance_id: str, marks: list[str]) -> dict:
    return {
        "instance": instance_id,
        "marks": marks,
        "as_of": f.as_of.isoformat(),
        "example_calendars": f.examples,
        "stage": f.stage,
        "completion": f.completion.isoformat() if f.completion else None,
        "critical_path": [{"id": n.stage, "party": n.party} for n in f.critical_path],
        "at_risk": [{"party": p.party, "outlook": p.outlook.value, "cause": p.cause} for p in f.at_risk],
        "outside": [{"party": p.party, "cause": p.cause} for p in f.outside],
        "parties": [{
            "party": p.party,
            "name": p.name,
            "state": p.state,
            "state_name": p.state_name,
            "outlook": p.outlook.value,
            "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            "decision_meeting": sitting_as_dict(p.decision),
            "last_decision_meeting": sitting_as_dict(p.last_decision),
            "material_by": p.material_by.isoformat() if p.material_by else None,
            "slack_meetings": p.slack_meetings,
            "slack_days": p.slack_days,
            "in_force": p.in_force.isoformat() if p.in_force else None,
            "cause": p.cause,
            "example_calendar": p.example,
        } for p in f.parties],
    }
