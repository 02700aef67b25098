"""Nothing a viewer can read lets anyone act (docs/security.md, "The forms").

A harvester polls everything Prefect serves (runs with their parameters and states, every run
input, logs, events, artifacts) every 50 ms while ten answers are given through the forms, and
again while the serving process is stopped and three more answers wait in Prefect, and keeps
every string it sees. Then every string is tried through every door: as the code of a branch's
form (the same run, and another), of the transition deployment's confirmation, and as a token
on the command line. The record afterwards holds the owners' own answers and nothing else."""

from __future__ import annotations

import json
import os
import re
import threading
import time

import pytest
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterTimestamp
from sqlalchemy import select

from samverkan.auth import code_body, code_hash, token_hash
from samverkan.store.database import Database
from samverkan.store.models import CodeRow, TokenRow
from tests.prefect_live import (OFFICE, _events, branch_runs, cli_here, form_code, pause_key, resume, run_logs, serving,
                                store_before_adoption, wait_for)
from tests.prefect_server import client_environment, running_server

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]

ADOPT = "Registrera antagande (Antaget)"
REJECT = "Registrera avslag (Ej antaget: parten står utanför)"
ATTACK = "§666"
# A serving process here drains what Prefect's client queued while the server was being read
# every 50 ms (events it could not yet deliver); how fast it stops is tested elsewhere, at 30 s.
STOP_WITHIN = 120  # the attacker's paragraph: it must never reach the record
# Within any text: a code's shape, or a long run of a token's characters.
_PIECES = re.compile(r"[0-9A-Za-z]{4}(?:[- ][0-9A-Za-z]{4}){3}|[A-Za-z0-9_-]{12,}")


def answer(code: str, paragraph: str, outcome: str = ADOPT, day: str = "2026-11-20", party: str = "") -> dict:
    body = "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige"
    return {"utfall": outcome, "decision_date": day, "decision_body": body, "paragraph": paragraph,
            "agreement_outcome": "antagen", "contract_outcome": "antaget", "engangskod": code}


class Harvester(threading.Thread):
    """Reads all that Prefect serves and keeps every string in it (every JSON string, and
    every code- or token-shaped piece of one). What may be there only for a moment (the runs
    and every run input of a run not yet ended) every 50 ms; what Prefect keeps once written
    (states, logs, events, artifacts, the inputs of ended runs) every second, from where the
    last read ended: reading it all again each time only slowed the server down."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self._lock = threading.Lock()
        self.rounds = 0
        self.halt = threading.Event()
        self.resting = threading.Event()  # set while a serving process shuts down: nothing new appears then
        self._since = "2000-01-01T00:00:00Z"
        self._updated: dict = {}

    def run(self) -> None:
        with get_client(sync_client=True) as client:
            slow_at = 0.0
            while not self.halt.is_set():
                if self.resting.is_set():
                    time.sleep(0.05)
                    continue
                runs = client.read_flow_runs(limit=200)
                live = [run for run in runs if not (run.state and run.state.is_final())]
                self._inputs(client, live)
                self._keep([run.model_dump(mode="json") for run in runs])
                if time.monotonic() >= slow_at:
                    self._kept(client, runs)
                    slow_at = time.monotonic() + 1.0
                self.rounds += 1
                time.sleep(0.05)
            self._kept(client, client.read_flow_runs(limit=200))

    def _inputs(self, client, runs) -> None:
        for run in runs:
            self._keep([item.model_dump(mode="json") for item in
                        client.filter_flow_run_input(run.id, key_prefix="", limit=200, exclude_keys=set())])

    def _kept(self, client, runs) -> None:
        since = self._since
        self._since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5))
        changed = [run for run in runs if self._updated.get(run.id) != run.updated]  # a run's states change with it
        self._inputs(client, [run for run in changed if run.state and run.state.is_final()])
        for run in changed:
            self._keep([state.model_dump(mode="json") for state in client.read_flow_run_states(run.id)])
            self._updated[run.id] = run.updated
        for offset in range(0, 100_000, 200):
            logs = client.read_logs(log_filter=LogFilter(timestamp=LogFilterTimestamp(after_=since)), limit=200, offset=offset)
            self._keep([log.model_dump(mode="json") for log in logs])
            if len(logs) < 200:
                break
        self._keep([artifact.model_dump(mode="json") for artifact in client.read_artifacts(limit=200)])
        self._keep(_events(client, {"occurred": {"since": since}}))

    def strings(self) -> set[str]:
        """What was seen so far (a copy: the harvester goes on adding)."""
        with self._lock:
            return set(self.seen)

    def _keep(self, value: object) -> None:
        if isinstance(value, str):
            with self._lock:
                self.seen.add(value)
                self.seen.update(_PIECES.findall(value))
            if value[:1] in "{[":
                try:
                    self._keep(json.loads(value))
                except ValueError:
                    pass
        elif isinstance(value, dict):
            for key, item in value.items():
                self._keep(key)
                self._keep(item)
        elif isinstance(value, list):
            for item in value:
                self._keep(item)


@pytest.fixture
def harvest_store(tmp_path):
    """A Prefect server of its own: the harvester reads all it serves every 50 ms, which would
    slow every other test sharing the session's server (and their runs would slow it)."""
    with running_server(tmp_path / "prefect") as settings, client_environment(settings):
        yield from _store(settings, tmp_path)


def _store(settings, tmp_path):
    instance = f"skord-{os.getpid()}"
    env = {**os.environ, **settings.environment(), "SAMVERKAN_HOME": str(tmp_path / "home"),
           "SAMVERKAN_DATABASE_URL": f"sqlite:///{tmp_path / 'samverkan.db'}"}
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        env.pop(name, None)
    token = store_before_adoption(env, tmp_path, instance)
    db = Database(env["SAMVERKAN_DATABASE_URL"])
    yield instance, env, token, db
    db.close()


def _mine(instance: str) -> dict:
    return {party: runs[-1] for party, runs in branch_runs(instance).items()}


def _applied(env: dict, instance: str) -> dict[str, str]:
    """party: paragraph, for every applied adoption in the record."""
    audit = json.loads(cli_here(env, "audit", instance, "--format", "json").stdout)["transitions"]
    return {t["party"]: t["reference"] or (t["record"] or {}).get("paragraph") for t in audit
            if t["stage"] == "adoption" and t["outcome"] == "applied" and not t["automatic"]}


def _audit(env: dict, instance: str) -> str:
    return cli_here(env, "audit", instance, "--format", "json").stdout


def test_nothing_a_viewer_harvests_records_anything(harvest_store, tmp_path):
    instance, env, token, db = harvest_store
    log = tmp_path / "serve.log"
    harvester = Harvester()
    harvester.start()
    owners: dict[str, str] = {}  # party: the owner's paragraph, for every answer meant to be recorded
    codes_given: list[str] = []
    try:
        with serving(env, log, stop_within=STOP_WITHIN):
            wait_for("16 branch runs waiting", lambda: len([r for r in _mine(instance).values()
                                                            if r.state_type.value == "PAUSED"]) == 16, timeout=240, log=log)
            parties = sorted(_mine(instance))
            # Ten answers through the forms: eight recorded, two refused (a date in the future).
            for number, party in enumerate(parties[:10], start=1):
                code = form_code(env, token, party, instance=instance)
                codes_given.append(code)
                refused = number in (4, 7)
                resume(_mine(instance)[party].id, answer(code, f"§{100 + number}", day="2027-06-01" if refused else "2026-11-20",
                                                               party=party))
                if not refused:
                    owners[party] = f"§{100 + number}"
            wait_for("the eight recorded", lambda: _applied(env, instance) == owners, timeout=240, log=log)
            for party in (parties[3], parties[6]):
                wait_for(f"{party}'s refusal logged", lambda: "future" in run_logs(_mine(instance)[party].id)
                         or "framtiden" in run_logs(_mine(instance)[party].id), log=log)
            time.sleep(2)  # and after
            # No answer can arrive while it shuts down (answers come from people, and none is
            # given now); what Prefect holds then it holds after, and is read then. Resting
            # meanwhile keeps a loaded server from slowing the shutdown past its limit.
            harvester.resting.set()
        harvester.resting.clear()

        # The serving process stopped: three more answers wait in Prefect, readable.
        late = parties[10:13]
        for number, party in enumerate(late, start=11):
            code = form_code(env, token, party, instance=instance)
            codes_given.append(code)
            resume(_mine(instance)[party].id, answer(code, f"§{100 + number}", party=party))
            owners[party] = f"§{100 + number}"
        time.sleep(3)
        # The harvester is real: it read the waiting answers' codes (the window the design allows).
        assert set(codes_given[10:]) <= harvester.strings(), "the harvester missed answers waiting in Prefect"
        # An attacker with the codes puts contrary answers into those same runs, after the owners'
        # (under keys that sort before theirs: the order that counts is the order received).
        shaped = sorted({s for s in harvester.strings() if code_body(s)})
        with get_client(sync_client=True) as client:
            for party in late:
                for n, candidate in enumerate(shaped):
                    client.create_flow_run_input(_mine(instance)[party].id, key=f"suspended-beslut-0{n}-response",
                                                 value=json.dumps(answer(candidate, ATTACK, outcome=REJECT)))

        with serving(env, log, stop_within=STOP_WITHIN):
            wait_for("the three waiting answers recorded as their owners gave them", lambda: _applied(env, instance) == owners,
                     timeout=240, log=log)
            # Every string, through every door.
            shaped = sorted({s for s in harvester.strings() if code_body(s)})
            assert set(codes_given) <= set(shaped)
            target = parties[13]  # a branch still open: another run's form
            with get_client(sync_client=True) as client:
                run_id = _mine(instance)[target].id
                for n, candidate in enumerate(shaped[:-1]):
                    client.create_flow_run_input(run_id, key=f"suspended-beslut-{500 + n}-response",
                                                 value=json.dumps(answer(candidate, ATTACK, outcome=REJECT)))
            resume(run_id, answer(shaped[-1], ATTACK, outcome=REJECT))  # the form's own door
            wait_for(f"{target}'s form waiting again", lambda: pause_key(_mine(instance)[target].id) == "beslut-2", log=log)
            # A run of the branch deployment started by hand for an open branch, fed every code.
            with get_client(sync_client=True) as client:
                branch = client.read_deployment_by_name("branch/samverkan")
                by_hand = client.create_flow_run_from_deployment(branch.id, parameters={
                    "instance": instance, "stage": "adoption", "party": parties[15]})
                for n, candidate in enumerate(shaped):
                    client.create_flow_run_input(by_hand.id, key=f"suspended-beslut-0{n}-response",
                                                 value=json.dumps(answer(candidate, ATTACK, outcome=REJECT)))
            wait_for("the run made by hand refused", lambda: get_client(sync_client=True).read_flow_run(by_hand.id).state_type.value
                     == "FAILED", log=log)
            # The transition deployment, confirmed with every harvested code.
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name("transition/samverkan")
                attack = client.create_flow_run_from_deployment(deployment.id, parameters={"overgang": {
                    "instans": instance, "steg": "adoption", "part": parties[14], "till": "rejected",
                    "referens": ATTACK}})
            wait_for("the attacker's transition run asking for a code", lambda: pause_key(attack.id) == "bekraftelse-1", log=log)
            with get_client(sync_client=True) as client:
                for n, candidate in enumerate(shaped[:-1]):
                    client.create_flow_run_input(attack.id, key=f"suspended-bekraftelse-0{n}-response",
                                                 value=json.dumps({"engangskod": candidate}))
            resume(attack.id, {"engangskod": shaped[-1]})
            wait_for("the attacker's transition run refused",
                     lambda: get_client(sync_client=True).read_flow_run(attack.id).state_type.value == "FAILED", log=log)
            # The command line: no string is anyone's token (the door checks the hash of what it is given).
            with db.read() as session:
                live_tokens = set(session.scalars(select(TokenRow.token_hash).where(TokenRow.revoked_at.is_(None))))
            assert not {token_hash(s) for s in harvester.strings()} & live_tokens
            for candidate in shaped:
                done = cli_here({**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": candidate}, "transition", instance,
                                "adoption", "--party", parties[15], "--to", "rejected", "--reference", ATTACK, check=False)
                assert done.returncode == 2 and "ingen giltig personlig kod" in done.stderr
            time.sleep(1)
            harvester.resting.set()
        harvester.resting.clear()
    finally:
        harvester.halt.set()
        harvester.join(timeout=30)
    assert harvester.rounds > 50
    # The record: the owners' answers, each as given, and nothing of the attacker's.
    assert _applied(env, instance) == owners
    assert ATTACK not in _audit(env, instance) and "rejected" not in _audit(env, instance)
    # And no code anyone has seen is still good for anything.
    with db.read() as session:
        live = set(session.scalars(select(CodeRow.code_hash).where(CodeRow.spent_at.is_(None))))
    assert not {code_hash(s) for s in harvester.strings() if code_body(s)} & live
