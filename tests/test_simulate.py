"""`samverkan simulate`: the default process in simulated time, with every notice rendered and
delivered over SMTP, checked against what the reminder policy prescribes (derived
independently, in tests/test_notices_year.py) and against the plan; a six-week slip, a
decline and an amendment; scenario files refused in one line per problem; and the odds from
a live instance, the same for the same seed and stable between seeds."""

from __future__ import annotations

import email
import email.policy

import json
import re
from collections import Counter

import icalendar
import pendulum
import pytest

from samverkan.calendar import TIMEZONE, parse_period, subtract_period
from samverkan.graph import Node, branch_parties
from samverkan.notifications.dates import long_date
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.process_definitions.model import ROLE_NAMES
from samverkan.simulation.odds import odds
from samverkan.simulation.scenario import AS_PLANNED, WITH_SPREAD

from tests.cli_helpers import run_cli
from tests.illustrative import illustrative
from tests.test_meetings_forecast import reachable_decisions
from tests.test_notices_year import prescribed

SCENARIOS = DEFAULT_DEFINITION.parent / "scenarios"


def _simulate(capsys, *args: str) -> dict:
    result = run_cli(capsys, "simulate", DEFAULT_DEFINITION, "--until", "2027-01-31", *args, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def _weekday_sweeps(start: pendulum.DateTime, last: pendulum.DateTime) -> list[pendulum.DateTime]:
    """What the simulation promises: a sweep every weekday at 08:00 after its start."""
    sweeps, day = [], start.in_timezone(TIMEZONE).date()
    while day <= last.date():
        moment = pendulum.datetime(day.year, day.month, day.day, 8, tz=TIMEZONE)
        if day.day_of_week not in (pendulum.SATURDAY, pendulum.SUNDAY) and moment > start:
            sweeps.append(moment)
        day = day.add(days=1)
    return sweeps


def test_the_default_process_completes_in_2026_sending_exactly_what_the_policy_prescribes(capsys, default_definition, tmp_path):
    doc = _simulate(capsys, "--mail-dir", str(tmp_path / "post"))
    assert doc["completed_on"] is not None and doc["completed_on"] <= "2026-12-31"
    assert doc["in_force_on"] == "2027-01-01"
    assert doc["parties_missing"] == [] and doc["outbox"].get("failed", 0) == 0 and doc["outbox"].get("queued", 0) == 0
    # Each stage and branch done on the day the plan says (the default scenario follows it).
    plan = {(s["id"], s["party"]): s for s in json.loads(run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json").out)["stages"]}
    assert {(s["id"], s["party"]): s["simulated_done"] for s in doc["stages"]} == {key: s["finish"] for key, s in plan.items()}
    assert all(s["planned_deadline"] == plan[s["id"], s["party"]]["deadline"] for s in doc["stages"])

    # Every message that reached the SMTP server, against the policy derived from the definition.
    start, last = pendulum.parse(doc["start"]), pendulum.parse(doc["last_sweep"])
    sweeps = _weekday_sweeps(start, last)
    assert len(sweeps) == doc["sweeps"]
    nodes = {(s["id"], s["party"]): (pendulum.parse(s["ready_at"]).in_timezone(TIMEZONE),
                                     pendulum.parse(s["simulated_done"] + "T16:00", tz=TIMEZONE)) for s in doc["stages"]}
    expected = prescribed(default_definition, nodes, plan, sweeps, start=start, end=last.date(), prepared=True).notices
    got = Counter((n["kind"], n["stage"] or "", n["party"] or "", n["recipient"], pendulum.parse(n["day"]).date())
                  for n in doc["notices"])
    assert [key for key, count in got.items() if count > 1] == []  # nothing twice
    assert set(got) - expected == set(), "sent but not prescribed"
    assert expected - set(got) == set(), "prescribed but not sent"
    assert doc["notices_sent"] == len(expected) == sum(doc["notices_by_kind"].values()) == sum(doc["notices_by_recipient"].values())
    # On plan nothing is late, so nothing escalates and nothing is overdue.
    assert doc["notices_by_kind"].get("escalation", 0) == doc["notices_by_kind"].get("overdue", 0) == 0
    assert doc["notices_by_kind"]["confirmation"] > 0
    # --mail-dir: every message delivered, as the recipient gets it, in the order sent.
    files = sorted((tmp_path / "post").glob("*.eml"))
    assert len(files) == doc["notices_sent"]
    first = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert files[0].name.startswith(f"0001-{doc['notices'][0]['day'][:10]}-") and first["Subject"] and first.get_body(("plain",))
    assert {email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["To"].addresses[0].addr_spec
            for f in files} == set(doc["notices_by_recipient"])
    _read_as_recipients_would(default_definition, files)


DAYS_LEFT = re.compile(r"\((\d+) dag(?:ar)? (kvar|sedan)\)|\((i dag)\)")


def _read_as_recipients_would(definition, files) -> None:
    """Every countdown mail's subject, text, days left and calendar event agree with the day it
    was sent; every one asking a party to act says how (its form's link, a one-time code, whom
    to ask); nobody is told a derived date is fixed, nor the process's own last day; each
    recipient is told the one role in which they get it."""
    roles = {c.email: (c.role, p.name) for p in definition.parties for c in p.contacts}
    countdowns = 0
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        sent = pendulum.parse(path.name.split("-", 1)[1][:10]).date()
        kind, stage = message["X-Samverkan-Notice"], message.get("X-Samverkan-Stage")
        plain = " ".join(message.get_body(("plain",)).get_content().split())
        address = message["To"].addresses[0].addr_spec
        role, party = roles[address]
        if kind != "digest":
            assert f"Ni får det här meddelandet som {ROLE_NAMES[role]} för {party}." in plain, path.name
        assert "Senaste dag som ändå håller" not in plain, path.name
        if kind == "confirmation":  # only what was decided: no appeal, signature or diarienummer made up
            assert not any(word in plain for word in ("Domstol:", "Målnummer:", "Undertecknat av:")), path.name
        if kind.split("-")[0] not in ("ready", "before", "on", "overdue"):
            continue
        countdowns += 1
        [calendar] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
        due = next(c for c in icalendar.Calendar.from_ical(calendar.get_content()).walk("VEVENT")).decoded("dtstart")
        left = due.toordinal() - sent.toordinal()
        assert long_date(due) in plain, path.name
        shown = DAYS_LEFT.search(plain)
        if left == 0:
            assert shown and shown.group(3) == "i dag", path.name
        else:
            assert shown and int(shown.group(1)) == abs(left) and shown.group(2) == ("kvar" if left > 0 else "sedan"), (path.name, left)
        if kind == "on-day":
            expected = {0: "Sista dagen i dag", 1: "Sista dagen i morgon"}.get(left, f"Sista dagen {long_date(due)}")
            assert message["Subject"].removeprefix("[EXEMPEL] ").startswith(expected + ":"), (path.name, message["Subject"])
            opening = {0: f"I dag, {long_date(due)}, är sista dagen", 1: f"I morgon, {long_date(due)}, är sista dagen"}
            assert opening.get(left, f"är {long_date(due)}, om {left} dagar") in plain, path.name
        if stage == "adoption":  # the step due that day, and the meeting it leads to
            assert "för att hinna till kommunfullmäktige" in plain or "för att hinna till regionfullmäktige" in plain, path.name
            assert "Datumet är fast" not in plain, path.name
        if message.get("X-Samverkan-Party"):  # a party's branch: its form, with a code
            assert re.search(r"<https?://[^>]+/runs/flow-run/[0-9a-f-]{36}>", plain), path.name
            assert re.search(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b", plain), path.name
            assert "Om länken eller koden inte fungerar: kontakta Karin Berglund" in plain, path.name
        else:  # the office's own stage: the command that records it
            assert f"samverkan transition simulering {stage} --to" in plain, path.name
    assert countdowns > 200


def test_drafting_six_weeks_late_shows_its_escalations_and_the_parties_that_miss_2026(capsys, default_definition):
    doc = _simulate(capsys, "--scenario", str(SCENARIOS / "drafting-six-weeks-late.yaml"))
    stages = {(s["id"], s["party"]): s for s in doc["stages"]}
    assert stages["drafting", None]["days_late"] == 42
    sent = pendulum.parse(stages["final-proposal", None]["simulated_done"]).date()
    # Independently: the parties whose calendars offer no deciding meeting a matter sent that
    # day can reach and still leave signing its week before the hard deadline.
    limit = subtract_period(pendulum.date(2026, 12, 30), parse_period("P1W"))
    unable = {p for p in branch_parties(default_definition, default_definition.stage("adoption"))
              if not reachable_decisions(default_definition, p, sent, limit)}
    assert 0 < len(unable) < 16
    assert {m["party"] for m in doc["parties_missing"]} == unable
    assert all(m["first_missed"] == "adoption" for m in doc["parties_missing"])
    for party in set(branch_parties(default_definition, default_definition.stage("adoption"))) - unable:
        assert stages["in-force", party]["simulated_done"] == "2027-01-01"  # the others still make it
    assert doc["completed_on"] is None
    # The slip escalates when it is a fact, not before: the drafting once its deadline passed
    # undone, then the adoptions, the day their last agendas are out of reach.
    escalations = [n for n in doc["notices"] if n["kind"] == "escalation"]
    assert {n["stage"] for n in escalations} == {"drafting", "adoption"}
    assert min(n["day"] for n in escalations if n["stage"] == "drafting") > stages["drafting", None]["planned_deadline"]
    assert all(n["day"] >= sent.isoformat() for n in escalations if n["stage"] == "adoption")
    # The text says the same, in Swedish.
    text = run_cli(capsys, "simulate", DEFAULT_DEFINITION, "--until", "2027-01-31", "--scenario",
                   str(SCENARIOS / "drafting-six-weeks-late.yaml")).out
    assert text.startswith("EXEMPEL:")
    assert f"HINNER INTE I TID ({len(unable)} parter)" in text and "Eskaleringar (" in text
    assert all(default_definition.party(p).name in text for p in unable) and "Vännäs kommun" in text


def test_a_decline_and_an_amendment(capsys, default_definition):
    doc = _simulate(capsys, "--scenario", str(SCENARIOS / "vannas-declines-umea-amends.yaml"))
    stages = {(s["id"], s["party"]): s for s in doc["stages"]}
    assert stages["adoption", "vannas"]["state"] == "rejected"
    assert stages["signing", "vannas"]["outside"] and stages["in-force", "vannas"]["outside"]
    umea = [a for a in doc["acts"] if a["id"] == "adoption" and a["party"] == "umea"]
    # Registered as under preparation the day it goes to the board, as a secretary does. Region
    # Västerbotten, the counterparty of Umeå's contract, accepts the changes three days after
    # the council's decision: adopted, with no second council meeting.
    assert [a["to"] for a in umea][:3] == ["in-preparation", "amended", "adopted"]
    assert umea[1]["day"] == stages["adoption", "umea"]["planned_finish"] == "2026-11-30"
    assert umea[2]["day"] == stages["adoption", "umea"]["simulated_done"] == "2026-12-03"
    # Umeå is told at each step; the region's project lead, who must answer, is told of the changes.
    told = [(n["day"], n["recipient"]) for n in doc["notices"]
            if n["kind"] == "confirmation" and n["stage"] == "adoption" and n["party"] == "umea"]
    assert told == [("2026-12-01", "naringsliv@umea.example.org"), ("2026-12-01", "kommunsekreterare@umea.example.org"),
                    ("2026-12-01", "projektledare@region-vasterbotten.example.org"),
                    ("2026-12-04", "naringsliv@umea.example.org"), ("2026-12-04", "kommunsekreterare@umea.example.org")]
    others = set(branch_parties(default_definition, default_definition.stage("adoption"))) - {"vannas"}
    assert all(stages["in-force", p]["simulated_done"] == "2027-01-01" for p in others)
    assert doc["completed_on"] is not None and doc["completed_on"] <= "2026-12-31"
    # The "no" is confirmed to Vännäs, as any recorded decision is.
    assert any(n["kind"] == "confirmation" and n["stage"] == "adoption" and n["party"] == "vannas" for n in doc["notices"])


@pytest.mark.parametrize("content, expected", [
    ("steps:\n  - {stage: draftng, late: P6W}\n", "steps[0].stage: 'draftng' is not a stage of samverkan-2027-2030"),
    ("steps:\n  - {stage: adoption, party: lule, outcome: rejected}\n", "steps[0].party: 'lule' has no branch in adoption"),
    ("steps:\n  - {stage: drafting, outcome: rejected}\n", "steps[0].outcome: rejected is not a way drafting can end"),
    ("steps:\n  - {stage: adoption, outcome: rejected}\n", "steps[0].outcome: rejected needs a party"),
    ("steps:\n  - {stage: drafting, late: 6 weeks}\n", "steps[0].late: invalid period '6 weeks'"),
    ("steps:\n  - {stage: drafting, late: P1W, done_on: 2026-07-01}\n", "steps[0]: give `late` or `done_on`, not both"),
    ("steps:\n  - {stage: drafting, lat: P1W}\n", "steps[0].lat: okänt fält (felstavat?)"),
    ("spread: {late: 150%}\n", "spread.late: 1.5 is not a share between 0 and 1"),
    ("spread: {postpone: often}\n", "spread.postpone: 'often' is not a share"),
    ("- just a list\n", "översta nivån: måste vara en mappning (nyckel: värde)"),
    ("steps: [\n", "scenario.yaml"),
])
def test_a_broken_scenario_is_refused_in_one_line_naming_file_and_field(capsys, tmp_path, content, expected):
    path = tmp_path / "scenario.yaml"
    path.write_text(content, encoding="utf-8")
    result = run_cli(capsys, "simulate", DEFAULT_DEFINITION, "--until", "2027-01-31", "--scenario", str(path))
    assert result.code == 2 and result.out == ""
    assert expected in result.err and "scenario.yaml" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize("args, expected", [
    (["--until", "2027-13-01"], "--until: '2027-13-01' är inget datum"),
    (["--until", "2025-01-01"], "--until: 2025-01-01 is before the simulation starts"),
    (["--runs", "0"], "--runs: 0 is not between 1 and 100 000"),
    (["--instance", "vb"], "give either a definition PATH"),
    (["--seed", "-1"], "--seed: -1 is negative"),
    (["--runs", "10", "--mail-dir", "/tmp"], "--mail-dir: only a simulated timeline delivers mail"),
    (["--mail-dir", "/etc/hostname"], "--mail-dir: /etc/hostname is not a folder"),
])
def test_bad_arguments_are_refused_in_one_line(capsys, args, expected):
    result = run_cli(capsys, "simulate", DEFAULT_DEFINITION, *args)
    assert result.code == 2 and expected in result.err and result.out == ""


def test_odds_from_a_live_instance_are_reproducible_and_stable_between_seeds(default_definition):
    state, _ = illustrative(default_definition)
    today, until = pendulum.date(2026, 11, 23), pendulum.date(2027, 1, 31)
    first = odds(default_definition, state, today, until, WITH_SPREAD, 400, seed=1)
    again = odds(default_definition, state, today, until, WITH_SPREAD, 400, seed=1)
    other = odds(default_definition, state, today, until, WITH_SPREAD, 400, seed=2)
    assert [p.decided for p in first.parties] == [p.decided for p in again.parties]
    assert first.completions == again.completions
    spread = {p.party: abs(p.decided - q.decided) for p, q in zip(first.parties, other.parties)}
    assert max(spread.values()) <= 0.06, spread
    by_party = {p.party: p for p in first.parties}
    assert by_party["storuman"].decided == 1.0 and by_party["storuman"].recorded == pendulum.date(2026, 11, 20)
    # Chance matters: not every party is certain, and not every one is lost.
    assert any(0 < p.decided < 1 for p in first.parties)
    # Without spread, the odds are the plan's own answer: 100 % or 0 % for each party, and the
    # parties at 0 % are exactly those whose decision the planner puts after the hard deadline.
    certain = odds(default_definition, state, today, until, AS_PLANNED, 1, seed=1)
    from samverkan.status import plan_for

    planned = plan_for(default_definition, state, today)
    for p in certain.parties:
        item = planned.get("adoption", p.party)
        assert p.decided == (1.0 if item.finish <= pendulum.date(2026, 12, 31) else 0.0), p.party


def test_simulate_instance_reads_a_live_store_and_changes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        monkeypatch.delenv(name, raising=False)
    history = DEFAULT_DEFINITION.parent / "examples" / "history_illustrative_2026-11.yaml"
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "vb", "--history", str(history)).code == 0
    before = run_cli(capsys, "audit", "vb").out
    result = run_cli(capsys, "simulate", "--instance", "vb", "--runs", "50")
    assert result.code == 0, result.err
    assert result.out.startswith("ILLUSTRATIV") or "EXEMPEL" in result.out.splitlines()[1]
    assert "SANNOLIKHET: 50 simulerade förlopp av vb" in result.out
    assert "Storumans kommun" in result.out and "beslutat 2026-11-20" in result.out
    doc = json.loads(run_cli(capsys, "simulate", "--instance", "vb", "--runs", "50", "--json").out)
    assert {p["party"] for p in doc["parties"]} == set(branch_parties_default())
    assert all(0 <= p["probability"] <= 1 for p in doc["parties"])
    assert run_cli(capsys, "audit", "vb").out == before  # a forecast writes nothing


def branch_parties_default() -> list[str]:
    from samverkan.process_definitions import load_definition

    definition = load_definition(DEFAULT_DEFINITION).definition
    return branch_parties(definition, definition.stage("adoption"))


def test_runs_follow_the_plan_when_nothing_is_left_to_chance(default_definition):
    from samverkan import engine
    from samverkan.planner import plan
    from samverkan.simulation.runs import run
    import random

    start = pendulum.datetime(2025, 10, 1, 9, tz=TIMEZONE)
    state, changes = engine.start(default_definition, start)
    state = dict(state)
    for change in changes:
        state[change.node] = change.after
    result = run(default_definition, state, start.date(), pendulum.date(2027, 1, 31), AS_PLANNED, random.Random(0))
    planned = plan(default_definition)
    assert {n.node: result.done_on(n.node) for n in planned.nodes} == {n.node: n.finish for n in planned.nodes}
    assert Node("in-force", None) in result.state
