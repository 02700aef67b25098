"""How long a decision takes to reach Prefect: from a command-line transition or a Prefect
form to the store, the branch run and the dashboard artifact, against the baseline a plain
Prefect design gives (a bare flow suspended for input, resumed, served by a Runner).

Run: .venv/bin/python bench/transition_latency.py [--quick]

One run, one Prefect server that the script starts itself (flows.server.LocalServer, SQLite,
in a temporary folder, on a free port), one SQLite store, and `samverkan serve` as a
subprocess, as a user runs it. The default process is started three times in the store
(instances `bench-cli`, `bench-form`, `bench-inproc`), each with the illustrative history
without its adoptions, so each has 16 suspended adoption branch runs; samples are taken one at
a time and each waits until everything it set off has settled (run final, dashboard
refreshed) before the next starts.

Measured (median, min, max of N samples; times in seconds):
  1. `samverkan transition …` as a subprocess: start → returned (committed). Also, on the
     third instance, the same command in-process (samverkan.cli.main): the commit itself
     without Python's start-up and imports, and that commit → dashboard.
  2. CLI transition → its branch run in a final state. Polled every 50 ms from the moment
     the command returns; the time is reported from the command's start (and from its return).
  3. CLI transition → the latest `<instance>-framsteg` artifact says "N av 16 har antagit"
     (same polling; from the command's start and from its return).
  4. Form resume (resume_flow_run with the form's input) → the decision committed in the
     store (the node's state read with SQLAlchemy in this process, every 50 ms); also → the
     run Completed and → the dashboard refreshed.
  5. Baseline: bench/baseline_flow.py's flow (suspend_flow_run(wait_for_input=…), return)
     served by `flow.serve`; resume_flow_run → flow run Completed, with Prefect's default
     runner poll (10 s; fewer samples, it is slow) and tuned (PREFECT_RUNNER_POLL_FREQUENCY=1).

What is tuned in Samverkan (flows/serve.py): the runner polls for runs to start every 1 s
(RUNNER_POLL_SECONDS; Prefect's default is 10 s) and the store watcher polls every 0.25 s
(WATCH_SECONDS). Nothing else is tuned; the bench changes no setting of either.

Full run: 10 samples of each (5 for the default-poll baseline).
--quick: 3 samples of each (2 for the default-poll baseline), for checking the script works.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from samverkan.flows.server import LocalServer, ServerSettings  # noqa: E402  (imports no Prefect)

POLL = 0.05
STAGE = "adoption"
INSTANCES = {"cli": "bench-cli", "form": "bench-form", "inproc": "bench-inproc"}
TARGET = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):6.3f}  min {min(values):6.3f}  max {max(values):6.3f}  (n={len(values)})"


def poll_until(what: str, check, timeout: float = 60.0) -> float:
    """Polls `check` every POLL seconds; returns time.perf_counter() when it first held."""
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few samples of each, to check the script works")
    args = parser.parse_args()
    n_cli, n_form, n_inproc, n_base_default, n_base_tuned = (3, 3, 3, 2, 3) if args.quick else (10, 10, 10, 5, 10)

    began = time.perf_counter()
    print(f"{os.cpu_count()} CPUs, load average at start {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="samverkan-latency-"))
    settings = ServerSettings(home=folder / "prefect", port=free_port())
    # Before Prefect is imported: this process is a client of the server started here only.
    os.environ.update(settings.environment())
    os.environ.update({"SAMVERKAN_HOME": str(folder / "home"), "SAMVERKAN_DATABASE_URL": f"sqlite:///{folder / 'samverkan.db'}"})
    for name in ("SAMVERKAN_NOW", "SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "PREFECT_RUNNER_POLL_FREQUENCY"):
        os.environ.pop(name, None)

    server = LocalServer(settings)
    server.start()
    print(f"Prefect server up in {server.started_in:.1f} s at {settings.api_url} (folder {folder})", flush=True)
    try:
        run(folder, n_cli, n_form, n_inproc, n_base_default, n_base_tuned)
    finally:
        server.stop()
    print(f"total run time {time.perf_counter() - began:.0f} s; load average at end "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")


def run(folder: Path, n_cli: int, n_form: int, n_inproc: int, n_base_default: int, n_base_tuned: int) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from sqlalchemy import create_engine, select

    from samverkan.store.models import NodeRow
    from tests.prefect_live import HISTORY, OFFICE, DEFAULT_DEFINITION, branch_runs, cli, resume, serving, wait_for

    env = dict(os.environ)
    # The store: three instances of the default process, each up to its adoption stage.
    lines = [line for line in HISTORY.read_text(encoding="utf-8").splitlines() if "stage: adoption" not in line]
    history = folder / "history.yaml"
    history.write_text("\n".join(lines) + "\n", encoding="utf-8")
    issued = cli(env, "token", "issue", OFFICE, "--role", "director-office")
    token = next(word for word in issued.stdout.split() if word.startswith("svk_"))
    actor = {**env, "SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token}
    for instance in INSTANCES.values():
        cli(actor, "start", str(DEFAULT_DEFINITION), "--instance", instance, "--history", str(history))

    engine = create_engine(env["SAMVERKAN_DATABASE_URL"])
    client = get_client(sync_client=True)
    client.__enter__()

    def node_state(instance: str, party: str) -> str:
        with engine.connect() as connection:
            return connection.execute(select(NodeRow.state).where(
                NodeRow.instance_id == instance, NodeRow.stage == STAGE, NodeRow.party == party)).scalar_one()

    def run_final(run_id) -> bool:
        state = client.read_flow_run(run_id).state
        return state is not None and state.is_final()

    def adopted_on_dashboard(instance: str) -> int:
        found = client.read_latest_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"{instance}-framsteg"])))
        for artifact in found:
            match = re.search(r"(\d+) av \d+ har antagit", str(artifact.description))
            if match:
                return int(match.group(1))
        return -1

    def all_suspended(instance: str) -> bool:
        runs = branch_runs(instance, STAGE)
        return len(runs) == 16 and all(r[-1].state_type.value == "PAUSED" for r in runs.values())

    def transition_args(instance: str, party: str, number: int) -> list[str]:
        body = "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige"
        return ["transition", instance, STAGE, "--party", party, "--to", "adopted", "--at", "2026-11-20",
                "--field", "decision_date=2026-11-20", "--field", f"decision_body={body}", "--reference", f"§{number}",
                "--field", "agreement_outcome=antagen", "--field", "contract_outcome=antaget"]

    log = folder / "serve.log"
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    with serving(env, log):
        for instance in INSTANCES.values():
            wait_for(f"16 suspended adoption runs of {instance}", lambda: all_suspended(instance), timeout=300, log=log)
        # Let the first dashboards land before anything is timed.
        for instance in INSTANCES.values():
            wait_for(f"the dashboard of {instance}", lambda: adopted_on_dashboard(instance) == 0, timeout=60, log=log)
        print(f"serve up: 3 × 16 suspended adoption runs (serve's log: {log})", flush=True)

        # 1–3: the command line, as a subprocess.
        instance = INSTANCES["cli"]
        runs = branch_runs(instance, STAGE)
        for k, party in enumerate(sorted(runs)[:n_cli], start=1):
            run_id = runs[party][-1].id
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "samverkan", *transition_args(instance, party, k)], env=actor,
                                  capture_output=True, text=True, timeout=120)
            t1 = time.perf_counter()
            if done.returncode != 0:
                raise SystemExit(f"samverkan transition failed: {done.stdout}\n{done.stderr}")
            final_at = dash_at = None
            deadline = t1 + 60
            while final_at is None or dash_at is None:
                now = time.perf_counter()
                if final_at is None and run_final(run_id):
                    final_at = now
                if dash_at is None and adopted_on_dashboard(instance) == k:
                    dash_at = now
                if now > deadline:
                    raise SystemExit(f"timed out: CLI sample {k} ({party}); serve's log: {log}")
                time.sleep(POLL)
            record("cli.commit", t1 - t0)
            record("cli.final", final_at - t0)
            record("cli.final_after_return", final_at - t1)
            record("cli.dash", dash_at - t0)
            record("cli.dash_after_return", dash_at - t1)
            print(f"  cli {k:2} {party:22} returned {t1 - t0:5.2f}  run final {final_at - t0:5.2f}  dashboard {dash_at - t0:5.2f}", flush=True)

        # 1b: the same command in-process: the commit without start-up, and commit → dashboard.
        from samverkan.cli import main as cli_main

        instance = INSTANCES["inproc"]
        runs = branch_runs(instance, STAGE)
        os.environ.update({"SAMVERKAN_ACTOR": OFFICE, "SAMVERKAN_TOKEN": token})
        cli_main_warm = False
        for k, party in enumerate(sorted(runs)[:n_inproc], start=1):
            run_id = runs[party][-1].id
            out, err = StringIO(), StringIO()
            t0 = time.perf_counter()
            try:
                with redirect_stdout(out), redirect_stderr(err):
                    cli_main(transition_args(instance, party, 100 + k))
            except SystemExit as exit_:
                if exit_.code not in (0, None):
                    raise SystemExit(f"in-process transition failed: {out.getvalue()}\n{err.getvalue()}")
            t1 = time.perf_counter()
            final_at = poll_until(f"run final ({party})", lambda: run_final(run_id))
            dash_at = poll_until(f"dashboard {k}", lambda: adopted_on_dashboard(instance) == k)
            if cli_main_warm:  # the first call imports the command's modules: not the commit
                record("inproc.commit", t1 - t0)
            cli_main_warm = True
            record("inproc.final", final_at - t0)
            record("inproc.dash", dash_at - t0)
            print(f"  in-process {k:2} {party:22} committed {t1 - t0:5.3f}  run final {final_at - t0:5.2f}  dashboard {dash_at - t0:5.2f}", flush=True)
        for name in ("SAMVERKAN_ACTOR", "SAMVERKAN_TOKEN"):
            os.environ.pop(name, None)

        # 4: forms.
        instance = INSTANCES["form"]
        runs = branch_runs(instance, STAGE)
        for k, party in enumerate(sorted(runs)[:n_form], start=1):
            run_id = runs[party][-1].id
            answer = {"utfall": "Registrera antagande (Antaget)", "decision_date": "2026-11-20",
                      "decision_body": "Regionfullmäktige" if party == "region-vasterbotten" else "Kommunfullmäktige",
                      "paragraph": f"§{200 + k}", "agreement_outcome": "antagen", "contract_outcome": "antaget",
                      "e_post": OFFICE, "personlig_kod": token}
            t0 = time.perf_counter()
            resume(run_id, answer)
            t1 = time.perf_counter()
            committed_at = final_at = dash_at = None
            deadline = t1 + 90
            while committed_at is None or final_at is None or dash_at is None:
                now = time.perf_counter()
                if committed_at is None and node_state(instance, party) == "adopted":
                    committed_at = now
                if final_at is None and run_final(run_id):
                    final_at = now
                if dash_at is None and adopted_on_dashboard(instance) == k:
                    dash_at = now
                if now > deadline:
                    raise SystemExit(f"timed out: form sample {k} ({party}); serve's log: {log}")
                time.sleep(POLL)
            state = client.read_flow_run(run_id).state
            if state.type.value != "COMPLETED":
                raise SystemExit(f"form sample {k} ({party}): the run ended {state.type.value}: {state.message}")
            record("form.resume_call", t1 - t0)
            record("form.commit", committed_at - t0)
            record("form.final", final_at - t0)
            record("form.dash", dash_at - t0)
            print(f"  form {k:2} {party:22} committed {committed_at - t0:5.2f}  run completed {final_at - t0:5.2f}  "
                  f"dashboard {dash_at - t0:5.2f}", flush=True)

    # 5: the plain-Prefect baseline, with samverkan serve stopped.
    for label, poll, count in (("default", None, n_base_default), ("tuned", "1", n_base_tuned)):
        deployment = f"baseline-{label}"
        base_env = dict(os.environ)
        if poll:
            base_env["PREFECT_RUNNER_POLL_FREQUENCY"] = poll
        base_log = folder / f"{deployment}.log"
        with base_log.open("w") as out:
            runner = subprocess.Popen([sys.executable, str(ROOT / "bench" / "baseline_flow.py"), deployment], env=base_env,
                                      cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            from prefect.deployments import run_deployment

            wait_for(f"deployment {deployment}", lambda: _deployment_exists(client, f"baseline-suspend/{deployment}"),
                     timeout=60, log=base_log)
            ids = [run_deployment(f"baseline-suspend/{deployment}", timeout=0).id for _ in range(count)]
            wait_for(f"{count} suspended baseline runs", lambda: all(
                client.read_flow_run(i).state_type.value == "PAUSED" for i in ids), timeout=300, log=base_log)
            for k, run_id in enumerate(ids, start=1):
                t0 = time.perf_counter()
                resume(run_id, {"ok": True})
                done_at = poll_until(f"baseline run {k} completed", lambda: client.read_flow_run(run_id).state.is_final(), 90)
                state = client.read_flow_run(run_id).state
                if state.type.value != "COMPLETED":
                    raise SystemExit(f"baseline run ended {state.type.value}: {state.message}")
                record(f"base.{label}", done_at - t0)
                print(f"  baseline ({label} poll) {k:2} completed {done_at - t0:5.2f}", flush=True)
        finally:
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
                runner.wait()
    client.__exit__(None, None, None)
    report(results)


def _deployment_exists(client, name: str) -> bool:
    try:
        client.read_deployment_by_name(name)
        return True
    except Exception:  # noqa: BLE001 - not registered yet
        return False


def report(r: dict[str, list[float]]) -> None:
    print()
    print("Transition latency (seconds; median, min, max)")
    rows = [
        ("1. CLI transition (subprocess) → returned, committed", "cli.commit"),
        ("1b. same command in-process (samverkan.cli.main) → committed", "inproc.commit"),
        ("2. CLI transition → branch run final (from command start)", "cli.final"),
        ("   … from the command's return", "cli.final_after_return"),
        ("3. CLI transition → dashboard refreshed (from command start)", "cli.dash"),
        ("   … from the command's return", "cli.dash_after_return"),
        ("   in-process commit → branch run final", "inproc.final"),
        ("   in-process commit → dashboard refreshed", "inproc.dash"),
        ("4. form resume → decision committed in the store", "form.commit"),
        ("   (resume_flow_run call itself)", "form.resume_call"),
        ("   form resume → branch run Completed", "form.final"),
        ("   form resume → dashboard refreshed", "form.dash"),
        ("5. baseline: resume → Completed, default runner poll (10 s)", "base.default"),
        ("   baseline: resume → Completed, tuned runner poll (1 s)", "base.tuned"),
    ]
    for label, key in rows:
        if key in r:
            print(f"{label:66} {summary(r[key])}")
    print()
    dash, tuned = statistics.median(r["cli.dash"]), statistics.median(r["base.tuned"])
    form_dash = statistics.median(r["form.dash"])
    print(f"ratio (3) CLI → dashboard / tuned baseline: {dash / tuned:.2f}  ({dash:.3f} s / {tuned:.3f} s)")
    print(f"ratio form → dashboard / tuned baseline:    {form_dash / tuned:.2f}  ({form_dash:.3f} s / {tuned:.3f} s)")
    print(f"target: decision on dashboard < {TARGET:.0f} s median — CLI {dash:.3f} s: {'met' if dash < TARGET else 'NOT met'}; "
          f"form {form_dash:.3f} s: {'met' if form_dash < TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
