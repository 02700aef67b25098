"""A real Prefect server for the tests: started once per test session (per xdist worker that
asks for one) on a free port, in a temporary folder, on SQLite or on a fresh PostgreSQL
database. (xdist's --dist loadgroup cannot keep a server's tests on one worker: with pytest 9
its group marks are silently ignored.)"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from samverkan.flows.server import LocalServer, ServerSettings
from tests.databases import POSTGRES_URL, require_postgres


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


# A first start migrates a new database: tens of seconds, and several times that on a machine
# busy with other test runs. Generous, so that a slow start is not a failed test.
START_TIMEOUT = 300


@contextmanager
def running_server(home: Path, database_url: str | None = None) -> Iterator[ServerSettings]:
    settings = ServerSettings(home=home, port=free_port(), database_url=database_url)
    server = LocalServer(settings)
    server.start(timeout=START_TIMEOUT)
    try:
        yield settings
    finally:
        server.stop()


@contextmanager
def client_environment(settings: ServerSettings) -> Iterator[None]:
    """This process's Prefect clients, and the processes it starts, talk to `settings`' server.

    Prefect reads the environment once, into a process-wide settings context, when it is
    first imported: that context is rebuilt after the environment changes, and again after
    it is restored."""
    import prefect.context

    saved = {name: os.environ.get(name) for name in settings.environment()}
    os.environ.update(settings.environment())
    prefect.context.refresh_global_settings_context()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        prefect.context.refresh_global_settings_context()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for a Prefect server (asyncpg URL); dropped afterwards."""
    require_postgres()
    name = f"prefect_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # FORCE: a server that died uncleanly may leave a connection behind.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
