"""The process under a real Prefect server (a subprocess server; never a mock): branch runs
suspended with forms, decisions through forms and the command line, the stores and Prefect
agreeing, the dashboard, and no personal token left readable in Prefect."""

from __future__ import annotations

import json
import os
import re

import pytest
from prefect import get_client
from prefect.states import Cancelled

from samverkan.tasks.forms import Overgang, request_fingerprint
from tests.browser import open_artifact
from tests.prefect_live import (INSTANCE, OFFICE, branch_runs, cli_here, everything_prefect_keeps, form_code, latest_states, pause_key,
                                resume, run_logs, serving, store_before_adoption, transition_events, wait_for)

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]

SIXTEEN = 16


def adoption_answer(code: str, paragraph: str = "§201", day: str = "2026-11-20", **changes) -> dict:
    answer = {"utfall": "Registrera antagande (Antaget)", "decision_date": day, "decision_body": "Kommunfullmäktige",
              "paragraph": paragraph, "agreement_outcome": "antagen", "contract_outcome": "antaget", "engangskod": code}
    answer.update(changes)
    return answer


@pytest.fixture(scope="module")
def live(prefect_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    env = {**os.environ, **prefect_server.environment(), "SAMVERKAN_HOME": str(folder / "home"),
           "SAMVERKAN_DATABASE_URL": f"sqlite:///{folder / 'samverkan.db'}"}
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR"):
        env.pop(name, None)
    token = store_before_adoption(env, folder)
    log = folder / "serve.log"
    with serving(env, log):
        yield env, token, log


def _store_state(env, party: str) -> str:
    import json

    status = json.loads(cli_here(env, "status", INSTANCE, "--json").stdout)
    return next(r["state"] for r in status["stages"] if r["id"] == "adoption" and r.get("party") == party)


def test_adoption_through_forms_and_the_command_line(live, prefect_server, browser_page, tmp_path):
    env, token, log = live
    # 16 branch runs, one per signatory, each suspended with its form.
    wait_for("16 suspended adoption runs", lambda: _all_in(latest_states(), "PAUSED"), log=log)
    runs = branch_runs()
    assert all(len(r) == 1 for r in runs.values())
    names = {party: r[0].name for party, r in runs.items()}
    assert names["asele"] == "adoption/asele · Åsele kommun" and names["vannas"].endswith("Vännäs kommun")

    # Three decisions through the forms.
    formed = ["asele", "vannas", "skelleftea"]
    for number, party in enumerate(formed, start=1):
        resume(runs[party][0].id, adoption_answer(form_code(env, token, party), paragraph=f"§{150 + number}"))
    wait_for("three form decisions recorded", lambda: all(_store_state(env, p) == "adopted" for p in formed), log=log)
    wait_for("their runs completed", lambda: all(latest_states()[p] == "COMPLETED" for p in formed), log=log)

    # Bad input through a form is refused in the run's log, changes nothing, and the run waits again.
    storuman = runs["storuman"][0].id
    audit_before = cli_here(env, "audit", INSTANCE, "--format", "json").stdout
    bad_answers = [
        ("wrong code", adoption_answer("7KQ2-XXXX-XXXX-XXXX"), "engångskoden gäller inte"),
        ("another party's code", adoption_answer(form_code(env, token, "sorsele")), "hör till ett annat beslut"),
        ("future date", adoption_answer(form_code(env, token, "storuman"), day="2027-02-01"), "ligger i framtiden"),
        ("no paragraph", adoption_answer(form_code(env, token, "storuman"), paragraph=""), "”Paragraf” saknas: fyll i ”Paragraf”"),
        # A split decision is not a "no" (a decision by the wrong body is no refusal: it is recorded with a warning).
        ("split as a no", adoption_answer(form_code(env, token, "storuman"), utfall="Registrera avslag (Ej antaget: parten "
                                          "står utanför)", contract_outcome="ej antaget"), "Det är ett delat beslut"),
    ]
    for attempt, (what, answer, reason) in enumerate(bad_answers, start=2):
        resume(storuman, answer)
        wait_for(f"the {what} refused and the run waiting again", lambda: pause_key(storuman) == f"beslut-{attempt}", log=log)
        wait_for(f"the reason for the {what} in the run's log", lambda: reason in run_logs(storuman), timeout=20, log=log)
    # A forged time (a field the form does not have) does not even reach the flow.
    with pytest.raises(Exception, match="(?i)422|valid|additional"):
        resume(storuman, {**adoption_answer("7KQ2-XXXX-XXXX-XXXX"), "at": "2026-01-01T00:00:00"})
    # Nor does a personal token: the code's field is too short to hold one.
    with pytest.raises(Exception, match="(?i)422|valid|long"):
        resume(storuman, adoption_answer(token))
    assert cli_here(env, "audit", INSTANCE, "--format", "json").stdout == audit_before
    assert _store_state(env, "storuman") == "ready"

    # A disagreement (a waiting run cancelled behind the store's back): doctor finds and repairs it.
    lycksele = runs["lycksele"][0].id
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(lycksele, Cancelled(message="avbruten i testet"), force=True)
    checked = cli_here(env, "doctor", INSTANCE, "--check", check=False)
    assert checked.returncode == 1 and "adoption/lycksele" in checked.stdout, checked.stdout + checked.stderr
    repaired = cli_here(env, "doctor", INSTANCE)
    assert "lagat" in repaired.stdout and "1 grenar skapade" in repaired.stdout, repaired.stdout
    assert [r.state_type.value for r in branch_runs()["lycksele"]] == ["CANCELLED", "PAUSED"]
    assert cli_here(env, "doctor", INSTANCE, "--check").returncode == 0

    # The rest through the command line; the watcher ends their runs.
    rest = sorted(set(runs) - set(formed))
    actor = {**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}
    for number, party in enumerate(rest, start=10):
        cli_here(actor, "transition", INSTANCE, "adoption", "--party", party, "--to", "adopted", "--at", "2026-11-20",
            "--field", "decision_date=2026-11-20", "--field", f"decision_body={'Regionfullmäktige' if party == 'region-vasterbotten' else 'Kommunfullmäktige'}",
            "--reference", f"§{number}", "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget")
    wait_for("all 16 runs completed", lambda: _all_in(latest_states(), "COMPLETED"), log=log)
    assert all(len([r for r in runs_of if r.state_type.value != "CANCELLED"]) == 1 for runs_of in branch_runs().values())

    # The adoption stage is done, signing is open, and the dashboard says so.
    wait_for("the dashboard's progress says 16 of 16", lambda: "16 av 16 har antagit" in _artifact("framsteg"), log=log)
    matrix = _artifact("antaganden")
    for name in ("Åsele kommun", "Vännäs kommun", "Skellefteå kommun", "Region Västerbotten"):
        assert name in matrix
    assert "§151" in matrix

    # The transition deployment: any transition from the UI, confirmed with a code for that run.
    asked = {"instans": INSTANCE, "steg": "signing", "part": "asele", "till": "done", "datum": "2026-11-23",
             "kommentar": "Undertecknat digitalt"}
    with get_client(sync_client=True) as client:  # what the UI's Run button does
        deployment = client.read_deployment_by_name("transition/samverkan")
        signing = client.create_flow_run_from_deployment(deployment.id, parameters={"overgang": asked})
    wait_for("the transition run asking for confirmation", lambda: pause_key(signing.id) == "bekraftelse-1", log=log)
    fingerprint = request_fingerprint(Overgang.model_validate(asked))
    assert fingerprint in json.dumps(everything_prefect_keeps([signing.id]))  # the form shows the command that gives the code
    resume(signing.id, {"engangskod": form_code(env, token, "asele", stage="signing", run=signing.id, request=fingerprint)})
    # Signing goes party by party: Åsele's is recorded, the stage waits for the others.
    wait_for("Åsele's signing recorded", lambda: _stage_state(env, "signing", "asele") == "done", log=log)
    assert _stage_state(env, "signing") != "done"

    # In a real browser: the adoption matrix, names right, as the office sees it.
    open_artifact(browser_page, prefect_server.ui_url, f"{INSTANCE}-antaganden")
    # The UI may draw the table again as it polls (CI once read the page between two drawings,
    # with the table gone): wait for what is looked for, not for any content.
    browser_page.wait_for_function("() => document.body.innerText.includes('16 av 16 har antagit')", timeout=30_000)
    shown = browser_page.inner_text("body")
    for name in ("Åsele kommun", "Vännäs kommun", "Skellefteå kommun"):
        assert name in shown, shown[:2000]
    assert "16 av 16 har antagit" in shown
    browser_page.screenshot(path=str(tmp_path / "antaganden.png"), full_page=True)
    assert (tmp_path / "antaganden.png").stat().st_size > 20_000

    # Every applied transition is one event in Prefect's feed, whichever door it came through.
    audit = json.loads(cli_here(env, "audit", INSTANCE, "--format", "json").stdout)["transitions"]
    applied = {t["seq"] for t in audit if t["outcome"] == "applied"}
    def all_events():
        found = [e for e in transition_events()  # this instance's: the session's server holds other tests' too
                 if e["resource"]["prefect.resource.id"] == f"samverkan.instance.{INSTANCE}"]
        return found if {event["payload"]["seq"] for event in found} == applied else None

    events = wait_for("an event per applied transition", all_events, log=log)
    assert len(events) == len(applied) and len({e["id"] for e in events}) == len(events)
    asele = next(e for e in events if e["payload"]["node"] == "adoption/asele")
    roles = {r["prefect.resource.role"]: r["prefect.resource.id"] for r in asele["related"]
             if r["prefect.resource.id"].startswith("samverkan.")}  # Prefect adds the run that emitted it
    assert asele["resource"]["prefect.resource.id"] == f"samverkan.instance.{INSTANCE}"
    assert roles == {"stage": "samverkan.stage.adoption", "party": "samverkan.party.asele", "from": "samverkan.state.ready",
                     "to": "samverkan.state.adopted", "actor": f"samverkan.actor.{OFFICE}"}

    # No token-shaped text anywhere Prefect keeps it.
    kept = everything_prefect_keeps([r.id for runs_of in branch_runs().values() for r in runs_of] + [signing.id])
    assert token not in kept and token[4:20] not in kept
    assert not re.search(r"svk_[A-Za-z0-9_-]{16,}", kept)


def _stage_state(env, stage: str, party: str | None = None) -> str:
    status = json.loads(cli_here(env, "status", INSTANCE, "--json").stdout)
    return next(r["state"] for r in status["stages"] if r["id"] == stage and r.get("party") == party)


def _all_in(states: dict[str, str], state: str) -> bool:
    return len(states) == SIXTEEN and set(states.values()) == {state}


def _artifact(kind: str) -> str:
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

        found = client.read_latest_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"{INSTANCE}-{kind}"])))
    parts = []
    for artifact in found:
        data = artifact.data
        if artifact.type == "table" and isinstance(data, str):
            data = json.loads(data)  # a table is stored as JSON text, with å, ä, ö escaped
        parts.append(json.dumps(data, ensure_ascii=False) + " " + str(artifact.description))
    return " ".join(parts)

