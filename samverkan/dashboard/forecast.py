"""The forecast on the dashboard: a table per party, the parties at risk and outside first,
each with its cause in one sentence; and the lines the overview leads with."""

from __future__ import annotations

from samverkan.forecast import OUTLOOK_NAMES, Forecast, Outlook, PartyForecast
from samverkan.i18n import _
from samverkan.meetings.chains import Sitting, meetings_text

from .markdown import md_text

_ORDER = {Outlook.cannot: 0, Outlook.at_risk: 1, Outlook.outside: 2, Outlook.on_track: 3, Outlook.decided: 4}


def _sitting(s: Sitting | None) -> str:
    return s.shown if s else "–"


def _slack(p: PartyForecast) -> str:
    return "–" if p.slack_meetings is None else meetings_text(p.slack_meetings)


def forecast_table(f: Forecast) -> list[dict[str, str]]:
    ordered = sorted(f.parties, key=lambda p: (_ORDER[p.outlook], p.material_by or f.as_of, p.name))
    return [{
        _("Part"): p.name,
        _("Läge"): _(OUTLOOK_NAMES[p.outlook]),
        _("Orsak"): p.cause or "",
        _("Väntat beslut"): _("beslutat {day}", day=p.decided_on.isoformat()) if p.decided_on else _sitting(p.decision),
        _("Sista möjliga beslut"): _sitting(p.last_decision),
        _("Hos första organet senast"): p.material_by.isoformat() if p.material_by else "–",
        _("Marginal"): _slack(p),
        _("I kraft"): p.in_force.isoformat() if p.in_force else "–",
    } for p in ordered]


def forecast_markdown(f: Forecast) -> str:
    """What the overview leads with: who is at risk and why, who is outside."""
    lines = []
    risky = f.at_risk
    if risky:
        lines += [_("### I riskzonen ({count})", count=len(risky)), ""] + [f"- {md_text(p.cause)}" for p in risky] + [""]
    if f.outside:
        lines += [_("### Utanför ({count})", count=len(f.outside)), ""] + [f"- {md_text(p.cause)}" for p in f.outside] + [""]
    return "\n".join(lines)
