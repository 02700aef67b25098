"""The forecast as a table or JSON (`samverkan forecast`)."""

from __future__ import annotations

from samverkan.forecast import OUTLOOK_NAMES, Forecast, PartyForecast
from samverkan.meetings.chains import Sitting, reserve_text

from .plan_output import sitting_as_dict
from .table import table_lines

_HEADINGS = ("Part", "Läge", "Väntat beslut", "Sista möjliga beslut", "Hos första organet senast", "I reserv", "Marginal",
             "I kraft")


def _reserve(p: PartyForecast) -> str:
    return "–" if p.slack_meetings is None else reserve_text(p.slack_meetings)


def _margin(p: PartyForecast) -> str:
    """The days between the expected decision and the last day it may be taken; none to give
    when no meeting keeps the deadline."""
    return "–" if p.slack_days is None or p.slack_meetings is None else f"{p.slack_days} d"


def _sitting(s: Sitting | None) -> str:
    return s.shown if s else "–"


def expected_decision(p: PartyForecast) -> str:
    """The decision as the table shows it: its own day once decided, the meeting that probably
    took it while it is not registered, else the meeting expected to take it."""
    if p.decided_on:
        return f"{p.decided_on.isoformat()} (beslutat)"
    if p.unregistered:
        return f"{p.unregistered.meeting.shown} (ej registrerat)"
    return _sitting(p.decision)


def _section(heading: str, parties: list[PartyForecast]) -> list[str]:
    if not parties:
        return []
    return [f"{heading} ({len(parties)}):", *(f"  {p.cause}" for p in parties), ""]


def forecast_as_table(f: Forecast, instance_id: str, marks: list[str], note: str | None) -> str:
    lines = [*marks]
    if note:
        lines.append(note)
    lines.append(f"Prognos för {instance_id} per {f.as_of.isoformat()}")
    if f.completion:
        lines.append(f"Sista part som deltar väntas träda i kraft {f.completion.isoformat()}")
    lines.append("")
    lines += _section("HINNER INTE", f.cannot)
    lines += _section("I RISKZONEN", f.at_risk)
    lines += _section("VÄNTAR PÅ REGISTRERING", f.awaiting_registration)
    for p in f.outside:
        lines.append(f"UTANFÖR: {p.cause}")
    if f.outside:
        lines.append("")
    warnings = [f"OBSERVERA: {p.name}: {w}" for p in f.parties for w in p.warnings]
    lines += [*warnings, ""] if warnings else []
    rows = [(p.name, OUTLOOK_NAMES[p.outlook], expected_decision(p), _sitting(p.last_decision),
             p.material_by.isoformat() if p.material_by else "–", _reserve(p), _margin(p),
             p.in_force.isoformat() if p.in_force else "–") for p in f.parties]
    lines += table_lines(_HEADINGS, rows)
    if f.critical_path:
        lines += ["", "Kritisk linje till ikraftträdandet: " + " → ".join(dict.fromkeys(n.stage for n in f.critical_path))]
    return "\n".join(lines) + "\n"


def _listed(parties: list[PartyForecast]) -> list[dict]:
    return [{"party": p.party, "outlook": p.outlook.value, "cause": p.cause} for p in parties]


def forecast_as_dict(f: Forecast, instance_id: str, marks: list[str]) -> dict:
    return {
        "instance": instance_id,
        "marks": marks,
        "as_of": f.as_of.isoformat(),
        "example_calendars": f.examples,
        "stage": f.stage,
        "completion": f.completion.isoformat() if f.completion else None,
        "critical_path": [{"id": n.stage, "party": n.party} for n in f.critical_path],
        "cannot": _listed(f.cannot),
        "at_risk": _listed(f.at_risk),
        "awaiting_registration": _listed(f.awaiting_registration),
        "outside": [{"party": p.party, "cause": p.cause} for p in f.outside],
        "parties": [{
            "party": p.party,
            "name": p.name,
            "state": p.state,
            "state_name": p.state_name,
            "outlook": p.outlook.value,
            "outlook_name": OUTLOOK_NAMES[p.outlook],
            "decided_on": p.decided_on.isoformat() if p.decided_on else None,
            "decision_meeting": sitting_as_dict(p.decision),
            "last_decision_meeting": sitting_as_dict(p.last_decision),
            "unregistered_meeting": sitting_as_dict(p.unregistered.meeting) if p.unregistered else None,
            "minutes_by": p.unregistered.minutes_by.isoformat() if p.unregistered else None,
            "material_by": p.material_by.isoformat() if p.material_by else None,
            "slack_meetings": p.slack_meetings,
            "slack_days": p.slack_days,
            "in_force": p.in_force.isoformat() if p.in_force else None,
            "cause": p.cause,
            "warnings": list(p.warnings),
            "example_calendar": p.example,
        } for p in f.parties],
    }
