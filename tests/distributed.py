"""The distributed path as production runs it, for the tests: a Prefect server on PostgreSQL,
`prefect deploy --all` from prefect.yaml to a process work pool, `prefect worker start`
processes, and one `samverkan serve --watch-only`; and killing a worker with the flow runs it
started, by SIGKILL, as a machine's death would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.prefect_live import serving

REPOSITORY = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
WORKER_QUERY_SECONDS = "1"  # what prefect.yaml and the README recommend


def deploy(env: dict[str, str]) -> None:
    """The operator's steps 2 of prefect.yaml: a process work pool, then every deployment."""
    for args in (["work-pool", "create", "samverkan", "--type", "process"], ["--no-prompt", "deploy", "--all"]):
        done = subprocess.run([str(PREFECT), *args], env=env, cwd=REPOSITORY, capture_output=True, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise AssertionError(f"prefect {' '.join(args)}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


class Workers:
    """`prefect worker start --pool samverkan` processes, each logging to a file of its own."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = {**env, "PREFECT_WORKER_QUERY_SECONDS": WORKER_QUERY_SECONDS}
        self.folder = folder
        self.processes: list[subprocess.Popen] = []
        self.started = 0

    def start(self) -> subprocess.Popen:
        self.started += 1
        log = (self.folder / f"worker-{self.started}.log").open("w")
        process = subprocess.Popen([str(PREFECT), "worker", "start", "--pool", "samverkan", "--name", f"worker-{self.started}"],
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.processes if p.poll() is None]

    def holding(self, pid: int | None) -> subprocess.Popen | None:
        """The live worker that `pid` descends from."""
        for worker in self.alive():
            if pid is not None and pid in descendants(worker.pid):
                return worker
        return None

    def kill(self, worker: subprocess.Popen, with_flow_runs: bool = True) -> list[int]:
        """SIGKILL the worker and (unless told otherwise) every process it started: stopped
        first, so that it starts no new one while its tree is read. Returns the pids killed."""
        os.kill(worker.pid, signal.SIGSTOP)
        tree = [worker.pid, *(descendants(worker.pid) if with_flow_runs else [])]
        for pid in tree:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        worker.wait(timeout=30)
        return tree

    def stop_all(self) -> None:
        for worker in self.alive():
            self.kill(worker)


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def watching(env: dict[str, str], log: Path):
    """`samverkan serve --watch-only`, stopped with Ctrl-C at the end."""
    return serving(env, log, "--watch-only")
