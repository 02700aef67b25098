"""A year of the default process with `samverkan sweep --now` every day, delivering to a real
SMTP server on loopback: the messages received are exactly those the reminder policy
prescribes, derived here independently from the definition's policy text, the plan's
deadlines and the calendar: none missing, none twice, none at night or on a closed day."""

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
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.process_definitions.model import Role

from tests.cli_helpers import run_cli
from tests.databases import database_url
from tests.drive import planned_steps
from tests.smtp_servers import MailServer

DIRECTOR = "direktor@region-vasterbotten.example.org"
START = pendulum.datetime(2025, 10, 1, 9, tz=TIMEZONE)
END = pendulum.date(2027, 1, 12)
# Two steps done late: a delegation's evaluation (slack, no hard limit near) and a municipality's
# adoption (up against the hard limit: escalated before it, in December).
LATE = {("evaluation", "delegation-utbildning"): pendulum.date(2026, 1, 21), ("adoption", "dorotea"): pendulum.date(2026, 12, 22)}


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


def drive_the_year(capsys, monkeypatch, definition, server: MailServer) -> tuple[list[Sent], list[pendulum.DateTime], list]:
    monkeypatch.setenv("SAMVERKAN_NOW", START.isoformat())
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb").code == 0
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    steps = sorted(((LATE.get((s.stage, s.party), s.day), s) for s in planned_steps(definition)), key=lambda pair: pair[0])
    received: list[Sent] = []
    messages = []
    sweeps: list[pendulum.DateTime] = []
    day = START.date().add(days=1)
    while day <= END:
        for hour in (8, 22) if day.day_of_week == pendulum.WEDNESDAY else (8,):  # and a night sweep each week
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
        for done_on, step in [pair for pair in steps if pair[0] == day]:
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


def prescribed(definition, nodes: dict, plan: dict, sweeps: list[pendulum.DateTime]) -> set[tuple]:
    """(kind, stage, party, recipient, day delivered) for every notice the policy asks for."""
    expected: set[tuple] = set()
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
        escalate_to = {c.email for c in definition.party(stage.owner).contacts if c.role is stage.responsible_role}
        if policy.escalate:
            escalate_to |= {c.email for c in definition.party(policy.escalate.to_party).contacts if c.role is policy.escalate.to_role}
        row = plan[stage_id, party]
        deadline = pendulum.parse(row["deadline"]).date()
        limit = pendulum.parse(row["finish"]).date().add(days=row["slack_days"]) if row["slack_days"] is not None else None
        ready = slot_at_or_after(ready_at)
        chain = [(f"before-{i}", previous_business_day(subtract_period(deadline, parse_period(p)))) for i, p in enumerate(policy.before, 1)]
        chain += [("on-day", previous_business_day(deadline))] if policy.on_day else []
        if policy.overdue_every:
            every = parse_period(policy.overdue_every)
            for i in range(1, policy.overdue_max + 1):
                day = next_business_day(add_period(deadline, type(every)(every.years * i, every.months * i, every.weeks * i, every.days * i)))
                if limit and day > limit:
                    break
                chain.append((f"overdue-{i}", day))
        escalation = None
        if policy.escalate:
            day = next_business_day(add_period(deadline, parse_period(policy.escalate.after)))
            if limit:
                day = min(day, previous_business_day(subtract_period(limit, parse_period(policy.escalate.before_hard))))
            escalation = max(at(day, 8), ready)
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
            if delivered(moment) <= done_at.date() or (delivered(moment) == done_at.date() and done_at.hour >= 8):
                # a parallel stage's branches escalating on one day share one message per recipient
                who = "" if kind == "escalation" and stage.for_each else party or ""
                for email_address in (escalate_to if kind == "escalation" else party_to):
                    expected.add((kind, stage_id, who, email_address, delivered(moment)))
        if stage.record and done_at <= sweeps[-1]:
            for email_address in party_to:
                expected.add(("confirmation", stage_id, party or "", email_address, delivered(done_at)))
    digest = definition.notices.digest
    finished = max(done for _, done in nodes.values())
    director = [c.email for c in definition.party(digest.to_party).contacts if c.role is digest.to_role]
    monday = START.date().subtract(days=START.isoweekday() - 1)
    while monday <= END:
        day = next_business_day(monday)
        # The week's digest at its slot, or at the first sweep after the process started that week.
        moment = max(at(day, 8), START)
        if day < monday.add(days=7) and moment < finished and moment <= sweeps[-1]:
            expected |= {("digest", "", "", address, delivered(moment)) for address in director}
        monday = monday.add(weeks=1)
    return expected


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
    expected = prescribed(default_definition, nodes, plan, sweeps)
    assert set(got) - expected == set(), "sent but not prescribed"
    assert expected - set(got) == set(), "prescribed but not sent"
    assert outbox_states.get("failed", 0) == 0 and outbox_states.get("queued", 0) == 0

    kinds = Counter(s.kind for s in received)
    with capsys.disabled():  # the figure the README quotes
        print(f"\n{len(received)} messages in the year: {dict(sorted(kinds.items()))}")
    assert {"ready", "before-1", "on-day", "overdue-1", "escalation", "confirmation", "digest"} <= set(kinds), kinds
    assert all(is_business_day(s.day) for s in received)  # never on a weekend, a holiday or an eve
    for moment, message in messages:
        assert moment.hour == 8  # never at night: the Wednesday 22:00 sweeps sent nothing
        # parsed back from the bytes the server received, by the standard library
        assert message.get_content_type() == "multipart/mixed" and not message.defects
        assert message["Message-ID"].startswith("<samverkan.") and message["Auto-Submitted"] == "auto-generated"
        plain = message.get_body(("plain",)).get_content()
        assert "Samverkan" in plain and "å" in plain + message["Subject"]  # Swedish text, with its letters
    escalations = [(moment, m) for moment, m in messages if m["X-Samverkan-Notice"] == "escalation" and m["X-Samverkan-Stage"] == "adoption"]
    assert {moment.date() for moment, _ in escalations} == {pendulum.date(2026, 12, 16)}  # before the hard limit, in time to act
    assert all("Dorotea kommun" in m.get_body(("plain",)).get_content() for _, m in escalations)
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
        assert event.decoded("dtstart").isoformat() == plan[stage, party]["deadline"]
