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

from samverkan.process_definitions.model import ROLE_NAMES, DecisionOutcome, Definition, StateKind
from samverkan.engine import InstanceState, kind_of, outside, reference_of
from samverkan.graph import Node, branch_parties
from samverkan.meetings.chains import Sitting
from samverkan.outcomes import decided_text, decided_when, mid_sentence, not_adopted_documents
from samverkan.planner import Plan, PlannedNode
from samverkan.status import plan_for
from samverkan.text import in_sentence


class Outlook(StrEnum):
    decided = "decided"  # adopted: nothing left to forecast for the decision
    on_track = "on-track"  # a later meeting could still decide in time
    at_risk = "at-risk"  # the expected meeting is the last one that keeps the deadline
    cannot = "cannot"  # no meeting it can reach keeps the deadline
    outside = "outside"  # the party said no
    awaiting = "awaiting-counterparty"  # adopted with changes: the counterparty accepts them, or the party decides again


# No spare meeting and less than this left before the matter must reach the body that takes it
# next: at risk. With more time, the last meeting is tight but not yet in danger.
RISK_MARGIN_DAYS = 7

OUTLOOK_NAMES = {
    Outlook.decided: "beslutat",
    Outlook.on_track: "i fas",
    Outlook.at_risk: "i riskzonen",
    Outlook.cannot: "hinner inte",
    Outlook.outside: "står utanför",
    Outlook.awaiting: "väntar på motparten",
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
            if outlook is not Outlook.outside and definition.awaits_counterparty(stage, current.state):
                outlook = Outlook.awaiting
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
                decided_on=item.completed or (_decision_day(current.record) if outlook is Outlook.awaiting else None),
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


def _decision_day(record) -> pendulum.Date | None:
    day = record.get("decision_date")
    return pendulum.Date.fromisoformat(str(day)) if day else None


def _cause(definition: Definition, stage, state: InstanceState, node: Node, item: PlannedNode, kind: StateKind,
           outlook: Outlook, names: dict[str, str], today: pendulum.Date) -> str | None:
    party = definition.party(node.party)
    calendar = definition.meeting_calendar(node.party)
    record = state[node].record
    decided = decided_text(stage, record, party.decision_body or party.name)
    if outlook is Outlook.outside:
        if decided is not None:  # exactly what it decided: a split decision is no plain "no"
            return f"{party.name} står utanför: {mid_sentence(decided)}{decided_when(stage, record)}"
        when = record.get("decision_date") or (state[node].changed_at.in_timezone("Europe/Stockholm").to_date_string()
                                               if state[node].changed_at else "")
        reference = reference_of(stage, record)
        body = next((str(record[f.id]) for f in stage.record if f.decision_body and f.id in record), party.decision_body or party.name)
        return f"{party.name} står utanför: {in_sentence(body)} beslutade {when}{f' ({reference})' if reference else ''} att inte anta"
    if outlook is Outlook.awaiting and decided is not None:
        return f"{party.name}: {mid_sentence(decided)}{decided_when(stage, record)}; {_counterparty_step(definition, stage, item)}"
    if definition.state_outcome(stage.lifecycle, state[node].state) is DecisionOutcome.split and decided is not None:
        # What was decided and who follows it up first; then, if the new decision is at risk, why.
        lead = f"{party.name}: {mid_sentence(decided)}{decided_when(stage, record)}; {split_follow_up(definition, stage, record, party.name)}"
        risk = _meeting_cause(definition, party, calendar, state, node, item, kind, outlook, names, today)
        progress = f"; {_progress(kind, state[node].state, names)}"  # the lead said it already
        return lead + (f"; {risk.removeprefix(f'{party.name}: ').removesuffix(progress)}" if risk else "")
    return _meeting_cause(definition, party, calendar, state, node, item, kind, outlook, names, today)


def _meeting_cause(definition: Definition, party, calendar, state: InstanceState, node: Node, item: PlannedNode,
                   kind: StateKind, outlook: Outlook, names: dict[str, str], today: pendulum.Date) -> str | None:
    """Why a party is at risk or cannot make it, from its meetings."""
    if outlook not in (Outlook.at_risk, Outlook.cannot) or calendar is None:
        return None
    deciding = in_sentence(calendar.deciding.name)
    first = in_sentence(calendar.bodies[0].name)
    meetings = item.meetings
    progress = _progress(kind, state[node].state, names)
    last = meetings.last_decision if meetings else None
    if outlook is Outlook.cannot:
        if last is None:
            return f"{party.name}: {deciding} har inget sammanträde i kalendern som hinner besluta i tid; {progress}"
        if kind is StateKind.active and last.day < today:  # its last chance passed with no decision recorded
            return (f"{party.name}: inget sammanträde hinner längre besluta i tid; sista chansen var {deciding} {last.day}, "
                    f"och inget beslut är registrerat; {progress}")
        if kind is StateKind.active:  # the last meeting is ahead, but the matter cannot get through the bodies before it
            return (f"{party.name}: {deciding} sammanträder {last.day}, det sista sammanträdet som hinner, men ärendet "
                    f"hinner inte genom {first} före det; {progress}")
        return (f"{party.name}: inget sammanträde som ärendet kan nå hinner besluta i tid; sista chansen var {deciding} "
                f"{last.day}, med ärendet hos {first} senast {meetings.material_by}; {progress}")
    if kind is StateKind.active:  # with the bodies already: the deciding body's agenda is what matters
        if last.agenda_closes < today:  # on the agenda by now, if all went to plan: no margin left
            return (f"{party.name}: {deciding} sammanträder {last.day}, det sista sammanträdet som hinner; inget senare "
                    f"sammanträde räcker om beslutet skjuts upp; {progress}")
        return (f"{party.name}: {deciding} sammanträder {last.day}, det sista sammanträdet som hinner; ärendet måste "
                f"finnas på dess föredragningslista senast {last.agenda_closes}; {progress}")
    return (f"{party.name}: {deciding} sammanträder {last.day}; ärendet måste vara hos {first} senast {meetings.material_by}; "
            f"{progress}")


def _counterparty_step(definition: Definition, stage, item: PlannedNode) -> str:
    """What a branch adopted with changes waits for, and what a "no" to the changes would leave."""
    counterparty = stage.counterparty
    who = f"{definition.party(counterparty.party).name} ({ROLE_NAMES[counterparty.role]})"
    text = f"{who} ska godta eller avvisa ändringarna, väntat svar senast {item.finish.isoformat()}"
    last = item.meetings.last_decision if item.meetings else None
    if last is not None:
        return text + f"; godtas de inte behövs ett nytt beslut, senast i {in_sentence(last.body_name)} {last.day.isoformat()}"
    return text + "; godtas de inte hinner inget sammanträde i kalendern fatta ett nytt beslut i tid"


def split_follow_up(definition: Definition, stage, record, party_name: str) -> str:
    """Who follows up a split decision, and the two ways on."""
    counterparty = stage.counterparty
    who = (f"{definition.party(counterparty.party).name} ({ROLE_NAMES[counterparty.role]})" if counterparty
           else f"{definition.party(stage.owner).name} ({ROLE_NAMES[stage.responsible_role]})")
    missing = not_adopted_documents(stage, record)
    about = " och ".join(missing) if missing else "det som inte antogs"
    return f"{who} följer upp: ett nytt beslut om {about}, eller att {party_name} står utanför"


def _progress(kind: StateKind, state: str, names: dict[str, str]) -> str:
    if kind is StateKind.waiting:
        return "inget beslutsunderlag skickat"
    if kind is StateKind.ready:
        return "beslutsunderlaget skickat, ärendet inte anmält till beredning"
    return in_sentence(names[state])
