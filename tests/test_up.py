"""`samverkan up`, the main job, as a newcomer runs it: a local Prefect server, the default
process started with its illustrative history, its branch runs waiting with their forms, the
dashboard URL printed; Ctrl-C stops it all, leaving no process behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes_mentioning(text: str) -> list[str]:
    """Processes whose environment holds `text` (the test's own SAMVERKAN_HOME)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if text.encode() in (entry / "environ").read_bytes():
                found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes().replace(bytes(1), b' ').decode(errors='replace')}")
        except OSError:
            continue
    return found


def test_up_starts_everything_prints_the_dashboard_and_stops_cleanly(tmp_path):
    home = tmp_path / "home"
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "SAMVERKAN_"))}
    env["SAMVERKAN_HOME"] = str(home)
    out = tmp_path / "up.log"
    with out.open("w") as log:
        up = subprocess.Popen([sys.executable, "-m", "samverkan", "up", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while "Instrumentpanelen:" not in out.read_text() and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.5)
        printed = out.read_text()
        assert f"Instrumentpanelen: http://127.0.0.1:{port}" in printed, printed
        assert "Startar Prefect-servern" in printed and "Startade standardprocessen" in printed
        from prefect import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            from tests.prefect_live import latest_states, wait_for

            # The illustrative history has 1 of 16 adopted: 15 adoption runs wait with their forms.
            states = wait_for("15 waiting adoption runs", lambda: (s := latest_states()) and list(s.values()).count("PAUSED") == 15 and s,
                              timeout=90, log=out)
            assert "storuman" not in states and "skelleftea" in states
            with get_client(sync_client=True) as client:
                names = {d.name for d in client.read_deployments()}
            assert names == {"samverkan"} and len(client_deployments(port)) == 5  # process, branch, transition, sweep, odds
            # Prefect's scheduler creates the scheduled deployments' runs (the 08:00 sweep, the odds, the
            # safety net), and logs no traceback doing it (SQLAlchemy 2.1 broke it: no run ever came).
            from tests.schedules import every_schedule_has_runs, tracebacks

            wait_for("scheduled runs of process, sweep and odds", every_schedule_has_runs, timeout=120, log=out)
            assert tracebacks(home / "prefect" / "server.log") == ""
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=120)  # a process flow under way finishes first; generous for a loaded CI machine
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            raise
    assert up.returncode == 0, out.read_text()[-2000:]
    assert "Stoppad." in out.read_text()
    time.sleep(1)
    assert _processes_mentioning(str(home)) == []  # no orphan server, runner or flow run


def client_deployments(port: int) -> list[str]:
    import json
    import urllib.request

    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/deployments/filter", data=b"{}",
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return [d["name"] for d in json.load(response)]


def test_up_serve_and_doctor_refuse_in_one_line_when_prefect_is_not_there(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "SAMVERKAN_"))}
    env["SAMVERKAN_HOME"] = str(tmp_path / "home")
    cases = [
        ({"PREFECT_API_URL": "http://127.0.0.1:9/api"}, ["up"], "does not answer"),
        ({}, ["up", "--port", "70000"], "not a TCP port"),
        ({}, ["serve"], "PREFECT_API_URL is not set"),
        ({}, ["doctor"], "no Prefect server answers"),
    ]
    for extra, args, reason in cases:
        done = subprocess.run([sys.executable, "-m", "samverkan", *args], env={**env, **extra}, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 2 and reason in done.stderr, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / "prefect").exists()  # nothing was started
