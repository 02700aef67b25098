"""Shared fixtures: the default definition, small definitions written inline, a real Prefect
server, a real SMTP server and a real browser (each started only for the tests that ask for it)."""

from __future__ import annotations

import textwrap

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition, parse_definition
from tests import browser
from tests import prefect_server as servers
from tests.databases import database_url
from tests.smtp_servers import mail_server, smtp_certificates  # noqa: F401 - fixtures for every test module


@pytest.fixture(scope="session")
def default_definition():
    return load_definition(DEFAULT_DEFINITION).definition


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Every store test runs against both databases."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):
    """The command line pointed at a fresh database, with its clock pinned."""
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", db_url)
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SAMVERKAN_NOW", "2026-11-22T10:00:00")
    for name in ("SAMVERKAN_TOKEN", "SAMVERKAN_ACTOR", "SAMVERKAN_TEST_CRASH_AT"):
        monkeypatch.delenv(name, raising=False)
    return db_url


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A Prefect server on SQLite for the whole session (for each xdist worker that runs a
    test asking for it); this process's Prefect clients, and the processes it starts, talk to
    it. Yields its ServerSettings."""
    with servers.running_server(tmp_path_factory.mktemp("prefect")) as settings:
        with servers.client_environment(settings):
            yield settings


@pytest.fixture(scope="session")
def prefect_server_postgres(tmp_path_factory):
    """A Prefect server on a fresh PostgreSQL database, dropped afterwards. Clients are not
    pointed at it: wrap the calls in `tests.prefect_server.client_environment(settings)`."""
    with servers.postgres_database() as url:
        with servers.running_server(tmp_path_factory.mktemp("prefect-pg"), url) as settings:
            yield settings


@pytest.fixture(scope="session")
def chromium_browser():
    with browser.chromium() as launched:
        yield launched


@pytest.fixture
def browser_page(chromium_browser):
    """A fresh page (its own cookies and storage) in the session's headless chromium."""
    with browser.new_page(chromium_browser) as page:
        yield page


SMALL = """
format: samverkan/v1
id: small
version: 1
name: Liten process
period: {start: 2027-01-01, end: 2030-12-31}
reminder_defaults: {before: [P1W], on_day: true}
parties:
  - id: region
    name: Regionen
    kind: region
    contacts: [{name: Kansliet, email: kansli@region.example.org, role: director-office}]
  - id: umea
    name: Umeå kommun
    kind: municipality
    contacts: [{name: Sekreterare, email: sekreterare@umea.example.org, role: secretary}]
  - id: asele
    name: Åsele kommun
    kind: municipality
    contacts: [{name: Sekreterare, email: sekreterare@asele.example.org, role: secretary}]
  - id: vannas
    name: Vännäs kommun
    kind: municipality
    contacts: [{name: Sekreterare, email: sekreterare@vannas.example.org, role: secretary}]
groups:
  - {id: kommuner, name: Kommunerna, members: [umea, asele, vannas]}
lifecycles:
  - id: task
    name: Uppgift
    states:
      - {id: waiting, name: Väntar, kind: waiting}
      - {id: ready, name: Redo, kind: ready}
      - {id: done, name: Klart, kind: done}
      - {id: failed, name: Misslyckat, kind: failed}
    transitions:
      - {from: ready, to: done, requires_record: true}
      - {from: ready, to: failed}
      - {from: failed, to: done, requires_record: true}
stages:
  - id: first
    name: Första
    owner: region
    responsible_role: director-office
    timing: {day: 2026-03-02, basis: fixed}
    lifecycle: task
  - id: branches
    name: Grenar
    owner: region
    responsible_role: secretary
    depends_on: [first]
    for_each: {group: kommuner, join: JOIN}
    timing: {duration: P4W, basis: estimate}
    lifecycle: task
    record: [{id: paragraph, name: Paragraf, type: text}]
  - id: last
    name: Sista
    owner: region
    responsible_role: director-office
    depends_on: [branches]
    timing: {duration: P2W, basis: estimate}
    deadline: {date: 2026-05-29, basis: fixed, hard: true}
    lifecycle: task
"""


def small_definition(join: str = "all", **replace: str):
    text = SMALL.replace("JOIN", join)
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_definition(textwrap.dedent(text), "small.yaml").definition
