"""`samverkan doctor`: does Prefect agree with the store? Reports each disagreement in one
line and, unless only checking, repairs it the way the process flow would."""

from __future__ import annotations

from collections.abc import Callable

from samverkan.tasks.branch_runs import plan_for
from samverkan.tasks.store import instance_positions, read_snapshot


def examine(instance: str | None, repair: bool, report: Callable[[str], None]) -> int:
    ids = [instance] if instance else sorted(instance_positions())
    if instance:
        read_snapshot(instance)  # an unknown instance: one clear line, before anything else
    total = 0
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
