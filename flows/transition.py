"""The transition deployment: record any transition from the Prefect UI.

Its parameters are the request, as `samverkan transition` takes it. The personal token is not a
parameter (Prefect keeps and shows parameters for ever): the run suspends and asks for the
actor's e-mail and token in a form whose answer is deleted as soon as it is read.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from prefect.states import Failed
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from samverkan.actors import authenticate
from samverkan.clock import clock_from_env, parse_moment
from samverkan.engine import TransitionRequest, resolve
from samverkan.errors import SamverkanError
from samverkan.flows.answers import last_attempt, take_answer
from samverkan.flows.messages import form_refusal, one_line
from samverkan.flows.process import after_transition
from samverkan.tasks.decisions import apply_transition_task
from samverkan.tasks.store import database, read_snapshot
from samverkan.text import MAX_EMAIL, MAX_FIELD_VALUE, MAX_REASON, MAX_REFERENCE, MAX_SLUG, MAX_TOKEN

FORM = "bekraftelse"


class Overgang(BaseModel):
    """A transition as the UI's parameter form asks for it (the same as the command line's)."""

    model_config = ConfigDict(extra="forbid")
    instans: str = Field(title="Processinstans", max_length=100, description="T.ex. samverkan-2027-2030.")
    steg: str = Field(title="Steg", max_length=MAX_SLUG, description="Stegets id, t.ex. adoption eller drafting.")
    part: Optional[str] = Field(None, title="Part", max_length=MAX_SLUG, description="Partens id, för ett parallellt steg, t.ex. asele.")
    till: str = Field(title="Nytt läge", max_length=MAX_SLUG, description="Läget att gå till, t.ex. adopted eller done.")
    datum: Optional[dt.date] = Field(None, title="Datum då det skedde", description="Lämnas tomt för i dag. Aldrig i framtiden.")
    kommentar: Optional[str] = Field(None, title="Kommentar till diariet", max_length=MAX_REASON)
    referens: Optional[str] = Field(None, title="Paragraf eller referens", max_length=MAX_REFERENCE, description="T.ex. §187.")
    falt: dict[str, str] = Field(default_factory=dict, title="Fält att registrera",
                                 description='T.ex. {"decision_date": "2026-11-20", "decision_body": "Kommunfullmäktige"}.')


class Bekraftelse(RunInput):
    e_post: str = Field(title="Din e-postadress", max_length=MAX_EMAIL)
    personlig_kod: str = Field(title="Din personliga kod", max_length=MAX_TOKEN,
                               description="Koden (svk_…) som kansliet har gett dig. Den raderas ur Prefect så snart den har lästs.",
                               json_schema_extra={"format": "password", "writeOnly": True})


def _request(overgang: Overgang) -> TransitionRequest:
    for key, value in overgang.falt.items():
        if len(key) > MAX_SLUG or len(value) > MAX_FIELD_VALUE:
            raise SamverkanError(f"falt: the field {key[:MAX_SLUG]!r} or its value is too long")
    now = clock_from_env().now()
    at = parse_moment(overgang.datum.isoformat(), "datum") if overgang.datum else now
    return TransitionRequest(stage=overgang.steg, party=overgang.part or None, to=overgang.till, at=at,
                             reason=overgang.kommentar or None, reference=overgang.referens or None, fields=dict(overgang.falt))


@flow(name="transition", flow_run_name="overgang-{overgang.instans}-{overgang.steg}", persist_result=True,
      description="Registrera en övergång i processen, med samma regler som `samverkan transition`.")
def transition_flow(overgang: Overgang):
    logger = get_run_logger()
    run_id = flow_run.get_id()
    try:
        request = _request(overgang)
        # An unknown instance, stage or party fails now, before anyone is asked for a token.
        resolve(read_snapshot(overgang.instans).definition, request)
    except SamverkanError as refused:
        logger.error("Avvisat, inget registrerades: %s", one_line(refused))
        return Failed(message=f"Avvisat: {one_line(refused)}")
    attempt = last_attempt(run_id, FORM)
    if not attempt:
        suspend_flow_run(wait_for_input=Bekraftelse.with_initial_data(
            description=f"## Bekräfta: {request.stage}{'/' + request.party if request.party else ''} → {request.to}\n\n"
                        "Ange din e-postadress och din personliga kod. Koden raderas ur Prefect så snart den har lästs."),
            key=f"{FORM}-1", timeout=24 * 3600)
    raw = take_answer(run_id, FORM, max(attempt, 1))
    try:
        if raw is None:
            raise SamverkanError("ingen bekräftelse gavs")
        try:
            answer = Bekraftelse.model_validate_json(raw)
        except ValidationError as error:
            raise SamverkanError(form_refusal(error)) from None
        actor = authenticate(database(), answer.e_post, answer.personlig_kod)
        changes = apply_transition_task(overgang.instans, request, actor)
    except SamverkanError as refused:
        logger.error("Avvisat, inget registrerades: %s", one_line(refused))
        return Failed(message=f"Avvisat: {one_line(refused)}")
    recorded = ", ".join(f"{c.node.key}: {c.before} → {c.after.state}" for c in changes)
    logger.info("Registrerat: %s", recorded)
    after_transition(overgang.instans, logger)
    return recorded
