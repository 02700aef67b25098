"""The durable state through the command line, on SQLite and PostgreSQL alike."""

import json

import pendulum
import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from sqlalchemy import create_engine, text

from tests.cli_helpers import run_cli
from tests.drive import history_yaml, planned_steps

DIRECTOR = "direktor@region-vasterbotten.example.org"


@pytest.fixture
def definition():
    return load_definition(DEFAULT_DEFINITION).definition


def issue(capsys, email, *args):
    result = run_cli(capsys, "token", "issue", email, *args)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def started(capsys, *extra):
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, *extra)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def status(capsys, instance):
    result = run_cli(capsys, "status", instance, "--json")
    assert result.code == 0, result.err
    return {(s["id"], s["party"]): s for s in json.loads(result.out)["stages"]}


def test_whole_process_driven_by_transitions_alone_and_status_agrees_with_the_plan(cli_env, capsys, monkeypatch, definition):
    instance = started(capsys)
    token = issue(capsys, DIRECTOR, "--role", "director-office")
    planned = json.loads(run_cli(capsys, "plan", DEFAULT_DEFINITION, "--json").out)["stages"]
    deadlines = {(s["id"], s["party"]): s["deadline"] for s in planned}
    steps = planned_steps(definition)
    assert len(steps) == 3 + 15 + 16 * 3 + 7  # delegations, referral answers, adoptions, signings, entries into force, the rest
    for step in steps:
        monkeypatch.setenv("SAMVERKAN_NOW", f"{step.day.isoformat()}T16:00:00")
        result = run_cli(capsys, *step.args(instance), "--actor", DIRECTOR, "--token", token, "--reason", "Enligt plan")
        assert result.code == 0, (step, result.err)
        now = status(capsys, instance)
        assert {key: row["deadline"] for key, row in now.items()} == deadlines, step
        assert now[(step.stage, step.party)]["state"] == step.to
        assert now[(step.stage, step.party)]["completed_at"].startswith(step.day.isoformat())
        open_late = [key for key, row in now.items() if row["late"]]
        assert open_late == [], (step, open_late)
    final = status(capsys, instance)
    assert final[("in-force", None)]["state"] == "reached"
    assert final[("adoption", None)]["state"] == "adopted" and final[("adoption", None)]["waiting_for"] == []
    trail = json.loads(run_cli(capsys, "audit", instance, "--format", "json").out)["transitions"]
    manual = [t for t in trail if not t["automatic"]]
    assert len(manual) == len(steps) and all(t["actor"] == DIRECTOR for t in manual)
    umea = next(t for t in manual if t["stage"] == "adoption" and t["party"] == "umea")
    assert umea["reference"].startswith("§") and umea["record"]["agreement_outcome"] == "antagen"
    assert umea["party_name"] == "Umeå kommun"


def test_status_shows_who_is_late_and_what_waits_on_whom(cli_env, capsys, monkeypatch, tmp_path, definition):
    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
    instance = started(capsys, "--history", tmp_path / "history.yaml")
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-31T09:00:00")
    rows = status(capsys, instance)
    umea = rows[("adoption", "umea")]
    # Umeå's deadline is its council's last meeting in time (18 December in the example calendar).
    assert umea["state"] == "ready" and umea["late"] and (umea["deadline"], umea["days_left"]) == ("2026-12-18", -13)
    assert umea["waiting_for"] == [{"id": "adoption", "party": "umea"}]
    # Signing goes party by party: each branch waits for its own party's adoption.
    assert rows[("signing", "umea")]["waiting_for"] == [{"id": "adoption", "party": "umea"}]
    assert len(rows[("signing", None)]["waiting_for"]) == 16
    table = run_cli(capsys, "status", instance).out
    assert "Åsele kommun" in table and "dagar försenat" in table and "Försenat" in table and " d sen" not in table


def test_fifty_conflicting_transitions_exactly_one_wins(db_url, tmp_path, definition):
    from concurrent.futures import ThreadPoolExecutor

    from samverkan.process_definitions import load_definition as load
    from samverkan import instances
    from samverkan.auth import Actor, Grant, GrantRole
    from samverkan.clock import FixedClock
    from samverkan.engine import TransitionRefused, TransitionRequest
    from samverkan.history import as_request, load_history
    from samverkan.store.database import Database

    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "h.yaml").write_text(history_yaml(steps), encoding="utf-8")
    source, history = load_history(tmp_path / "h.yaml")
    now = pendulum.datetime(2026, 11, 22, 10, tz="Europe/Stockholm")
    db = Database(db_url)
    try:
        instance = instances.start_instance(db, load(DEFAULT_DEFINITION), "test", FixedClock(now), None, None,
                                            [as_request(source, i, e) for i, e in enumerate(history.transitions)], source)
        actor = Actor("direktor@region-vasterbotten.example.org", (Grant(GrantRole.director_office),))
        fields = {"decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige", "paragraph": "§187"}

        def attempt(number: int) -> str:
            to = "adopted" if number % 2 else "rejected"
            outcome = {"agreement_outcome": "antagen" if to == "adopted" else "ej antagen",
                       "contract_outcome": "antaget" if to == "adopted" else "ej antaget"}
            request = TransitionRequest("adoption", "umea", to, now.subtract(days=2), fields={**fields, **outcome})
            try:
                instances.transition(db, instance, request, actor, FixedClock(now))
                return "applied:" + to
            except TransitionRefused as error:
                return "refused:" + str(error)

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(attempt, range(50)))
    finally:
        db.close()
    applied = [r for r in results if r.startswith("applied:")]
    assert len(applied) == 1, results
    winner = applied[0].removeprefix("applied:")
    refusals = [r for r in results if r.startswith("refused:")]
    assert len(refusals) == 49
    # Once decided, a second request for the same state is the step that adds the minutes (and
    # what the registrar files) to the decision (adopted -> adopted, rejected -> rejected, only
    # those fields): refused, since the decision's own fields are not among them.
    later = "okänt fält 'decision_date', 'decision_body', 'paragraph' och 2 till"
    names = {s.id: s.name for s in definition.lifecycle(definition.stage("adoption").lifecycle).states}
    where = f"Antagande av överenskommelse och samverkansavtal (Umeå kommun) är i läget ”{names[winner]}”"
    assert all(where in r or later in r for r in refusals), [r for r in refusals if where not in r][:3]
    engine = create_engine(db_url)
    with engine.connect() as connection:
        recorded = connection.execute(text(
            "SELECT to_state FROM transitions WHERE node_key = 'adoption/umea' AND automatic = :no AND outcome = 'applied'"
        ), {"no": False}).scalars().all()
    engine.dispose()
    assert recorded == [winner]  # exactly one change recorded, and it is the winner's
