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
from samverkan.graph import Node
from samverkan.i18n import _
from samverkan.names import node_name, state_name
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
        logger.error(_("Avvisat, inget registrerades: {refusal}", refusal=one_line(refused)))
        return Failed(message=_("Avvisat: {refusal}", refusal=one_line(refused)))
    if not last_attempt(run_id, FORM):
        suspend_flow_run(wait_for_input=Bekraftelse.with_initial_data(description=confirmation_text(overgang, run_id)),
                         key=f"{FORM}-1", timeout=24 * 3600)
    changes, refusal = take_transition_answers(run_id, overgang, waiting_answers(run_id, FORM))
    if refusal:
        logger.error(_("Avvisat, inget registrerades: {refusal}", refusal=refusal))
        return Failed(message=_("Avvisat: {refusal}", refusal=refusal))
    recorded = describe(changes, overgang.instans) or _("redan registrerat")
    logger.info(_("Registrerat: {what}", what=recorded))
    if changes:
        after_transition(overgang.instans, logger)
    return recorded


def confirmation_text(overgang: Overgang, run_id: object) -> str:
    """The confirmation form's text: what is asked, and how to get the code for this run."""
    where = f" --party {overgang.part}" if overgang.part else ""
    command = (f"samverkan token code DIN-E-POST --instance {overgang.instans} --stage {overgang.steg}{where} --run {run_id} "
               f"--request {request_fingerprint(overgang)}")
    return "\n\n".join([
        _("## Bekräfta: {request}", request=_requested(overgang)),
        _("Ange en engångskod för just den här körningen. Kansliet ger dig en med"),
        f"`{command}`",
        _("Koden gäller bara den här begäran: ändras något i körningens parametrar gäller den inte. "
          "Koden gäller bara den här körningen och bara en gång. Skriv aldrig din personliga kod här: "
          "allt som skrivs i ett formulär kan läsas av alla som ser översikten."),
    ])


def _requested(overgang: Overgang) -> str:
    """The request by name where the definition knows it ("Antagande … (Umeå kommun) → Antaget");
    as typed where it does not (the run is refused before anyone is asked, in that case)."""
    try:
        definition = read_snapshot(overgang.instans).definition
        node = Node(overgang.steg, overgang.part or None)
        return f"{node_name(definition, node)} → {state_name(definition, overgang.steg, overgang.till)}"
    except (SamverkanError, KeyError, StopIteration, ValueError):
        return f"{overgang.steg}{'/' + overgang.part if overgang.part else ''} → {overgang.till}"
