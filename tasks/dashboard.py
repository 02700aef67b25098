"""The flow dashboard as Prefect artifacts: one per kind and instance, under a stable key, so
the UI's artifact page shows the latest and keeps every earlier version as its history.

Works inside a flow or task run and outside any (a plain call, a watcher thread). Outside a
run, Prefect 3.8's `create_*_artifact` helpers warn that this is deprecated and leave a
client's socket open per call, so there the same artifact goes to the API through a client
this module opens and closes itself."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NONE
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, create_table_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import ArtifactCreate
from prefect.context import get_run_context
from prefect.exceptions import MissingContextError

from samverkan.dashboard.content import Dashboard
from samverkan.dashboard.markdown import md_text
from samverkan.dashboard.notices import notices_table, notices_text
from samverkan.i18n import N_, _
from samverkan.text import SLUG

ARTIFACT_KINDS = ("oversikt", "steg", "antaganden", "framsteg", "tidslinje", "prognos", "diarium")
NOTICES_KIND = "utskick"  # published with the dashboard and by every sweep
ODDS_KIND = "sannolikhet"  # published by the odds flow (a thousand simulated runs: not on every transition)
OPERATIONS_KIND = "drift"  # published when the process flow finds runs whose process died

_DESCRIPTIONS = {  # catalogue texts: shown with _
    "oversikt": N_("Översikt: var processen står; avslag och förseningar först, sedan vad som väntar på vem"),
    "steg": N_("Alla steg och grenar: status, ansvarig, sista dag, dagar kvar och vad de väntar på; avslag och "
               "förseningar först"),
    "antaganden": N_("Varje parts beslut: utfall, beslutande organ, datum och paragraf"),
    "tidslinje": N_("Planerat mot faktiskt per steg och gren"),
    "prognos": N_("Prognos per part: väntat beslutssammanträde, sista möjliga, marginal i möten; parter i riskzonen och "
                  "utanför först, med orsak"),
    "utskick": N_("E-postutskick: misslyckade först, med orsak; sedan köade och skickade"),
    "sannolikhet": N_("Sannolikhet per part att besluta före den hårda sista dagen, ur simulerade förlopp från dagens "
                      "läge; minst sannolika först"),
    "drift": N_("Driften: körningar i Prefect som stod utan process (en arbetare eller maskin dog) och vad som gjordes; "
                "inget beslut förloras, varje svar registreras en gång"),
    "diarium": N_("Beslutsregister per part: beslutande organ, datum, paragraf, diarienummer, utfall, justering, anslag, "
                  "laga kraft, protokollsutdrag och undertecknande (samma som `samverkan audit --register`)"),
}


def _slug(instance_id: str) -> str:
    """An instance id is a slug already; anything else is folded to one, with a hash of the
    original so that two ids never share a key (and overwrite each other's dashboard)."""
    if SLUG.fullmatch(instance_id):
        return instance_id
    ascii_only = unicodedata.normalize("NFKD", instance_id).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:60] or "instans"
    return f"{base}-{hashlib.sha256(instance_id.encode()).hexdigest()[:8]}"


def artifact_key(instance_id: str, kind: str) -> str:
    """Prefect artifact keys allow only a–z, 0–9 and dashes, and are global: the instance is in it."""
    kinds = (*ARTIFACT_KINDS, NOTICES_KIND, ODDS_KIND, OPERATIONS_KIND)
    if kind not in kinds:
        raise ValueError(f"unknown dashboard artifact {kind!r}; the kinds are: {', '.join(kinds)}")
    return f"{_slug(instance_id)}-{kind}"


def _description(dash: Dashboard, text: str) -> str:
    # The UI renders a description as Markdown above the artifact: the marks are read first.
    return "\n\n".join([*(f"**{md_text(mark)}**" for mark in dash.marks), text])


def _in_run() -> bool:
    try:
        get_run_context()
    except MissingContextError:
        return False
    return True


def _create(artifact_type: str, key: str, description: str, data: Any) -> UUID:
    if _in_run():
        # _sync=True: called from an async flow, the helpers would hand back an unawaited coroutine.
        if artifact_type == "progress":
            return create_progress_artifact(data, key=key, description=description, _sync=True)
        if artifact_type == "table":
            return create_table_artifact(data, key=key, description=description, _sync=True)
        return create_markdown_artifact(data, key=key, description=description, _sync=True)
    # The payload the helpers send: a table as JSON text, a markdown text, a progress number.
    payload = ArtifactCreate(type=artifact_type, key=key, description=description,
                             data=json.dumps(data) if artifact_type == "table" else data)
    with get_client(sync_client=True) as client:
        return client.create_artifact(payload).id


def publish_dashboard(dash: Dashboard) -> dict[str, UUID]:
    """Creates the artifacts of an instance's dashboard, each a new version under its
    key; returns their ids by kind."""
    def create(kind: str, artifact_type: str, description: str, data: Any) -> UUID:
        return _create(artifact_type, artifact_key(dash.instance_id, kind), _description(dash, description), data)

    progress = f"{dash.progress.text} ({round(dash.progress.fraction * 100)} %)"
    return {
        # The overview's text leads with the marks itself: above it they would be read twice.
        "oversikt": _create("markdown", artifact_key(dash.instance_id, "oversikt"), _(_DESCRIPTIONS["oversikt"]), dash.summary_markdown),
        "steg": create("steg", "table", _(_DESCRIPTIONS["steg"]), dash.stages),
        "antaganden": create("antaganden", "table", f"{progress}. {_(_DESCRIPTIONS['antaganden'])}", dash.matrix),
        "framsteg": create("framsteg", "progress", _("Antaganden: {progress}", progress=progress), dash.progress.fraction * 100),
        "tidslinje": create("tidslinje", "table", _(_DESCRIPTIONS["tidslinje"]), dash.timeline),
        "prognos": create("prognos", "table", _(_DESCRIPTIONS["prognos"]),
                          dash.forecast or [{_("Part"): _("Inget steg beslutas på sammanträden")}]),
        "diarium": create("diarium", "table", f"Processens diarienummer: {md_text(dash.registration_number) if dash.registration_number else 'inte angivet'}. "
                                              f"{_(_DESCRIPTIONS['diarium'])}", dash.register or [{_("Part"): "Inga parter"}]),
    }


def publish_notices(instance_id: str, marks: Sequence[str], rows: Sequence[dict], counts: dict[str, int],
                    stopped: str | None = None) -> UUID:
    """The notices artifact: sent, queued and failed, with reasons; failures first. `stopped`:
    why the last sweep stopped trying (the mail server could not be reached), said first."""
    marks_text = [f"**{md_text(mark)}**" for mark in marks]
    stop_text = [_("**Utskicket slutade försöka:** {reason}", reason=md_text(stopped))] if stopped else []
    description = "\n\n".join([*marks_text, *stop_text, f"{notices_text(counts)}. {_(_DESCRIPTIONS['utskick'])}"])
    table = notices_table(rows) or [{_("Tillstånd"): _("Inga utskick ännu")}]
    return _create("table", artifact_key(instance_id, NOTICES_KIND), description, table)


def publish_odds(instance_id: str, table: Sequence[dict], markdown: str) -> UUID:
    """The odds artifact: the table per party, with the text it leads with (marks first, then
    the parties not certain to make it, then the whole process) as its description."""
    description = f"{markdown.rstrip()}\n\n{_(_DESCRIPTIONS[ODDS_KIND])}"
    return _create("table", artifact_key(instance_id, ODDS_KIND), description, list(table) or [{_("Part"): _("Inga parter")}])


def publish_operations(instance_id: str, when: str, lines: Sequence[str]) -> UUID:
    """The operations artifact: what the last recovery of stranded runs found and did."""
    text = "\n".join([_("## Återställda körningar {when}", when=md_text(when)), "",
                      *(f"- {md_text(line)}" for line in lines), "",
                      _("Varje svar registrerades högst en gång och raderades sedan ur Prefect. En gren som fortfarande "
                        "väntar på beslut har fått ett nytt formulär.")])
    return _create("markdown", artifact_key(instance_id, OPERATIONS_KIND), _(_DESCRIPTIONS[OPERATIONS_KIND]), text)


# Never cached: a dashboard published twice with the same content is two versions, on purpose.
@task(name="publicera-dashboard", cache_policy=NONE)
def publish_dashboard_task(dash: Dashboard) -> dict[str, UUID]:
    """Inside a flow: the artifacts are linked to this task run and its flow run as well."""
    return publish_dashboard(dash)
