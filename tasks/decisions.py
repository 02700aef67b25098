"""Record a decision that came through a Prefect form, with exactly the rules of the command
line (the same authentication, the same engine, the same single transaction), and at most
once: every answer is recorded under a key made of its run and its input, before the answer
is deleted from Prefect. The branch flow, the transition flow and the recovery of a stranded
run (tasks/stranded.py) all take an answer through `take_branch_answer` or
`take_transition_answer`, so a crash anywhere only means the next of them finishes the job."""

from __future__ import annotations

import json
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import ValidationError
from sqlalchemy import select

from samverkan import instances
from samverkan.auth import Actor
from samverkan.clock import clock_from_env
from samverkan.codes import FOREIGN_RUN, answer_digest, redeem, spend_exposed
from samverkan.decisions import CODE, CREDENTIALS, form_for, request_from_answer
from samverkan.engine import Change, TransitionRefused, TransitionRequest
from samverkan.errors import SamverkanError, StoreUnavailable
from samverkan.tasks.messages import form_refusal, one_line
from samverkan.graph import Node
from samverkan.i18n import _
from samverkan.names import change_text
from samverkan.store.models import RequestKeyRow, TransitionRow
from samverkan.tasks.answers import delete_answer, request_key
from samverkan.tasks.forms import Bekraftelse, Overgang, answer_values, input_model, transition_binding, transition_request
from samverkan.tasks.store import database, read_snapshot


def apply_transition(instance_id: str, request: TransitionRequest, actor: Actor, key: str | None = None) -> list[Change]:
    # The server's clock: a form never chooses when something is recorded.
    return instances.transition(database(), instance_id, request, actor, clock_from_env(), key=key)


# Never cached: the same request twice must meet the engine twice (the second is refused, or,
# under the same key, finds the first).
apply_transition_task = task(name="registrera-overgang", cache_policy=NO_CACHE, retries=0)(apply_transition)


def already_recorded(key: str) -> bool:
    """Whether an answer under `key` was recorded; raises the refusal it met, if it was refused."""
    with database().read() as session:
        earlier = session.get(RequestKeyRow, key)
        if earlier is None:
            return False
        if earlier.outcome == "applied":
            return True
        refusal = session.scalars(select(TransitionRow.refusal).where(
            TransitionRow.instance_id == earlier.instance_id, TransitionRow.seq == earlier.seq)).first()
    raise TransitionRefused(refusal or _("avvisat"))


def _typed_code(raw: str) -> object:
    """The code in an answer, read before anything else is checked: a code that was shown must
    be spent whatever else is wrong with the answer."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer.get(CODE) if isinstance(answer, dict) else None


def _others(raw: str) -> list[str]:
    """Every text of an answer but its code: where a secret does not belong."""
    try:
        answer = json.loads(raw)
    except ValueError:
        return [raw]
    if not isinstance(answer, dict):
        return [raw]
    return [json.dumps({k: v for k, v in answer.items() if k != CODE}, ensure_ascii=False)]


def _branch_request(key: str, instance_id: str, node: Node, raw: str, genuine: bool) -> tuple[TransitionRequest, Actor]:
    spend_exposed(database(), _others(raw), clock_from_env())
    # A branch's codes are good in the runs the engine made for it, and nowhere else.
    actor = redeem(database(), _typed_code(raw), instance_id, node, None if genuine else FOREIGN_RUN,
                   answer_digest(key, raw), clock_from_env())
    snapshot = read_snapshot(instance_id)
    form = form_for(snapshot.definition, node, snapshot.state[node])
    try:
        answer = answer_values(input_model(form, ""), raw)
    except ValidationError as error:
        raise SamverkanError(form_refusal(error, {f.id: f.title for f in form.fields})) from None
    answer = {name: value for name, value in answer.items() if name not in CREDENTIALS}
    return request_from_answer(snapshot.definition, form, answer, clock_from_env().now()), actor


def _transition_request(run_id: UUID | str, key: str, overgang: Overgang, raw: str) -> tuple[TransitionRequest, Actor]:
    node = Node(overgang.steg, overgang.part or None)
    spend_exposed(database(), [overgang.model_dump_json(), *_others(raw)], clock_from_env())
    actor = redeem(database(), _typed_code(raw), overgang.instans, node, transition_binding(run_id, overgang),
                   answer_digest(key, raw), clock_from_env())
    request = transition_request(overgang)
    try:
        Bekraftelse.model_validate_json(raw)
    except ValidationError as error:
        raise SamverkanError(form_refusal(error, {name: f.title for name, f in Bekraftelse.model_fields.items() if f.title})) from None
    return request, actor


def _take(run_id: UUID | str, input_key: str, instance_id: str, make_request, record) -> tuple[list[Change], str | None]:
    """Record one answer once, then delete it: (what changed, or [] if it was recorded before;
    the refusal in one line, or None). The answer is deleted whatever the outcome; a refused
    answer changes nothing, and whoever gave it is told on the next form."""
    key = request_key(run_id, input_key)
    changes: list[Change] = []
    refusal = None
    try:
        if not already_recorded(key):
            request, actor = make_request(key)
            changes = record(instance_id, request, actor, key)
    except StoreUnavailable:
        raise  # not a verdict: the answer stays in Prefect, and the run (or its recovery) takes it again
    except SamverkanError as error:
        refusal = _refusal_unless_recorded(key, error)
    delete_answer(UUID(str(run_id)), input_key)
    return changes, refusal


def _refusal_unless_recorded(key: str, error: SamverkanError) -> str | None:
    """The refusal to tell, in one line; None if another attempt at this same answer recorded it
    meanwhile (this one was then judged against the state that attempt had just changed)."""
    try:
        if already_recorded(key):
            return None
    except SamverkanError as first:  # refused the first time: that refusal is the one to tell
        return one_line(first)
    return one_line(error)


def take_branch_answer(run_id: UUID | str, input_key: str, instance_id: str, node: Node, raw: str,
                       as_task: bool = True, genuine: bool = True) -> tuple[list[Change], str | None]:
    """One answer to a branch's form (see `_take`). `genuine`: the run is one the engine made
    for this branch (samverkan.sync's run key), not one started by hand with its parameters."""
    record = apply_transition_task if as_task else apply_transition
    return _take(run_id, input_key, instance_id, lambda key: _branch_request(key, instance_id, node, raw, genuine), record)


def take_transition_answer(run_id: UUID | str, input_key: str, overgang: Overgang, raw: str,
                           as_task: bool = True) -> tuple[list[Change], str | None]:
    """One confirmation of the transition deployment's request (see `_take`)."""
    record = apply_transition_task if as_task else apply_transition
    return _take(run_id, input_key, overgang.instans, lambda key: _transition_request(run_id, key, overgang, raw), record)


def take_transition_answers(run_id: UUID | str, overgang: Overgang, answers: list[tuple[str, str]],
                            as_task: bool = True) -> tuple[list[Change], str | None]:
    """Every confirmation waiting for a transition run, in the order Prefect received them; each
    is taken (so every code shown is spent). The first one recorded decides; else the first
    refusal is what the run tells."""
    recorded: tuple[list[Change], None] | None = None
    first_refusal = None
    for key, raw in answers:
        changes, refusal = take_transition_answer(run_id, key, overgang, raw, as_task)
        if refusal is None and recorded is None:
            recorded = (changes, None)
        elif refusal is not None and first_refusal is None:
            first_refusal = refusal
    if recorded is not None:
        return recorded
    return [], first_refusal or _("ingen bekräftelse gavs")


def describe(changes: list[Change], instance_id: str) -> str:
    """What was recorded, by name: "Antagande av … (Storumans kommun): Ärendet bereds → Antaget"."""
    if not changes:
        return ""
    definition = read_snapshot(instance_id).definition
    return ", ".join(change_text(definition, c.node, c.before, c.after.state) for c in changes)
