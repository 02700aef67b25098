"""A year of the default process with `samverkan sweep --now` every business day (and on the
closed days and nights where nothing may go), delivering to a real SMTP server on loopback:
the messages received are exactly those the reminder policy prescribes, derived here
independently from the definition's policy text, its meeting calendars, the plan's limits and
the calendar: none missing, none twice, none at night or on a closed day."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import icalendar
import pendulum
import pytest
from sqlalchemy import create_engine, text

from samverkan.calendar import TIMEZONE, add_period, is_business_day, next_business_day, parse_period
from samverkan.calendar import previous_business_day, subtract_period
from samverkan.graph import Node
from samverkan.process_definitions import DEFAULT_DEFINITION

from tests.cli_helpers import run_cli
from tests.databases import database_url
from tests.drive import planned_steps
from tests.smtp_servers import MailServer

DIRECTOR = "direktor@region-vasterbotten.example.org"
START = pendulum.datetime(2025, 10, 1, 9, tz=TIMEZONE)
END = pendulum.date(2027, 1, 12)
# Two steps done late: a delegation's evaluation (slack, no hard limit near: overdue reminders)
# and a municipality's adoption. Under version 3 an adoption is decided at its council's
# meetings, so the latest it can be is its council's last meeting that still keeps the hard
# limit: Dorotea decides there (15 December) instead of at the meeting planned (24 November).
# Its own signing follows from that day (signing goes party by party), up against the hard
# limit but still in time: nothing escalates it.
LATE = {Node("evaluation", "delegation-utbildning"): pendulum.date(2026, 1, 21), Node("adoption", "dorotea"): pendulum.date(2026, 12, 15)}


@dataclass(frozen=True)
class Sent:
    kind: str
    stage: str
    party: str
    recipient: str
    day: pendulum.Date


@pytest.fixture
def year_env(tmp_path, monkeypatch, mail_server: MailServer):
    with database_url("sqlite", tmp_path) as url:
        monkeypatch.setenv("SAMVERKAN_DATABASE_URL", url)
        monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
        for name in ("SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_TEST_CRASH_AT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SAMVERKAN_SMTP_HOST", mail_server.host)
        monkeypatch.setenv("SAMVERKAN_SMTP_PORT", str(mail_server.port))
        monkeypatch.setenv("SAMVERKAN_SMTP_SECURITY", "none")
        monkeypatch.setenv("SAMVERKAN_SMTP_FROM", "Samverkan Region Västerbotten <samverkan@region-vasterbotten.example.org>")
        monkeypatch.setenv("SAMVERKAN_SMTP_RATE", "0")
        yield url


def at(day: pendulum.Date, hour: int) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz=TIMEZONE)


def sweep_hours(day: pendulum.Date) -> tuple[int, ...]:
    """When the year's sweeps run on a day. Notices are due only at 08:00 on business days, so
    those are swept, every one; so is every closed weekday (a holiday or an eve) and every
    Saturday, where nothing may go, and each Wednesday night, when nothing may go either. (A
    Sunday adds nothing a Saturday does not, only time.)"""
    if is_business_day(day):
        return (8, 22) if day.day_of_week == pendulum.WEDNESDAY else (8,)
    return (8,) if day.day_of_week != pendulum.SUNDAY else ()


def drive_the_year(capsys, monkeypatch, definition, server: MailServer) -> tuple[list[Sent], list[pendulum.DateTime], list]:
    monkeypatch.setenv("SAMVERKAN_NOW", START.isoformat())
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    # What follows a late step is planned from the day it was done; each decision's minutes are
    # registered three days after it, as a secretary would (no reminder to register them).
    steps = planned_steps(definition, LATE, minutes=True)
    assert {(s.stage, s.party): s.day for s in steps if Node(s.stage, s.party) in LATE and "announced" not in s.fields} == {(n.stage, n.party): d for n, d in LATE.items()}
    received: list[Sent] = []
    messages = []
    sweeps: list[pendulum.DateTime] = []
    day = START.date().add(days=1)
    while day <= END:
        for hour in sweep_hours(day):
            now = at(day, hour)
            monkeypatch.setenv("SAMVERKAN_NOW", now.isoformat())
            before = len(server.received)
            result = run_cli(capsys, "sweep", "--now", now.isoformat())
            assert result.code == 0, (now, result.err)
            sweeps.append(now)
            for item in server.received[before:]:
                message = item.message()
                messages.append((now, message))
                received.append(Sent(message["X-Samverkan-Notice"], message.get("X-Samverkan-Stage", ""),
                                     message.get("X-Samverkan-Party", ""), message["To"].addresses[0].addr_spec, day))
        for step in [s for s in steps if s.day == day]:
            monkeypatch.setenv("SAMVERKAN_NOW", at(day, 16).isoformat())
            fields = {**step.fields, **({"decision_date": day.isoformat()} if "decision_date" in step.fields else {})}
            args = ["transition", "vb", step.stage, "--to", step.to, "--at", at(day, 16).isoformat()]
            args += ["--party", step.party] if step.party else []
            for key, value in fields.items():
                args += ["--field", f"{key}={value}"]
            result = run_cli(capsys, *args, "--actor", DIRECTOR, "--token", token)
            assert result.code == 0, (step, result.err)
        day = day.add(days=1)
    return received, sweeps, messages


# The policy, derived from the definition's text and the calendar, not from samverkan.notices.

def slot_at_or_after(moment: pendulum.DateTime, hhmm: str = "08:00") -> pendulum.DateTime:
    hour, minute = map(int, hhmm.split(":"))
    local = moment.in_timezone(TIMEZONE)
    day = local.date()
    if is_business_day(day) and local <= at(day, 0).set(hour=hour, minute=minute):
        return at(day, hour).set(minute=minute)
    return at(next_business_day(day.add(days=1)), hour).set(minute=minute)


def last_meetings(definition, party: str, limit: pendulum.Date) -> list[tuple[pendulum.Date, pendulum.Date]]:
    """(meeting, day its agenda closes) for each body a party's matter passes, the last ones that
    still decide by `limit`, read from the definition's meeting calendar: the deciding body's
    last meeting on or before the limit; going back, each body's last meeting before the next
    one's agenda closes. A meeting in a blackout that stops meetings does not count."""
    closed = [(b.start, b.end) for b in definition.meetings.blackouts if b.meetings is True]  # "warn" lets them count
    chain: list[tuple[pendulum.Date, pendulum.Date]] = []
    bound = limit
    for body in reversed(definition.meeting_calendar(party).bodies):
        days = [pendulum.date(d.year, d.month, d.day) for d in body.meetings]
        day = max(d for d in days if d <= bound and not any(start <= d <= end for start, end in closed))
        closes = previous_business_day(subtract_period(day, parse_period(body.agenda_closes)))
        chain.insert(0, (day, closes))
        bound = min(closes, day.subtract(days=1))
    return chain


def outside_blackouts(definition, day: pendulum.Date) -> pendulum.Date:
    """A reminder due in a blackout that stops reminders (the Christmas week) goes on the last
    business day before it."""
    for blackout in definition.meetings.blackouts:
        if blackout.reminders and blackout.start <= day <= blackout.end:
            start = pendulum.date(blackout.start.year, blackout.start.month, blackout.start.day)
            return previous_business_day(start.subtract(days=1))
    return day


@dataclass
class Prescribed:
    notices: set[tuple]  # (kind, stage, party, recipient, day delivered)
    escalated: dict[tuple[str, pendulum.Date], set[str]]  # (stage, day delivered): the branches one escalation names
    act_by: dict[tuple[str, str], pendulum.Date]  # a branch decided at meetings: the day its reminders aim at


def prescribed(definition, nodes: dict, plan: dict, sweeps: list[pendulum.DateTime], start: pendulum.DateTime = START,
               end: pendulum.Date = END, forced_late: frozenset = frozenset((n.stage, n.party) for n in LATE),
               prepared: bool = False) -> Prescribed:
    """Every notice the policy asks for, for a process started at `start` swept until `end`.
    `forced_late`: nodes done late by the drive itself, not planned late from when they were ready.
    `prepared`: each branch decided at meetings was registered as under preparation the day it
    was ready (as the simulation does), rather than recorded straight from "ready"."""
    expected: set[tuple] = set()
    escalated: dict[tuple[str, pendulum.Date], set[str]] = {}
    act_by: dict[tuple[str, str], pendulum.Date] = {}
    delivery_sweeps = [s for s in sweeps if is_business_day(s.date()) and s.hour == 8]

    def delivered(moment: pendulum.DateTime) -> pendulum.Date:
        return next(s for s in delivery_sweeps if s >= moment).date()

    for (stage_id, party), (ready_at, done_at) in nodes.items():
        stage = definition.stage(stage_id)
        if stage.for_each and party is None:
            continue
        policy = stage.reminders or definition.reminder_defaults
        roles = set(policy.to_roles or [stage.responsible_role])
        party_to = [c.email for c in definition.party(party or stage.owner).contacts if c.role in roles]
        # whoever can act on it: the process's own contact (the project lead) and the director's office
        escalate_to = {c.email for c in definition.party(definition.contact.party).contacts if c.role is definition.contact.role}
        if policy.escalate:
            escalate_to |= {c.email for c in definition.party(policy.escalate.to_party).contacts if c.role is policy.escalate.to_role}
        row = plan[stage_id, party]
        deadline = pendulum.parse(row["deadline"]).date()
        limit = pendulum.parse(row["finish"]).date().add(days=row["slack_days"]) if row["slack_days"] is not None else None
        ready = slot_at_or_after(ready_at)
        if stage.at_meetings and party:
            # Version 3: a branch decided at its council's meetings has its own deadline, the
            # council's last meeting that still keeps the limit; its reminders aim at the day
            # the matter must reach the first body for that (this drive records each adoption
            # straight from "ready", so the matter is never with a body yet), and that day is
            # their limit too: after it a reminder can change nothing, so none comes overdue.
            # Never registered as under preparation, it is out of reach only once the last
            # agenda that keeps its deadline has closed: it may be with its board unregistered.
            # Registered as under preparation, it is with its bodies: its reminders aim at the
            # deciding body's last agenda in time, and it is out of reach once that meeting
            # passed with no decision.
            meetings = last_meetings(definition, party, limit)
            assert meetings[-1][0] == deadline, (party, meetings, deadline)  # the plan's deadline: the same meeting
            if prepared:
                target = limit = act_by[stage_id, party] = meetings[-1][1]
                out_of_reach = at(meetings[-1][0].add(days=1), 0)
            else:
                target = limit = act_by[stage_id, party] = meetings[0][1]
                out_of_reach = at(meetings[-1][1].add(days=1), 0)
        else:
            target = deadline
            # Other work is out of reach when its deadline passed undone or, readied too late
            # to make it on its estimate (planned from that day), from the moment it was ready.
            readied_late = done_at.date() > deadline and (stage_id, party) not in forced_late
            out_of_reach = ready_at if readied_late else at(deadline.add(days=1), 0)
        chain = [(f"before-{i}", previous_business_day(subtract_period(target, parse_period(p)))) for i, p in enumerate(policy.before, 1)]
        chain += [("on-day", previous_business_day(target))] if policy.on_day else []
        if policy.overdue_every:
            every = parse_period(policy.overdue_every)
            for i in range(1, policy.overdue_max + 1):
                day = next_business_day(add_period(target, type(every)(every.years * i, every.months * i, every.weeks * i, every.days * i)))
                if limit and day > limit:
                    break
                chain.append((f"overdue-{i}", day))
        chain = [(kind, outside_blackouts(definition, day)) for kind, day in chain]
        escalation = None
        if policy.escalate:
            # Never merely because the deadline is near: only once it is out of reach, at the
            # policy's slot or, when it became out of reach later, at the first slot after.
            day = next_business_day(add_period(target, parse_period(policy.escalate.after)))
            if limit:
                day = min(day, previous_business_day(subtract_period(limit, parse_period(policy.escalate.before_hard))))
            escalation = max(at(outside_blackouts(definition, day), 8), ready, slot_at_or_after(out_of_reach))
        queued: dict[str, pendulum.DateTime] = {}
        for sweep in sweeps:
            if sweep >= done_at:
                break
            due = [(kind, at(day, 8)) for kind, day in chain if ready < at(day, 8) <= sweep]
            if due:
                latest = max(moment for _, moment in due)
                kind = [k for k, moment in due if moment == latest][-1]
                queued.setdefault(kind, sweep)
            elif ready <= sweep:
                queued.setdefault("ready", sweep)
            if escalation and escalation <= sweep:
                queued.setdefault("escalation", sweep)
        for kind, moment in queued.items():
            day = delivered(moment)
            if day < done_at.date() or (day == done_at.date() and done_at.hour >= 8):  # still open when it goes
                # a parallel stage's branches escalating on one day share one message per recipient
                who = "" if kind == "escalation" and stage.for_each else party or ""
                for email_address in (escalate_to if kind == "escalation" else party_to):
                    expected.add((kind, stage_id, who, email_address, day))
                if kind == "escalation" and stage.for_each:
                    escalated.setdefault((stage_id, day), set()).add(party)
        if stage.record and done_at <= sweeps[-1]:
            for email_address in party_to:
                expected.add(("confirmation", stage_id, party or "", email_address, delivered(done_at)))
    digest = definition.notices.digest
    finished = max(done for _, done in nodes.values())
    director = [c.email for c in definition.party(digest.to_party).contacts if c.role is digest.to_role]
    monday = start.date().subtract(days=start.isoweekday() - 1)
    while monday <= end:
        day = next_business_day(monday)
        # The week's digest at its slot, or at the first sweep after the process started that week.
        moment = max(at(day, 8), start)
        if day < monday.add(days=7) and moment < finished and moment <= sweeps[-1]:
            expected |= {("digest", "", "", address, delivered(moment)) for address in director}
        monday = monday.add(weeks=1)
    return Prescribed(expected, escalated, act_by)


def test_a_year_of_daily_sweeps_sends_exactly_what_the_policy_prescribes(year_env, capsys, monkeypatch, default_definition,
                                                                         mail_server):
    plan = {(s["id"], s["party"]): s for s in json.loads(run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json").out)["stages"]}
    received, sweeps, messages = drive_the_year(capsys, monkeypatch, default_definition, mail_server)

    engine = create_engine(year_env)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT stage, party, ready_at, completed_at FROM nodes")).all()
        outbox_states = dict(connection.execute(text("SELECT state, count(*) FROM notices GROUP BY state")).all())
    engine.dispose()
    nodes = {(stage, party): (pendulum.instance(pendulum.parse(str(ready))).in_timezone(TIMEZONE) if ready else None,
                              pendulum.parse(str(done)).in_timezone(TIMEZONE))
             for stage, party, ready, done in rows}
    nodes = {key: (ready.replace(tzinfo=pendulum.UTC).in_timezone(TIMEZONE) if ready.tzinfo is None else ready, done)
             for key, (ready, done) in nodes.items()}

    got = Counter((s.kind, s.stage, s.party, s.recipient, s.day) for s in received)
    assert [key for key, n in got.items() if n > 1] == []  # nothing twice
    policy = prescribed(default_definition, nodes, plan, sweeps)
    expected = policy.notices
    assert set(got) - expected == set(), "sent but not prescribed"
    assert expected - set(got) == set(), "prescribed but not sent"
    assert outbox_states.get("failed", 0) == 0 and outbox_states.get("queued", 0) == 0

    kinds = Counter(s.kind for s in received)
    with capsys.disabled():  # the figure the README quotes
        print(f"\n{len(received)} messages in the year: {dict(sorted(kinds.items()))}")
    assert {"ready", "before-1", "on-day", "overdue-1", "escalation", "confirmation", "digest"} <= set(kinds), kinds
    assert all(is_business_day(s.day) for s in received)  # never on a weekend, a holiday or an eve
    assert any(not is_business_day(s.date()) for s in sweeps) and any(s.hour == 22 for s in sweeps)  # swept then too
    for moment, message in messages:
        assert moment.hour == 8  # never at night: the Wednesday 22:00 sweeps sent nothing
        # parsed back from the bytes the server received, by the standard library
        assert message.get_content_type() == "multipart/mixed" and not message.defects
        assert message["Message-ID"].startswith("<samverkan.") and message["Auto-Submitted"] == "auto-generated"
        plain = message.get_body(("plain",)).get_content()
        assert "Samverkan" in plain and "å" in plain + message["Subject"]  # Swedish text, with its letters

    signatories = default_definition.group_members("signatories")
    # Signing goes party by party: each party's signing was ready the moment its own adoption was done.
    assert all(nodes["signing", p][0] == nodes["adoption", p][1] for p in signatories)
    assert {s.party for s in received if s.kind == "ready" and s.stage == "signing"} == set(signatories)
    # An adoption's reminders aim at the day its matter must reach the board, each party's own
    # (they fall on many days), never later; after that day none comes overdue.
    adoption = [s for s in received if s.stage == "adoption" and s.kind.startswith(("before", "on-day"))]
    assert all(s.day <= policy.act_by["adoption", s.party] for s in adoption)
    assert len({s.day for s in adoption if s.kind == "on-day"}) > 1
    assert not [s for s in received if s.stage == "adoption" and s.kind.startswith("overdue")]
    # Escalations are grouped per stage and day: one message per recipient naming every branch
    # that escalates that day, and only those; the adoption's fall on several days, each after
    # the branch's last agenda in time closed with the matter not even registered.
    names = {p: default_definition.party(p).name for p in signatories}
    for moment, message in messages:
        if message["X-Samverkan-Notice"] != "escalation" or not message["X-Samverkan-Stage"] in ("adoption", "signing"):
            continue
        stage = message["X-Samverkan-Stage"]
        parties = policy.escalated[stage, moment.date()]
        # the opening names the branches (the region is named further down as the contact's employer)
        words = " ".join(message.get_body(("plain",)).get_content().split("Vad gäller det?")[0].split())
        assert {p for p, name in names.items() if name in words} == parties, (stage, moment)
        for party in parties:
            if stage == "adoption":
                last_agenda = last_meetings(default_definition, party, pendulum.parse(plan[stage, party]["deadline"]).date())[-1][1]
                assert moment.date() > last_agenda, (stage, party, moment)
    assert len({day for stage, day in policy.escalated if stage == "adoption"}) > 1
    assert any(len(parties) > 1 for parties in policy.escalated.values())
    # Dorotea decided at its last meeting in time: its signing, planned from that day, still
    # keeps its deadline, so nothing escalates it (it did when a near deadline was enough).
    assert not [key for key, parties in policy.escalated.items() if key[0] == "signing"]
    assert not [s for s in received if s.kind == "escalation" and s.stage == "signing"]
    assert not [s for s in received if s.day.year == 2027 and (s.kind == "escalation" or s.kind.startswith("overdue"))]
    for moment, message in messages:
        kind = message["X-Samverkan-Notice"]
        attachments = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        if kind in ("confirmation", "digest"):
            assert attachments == []
            continue
        [calendar] = attachments
        event = next(c for c in icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT"))
        stage, party = message["X-Samverkan-Stage"], message.get("X-Samverkan-Party")
        if kind == "escalation" and default_definition.stage(stage).for_each:
            # several branches, each with its own deadline: the event is on the first of them
            deadline = min(plan[stage, p]["deadline"] for p in policy.escalated[stage, moment.date()])
        elif (stage, party) in policy.act_by:  # a countdown names the step due that day, not the council's day
            deadline = policy.act_by[stage, party].isoformat()
        else:
            deadline = plan[stage, party]["deadline"]
        assert event.decoded("dtstart").isoformat() == deadline, (kind, stage, party, moment)
