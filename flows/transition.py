"""The transition deployment: record any transition from the Prefect UI.

Its parameters are the request, as `samverkan transition` takes it. The personal token is not a
parameter (Prefect keeps and shows parameters for ever): the run suspends and asks for the
actor's e-mail and token in a form whose answer is recorded once and then deleted.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from prefect.states import Failed

from samverkan.engine import resolve
from samverkan.errors import SamverkanError
from samverkan.flows.process import after_transition
from samverkan.tasks.answers import last_attempt, read_answer, response_key
from samverkan.tasks.decisions import describe, take_transition_answer
from samverkan.tasks.forms import Bekraftelse, Overgang, transition_request
from samverkan.tasks.liveness import mark_process
from samverkan.tasks.messages import one_line
from samverkan.tasks.store import read_snapshot

FORM = "bekraftelse"


@flow(name="transition", flow_run_name="overgang-{overgang.instans}-{overgang.steg}", persist_result=False,
      description="Registrera en övergång i processen, med samma regler som `samverkan transition`.")
def transition_flow(overgang: Overgang):
    logger = get_run_logger()
    run_id = flow_run.get_id()
    mark_process(run_id)
    try:
        request = transition_request(overgang)
        # An unknown instance, stage or party fails now, before anyone is asked for a token.
        resolve(read_snapshot(overgang.instans).definition, request)
    except SamverkanError as refused:
        logger.error("Avvisat, inget registrerades: %s", one_line(refused))
        return Failed(message=f"Avvisat: {one_line(refused)}")
    attempt = last_attempt(run_id, FORM)
    if not attempt:
        suspend_flow_run(wait_for_input=Bekraftelse.with_initial_data(
            description=f"## Bekräfta: {request.stage}{'/' + request.party if request.party else ''} → {request.to}\n\n"
                        "Ange din e-postadress och din personliga kod. Koden raderas ur Prefect så snart övergången "
                        "är registrerad."),
            key=f"{FORM}-1", timeout=24 * 3600)
    key = response_key(FORM, max(attempt, 1))
    raw = read_answer(run_id, key)
    if raw is None:
        logger.error("Avvisat, inget registrerades: ingen bekräftelse gavs")
        return Failed(message="Avvisat: ingen bekräftelse gavs")
    changes, refusal = take_transition_answer(run_id, key, overgang, raw)
    if refusal:
        logger.error("Avvisat, inget registrerades: %s", refusal)
        return Failed(message=f"Avvisat: {refusal}")
    recorded = describe(changes) or "redan registrerat"
    logger.info("Registrerat: %s", recorded)
    if changes:
        after_transition(overgang.instans, logger)
    return recorded
