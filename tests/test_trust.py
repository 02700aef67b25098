"""The trust boundary: nobody writes into a live store at a time of their choosing, roles can
be taken away, the office cannot lock itself out, grants name what exists, and a refusal is
recorded only for a request that was valid in every other way. SQLite and PostgreSQL alike."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pendulum
import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
from samverkan import instances
from samverkan.auth import Actor, Grant, GrantRole
from samverkan.clock import FixedClock
from samverkan.engine import TransitionRequest
from samverkan.errors import SamverkanError
from samverkan.store.database import Database
from tests.cli_helpers import run_cli
from tests.databases import dump
from tests.drive import history_yaml, planned_steps

DIRECTOR = "direktor@region-vasterbotten.example.org"
LEAD = "projekt@region-vasterbotten.example.org"
SAMVERKAN = Path(sys.executable).with_name("samverkan")
PREPARE = ["transition", "vb", "adoption", "--party", "skelleftea", "--to", "in-preparation", "--at", "2026-11-02"]


@pytest.fixture
def live(db_url, capsys, monkeypatch, tmp_path):
    """A live store (no pinned clock): the default process joined mid-way, one director."""
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", db_url)
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_TEST_CRASH_AT"):
        monkeypatch.delenv(name, raising=False)
    definition = load_definition(DEFAULT_DEFINITION).definition
    steps = [s for s in planned_steps(definition) if s.day <= pendulum.date(2026, 10, 15)]
    (tmp_path / "history.yaml").write_text(history_yaml(steps), encoding="utf-8")
    assert run_cli(capsys, "start", DEFAULT_DEFINITION, "--history", tmp_path / "history.yaml", "--instance", "vb").code == 0
    token = issue(capsys, DIRECTOR, "--role", "director-office")
    return {"url": db_url, "token": token, "as_director": ["--actor", DIRECTOR, "--token", token]}


def issue(capsys, email, *args):
    result = run_cli(capsys, "token", "issue", email, *args)
    assert result.code == 0, result.err
    return result.out.strip().splitlines()[-1]


def refused(result, message):
    assert result.code == 2, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.err
    assert "Traceback" not in result.err


# 1. Time cannot be forged.


def test_a_pinned_clock_cannot_write_into_a_live_store(live, capsys, monkeypatch):
    before = dump(live["url"])
    monkeypatch.setenv("SAMVERKAN_NOW", "2090-06-01T12:00")
    forged = [*PREPARE[:-1], "2090-05-31", *live["as_director"]]
    refused(run_cli(capsys, *forged), "SAMVERKAN_NOW: det här lagret är det verkliga diariet")
    for command in (["token", "issue", "x@umea.example.org", "--role", "party-contact", "--party", "umea", *live["as_director"]],
                    ["start", DEFAULT_DEFINITION, "--instance", "other", *live["as_director"]]):
        refused(run_cli(capsys, *command), "det här lagret är det verkliga diariet")
    assert dump(live["url"]) == before
    # Views may still be judged at another time.
    assert run_cli(capsys, "status", "vb", "--as-of", "2026-12-01").code == 0
    monkeypatch.delenv("SAMVERKAN_NOW")
    refused(run_cli(capsys, *forged), "ligger i framtiden")
    assert run_cli(capsys, *PREPARE, *live["as_director"]).code == 0  # the true transition is not blocked


def test_the_api_refuses_a_pinned_clock_on_a_live_store_too(live):
    db = Database(live["url"])
    try:
        actor = Actor(DIRECTOR, (Grant(GrantRole.director_office),))
        request = TransitionRequest("adoption", "skelleftea", "in-preparation", pendulum.datetime(2090, 5, 31, tz="UTC"))
        with pytest.raises(SamverkanError, match="det verkliga diariet"):
            instances.transition(db, "vb", request, actor, FixedClock(pendulum.datetime(2090, 6, 1, tz="UTC")))
    finally:
        db.close()


def test_a_store_first_written_with_a_pinned_clock_is_simulated_and_says_so(cli_env, capsys, monkeypatch):
    started = run_cli(capsys, "start", DEFAULT_DEFINITION, "--instance", "sim")
    assert started.code == 0 and "varning: lagret är simulerat" in started.err
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-12-01T10:00")
    assert run_cli(capsys, "token", "issue", DIRECTOR, "--role", "director-office").code == 0
    assert "simulated" in run_cli(capsys, "db", "current").out
    for command in (["status"], ["plan", "--instance", "sim"]):
        assert "SIMULERAD: lagret skrevs med fast klocka" in run_cli(capsys, *command).out.splitlines()[1 if command == ["status"] else 0]
    assert json.loads(run_cli(capsys, "status", "--json").out)["store_clock"] == "simulated"
    assert any("SIMULERAD" in m for m in json.loads(run_cli(capsys, "plan", "--instance", "sim", "--json").out)["instance_marks"])


def test_a_live_store_is_not_marked(live, capsys):
    assert "SIMULERAD" not in run_cli(capsys, "status").out + run_cli(capsys, "plan", "--instance", "vb").out
    assert json.loads(run_cli(capsys, "status", "--json").out)["store_clock"] == "live"


# 2. Roles can be taken away; a reissued token carries only what is granted then.


def test_a_reissued_token_carries_only_what_is_granted_then(live, capsys):
    issue(capsys, LEAD, "--role", "project-lead", "--stage", "adoption", *live["as_director"])
    revoked = run_cli(capsys, "token", "revoke", LEAD, *live["as_director"])
    assert revoked.code == 0 and "Drog in 1 behörighet" in revoked.out
    token = issue(capsys, LEAD, "--role", "project-lead", "--stage", "signing", *live["as_director"])
    refused(run_cli(capsys, *PREPARE, "--actor", LEAD, "--token", token), f"{LEAD} får inte ändra Antagande av överenskommelse och samverkansavtal (Skellefteå kommun)")
    actors = json.loads(run_cli(capsys, "actors", "--json").out)["actors"]
    assert next(a for a in actors if a["email"] == LEAD)["roles"] == ["projektledare för signing"]


def test_grant_and_revoke_change_every_token_at_once(live, capsys):
    token = issue(capsys, LEAD, "--role", "project-lead", "--stage", "signing", *live["as_director"])
    assert run_cli(capsys, "grant", LEAD, "--role", "project-lead", "--stage", "adoption", *live["as_director"]).code == 0
    assert run_cli(capsys, *PREPARE, "--actor", LEAD, "--token", token).code == 0
    assert run_cli(capsys, "revoke", LEAD, "--role", "project-lead", "--stage", "adoption", *live["as_director"]).code == 0
    back = ["transition", "vb", "adoption", "--party", "umea", "--to", "in-preparation", "--at", "2026-11-02"]
    refused(run_cli(capsys, *back, "--actor", LEAD, "--token", token), "får inte ändra Antagande av överenskommelse och samverkansavtal (Umeå kommun)")
    refused(run_cli(capsys, "revoke", LEAD, "--role", "project-lead", "--stage", "adoption", *live["as_director"]),
            "är inte projektledare för adoption; rollerna är: projektledare för signing")
    log = json.loads(run_cli(capsys, "actors", "--log", "--json").out)["authority_log"]
    assert [(e["action"], e["subject"]) for e in log if e["subject"] == LEAD] == [
        ("grant", LEAD), ("issue-token", LEAD), ("grant", LEAD), ("withdraw", LEAD)]
    assert all(e["by"] == DIRECTOR for e in log if e["subject"] == LEAD)


def test_keep_roles_revokes_only_the_tokens(live, capsys):
    old = issue(capsys, LEAD, "--role", "project-lead", "--stage", "adoption", *live["as_director"])
    assert run_cli(capsys, "token", "revoke", LEAD, "--keep-roles", *live["as_director"]).code == 0
    new = issue(capsys, LEAD, *live["as_director"])  # no --role: the roles held
    refused(run_cli(capsys, *PREPARE, "--actor", LEAD, "--token", old), "ingen giltig personlig kod")
    assert run_cli(capsys, *PREPARE, "--actor", LEAD, "--token", new).code == 0


# 3. No lock-out; a documented, logged recovery.


def test_the_last_directors_office_cannot_be_removed(live, capsys):
    before = dump(live["url"])
    refused(run_cli(capsys, "token", "revoke", DIRECTOR, *live["as_director"]), "är den sista i utvecklingsdirektörens kansli med en giltig personlig kod")
    refused(run_cli(capsys, "revoke", DIRECTOR, "--role", "director-office", *live["as_director"]), "är den sista i utvecklingsdirektörens kansli")
    refused(run_cli(capsys, "token", "revoke", DIRECTOR, "--keep-roles", *live["as_director"]), "är den sista i utvecklingsdirektörens kansli")
    assert dump(live["url"]) == before
    second = "kansli@region-vasterbotten.example.org"
    issue(capsys, second, "--role", "director-office", *live["as_director"])
    assert run_cli(capsys, "token", "revoke", DIRECTOR, *live["as_director"]).code == 0


def test_a_lost_token_is_recovered_with_database_access_and_logged(live, capsys):
    recovered = run_cli(capsys, "token", "recover", DIRECTOR)
    assert recovered.code == 0 and "behörighetsloggen" in recovered.out
    token = recovered.out.strip().splitlines()[-1]
    assert run_cli(capsys, "token", "issue", LEAD, "--role", "project-lead", "--stage", "adoption",
                   "--actor", DIRECTOR, "--token", token).code == 0
    log = json.loads(run_cli(capsys, "actors", "--log", "--json").out)["authority_log"]
    recovery = next(e for e in log if e["action"] == "recover")
    assert recovery["subject"] == DIRECTOR and recovery["by"].startswith("recovery by ")


# 4. Grants name things that exist, and only what their role uses.


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "project-lead", "--stage", "draftin"], "--stage: 'draftin' är inget steg i någon känd definition"),
    (["--role", "party-contact", "--party", "stockholm"], "--party: 'stockholm' är ingen part i någon känd definition"),
    (["--role", "project-lead", "--stage", "drafting", "--party", "umea"], "--party: en projektledare leder ett helt steg"),
    (["--role", "party-contact", "--party", "umea", "--stage", "adoption"], "--stage: en kontaktperson får göra allt i sin parts grenar"),
    (["--role", "director-office", "--party", "umea"], "utvecklingsdirektörens kansli får göra allt"),
    (["--stage", "drafting"], "--stage/--party: ange den --role de hör till"),
])
def test_a_grant_must_name_what_exists_and_what_its_role_uses(live, capsys, args, message):
    before = dump(live["url"])
    refused(run_cli(capsys, "token", "issue", LEAD, *args, *live["as_director"]), message)
    if "--role" in args:
        refused(run_cli(capsys, "grant", LEAD, *args, *live["as_director"]), message)
    assert dump(live["url"]) == before


# 8. Every input is checked before anything is written, a refusal included.


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "nosuch"], "'nosuch' är inget läge i det här steget"),
    (["--to", "in-preparation", "--at", "2030-01-01"], "ligger i framtiden"),
    (["--to", "adopted", "--at", "2026-11-02", *[f"--field=f{n}=x" for n in range(250)]], "okänt fält 'f0', 'f1', 'f2' och 247 till;"),
    (["--to", "adopted", "--at", "2026-11-02", "--reference", "§1", "--field", "decision_body=" + "x" * 400], "--field decision_date saknas"),
])
def test_an_invalid_request_without_permission_records_nothing(live, capsys, args, message):
    umea = issue(capsys, "ks@umea.example.org", "--role", "party-contact", "--party", "umea", *live["as_director"])
    before = dump(live["url"])
    result = run_cli(capsys, "transition", "vb", "adoption", "--party", "skelleftea", *args, "--actor", "ks@umea.example.org", "--token", umea)
    assert result.code == 2 and message in result.err and "Traceback" not in result.err, result.err
    assert len(result.err.splitlines()) <= 6  # a line a problem (5 record fields, 1 for all unknown), however many were typed
    assert dump(live["url"]) == before


def test_a_valid_request_without_permission_is_recorded_short(live, capsys):
    umea = issue(capsys, "ks@umea.example.org", "--role", "party-contact", "--party", "umea", *live["as_director"])
    result = run_cli(capsys, *PREPARE, "--reason", "r" * 2000, "--actor", "ks@umea.example.org", "--token", umea)
    refused(result, "får inte ändra Antagande av överenskommelse och samverkansavtal (Skellefteå kommun)")
    trail = json.loads(run_cli(capsys, "audit", "vb", "--format", "json").out)["transitions"]
    [refusal] = [t for t in trail if t["outcome"] == "refused"]
    assert refusal["reason"] == "r" * 119 + "…"


# 5. Files under SAMVERKAN_HOME are private.


def test_the_embedded_database_is_private(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "SAMVERKAN_HOME": str(home), "SAMVERKAN_NOW": "2026-11-22T10:00"}
    env.pop("SAMVERKAN_DATABASE_URL", None)
    done = subprocess.run(["sh", "-c", f'umask 022 && "{SAMVERKAN}" start "{DEFAULT_DEFINITION}"'],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    for path in home.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_the_recovery_log_names_the_real_operating_system_user(live, capsys, monkeypatch):
    import pwd
    monkeypatch.setenv("LOGNAME", "kalle")
    monkeypatch.setenv("USER", "kalle")
    assert run_cli(capsys, "token", "recover", DIRECTOR).code == 0
    log = json.loads(run_cli(capsys, "actors", "--log", "--json").out)["authority_log"]
    recovery = next(e for e in log if e["action"] == "recover")
    assert recovery["by"].startswith(f"recovery by {pwd.getpwuid(os.getuid()).pw_name}@") and "kalle" not in recovery["by"]


@pytest.mark.parametrize("name", ["\x1b[31mred", "two\nlines", "tab\there"])
def test_a_name_with_control_characters_is_refused(live, capsys, name):
    before = dump(live["url"])
    refused(run_cli(capsys, "grant", LEAD, "--role", "project-lead", "--stage", "adoption", "--name", name, *live["as_director"]),
            "--name: innehåller ett styrtecken")
    assert dump(live["url"]) == before
