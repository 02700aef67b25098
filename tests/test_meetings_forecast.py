"""Council meetings, declines and amendments, and the forecast, on the default process with its
example calendars. The expectations are derived here from the calendars by brute force, not
read back from the planner."""

from __future__ import annotations

import itertools

import pendulum
import pytest

from samverkan.calendar import TIMEZONE, legal_due, parse_period, previous_business_day, subtract_period, to_date
from samverkan.dashboard.content import dashboard
from samverkan.engine import TransitionRequest, decide, outside, start
from samverkan.forecast import Outlook, forecast
from samverkan.graph import Node, branch_parties
from samverkan.notices.facts import digest_facts
from samverkan.notices.policy import evaluate
from samverkan.planner import plan
from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan.rejections import rejections
from samverkan.status import plan_for, status_rows
from samverkan.simulation.records import record_for

HARD_LIMIT = pendulum.date(2026, 12, 31)


@pytest.fixture(scope="module")
def definition():
    return load_definition(DEFAULT_DEFINITION).definition


def _closes(body, day):
    return previous_business_day(subtract_period(to_date(day), parse_period(body.agenda_closes)))


def _in_blackout(definition, day):
    return any(b.meetings is True and b.start <= day <= b.end for b in definition.meetings.blackouts)


def reachable_decisions(definition, party, available, limit):
    """Every deciding meeting a matter available on `available` can reach by `limit`, by trying
    every combination of the party's meetings: each body's agenda closes on or after the day the
    matter reached it (the material for the first, the body before's meeting for the next)."""
    calendar = definition.meeting_calendar(party)
    bodies = calendar.bodies
    options = [[d for d in body.meetings if not _in_blackout(definition, d)] for body in bodies]
    found = set()
    for combo in itertools.product(*options):
        reached = available
        ok = True
        for body, day in zip(bodies, combo):
            if _closes(body, day) < reached:
                ok = False
                break
            reached = to_date(day)
        if ok and to_date(combo[-1]) <= limit:
            found.add(to_date(combo[-1]))
    return found


def test_each_adoption_branch_gets_its_own_meeting_and_deadline_before_new_year(definition):
    planned = plan(definition)
    adoption = definition.stage("adoption")
    signing_days = parse_period("P1W")
    parties = branch_parties(definition, adoption)
    assert len(parties) == 16
    for party in parties:
        item = planned.get("adoption", party)
        calendar = definition.meeting_calendar(party)
        assert calendar.example
        meetings = item.meetings
        # The deadline is the party's own last deciding meeting that leaves a week to sign by 30 December.
        limit = subtract_period(pendulum.date(2026, 12, 30), signing_days)
        ready = planned.get("final-proposal").finish
        reachable = reachable_decisions(definition, party, ready, limit)
        last_possible = max(d for d in map(to_date, calendar.deciding.meetings) if d <= limit and not _in_blackout(definition, d))
        assert meetings.last_decision.day == last_possible
        assert item.deadline == last_possible < HARD_LIMIT
        assert meetings.decision.day == min(reachable), party
        assert meetings.last_decision.body_name == definition.party(party).decision_body
        # Reminders aim at the day the matter must be with the first body, never after it.
        assert item.act_by == meetings.material_by == _closes(calendar.bodies[0], meetings.latest[0].day)
        assert item.reminders and all(r.at.date() <= item.act_by for r in item.reminders)
        assert not any(r.at.date().month == 7 or pendulum.date(2026, 12, 21) <= r.at.date() <= pendulum.date(2026, 12, 27)
                       for r in item.reminders)
    # Their own meetings: not one shared day for all 16.
    assert len({planned.get("adoption", p).deadline for p in parties}) == 16


def _finish(definition, state, node, day, to=None, number=1, fields=None):
    stage = definition.stage(node.stage)
    at = pendulum.datetime(day.year, day.month, day.day, 12, tz=TIMEZONE)
    lifecycle = definition.lifecycle(stage.lifecycle)
    target = to or next(s.id for s in lifecycle.states if s.kind.value == "done")
    transition = next(t for t in lifecycle.transitions if t.to == target and state[node].state in t.source)
    values = fields if fields is not None else (record_for(stage, day, number, definition.party(node.party or stage.owner).decision_body)
                                                if transition.requires_record else {})
    changes = decide(definition, state, TransitionRequest(node.stage, node.party, target, at, fields=values), at)
    for change in changes:
        state[change.node] = change.after
    return state


def _drive_until(definition, state, stop_stage, slip_days=0):
    """Finishes every node before `stop_stage` on its planned day; drafting `slip_days` late."""
    shift = 0
    for item in plan(definition).nodes:
        stage = definition.stage(item.node.stage)
        if item.node.stage == stop_stage:
            break
        if stage.for_each and item.node.party is None:
            continue
        if item.node.stage == "drafting":
            shift = slip_days
        _finish(definition, state, item.node, item.finish.add(days=shift))
    return state


def test_drafting_six_weeks_late_names_the_parties_that_can_no_longer_reach_a_meeting_in_2026(definition):
    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption", slip_days=42)
    sent = state[Node("final-proposal", None)].completed_at.in_timezone(TIMEZONE).date()
    assert sent == pendulum.date(2026, 11, 26)
    today = sent
    ahead = forecast(definition, state, today)
    limit = subtract_period(pendulum.date(2026, 12, 30), parse_period("P1W"))
    expected_unable = {p for p in branch_parties(definition, definition.stage("adoption"))
                       if not reachable_decisions(definition, p, sent, limit)}
    assert expected_unable and len(expected_unable) < 16  # the example calendars leave a few a way
    unable = {p.party for p in ahead.parties if p.outlook is Outlook.cannot}
    assert unable == expected_unable
    for p in ahead.parties:
        if p.party in unable:
            assert p.cause.startswith(definition.party(p.party).name + ":") and "hinner" in p.cause
            assert p.in_force is None
        else:
            assert p.decision.day in reachable_decisions(definition, p.party, sent, limit)
        # The material came too late for them, through nothing the party did: said so, and what is left.
        if p.party in unable:
            calendar = definition.meeting_calendar(p.party)
            board, council = calendar.bodies[-2].name.lower(), calendar.deciding.name.lower()
            assert p.cause == (f"{definition.party(p.party).name}: beslutsunderlaget kom 2026-11-26, men ärendet måste vara hos "
                               f"{calendar.bodies[0].name.lower()} senast {p.material_by} för att hinna till {council} "
                               f"{p.last_decision.day}, det sista sammanträde där beslutet hinner fattas; inget planerat "
                               f"sammanträde hinner; {council} kan kallas till ett extra sammanträde (kommunallagen 5 kap.) "
                               f"senast 2026-12-18, efter beredning i {board}")  # 23 December is in the Christmas week
    # The two still able to have no meeting in reserve, but nothing the plan expected by now is
    # missing (the material has just come): they are on their way, not at risk.
    able = [p for p in ahead.parties if p.party not in unable]
    assert ahead.at_risk == [] and {p.outlook for p in able} == {Outlook.on_track} and {p.slack_meetings for p in able} == {0}
    # The dashboard and the weekly digest lead with those that cannot make it.
    dash = dashboard(definition, state, pendulum.datetime(2026, 11, 26, 9, tz=TIMEZONE), "i", [])
    assert dash.marks[0].startswith("EXEMPEL")
    overview = dash.summary_markdown
    assert overview.startswith("> **EXEMPEL") and overview.index(f"### Hinner inte ({len(unable)})") < overview.index("har antagit")
    assert "### I riskzonen" not in overview
    flagged = {row["Part"] for row in dash.forecast[:len(unable)]}
    assert flagged == {definition.party(p).name for p in unable}
    assert {row["Läge"] for row in dash.forecast[:len(unable)]} == {"hinner inte"}
    assert {row["I reserv"] for row in dash.forecast[len(unable):]} == {"inget sammanträde"}
    ev = evaluate(definition, state, pendulum.datetime(2026, 11, 30, 8, tz=TIMEZONE), "i", [])
    facts = digest_facts(ev, pendulum.date(2026, 11, 30))
    # Four days on, the two that were able have not registered the matter with their boards by
    # the day it had to be there (26 November): now no party can make it.
    assert {line.split(":")[0] for line in facts["cannot"]} == {definition.party(p.party).name for p in ahead.parties}
    assert facts["at_risk"] == []
    assert any(mark.startswith("EXEMPEL") for mark in facts["marks"])


def test_a_decline_and_an_amendment_do_not_hold_up_the_other_fourteen(definition):
    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption")
    planned = plan_for(definition, state, pendulum.date(2026, 10, 15))
    others = [p for p in branch_parties(definition, definition.stage("adoption")) if p not in ("vannas", "umea")]
    adoption = definition.stage("adoption")
    # Vännäs declines at its expected meeting; Umeå adopts the agreement but changes its contract.
    vannas_day = planned.get("adoption", "vannas").meetings.decision.day
    declined = record_for(adoption, vannas_day, 7, "Kommunfullmäktige") | {"agreement_outcome": "ej antagen", "contract_outcome": "ej antaget"}
    state = _finish(definition, state, Node("adoption", "vannas"), vannas_day, to="rejected", fields=declined)
    umea_day = planned.get("adoption", "umea").meetings.decision.day
    amended = record_for(adoption, umea_day, 8, "Kommunfullmäktige") | {"contract_outcome": "antaget med ändringar"}
    state = _finish(definition, state, Node("adoption", "umea"), umea_day, to="amended", fields=amended)
    for party in others:
        state = _finish(definition, state, Node("adoption", party), planned.get("adoption", party).meetings.decision.day)
    assert set(outside(definition, state)) == {Node("adoption", "vannas"), Node("signing", "vannas"), Node("in-force", "vannas")}
    # The others' signing is released party by party, without waiting for Umeå or Vännäs.
    assert state[Node("signing", "vannas")].state == "waiting" and state[Node("signing", "umea")].state == "waiting"
    for party in others:
        assert state[Node("signing", party)].state == "ready"
        adopted_on = state[Node("adoption", party)].completed_at.in_timezone(TIMEZONE).date()
        state = _finish(definition, state, Node("signing", party), adopted_on.add(days=7))
    assert state[Node("signing", None)].state != "done"  # Umeå still takes part: the region's answer is awaited
    # Region Västerbotten, the counterparty of Umeå's contract, accepts the changes: adopted,
    # without a second council decision.
    answered = umea_day.add(days=3)
    ahead = forecast(definition, state, answered)
    umea = next(p for p in ahead.parties if p.party == "umea")
    assert umea.outlook is Outlook.awaiting and umea.state == "amended" and umea.decided_on == umea_day
    state = _finish(definition, state, Node("adoption", "umea"), answered, to="adopted",
                    fields={"counterparty_answered": answered.isoformat()})
    assert state[Node("adoption", "umea")].completed_at.in_timezone(TIMEZONE).date() == answered
    state = _finish(definition, state, Node("signing", "umea"), answered.add(days=3))
    new_year = pendulum.date(2027, 1, 1)
    for party in [*others, "umea"]:
        state = _finish(definition, state, Node("in-force", party), new_year)
        assert state[Node("in-force", party)].completed_at.in_timezone(TIMEZONE).date() == new_year
    assert state[Node("in-force", None)].state == "reached"  # the stage is done without Vännäs
    assert state[Node("in-force", "vannas")].state == "waiting"
    ahead = forecast(definition, state, new_year)
    (vannas,) = ahead.outside
    assert vannas.party == "vannas" and vannas.cause.startswith("Vännäs kommun står utanför: kommunfullmäktige beslutade")
    assert "§7" in vannas.cause
    rows = {r.node: r for r in status_rows(definition, state, pendulum.datetime(2027, 1, 1, 9, tz=TIMEZONE))}
    for stage_id in ("signing", "in-force"):  # shown as outside, not as late
        row = rows[Node(stage_id, "vannas")]
        assert row.outside_by == Node("adoption", "vannas") and row.days_left is None and not row.late
    (rejection,) = rejections(definition, state)
    assert rejection.blocks == () and "står utanför" in rejection.join
    dash = dashboard(definition, state, pendulum.datetime(2027, 1, 1, 9, tz=TIMEZONE), "i", [])
    assert "### Utanför (1)" in dash.summary_markdown and "Vännäs kommun står utanför" in dash.summary_markdown


def test_a_postponed_matter_goes_to_the_deciding_bodys_next_meeting(definition):
    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption")
    first = plan_for(definition, state, pendulum.date(2026, 10, 15)).get("adoption", "vannas").meetings
    council = [to_date(d) for d in definition.meeting_calendar("vannas").deciding.meetings]
    state = _finish(definition, state, Node("adoption", "vannas"), first.expected[0].day, to="in-preparation")
    state = _finish(definition, state, Node("adoption", "vannas"), first.decision.day, to="postponed")
    ahead = forecast(definition, state, first.decision.day)
    vannas = next(p for p in ahead.parties if p.party == "vannas")
    later = min(d for d in council if d > first.decision.day)  # the council's next meeting; the board is behind it
    assert vannas.decision.day == later == vannas.last_decision.day and vannas.slack_meetings == 0
    # Its last meeting in time is ahead and nothing the plan expected by now is missing: on its
    # way, with no meeting in reserve; not at risk.
    assert vannas.outlook is Outlook.on_track and vannas.cause is None
    # That meeting passes with no decision recorded: until its minutes are due (14 days, moved
    # past a closed day) the decision is awaited in the register, not missed.
    minutes_by = legal_due(later, "P14D").due
    for day in (later.add(days=1), minutes_by):
        vannas = next(p for p in forecast(definition, state, day).parties if p.party == "vannas")
        assert vannas.outlook is Outlook.awaiting_registration and vannas.in_force is None, day
        assert vannas.cause == (f"Vännäs kommun: kommunfullmäktige sammanträdde {later}; beslutet är ännu inte registrerat "
                                f"(protokollet ska vara justerat senast {minutes_by})")
    vannas = next(p for p in forecast(definition, state, minutes_by.add(days=1)).parties if p.party == "vannas")
    assert vannas.outlook is Outlook.cannot
    assert vannas.cause == (f"Vännäs kommun: kommunfullmäktige sammanträdde {later}, det sista sammanträde där beslutet hann "
                            "fattas i tid, och inget beslut är registrerat; bordlagt till ett senare sammanträde; inget planerat "
                            "sammanträde hinner, och ett extra sammanträde med kommunfullmäktige kan inte längre kungöras en "
                            "vecka i förväg och hållas senast 2026-12-18")


def test_a_matter_with_the_board_goes_on_from_the_day_it_got_there(definition):
    """Bjurholm's matter reaches its board on the day the agenda closes. Weeks later, with the
    board's meeting past and nothing recorded since, the plan takes that meeting as held on it
    and expects the council's next meeting; once that has passed with no decision, the
    council's next one, each passed meeting's decision awaited in the register until its minutes
    are due; once no meeting keeps the deadline and the last one's minutes are due, the party
    cannot make it, and the forecast says why."""
    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption")
    calendar = definition.meeting_calendar("bjurholm")
    board, council = ([to_date(d) for d in body.meetings] for body in calendar.bodies)
    sent = plan_for(definition, state, pendulum.date(2026, 10, 15)).get("adoption", "bjurholm").meetings
    reached = sent.expected[0].agenda_closes
    state = _finish(definition, state, Node("adoption", "bjurholm"), reached, to="in-preparation")
    # Brute force: the board's first meeting from that day (the matter is with it: its agenda no
    # longer matters), then the council's meetings whose agenda closes on or after it, by the limit.
    board_meeting = min(d for d in board if d >= reached)
    chances = sorted(d for d in council if _closes(calendar.bodies[1], d) >= board_meeting and d <= HARD_LIMIT)
    assert len(chances) >= 2
    day = board_meeting.add(days=1)
    for chance in chances:
        ahead = next(p for p in forecast(definition, state, day).parties if p.party == "bjurholm")
        # Registered the day its agenda closed for the last meetings in time: nothing it was
        # expected to have by now is missing, so no alarm (the planner's hopes are earlier).
        assert ahead.outlook is Outlook.on_track and ahead.cause is None, day
        assert ahead.decision.day == chance, day
        assert plan_for(definition, state, day).get("adoption", "bjurholm").finish == chance
        day = chance.add(days=1)  # the meeting passes with no decision recorded
    # After the last one: awaited until its minutes are due, then it did not make it.
    minutes_by = legal_due(chances[-1], "P14D").due
    waiting = next(p for p in forecast(definition, state, minutes_by).parties if p.party == "bjurholm")
    assert waiting.outlook is Outlook.awaiting_registration and waiting.unregistered.meeting.day == chances[-1]
    gone = next(p for p in forecast(definition, state, minutes_by.add(days=1)).parties if p.party == "bjurholm")
    assert gone.outlook is Outlook.cannot
    assert gone.cause.startswith(f"Bjurholms kommun: kommunfullmäktige sammanträdde {chances[-1]}, det sista sammanträde där "
                                 "beslutet hann fattas i tid, och inget beslut är registrerat; ärendet bereds; inget planerat "
                                 "sammanträde hinner")


def test_a_notice_says_which_agenda_matters_before_and_after_the_board_has_the_matter(definition):
    from samverkan.notices.facts import meeting_lines

    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption")
    day = pendulum.date(2026, 10, 16)
    sent = plan_for(definition, state, day).get("adoption", "umea")
    board, council = sent.meetings.latest
    assert meeting_lines(sent)[0] == (f"Ärendet måste vara hos kommunstyrelsen senast {board.agenda_closes} för att hinna till "
                                      f"kommunstyrelsen {board.day} och kommunfullmäktige {council.day}, de sista sammanträden "
                                      "där beslutet hinner fattas.")
    assert meeting_lines(sent)[1] == f"Väntat beslut: kommunfullmäktige {sent.meetings.decision.day} (1 sammanträde i reserv)."
    state = _finish(definition, state, Node("adoption", "umea"), day, to="in-preparation")
    with_board = plan_for(definition, state, day).get("adoption", "umea")
    assert with_board.act_by == council.agenda_closes
    assert meeting_lines(with_board)[0] == (f"Ärendet måste finnas på kommunfullmäktiges föredragningslista senast "
                                            f"{council.agenda_closes} för att hinna till kommunfullmäktige {council.day}, det "
                                            "sista sammanträde där beslutet hinner fattas.")
    # With no meeting in reserve the line says so in words.
    assert meeting_lines(with_board)[1] == (f"Väntat beslut: kommunfullmäktige {with_board.meetings.decision.day} "
                                            f"({'inget sammanträde' if with_board.meetings.slack_meetings == 0 else '1 sammanträde'} i reserv).")


def test_a_matter_that_reaches_the_board_too_late_is_told_so_before_the_last_meeting(definition):
    state, _ = start(definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = _drive_until(definition, dict(state), "adoption")
    calendar = definition.meeting_calendar("bjurholm")
    board, council = ([to_date(d) for d in body.meetings] for body in calendar.bodies)
    last_board = max(d for d in board if d <= HARD_LIMIT)
    last_council = max(d for d in council if d <= HARD_LIMIT)
    late = last_board.add(days=1)  # the board will not meet again this year
    assert late < last_council
    state = _finish(definition, state, Node("adoption", "bjurholm"), late, to="in-preparation")
    bjurholm = next(p for p in forecast(definition, state, late).parties if p.party == "bjurholm")
    assert bjurholm.outlook is Outlook.cannot
    assert bjurholm.cause == (f"Bjurholms kommun: kommunfullmäktige sammanträder {last_council}, det sista sammanträde där "
                              "beslutet hinner fattas, men ärendet hinner inte beredas av kommunstyrelsen före det; ärendet "
                              "bereds; inget planerat sammanträde hinner; kommunfullmäktige kan kallas till ett extra "
                              "sammanträde (kommunallagen 5 kap.) senast 2026-12-18, efter beredning i kommunstyrelsen")


def test_the_digest_counts_as_done_only_the_branches_that_are(definition):
    """Signing goes party by party: with one party adopted, one signing branch may start and
    fifteen still wait for their adoption. None of them is done."""
    from tests.illustrative import illustrative

    state, mark = illustrative(definition)
    ev = evaluate(definition, state, pendulum.datetime(2026, 11, 30, 8, tz=TIMEZONE), "i", [mark])
    progress = digest_facts(ev, pendulum.date(2026, 11, 30))["progress"]
    assert "Antagande av överenskommelse och samverkansavtal: 1 av 16 klara" in progress
    assert "Undertecknande: 0 av 16 klara" in progress
