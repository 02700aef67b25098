"""The forecast: where each party's decision is heading, from what is recorded, the meeting
calendars and each remaining step's estimate. Pure: (definition, state, today) -> Forecast.

Per party: the meeting expected to decide, the last one that still keeps the hard deadline,
the slack counted in meetings and in days, and its outlook, with the cause in one Swedish
sentence for every party that is not simply on its way:

- *hinner inte* (cannot): no meeting it can still reach keeps the deadline; the cause says
  why and whether an extra meeting (kommunallagen 5 kap.) could still keep it;
- *väntar på registrering*: the meeting that could have decided has passed, and its minutes
  are not yet due (14 days after it): the decision was probably taken and is not registered;
- *i riskzonen* (at risk): the recorded facts have fallen behind what the plan needs (a step
  the plan expected by now is not recorded) and no deciding meeting is left in reserve.
A party that decides at its last meeting in time, on plan, is none of these: it is *i fas*."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pendulum

from samverkan.calendar import TIMEZONE, is_business_day, legal_due, previous_business_day, to_date
from samverkan.calendar.appeal import DECIDED
from samverkan.engine import InstanceState, NodeState, kind_of, outside, reference_of
from samverkan.graph import Node, branch_parties, party_dependencies
from samverkan.meetings.chains import Sitting, closing_day, expected_chain, usable_meetings
from samverkan.outcomes import decided_text, decided_when, mid_sentence, not_adopted_documents
from samverkan.planner import Plan, PlannedNode, plan
from samverkan.process_definitions.model import ROLE_NAMES, DecisionOutcome, Definition, MeetingCalendar, Stage, StateKind
from samverkan.status import actuals_of, plan_for
from samverkan.i18n import N_, _
from samverkan.text import in_sentence


class Outlook(StrEnum):
    decided = "decided"  # adopted: nothing left to forecast for the decision
    on_track = "on-track"  # the plan holds: every step it expected by now is recorded, or a meeting is in reserve
    at_risk = "at-risk"  # a step the plan expected by now is not recorded, and no meeting is in reserve
    awaiting_registration = "awaiting-registration"  # its meeting has passed; the decision is not registered yet
    cannot = "cannot"  # no meeting it can still reach keeps the deadline
    outside = "outside"  # the party said no
    awaiting = "awaiting-counterparty"  # adopted with changes: the counterparty accepts them, or the party decides again


# The minutes of a council's meeting are approved within 14 days of it (kommunallagen): until
# then a decision not yet registered is awaited, not missed.
MINUTES_WITHIN = "P14D"
# A council's meeting is announced at least a week before it is held (kommunallagen 5 kap.):
# an extra meeting needs that long.
EXTRA_MEETING_NOTICE_DAYS = 7

OUTLOOK_NAMES = {  # catalogue texts: shown with _
    Outlook.decided: N_("beslutat"),
    Outlook.on_track: N_("i fas"),
    Outlook.at_risk: N_("i riskzonen"),
    Outlook.awaiting_registration: N_("väntar på registrering"),
    Outlook.cannot: N_("hinner inte"),
    Outlook.outside: N_("står utanför"),
    Outlook.awaiting: N_("väntar på motparten"),
}


@dataclass(frozen=True)
class Unregistered:
    """A meeting that could have decided the matter and has passed with no decision recorded,
    while its minutes are not yet due: the decision is probably taken, not yet registered."""

    meeting: Sitting
    minutes_by: pendulum.Date  # the last day its minutes may be approved


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
    decided_on: pendulum.Date | None  # the day of the decision itself, not the day it was registered
    in_force: pendulum.Date | None  # the party's expected entry into force, if the process has one per party
    cause: str | None  # one sentence, Swedish, for a party at risk, unable, awaiting registration or outside
    example: bool  # the dates come from an example calendar
    unregistered: Unregistered | None = None
    warnings: tuple[str, ...] = ()  # meetings it relies on that lie in a period the definition warns about


@dataclass(frozen=True)
class Forecast:
    as_of: pendulum.Date
    stage: str | None  # the stage decided at meetings
    parties: list[PartyForecast]
    critical_path: list[Node]
    completion: pendulum.Date | None  # when the last party taking part is expected to enter into force
    examples: list[str]  # parties whose calendars are examples

    def _with(self, outlook: Outlook) -> list[PartyForecast]:
        """The parties with this outlook, the most urgent first: by their last chance."""
        return sorted((p for p in self.parties if p.outlook is outlook), key=lambda p: (p.material_by or self.as_of, p.name))

    @property
    def cannot(self) -> list[PartyForecast]:
        return self._with(Outlook.cannot)

    @property
    def at_risk(self) -> list[PartyForecast]:
        return self._with(Outlook.at_risk)

    @property
    def awaiting_registration(self) -> list[PartyForecast]:
        return sorted((p for p in self.parties if p.unregistered and p.outlook is Outlook.awaiting_registration),
                      key=lambda p: (p.unregistered.meeting.day, p.name))

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
        expected = _Expected(definition, state)
        for party in branch_parties(definition, stage):
            node = Node(stage.id, party)
            item = planned.get(stage.id, party)
            current = state[node]
            kind = kind_of(definition, stage, current.state)
            passed = passed_meeting(definition, stage, party, current, kind, today)
            unregistered = _unregistered(definition, stage, current, passed, today)
            behind = None if unregistered else _behind(definition, stage, node, current, kind, item, passed, expected, planned, today)
            outlook = _outlook(kind, node, away, item, unregistered, behind)
            in_force = planned.get(final, party) if final else None
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
                decided_on=(_decided_on(current, item) if kind is StateKind.done
                            else item.completed or (_decision_day(current.record) if outlook is Outlook.awaiting else None)),
                in_force=in_force.finish if in_force is not None and _in_force_known(outlook, item) else None,
                cause=_cause(definition, stage, state, node, item, kind, outlook, names, today, behind, unregistered),
                example=bool(item.meetings and item.meetings.example),
                unregistered=unregistered,
                warnings=item.meetings.warnings if item.meetings and item.completed is None else (),
            ))
    critical = [n.node for n in planned.nodes if n.critical]
    if parties:  # the last party still able to make it; a party that cannot has no date to give
        completion = max((p.in_force for p in parties if p.in_force), default=None)
    else:
        finals = [n for n in planned.nodes if n.node.party is None and not any(n.node.stage in s.depends_on for s in definition.stages)]
        completion = max((n.finish for n in finals), default=None)
    return Forecast(today, stage.id if stage else None, parties, critical, completion, definition.example_calendars)


class _Expected:
    """The plan from the recorded facts alone, not moved to today: the days it expected each
    open step to be done, some of them already past. Made only when a branch needs it."""

    def __init__(self, definition: Definition, state: InstanceState) -> None:
        self.definition, self.state, self._plan = definition, state, None

    def get(self, node: Node) -> PlannedNode:
        if self._plan is None:
            self._plan = plan(self.definition, actuals_of(self.definition, self.state))
        return self._plan.get(node.stage, node.party)


def _final_per_party(definition: Definition) -> str | None:
    """The last stage that goes party by party (entry into force), if the process has one."""
    finals = [s.id for s in definition.stages if s.for_each and s.for_each.by_party
              and not any(s.id in other.depends_on for other in definition.stages)]
    return finals[0] if finals else None


def _reachable(item: PlannedNode) -> bool:
    """A meeting it can still reach keeps the deadline."""
    meetings = item.meetings
    return bool(meetings and meetings.decision and meetings.last_decision
                and meetings.slack_meetings is not None and meetings.slack_meetings >= 0)


def _in_force_known(outlook: Outlook, item: PlannedNode) -> bool:
    """Entry into force has a date to give: decided, or a meeting still in reach keeps the deadline."""
    return outlook is Outlook.decided or (outlook is not Outlook.outside and _reachable(item))


def _outlook(kind: StateKind, node: Node, away: dict[Node, Node], item: PlannedNode, unregistered: Unregistered | None,
             behind: str | None) -> Outlook:
    if node in away:
        return Outlook.outside
    if kind is StateKind.done:
        return Outlook.decided
    if unregistered is not None:
        return Outlook.awaiting_registration
    if not _reachable(item):
        return Outlook.cannot
    if behind is not None and item.meetings.slack_meetings == 0:
        return Outlook.at_risk
    return Outlook.on_track


def _decided_on(current: NodeState, item: PlannedNode) -> pendulum.Date | None:
    """The decision's own day (its record's decision date), not the day it was registered."""
    recorded = current.record.get(DECIDED)
    if recorded:
        try:
            return to_date(recorded)
        except (TypeError, ValueError):
            pass
    return item.completed


def passed_meeting(definition: Definition, stage: Stage, party: str, current: NodeState, kind: StateKind,
                   today: pendulum.Date) -> Sitting | None:
    """For a matter with its bodies (in preparation, or postponed to the deciding body's next
    meeting): the latest deciding meeting it could have been decided at that has passed with no
    decision recorded; None while that meeting is ahead, or when the matter is not with them.
    The first such meeting is counted from the day the matter was registered as if it reached
    the first body that day (its agenda closing on or after it): a secretary registers it the
    day it goes there, so an earlier meeting would be a false alarm. The preparing bodies'
    meetings are not recorded: those past are taken as held on it, as the planner takes them."""
    if kind is not StateKind.active or current.started_at is None:
        return None
    calendar = definition.meeting_calendar(party)
    if calendar is None:
        return None
    since = (current.changed_at or current.started_at).in_timezone(TIMEZONE).date()
    if definition.state_at_deciding_body(stage.lifecycle, current.state):  # the meeting that postponed it is behind it
        chain = expected_chain(definition, calendar, since.add(days=1), from_body=len(calendar.bodies) - 1)
    else:
        chain = expected_chain(definition, calendar, since)
    if chain is None or chain[-1].day >= today:
        return None
    deciding = calendar.deciding
    day = [d for d in usable_meetings(definition, deciding) if chain[-1].day <= d < today][-1]
    return Sitting(deciding.id, deciding.name, day, closing_day(deciding, day))


def _unregistered(definition: Definition, stage: Stage, current: NodeState, passed: Sitting | None,
                  today: pendulum.Date) -> Unregistered | None:
    """The passed meeting, while its minutes are not yet due and the decision can still be
    registered from the matter's state (not, say, while an amended contract is renegotiated)."""
    if passed is None or not _registrable(definition, stage, current.state):
        return None
    minutes_by = legal_due(passed.day, MINUTES_WITHIN).due
    return Unregistered(passed, minutes_by) if today <= minutes_by else None


def awaiting_registration(definition: Definition, state: InstanceState, node: Node, today: pendulum.Date) -> Unregistered | None:
    """The meeting whose decision is awaited in the register for this branch, if any: what a
    reminder to the party says ("register the decision"). Pure, like the forecast."""
    stage = definition.stage(node.stage)
    if not stage.at_meetings or node.party is None:
        return None
    current = state[node]
    kind = kind_of(definition, stage, current.state)
    return _unregistered(definition, stage, current, passed_meeting(definition, stage, node.party, current, kind, today), today)


def _registrable(definition: Definition, stage: Stage, state_id: str) -> bool:
    """A decision can be registered from this state: a meeting may have taken it."""
    return any(state_id in t.source and t.requires_record and t.to != state_id
               for t in definition.lifecycle(stage.lifecycle).transitions)


def _behind(definition: Definition, stage: Stage, node: Node, current: NodeState, kind: StateKind, item: PlannedNode,
            passed: Sitting | None, expected: _Expected, planned: Plan, today: pendulum.Date) -> str | None:
    """The step the plan expected by now that is not recorded, as a clause of the cause
    (Swedish); None while every step it expected by now is recorded."""
    calendar = definition.meeting_calendar(node.party)
    if calendar is None or item.completed is not None:
        return None
    if kind is StateKind.waiting:
        late = [(planned.get(d.stage, d.party), expected.get(d)) for d in party_dependencies(definition, stage, node.party)]
        late = [(now, then) for now, then in late if now.completed is None and now.finish > then.finish]
        if not late:
            return None
        now, then = max(late, key=lambda pair: pair[0].finish)
        if then.finish < today:
            return f"steget ”{now.name}” skulle ha varit klart {then.finish}"
        return f"steget ”{now.name}” väntas bli klart först {now.finish}, inte {then.finish} som planerat"
    if kind is StateKind.ready:
        chain = expected_chain(definition, calendar, item.start)
        if chain is None or chain[0].agenda_closes >= today:
            return None
        return (f"ärendet skulle ha varit hos {in_sentence(chain[0].body_name)} senast {chain[0].agenda_closes} "
                "men är inte anmält till beredning")
    if passed is not None:
        return f"{in_sentence(passed.body_name)} sammanträdde {passed.day} utan att något beslut har registrerats"
    return None


def _decision_day(record) -> pendulum.Date | None:
    day = record.get("decision_date")
    return pendulum.Date.fromisoformat(str(day)) if day else None


def _cause(definition: Definition, stage: Stage, state: InstanceState, node: Node, item: PlannedNode, kind: StateKind,
           outlook: Outlook, names: dict[str, str], today: pendulum.Date, behind: str | None,
           unregistered: Unregistered | None) -> str | None:
    party = definition.party(node.party)
    record = state[node].record
    decided = decided_text(stage, record, party.decision_body or party.name)
    if outlook is Outlook.outside:
        if decided is not None:  # exactly what it decided: a split decision is no plain "no"
            return f"{party.name} står utanför: {mid_sentence(decided)}{decided_when(stage, record)}"
        return _outside_cause(definition, stage, state, node)
    if outlook is Outlook.awaiting and decided is not None:
        return f"{party.name}: {mid_sentence(decided)}{decided_when(stage, record)}; {_counterparty_step(definition, stage, item)}"
    if definition.state_outcome(stage.lifecycle, state[node].state) is DecisionOutcome.split and decided is not None:
        # What was decided and who follows it up first; then, if the new decision is at risk, why.
        lead = f"{party.name}: {mid_sentence(decided)}{decided_when(stage, record)}; {split_follow_up(definition, stage, record, party.name)}"
        risk = _meeting_cause(definition, stage, state, node, item, kind, outlook, names, today, behind, unregistered)
        progress = f"; {_progress(kind, state[node].state, names)}"  # the lead said it already
        return lead + (f"; {risk.removeprefix(f'{party.name}: ').removesuffix(progress)}" if risk else "")
    return _meeting_cause(definition, stage, state, node, item, kind, outlook, names, today, behind, unregistered)


def _meeting_cause(definition: Definition, stage: Stage, state: InstanceState, node: Node, item: PlannedNode, kind: StateKind,
                   outlook: Outlook, names: dict[str, str], today: pendulum.Date, behind: str | None,
                   unregistered: Unregistered | None) -> str | None:
    """Why a party is at risk, cannot make it or awaits registration, from its meetings."""
    party = definition.party(node.party)
    calendar = definition.meeting_calendar(node.party)
    if calendar is None or outlook in (Outlook.on_track, Outlook.decided, Outlook.awaiting, Outlook.outside):
        return None
    if outlook is Outlook.awaiting_registration:
        meeting = unregistered.meeting
        return (f"{party.name}: {in_sentence(meeting.body_name)} sammanträdde {meeting.day}; beslutet är ännu inte "
                f"registrerat (protokollet ska vara justerat senast {unregistered.minutes_by})")
    deciding = in_sentence(calendar.deciding.name)
    first = in_sentence(calendar.bodies[0].name)
    meetings = item.meetings
    last = meetings.last_decision if meetings else None
    if outlook is Outlook.at_risk:
        if kind is StateKind.active:  # with the bodies already: the deciding body's agenda is what matters
            target = (f"ärendet måste finnas på {deciding}s föredragningslista senast {last.agenda_closes}"
                      if last.agenda_closes >= today else f"ärendet bör redan finnas på {deciding}s föredragningslista")
        elif kind is StateKind.ready:  # the clause before names the body already
            target = f"det måste vara där senast {meetings.material_by}"
        else:
            target = f"ärendet måste vara hos {first} senast {meetings.material_by}"
        return (f"{party.name}: {behind}; {target} för att hinna till {deciding} {last.day}, det sista sammanträde där "
                "beslutet hinner fattas; inget sammanträde i reserv")
    progress = _progress(kind, state[node].state, names)
    extra = _extra_meeting(definition, calendar, item.latest_finish, today,
                           prepared=kind is StateKind.active and last is not None and last.day < today)
    if last is None:
        return f"{party.name}: {deciding} har inget sammanträde i kalendern där beslutet hinner fattas i tid; {progress}; {extra}"
    if kind is StateKind.active and last.day < today:  # its last chance passed, and the minutes are due: no decision
        return (f"{party.name}: {deciding} sammanträdde {last.day}, det sista sammanträde där beslutet hann fattas i tid, "
                f"och inget beslut är registrerat; {progress}; {extra}")
    if kind is StateKind.active:  # the last meeting is ahead, but the matter cannot get through the bodies before it
        return (f"{party.name}: {deciding} sammanträder {last.day}, det sista sammanträde där beslutet hinner fattas, men "
                f"ärendet hinner inte beredas av {first} före det; {progress}; {extra}")
    needed = f"för att hinna till {deciding} {last.day}, det sista sammanträde där beslutet hinner fattas"
    if item.start > meetings.material_by:  # the material comes too late: nothing the party did or left undone
        came = "kom" if kind is StateKind.ready else "väntas"
        return (f"{party.name}: beslutsunderlaget {came} {item.start}, men ärendet måste vara hos {first} senast "
                f"{meetings.material_by} {needed}; {extra}")
    return f"{party.name}: ärendet skulle ha varit hos {first} senast {meetings.material_by} {needed}; {progress}; {extra}"


def _outside_cause(definition: Definition, stage: Stage, state: InstanceState, node: Node) -> str:
    party = definition.party(node.party)
    record = state[node].record
    when = record.get(DECIDED) or (state[node].changed_at.in_timezone(TIMEZONE).to_date_string()
                                   if state[node].changed_at else "")
    reference = reference_of(stage, record)
    body = next((str(record[f.id]) for f in stage.record if f.decision_body and f.id in record), party.decision_body or party.name)
    return f"{party.name} står utanför: {in_sentence(body)} beslutade {when}{f' ({reference})' if reference else ''} att inte anta"


def _extra_meeting(definition: Definition, calendar: MeetingCalendar, limit: pendulum.Date | None, today: pendulum.Date,
                   prepared: bool) -> str:
    """What is left when no planned meeting keeps the deadline: an extra meeting of the deciding
    body, held by the last day it can decide (a business day outside the periods with no
    meetings), announced a week before; after the preparing body, unless it has met on it."""
    deciding = in_sentence(calendar.deciding.name)
    law = "kommunallagen 5 kap." if "fullmäktige" in deciding else "kommunallagen 6 kap."
    if limit is None:
        return f"inget planerat sammanträde hinner; {deciding} kan kallas till ett extra sammanträde ({law})"
    last = _last_meeting_day(definition, limit)
    if last.toordinal() - today.toordinal() < EXTRA_MEETING_NOTICE_DAYS:
        return (f"inget planerat sammanträde hinner, och ett extra sammanträde med {deciding} kan inte längre kungöras "
                f"en vecka i förväg och hållas senast {last}")
    before = "" if prepared or len(calendar.bodies) == 1 else f", efter beredning i {in_sentence(calendar.bodies[-2].name)}"
    return f"inget planerat sammanträde hinner; {deciding} kan kallas till ett extra sammanträde ({law}) senast {last}{before}"


def _last_meeting_day(definition: Definition, limit: pendulum.Date) -> pendulum.Date:
    """The last business day on or before `limit` outside every period with no meetings."""
    day = to_date(limit)
    stops = [(b.start, b.end) for b in definition.meetings.blackouts if b.stops_meetings]
    for _step in range(366):
        if is_business_day(day) and not any(start <= day <= end for start, end in stops):
            return day
        day = previous_business_day(day.subtract(days=1))  # the next candidate back
    return to_date(limit)


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
        return _("inget beslutsunderlag skickat")
    if kind is StateKind.ready:
        return _("beslutsunderlaget skickat, ärendet inte anmält till beredning")
    return in_sentence(names[state])
