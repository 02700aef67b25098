"""One party's branch of a parallel stage (an adoption, an evaluation, a referral answer).

The run waits, suspended, with a form for the party's decision. Resumed with an answer, it
records the answer (once, under the run and the input's key), then deletes it from Prefect,
and ends; a refused answer is logged and the run waits again with the reason on its form. A
decision recorded through another door (the command line, the transition deployment) ends it
too. If the process dies anywhere in between, the process flow finds the run stranded and
finishes the job (tasks/stranded.py).
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from prefect.states import Failed

from samverkan.engine import kind_of
from samverkan.flows.process import after_transition
from samverkan.graph import Node
from samverkan.i18n import _
from samverkan.process_definitions.model import StateKind
from samverkan.sync import OPEN_KINDS
from samverkan.tasks.answers import last_attempt, waiting_answers
from samverkan.tasks.branch_runs import FORM, made_by_the_engine
from samverkan.tasks.decisions import describe, take_branch_answer
from samverkan.tasks.forms import form_model
from samverkan.tasks.liveness import mark_process
from samverkan.tasks.store import read_snapshot


@flow(name="branch", persist_result=False, log_prints=False,
      description="En parts gren i ett parallellt steg: väntar på partens beslut i ett formulär.")
def branch_flow(instance: str, stage: str, party: str) -> str:
    logger = get_run_logger()
    run_id = flow_run.get_id()
    mark_process(run_id)  # so that a run whose process dies is seen as stranded at once
    node = Node(stage, party)
    attempt = last_attempt(run_id, FORM)
    genuine = made_by_the_engine(run_id, instance, node)
    refusal = None
    # Every answer waiting, in the order Prefect received them: the first to show a code spends it.
    for key, raw in waiting_answers(run_id, FORM):
        changes, refusal = take_branch_answer(run_id, key, instance, node, raw, genuine=genuine)
        if refusal:
            logger.error(_("Avvisat, inget registrerades: {refusal}", refusal=refusal))
        elif changes:
            logger.info(_("Registrerat: {what}", what=describe(changes, instance)))
            after_transition(instance, logger)
        else:
            logger.info(_("Svaret var redan registrerat."))
    if not genuine:  # started by hand: it asks for nothing, and the engine's own run waits as before
        return Failed(message=_("Körningen är inte skapad av processen; grenens formulär finns i dess egen körning"))
    snapshot = read_snapshot(instance)
    current = snapshot.state[node]
    stage_def = snapshot.definition.stage(stage)
    kind = kind_of(snapshot.definition, stage_def, current.state)
    state_name = next(s.name for s in snapshot.definition.lifecycle(stage_def.lifecycle).states if s.id == current.state)
    if kind in (StateKind.done, StateKind.failed):
        return _("Registrerat: {what}", what=state_name)
    if kind not in OPEN_KINDS:
        return _("Grenen är inte öppen för beslut ({state})", state=state_name)
    logger.info(_("Väntar på beslut: {state}", state=state_name))
    suspend_flow_run(wait_for_input=form_model(snapshot, node, refusal), key=f"{FORM}-{attempt + 1}", timeout=None)
    return "unreachable"  # suspend_flow_run ends this process; the run starts over when resumed
