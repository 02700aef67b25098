"""The local Prefect server (samverkan.flows.server) for real: it starts, answers, stops without
leaving a process behind, refuses a taken port and says in one line why it could not start;
and what a flow publishes shows in the Prefect UI, read by a real browser."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from samverkan.errors import SamverkanError
from samverkan.flows import server as server_module
from samverkan.flows.server import LocalServer, ServerSettings, last_words, server_answers
from tests.browser import open_artifact
from tests.prefect_server import START_TIMEOUT, client_environment, free_port

MUNICIPALITIES = ["Åsele kommun", "Vännäs kommun", "Skellefteå kommun"]


def group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_no_server_process_outlives_its_owner(tmp_path):
    home = tmp_path / "prefect"
    settings = ServerSettings(home=home, port=free_port())
    messages: list[str] = []
    server = LocalServer(settings, progress=messages.append)
    server.start(timeout=START_TIMEOUT)
    try:
        group = server.process.pid
        assert server_answers(settings.api_url)
        assert os.getpgid(group) == group != os.getpgrp()  # a process group of its own
    finally:
        server.stop()
    assert not group_alive(group)
    assert not server_answers(settings.api_url, timeout=0.5)
    assert messages[0] == f"Startar Prefect-servern på {settings.ui_url} …"

    # `samverkan` ends at once on Ctrl-C (os._exit), without stop(): the server must go too.
    parent = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from samverkan.flows.server import LocalServer, ServerSettings
        server = LocalServer(ServerSettings(home=Path({str(home)!r}), port={settings.port}))
        server.start(timeout={START_TIMEOUT})
        print(server.process.pid, flush=True)
        os._exit(130)
    """)
    done = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=START_TIMEOUT + 30)
    assert done.returncode == 130, done.stderr
    orphan = int(done.stdout)
    assert wait_until(lambda: not group_alive(orphan), timeout=20)
    assert not server_answers(settings.api_url, timeout=0.5)


def test_a_taken_port_is_refused_in_one_line_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = LocalServer(ServerSettings(home=tmp_path / "prefect", port=port))
        with pytest.raises(SamverkanError) as refused:
            server.start()
    assert str(refused.value) == (
        f"Prefect-servern kan inte starta: port {port} på 127.0.0.1 används redan; "
        "välj en annan port eller stoppa det som använder den"
    )
    assert server.process is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [("postgresql://postgres:hemligt@127.0.0.1/prefect", " (den börjar med 'postgresql://')"), ("prefect.db", "")],
    ids=["sync-driver", "no-scheme"],
)
def test_a_database_url_without_an_async_driver_is_refused_before_anything_starts(tmp_path, url, shown):
    server = LocalServer(ServerSettings(home=tmp_path / "prefect", port=free_port(), database_url=url))
    with pytest.raises(SamverkanError) as refused:
        server.start()
    assert str(refused.value) == (
        "Prefect-servern: databasadressen ska börja med sqlite+aiosqlite:// eller postgresql+asyncpg://" + shown
    )
    assert server.process is None and not (tmp_path / "prefect").exists()


def test_a_server_that_dies_at_start_says_why_in_one_line(tmp_path, monkeypatch):
    # Another program takes the port between the check and the server's own bind.
    monkeypatch.setattr(server_module, "port_free", lambda host, port: True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = ServerSettings(home=tmp_path / "prefect", port=taken.getsockname()[1])
        server = LocalServer(settings)
        with pytest.raises(SamverkanError) as died:
            server.start(timeout=START_TIMEOUT)
    assert str(died.value) == (
        f"Prefect-servern avslutades under starten (kod 1): Port {settings.port} is already in use. "
        f"Please specify a different port with the `--port` flag. (hela loggen: {settings.log_path})"
    )
    assert server.process is None


TRACEBACK = """\
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/sqlalchemy/dialects/postgresql/asyncpg.py", line 855, in _handle_exception_no_connection
    raise translated_error from error
sqlalchemy.exc.DBAPIError: (sqlalchemy.dialects.postgresql.asyncpg.Error) database "prefect" does not exist
(Background on this error at: https://sqlalche.me/e/21/dbapi)

ERROR:    Application startup failed. Exiting.
Server stopped!
"""


@pytest.mark.parametrize(
    ("log", "said"),
    [
        (TRACEBACK, 'sqlalchemy.exc.DBAPIError: (sqlalchemy.dialects.postgresql.asyncpg.Error) database "prefect" does not exist'),
        ("banner\n\nfirst\nsecond\x1b[31m\nthird\n", "first / second\\x1b[31m / third"),
        ("\n \n", "ingenting i loggen"),
    ],
    ids=["traceback", "plain-lines", "empty"],
)
def test_the_last_words_of_a_dead_server_are_one_line_without_a_traceback(log, said):
    assert last_words(log) == said


def test_a_flow_runs_against_a_postgresql_backed_server(prefect_server_postgres):
    from prefect import flow, get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    @flow(name="samverkan-postgres")
    def greet() -> str:
        return "hej"

    with client_environment(prefect_server_postgres):
        assert greet() == "hej"
        with get_client(sync_client=True) as client:
            assert client.api_url == prefect_server_postgres.api_url + "/"
            runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["samverkan-postgres"])))
    assert [run.state.type.value for run in runs] == ["COMPLETED"]


def test_a_table_artifact_shows_in_the_prefect_ui(prefect_server, browser_page, tmp_path):
    from prefect import flow
    from prefect.artifacts import create_table_artifact

    @flow(name="antaganden")
    def publish() -> None:
        rows = [{"kommun": name, "antagen": "ja"} for name in MUNICIPALITIES]
        create_table_artifact(key="test-antaganden", table=rows, description="Antaganden i kommunerna")

    publish()  # in this process: its client must be talking to the test server
    open_artifact(browser_page, prefect_server.ui_url, "test-antaganden")
    text = browser_page.inner_text("body")
    for name in MUNICIPALITIES:
        assert name in text
    shot = tmp_path / "artifact.png"
    browser_page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
