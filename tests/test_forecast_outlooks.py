"""What the forecast calls a party, and where it says so (the `forecast` table, the dashboard,
the weekly digest): "hinner inte" only when no meeting it can still reach keeps the deadline
(with what an extra meeting could still do), "i riskzonen" only when a step the plan expected
by now is not recorded and no meeting is left in reserve, "väntar på registrering" between a
meeting that could have decided and the day its minutes are due. Driven exactly on plan, the
default year lists nobody in any of them. The expectations are derived here from the calendars
and the recorded facts, not read back from the forecast."""

from __future__ import annotations

import email
import email.policy
import heapq
import itertools
import random

import pendulum
import pytest

from samverkan import engine
from samverkan.calendar import TIMEZONE, legal_due, parse_period, subtract_period
from samverkan.cli.forecast_output import forecast_as_table
from samverkan.dashboard.content import dashboard
from samverkan.dashboard.forecast import forecast_markdown
from samverkan.engine import TransitionRequest
from samverkan.forecast import Outlook, forecast
from samverkan.graph import Node, branch_parties
from samverkan.notices.facts import digest_facts, node_facts
from samverkan.notices.model import NoticeKind, Recipient
from samverkan.notices.policy import due_notices, evaluate
from samverkan.notifications.render import render
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.simulation.scenario import AS_PLANNED
from samverkan.simulation.script import Script, apply

from tests.cli_helpers import run_cli
from tests.illustrative import apply as apply_requests
from tests.illustrative import illustrative
from tests.test_meetings_forecast import _closes, _drive_until, reachable_decisions

LIMIT = subtract_period(pendulum.date(2026, 12, 30), parse_period("P1W"))  # a week to sign before 30 December


def _at(day: pendulum.Date, hour: int = 8) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz=TIMEZONE)


def _on_plan_sweep_days(definition):
    """The default year driven exactly on plan, as `samverkan simulate` drives it (acts in the
    afternoon): the state each weekday at 08:00, when the sweep runs."""
    start = pendulum.datetime(2025, 10, 1, 9, tz=TIMEZONE)
    state, changes = engine.start(definition, start)
    state = dict(state)
    apply(state, changes)
    script = Script(definition, AS_PLANNED, random.Random(0))
    pending: list = []
    order = itertools.count()

    def schedule(day, changed=None):
        for act in script.next_acts(state, day, changed):
            heapq.heappush(pending, (act.day, next(order), act))

    schedule(start.date())
    day = start.date().add(days=1)
    while day <= pendulum.date(2027, 1, 31):
        if day.isoweekday() <= 5:
            yield day, state
        while pending and pending[0][0] <= day:
            act = heapq.heappop(pending)[2]
            changes = engine.decide(definition, state, act.request(), act.at)
            apply(state, changes)
            schedule(act.day, [c.node for c in changes])
        day = day.add(days=1)


def test_the_default_year_on_plan_lists_nobody_at_risk_unable_or_awaiting_registration(default_definition):
    tight = 0  # sweep days with a party planned to decide at its last meeting in time (once called at risk)
    for day, state in _on_plan_sweep_days(default_definition):
        ahead = forecast(default_definition, state, day)
        assert [(p.party, p.outlook.value, p.cause) for p in ahead.parties
                if p.outlook not in (Outlook.on_track, Outlook.decided)] == [], day
        assert forecast_markdown(ahead) == "", day
        table = forecast_as_table(ahead, default_definition, "vb", [], None)
        assert not any(word in table for word in ("HINNER INTE", "I RISKZONEN", "VÄNTAR PÅ REGISTRERING", "hinner inte")), day
        tight += any(p.slack_meetings == 0 and p.outlook is Outlook.on_track for p in ahead.parties)
        if day.day_of_week == pendulum.MONDAY:  # the digest's day
            facts = digest_facts(evaluate(default_definition, state, _at(day), "vb"), day)
            assert (facts["cannot"], facts["at_risk"], facts["awaiting_registration"]) == ([], [], []), day
    assert tight > 250  # on every sweep day until the last adoption, some party has no meeting in reserve


def test_the_simulated_year_on_plan_sends_no_digest_that_lists_anyone_at_risk(capsys, tmp_path):
    result = run_cli(capsys, "simulate", DEFAULT_DEFINITION, "--until", "2027-01-31", "--mail-dir", str(tmp_path))
    assert result.code == 0, result.err
    digests = sorted(tmp_path.glob("*-digest-*.eml"))
    assert len(digests) > 50
    for path in digests:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "I riskzonen\n-----------\nIngen part är i riskzonen.\n" in text, path.name
        assert "Hinner inte (" not in text and "Väntar på registrering (" not in text, path.name


@pytest.fixture(scope="module")
def nothing_registered(default_definition):
    """The final proposal sent on plan on 15 October 2026, and no party has registered the
    matter with its board since."""
    state, _ = engine.start(default_definition, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    return _drive_until(default_definition, dict(state), "adoption")


def _expected_outlooks(definition, day: pendulum.Date) -> dict[str, set[str]]:
    """By brute force over the calendars: no reachable meeting keeps the deadline → cannot; the
    board's agenda the plan counted on (its first closing on or after 15 October) closed
    unregistered, and a single deciding meeting left → at risk."""
    sent = pendulum.date(2026, 10, 15)
    found: dict[str, set[str]] = {"cannot": set(), "at_risk": set(), "on_track": set()}
    for party in branch_parties(definition, definition.stage("adoption")):
        name = definition.party(party).name
        left = reachable_decisions(definition, party, day, LIMIT)
        board = definition.meeting_calendar(party).bodies[0]
        counted_on = min(c for c in (_closes(board, d) for d in board.meetings) if c >= sent)
        if not left:
            found["cannot"].add(name)
        elif counted_on < day and len(left) == 1:
            found["at_risk"].add(name)
        else:
            found["on_track"].add(name)
    return found


def _listed(text: str, heading: str, next_heading: str) -> set[str]:
    """The parties named by the list items ("- Name: cause") between two headings."""
    section = text.split(heading, 1)[1].split(next_heading, 1)[0]
    return {line.strip()[2:].split(":")[0] for line in section.splitlines() if line.strip().startswith("- ")}


def test_cannot_and_at_risk_are_told_apart_in_the_table_the_dashboard_and_the_digest(default_definition, nothing_registered):
    day = pendulum.date(2026, 11, 2)  # a Monday: the digest goes
    expected = _expected_outlooks(default_definition, day)
    assert expected["cannot"] and expected["at_risk"] and expected["on_track"]
    ahead = forecast(default_definition, nothing_registered, day)
    assert {p.name for p in ahead.cannot} == expected["cannot"]
    assert {p.name for p in ahead.at_risk} == expected["at_risk"]
    assert {p.name for p in ahead.parties if p.outlook is Outlook.on_track} == expected["on_track"]

    vannas = next(p for p in ahead.at_risk if p.party == "vannas")
    assert vannas.cause == ("Vännäs kommun: ärendet skulle ha varit hos kommunstyrelsen senast 2026-10-22 men är inte anmält "
                            f"till beredning; det måste vara där senast {vannas.material_by} för att hinna till kommunfullmäktige "
                            f"{vannas.last_decision.day}, det sista sammanträde där beslutet hinner fattas; inget sammanträde i "
                            "reserv")

    table = forecast_as_table(ahead, default_definition, "vb", [], None)
    lines = table.splitlines()
    cannot_at, risk_at = lines.index(f"HINNER INTE ({len(expected['cannot'])}):"), lines.index(f"I RISKZONEN ({len(expected['at_risk'])}):")
    assert {line.strip().split(":")[0] for line in lines[cannot_at + 1:risk_at] if line} == expected["cannot"]
    assert {line.strip().split(":")[0] for line in lines[risk_at + 1:] if line.startswith("  ")} == expected["at_risk"]
    assert next(line for line in lines if line.startswith("Vännäs kommun ")).split()[2:4] == ["i", "riskzonen"]
    assert "inget sammanträde" in next(line for line in lines if line.startswith("Vännäs kommun "))

    overview = dashboard(default_definition, nothing_registered, _at(day, 9), "vb", []).summary_markdown
    n_cannot, n_risk = len(expected["cannot"]), len(expected["at_risk"])
    assert overview.index(f"### Hinner inte ({n_cannot})") < overview.index(f"### I riskzonen ({n_risk})")
    assert _listed(overview, f"### Hinner inte ({n_cannot})", "###") == expected["cannot"]
    assert _listed(overview, f"### I riskzonen ({n_risk})", "###") == expected["at_risk"]

    ev = evaluate(default_definition, nothing_registered, _at(day), "vb")
    (digest,) = [n for n in due_notices(ev) if n.kind is NoticeKind.digest]
    text = render(digest, Recipient("direktor@region-vasterbotten.example.org", "Direktören"), _at(day)).get_body(
        ("plain",)).get_content().replace("\r\n", "\n").replace("\n    ", " ")
    cannot_heading, risk_heading = f"Hinner inte ({n_cannot})", f"I riskzonen ({n_risk})"
    assert f"{cannot_heading}\n{'-' * len(cannot_heading)}\n" in text and f"{risk_heading}\n{'-' * len(risk_heading)}\n" in text
    assert _listed(text, cannot_heading, risk_heading) == expected["cannot"]
    assert _listed(text, risk_heading, "Läget") == expected["at_risk"]


def test_a_party_that_cannot_make_it_is_told_what_an_extra_meeting_could_still_do(default_definition, nothing_registered):
    from samverkan.notices.facts import meeting_lines
    from samverkan.status import plan_for

    day = pendulum.date(2026, 11, 2)
    skelleftea = next(p for p in forecast(default_definition, nothing_registered, day).cannot if p.party == "skelleftea")
    # The last day it may decide is 23 December, in the Christmas week, when no meeting is
    # held: an extra meeting by Friday 18 December, announced a week before.
    assert skelleftea.cause == ("Skellefteå kommun: ärendet skulle ha varit hos kommunstyrelsen senast 2026-10-15 för att hinna "
                                "till kommunfullmäktige 2026-12-01, det sista sammanträde där beslutet hinner fattas; "
                                "beslutsunderlaget skickat, ärendet inte anmält till beredning; inget planerat sammanträde hinner; "
                                "kommunfullmäktige kan kallas till ett extra sammanträde (kommunallagen 5 kap.) senast 2026-12-18, "
                                "efter beredning i kommunstyrelsen")
    item = plan_for(default_definition, nothing_registered, day).get("adoption", "skelleftea")
    assert meeting_lines(item)[-1] == ("Inget planerat sammanträde som ärendet kan nå hinner fatta beslutet i tid; ett extra "
                                       "sammanträde (kommunallagen 5 kap.) kan behövas.")
    # Ten days before that Friday an extra meeting can no longer be announced in time.
    late = next(p for p in forecast(default_definition, nothing_registered, pendulum.date(2026, 12, 14)).cannot
                if p.party == "skelleftea")
    assert late.cause.endswith("inget planerat sammanträde hinner, och ett extra sammanträde med kommunfullmäktige kan inte "
                               "längre kungöras en vecka i förväg och hållas senast 2026-12-18")


def test_the_illustrative_instance_judged_in_december_awaits_registrations_instead_of_calling_them_missed(default_definition):
    state, mark = illustrative(default_definition)
    day = pendulum.date(2026, 12, 4)  # four days after Bjurholm's last council meeting in time
    ahead = forecast(default_definition, state, day)
    bjurholm = next(p for p in ahead.parties if p.party == "bjurholm")
    assert bjurholm.outlook is Outlook.awaiting_registration
    assert bjurholm.cause == ("Bjurholms kommun: kommunfullmäktige sammanträdde 2026-11-30; beslutet är ännu inte registrerat "
                              "(protokollet ska vara justerat senast 2026-12-14)")
    # No party whose last meeting in time passed within the fortnight is "cannot".
    for p in ahead.parties:
        if p.last_decision and p.last_decision.day < day <= legal_due(p.last_decision.day, "P14D").due and not p.decided_on:
            assert p.outlook is Outlook.awaiting_registration, p.party
    assert ahead.cannot == []
    table = forecast_as_table(ahead, default_definition, "vb", [mark], None)
    row = next(line for line in table.splitlines() if line.startswith("Bjurholms kommun "))
    assert "väntar på registrering  Kommunfullmäktige 2026-11-30 (ej registrerat)" in row
    assert f"VÄNTAR PÅ REGISTRERING ({len(ahead.awaiting_registration)}):" in table and "HINNER INTE" not in table

    # A reminder to Bjurholm then says to register the decision, and carries the fact for it.
    ev = evaluate(default_definition, state, _at(day), "vb", [mark])
    facts = node_facts(ev, Node("adoption", "bjurholm"), NoticeKind.overdue, _at(day), [])
    assert facts["awaiting_registration"] == {"body": "Kommunfullmäktige", "meeting": "2026-11-30", "minutes_by": "2026-12-14"}
    assert facts["meetings"] == ["Kommunfullmäktige sammanträdde 2026-11-30. Om beslutet fattades då: registrera det när "
                                 "protokollet är justerat, senast 2026-12-14."]

    # Once the minutes are due with still nothing registered, it did not make it.
    gone = next(p for p in forecast(default_definition, state, pendulum.date(2026, 12, 15)).cannot if p.party == "bjurholm")
    assert gone.cause.startswith("Bjurholms kommun: kommunfullmäktige sammanträdde 2026-11-30, det sista sammanträde där "
                                 "beslutet hann fattas i tid, och inget beslut är registrerat; ärendet bereds; ")


def test_the_forecast_shows_the_day_of_the_decision_not_the_day_it_was_registered(default_definition):
    state, mark = illustrative(default_definition)
    registered = pendulum.datetime(2026, 12, 4, 10, tz=TIMEZONE)
    apply_requests(default_definition, state, [TransitionRequest(
        "adoption", "bjurholm", "adopted", registered,
        fields={"decision_date": "2026-11-30", "decision_body": "Kommunfullmäktige", "paragraph": "§201",
                "agreement_outcome": "antagen", "contract_outcome": "antaget"})], registered)
    ahead = forecast(default_definition, state, pendulum.date(2026, 12, 7))
    bjurholm = next(p for p in ahead.parties if p.party == "bjurholm")
    assert bjurholm.outlook is Outlook.decided and bjurholm.decided_on == pendulum.date(2026, 11, 30)
    row = next(line for line in forecast_as_table(ahead, default_definition, "vb", [mark], None).splitlines() if line.startswith("Bjurholms kommun "))
    assert "2026-11-30 (beslutat)" in row and "2026-12-04" not in row
    dash = dashboard(default_definition, state, _at(pendulum.date(2026, 12, 7), 9), "vb", [mark])
    assert next(r for r in dash.forecast if r["Part"] == "Bjurholms kommun")["Väntat beslut"] == "beslutat 2026-11-30"


WARNING = "beslutet fattas då av det avgående fullmäktige"


def _variant(election: str | None = None, *, replace: tuple[str, str] | None = None):
    """The default definition with its election blackout replaced by `election` (a YAML flow
    mapping's fields; None: no election blackout), or with one text replaced."""
    import re

    from samverkan.process_definitions import parse_definition

    text = DEFAULT_DEFINITION.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    else:
        entry = re.compile(r"\n    - \{id: election,[^}]*\}")
        assert entry.search(text)
        text = entry.sub("" if election is None else f"\n    - {{id: election, name: \"Valet: nya fullmäktige tillträder 15 "
                         f"oktober\", {election}}}", text)
    return parse_definition(text, "variant.yaml").definition


def _planned(definition):
    from samverkan.planner import plan

    return [(n.node, n.start, n.finish, n.deadline) for n in plan(definition).nodes]


def test_the_election_lets_the_boards_meet_and_plans_a_councils_meeting_in_it_with_a_warning(default_definition):
    from samverkan.meetings.chains import usable_meetings
    from samverkan.notices.facts import meeting_lines
    from samverkan.planner import plan

    (election,) = [b for b in default_definition.meetings.blackouts if b.id == "election"]
    assert election.meetings == "warn" and election.warning == WARNING
    # The boards, whose term runs to 31 December, keep meeting: Bjurholm's board on 8 October counts.
    board = default_definition.meeting_calendar("bjurholm").bodies[0]
    assert pendulum.date(2026, 10, 8) in usable_meetings(default_definition, board)
    # Every meeting counts, as if there were no such period (July and the Christmas week still stop them).
    assert _planned(default_definition) == _planned(_variant(None))

    # With the period over November, the councils' meetings in it are planned for, with a warning.
    november = _variant(f"start: 2026-11-01, end: 2026-11-30, reminders: false, meetings: warn, warning: \"{WARNING}\"")
    assert _planned(november) == _planned(_variant("start: 2026-11-01, end: 2026-11-30, reminders: false, meetings: false"))
    stopped = plan(_variant("start: 2026-11-01, end: 2026-11-30, reminders: false")).get("adoption", "bjurholm")
    assert stopped.meetings.decision is None  # where the period stops meetings, November's are dropped
    bjurholm = plan(november).get("adoption", "bjurholm")
    assert bjurholm.meetings.decision.day == pendulum.date(2026, 11, 30)
    said = ("Kommunfullmäktige 2026-11-30 infaller under ”Valet: nya fullmäktige tillträder 15 oktober” (2026-11-01–2026-11-30): "
            f"{WARNING}")
    assert bjurholm.meetings.warnings == (said,)
    assert meeting_lines(bjurholm)[-1] == f"Observera: {said}."
    state, changes = engine.start(november, pendulum.datetime(2025, 10, 1, tz=TIMEZONE))
    state = dict(state)
    apply(state, changes)
    ahead = forecast(november, state, pendulum.date(2026, 2, 2))
    assert f"OBSERVERA: Bjurholms kommun: {said}" in forecast_as_table(ahead, november, "vb", [], None).splitlines()
    markdown = forecast_markdown(ahead)
    warned = [p for p in ahead.parties if p.warnings]
    assert f"### Observera ({len(warned)})" in markdown and f"- Bjurholms kommun: {said}" in markdown
    # Only the deciding body's meetings are warned about; the boards' in the period are not.
    assert all(w.startswith(("Kommunfullmäktige", "Regionfullmäktige")) for p in warned for w in p.warnings)


def test_a_blackout_that_neither_stops_nor_warns_is_refused_in_one_line():
    from samverkan.errors import SamverkanError

    with pytest.raises(SamverkanError) as refused:
        _variant(replace=("meetings: warn,", "meetings: sometimes,"))
    assert str(refused.value).count("\n") == 0
    assert "meetings.blackouts[election].meetings: Input should be a valid boolean, or 'warn' (got 'sometimes')" in str(refused.value)
