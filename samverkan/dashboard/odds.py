"""The odds on the dashboard: per party, how likely its decision is before the hard deadline,
at which meeting it most likely comes, how often it says no; and the lines the artifact leads
with ("Vännäs kommun: 62 % före 31 december"), then the whole process. Pure: an Odds in,
plain data out (samverkan.simulation.odds computes the Odds)."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date

from samverkan.simulation.odds import Odds, PartyOdds, percent

from .markdown import md_text

QUANTILES = (0.1, 0.5, 0.9)


def day_month(day: dt.date) -> str:
    """"31 december": CLDR's Swedish month name, no year (the deadline's year is the plan's)."""
    return format_date(day, "d MMMM", locale="sv")


def day_month_year(day: dt.date) -> str:
    """"14 januari 2027": for completion days, which may fall in another year."""
    return format_date(day, "d MMMM y", locale="sv")


def _ordered(o: Odds) -> list[PartyOdds]:
    """Least likely first; by name within a share."""
    return sorted(o.parties, key=lambda p: (p.decided, p.name))


def _likely(p: PartyOdds) -> str:
    if p.recorded:
        return f"beslutat {p.recorded.isoformat()}"
    if p.meeting:
        return f"{p.body} {p.meeting.isoformat()} ({percent(p.meeting_share)})" if p.body else \
            f"{p.meeting.isoformat()} ({percent(p.meeting_share)})"
    return "inget sammanträde i kalendern"


def odds_table(o: Odds) -> list[dict[str, str]]:
    """One row per party, least likely first: Part, Före <deadline>, Troligast, Säger nej."""
    before = f"Före {day_month(o.deadline)}"
    return [{
        "Part": p.name,
        before: percent(p.decided),  # a decision recorded by the deadline: in every run
        "Troligast": _likely(p),
        "Säger nej": percent(p.outside) if p.outside else "–",
    } for p in _ordered(o)]


def uncertain(o: Odds) -> list[PartyOdds]:
    """The parties not certain to make it: in some run, no decision (a yes) by the deadline."""
    return [p for p in _ordered(o) if p.decided < 1.0]


def party_line(o: Odds, p: PartyOdds) -> str:
    """"Vännäs kommun: 62 % före 31 december"."""
    return f"{p.name}: {percent(p.decided)} före {day_month(o.deadline)}"


def _quantiles(o: Odds) -> str:
    parts = []
    for q in QUANTILES:
        day = o.completion_quantile(q)
        share = f"{round(q * 100)} %"
        parts.append(f"{share} senast {day_month_year(day)}" if day else f"{share}: inte före {day_month_year(o.until)}")
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
        lines += [f"Alla parter hinner besluta före {deadline} i varje simulerat förlopp.", ""]
    lines += [f"**Hela processen klar före {deadline}: {percent(o.complete_by_deadline)}**", "",
              f"Klar: {_quantiles(o)}.", ""]
    months = [f"{month if month != 'senare' else 'inte klar ' + o.until.isoformat()}: {percent(share)}"
              for month, share in o.completion_by_month()]
    lines += ["Per månad: " + ", ".join(months) + ".", ""]
    how = f"scenario {md_text(o.scenario)}, " if o.scenario else ""
    lines.append(f"_{o.runs} simulerade förlopp från läget {o.as_of.isoformat()} ({how}frö {o.seed}); "
                 f"{md_text(o.stage.name)}: beslut senast {o.deadline.isoformat()}._")
    return "\n".join(lines) + "\n"
