"""The odds on the dashboard: per party, how likely its decision is before the hard deadline,
at which meeting it most likely comes, how often it says no; and the lines the artifact leads
with ("Vännäs kommun: 62 % före 31 december"), then the whole process. Pure: an Odds in,
plain data out (samverkan.simulation.odds computes the Odds)."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from samverkan.simulation.odds import Odds, PartyOdds, percent
from samverkan.i18n import _, language, long_date

from .markdown import md_text

QUANTILES = (0.1, 0.5, 0.9)


def day_month(day: dt.date) -> str:
    """"31 december": CLDR's month name, no year (the deadline's year is the plan's)."""
    return format_date(day, "d MMMM", locale=language())


def day_month_year(day: dt.date) -> str:
    """"14 januari 2027": for completion days, which may fall in another year."""
    return long_date(day)


def _ordered(o: Odds) -> list[PartyOdds]:
    """Least likely first; by name within a share."""
    return sorted(o.parties, key=lambda p: (p.decided, p.name))


def _likely(p: PartyOdds) -> str:
    if p.recorded:
        return _("beslutat {day}", day=p.recorded.isoformat())
    if p.meeting:
        return f"{p.body} {p.meeting.isoformat()} ({percent(p.meeting_share)})" if p.body else \
            f"{p.meeting.isoformat()} ({percent(p.meeting_share)})"
    return _("inget sammanträde i kalendern")


def odds_table(o: Odds) -> list[dict[str, str]]:
    """One row per party, least likely first: Part, Före <deadline>, Troligast, Säger nej."""
    before = _("Före {day}", day=day_month(o.deadline))
    return [{
        _("Part"): p.name,
        before: percent(p.decided),  # a decision recorded by the deadline: in every run
        _("Troligast"): _likely(p),
        _("Säger nej"): percent(p.outside) if p.outside else "–",
    } for p in _ordered(o)]


def uncertain(o: Odds) -> list[PartyOdds]:
    """The parties not certain to make it: in some run, no decision (a yes) by the deadline."""
    return [p for p in _ordered(o) if p.decided < 1.0]


def party_line(o: Odds, p: PartyOdds) -> str:
    """"Vännäs kommun: 62 % före 31 december"."""
    return _("{party}: {share} före {day}", party=p.name, share=percent(p.decided), day=day_month(o.deadline))


def _quantiles(o: Odds) -> str:
    parts = []
    for q in QUANTILES:
        day = o.completion_quantile(q)
        share = f"{round(q * 100)} %"
        parts.append(_("{share} senast {day}", share=share, day=day_month_year(day)) if day
                     else _("{share}: inte före {day}", share=share, day=day_month_year(o.until)))
    return "; ".join(parts)


def odds_markdown(o: Odds, marks: list[str]) -> str:
    """The marks first (an illustrative history, invented calendars), then one line per party
    not certain to make it, then the whole process and when it is likely complete."""
    deadline = day_month(o.deadline)
    lines = [f"**{md_text(mark)}**\n" for mark in marks]
    risky = uncertain(o)
    if risky:
        lines += [f"- {md_text(party_line(o, p))}" for p in risky] + [""]
    else:
        lines += [_("Alla parter hinner besluta före {day} i varje simulerat förlopp.", day=deadline), ""]
    lines += [_("**Hela processen klar före {day}: {share}**", day=deadline, share=percent(o.complete_by_deadline)), "",
              _("Klar: {quantiles}.", quantiles=_quantiles(o)), ""]
    later = _("inte klar {day}", day=o.until.isoformat())
    months = [f"{month if month != 'senare' else later}: {percent(share)}" for month, share in o.completion_by_month()]
    lines += [_("Per månad: {months}.", months=", ".join(months)), ""]
    how = _("scenario {scenario}, ", scenario=md_text(o.scenario)) if o.scenario else ""
    lines.append(_("_{runs} simulerade förlopp från läget {day} ({how}frö {seed}); {stage}: beslut senast {deadline}._",
                   runs=o.runs, day=o.as_of.isoformat(), how=how, seed=o.seed, stage=md_text(o.stage.name),
                   deadline=o.deadline.isoformat()))
    return "\n".join(lines) + "\n"
