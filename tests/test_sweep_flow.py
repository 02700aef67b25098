"""The sweep under Prefect, against a real Prefect server and a real SMTP server: the
deployment's schedule, a run that delivers and publishes the notices artifact, and a run that
cannot get mail through (it fails, so Prefect retries it; the notices wait in the outbox)."""

from __future__ import annotations

import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

from samverkan.asyncrun import run_async
from samverkan.flows.deployments import deployments
from samverkan.flows.sweep import RETRIES, MailNotThrough, sweep_flow
from samverkan.tasks.dashboard import artifact_key

from tests.test_notice_faults import adoption_store  # noqa: F401 - the fixture

pytestmark = pytest.mark.prefect


def test_the_sweep_is_deployed_for_weekdays_at_eight_in_stockholm_with_retries():
    made = run_async(deployments())  # every deployment is named "samverkan": told apart by flow
    sweep = next(d for d in made if d.flow_name == "sweep")
    [schedule] = sweep.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 8 * * 1-5", "Europe/Stockholm")
    assert sweep_flow.retries == RETRIES >= 2 and sweep_flow.retry_delay_seconds >= 60


def _notices_table(instance: str) -> tuple[list[dict], str]:
    key = artifact_key(instance, "utskick")
    with get_client(sync_client=True) as client:
        [latest] = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=[key])))
    return json.loads(latest.data), latest.description


@pytest.mark.parametrize("adoption_store", ["sqlite"], indirect=True)
def test_a_sweep_run_delivers_and_shows_what_it_sent_and_what_waits(prefect_server, adoption_store, monkeypatch, mail_server):
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-02T08:00:00")
    mail_server.stop()
    with pytest.raises(MailNotThrough):
        sweep_flow.with_options(retries=0)()
    waiting, description = _notices_table("vb")
    assert {row["Tillstånd"] for row in waiting} == {"köad"} and "köade" in description
    assert all("Connection refused" in row["Orsak"] for row in waiting)

    mail_server.start()
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-03T08:00:00")
    summary = sweep_flow.with_options(retries=0)()
    sent, description = _notices_table("vb")
    assert {row["Tillstånd"] for row in sent} == {"skickad"} and len(mail_server.received) == len(sent)
    assert f"{len(sent)} skickade" in description and f"{len(sent)} skickade" in summary
