"""A branch run whose process died after its form was answered (on a real Prefect server, the
process killed for good: no worker, no runner): `samverkan doctor --check` reports it with exit
1; the process flow records the answer once, deletes it, ends the run Completed, tells the
office on the dashboard (the `…-drift` artifact); then doctor finds nothing. And a run crashed
under a decision already recorded ends Completed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from prefect import get_client
from prefect.states import Crashed, Running

from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.tasks.liveness import PROCESS_LABEL, this_machine
from tests.prefect_live import HISTORY, OFFICE, branch_runs, cli, cli_here, form_code, register_deployments, resume

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]

import itertools

_NUMBERS = itertools.count(1)


def adoption(code: str, paragraph: str) -> dict:
    return {"utfall": "Registrera antagande (Antaget)", "decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige",
            "paragraph": paragraph, "agreement_outcome": "antagen", "contract_outcome": "antaget", "engangskod": code}


def dead_process_label() -> str:
    """The label a flow run's process gave it, from a process that has exited since."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return f"{this_machine()}/{gone.stdout.strip()}/-/{time.time():.3f}"


@pytest.fixture
def store(prefect_server, tmp_path):
    """A store of its own with an instance of its own (the session's server is shared with
    other tests, and holds their runs under their instances' keys)."""
    instance = f"strandad-{next(_NUMBERS)}-{os.getpid()}"
    env = {**os.environ, **prefect_server.environment(), "SAMVERKAN_HOME": str(tmp_path / "home"),
           "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'samverkan.db'}"}
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        env.pop(name, None)
    lines = [line for line in HISTORY.read_text(encoding="utf-8").splitlines() if "stage: adoption" not in line]
    (tmp_path / "history.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    issued = cli(env, "token", "issue", OFFICE, "--role", "director-office")
    token = next(word for word in issued.stdout.split() if word.startswith("svk_"))
    office = {**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}
    cli(office, "start", str(DEFAULT_DEFINITION), "--instance", instance, "--history", str(tmp_path / "history.yaml"))
    saved = dict(os.environ)
    os.environ.update({key: env[key] for key in ("SAMVERKAN_HOME", "SAMVERKAN_DATABASE_URL")})
    try:
        register_deployments()
        yield instance, env, office, token
    finally:
        os.environ.clear()
        os.environ.update(saved)


def applied_adoptions(env, instance: str, party: str) -> int:
    audit = json.loads(cli(env, "audit", instance, "--format", "json").stdout)
    return sum(1 for e in audit["transitions"] if e["stage"] == "adoption" and e["party"] == party
               and e["to_state"] == "adopted" and e["outcome"] == "applied")


def test_an_answer_left_in_a_run_whose_process_died_is_recorded_once(store):
    instance, env, office, token = store
    from samverkan.flows.process import process_flow

    process_flow(instance)
    runs = branch_runs(instance)
    assert len(runs) == 16 and all(r[-1].state_type.value == "PAUSED" for r in runs.values())

    # Umeå's form is answered; the run is picked up, its process labels it and dies.
    umea = runs["umea"][-1]
    resume(umea.id, adoption(form_code(env, token, "umea", instance=instance), "§301"))
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(umea.id, Running(), force=True)
        client.update_flow_run_labels(umea.id, {PROCESS_LABEL: dead_process_label()})

    doctor = cli(env, "doctor", instance, "--check", check=False)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    assert "adoption/umea: körningen" in doctor.stdout and "men ingen process kör den längre" in doctor.stdout
    assert applied_adoptions(env, instance, "umea") == 0  # --check changes nothing

    process_flow(instance)
    assert applied_adoptions(env, instance, "umea") == 1
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(umea.id)
        left = client.filter_flow_run_input(umea.id, key_prefix="suspended-", limit=10, exclude_keys=set())
        drift = client.read_latest_artifacts(limit=100)
    assert run.state_type.value == "COMPLETED", run.state
    assert [item.key for item in left if item.key.endswith("-response")] == []  # the token is gone
    told = next(a for a in drift if a.key == f"{instance}-drift")
    assert "Antagande av överenskommelse och samverkansavtal (Umeå kommun): körningen" in told.data and "svaret registrerades (" in told.data and token not in told.data

    # Again: nothing more is recorded, and Prefect agrees with the store.
    process_flow(instance)
    assert applied_adoptions(env, instance, "umea") == 1
    doctor = cli(env, "doctor", instance, "--check", check=False)
    assert doctor.returncode == 0 and "Prefect och lagret stämmer överens" in doctor.stdout, doctor.stdout


def test_a_run_crashed_after_its_decision_was_recorded_ends_completed(store):
    instance, env, office, token = store
    from samverkan.flows.process import process_flow

    process_flow(instance)
    dorotea = branch_runs(instance)["dorotea"][-1]
    cli_here(office, "transition", instance, "adoption", "--party", "dorotea", "--to", "adopted", "--at", "2026-11-20",
             "--reference", "§302", "--field", "decision_date=2026-11-20", "--field", "decision_body=Kommunfullmäktige",
             "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget")
    # The worker running it was killed after the record: Prefect shows the run Crashed.
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(dorotea.id, Running(), force=True)
        client.set_flow_run_state(dorotea.id, Crashed(message="worker killed"), force=True)
    doctor = cli(env, "doctor", instance, "--check", check=False)
    assert doctor.returncode == 1 and "adoption/dorotea: beslutet är registrerat (Antaget) men körningen står som CRASHED" in doctor.stdout
    process_flow(instance)
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(dorotea.id).state_type.value == "COMPLETED"
    assert branch_runs(instance)["dorotea"][-1].id == dorotea.id  # no new form for a decided branch
    assert cli(env, "doctor", instance, "--check", check=False).returncode == 0


def test_an_answer_left_in_a_run_that_crashed_is_recorded_once(store):
    """A worker killed alone: its orphaned flow run was marked Crashed before it recorded the answer."""
    instance, env, office, token = store
    from samverkan.flows.process import process_flow

    process_flow(instance)
    lycksele = branch_runs(instance)["lycksele"][-1]
    resume(lycksele.id, adoption(form_code(env, token, "lycksele", instance=instance), "§303"))
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(lycksele.id, Running(), force=True)
        client.set_flow_run_state(lycksele.id, Crashed(message="worker killed"), force=True)
    process_flow(instance)
    assert applied_adoptions(env, instance, "lycksele") == 1
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(lycksele.id)
        left = client.filter_flow_run_input(lycksele.id, key_prefix="suspended-", limit=10, exclude_keys=set())
    assert run.state_type.value == "COMPLETED" and [i.key for i in left if i.key.endswith("-response")] == []
    assert [r.id for r in branch_runs(instance)["lycksele"]] == [lycksele.id]  # decided: no new form
    process_flow(instance)
    assert applied_adoptions(env, instance, "lycksele") == 1
    assert cli(env, "doctor", instance, "--check", check=False).returncode == 0
