"""`samverkan simulate` as text (Swedish) or JSON: a timeline, or the odds per party."""

from __future__ import annotations

from samverkan.dashboard.notices import kind_name
from samverkan.meetings.chains import example_note
from samverkan.simulation.odds import Odds, percent
from samverkan.simulation.timeline import StageRow, Timeline

from .table import table_lines


def _day(value) -> str:
    return value.isoformat() if value else "–"


def _deviation(row: StageRow) -> str:
    if row.outside:
        return "står utanför"
    if row.simulated_done is None:
        return "inte klart"
    days = (row.simulated_done - row.planned_finish).days
    return "enligt plan" if days == 0 else f"{days:+d} d"


def _node(row: StageRow) -> tuple[str, str]:
    return row.name, row.party_name or ""


def _scenario_line(name: str, seed: int) -> str:
    return f"scenario: {name or 'namnlöst'}, frö {seed}"


def timeline_as_text(t: Timeline) -> str:
    lines = []
    note = example_note(t.definition)
    if note:
        lines.append(note)
    lines.append(f"SIMULERING: {t.definition.name} (version {t.definition.version}); {_scenario_line(t.scenario.name or '', t.seed)}")
    last = t.sweeps[-1].date() if t.sweeps else t.start.date()
    lines.append(f"Simulerad tid {t.start.date().isoformat()} – {last.isoformat()}: {len(t.sweeps)} utskickskörningar, "
                 f"{len(t.acts)} övergångar, {len(t.notices)} e-postmeddelanden skickade ({_seconds(t.seconds)}).")
    if t.completed_on:
        lines.append(f"Processen klar {t.completed_on.isoformat()}" +
                     (f"; ikraftträdande {t.in_force_on.isoformat()}." if t.in_force_on else "."))
    else:
        lines.append(f"Processen är inte klar {t.until.isoformat()}.")
    missed = t.missed_by_party()
    if missed:
        lines += ["", f"HINNER INTE I TID ({len(missed)} parter): " + ", ".join(r.party_name or "" for r in missed)]
        lines += ["  " + line for line in table_lines(
            ("Part", "Första steget som missar", "Sista dag", "Klart"),
            [(r.party_name, r.name, _day(r.planned_deadline), _day(r.simulated_done) if r.simulated_done else "inte klart")
             for r in missed])]
    whole = [r for r in t.missed_hard() if r.node.party is None]
    if whole:
        lines += ["", "Steg som inte blev klara i tid: " + "; ".join(
            f"{r.name} (sista dag {r.planned_deadline.isoformat()})" for r in whole)]
    outside = [r for r in t.stages if r.outside and r.node.party and r.simulated_done is None and r.state_name and r.hard]
    late = [r for r in t.stages if r.days_late and not r.outside]
    lines += ["", f"Sena steg ({len(late)}):" if late else "Inga steg blev klara efter sin sista dag."]
    if late:
        lines += ["  " + line for line in table_lines(("Steg", "Part", "Tidsgräns", "Klart", "Dagar sent"),
                                                   [(*_node(r), _day(r.planned_deadline), _day(r.simulated_done), r.days_late) for r in late])]
    escalations = [n for n in t.notices if n.kind == "escalation"]
    if escalations:
        lines += ["", f"Eskaleringar ({len(escalations)}):"]
        lines += [f"  {n.day.isoformat()}  {n.recipient}  {n.subject}" for n in escalations]
    if outside:
        lines += ["", "Står utanför: " + ", ".join(dict.fromkeys(r.party_name for r in outside))]
    lines += ["", "Tidslinje, planerat mot simulerat:"]
    lines += ["  " + line for line in table_lines(
        ("Steg", "Part", "Planerat klart", "Tidsgräns", "Simulerat klart", "Avvikelse", "Läge"),
        [(*_node(r), _day(r.planned_finish), _day(r.planned_deadline), _day(r.simulated_done), _deviation(r), r.state_name)
         for r in t.stages])]
    lines += ["", f"Utskick per slag ({len(t.notices)}):"]
    lines += ["  " + line for line in table_lines(("Slag", "Antal"), [(f"{kind_name(k)} ({k})", n) for k, n in t.notices_by_kind.items()])]
    lines += ["", "Utskick per mottagare:"]
    lines += ["  " + line for line in table_lines(("Mottagare", "Antal"), list(t.notices_by_recipient.items()))]
    unsent = {state: n for state, n in t.outbox.items() if state not in ("sent", "cancelled")}
    if unsent:
        lines += ["", "Kvar i utkorgen: " + ", ".join(f"{n} {state}" for state, n in unsent.items())]
    return "\n".join(lines) + "\n"


def _seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


def timeline_as_dict(t: Timeline) -> dict:
    return {
        "definition": {"id": t.definition.id, "version": t.definition.version},
        "example_calendars": t.definition.example_calendars,
        "scenario": t.scenario.name,
        "seed": t.seed,
        "start": t.start.isoformat(),
        "until": t.until.isoformat(),
        "completed_on": _day(t.completed_on) if t.completed_on else None,
        "in_force_on": t.in_force_on.isoformat() if t.in_force_on else None,
        "seconds": round(t.seconds, 3),
        "sweeps": len(t.sweeps),  # one each weekday at 08:00 after the start
        "last_sweep": t.sweeps[-1].isoformat() if t.sweeps else None,
        "transitions": len(t.acts),
        "notices_sent": len(t.notices),
        "notices_by_kind": t.notices_by_kind,
        "notices_by_recipient": t.notices_by_recipient,
        "outbox": t.outbox,
        "missed_hard_deadline": [{"id": r.node.stage, "party": r.node.party} for r in t.missed_hard()],
        "parties_missing": [{"party": r.node.party, "first_missed": r.node.stage, "deadline": r.planned_deadline.isoformat()}
                            for r in t.missed_by_party()],
        "stages": [{
            "id": r.node.stage,
            "party": r.node.party,
            "planned_finish": r.planned_finish.isoformat(),
            "planned_deadline": r.planned_deadline.isoformat(),
            "hard": r.hard,
            "ready_at": r.ready_at.isoformat() if r.ready_at else None,
            "simulated_done": r.simulated_done.isoformat() if r.simulated_done else None,
            "days_late": r.days_late,
            "state": r.state,
            "outside": r.outside,
        } for r in t.stages],
        "notices": [{"day": n.day.isoformat(), "kind": n.kind, "stage": n.stage or None, "party": n.party or None,
                     "recipient": n.recipient} for n in t.notices],
        "acts": [{"day": a.day.isoformat(), "id": a.node.stage, "party": a.node.party, "to": a.to} for a in t.acts],
    }


def odds_as_text(o: Odds, instance_id: str | None, marks: list[str]) -> str:
    where = f"{instance_id} från läget {o.as_of.isoformat()}" if instance_id else f"processen från start {o.as_of.isoformat()}"
    lines = [*marks, f"SANNOLIKHET: {o.runs} simulerade förlopp av {where}; {_scenario_line(o.scenario, o.seed)}", ""]
    lines.append(f"{o.stage.name}: beslut senast {o.deadline.isoformat()}, per part:")
    rows = []
    for p in sorted(o.parties, key=lambda p: (p.decided, p.name)):
        likely = (f"beslutat {p.recorded.isoformat()}" if p.recorded else
                  f"{p.body} {p.meeting.isoformat()} ({percent(p.meeting_share)})" if p.meeting else "inget sammanträde i kalendern")
        rows.append((p.name, percent(p.decided), likely, percent(p.outside) if p.outside else "–"))
    lines += ["  " + line for line in table_lines(("Part", f"Före {o.deadline.isoformat()}", "Troligast", "Säger nej"), rows)]
    lines += ["", f"Hela processen klar senast {o.deadline.isoformat()}: {percent(o.complete_by_deadline)}"]
    quantiles = [(q, o.completion_quantile(q)) for q in (0.1, 0.5, 0.9)]
    lines.append("Klar: " + "; ".join(f"{round(q * 100)} % senast {d.isoformat()}" if d else f"{round(q * 100)} %: inte före {o.until.isoformat()}"
                                      for q, d in quantiles))
    lines.append("Per månad: " + ", ".join(f"{month if month != 'senare' else 'inte klar ' + o.until.isoformat()} {percent(share)}"
                                           for month, share in o.completion_by_month()))
    return "\n".join(lines) + "\n"


def odds_as_dict(o: Odds, instance_id: str | None, marks: list[str]) -> dict:
    return {
        "instance": instance_id,
        "marks": marks,
        "as_of": o.as_of.isoformat(),
        "until": o.until.isoformat(),
        "runs": o.runs,
        "seed": o.seed,
        "scenario": o.scenario,
        "stage": o.stage.id,
        "deadline": o.deadline.isoformat(),
        "parties": [{
            "party": p.party,
            "name": p.name,
            "probability": round(p.decided, 4),
            "outside": round(p.outside, 4),
            "recorded": p.recorded.isoformat() if p.recorded else None,
            "likely_meeting": p.meeting.isoformat() if p.meeting else None,
            "likely_share": round(p.meeting_share, 4),
            "body": p.body,
        } for p in o.parties],
        "completion": {
            "by_deadline": round(o.complete_by_deadline, 4),
            "quantiles": {f"p{round(q * 100)}": (d.isoformat() if d else None)
                          for q, d in ((q, o.completion_quantile(q)) for q in (0.1, 0.5, 0.9))},
            "by_month": {month: round(share, 4) for month, share in o.completion_by_month()},
            "runs": [d.isoformat() if d else None for d in o.completions],
        },
    }
