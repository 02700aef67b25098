"""Is anyone still running this flow run? A flow run that Prefect shows as Running or Pending
may have lost its process (a worker killed, a machine gone) and nothing in Prefect then ends
it. Two signs tell: the process itself, when it ran on this machine (each of our flow runs
labels itself with its machine, process id and the process's start, so a reused id is not
mistaken for it), and Prefect's own heartbeat events, from any machine."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from functools import lru_cache
from pathlib import Path
from uuid import UUID

from prefect import get_client

PROCESS_LABEL = "samverkan.process"  # "<machine>/<pid>/<start>/<when labelled>" of the process running the run


@lru_cache(maxsize=1)
def this_machine() -> str:
    """The host name and this boot: after a restart the same numbers are other processes."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = "-"
    return f"{socket.gethostname()}:{boot}"


def _start_of(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), or None where /proc does not tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name in parentheses may hold spaces


def process_label() -> str:
    pid = os.getpid()
    return f"{this_machine()}/{pid}/{_start_of(pid) or '-'}/{time.time():.3f}"


def mark_process(flow_run_id: UUID) -> None:
    """Label the flow run with the process running it (called first thing in the flow)."""
    with get_client(sync_client=True) as client:
        client.update_flow_run_labels(flow_run_id, {PROCESS_LABEL: process_label()})


def process_alive(label: str | None, running_since: dt.datetime | None) -> bool | None:
    """True or False when the process that labelled the run in its present execution (the
    label made after the run last entered Running at `running_since`) ran on this machine;
    None when it cannot be told from here: another machine, or no label of this execution (a
    resumed run keeps the label of the process that ran it before)."""
    if not label or label.count("/") != 3 or running_since is None:
        return None
    machine, pid_text, start, labelled = label.split("/")
    try:
        current = float(labelled) >= running_since.timestamp()
    except ValueError:
        return None
    if not current or machine != this_machine() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    if start != "-":
        return _start_of(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_heartbeat(client, flow_run_id: UUID | str, since: dt.datetime) -> dt.datetime | None:
    """The newest heartbeat event Prefect holds for the flow run since `since`, or None."""
    body = client._client.post("/events/filter", json={
        "filter": {"event": {"name": ["prefect.flow-run.heartbeat"]},
                   "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
                   "occurred": {"since": since.isoformat()}, "order": "DESC"},
        "limit": 1}).json()
    events = body.get("events") or []
    return dt.datetime.fromisoformat(events[0]["occurred"].replace("Z", "+00:00")) if events else None
