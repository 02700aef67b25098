"""One party's branch of a parallel stage (an adoption, an evaluation, a referral answer).

The run waits, suspended, with a form for the party's decision. Resumed with an answer, it
reads the answer (deleting it from Prefect at once), records it through the same rules as
`samverkan transition`, and ends; a refused answer is logged and the run waits again. A decision
recorded through another door (the command line, the transition deployment) ends it too.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from pydantic import ValidationError

from samverkan.actors import authenticate
from samverkan.clock import clock_from_env
from samverkan.decisions import CREDENTIALS, EMAIL, TOKEN, Form, form_for, request_from_answer
from samverkan.engine import kind_of
from samverkan.errors import SamverkanError
from samverkan.flows.answers import last_attempt, take_answer
from samverkan.tasks.forms import answer_values, form_model, input_model
from samverkan.flows.messages import form_refusal, one_line
from samverkan.flows.process import after_transition
from samverkan.graph import Node
from samverkan.process_definitions.model import StateKind
from samverkan.sync import OPEN_KINDS
from samverkan.tasks.branch_runs import FORM
from samverkan.tasks.decisions import apply_transition_task
from samverkan.tasks.store import Snapshot, database, read_snapshot


def _record(snapshot: Snapshot, node: Node, form: Form, raw: str) -> str:
    """Record one answer; a SamverkanError (one line, in the log) if it is refused."""
    model = input_model(form, "")
    try:
        answer = answer_values(model, raw)
    except ValidationError as error:
        raise SamverkanError(form_refusal(error)) from None
    actor = authenticate(database(), answer[EMAIL], answer[TOKEN])
    answer = {key: value for key, value in answer.items() if key not in CREDENTIALS}
    request = request_from_answer(snapshot.definition, form, answer, clock_from_env().now())
    changes = apply_transition_task(snapshot.instance_id, request, actor)
    return ", ".join(f"{c.node.key}: {c.before} → {c.after.state}" for c in changes)


@flow(name="branch", persist_result=True, log_prints=False,
      description="En parts gren i ett parallellt steg: väntar på partens beslut i ett formulär.")
def branch_flow(instance: str, stage: str, party: str) -> str:
    logger = get_run_logger()
    run_id = flow_run.get_id()
    node = Node(stage, party)
    attempt = last_attempt(run_id, FORM)
    refusal = None
    if attempt:
        raw = take_answer(run_id, FORM, attempt)
        if raw is not None:
            snapshot = read_snapshot(instance)
            try:
                recorded = _record(snapshot, node, form_for(snapshot.definition, node, snapshot.state[node]), raw)
            except SamverkanError as refused:
                refusal = one_line(refused)
                logger.error("Avvisat, inget registrerades: %s", refusal)
            else:
                logger.info("Registrerat: %s", recorded)
                after_transition(instance, logger)
    snapshot = read_snapshot(instance)
    current = snapshot.state[node]
    stage_def = snapshot.definition.stage(stage)
    kind = kind_of(snapshot.definition, stage_def, current.state)
    state_name = next(s.name for s in snapshot.definition.lifecycle(stage_def.lifecycle).states if s.id == current.state)
    if kind in (StateKind.done, StateKind.failed):
        return f"Registrerat: {state_name}"
    if kind not in OPEN_KINDS:
        return f"Grenen är inte öppen för beslut ({state_name})"
    logger.info("Väntar på beslut: %s", state_name)
    suspend_flow_run(wait_for_input=form_model(snapshot, node, refusal), key=f"{FORM}-{attempt + 1}", timeout=None)
    return "unreachable"  # suspend_flow_run ends this process; the run starts over when resumed
