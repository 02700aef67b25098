"""A form's answer is recorded under a key (its run and input) before Prefect deletes it: the
same key again records nothing, whether the first attempt was applied or refused. On SQLite
and PostgreSQL alike."""

from __future__ import annotations

import json

import pendulum
import pytest

from samverkan import instances
from samverkan.actors import authenticate
from samverkan.clock import clock_from_env
from samverkan.engine import TransitionRefused, TransitionRequest
from samverkan.store.database import Database
from tests.cli_helpers import run_cli
from tests.test_store_safety import DIRECTOR, adoption_phase  # noqa: F401 - fixture

KEY = "prefect:0b6c1a52-0000-4000-8000-000000000001/suspended-beslut-1-response"


def adopt(party: str) -> TransitionRequest:
    day = pendulum.datetime(2026, 11, 20, tz="Europe/Stockholm")
    return TransitionRequest(stage="adoption", party=party, to="adopted", at=day, reference="§187",
                             fields={"decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige",
                                     "agreement_outcome": "antagen", "contract_outcome": "antaget"})


def audit(capsys, instance: str) -> list[dict]:
    return json.loads(run_cli(capsys, "audit", instance, "--format", "json").out)["transitions"]


def test_the_same_answer_twice_is_recorded_once(adoption_phase, capsys):  # noqa: F811
    db = Database(adoption_phase["url"])
    actor = authenticate(db, DIRECTOR, adoption_phase["token"])
    before = len(audit(capsys, "vb"))
    first = instances.transition(db, "vb", adopt("skelleftea"), actor, clock_from_env(), key=KEY)
    assert [c.after.state for c in first if not c.automatic] == ["adopted"]
    after_first = audit(capsys, "vb")
    # The process died before the answer was deleted; the next attempt records nothing.
    assert instances.transition(db, "vb", adopt("skelleftea"), actor, clock_from_env(), key=KEY) == []
    assert audit(capsys, "vb") == after_first and len(after_first) > before
    # Another key is another answer: met by the engine (and refused, the branch being decided).
    with pytest.raises(TransitionRefused):
        instances.transition(db, "vb", adopt("skelleftea"), actor, clock_from_env(), key=KEY + "-2")
    db.close()


def test_a_refusal_recorded_under_a_key_is_met_again_not_recorded_again(adoption_phase, capsys):  # noqa: F811
    db = Database(adoption_phase["url"])
    office = authenticate(db, DIRECTOR, adoption_phase["token"])
    issued = run_cli(capsys, "token", "issue", "ks@umea.example.org", "--role", "party-contact", "--party", "umea",
                     "--actor", DIRECTOR, "--token", adoption_phase["token"])
    outsider = authenticate(db, "ks@umea.example.org", issued.out.strip().splitlines()[-1])
    assert office.email == DIRECTOR
    with pytest.raises(TransitionRefused, match=r"får inte ändra Antagande av överenskommelse och samverkansavtal \(Skellefteå kommun\)") as first:
        instances.transition(db, "vb", adopt("skelleftea"), outsider, clock_from_env(), key=KEY)
    rows = audit(capsys, "vb")
    assert [r["outcome"] for r in rows].count("refused") == 1
    with pytest.raises(TransitionRefused) as again:
        instances.transition(db, "vb", adopt("skelleftea"), outsider, clock_from_env(), key=KEY)
    assert str(again.value) == str(first.value)
    assert audit(capsys, "vb") == rows
    db.close()
