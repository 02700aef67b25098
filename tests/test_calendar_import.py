"""`samverkan calendar import`: a party's meeting calendar read from an .ics file, into the
definition and the plan. The files are written here, as text and with icalendar's own API."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from zoneinfo import ZoneInfo

import pytest
import yaml

from samverkan.errors import SamverkanError
from samverkan.meetings.ics import CANCELLED, OTHER_BODY, SAME_DAY, BodyMatch, calendar_yaml, import_calendar, with_calendar
from samverkan.planner import plan
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.process_definitions.model import MeetingCalendar
from tests.cli_helpers import run_cli

YEAR = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
ASELE = [BodyMatch("ks", "Kommunstyrelsen", "P2W"), BodyMatch("kf", "Kommunfullmäktige", "P2W")]


def event(uid: str, summary: str | None, *lines: str) -> str:
    head = [f"UID:{uid}", "DTSTAMP:20251201T120000Z"] + ([f"SUMMARY:{summary}"] if summary is not None else [])
    return "BEGIN:VEVENT\r\n" + "".join(f"{line}\r\n" for line in head + list(lines)) + "END:VEVENT\r\n"


def ics(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Åsele kommun//Sammanträden//SV\r\n"
            + "".join(events) + "END:VCALENDAR\r\n").encode("utf-8")


# Åsele's year as its calendar might publish it: the council on the last Monday of the month
# (not in July and August, the October one cancelled, the November one moved), an extra council
# late on 14 December UTC (15 December in Stockholm); the board every third Tuesday at 08:00
# (given in UTC), a budget day (all day), a second sitting one day, a sitting found by its
# category; and committees that are not looked for, one of them without a date.
KF = "Kommunfullmäktige i Åsele"
ASELE_ICS = ics(
    event("kf-2026@asele", KF, "DTSTART;TZID=Europe/Stockholm:20260126T180000", "DTEND;TZID=Europe/Stockholm:20260126T210000",
          "RRULE:FREQ=MONTHLY;BYDAY=-1MO;UNTIL=20261231T225959Z",
          "EXDATE;TZID=Europe/Stockholm:20260727T180000,20260831T180000"),
    event("kf-2026@asele", KF, "RECURRENCE-ID;TZID=Europe/Stockholm:20261026T180000",
          "DTSTART;TZID=Europe/Stockholm:20261026T180000", "STATUS:CANCELLED"),
    event("kf-2026@asele", f"{KF} (flyttat)", "RECURRENCE-ID;TZID=Europe/Stockholm:20261130T180000",
          "DTSTART;TZID=Europe/Stockholm:20261202T180000"),
    event("kf-extra@asele", "Extra kommunfullmäktige", "DTSTART:20261214T233000Z"),
    event("kf-maj@asele", "Kommunfullmäktige (inställt)", "DTSTART;VALUE=DATE:20260511", "STATUS:CANCELLED"),
    event("ks-2026@asele", "Kommunstyrelsen", "DTSTART:20260113T070000Z", "DTEND:20260113T110000Z",
          "RRULE:FREQ=WEEKLY;INTERVAL=3;BYDAY=TU;COUNT=17", "EXDATE:20260721T070000Z"),
    event("ks-budget@asele", "Kommunstyrelsen – budgetdag", "DTSTART;VALUE=DATE:20260603", "DTEND;VALUE=DATE:20260604"),
    event("ks-forts@asele", "Kommunstyrelsen, fortsatt sammanträde", "DTSTART;TZID=Europe/Stockholm:20260203T130000"),
    event("ks-dec@asele", "Sammanträde", "CATEGORIES:Möten,Kommunstyrelsen", "DTSTART;TZID=Europe/Stockholm:20261201T090000"),
    event("ksau@asele", "Kommunstyrelsens arbetsutskott", "DTSTART:20260120T070000Z", "RRULE:FREQ=WEEKLY;INTERVAL=2"),
    event("bun@asele", "Barn- och utbildningsnämnden"),
)
KS_DAYS = ["2026-01-13", "2026-02-03", "2026-02-24", "2026-03-17", "2026-04-07", "2026-04-28", "2026-05-19", "2026-06-03",
           "2026-06-09", "2026-06-30", "2026-08-11", "2026-09-01", "2026-09-22", "2026-10-13", "2026-11-03", "2026-11-24",
           "2026-12-01", "2026-12-15"]
KF_DAYS = ["2026-01-26", "2026-02-23", "2026-03-30", "2026-04-27", "2026-05-25", "2026-06-29", "2026-09-28", "2026-12-02",
           "2026-12-15", "2026-12-28"]


def days(calendar: MeetingCalendar, body: str) -> list[str]:
    return [d.isoformat() for b in calendar.bodies if b.id == body for d in b.meetings]


def test_recurrences_exceptions_time_zones_and_all_day_events():
    imported = import_calendar(ASELE_ICS, "möten.ics", "asele", ASELE, *YEAR)
    calendar = imported.calendar
    assert isinstance(calendar, MeetingCalendar) and calendar.party == "asele" and calendar.source == "möten.ics"
    assert not calendar.example and [b.name for b in calendar.bodies] == ["Kommunstyrelsen", "Kommunfullmäktige"]
    assert days(calendar, "ks") == KS_DAYS
    assert days(calendar, "kf") == KF_DAYS
    assert imported.events == 11 and imported.meetings == {"ks": 18, "kf": 10}
    ignored = {(i.event, i.day.isoformat() if i.day else None, i.reason) for i in imported.ignored}
    assert ignored == {
        (2, "2026-10-26", CANCELLED),  # the series' own cancelled occurrence, named by its own event
        (5, "2026-05-11", CANCELLED),
        (8, "2026-02-03", SAME_DAY),  # the board's second sitting that day
        (10, None, OTHER_BODY),  # Kommunstyrelsens arbetsutskott: not "Kommunstyrelsen" as a whole word
        (11, None, OTHER_BODY),  # no DTSTART, but not looked for: not a problem
    }
    assert imported.ignored_by_reason() == {CANCELLED: 2, SAME_DAY: 1, OTHER_BODY: 2}


def test_days_are_taken_in_stockholm_from_any_time_zone():
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//test//")
    calendar.add("version", "2.0")
    meetings = [
        ("Kommunfullmäktige", dt.datetime(2026, 3, 9, 19, 0, tzinfo=ZoneInfo("America/New_York"))),  # 00:00 on the 10th here
        ("Kommunfullmäktige", dt.datetime(2026, 6, 14, 22, 30, tzinfo=dt.timezone.utc)),  # 00:30 on the 15th (summer time)
        ("Kommunfullmäktige", dt.datetime(2026, 9, 7, 23, 30)),  # floating: local time as it stands
        ("Kommunstyrelsen", dt.date(2026, 2, 10)),  # all day
        ("Kommunstyrelsen", dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.timezone.utc)),  # 2027 here: outside the year
    ]
    for number, (summary, start) in enumerate(meetings):
        item = Event()
        item.add("uid", f"m{number}@test")
        item.add("summary", summary)
        item.add("dtstart", start)
        calendar.add_component(item)
    imported = import_calendar(calendar.to_ical(), "tz.ics", "asele", ASELE, *YEAR)
    assert days(imported.calendar, "kf") == ["2026-03-10", "2026-06-15", "2026-09-07"]
    assert days(imported.calendar, "ks") == ["2026-02-10"]


def test_match_texts_whole_words_longest_first_any_case_and_composition():
    data = ics(
        event("1", "REGIONSTYRELSEN", "DTSTART;VALUE=DATE:20260203"),
        event("2", "Regionstyrelsen arbetsutskott", "DTSTART;VALUE=DATE:20260210"),
        event("3", unicodedata.normalize("NFD", "Regionfullmäktige, Umeå"), "DTSTART;VALUE=DATE:20260217"),
        event("4", "Sammanträde", "CATEGORIES:RUN", "DTSTART;VALUE=DATE:20260127"),
        event("5", "Regionstyrelsens ordförande har ordet", "DTSTART;VALUE=DATE:20260128"),
    )
    bodies = [BodyMatch("run", "Regionala utvecklingsnämnden", "P2W", "run"),
              BodyMatch("rsau", "Regionstyrelsens arbetsutskott", "P1W", "regionstyrelsen arbetsutskott"),
              BodyMatch("rs", "Regionstyrelsen", "P10D"),
              BodyMatch("rf", "Regionfullmäktige", "P1W")]
    calendar = import_calendar(data, "region.ics", "region-vasterbotten", bodies, *YEAR, example=True).calendar
    assert calendar.example
    assert [(b.id, [d.isoformat() for d in b.meetings]) for b in calendar.bodies] == [
        ("run", ["2026-01-27"]), ("rsau", ["2026-02-10"]), ("rs", ["2026-02-03"]), ("rf", ["2026-02-17"])]


def test_the_imported_calendar_plugs_into_the_definition_and_the_plan(default_definition):
    calendar = import_calendar(ASELE_ICS, "möten.ics", "asele", ASELE, *YEAR).calendar
    definition = with_calendar(default_definition, calendar)
    assert definition.meeting_calendar("asele") == calendar
    assert "asele" not in definition.example_calendars and len(definition.example_calendars) == 15
    branch = plan(definition).get("adoption", "asele")
    assert branch.meetings is not None and not branch.meetings.example
    # The last council before Christmas is the extra one, at 00:30 on 15 December in Stockholm.
    assert branch.meetings.last_decision.day.isoformat() == "2026-12-15" == branch.deadline.isoformat()
    assert {s.day.isoformat() for s in branch.meetings.latest} <= set(KS_DAYS + KF_DAYS)
    # A calendar whose deciding body is not the party's decision body does not fit.
    board_only = import_calendar(ASELE_ICS, "möten.ics", "asele", ASELE[:1], *YEAR).calendar
    with pytest.raises(SamverkanError) as refused:
        with_calendar(default_definition, board_only, "möten.ics")
    assert len(refused.value.problems) == 1 and "decides by 'Kommunfullmäktige'" in refused.value.problems[0]


@pytest.fixture
def asele_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-05-04T10:00:00")  # "this year" is 2026
    path = tmp_path / "möten-åsele.ics"
    path.write_bytes(ASELE_ICS)
    return path


def test_cli_prints_an_entry_that_pastes_into_the_definition(asele_file, tmp_path, capsys):
    result = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele")
    assert result.code == 0, result.err
    assert "möten-åsele.ics" in result.out and "Kommunfullmäktige" in result.out  # å, ä, ö as they are
    entries = yaml.safe_load(result.out)
    assert isinstance(entries, list) and len(entries) == 1
    calendar = MeetingCalendar.model_validate(entries[0])
    assert calendar.party == "asele" and calendar.source == "möten-åsele.ics" and not calendar.example
    assert days(calendar, "ks") == KS_DAYS and days(calendar, "kf") == KF_DAYS
    assert [b.agenda_closes for b in calendar.bodies] == ["P2W", "P2W"]  # the definition's bodies, by default
    assert "11 events read" in result.err and "ks (Kommunstyrelsen): 18 meetings" in result.err
    assert "kf (Kommunfullmäktige): 10 meetings" in result.err and "2 cancelled" in result.err
    assert "Traceback" not in result.err

    # Pasted in place of Åsele's example calendar, the definition is valid and the plan uses it.
    text = DEFAULT_DEFINITION.read_text(encoding="utf-8")
    pasted, count = re.subn(r"(?m)^    - party: asele\n(?:      .*\n)+", lambda _: result.out, text)
    assert count == 1
    definition_file = tmp_path / "definition.yaml"
    definition_file.write_text(pasted, encoding="utf-8")
    assert run_cli(capsys, "validate", definition_file).code == 0
    planned = run_cli(capsys, "plan", definition_file, "--json")
    assert planned.code == 0, planned.err
    data = json.loads(planned.out)
    assert "asele" not in data["example_calendars"] and len(data["example_calendars"]) == 15
    branch = next(s for s in data["stages"] if s["id"] == "adoption" and s["party"] == "asele")
    assert branch["meetings"]["example_calendar"] is False
    assert branch["meetings"]["last_decision_meeting"]["date"] == "2026-12-15" == branch["deadline"]


def test_cli_range_bodies_and_options(asele_file, tmp_path, capsys):
    autumn = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", "--from", "2026-09-01", "--example",
                     "--source", "https://www.asele.se/sammantraden.ics")
    assert autumn.code == 0, autumn.err
    calendar = MeetingCalendar.model_validate(yaml.safe_load(autumn.out)[0])
    assert days(calendar, "kf") == ["2026-09-28", "2026-12-02", "2026-12-15", "2026-12-28"]  # to the year's end
    assert calendar.example and calendar.source == "https://www.asele.se/sammantraden.ics"
    spring = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", "--to", "2026-03-31")
    assert days(MeetingCalendar.model_validate(yaml.safe_load(spring.out)[0]), "kf") == ["2026-01-26", "2026-02-23", "2026-03-30"]

    # A party without a calendar in the definition needs --body; given, the entry fits it.
    missing = run_cli(capsys, "calendar", "import", asele_file, "--party", "delegation-pkd")
    assert missing.code == 2 and missing.err.count("\n") == 1 and "--body" in missing.err and "delegation-pkd" in missing.err
    au = run_cli(capsys, "calendar", "import", asele_file, "--party", "delegation-pkd",
                 "--body", "au:Primärkommunala delegationens arbetsutskott:P1W:kommunstyrelsen")
    assert au.code == 0, au.err
    entry = yaml.safe_load(au.out)[0]
    assert entry["bodies"] == [{"id": "au", "name": "Primärkommunala delegationens arbetsutskott", "agenda_closes": "P1W",
                                "meetings": [dt.date.fromisoformat(d) for d in KS_DAYS]}]


def test_the_yaml_quotes_what_needs_quoting():
    calendar = MeetingCalendar.model_validate({"party": "asele", "source": "EXEMPEL: möten, #1 [utkast]", "bodies": [
        {"id": "kf", "name": "Kommunfullmäktige: {extra}", "agenda_closes": "P2W", "meetings": [dt.date(2026, 2, 23)]},
        {"id": "no", "name": "yes", "agenda_closes": "P1W", "meetings": []}]})
    text = calendar_yaml(calendar)
    assert MeetingCalendar.model_validate(yaml.safe_load(text)[0]) == calendar
    assert "name: Kommunfullmäktige" not in text and '"yes"' in text


def _refused(result, name: str, count: int) -> list[str]:
    assert result.code == 2 and result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == count, result.err
    assert all(line.startswith("fel: ") and name in line for line in lines), result.err
    assert "Traceback" not in result.err
    return lines


KS_OK = event("ks@asele", "Kommunstyrelsen", "DTSTART;VALUE=DATE:20260113")
KF_OK = event("kf@asele", KF, "DTSTART;VALUE=DATE:20260126")


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param(b"BEGIN:VCARD\r\nFN:Kommunsekreterare\r\nEND:VCARD\r\n",
                 ["not an iCalendar file (no BEGIN:VCALENDAR)"], id="not-icalendar"),
    pytest.param(b"", ["not an iCalendar file (no BEGIN:VCALENDAR)"], id="empty"),
    pytest.param("BEGIN:VCALENDAR\r\nX-WR-CALNAME:Åsele\r\n".encode("latin-1"), ["not valid UTF-8"], id="latin-1"),
    pytest.param(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Kommunstyrelsen\r\n", ["no END:VCALENDAR"], id="never-ends"),
    pytest.param(ics(), ["holds no events (VEVENT)"], id="no-events"),
    pytest.param(ics(KS_OK, event("kf@asele", KF)), [f'event 2 "{KF}": no DTSTART'], id="missing-dtstart"),
    pytest.param(ics(KS_OK, event("kf@asele", KF, "DTSTART:20260126T180000", "RRULE:FREQ=SOMETIMES;COUNT=3")),
                 [f"event 2 \"{KF}\": RRULE 'FREQ=SOMETIMES;COUNT=3' is not valid"], id="broken-rrule"),
    pytest.param(ics(KS_OK, event("kf@asele", KF, "DTSTART:20260126T180000", "RRULE:FREQ=WEEKLY;INTERVAL=0")),
                 ["INTERVAL=0: must be a whole number from 1"], id="rrule-interval-0"),
    pytest.param(ics(KS_OK, event("kf@asele", KF, "DTSTART:20260126T180000", "RRULE:FREQ=MINUTELY")),
                 ["FREQ=MINUTELY: a body meets at most once a day"], id="rrule-minutely"),
    pytest.param(ics(KS_OK, event("kf@asele", KF, "DTSTART:2026-01-26"), event("kf2@asele", KF),
                     event("kf3@asele", KF, "DTSTART;VALUE=DATE:20260126", "EXDATE;VALUE=DATE:2026011")),
                 [f"event 2 \"{KF}\": DTSTART '2026-01-26' is not valid", f'event 3 "{KF}": no DTSTART',
                  f"event 4 \"{KF}\": EXDATE '2026011' is not valid"], id="every-problem-at-once"),
    pytest.param(ics(KS_OK, event("kf@asele", KF, "DTSTART;VALUE=DATE:20250126")),
                 ["no meeting of body kf (Kommunfullmäktige) between 2026-01-01 and 2026-12-31"], id="no-meeting-in-range"),
    pytest.param(ics(KS_OK), ["no meeting of body kf (Kommunfullmäktige) between 2026-01-01 and 2026-12-31: "
                              "no event names 'Kommunfullmäktige'"], id="no-meeting-at-all"),
])
def test_malformed_files_are_refused_one_line_per_problem(data, expected, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-05-04T10:00:00")
    path = tmp_path / "möten.ics"
    path.write_bytes(data)
    lines = _refused(run_cli(capsys, "calendar", "import", path, "--party", "asele"), "möten.ics", len(expected))
    for line, fragment in zip(lines, expected):
        assert fragment in line, line
    with pytest.raises(SamverkanError) as refused:  # the same from the function, without the command line
        import_calendar(data, "möten.ics", "asele", ASELE, *YEAR)
    assert len(refused.value.problems) == len(expected)


@pytest.mark.parametrize(("bodies", "expected"), [
    pytest.param(["kf"], ["--body 'kf': expected ID:NAME:PERIOD[:MATCH]"], id="too-few-parts"),
    pytest.param(["kf:Kommunfullmäktige:P2X"], ["body 'kf': invalid period 'P2X'"], id="bad-period"),
    pytest.param(["KF:Kommunfullmäktige:P2W"], ["body 'KF': not a valid id"], id="bad-id"),
    pytest.param(["ks:Kommunstyrelsen", "kf::P2W", "kf:Kommunfullmäktige:P2W"],
                 ["--body 'ks:Kommunstyrelsen': expected", "body 'kf': name '' must be", "body 'kf': the id is given twice"],
                 id="several"),
])
def test_bad_body_specs_are_refused_one_line_per_problem(bodies, expected, asele_file, capsys):
    args = [a for spec in bodies for a in ("--body", spec)]
    lines = _refused(run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", *args), "möten-åsele.ics", len(expected))
    for line, fragment in zip(lines, expected):
        assert fragment in line, line


def test_bad_arguments_are_refused(asele_file, capsys):
    unknown = run_cli(capsys, "calendar", "import", asele_file, "--party", "umeaa")
    assert unknown.code == 2 and unknown.err.count("\n") == 1 and "'umeaa'" in unknown.err and "unknown party" in unknown.err
    backwards = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", "--from", "2026-12-01", "--to", "2026-01-31")
    _refused(backwards, "möten-åsele.ics", 1)
    assert "the range ends (2026-01-31) before it starts (2026-12-01)" in backwards.err
    bad_days = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", "--from", "2026-13-01", "--to", "igår")
    assert bad_days.code == 2 and bad_days.err.count("\n") == 2 and "--from" in bad_days.err and "--to" in bad_days.err
    missing = run_cli(capsys, "calendar", "import", asele_file.with_name("saknas.ics"), "--party", "asele")
    _refused(missing, "saknas.ics", 1)
    assert "no such file" in missing.err
    wrong_body = run_cli(capsys, "calendar", "import", asele_file, "--party", "asele", "--body", "ks:Kommunstyrelsen:P2W")
    assert "decides by 'Kommunfullmäktige'" in _refused(wrong_body, "möten-åsele.ics", 1)[0]


def test_a_garbled_file_is_refused_or_read_never_a_crash():
    """Lines cut, doubled, dropped and spliced: every outcome is a calendar or one-line problems."""
    rnd = random.Random(2026)
    lines = ASELE_ICS.split(b"\r\n")
    pieces = [b";", b":", b"=", b",", b"\\", b"T", b"Z", b"\xff", b"0", b"BYDAY=", b"COUNT=", b"INTERVAL=", b"UNTIL=",
              b"RDATE:", b"EXDATE:", b"RECURRENCE-ID:", b"DTEND:", b"DTSTART:", b"TZID=Mars/Olympus", b"END:VEVENT"]
    for _ in range(150):
        garbled = list(lines)
        for _ in range(rnd.randint(1, 4)):
            at = rnd.randrange(len(garbled))
            cut = rnd.randrange(len(garbled[at]) + 1)
            choice = rnd.random()
            if choice < 0.35:
                garbled[at] = garbled[at][:cut] + rnd.choice(pieces) + garbled[at][cut:]
            elif choice < 0.6:
                garbled[at] = garbled[at][:cut] + garbled[at][cut + rnd.randint(1, 6):]
            elif choice < 0.8:
                del garbled[at]
            else:
                garbled.insert(at, garbled[rnd.randrange(len(garbled))])
        try:
            import_calendar(b"\r\n".join(garbled), "möten.ics", "asele", ASELE, *YEAR)
        except SamverkanError as error:
            assert all(p.startswith("möten.ics: ") for p in error.problems)
