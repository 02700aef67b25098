"""The forecast: where each party's decision is heading, from what is recorded, the meeting
calendars and each remaining step's estimate. Pure: (definition, state, today) -> Forecast.

Per party: the meeting expected to decide, the last one that still keeps the hard deadline,
the slack counted in meetings and in days, and, for every party at risk, the cause in one
Swedish sentence ("Vännäs kommun: kommunfullmäktige sammanträder 2026-12-14; ärendet måste
vara hos kommunstyrelsen senast 2026-11-27; inget beslutsunderlag skickat")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pendulum

from samverkan.process_definitions.model import Definition, StateKind
from samverkan.engine import InstanceState, kind_of, outside, reference_of
from samverkan.graph import Node, branch_parties
from samverkan.i18n import N_, _
from samverkan.meetings.chains import Sitting
from samverkan.planner import Plan, PlannedNode
from samverkan.status import plan_for
from samverkan.text import in_sentence


class Outlook(StrEnum):
    decided = "decided"  # adopted: nothing left to forecast for the decision
    on_track = "on-track"  # a later meeting could still decide in time
    at_risk = "at-risk"  # the expected meeting is the last one that keeps the deadline
    cannot = "cannot"  # no meeting it can reach keeps the deadline
    outside = "outside"  # the party said no


# No spare meeting and less than this left before the matter must reach the body that takes it
# next: at risk. With more time, the last meeting is tight but not yet in danger.
RISK_MARGIN_DAYS = 7

OUTLOOK_NAMES = {  # catalogue texts: shown with _
    Outlook.decided: N_("beslutat"),
    Outlook.on_track: N_("i fas"),
    Outlook.at_risk: N_("i riskzonen"),
    Outlook.cannot: N_("hinner inte"),
    Outlook.outside: N_("står utanför"),
}


@dataclass(frozen=True)
class PartyForecast:
    party: str
    name: str
    state: str  # the branch's state id
    state_name: str
    outlook: Outlook
    decision: Sitting | None  # the meeting expected to decide
    last_decision: Sitting | None  # the last meeting that keeps the hard deadline
    material_by: pendulum.Date | None  # the last day the matter can reach the first body
    slack_meetings: int | None
    slack_days: int | None
    decided_on: pendulum.Date | None
    in_force: pendulum.Date | None  # the party's expected entry into force, if the process has one per party
    cause: str | None  # one sentence, Swedish, for a party at risk, unable or outside
    example: bool  # the dates come from an example calendar

    @property
    def at_risk(self) -> bool:
        return self.outlook in (Outlook.at_risk, Outlook.cannot)


@dataclass(frozen=True)
class Forecast:
    as_of: pendulum.Date
    stage: str | None  # the stage decided at meetings
    parties: list[PartyForecast]
    critical_path: list[Node]
    completion: pendulum.Date | None  # when the last party taking part is expected to enter into force
    examples: list[str]  # parties whose calendars are examples

    @property
    def at_risk(self) -> list[PartyForecast]:
        """The parties at risk, the ones that cannot make it first, then by their last chance."""
        risky = [p for p in self.parties if p.at_risk]
        return sorted(risky, key=lambda p: (p.outlook is not Outlook.cannot, p.material_by or self.as_of, p.name))

    @property
    def outside(self) -> list[PartyForecast]:
        return [p for p in self.parties if p.outlook is Outlook.outside]


def forecast(definition: Definition, state: InstanceState, today: pendulum.Date, planned: Plan | None = None) -> Forecast:
    planned = planned or plan_for(definition, state, today)
    stage = next((s for s in definition.stages if s.at_meetings and s.for_each), None)
    parties: list[PartyForecast] = []
    if stage is not None:
        away = outside(definition, state)
        final = _final_per_party(definition)
        names = {s.id: s.name for s in definition.lifecycle(stage.lifecycle).states}
        for party in branch_parties(definition, stage):
            node = Node(stage.id, party)
            item = planned.get(stage.id, party)
            current = state[node]
            kind = kind_of(definition, stage, current.state)
            in_force = planned.get(final, party) if final else None
            outlook = _outlook(kind, node, away, item, today, current.started_at is not None)
            parties.append(PartyForecast(
                party=party,
                name=definition.party(party).name,
                state=current.state,
                state_name=names[current.state],
                outlook=outlook,
                decision=item.meetings.decision if item.meetings else None,
                last_decision=item.meetings.last_decision if item.meetings else None,
                material_by=item.meetings.material_by if item.meetings else None,
                slack_meetings=item.meetings.slack_meetings if item.meetings else None,
                slack_days=item.slack_days,
                decided_on=item.completed,
                in_force=None if in_force is None or outlook in (Outlook.outside, Outlook.cannot) else in_force.finish,
                cause=_cause(definition, stage, state, node, item, kind, outlook, names, today),
                example=bool(item.meetings and item.meetings.example),
            ))
    critical = [n.node for n in planned.nodes if n.critical]
    if parties:  # the last party still able to make it; a party that cannot has no date to give
        completion = max((p.in_force for p in parties if p.in_force), default=None)
    else:
        finals = [n for n in planned.nodes if n.node.party is None and not any(n.node.stage in s.depends_on for s in definition.stages)]
        completion = max((n.finish for n in finals), default=None)
    return Forecast(today, stage.id if stage else None, parties, critical, completion, definition.example_calendars)


def _final_per_party(definition: Definition) -> str | None:
    """The last stage that goes party by party (entry into force), if the process has one."""
    finals = [s.id for s in definition.stages if s.for_each and s.for_each.by_party
              and not any(s.id in other.depends_on for other in definition.stages)]
    return finals[0] if finals else None


def _outlook(kind: StateKind, node: Node, away: dict[Node, Node], item: PlannedNode, today: pendulum.Date,
             started: bool) -> Outlook:
    if node in away:
        return Outlook.outside
    if kind is StateKind.done:
        return Outlook.decided
    meetings = item.meetings
    if meetings is None or meetings.decision is None or meetings.last_decision is None:
        return Outlook.cannot
    if meetings.slack_meetings is None or meetings.slack_meetings < 0:
        return Outlook.cannot
    if meetings.slack_meetings > 0:
        return Outlook.on_track
    # The next agenda that matters: the first body's while the matter has not reached it.
    closes = meetings.last_decision.agenda_closes if started else meetings.material_by
    arrives = today if started else max(item.start, today)
    return Outlook.at_risk if closes.toordinal() - arrives.toordinal() <= RISK_MARGIN_DAYS else Outlook.on_track


def _cause(definition: Definition, stage, state: InstanceState, node: Node, item: PlannedNode, kind: StateKind,
           outlook: Outlook, names: dict[str, str], today: pendulum.Date) -> str | None:
    party = definition.party(node.party)
    calendar = definition.meeting_calendar(node.party)
    if outlook is Outlook.outside:
        record = state[node].record
        when = record.get("decision_date") or (state[node].changed_at.in_timezone("Europe/Stockholm").to_date_string()
                                               if state[node].changed_at else "")
        reference = reference_of(stage, record)
        body = next((str(record[f.id]) for f in stage.record if f.decision_body and f.id in record), party.decision_body or party.name)
        decided = f"{when} ({reference})" if reference else when
        return _("{party} står utanför: {body} beslutade {when} att inte anta", party=party.name, body=in_sentence(body),
                 when=decided)
    if outlook not in (Outlook.at_risk, Outlook.cannot) or calendar is None:
        return None
    deciding = in_sentence(calendar.deciding.name)
    first = in_sentence(calendar.bodies[0].name)
    meetings = item.meetings
    progress = _progress(kind, state[node].state, names)
    last = meetings.last_decision if meetings else None
    said = {"party": party.name, "deciding": deciding, "first": first, "progress": progress}
    if outlook is Outlook.cannot:
        if last is None:
            return _("{party}: {deciding} har inget sammanträde i kalendern som hinner besluta i tid; {progress}",
                     **said)
        if kind is StateKind.active and last.day < today:  # its last chance passed with no decision recorded
            return _("{party}: inget sammanträde hinner längre besluta i tid; sista chansen var {deciding} {day}, och "
                     "inget beslut är registrerat; {progress}", day=last.day, **said)
        if kind is StateKind.active:  # the last meeting is ahead, but the matter cannot get through the bodies before it
            return _("{party}: {deciding} sammanträder {day}, det sista sammanträdet som hinner, men ärendet hinner inte "
                     "genom {first} före det; {progress}", day=last.day, **said)
        return _("{party}: inget sammanträde som ärendet kan nå hinner besluta i tid; sista chansen var {deciding} {day}, "
                 "med ärendet hos {first} senast {material_by}; {progress}", day=last.day,
                 material_by=meetings.material_by, **said)
    if kind is StateKind.active:  # with the bodies already: the deciding body's agenda is what matters
        if last.agenda_closes < today:  # on the agenda by now, if all went to plan: no margin left
            return _("{party}: {deciding} sammanträder {day}, det sista sammanträdet som hinner; inget senare "
                     "sammanträde räcker om beslutet skjuts upp; {progress}", day=last.day, **said)
        return _("{party}: {deciding} sammanträder {day}, det sista sammanträdet som hinner; ärendet måste finnas på "
                 "dess föredragningslista senast {closes}; {progress}", day=last.day, closes=last.agenda_closes, **said)
    return _("{party}: {deciding} sammanträder {day}; ärendet måste vara hos {first} senast {material_by}; {progress}",
             day=last.day, material_by=meetings.material_by, **said)


def _progress(kind: StateKind, state: str, names: dict[str, str]) -> str:
    if kind is StateKind.waiting:
        return _("inget beslutsunderlag skickat")
    if kind is StateKind.ready:
        return _("beslutsunderlaget skickat, ärendet inte anmält till beredning")
    return in_sentence(names[state])
