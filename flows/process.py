"""The process flow: brings Prefect into agreement with the store for one instance (or all).

It reads the instance, refreshes the dashboard, creates the branch runs its open parallel
stages need, ends the ones whose decision is recorded, and emits an event for every transition
not yet shown. It holds no state and decides nothing itself (samverkan.sync and the engine do),
so it can run as often as anyone likes: after every transition, and on a schedule as a net.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from samverkan.clock import clock_from_env
from samverkan.dashboard.content import dashboard
from samverkan.sync import SyncPlan
from samverkan.text import safe_line
from samverkan.tasks.branch_runs import sync_branch_runs
from samverkan.tasks.dashboard import publish_dashboard, publish_notices, publish_operations
from samverkan.tasks.events import emit_new_transitions
from samverkan.tasks.store import Snapshot, instance_positions, read_snapshot
from samverkan.tasks.stranded import Recovery, recover

recover_task = task(name="aterstall-strandade-korningar", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)(recover)
read_snapshot_task = task(name="las-laget", cache_policy=NO_CACHE)(read_snapshot)
sync_task = task(name="synka-grenar", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)(sync_branch_runs)
events_task = task(name="handelser", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)(emit_new_transitions)


@task(name="dashboard", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def dashboard_task(snapshot: Snapshot) -> None:
    publish_dashboard(dashboard(snapshot.definition, snapshot.state, clock_from_env().now(), snapshot.instance_id,
                                list(snapshot.marks), snapshot.registration_number))
    publish_notices(snapshot.instance_id, snapshot.marks, snapshot.notices, snapshot.notice_counts or {})


def _summary(instance_id: str, plan: SyncPlan, events: int) -> str:
    return (f"{instance_id}: {len(plan.create)} grenar skapade, {len(plan.complete)} avslutade, "
            f"{len(plan.cancel)} avbrutna, {events} nya händelser")


def _recover(instance_id: str, logger) -> Recovery:
    """Sweep the instance's runs whose process died; say what was done in the log and on the dashboard."""
    recovery = recover_task(instance_id)
    for line in recovery.lines:
        logger.warning("Återställd: %s", line)
    if recovery.lines:
        when = clock_from_env().now().in_timezone("Europe/Stockholm").format("YYYY-MM-DD HH:mm")
        publish_operations(instance_id, when, recovery.lines)
    return recovery


def _run_name() -> str:
    from prefect.runtime import flow_run

    return f"process-{flow_run.parameters.get('instance') or 'alla'}"


@flow(name="process", flow_run_name=_run_name, persist_result=False,
      description="Synkar Prefect med lagret för en processinstans (alla om ingen anges) och uppdaterar instrumentpanelen.")
def process_flow(instance: str | None = None) -> list[str]:
    logger = get_run_logger()
    summaries = []
    for instance_id in [instance] if instance else sorted(instance_positions()):
        # First the answers that runs whose process died still hold: recorded once, then deleted.
        recovery = _recover(instance_id, logger)
        snapshot = read_snapshot_task(instance_id)
        dashboard_task(snapshot)  # first: it is what people are watching
        plan = sync_task(snapshot, recovery.refusals)
        if plan.complete or plan.crash:
            # A run the plan just ended (its process died after the record, before the delete)
            # may still hold its answer: swept now, not at the next pass.
            _recover(instance_id, logger)
        events = events_task(snapshot)
        summaries.append(_summary(instance_id, plan, events))
        logger.info(summaries[-1])
    return summaries


def after_transition(instance_id: str, logger) -> None:
    """Run right after a decision was recorded from inside a flow: the dashboard and the
    branch runs follow at once, whether or not a watcher is running anywhere. If that fails,
    the decision stands (it is committed); the watcher or the schedule catches up."""
    try:
        process_flow(instance_id)
    except Exception as error:  # noqa: BLE001 - nothing here may undo or hide a recorded decision
        logger.warning("Beslutet är registrerat; instrumentpanelen uppdateras senare (%s)", safe_line(str(error), 300))
