"""Nothing half-done, nothing changed by bad input, nothing lost by an upgrade: on SQLite
and PostgreSQL alike."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest
from sqlalchemy import MetaData, insert

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan import engine as rules
from samverkan.store.database import Database, current_revision, head_revision, make_engine, upgrade
from tests.cli_helpers import run_cli
from tests.databases import dump
from tests.drive import history_yaml, planned_steps

DIRECTOR = "direktor@region-vasterbotten.example.org"
SAMVERKAN = Path(sys.executable).with_name("samverkan")


@pytest.fixture
def adoption_phase(cli_env, capsys, tmp_path):
    """An instance joined mid-process: everything before adoption done as planned."""
    definition = load_definition(DEFAULT_DEFINITION).definition
    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "history.yaml", "--instance", "vb")
    assert result.code == 0, result.err
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    return {"instance": "vb", "token": token, "url": cli_env}


ADOPT = ["transition", "vb", "adoption", "--party", "skelleftea", "--to", "adopted", "--at", "2026-11-20",
         "--reference", "§187", "--field", "decision_date=2026-11-20", "--field", "decision_body=Kommunfullmäktige",
         "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget"]


def credentials(setup):
    return ["--actor", DIRECTOR, "--token", setup["token"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["transition", "vb", "adoption", "--party", "skelleftea", "--to", "signed"], "'signed' är inget läge i det här steget"),
        (["transition", "vb", "signing", "--party", "umea", "--to", "done"], "Undertecknande (Umeå kommun) är i läget ”Väntar på föregående steg”: det väntar på Antagande av överenskommelse och samverkansavtal (Umeå kommun)"),
        (["transition", "vb", "adoption", "--party", "stockholm", "--to", "adopted"], "'stockholm' är ingen känd part"),
        (["transition", "vb", "adoption", "--party", "delegation-pkd", "--to", "adopted"], "'delegation-pkd' är inte part i"),
        (["transition", "vb", "adoptation", "--party", "umea", "--to", "adopted"], "okänt steg 'adoptation'"),
        (["transition", "nosuch", "adoption", "--party", "umea", "--to", "adopted"], "okänd instans 'nosuch'"),
        ([*[a for a in ADOPT if a != "--reference" and a != "§187"]], "--field paragraph saknas"),
        ([*ADOPT[:-2], "--field", "contract_outcome=kanske"], "'kanske' är inte ett av"),
        ([*ADOPT[:8], "2026-12-24", *ADOPT[9:]], "ligger i framtiden"),
        ([*ADOPT[:8], "2026-10-01", *ADOPT[9:]], "är före den dag steget kunde påbörjas (2026-10-15)"),
        ([*ADOPT[:8], "2026-11-31", *ADOPT[9:]], "--at: '2026-11-31' är inget datum eller klockslag"),
        ([*ADOPT, "--field", "nonsense"], "--field: skriv fält=värde"),
    ],
)
def test_bad_transitions_get_one_line_exit_2_and_change_nothing(adoption_phase, capsys, args, message):
    before = dump(adoption_phase["url"])
    result = run_cli(capsys, *args, *credentials(adoption_phase))
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert "Traceback" not in result.err and result.out == ""
    assert dump(adoption_phase["url"]) == before


@pytest.mark.parametrize(
    ("actor", "token", "message"),
    [
        (DIRECTOR, "svk_wrong", "ingen giltig personlig kod för direktor@region-vasterbotten.example.org"),
        ("someone@umea.example.org", None, "ingen giltig personlig kod för someone@umea.example.org"),
        ("not-an-address", "svk_x", "--actor: 'not-an-address' är ingen giltig e-postadress"),
        (DIRECTOR, "", "måste ange sin personliga kod"),
    ],
)
def test_bad_credentials_change_nothing(adoption_phase, capsys, actor, token, message):
    before = dump(adoption_phase["url"])
    result = run_cli(capsys, *ADOPT, "--actor", actor, "--token", token if token is not None else adoption_phase["token"])
    assert result.code == 2 and result.err.count("\n") == 1 and message in result.err, result.err
    assert dump(adoption_phase["url"]) == before


def test_a_refused_transition_names_who_may_and_is_itself_recorded(adoption_phase, capsys):
    lead = run_cli(capsys, "token", "issue", "projekt@region-vasterbotten.example.org", "--role", "project-lead",
                   "--stage", "drafting", *credentials(adoption_phase)).out.strip().splitlines()[-1]
    umea = run_cli(capsys, "token", "issue", "ks@umea.example.org", "--role", "party-contact", "--party", "umea",
                   *credentials(adoption_phase)).out.strip().splitlines()[-1]
    refused = run_cli(capsys, *ADOPT, "--actor", "projekt@region-vasterbotten.example.org", "--token", lead)
    assert refused.code == 2
    assert "projekt@region-vasterbotten.example.org får inte ändra Antagande av överenskommelse och samverkansavtal (Skellefteå kommun)" in refused.err
    assert "en kontaktperson för Skellefteå kommun" in refused.err
    other = run_cli(capsys, *ADOPT, "--actor", "ks@umea.example.org", "--token", umea)
    assert other.code == 2 and "får inte ändra Antagande av överenskommelse och samverkansavtal (Skellefteå kommun)" in other.err
    own = [a.replace("skelleftea", "umea") for a in ADOPT]
    assert run_cli(capsys, *own, "--actor", "ks@umea.example.org", "--token", umea).code == 0
    trail = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    refusals = [t for t in trail if t["outcome"] == "refused"]
    assert [(t["actor"], t["party"]) for t in refusals] == [("projekt@region-vasterbotten.example.org", "skelleftea"),
                                                             ("ks@umea.example.org", "skelleftea")]
    assert all("får inte ändra" in t["refusal"] for t in refusals)
    assert run_cli(capsys, "status", "vb", "--json").out.count('"state": "adopted"') == 1


def test_only_the_directors_office_issues_tokens(adoption_phase, capsys):
    umea = run_cli(capsys, "token", "issue", "ks@umea.example.org", "--role", "party-contact", "--party", "umea",
                   *credentials(adoption_phase)).out.strip().splitlines()[-1]
    before = dump(adoption_phase["url"])
    result = run_cli(capsys, "token", "issue", "x@umea.example.org", "--role", "director-office",
                     "--actor", "ks@umea.example.org", "--token", umea)
    assert result.code == 2 and "bara utvecklingsdirektörens kansli ger personliga koder" in result.err
    assert dump(adoption_phase["url"]) == before
    revoked = run_cli(capsys, "token", "revoke", "ks@umea.example.org", *credentials(adoption_phase))
    assert revoked.code == 0
    again = run_cli(capsys, *[a.replace("skelleftea", "umea") for a in ADOPT], "--actor", "ks@umea.example.org", "--token", umea)
    assert again.code == 2 and "ingen giltig personlig kod" in again.err


def test_tokens_are_stored_only_as_hashes(adoption_phase):
    everything = json.dumps(dump(adoption_phase["url"]))
    assert adoption_phase["token"] not in everything


@pytest.mark.parametrize("crash_at", ["transition-flushed", "transition-committed"])
def test_sigkill_in_a_transition_leaves_the_database_before_or_after_never_between(adoption_phase, crash_at):
    before = dump(adoption_phase["url"])
    env = {**os.environ, "SAMVERKAN_TEST_CRASH_AT": crash_at}
    done = subprocess.run([SAMVERKAN, *ADOPT, *credentials(adoption_phase)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    after = dump(adoption_phase["url"])
    if crash_at == "transition-flushed":
        assert after == before  # written but not committed: rolled back whole
    else:
        changed = {table for table in after if after[table] != before[table]}
        assert changed == {"instances", "nodes", "transitions", "notices"}  # the decision's confirmation came with it
        # The decision's confirmation (two recipients), and Skellefteå's own signing may start: its
        # ready notices. Columns 2, 3, 4: stage, party, kind, as dump() shows them.
        new = sorted((n[2], n[3], n[4]) for n in after["notices"] if n not in before["notices"])
        assert new[:2] == [("'adoption'", "'skelleftea'", "'confirmation'")] * 2
        assert new[2:] and set(new[2:]) == {("'signing'", "'skelleftea'", "'ready'")}
        status = json.loads(subprocess.run([SAMVERKAN, "status", "vb", "--json"], env=os.environ, capture_output=True,
                                           text=True, timeout=120).stdout)
        assert next(s for s in status["stages"] if s["party"] == "skelleftea" and s["id"] == "adoption")["state"] == "adopted"
    # Whatever happened, the instance still works.
    retry = subprocess.run([SAMVERKAN, *[a.replace("skelleftea", "umea") for a in ADOPT], *credentials(adoption_phase)],
                           env=os.environ, capture_output=True, text=True, timeout=120)
    assert retry.returncode == 0, retry.stderr


def test_a_bad_history_starts_nothing(cli_env, capsys, tmp_path):
    assert run_cli(capsys, "db", "upgrade").code == 0
    before = dump(cli_env)
    (tmp_path / "h.yaml").write_text(
        "transitions:\n  - {stage: memo, to: done, at: 2025-10-17}\n  - {stage: drafting, to: done, at: 2026-01-10}\n",
        encoding="utf-8")
    result = run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "h.yaml")
    assert result.code == 2
    assert "h.yaml: transitions[1] (drafting): Utarbetande av förslag till överenskommelse och samverkansavtal är i läget ”Väntar på föregående steg”: det väntar på" in result.err and result.err.count("\n") == 1
    assert dump(cli_env) == before


def test_a_changed_definition_needs_a_new_version(cli_env, capsys, tmp_path):
    assert run_cli(capsys, "start", DEFAULT_DEFINITION).code == 0
    changed = tmp_path / "changed.yaml"
    changed.write_text(DEFAULT_DEFINITION.read_text(encoding="utf-8").replace("duration: P8W", "duration: P9W"), encoding="utf-8")
    result = run_cli(capsys, "start", changed, "--instance", "second")
    assert result.code == 2 and "version 4 används redan med annat innehåll" in result.err
    bumped = tmp_path / "bumped.yaml"
    bumped.write_text(changed.read_text(encoding="utf-8").replace("\nversion: 4\n", "\nversion: 5\n"), encoding="utf-8")
    assert run_cli(capsys, "start", bumped, "--instance", "second").code == 0
    first = json.loads(run_cli(capsys, "status", "samverkan-2027-2030", "--json").out)
    second = json.loads(run_cli(capsys, "status", "second", "--json").out)
    assert (first["process"]["version"], second["process"]["version"]) == (4, 5)  # each keeps what it started with


def test_an_older_database_upgrades_and_keeps_its_data(db_url, capsys, monkeypatch, tmp_path):
    """A database made by revision 0001 (before actors and refusals) with an instance in it."""
    engine = make_engine(db_url)
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    loaded = load_definition(DEFAULT_DEFINITION)
    at = pendulum.datetime(2025, 10, 1, tz="UTC")
    state, changes = rules.start(loaded.definition, at)
    for change in changes:
        state[change.node] = change.after
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        connection.execute(insert(tables.tables["definitions"]), [dict(
            id=1, process_id=loaded.definition.id, version=1, sha256=loaded.sha256, source="old", text=loaded.text,
            registered_at=at.naive())])
        connection.execute(insert(tables.tables["instances"]), [dict(
            id="old", definition_id=1, started_at=at.naive(), created_at=at.naive(), started_by="old@example.org",
            last_seq=len(changes), revision=1)])
        connection.execute(insert(tables.tables["nodes"]), [dict(
            instance_id="old", key=node.key, stage=node.stage, party=node.party, state=s.state,
            ready_at=s.ready_at.naive() if s.ready_at else None, changed_at=s.changed_at.naive() if s.changed_at else None,
            record={}, revision=1) for node, s in state.items()])
        connection.execute(insert(tables.tables["transitions"]), [dict(
            instance_id="old", seq=i, node_key=c.node.key, stage=c.node.stage, party=c.node.party, from_state=c.before,
            to_state=c.after.state, automatic=True, actor="old@example.org", occurred_at=at.naive(), recorded_at=at.naive())
            for i, c in enumerate(changes, start=1)])
    engine.dispose()
    before = dump(db_url)

    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", db_url)
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-22T10:00:00")
    result = run_cli(capsys, "db", "upgrade")
    assert result.code == 0 and f"0001 -> {head_revision()}" in result.out
    after = dump(db_url)
    for table in ("definitions", "instances", "nodes"):
        # Kept as they were; a column added since (the instance's diarienummer) is empty.
        assert [row[:len(old)] for row, old in zip(after[table], before[table])] == before[table]
    assert len(after["transitions"]) == len(before["transitions"])
    trail = json.loads(run_cli(capsys, "audit", "old", "--format", "json").out)["transitions"]
    assert {t["outcome"] for t in trail} == {"applied"} and len(trail) == len(changes)
    # A store that held a record before the clock mark existed is live: writes take the real time.
    pinned = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office")
    assert pinned.code == 2 and "det här lagret är det verkliga diariet" in pinned.err
    monkeypatch.delenv("SAMVERKAN_NOW")
    token = run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").out.strip().splitlines()[-1]
    moved = run_cli(capsys, "transition", "old", "memo", "--to", "done", "--at", "2025-10-17", "--actor", DIRECTOR, "--token", token)
    assert moved.code == 0, moved.err
    assert current_revision(Database(db_url, migrate=False).engine) == head_revision()


def test_thirty_unauthorised_attempts_add_one_counted_row_not_thirty(adoption_phase, capsys):
    umea = run_cli(capsys, "token", "issue", "ks@umea.example.org", "--role", "party-contact", "--party", "umea",
                   *credentials(adoption_phase)).out.strip().splitlines()[-1]
    before = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    for attempt in range(30):
        result = run_cli(capsys, *ADOPT, "--actor", "ks@umea.example.org", "--token", umea, "--reason", f"försök {attempt} " + "x" * 300)
        assert result.code == 2 and "får inte ändra Antagande av överenskommelse och samverkansavtal (Skellefteå kommun)" in result.err
    trail = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    added = trail[len(before):]
    # Who tried, on what, how often: one row for the actor, branch and day, counting thirty.
    assert [(t["actor"], t["stage"], t["party"], t["outcome"], t["attempts"]) for t in added] == [
        ("ks@umea.example.org", "adoption", "skelleftea", "refused", 30)]
    assert len(added[0]["reason"]) <= 120 and "x" * 200 not in json.dumps(added)
    csv_out = run_cli(capsys, "audit", "vb", "--format", "csv").out
    assert csv_out.splitlines()[0].endswith(",Avvisning,Försök") and csv_out.splitlines()[-1].endswith(",30")
