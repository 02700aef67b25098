"""The shipped examples agree with themselves: the illustrative history's decisions fall on
meetings of the example calendars of the bodies that took them, and the plan's RUS decision
falls on a meeting of regionfullmäktige."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path

from samverkan.history import load_history
from samverkan.meetings.chains import closing_day
from samverkan.planner import plan
from tests.illustrative import EXAMPLE


def _deciding_body(definition, party: str, body_name: str):
    calendar = definition.meeting_calendar(party)
    if calendar is None:
        return None
    return next((b for b in calendar.bodies if b.name.casefold() == body_name.casefold()), None)


def test_the_illustrative_decisions_fall_on_meetings_of_the_bodies_that_took_them(default_definition):
    _, history = load_history(EXAMPLE)
    checked, off_meeting = [], []
    for entry in history.transitions:
        if "decision_date" not in entry.fields or "decision_body" not in entry.fields:
            continue
        party = entry.party or default_definition.stage(entry.stage).owner
        body = _deciding_body(default_definition, party, entry.fields["decision_body"])
        day = dt.date.fromisoformat(entry.fields["decision_date"])
        if body is None or not body.meetings or not min(body.meetings) <= day <= max(body.meetings):
            continue  # no example calendar of that body covers the day (the delegations', 2025)
        checked.append((entry.stage, party))
        if day not in body.meetings:
            off_meeting.append(f"{entry.stage} ({party}): {body.name} {day} is not a meeting")
    assert off_meeting == []
    assert {("rus-update", "region-vasterbotten"), ("adoption", "storuman")} <= set(checked)


def test_the_illustrative_matters_reach_their_first_body_when_its_agenda_closes(default_definition):
    # The history's header says so: each matter goes to its board on the day the agenda closes.
    _, history = load_history(EXAMPLE)
    prepared = [e for e in history.transitions if e.stage == "adoption" and e.to == "in-preparation"]
    assert len(prepared) == 16
    for entry in prepared:
        first = default_definition.meeting_calendar(entry.party).bodies[0]
        closing = {closing_day(first, meeting) for meeting in first.meetings}
        assert dt.date.fromisoformat(entry.at) in closing, entry.party


def test_the_planned_rus_decision_falls_on_a_meeting_of_regionfullmaktige(default_definition):
    rus = plan(default_definition).get("rus-update")
    council = _deciding_body(default_definition, "region-vasterbotten", "Regionfullmäktige")
    assert rus.planned_finish == dt.date(2026, 4, 30)
    assert rus.planned_finish in council.meetings
    assert [d for d in council.meetings if d.month == 4] == [dt.date(2026, 4, 30)]


def test_the_script_writes_the_calendars_the_definition_ships():
    # Regenerating the example calendars must not bring back a date the data disagree with.
    root = Path(__file__).resolve().parents[1]
    script = runpy.run_path(str(root / "scripts/example_calendars.py"))
    written = script["region"]() + "".join(script["municipality"](*row) for row in script["MUNICIPALITIES"])
    assert written in (root / "process_definitions/samverkan_2027_2030.yaml").read_text(encoding="utf-8")
