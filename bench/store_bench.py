"""How fast the durable state is: starting an instance, one transition, status, and the
whole 2027–2030 process driven from start to entry into force, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/store_bench.py [POSTGRES_URL]
(default postgresql+psycopg://postgres@127.0.0.1:5432/test; a schema is made and dropped)."""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pendulum  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition  # noqa: E402
from samverkan import instances  # noqa: E402
from samverkan.auth import Actor, Grant, GrantRole  # noqa: E402
from samverkan.clock import FixedClock  # noqa: E402
from samverkan.engine import TransitionRequest  # noqa: E402
from samverkan.status import status_rows  # noqa: E402
from samverkan.store.database import Database  # noqa: E402
from tests.drive import planned_steps  # noqa: E402

ACTOR = Actor("bench@region.example.org", (Grant(GrantRole.director_office),))


def run(label: str, url: str) -> None:
    loaded = load_definition(DEFAULT_DEFINITION)
    steps = planned_steps(loaded.definition)
    started = time.perf_counter()
    db = Database(url)
    migrate = time.perf_counter() - started
    now = pendulum.datetime(2027, 1, 2, 12, tz="Europe/Stockholm")
    started = time.perf_counter()
    instance = instances.start_instance(db, loaded, ACTOR.email, FixedClock(now))
    start = time.perf_counter() - started
    durations = []
    for step in steps:
        request = TransitionRequest(step.stage, step.party, step.to, pendulum.datetime(step.day.year, step.day.month, step.day.day, tz="Europe/Stockholm"), fields=step.fields)
        began = time.perf_counter()
        instances.transition(db, instance, request, ACTOR, FixedClock(now))
        durations.append(time.perf_counter() - began)
    began = time.perf_counter()
    with db.transaction() as session:
        loaded_state = instances.load(session, instance)
        status_rows(loaded_state.definition, loaded_state.state, now)
    status = time.perf_counter() - began
    db.close()
    durations.sort()
    print(f"{label:<11} migrate {migrate * 1000:7.1f} ms | start {start * 1000:6.1f} ms | "
          f"{len(steps)} transitions {sum(durations):5.2f} s (median {durations[len(durations) // 2] * 1000:5.1f} ms, "
          f"max {durations[-1] * 1000:5.1f} ms) | status {status * 1000:5.1f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.db")
    base = sys.argv[1] if len(sys.argv) > 1 else "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        run("PostgreSQL", make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
