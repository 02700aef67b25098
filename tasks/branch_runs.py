"""Branch runs in Prefect, made to agree with the store: the plan comes from samverkan.sync
(pure); this module only reads Prefect's runs and applies the plan."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import replace

from prefect import get_client
from prefect.client.schemas.filters import (FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterState,
                                           FlowRunFilterStateType, FlowRunFilterTags)
from prefect.client.schemas.objects import StateType
from prefect.utilities.urls import url_for
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import PrefectHTTPStatusError
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Cancelled, Completed, Crashed, Suspended, to_state_create

from samverkan.graph import Node
from samverkan.instances import load
from samverkan.sync import ACTIVE_RUN_STATES, STRANDED_AFTER, ObservedRun, SyncPlan, is_stranded, parse_run_key, plan_sync, run_key
from samverkan.tasks.forms import form_model
from samverkan.tasks.liveness import PROCESS_LABEL, last_heartbeat, process_alive
from samverkan.tasks.store import Snapshot, database

BRANCH_DEPLOYMENT = "branch/samverkan"
FORM = "beslut"  # a branch run's forms are beslut-1, beslut-2, …
_PAGE = 200
OPEN_RUN_TYPES = (StateType.PAUSED, StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING)


def instance_tag(instance_id: str) -> str:
    return f"instans:{instance_id}"


def branch_tags(instance_id: str, node: Node) -> list[str]:
    return ["samverkan", instance_tag(instance_id), f"steg:{node.stage}", f"part:{node.party}"]


def branch_run_name(snapshot: Snapshot, node: Node) -> str:
    """Slugs for machines, the party's own name (å, ä, ö and all) for people."""
    return f"{node.stage}/{node.party} · {snapshot.party_name(node)}"


def stranded_after() -> dt.timedelta:
    """STRANDED_AFTER, or SAMVERKAN_STRANDED_AFTER_SECONDS where an operator (or a test) sets it."""
    given = os.environ.get("SAMVERKAN_STRANDED_AFTER_SECONDS", "")
    return dt.timedelta(seconds=int(given)) if given.isdigit() and int(given) > 0 else STRANDED_AFTER


def stranded(client, run, now: dt.datetime) -> bool:
    """Whether a Pending or Running flow run has lost its process (samverkan.sync.is_stranded):
    asked of the process itself where it ran on this machine, else of Prefect's heartbeats."""
    state_type = run.state_type.value if run.state_type else "SCHEDULED"
    if state_type not in ACTIVE_RUN_STATES:
        return False
    after = stranded_after()
    entered = run.state.timestamp if run.state else None
    # Only a Running run has its process's label (the flow labels itself once it runs).
    alive = process_alive((run.labels or {}).get(PROCESS_LABEL), entered if state_type == "RUNNING" else None)
    heartbeat = None
    if alive is None and entered is not None and now - entered > after:
        heartbeat = last_heartbeat(client, run.id, now - 2 * after)
    return is_stranded(state_type, entered, now, alive, heartbeat, after)


def observe_runs(client, instance_id: str) -> list[ObservedRun]:
    deployment = client.read_deployment_by_name(BRANCH_DEPLOYMENT)
    found: list[ObservedRun] = []
    offset = 0
    now = dt.datetime.now(dt.timezone.utc)
    while True:
        page = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                                          tags=FlowRunFilterTags(all_=[instance_tag(instance_id)])),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=_PAGE, offset=offset)
        for run in page:
            parsed = parse_run_key(run.idempotency_key)
            if parsed is None or parsed[0] != instance_id:
                continue
            _, node, number = parsed
            found.append(ObservedRun(str(run.id), node.stage, node.party, number,
                                     run.state_type.value if run.state_type else "SCHEDULED", stranded(client, run, now)))
        if len(page) < _PAGE:
            return found
        offset += _PAGE


def made_by_the_engine(run_id, instance_id: str, node: Node) -> bool:
    """Whether the run is one the sync made for this branch: a run of the branch deployment
    started by hand with the same parameters has no such key, and gets no say in the branch."""
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    parsed = parse_run_key(run.idempotency_key)
    return parsed is not None and parsed[:2] == (instance_id, node)


def form_link(instance_id: str, node: Node) -> str | None:
    """The dashboard's page of the branch's open run, where its form waits; None if it has none
    (or the dashboard's address is not known)."""
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(BRANCH_DEPLOYMENT)
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                                          tags=FlowRunFilterTags(all_=branch_tags(instance_id, node)),
                                          state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(OPEN_RUN_TYPES)))),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=20)
    # Only the engine's own run: a run with the same tags made by hand is no place for a code.
    ours = [run for run in runs if (parse_run_key(run.idempotency_key) or ("", None))[:2] == (instance_id, node)]
    return url_for(ours[0], url_type="ui") if ours else None


def plan_for(snapshot: Snapshot) -> SyncPlan:
    with get_client(sync_client=True) as client:
        return plan_sync(snapshot.definition, snapshot.state, observe_runs(client, snapshot.instance_id))


def sync_branch_runs(snapshot: Snapshot, refusals: dict[Node, str] | None = None) -> SyncPlan:
    """Create the branch runs that are missing, end the ones whose decision is recorded.

    The plan is made from the store's state as it is now (read again, not the snapshot's) and
    what Prefect holds. No store lock is held while Prefect answers: a decision being recorded
    must never wait for a slow Prefect server (it did, for over 30 s under load, and was
    refused as busy). Two serving processes may do this at the same moment, and safely: every
    action is idempotent in Prefect itself (a run is created under its run key, which Prefect
    keeps once; it is ended under a transition id fixed by the run, which Prefect applies
    once), and a plan made from a state that changed meanwhile is corrected by the next pass.
    `refusals`: why the answer a stranded run held was refused, for the form that replaces it."""
    with database().read() as session:
        snapshot = replace(snapshot, state=dict(load(session, snapshot.instance_id).state))
    with get_client(sync_client=True) as client:
        plan = plan_sync(snapshot.definition, snapshot.state, observe_runs(client, snapshot.instance_id))
        if plan.in_agreement:
            return plan
        deployment = client.read_deployment_by_name(BRANCH_DEPLOYMENT)
        for new in plan.create:
            # Created already suspended, with its form: a run waiting for a decision needs no
            # process, and sixteen of them appear at once instead of starting sixteen Pythons.
            state = Suspended(pause_key=f"{FORM}-1", timeout_seconds=None)
            keyset = keyset_from_paused_state(state)
            state.state_details.run_input_keyset = keyset
            run = client.create_flow_run_from_deployment(
                deployment.id,
                parameters={"instance": snapshot.instance_id, "stage": new.node.stage, "party": new.node.party},
                name=branch_run_name(snapshot, new.node),
                tags=branch_tags(snapshot.instance_id, new.node),
                idempotency_key=run_key(snapshot.instance_id, new.node, new.number),
                state=state,
            )
            try:
                form_model(snapshot, new.node, (refusals or {}).get(new.node)).save(keyset, flow_run_id=run.id)
            except PrefectHTTPStatusError as error:
                # Another process planned the same run at the same moment: Prefect gave us its
                # run (the same idempotency key), and that process saved the form first.
                if error.response.status_code != 409:
                    raise
        for end in plan.complete:
            _end_once(client, end.run.id, Completed(message=f"Registrerat i lagret: {end.state_name}"), force=end.force)
        for run, why in plan.cancel:
            _end_once(client, run.id, Cancelled(message=f"Avbruten: {why}"))
        for run in plan.crash:
            _end_once(client, run.id, Crashed(message="Ingen process kör längre körningen; ett nytt formulär väntar på beslutet"),
                      force=True)
    return plan


def _end_once(client, run_id: str, state, force: bool = False) -> None:
    """End a run once, however many processes decide to at the same moment: the state carries
    a transition id fixed by the run, and Prefect's orchestration (not forced) refuses a
    transition whose id is the current state's. The API is called directly because the client's
    set_flow_run_state replaces any transition id with a random one. `force` takes a run out of
    a state Prefect's rules would keep it in (crashed; or running with no process left); the
    instance's lock, held by the caller, keeps two processes from doing that at once."""
    state_create = to_state_create(state)
    state_create.state_details.flow_run_id = uuid.UUID(str(run_id))
    state_create.state_details.transition_id = uuid.uuid5(uuid.NAMESPACE_URL, f"samverkan:end:{state.type.value}:{run_id}")
    client.request("POST", "/flow_runs/{id}/set_state", path_params={"id": run_id},
                   json={"state": state_create.model_dump(mode="json", serialize_as_any=True), "force": force})
