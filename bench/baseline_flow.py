"""The plain-Prefect baseline for bench/transition_latency.py: a bare flow that suspends for a
typed input and returns, served by Prefect's own `flow.serve` (a Runner). The runner's poll
interval comes from PREFECT_RUNNER_POLL_FREQUENCY (Prefect's default: 10 s).

Run: .venv/bin/python bench/baseline_flow.py DEPLOYMENT_NAME   (blocks; Ctrl-C/SIGTERM stops)"""

from __future__ import annotations

import sys

from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.input import RunInput


class Answer(RunInput):
    ok: bool = True


@flow(name="baseline-suspend", log_prints=False)
def baseline() -> bool:
    answer = suspend_flow_run(wait_for_input=Answer, timeout=3600)
    return answer.ok


if __name__ == "__main__":
    baseline.serve(name=sys.argv[1], print_starting_message=False)
