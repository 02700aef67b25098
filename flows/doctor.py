"""`samverkan doctor`: does Prefect agree with the store, and does Prefect's scheduler work?
Reports each disagreement in one line and, unless only checking, repairs it the way the
process flow would (a scheduler that creates no runs it can only report)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prefect import get_client
from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterName, FlowRunFilter, FlowRunFilterDeploymentId,
                                            FlowRunFilterState, FlowRunFilterStateType)
from prefect.client.schemas.objects import StateType

from samverkan.flows.deployments import NAME
from samverkan.tasks.branch_runs import plan_for
from samverkan.tasks.store import instance_positions, read_snapshot
from samverkan.tasks.stranded import stranded_runs

# Prefect's scheduler looks for deployments to schedule every minute, and at once for one just
# saved; a deployment saved less than this long ago may not have its runs yet.
SCHEDULER_GRACE = dt.timedelta(minutes=2)


def scheduler_problems(now: dt.datetime | None = None) -> list[str]:
    """One line for each deployment of ours with an active schedule but no run scheduled ahead:
    the server's scheduler is not creating runs (no 08:00 sweep, no odds, no safety net)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    problems = []
    with get_client(sync_client=True) as client:
        deployments = client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[NAME])))
        for deployment in deployments:
            if deployment.paused or not any(schedule.active for schedule in deployment.schedules or ()):
                continue
            if deployment.updated and now - deployment.updated < SCHEDULER_GRACE:
                continue
            ahead = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                                              state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
                limit=1)
            if not ahead:
                flow = client.read_flow(deployment.flow_id)
                problems.append(f"schemaläggaren: {flow.name}/{deployment.name} har schema men ingen schemalagd körning; "
                                "Prefect-serverns schemaläggare skapar inga körningar (se serverns logg)")
    return problems


def examine(instance: str | None, repair: bool, report: Callable[[str], None]) -> int:
    ids = [instance] if instance else sorted(instance_positions())
    if instance:
        read_snapshot(instance)  # an unknown instance: one clear line, before anything else
    problems = scheduler_problems()
    for line in problems:
        report(line)
    total = len(problems)
    _, transitions = stranded_runs(instance)
    for run in transitions:
        report(f"övergång {run.name}: körningen står som {run.state_type.value} men ingen process kör den längre")
    total += len(transitions)
    for instance_id in ids:
        plan = plan_for(read_snapshot(instance_id))
        total += len(plan.disagreements)
        if not plan.disagreements:
            report(f"{instance_id}: Prefect och lagret stämmer överens.")
            continue
        for line in plan.disagreements:
            report(f"{instance_id}: {line}")
    if repair:
        from samverkan.flows.process import process_flow

        for instance_id in ids:
            for line in process_flow(instance_id):
                report(f"lagat: {line}")
    return total
