"""The forecast as a table or JSON (`samverkan forecast`)."""

from __future__ import annotations

from samverkan.forecast import OUTLOOK_NAMES, Forecast, PartyForecast
from samverkan.i18n import N_, _, long_date, n_
from samverkan.meetings.chains import Sitting, reserve_text
from samverkan.names import stage_name
from samverkan.process_definitions.model import Definition

from .plan_output import sitting_as_dict
from .table import table_lines

_HEADINGS = (N_("Part"), N_("Läge"), N_("Väntat beslut"), N_("Sista möjliga beslut"), N_("Hos första organet senast"),
             N_("I reserv"), N_("Marginal"), N_("I kraft"))


def _reserve(p: PartyForecast) -> str:
    return "–" if p.slack_meetings is None else reserve_text(p.slack_meetings)


def _margin(p: PartyForecast) -> str:
    """The days between the expected decision and the last day it may be taken; none to give
    when no meeting keeps the deadline."""
    return "–" if p.slack_days is None or p.slack_meetings is None else n_("{n} dag", "{n} dagar", p.slack_days)


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


def completion_text(f: Forecast) -> str | None:
    """When the agreement is expected to apply, said of those it applies to (a party does not
    enter into force; the agreement does, for each party that has adopted it)."""
    if not f.completion:
        return None
    if f.parties:
        return _("Överenskommelsen väntas gälla från {day} för de parter som hunnit anta den.", day=long_date(f.completion))
    return _("Processen väntas vara klar {day}.", day=long_date(f.completion))


def forecast_as_table(f: Forecast, definition: Definition, instance_id: str, marks: list[str], note: str | None) -> str:
    lines = [*marks]
    if note:
        lines.append(note)
    lines.append(_("Prognos för {instance} per {day}", instance=instance_id, day=f.as_of.isoformat()))
    completion = completion_text(f)
    if completion:
        lines.append(completion)
    lines.append("")
    lines += _section("HINNER INTE", f.cannot)
    lines += _section("I RISKZONEN", f.at_risk)
    lines += _section("VÄNTAR PÅ REGISTRERING", f.awaiting_registration)
    for p in f.outside:
        lines.append(_("UTANFÖR: {cause}", cause=p.cause))
    if f.outside:
        lines.append("")
    warnings = [f"OBSERVERA: {p.name}: {w}" for p in f.parties for w in p.warnings]
    lines += [*warnings, ""] if warnings else []
    rows = [(p.name, _(OUTLOOK_NAMES[p.outlook]), expected_decision(p), _sitting(p.last_decision),
             p.material_by.isoformat() if p.material_by else "–", _reserve(p), _margin(p),
             p.in_force.isoformat() if p.in_force else "–") for p in f.parties]
    lines += table_lines([_(h) for h in _HEADINGS], rows)
    if f.critical_path:
        path = " → ".join(stage_name(definition, stage) for stage in dict.fromkeys(n.stage for n in f.critical_path))
        lines += ["", _("Kritisk linje till ikraftträdandet: {stages}", stages=path)]
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
