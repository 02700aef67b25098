"""The transition deployment: record any transition from the Prefect UI.

Its parameters are the request, as `samverkan transition` takes it. No personal token ever
reaches Prefect (which shows parameters and answers to every viewer): the run suspends and
asks for a one-time code the office issues for this very run (`samverkan token code … --run`),
spent by its first use; the answer is recorded once and then deleted.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from prefect.states import Failed

from samverkan.engine import resolve
from samverkan.errors import SamverkanError
from samverkan.flows.process import after_transition
from samverkan.tasks.answers import last_attempt, waiting_answers
from samverkan.tasks.decisions import describe, take_transition_answers
from samverkan.tasks.forms import Bekraftelse, Overgang, request_fingerprint, transition_request
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
    if not last_attempt(run_id, FORM):
        suspend_flow_run(wait_for_input=Bekraftelse.with_initial_data(description=confirmation_text(overgang, run_id)),
                         key=f"{FORM}-1", timeout=24 * 3600)
    changes, refusal = take_transition_answers(run_id, overgang, waiting_answers(run_id, FORM))
    if refusal:
        logger.error("Avvisat, inget registrerades: %s", refusal)
        return Failed(message=f"Avvisat: {refusal}")
    recorded = describe(changes) or "redan registrerat"
    logger.info("Registrerat: %s", recorded)
    if changes:
        after_transition(overgang.instans, logger)
    return recorded


def confirmation_text(overgang: Overgang, run_id: object) -> str:
    """The confirmation form's text: what is asked, and how to get the code for this run."""
    where = f" --party {overgang.part}" if overgang.part else ""
    return (f"## Bekräfta: {overgang.steg}{'/' + overgang.part if overgang.part else ''} → {overgang.till}\n\n"
            "Ange en engångskod för just den här körningen. Kansliet ger dig en med\n\n"
            f"`samverkan token code DIN-E-POST --instance {overgang.instans} --stage {overgang.steg}{where} --run {run_id} "
            f"--request {request_fingerprint(overgang)}`\n\n"
            "Koden gäller bara den här begäran: ändras något i körningens parametrar gäller den inte. "
            "Koden gäller bara den här körningen och bara en gång. Skriv aldrig din personliga kod här: "
            "allt som skrivs i ett formulär kan läsas av alla som ser översikten.")
