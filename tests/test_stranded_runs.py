"""Flow runs whose process died (samverkan.sync): when a run counts as stranded, and what the
plan does with it. Pure: no Prefect, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from samverkan.graph import Node
from samverkan.sync import STRANDED_AFTER, ObservedRun, is_stranded, plan_sync
from tests.test_engine import apply, req
from tests.test_sync_and_forms import opened  # noqa: F401 - fixture

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
UMEA, ASELE, VANNAS = Node("branches", "umea"), Node("branches", "asele"), Node("branches", "vannas")


def run(node: Node, number: int, state: str, stranded: bool = False) -> ObservedRun:
    return ObservedRun(f"{node.party}-{number}", node.stage, node.party, number, state, stranded)


@pytest.mark.parametrize("state", ["PAUSED", "SCHEDULED", "COMPLETED", "CRASHED", "CANCELLED"])
def test_only_a_pending_or_running_run_can_be_stranded(state):
    assert not is_stranded(state, T0, T0 + dt.timedelta(days=1), False, None)


@pytest.mark.parametrize("state", ["PENDING", "RUNNING"])
def test_a_run_whose_process_is_gone_is_stranded_at_once(state):
    assert is_stranded(state, T0, T0 + dt.timedelta(seconds=1), False, None)


def test_a_run_whose_process_is_seen_alive_is_never_stranded():
    assert not is_stranded("RUNNING", T0, T0 + dt.timedelta(days=3), True, None)


def test_from_another_machine_a_run_is_stranded_only_after_silence():
    quiet = STRANDED_AFTER + dt.timedelta(seconds=1)
    assert not is_stranded("RUNNING", T0, T0 + STRANDED_AFTER, None, None)
    assert is_stranded("RUNNING", T0, T0 + quiet, None, None)
    # A heartbeat is a sign of life: the silence counts from it.
    assert not is_stranded("RUNNING", T0, T0 + quiet, None, T0 + dt.timedelta(seconds=30))
    assert is_stranded("PENDING", T0, T0 + quiet + dt.timedelta(seconds=30), None, T0 + dt.timedelta(seconds=30))
    # Nothing known of when it got there: never guessed stranded.
    assert not is_stranded("RUNNING", None, T0, None, None)


def test_a_stranded_run_of_an_undecided_branch_is_crashed_and_replaced_by_a_new_form(opened):  # noqa: F811
    definition, state = opened
    plan = plan_sync(definition, state, [run(UMEA, 0, "RUNNING", stranded=True), run(ASELE, 0, "PAUSED"),
                                         run(VANNAS, 0, "RUNNING")])
    assert [r.id for r in plan.crash] == ["umea-0"]
    assert [(n.node, n.number) for n in plan.create] == [(UMEA, 1)]
    assert not plan.complete and not plan.cancel  # Vännäs's live run is left to its process
    assert any("umea-0 står som RUNNING men ingen process kör den längre" in line for line in plan.disagreements)


def test_a_stranded_run_whose_decision_is_recorded_ends_completed(opened):  # noqa: F811
    definition, state = opened
    state = apply(definition, state, req("branches", "done", "2026-03-10", party="umea", paragraph="§1"))
    plan = plan_sync(definition, state, [run(UMEA, 0, "RUNNING", stranded=True), run(ASELE, 0, "PAUSED"), run(VANNAS, 0, "PAUSED")])
    assert [(e.run.id, e.force) for e in plan.complete] == [("umea-0", True)]
    assert not plan.create and not plan.crash


def test_a_crashed_run_whose_decision_is_recorded_ends_completed_but_older_runs_keep_their_state(opened):  # noqa: F811
    definition, state = opened
    state = apply(definition, state, req("branches", "done", "2026-03-10", party="umea", paragraph="§1"))
    runs = [run(UMEA, 0, "CRASHED"), run(UMEA, 1, "CRASHED"), run(ASELE, 0, "PAUSED"), run(VANNAS, 0, "PAUSED")]
    plan = plan_sync(definition, state, runs)
    assert [(e.run.id, e.state_name, e.force) for e in plan.complete] == [("umea-1", "Klart", True)]
    assert "beslutet är registrerat (Klart) men körningen står som CRASHED" in " ".join(plan.disagreements)
    # Once completed, the plan is in agreement: nothing is done twice.
    runs[1] = run(UMEA, 1, "COMPLETED")
    assert plan_sync(definition, state, runs).in_agreement


def test_a_live_running_run_of_a_decided_branch_is_left_to_finish(opened):  # noqa: F811
    definition, state = opened
    state = apply(definition, state, req("branches", "done", "2026-03-10", party="umea", paragraph="§1"))
    plan = plan_sync(definition, state, [run(UMEA, 0, "RUNNING"), run(ASELE, 0, "PAUSED"), run(VANNAS, 0, "PAUSED")])
    assert plan.in_agreement


def test_a_process_label_speaks_only_for_the_execution_that_made_it():
    import os
    import subprocess
    import sys
    import time

    from samverkan.tasks.liveness import process_alive, process_label, this_machine

    running_since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    assert process_alive(process_label(), running_since) is True  # this very process
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    assert process_alive(f"{this_machine()}/{gone.stdout.strip()}/-/{time.time():.3f}", running_since) is False
    # A resumed run keeps the label of the process that ran it before: not a sign of anything.
    stale = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert process_alive(process_label(), stale) is None
    assert process_alive(process_label(), None) is None  # Pending: no process of this execution yet
    assert process_alive(f"elsewhere:0000/{os.getpid()}/-/{time.time():.3f}", running_since) is None
    assert process_alive("garbage", running_since) is None and process_alive(None, running_since) is None
