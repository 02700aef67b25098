"""What a Prefect server's scheduler has done: the helpers of the scheduler tests."""

from __future__ import annotations

from pathlib import Path

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType

SCHEDULED_FLOWS = {"process", "sweep", "sannolikhet"}  # the safety net, the 08:00 e-mail, the 06:30 odds


def scheduled_runs_by_flow() -> dict[str, int]:
    """flow name -> how many runs its deployment `samverkan` has scheduled ahead."""
    found: dict[str, int] = {}
    with get_client(sync_client=True) as client:
        for deployment in client.read_deployments():
            if deployment.name != "samverkan":
                continue
            flow = client.read_flow(deployment.flow_id)
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))), limit=50)
            found[flow.name] = len(runs)
    return found


def every_schedule_has_runs() -> dict[str, int] | None:
    found = scheduled_runs_by_flow()
    return found if all(found.get(name, 0) > 0 for name in SCHEDULED_FLOWS) else None


def tracebacks(log: Path) -> str:
    """The server log's tracebacks and errors, or "" (the log of a healthy server has none)."""
    text = log.read_text(errors="replace")
    lines = text.splitlines()
    bad = [i for i, line in enumerate(lines) if "Traceback" in line or "InvalidRequestError" in line
           or " | ERROR " in line or "ERROR:" in line]
    return "\n".join("\n".join(lines[max(0, i - 2): i + 12]) for i in bad[:3])
