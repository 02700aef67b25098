"""The real Prefect flows under simulated time: the sweep *deployment*, served by a runner,
and the process flow run day after simulated day against a simulated store, with the mail
going to a real SMTP server. The notices received must be exactly those that
`samverkan sweep --now` delivers on the same days from a second simulated store driven with the
same transitions: an independent path (the command line, in this process, no Prefect).

How the served flows get the simulated day: SAMVERKAN_NOW is read from the environment of the
process that runs a flow. The runner serves here, in the test's process (flows/serve.py's
`serve`, in a thread), and starts each flow run as a child process that inherits this process's
environment when it starts; so the test sets SAMVERKAN_NOW before each run. Nothing new lets a
store's clock be chosen: a pinned clock still writes only into a simulated store."""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

import pendulum
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort
from prefect.deployments import run_deployment

from samverkan.asyncrun import run_async
from samverkan.auth import Actor, Grant, GrantRole
from samverkan.calendar import TIMEZONE
from samverkan.clock import FixedClock
from samverkan.instances import load, transition
from samverkan.process_definitions import DEFAULT_DEFINITION
from samverkan.simulation.runs import run
from samverkan.simulation.scenario import AS_PLANNED
from samverkan.store.database import Database
from tests.illustrative import EXAMPLE
from tests.prefect_live import cli_here
from tests.smtp_servers import MailServer

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]

INSTANCE = "vb-simulerad"
# Three weeks: about 5 s of wall time per simulated weekday on a loaded 2-core machine (a sweep
# run is a new interpreter), and these weeks hold reminders, escalations, decisions and confirmations.
FIRST, LAST = pendulum.date(2026, 11, 23), pendulum.date(2026, 12, 11)
ACTOR = Actor("simulering@samverkan.example.org", (Grant(GrantRole.director_office),))
TAG = "simulerad-dag"


def _at(day: pendulum.Date, hour: int) -> pendulum.DateTime:
    return pendulum.datetime(day.year, day.month, day.day, hour, tz=TIMEZONE)


def _text(moment: pendulum.DateTime) -> str:
    return moment.in_timezone(TIMEZONE).format("YYYY-MM-DDTHH:mm")


def _env(folder, name: str, mail: MailServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKAN_")}
    env.update({"SAMVERKAN_DATABASE_URL": f"sqlite:///{folder / f'{name}.db'}", "SAMVERKAN_HOME": str(folder / f"home-{name}"),
                "SAMVERKAN_OUTBOX_LEASE": "0", "SAMVERKAN_SMTP_HOST": mail.host, "SAMVERKAN_SMTP_PORT": str(mail.port),
                "SAMVERKAN_SMTP_SECURITY": "none", "SAMVERKAN_SMTP_RATE": "0",
                "SAMVERKAN_SMTP_FROM": "Samverkan <samverkan@region-vasterbotten.example.org>"})
    return env


async def _register_others(flows: set[str]) -> None:
    """The deployments not served here, registered so the process flow finds them. Awaited in a
    loop of its own (run_async): an earlier test in this worker may have left one running here."""
    from samverkan.flows.deployments import deployments

    for deployment in await deployments():
        if deployment.flow_name not in flows:
            await deployment.aapply()


@contextmanager
def served(flows: set[str]):
    """flows/serve.py's serve() in a thread of this process, serving the named flows' deployments;
    every other deployment registered (the process flow creates branch runs of its own), not run."""
    from samverkan.flows.serve import serve

    started: dict = {}
    ready = threading.Event()

    async def main():
        started["loop"], started["stop"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        await serve(started["stop"], watch=False, flows=flows)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)  # a thread of its own: no loop there
    thread.start()
    assert ready.wait(30)
    run_async(_register_others(flows))
    try:
        yield
    finally:
        started["loop"].call_soon_threadsafe(started["stop"].set)
        thread.join(60)
        assert not thread.is_alive(), "the runner did not stop"


def _wait_deployment(name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with get_client(sync_client=True) as client:
                client.read_deployment_by_name(name)
            return
        except Exception:  # noqa: BLE001 - not registered yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _received(server: MailServer, since: int) -> list[tuple[tuple[str, ...], str]]:
    return sorted((tuple(r.rcpt_tos), str(r.message()["Subject"])) for r in server.received[since:])


async def _run_sweep(day: pendulum.Date):
    """The sweep deployment's run for one simulated day, awaited in a loop of its own: in a
    worker whose browser tests hold an event loop in this thread, the synchronous call would
    hand back a coroutine instead of the run."""
    return await run_deployment("sweep/samverkan", timeout=120, poll_interval=0.3, tags=[f"{TAG}:{day.isoformat()}"])


def _records(sweeps: dict) -> dict:
    """The Prefect flow-run record of each simulated day's sweep, read back from the server."""
    with get_client(sync_client=True) as client:
        return {day: client.read_flow_run(run.id) for day, run in sweeps.items()}


def test_the_sweep_deployment_and_the_process_flow_run_in_simulated_time(prefect_server, mail_server, tmp_path,
                                                                         monkeypatch, default_definition):
    started = time.monotonic()
    with MailServer() as reference_mail:
        served_env = _env(tmp_path, "served", mail_server)
        reference_env = _env(tmp_path, "reference", reference_mail)
        # Both stores: the default process with the illustrative history, first written with a
        # pinned clock, so simulated.
        for env in (served_env, reference_env):
            cli_here({**env, "SAMVERKAN_NOW": _text(_at(FIRST, 7))}, "start", str(DEFAULT_DEFINITION),
                     "--instance", INSTANCE, "--history", str(EXAMPLE))
        stores = {name: Database(env["SAMVERKAN_DATABASE_URL"]) for name, env in (("served", served_env), ("reference", reference_env))}
        with stores["served"].read() as session:
            state = dict(load(session, INSTANCE).state)
        # The scenario's acts: an in-memory run as planned from the recorded state (the engine's
        # own rules), applied to both stores on their days.
        acts = run(default_definition, state, FIRST, LAST, AS_PLANNED, random.Random(0)).acts
        by_day = defaultdict(list)
        for act in acts:
            by_day[act.day].append(act)
        assert len(by_day) >= 5, by_day

        for name, value in served_env.items():  # this process's, so the runner's children's
            monkeypatch.setenv(name, value)
        days, sweeps, processes, per_day = [], {}, {}, {}
        with served({"sweep"}):
            _wait_deployment("sweep/samverkan")
            day = FIRST
            while day <= LAST:
                if day.day_of_week not in (pendulum.SATURDAY, pendulum.SUNDAY):
                    days.append(day)
                    seen, seen_reference = len(mail_server.received), len(reference_mail.received)
                    monkeypatch.setenv("SAMVERKAN_NOW", _text(_at(day, 8)))
                    sweeps[day] = run_async(_run_sweep(day))
                    cli_here(reference_env, "sweep", "--now", _text(_at(day, 8)))
                    per_day[day] = (_received(mail_server, seen), _received(reference_mail, seen_reference))
                if by_day.get(day):
                    for act in by_day[day]:
                        for db in stores.values():
                            transition(db, INSTANCE, act.request(), ACTOR, FixedClock(act.at))
                    from samverkan.flows.process import process_flow

                    monkeypatch.setenv("SAMVERKAN_NOW", _text(_at(day, 17)))
                    processes[day] = process_flow(INSTANCE, return_state=True)
                day = day.add(days=1)
            # Read while the runner still serves: stopping it cancels the runs it still tracks,
            # and a sweep's process may still be exiting after reporting Completed.
            records = _records(sweeps)
        for db in stores.values():
            db.close()
        loop_seconds = time.monotonic() - started

        # The mail: exactly what the command line's sweeps sent on the same days, day by day.
        for day, (got, expected) in per_day.items():
            assert got == expected, day
        subjects = [subject for got, _ in per_day.values() for _, subject in got]
        assert len(subjects) >= 10, subjects
        kinds = " ".join(subjects).lower()
        for word in ("påminnelse", "bekräft"):
            assert word in kinds, (word, subjects)
        assert "eskal" not in kinds, subjects  # run as planned: nothing to escalate

    # Every run Completed; a flow-run record for each simulated day.
    assert all(r.state.is_completed() for r in sweeps.values()), {d: r.state for d, r in sweeps.items()}
    assert all(s.is_completed() for s in processes.values()), processes
    for day in days:
        record = records[day]
        assert f"{TAG}:{day.isoformat()}" in record.tags and record.state_type.value == "COMPLETED", (day, record.state)
    with get_client(sync_client=True) as client:
        overview = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[f"{INSTANCE}-oversikt"])),
                                         sort=ArtifactSort.CREATED_DESC)
    # The dashboard refreshed with the simulated time of each day the process flow ran.
    shown = [re.search(r"läge (\d{4}-\d{2}-\d{2} \d{2}:\d{2})", a.data)[1] for a in overview]
    assert shown[: len(processes)][::-1] == [f"{d.isoformat()} 17:00" for d in sorted(processes)]
    print(f"{len(days)} simulated weekdays, {len(processes)} days with transitions, {len(subjects)} mails: "
          f"{loop_seconds:.1f} s")
