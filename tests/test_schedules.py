"""Prefect's scheduler creates the runs of the scheduled deployments (the weekday 08:00 e-mail
sweep, the 06:30 odds, the 15-minute safety net) on the PostgreSQL server that production runs,
with no traceback in the server's log; and `samverkan doctor` says so in one line when a
server's scheduler creates none. (The SQLite server of `samverkan up`: tests/test_up.py.)

With SQLAlchemy 2.1 (which the project once allowed) the server's scheduler failed every
minute with "Can't evaluate bulk DML statement" and no run was ever created: these tests fail
there."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.prefect_live import register_deployments, serving, wait_for
from tests.schedules import SCHEDULED_FLOWS, every_schedule_has_runs, tracebacks

pytestmark = [pytest.mark.prefect, pytest.mark.xdist_group("prefect")]


@pytest.mark.postgres
def test_the_schedules_create_runs_on_a_postgresql_server(tmp_path):
    from tests.prefect_server import client_environment, postgres_database, running_server

    with postgres_database() as url, running_server(tmp_path / "prefect", url) as settings, client_environment(settings):
        env = {**os.environ, **settings.environment(), "SAMVERKAN_HOME": str(tmp_path / "home")}
        for name in ("SAMVERKAN_NOW", "SAMVERKAN_DATABASE_URL"):
            env.pop(name, None)
        log = tmp_path / "serve.log"
        with serving(env, log):
            found = wait_for("scheduled runs of process, sweep and odds", every_schedule_has_runs, timeout=120, log=log)
            assert all(found[name] >= 1 for name in SCHEDULED_FLOWS), found
            from samverkan.flows.doctor import scheduler_problems

            assert scheduler_problems(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)) == []
        assert tracebacks(settings.log_path) == ""


def test_doctor_says_in_one_line_when_the_scheduler_creates_no_runs(tmp_path, monkeypatch):
    from tests.prefect_server import client_environment, running_server

    # A server whose scheduler does nothing, as the SQLAlchemy 2.1 one did.
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED", "false")
    with running_server(tmp_path / "prefect") as settings, client_environment(settings):
        from samverkan.flows.doctor import scheduler_problems

        register_deployments()
        assert scheduler_problems() == []  # just saved: the scheduler is given its minute
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
        problems = scheduler_problems(later)
        assert sorted(line.split(":")[1].split("/")[0].strip() for line in problems) == sorted(SCHEDULED_FLOWS)
        assert all("\n" not in line and "har schema men ingen schemalagd körning" in line for line in problems), problems
