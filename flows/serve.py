"""A serving process: runs the deployments' flow runs, and watches the store so that a
transition made through any door (the command line included) reaches Prefect within a second.

Any number of serving processes may run against one Prefect server and one store: each flow
run is given to one of them, and what the watchers do is idempotent (samverkan.sync).
"""

from __future__ import annotations

import asyncio
import signal
import os
import socket
import sys
import threading
from collections.abc import Collection

from prefect.runner import Runner

from samverkan.flows.deployments import HEARTBEAT_SECONDS, deployments
from samverkan.flows.process import process_flow
from samverkan.tasks.store import instance_positions
from samverkan.tasks.stranded import stranded_runs, unswept_ended_instances
from samverkan.text import safe_line

WATCH_SECONDS = 0.25
# How often the watcher looks for flow runs whose process died (a killed worker, a lost
# machine): such a run's answer is recorded and its branch given a new form within this.
STRANDED_CHECK_SECONDS = 2.0
# How often the runner asks for runs to start; Prefect's default (10 s) is most of the time
# between a form being sent and its decision being recorded.
RUNNER_POLL_SECONDS = 1.0


async def watch_store(stop: asyncio.Event, poll: float = WATCH_SECONDS) -> None:
    """Run the process flow for each instance whose history has moved since it last ran, and
    for each instance with a flow run whose process died."""
    seen: dict[str, int] = {}
    failures = 0
    next_stranded_check = 0.0
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            positions = await asyncio.to_thread(instance_positions)
            stranded: set[str] = set()
            if loop.time() >= next_stranded_check:
                next_stranded_check = loop.time() + STRANDED_CHECK_SECONDS
                stranded = await asyncio.to_thread(_instances_to_recover, set(positions))
            for instance_id, seq in sorted(positions.items()):
                if seen.get(instance_id) != seq or instance_id in stranded:
                    await asyncio.to_thread(process_flow, instance_id)
                    seen[instance_id] = seq
            failures = 0
        except Exception as error:  # the store or the server away for a moment: try again, say so once
            failures += 1
            if failures == 1:
                print(f"varning: bevakningen av lagret misslyckades ({safe_line(f'{type(error).__name__}: {error}', 300)}); "
                      "försöker igen", file=sys.stderr, flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=poll if not failures else min(30.0, poll * 2 ** failures))
        except asyncio.TimeoutError:
            pass


def _instances_to_recover(known: set[str]) -> set[str]:
    """Instances with a run whose process died, or that ended otherwise than completed and may
    still hold an answer."""
    branches, transitions = stranded_runs()
    found = {(run.idempotency_key or "").split("/")[0] for run in branches}
    found |= {(run.parameters.get("overgang") or {}).get("instans") for run in transitions}
    found |= unswept_ended_instances()
    return found & known


async def serve(stop: asyncio.Event, watch: bool = True, run_flows: bool = True, flows: Collection[str] | None = None) -> None:
    """Serve the deployments (unless `run_flows` is off: workers of a work pool run them; only
    those of the flows named in `flows` if given) and watch the store (unless `watch` is off),
    until `stop` is set or one of them fails."""
    tasks = []
    runner = None
    if run_flows:
        runner = Runner(name=f"samverkan-{socket.gethostname()}-{os.getpid()}", query_seconds=RUNNER_POLL_SECONDS,
                        limit=None, pause_on_shutdown=False, heartbeat_seconds=HEARTBEAT_SECONDS)
        for deployment in await deployments():
            if flows is None or deployment.flow_name in flows:
                await runner.aadd_deployment(deployment)
        tasks.append(asyncio.create_task(runner.start(), name="runner"))
        while not runner.started and not tasks[0].done():
            await asyncio.sleep(0.05)
        # The runner installs its own SIGTERM handler (sys.exit); ours stops everything in order.
        # Only the main thread can have signal handlers: served from another thread (a test, an
        # embedding process), whoever started it stops it by setting `stop`.
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
    if watch:
        tasks.append(asyncio.create_task(watch_store(stop), name="watcher"))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
    stop.set()
    if runner is not None and runner.started:
        await runner.astop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        if task is not stopper and not task.cancelled() and task.exception():
            raise task.exception()
