"""The forecast on the dashboard: a table per party, those that cannot make it, those at risk
and those whose decision awaits registration first, each with its cause in one sentence; and
the lines the overview leads with."""

from __future__ import annotations

from samverkan.forecast import OUTLOOK_NAMES, Forecast, Outlook, PartyForecast
from samverkan.i18n import _
from samverkan.meetings.chains import Sitting, reserve_text

from .markdown import md_text

_ORDER = {Outlook.cannot: 0, Outlook.at_risk: 1, Outlook.awaiting_registration: 2, Outlook.outside: 3, Outlook.awaiting: 4,
          Outlook.on_track: 5, Outlook.decided: 6}


def _sitting(s: Sitting | None) -> str:
    return s.shown if s else "–"


def _reserve(p: PartyForecast) -> str:
    return "–" if p.slack_meetings is None else reserve_text(p.slack_meetings)


def _expected(p: PartyForecast) -> str:
    if p.decided_on:
        return f"beslutat {p.decided_on.isoformat()}"
    if p.unregistered:
        return f"{p.unregistered.meeting.shown} (ej registrerat)"
    return _sitting(p.decision)


def forecast_table(f: Forecast) -> list[dict[str, str]]:
    ordered = sorted(f.parties, key=lambda p: (_ORDER[p.outlook], p.material_by or f.as_of, p.name))
    return [{
        _("Part"): p.name,
        _("Läge"): _(OUTLOOK_NAMES[p.outlook]),
        _("Orsak"): "; ".join(filter(None, [p.cause, *p.warnings])),
        _("Väntat beslut"): _expected(p),
        _("Sista möjliga beslut"): _sitting(p.last_decision),
        _("Hos första organet senast"): p.material_by.isoformat() if p.material_by else "–",
        _("I reserv"): _reserve(p),
        _("I kraft"): p.in_force.isoformat() if p.in_force else "–",
    } for p in ordered]


def _section(heading: str, lines: list[str]) -> list[str]:
    return [f"### {heading} ({len(lines)})", "", *(f"- {md_text(line)}" for line in lines), ""] if lines else []


def forecast_markdown(f: Forecast) -> str:
    """What the overview leads with: who cannot make it, who is at risk, whose decision awaits
    registration, each with why; who is outside; the meetings to look out for."""
    lines = _section("Hinner inte", [p.cause for p in f.cannot])
    lines += _section("I riskzonen", [p.cause for p in f.at_risk])
    lines += _section("Väntar på registrering", [p.cause for p in f.awaiting_registration])
    lines += _section("Utanför", [p.cause for p in f.outside])
    lines += _section("Observera", [f"{p.name}: {w}" for p in f.parties for w in p.warnings])
    return "\n".join(lines)
