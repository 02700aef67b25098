"""Helpers for tests against a real Prefect server: a store with the default process up to
its adoption stage, a `samverkan serve` process, and waiting for Prefect to catch up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.flow_runs import resume_flow_run

from samverkan.process_definitions import DEFAULT_DEFINITION

INSTANCE = "samverkan-2027-2030"
OFFICE = "kansli@region-vasterbotten.example.org"
HISTORY = DEFAULT_DEFINITION.parent / "examples" / "history_illustrative_2026-11.yaml"


def cli(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "samverkan", *args], env=env, capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"samverkan {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def cli_here(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """The same command line in this process, with `env` as its environment: for commands
    called often, without an interpreter's start-up each. Returns what it printed."""
    import contextlib
    import io

    from samverkan.cli import main

    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if check and code != 0:
        raise AssertionError(f"samverkan {' '.join(args)}: exit {code}\n{out.getvalue()}\n{err.getvalue()}")
    return subprocess.CompletedProcess(["samverkan", *args], code, out.getvalue(), err.getvalue())


def register_deployments() -> None:
    """Save every deployment (as `samverkan serve` would, without serving them), in a thread of
    its own: a test process whose browser tests hold an event loop cannot run another in its
    main thread."""
    import asyncio
    import threading

    from samverkan.flows.deployments import deployments

    async def register() -> None:
        for deployment in await deployments():
            await deployment.apply()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(register())
        except BaseException as error:  # handed to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="register-deployments")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def store_before_adoption(env: dict[str, str], folder: Path, instance: str = INSTANCE) -> str:
    """The default process with everything before the adoption done (the illustrative history
    without its adoptions); returns a director's office token."""
    lines = [line for line in HISTORY.read_text(encoding="utf-8").splitlines() if "stage: adoption" not in line]
    history = folder / "history.yaml"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    issued = cli(env, "token", "issue", OFFICE, "--role", "director-office")
    token = next(word for word in issued.stdout.split() if word.startswith("svk_"))
    cli({**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}, "start", str(DEFAULT_DEFINITION),
        "--instance", instance, "--history", str(history))
    return token


@contextmanager
def serving(env: dict[str, str], log: Path, *options: str, stop_within: float = 30):
    """`samverkan serve [options]` as a user would run it; stopped with Ctrl-C (SIGINT) at the
    end, which it must obey within `stop_within` seconds."""
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "samverkan", "serve", *options], env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise AssertionError(f"samverkan serve did not stop on Ctrl-C; its log:\n{log.read_text()[-3000:]}")


def wait_for(what: str, check: Callable[[], object], timeout: float = 90, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    tail = f"\nserve's log:\n{log.read_text()[-4000:]}" if log else ""
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}{tail}")


def branch_runs(instance: str = INSTANCE, stage: str = "adoption") -> dict[str, list]:
    """party -> its branch runs for `stage`, oldest first."""
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"instans:{instance}", f"steg:{stage}"])),
                                     limit=200)
    found: dict[str, list] = {}
    for run in sorted(runs, key=lambda r: r.idempotency_key or ""):
        party = next(tag.split(":", 1)[1] for tag in run.tags if tag.startswith("part:"))
        found.setdefault(party, []).append(run)
    return found


def latest_states(instance: str = INSTANCE, stage: str = "adoption") -> dict[str, str]:
    return {party: runs[-1].state_type.value for party, runs in branch_runs(instance, stage).items()}


def form_code(env: dict[str, str], token: str, party: str | None, stage: str = "adoption", run: object = None,
              instance: str = INSTANCE, request: str | None = None) -> str:
    """A one-time code for the office (whose `token` the command line takes), for one form:
    a branch's (its party), or with `run` a transition run's confirmation."""
    args = ["token", "code", OFFICE, "--instance", instance, "--stage", stage]
    args += ["--party", party] if party else []
    args += ["--run", str(run), "--request", str(request)] if run else []
    return cli_here({**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}, *args).stdout.strip().splitlines()[-1]


def resume(run_id, answer: dict, timeout: float = 20) -> None:
    """Resume with input; a run that has only just suspended may not have saved its form's
    schema yet ("Run input schema not found"), so that one error is retried."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            resume_flow_run(run_id, run_input=answer, _sync=True)  # sync even beside a running loop (Playwright runs one)
            return
        except Exception as error:  # noqa: BLE001 - only the schema race is retried
            if "schema not found" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def everything_prefect_keeps(flow_run_ids: list) -> str:
    """All that Prefect's API serves about these runs and the instance: runs (parameters, state
    messages), their inputs, logs, events and artifacts, as one text to search."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    parts: list[str] = []
    with get_client(sync_client=True) as client:
        for run_id in flow_run_ids:
            run = client.read_flow_run(run_id)
            parts.append(run.model_dump_json())
            for item in client.filter_flow_run_input(run_id, key_prefix="", limit=1000, exclude_keys=set()):
                parts.append(item.model_dump_json())
            for state in client.read_flow_run_states(run_id):
                parts.append(state.model_dump_json())
        for offset in range(0, 100_000, 200):
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=list(flow_run_ids))),
                                    limit=200, offset=offset)
            parts += [log.model_dump_json() for log in logs]
            if len(logs) < 200:
                break
        for offset in range(0, 100_000, 200):
            artifacts = client.read_artifacts(limit=200, offset=offset)
            parts += [artifact.model_dump_json() for artifact in artifacts]
            if len(artifacts) < 200:
                break
        parts += [json.dumps(event) for event in _events(client, {})]
    return "\n".join(parts)


def run_logs(run_id) -> str:
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        return "\n".join(log.message for log in client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200))


def pause_key(run_id) -> str | None:
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    return run.state.state_details.pause_key if run.state and run.state.is_paused() else None


def _events(client, match: dict) -> list[dict]:
    """Every event in Prefect's feed that `match` selects (its event filter), all pages."""
    body = client._client.post("/events/filter", json={"filter": {"occurred": {"since": "2000-01-01T00:00:00Z"}, **match},
                                                        "limit": 50}).json()
    found = list(body["events"])
    while body.get("next_page"):
        body = client._client.get(body["next_page"]).json()
        found += body["events"]
    return found


def transition_events() -> list[dict]:
    """Every samverkan.transition.applied event in Prefect's feed."""
    with get_client(sync_client=True) as client:
        return _events(client, {"event": {"name": ["samverkan.transition.applied"]}})
