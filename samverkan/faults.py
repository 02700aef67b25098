"""Named crash and pause points, so a test can stop the process at an exact moment of a
transaction and prove the database is before or after it, never between. Inert unless
SAMVERKAN_TEST_CRASH_AT or SAMVERKAN_TEST_PAUSE_AT names the point.

A crash is SIGKILL: no cleanup, no rollback handler. A pause appends a line to
SAMVERKAN_TEST_PAUSE_FILE (the PostgreSQL backend's pid, if there is a session, so a test can
kill the connection) and waits, holding whatever locks it holds, until the test deletes it."""

from __future__ import annotations

import os
import signal
import time

PAUSE_LIMIT_S = 120  # a forgotten pause must not outlive its test by much


def crash_point(name: str, session=None) -> None:
    if os.environ.get("SAMVERKAN_TEST_PAUSE_AT") == name:
        _pause(session)
    if os.environ.get("SAMVERKAN_TEST_CRASH_AT") != name:
        return
    if session is not None:
        session.flush()  # everything is written to the database, uncommitted
    os.kill(os.getpid(), signal.SIGKILL)


def _pause(session) -> None:
    path = os.environ["SAMVERKAN_TEST_PAUSE_FILE"]
    backend = ""
    if session is not None:
        session.flush()
        if session.bind.dialect.name == "postgresql":
            backend = str(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())
    with open(path, "a", encoding="utf-8") as file:
        file.write(f"{backend}\n")
    deadline = time.monotonic() + PAUSE_LIMIT_S
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
