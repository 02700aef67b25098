"""No decision is lost when a machine dies, on the distributed path production runs: a Prefect
server on PostgreSQL, `prefect deploy --all` from prefect.yaml, two `prefect worker start` and
one `samverkan serve --watch-only`, the store on PostgreSQL too. A decision through a form and
one through the command line; then, round after round, a form decision during which a worker
and the flow runs it started are killed by SIGKILL at a random moment (and a new worker
started). Every decision is recorded exactly once, no branch is left stuck, no answer (with its
personal token) stays readable in Prefect, and `samverkan doctor --check` is clean at the end."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from prefect import get_client

from samverkan.graph import Node
from samverkan.instances import load
from samverkan.store.database import Database
from tests.distributed import Workers, deploy, watching
from tests.prefect_live import INSTANCE, OFFICE, branch_runs, cli, cli_here, form_code, resume, store_before_adoption, wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.xdist_group("prefect")]

ROUNDS = 22
KILL_WITHIN = 6.0  # seconds after the answer is sent: before pickup, pending, running, recording, after
# Seconds of silence before a run whose process cannot be asked (a Pending run killed before its
# flow labelled itself) counts as stranded: short here, where a false alarm costs only a crashed
# run replaced by a new form (the answer is recorded once either way).
STRANDED_AFTER = "6"
WORKER_ALONE = 0.25  # the share of rounds that kill the worker but not the flow run it started
BUSY = {"SCHEDULED", "PENDING", "RUNNING"}
PREPARE = "Påbörja beredning (Ärendet bereds)"
ADOPT = "Registrera antagande (Antaget)"


def today() -> str:
    return dt.datetime.now(ZoneInfo("Europe/Stockholm")).date().isoformat()


def body(party: str) -> str:
    return "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige"


def answer(env: dict[str, str], token: str, party: str, outcome: str, paragraph: str) -> dict:
    code = form_code(env, token, party)  # each answer spends its code, so each gets its own
    if outcome == PREPARE:
        return {"utfall": PREPARE, "engangskod": code}
    return {"utfall": ADOPT, "decision_date": today(), "decision_body": body(party), "paragraph": paragraph,
            "agreement_outcome": "antagen", "contract_outcome": "antaget", "engangskod": code}


def store_state(url: str, party: str) -> str:
    db = Database(url)
    try:
        with db.read() as session:
            return load(session, INSTANCE).state[Node("adoption", party)].state
    finally:
        db.close()


def answers_left(runs) -> list[str]:
    with get_client(sync_client=True) as client:
        return [f"{run.name}: {item.key}" for run in runs
                for item in client.filter_flow_run_input(run.id, key_prefix="suspended-", limit=100, exclude_keys=set())
                if item.key.endswith("-response")]


def explain(runs) -> str:
    """Each run's states, inputs and log, for a failure's message."""
    from tests.prefect_live import run_logs

    parts = []
    with get_client(sync_client=True) as client:
        for run in runs:
            states = [(s.type.value, s.name, s.message) for s in client.read_flow_run_states(run.id)]
            inputs = [item.key for item in client.filter_flow_run_input(run.id, key_prefix="", limit=100, exclude_keys=set())]
            parts.append(f"run {run.name} {run.id} labels={run.labels}\n  states={states}\n  inputs={inputs}\n"
                         f"  log:\n{run_logs(run.id)[-3000:]}")
    return "\n".join(parts)


def settled(url: str, party: str, expected: str) -> bool:
    """The branch's decision is in the store, Prefect agrees, and nothing of the answer is left."""
    if store_state(url, party) != expected:
        return False
    runs = branch_runs().get(party, [])
    states = [run.state_type.value for run in runs]
    if not runs or BUSY & set(states):
        return False
    wanted = "COMPLETED" if expected == "adopted" else "PAUSED"
    return states[-1] == wanted and states.count("PAUSED") == (expected != "adopted") and not answers_left(runs)


def test_no_decision_is_lost_when_workers_die(tmp_path):
    from tests.databases import postgres_schema
    from tests.prefect_server import client_environment, postgres_database, running_server

    seed = int(os.environ.get("SAMVERKAN_TEST_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    with postgres_database() as prefect_url, running_server(tmp_path / "prefect", prefect_url) as settings, \
            client_environment(settings), postgres_schema() as store_url:
        env = {**os.environ, **settings.environment(), "SAMVERKAN_HOME": str(tmp_path / "home"),
               "SAMVERKAN_DATABASE_URL": store_url, "SAMVERKAN_STRANDED_AFTER_SECONDS": STRANDED_AFTER}
        for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
            env.pop(name, None)
        token = store_before_adoption(env, tmp_path)
        deploy(env)
        workers = Workers(env, tmp_path)
        log = tmp_path / "watch.log"
        kills: list[str] = []
        try:
            workers.start()
            workers.start()
            with watching(env, log):
                wait_for("16 branch runs waiting", lambda: len([p for p, r in branch_runs().items() if r[-1].state_type.value == "PAUSED"]) == 16,
                         timeout=120, log=log)
                # One decision through a form, one through the command line, with no one killed.
                resume(branch_runs()["asele"][-1].id, answer(env, token, "asele", ADOPT, "§101"))
                actor = {**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}
                cli_here(actor, "transition", INSTANCE, "adoption", "--party", "vannas", "--to", "adopted", "--reference", "§102",
                         "--field", f"decision_date={today()}", "--field", "decision_body=Kommunfullmäktige",
                         "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget")
                for party in ("asele", "vannas"):
                    wait_for(f"{party} adopted and its run completed", lambda: settled(store_url, party, "adopted"), timeout=90, log=log)

                # Rounds: a form decision, and a worker with its flow runs killed at a random moment of it.
                parties = sorted(set(branch_runs()) - {"asele", "vannas"})
                plan = [(party, PREPARE, "in-preparation") for party in parties] + [(party, ADOPT, "adopted") for party in parties]
                for number, (party, outcome, expected) in enumerate(plan[:ROUNDS], start=1):
                    waiting = branch_runs()[party][-1]
                    assert waiting.state_type.value == "PAUSED", (party, waiting.state_type)
                    resume(waiting.id, answer(env, token, party, outcome, f"§{200 + number}"))
                    time.sleep(rng.uniform(0, KILL_WITHIN))
                    with get_client(sync_client=True) as client:
                        run = client.read_flow_run(waiting.id)
                    pid = int(run.infrastructure_pid) if (run.infrastructure_pid or "").isdigit() else None
                    victim = workers.holding(pid) or rng.choice(workers.alive())
                    # Now and then the worker alone: Prefect then crashes the run it was running,
                    # perhaps after its decision was recorded.
                    alone = rng.random() < WORKER_ALONE
                    killed = workers.kill(victim, with_flow_runs=not alone)
                    kills.append(f"round {number} ({party} → {expected}): run {run.state_type.value}, killed "
                                 f"{'the worker alone' if alone else f'{len(killed)} processes'}")
                    workers.start()
                    try:
                        wait_for(f"round {number}: {party} {expected}, settled", lambda: settled(store_url, party, expected),
                                 timeout=120, log=log)
                    except AssertionError as error:
                        raise AssertionError(f"seed {seed}; {error}\nstore: {store_state(store_url, party)}\n"
                                             f"{explain(branch_runs().get(party, []))}\nkills: {kills}") from None
                # Prefect agrees with the store: doctor finds nothing, in one pass.
                doctor = cli(env, "doctor", INSTANCE, "--check", check=False)
                assert doctor.returncode == 0, f"{doctor.stdout}\n{doctor.stderr}"
                assert "Prefect och lagret stämmer överens" in doctor.stdout
        finally:
            workers.stop_all()

        # Every decision exactly once in the public record.
        audit = json.loads(cli(env, "audit", INSTANCE, "--format", "json").stdout)
        applied = Counter((e["party"], e["to_state"]) for e in audit["transitions"]
                          if e["stage"] == "adoption" and e["party"] and e["outcome"] == "applied" and not e["automatic"])
        expected_decisions = Counter({("asele", "adopted"): 1, ("vannas", "adopted"): 1,
                                      **{(party, state): 1 for party, _, state in plan[:ROUNDS]}})
        assert applied == expected_decisions, (seed, kills)
        # No answer, and so no personal token, readable anywhere in Prefect's runs.
        every_run = [run for runs in branch_runs().values() for run in runs]
        assert answers_left(every_run) == []
        # No result persisted in a worker's local storage, where other machines could not read it;
        # and every process run named for what it synced.
        stored = [str(path) for path in (settings.home / "storage").rglob("*") if path.is_file()]
        assert stored == []
        with get_client(sync_client=True) as client:
            names = [run.name for run in client.read_flow_runs(limit=200) if run.name.startswith("process-")]
        assert "process-None" not in names and f"process-{INSTANCE}" in names
        print(f"seed {seed}", *kills, sep="\n")
