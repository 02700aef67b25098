"""Two serving processes at once, on PostgreSQL all through: a Prefect server with a database
of its own on the local PostgreSQL server, the store in a fresh schema there, and two
`samverkan serve` watching and serving against both. Each branch run is created once although
both watchers plan at the same moment, each decision is recorded once whichever process runs
its branch, every branch run ends COMPLETED once, and both processes stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from contextlib import ExitStack

import pytest

from tests.databases import postgres_schema
from tests.prefect_live import INSTANCE, OFFICE, branch_runs, cli, cli_here, form_code, resume, serving, store_before_adoption, wait_for

pytestmark = [pytest.mark.prefect, pytest.mark.postgres, pytest.mark.xdist_group("prefect")]

SIXTEEN = 16
BY_FORM = ["asele", "vannas", "skelleftea", "umea"]


@pytest.fixture
def on_postgres(tmp_path, prefect_server_postgres):
    """The session's Prefect server on PostgreSQL, and a store in a fresh schema there."""
    from tests.prefect_server import client_environment

    settings = prefect_server_postgres
    with postgres_schema() as store_url, client_environment(settings):
        env = {**os.environ, **settings.environment(), "SAMVERKAN_HOME": str(tmp_path / "home"),
               "SAMVERKAN_DATABASE_URL": store_url}
        for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
            env.pop(name, None)
        yield env


def adoption_answer(code: str, paragraph: str) -> dict:
    return {"utfall": "Registrera antagande (Antaget)", "decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige",
            "paragraph": paragraph, "agreement_outcome": "antagen", "contract_outcome": "antaget", "engangskod": code}


def _states() -> dict[str, list[str]]:
    return {party: [run.state_type.value for run in runs] for party, runs in branch_runs().items()}


def _all(states: dict[str, list[str]], state: str) -> bool:
    return len(states) == SIXTEEN and all(found == [state] for found in states.values())


def _logs(logs) -> str:
    return "\n".join(f"--- {log.name}:\n{log.read_text()[-3000:]}" for log in logs)


def test_two_serving_processes_on_postgres(on_postgres, tmp_path):
    env = on_postgres
    token = store_before_adoption(env, tmp_path)
    logs = [tmp_path / "serve-1.log", tmp_path / "serve-2.log"]
    with ExitStack() as stack:
        # Both start at once, and both watchers find sixteen open branches at once.
        servers = [stack.enter_context(serving(env, log)) for log in logs]

        # Sixteen branch runs, each party exactly one, each suspended with its form.
        wait_for("16 suspended adoption runs", lambda: _all(_states(), "PAUSED"), timeout=90, log=logs[0])
        runs = {party: found[0] for party, found in branch_runs().items()}

        # A few decisions through the forms: each resumed run is picked up by one of the two.
        for number, party in enumerate(BY_FORM, start=1):
            resume(runs[party].id, adoption_answer(form_code(env, token, party), f"§{150 + number}"))

        # The rest through the command line; the watchers end their runs.
        actor = {**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}
        for number, party in enumerate(sorted(set(runs) - set(BY_FORM)), start=20):
            body = "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige"
            cli_here(actor, "transition", INSTANCE, "adoption", "--party", party, "--to", "adopted", "--at", "2026-11-20",
                "--field", "decision_date=2026-11-20", "--field", f"decision_body={body}", "--reference", f"§{number}",
                "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget")
        try:
            wait_for("all 16 runs completed", lambda: _all(_states(), "COMPLETED"), timeout=90)
        except AssertionError as error:
            raise AssertionError(f"{error}\n{_states()}\n{_logs(logs)}") from None

        # Both stop on Ctrl-C, at the same moment.
        for process in servers:
            process.send_signal(signal.SIGINT)
        for process, log in zip(servers, logs):
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                code = None
            assert code == 0, f"{log.name} did not stop cleanly on Ctrl-C (exit {code}):\n{log.read_text()[-3000:]}"
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]

    # Still one run per party, each COMPLETED once in its history: nothing ended it twice.
    final = branch_runs()
    assert sorted(final) == sorted(runs) and all(len(found) == 1 for found in final.values())
    from prefect import get_client

    with get_client(sync_client=True) as client:
        histories = {party: [(s.type.value, s.name, s.message) for s in client.read_flow_run_states(found[0].id)]
                     for party, found in final.items()}
    twice = {party: history for party, history in histories.items() if [h[0] for h in history].count("COMPLETED") != 1}
    assert not twice, twice

    # The store: exactly one applied adoption transition per party, the forms' among them.
    audit = json.loads(cli(env, "audit", INSTANCE, "--format", "json").stdout)
    adoptions = [entry for entry in audit["transitions"]
                 if entry["stage"] == "adoption" and entry["party"] and entry["to_state"] == "adopted" and entry["outcome"] == "applied"]
    assert Counter(entry["party"] for entry in adoptions) == Counter({party: 1 for party in runs}), adoptions
    assert {entry["party"] for entry in adoptions if (entry["reference"] or "").startswith("§15")} == set(BY_FORM)
