"""Flow runs whose process died: the answers they hold recorded, once, and deleted.

A form's answer stays in Prefect until its run has recorded it. A run can lose its process
before that, or after it but before the answer was deleted: it is then either *stranded*
(Prefect still shows it Pending or Running: tasks/branch_runs.stranded) or already ended
(Prefect, or an orphaned flow process, marked it Crashed). Either way every answer it holds is
taken now, exactly as the run itself would have taken it (tasks/decisions: recorded at most
once, under the run and the input's key, then deleted); an ended run found empty is labelled
so that it is not read again. What becomes of a branch run is the sync plan's business (a run
whose decision is recorded ends Completed; one whose branch still waits is crashed and replaced
by a new form); a transition run is ended here, with what its answer came to."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from prefect import get_client
from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterEndTime, FlowRunFilterState,
                                            FlowRunFilterStateType, FlowRunFilterTags)
from prefect.client.schemas.objects import StateType
from prefect.states import Completed, Crashed, Failed

from samverkan.errors import SamverkanError
from samverkan.graph import Node
from samverkan.i18n import N_, _
from samverkan.names import node_name
from samverkan.sync import parse_run_key
from samverkan.tasks.answers import delete_answer, waiting_answers
from samverkan.tasks.branch_runs import BRANCH_DEPLOYMENT, FORM, _end_once, instance_tag, stranded
from samverkan.tasks.decisions import describe, take_branch_answer, take_transition_answers
from samverkan.tasks.forms import Overgang
from samverkan.tasks.messages import one_line
from samverkan.tasks.store import read_snapshot

TRANSITION_DEPLOYMENT = "transition/samverkan"
TRANSITION_FORM = "bekraftelse"
SWEPT_LABEL = "samverkan.answers"  # on an ended run: "taken", nothing of its answers is left in Prefect
_ACTIVE = [StateType.PENDING, StateType.RUNNING]
_ENDED = [StateType.CRASHED, StateType.FAILED, StateType.CANCELLED, StateType.COMPLETED]


# Prefect's state types as the office reads them on the dashboard.
_STATE_WORDS = {"PENDING": N_("på väg att starta"), "RUNNING": N_("pågående"), "CRASHED": N_("kraschad"),
                "FAILED": N_("misslyckad"), "CANCELLED": N_("avbruten"), "COMPLETED": N_("klar")}


def _state_word(run) -> str:
    value = run.state_type.value if run.state_type else ""
    return _(_STATE_WORDS[value]) if value in _STATE_WORDS else value.lower()


@dataclass
class Recovery:
    """What the recovery of one instance's runs found and did."""

    lines: list[str] = field(default_factory=list)  # one Swedish line per run, for the log and the dashboard
    refusals: dict[Node, str] = field(default_factory=dict)  # a branch's refused answer, for its next form


def _deployment_id(client, name: str):
    try:
        return client.read_deployment_by_name(name).id
    except Exception:  # noqa: BLE001 - not deployed (yet): it has no runs
        return None


def _runs(client, deployment_name: str, states: list[StateType], instance_id: str | None = None, **more) -> list:
    deployment_id = _deployment_id(client, deployment_name)
    if deployment_id is None:
        return []
    tags = FlowRunFilterTags(all_=[instance_tag(instance_id)]) if instance_id and deployment_name == BRANCH_DEPLOYMENT else None
    found, offset = [], 0
    while True:
        page = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]), tags=tags,
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)), **more), limit=200, offset=offset)
        found += page
        if len(page) < 200:
            return found
        offset += 200


def _of_instance(run, instance_id: str | None) -> bool:
    if instance_id is None:
        return True
    parsed = parse_run_key(run.idempotency_key)
    if parsed is not None:
        return parsed[0] == instance_id
    return (run.parameters.get("overgang") or {}).get("instans") == instance_id


def stranded_runs(instance_id: str | None = None) -> tuple[list, list]:
    """The stranded branch runs and transition runs (of one instance, or all)."""
    now = dt.datetime.now(dt.timezone.utc)
    with get_client(sync_client=True) as client:
        branches = [run for run in _runs(client, BRANCH_DEPLOYMENT, _ACTIVE, instance_id)
                    if _of_instance(run, instance_id) and parse_run_key(run.idempotency_key) and stranded(client, run, now)]
        transitions = [run for run in _runs(client, TRANSITION_DEPLOYMENT, _ACTIVE)
                       if _of_instance(run, instance_id) and stranded(client, run, now)]
    return branches, transitions


def _ended_unswept(client, deployment_name: str, instance_id: str) -> list:
    return [run for run in _runs(client, deployment_name, _ENDED, instance_id)
            if _of_instance(run, instance_id) and (run.labels or {}).get(SWEPT_LABEL) != "taken"]


# How far back the watcher looks for ended runs not yet swept. A run's end time is the time
# its final state was made by whoever proposed it, which can be well before the state reached
# the server; an hour is far beyond that, and the label keeps a swept run from being read again.
ENDED_LOOKBACK = dt.timedelta(hours=1)


def unswept_ended_instances(now: dt.datetime | None = None) -> set[str]:
    """The instances with a branch or transition run that crashed or failed within
    ENDED_LOOKBACK and has not been swept (a worker killed under it): the process flow takes
    what it holds and brings its state into agreement with the store. (A cancelled run is a
    person's or the plan's doing; the process flow's next pass sweeps it.)"""
    since = (now or dt.datetime.now(dt.timezone.utc)) - ENDED_LOOKBACK
    with get_client(sync_client=True) as client:
        runs = [run for name in (BRANCH_DEPLOYMENT, TRANSITION_DEPLOYMENT)
                for run in _runs(client, name, [StateType.CRASHED, StateType.FAILED],
                                 end_time=FlowRunFilterEndTime(after_=since))
                if (run.labels or {}).get(SWEPT_LABEL) != "taken"]
    found = set()
    for run in runs:
        parsed = parse_run_key(run.idempotency_key)
        found.add(parsed[0] if parsed else (run.parameters.get("overgang") or {}).get("instans"))
    return found


def _label_swept(client, run) -> None:
    client.update_flow_run_labels(run.id, {SWEPT_LABEL: "taken"})


def recover(instance_id: str) -> Recovery:
    """Take every answer the instance's stranded or ended runs still hold; end its stranded
    transition runs."""
    recovery = Recovery()
    branches, transitions = stranded_runs(instance_id)
    with get_client(sync_client=True) as client:
        ended_branches = _ended_unswept(client, BRANCH_DEPLOYMENT, instance_id)
        ended_transitions = _ended_unswept(client, TRANSITION_DEPLOYMENT, instance_id)
    named = _namer(instance_id) if branches or ended_branches else None
    for run in branches:
        said = _take_branch_answers(run, instance_id, recovery)
        recovery.lines.append(_("{node}: körningen {run} stod som {state} utan process; {said}", node=named(_node(run)),
                                run=run.name, state=_state_word(run), said="; ".join(said) if said else _("inget svar väntade")))
    for run in ended_branches:
        said = _take_branch_answers(run, instance_id, recovery)
        if said:
            recovery.lines.append(_("{node}: körningen {run} avslutades ({state}) med ett svar kvar; {said}",
                                    node=named(_node(run)), run=run.name, state=_state_word(run), said="; ".join(said)))
        with get_client(sync_client=True) as client:
            _label_swept(client, run)
    for run in transitions:
        recovery.lines.append(_("övergång {run}: stod som {state} utan process; {said}", run=run.name,
                                state=_state_word(run), said=_finish_transition(run, True)))
    for run in ended_transitions:
        said = _finish_transition(run, False)
        if said:
            recovery.lines.append(_("övergång {run}: avslutades ({state}) med en bekräftelse kvar; {said}", run=run.name,
                                    state=_state_word(run), said=said))
    return recovery


def _namer(instance_id: str):
    """A branch by its names, for the office's dashboard; by its key if the store cannot say."""
    try:
        definition = read_snapshot(instance_id).definition
    except SamverkanError:
        return lambda node: node.key
    return lambda node: node_name(definition, node)


def _node(run) -> Node:
    return parse_run_key(run.idempotency_key)[1]


def _take_branch_answers(run, instance_id: str, recovery: Recovery) -> list[str]:
    said = []
    node = _node(run)
    for key, raw in waiting_answers(run.id, FORM):
        changes, refusal = take_branch_answer(run.id, key, instance_id, node, raw, as_task=False)
        if refusal:
            recovery.refusals[node] = refusal
            said.append(_("svaret avvisades ({refusal})", refusal=refusal))
        else:
            said.append(_("svaret registrerades ({what})", what=describe(changes, instance_id)) if changes
                        else _("svaret var redan registrerat"))
    return said


def _finish_transition(run, stranded_run: bool) -> str:
    """Record what a transition run's confirmation says (if it still holds one); end a stranded
    run with what it came to, and an ended one as Completed if its confirmation was recorded.
    Returns what was done ("" for an ended run that held nothing)."""
    answers = waiting_answers(run.id, TRANSITION_FORM)
    outcome, said = Crashed(message=_("Ingen process kör längre körningen; inget registrerades")), ""
    try:
        overgang = Overgang.model_validate(run.parameters.get("overgang") or {})
    except ValueError as error:
        outcome = Failed(message=_("Avvisat: ogiltiga parametrar"))
        said = _("ogiltiga parametrar ({error})", error=one_line(error)[:200])
        overgang = None
    if overgang is None:
        for key, _raw in answers:
            delete_answer(uuid.UUID(str(run.id)), key)
    elif answers:
        changes, refusal = take_transition_answers(run.id, overgang, answers, as_task=False)
        if refusal:
            outcome = Failed(message=_("Avvisat: {refusal}", refusal=refusal))
            said = _("bekräftelsen avvisades ({refusal})", refusal=refusal)
        else:
            recorded = describe(changes, overgang.instans) or _("redan registrerat")
            outcome = Completed(message=_("Registrerat: {what}", what=recorded))
            said = _("registrerades ({what})", what=recorded)
    with get_client(sync_client=True) as client:
        if stranded_run or (said and outcome.is_completed()):
            _end_once(client, str(run.id), outcome, force=True)
        if not stranded_run:
            _label_swept(client, run)
    return said or (_("ingen bekräftelse väntade") if stranded_run else "")
