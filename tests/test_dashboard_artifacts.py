"""Publishing the dashboard as Prefect artifacts, against a real Prefect server (the
`prefect_server` fixture: a throw-away server process), read back through Prefect's client."""

from __future__ import annotations

import json
import re
import threading
import warnings

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey, ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from samverkan.dashboard.content import dashboard
from samverkan.tasks.dashboard import ARTIFACT_KINDS, artifact_key, publish_dashboard, publish_dashboard_task
from tests.illustrative import AT, illustrative

ADOPTED_BY_STORUMAN = -1  # the history's last transition


def _dashboard(definition, instance_id, keep=None):
    state, mark = illustrative(definition, keep)
    return dashboard(definition, state, AT, instance_id, [mark])


def _latest(keys):
    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=keys)))
    return {a.key: a for a in found}


def _history(key):
    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC)


def test_keys_are_stable_and_only_use_what_prefect_allows():
    assert artifact_key("samverkan-2027-2030", "antaganden") == "samverkan-2027-2030-antaganden"
    odd = [artifact_key(i, "steg") for i in ("Umeå Ärende", "umeå ärende", "umea-arende")]
    assert all(re.fullmatch(r"[a-z0-9-]+", k) for k in odd)
    assert len(set(odd)) == 3  # folding to ASCII must not make two instances share a dashboard
    assert artifact_key("Umeå Ärende", "steg") == odd[0]
    with pytest.raises(ValueError, match="unknown dashboard artifact 'status'"):
        artifact_key("samverkan-2027-2030", "status")


def test_publishing_twice_keeps_the_latest_under_each_key_and_both_in_its_history(prefect_server, default_definition):
    instance = "tva-versioner"
    earlier = _dashboard(default_definition, instance, keep=ADOPTED_BY_STORUMAN)
    now = _dashboard(default_definition, instance)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        first = publish_dashboard(earlier)  # outside any flow or task run
        second = publish_dashboard(now)
    assert not [w for w in seen if "outside of a flow or task run" in str(w.message)]
    assert list(first) == list(second) == list(ARTIFACT_KINDS)

    keys = {kind: artifact_key(instance, kind) for kind in ARTIFACT_KINDS}
    latest = _latest(list(keys.values()))
    assert {kind: latest[key].latest_id for kind, key in keys.items()} == second
    for kind, key in keys.items():
        history = _history(key)
        assert [a.id for a in history] == [second[kind], first[kind]], kind
        marked = latest[key].data if kind == "oversikt" else latest[key].description
        assert marked.lstrip("> ").startswith("**EXEMPEL: påhittade beslut, inte det offentliga diariet."), kind

    overview = latest[keys["oversikt"]]
    # Its text leads with the marks: the description above it does not say them a second time.
    assert "EXEMPEL" not in overview.description and overview.description.startswith("Översikt: var processen står")
    assert overview.type == "markdown" and overview.data == now.summary_markdown
    assert "1 av 16 har antagit" in overview.data and "Skellefteå kommun" in overview.data
    progress = latest[keys["framsteg"]]
    assert progress.type == "progress" and progress.data == pytest.approx(6.25)
    assert "Antaganden: 1 av 16 har antagit (6 %)" in progress.description
    assert [a.data for a in _history(keys["framsteg"])] == [pytest.approx(6.25), pytest.approx(0.0)]

    matrix = json.loads(latest[keys["antaganden"]].data)
    assert matrix == now.matrix
    storuman = next(row for row in matrix if row["Part"] == "Storumans kommun")
    assert (storuman["Paragraf"], storuman["Status"]) == ("§147", "Antaget")
    earlier_storuman = next(row for row in json.loads(_history(keys["antaganden"])[1].data) if row["Part"] == "Storumans kommun")
    assert earlier_storuman["Paragraf"] == "–"
    assert json.loads(latest[keys["steg"]].data) == now.stages
    assert json.loads(latest[keys["tidslinje"]].data) == now.timeline
    forecast = latest[keys["prognos"]]
    assert json.loads(forecast.data) == now.forecast and now.forecast[0]["Läge"] == "i fas"  # on 23 November all is on plan
    assert "sammanträdesdagarna för 16 parter är påhittade exempel" in forecast.description  # the calendars' mark too
    register = latest[keys["diarium"]]  # the decision register, as `samverkan audit --register` has it
    assert json.loads(register.data) == now.register and len(now.register) == 16
    assert "Processens diarienummer: inte angivet. Beslutsregister per part" in register.description


def test_a_watcher_thread_outside_any_run_can_publish(prefect_server, default_definition):
    dash = _dashboard(default_definition, "fran-en-trad")
    result: dict = {}
    watcher = threading.Thread(target=lambda: result.update(publish_dashboard(dash)))
    watcher.start()
    watcher.join(timeout=60)
    assert set(result) == set(ARTIFACT_KINDS)
    overview = _history(artifact_key("fran-en-trad", "oversikt"))[0]
    assert overview.id == result["oversikt"] and overview.flow_run_id is None and overview.task_run_id is None


def test_inside_a_flow_the_artifacts_belong_to_the_run(prefect_server, default_definition):
    dash = _dashboard(default_definition, "i-ett-flode")

    @flow(name="dashboard-test")
    def publish_in_a_flow():
        return publish_dashboard_task(dash), publish_dashboard_task(dash)  # never cached

    first, second = publish_in_a_flow()
    assert first != second
    matrix = _history(artifact_key("i-ett-flode", "antaganden"))
    assert [a.id for a in matrix] == [second["antaganden"], first["antaganden"]]
    assert matrix[0].flow_run_id is not None and matrix[0].task_run_id is not None
    assert json.loads(matrix[0].data) == dash.matrix
