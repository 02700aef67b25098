"""Shared fixtures: the default definition, small definitions written inline, and a real
Prefect server for the tests that ask for one."""

from __future__ import annotations

import textwrap

import pytest

from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition, parse_definition
from tests.databases import database_url


@pytest.fixture(scope="session")
def default_definition():
    return load_definition(DEFAULT_DEFINITION).definition


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A throw-away Prefect server (its own SQLite database) for the session, started only when
    a test asks for it: about 20 s. Prefect is imported here, not above, so that the other
    tests neither load it nor wait for it. No analytics: nothing may call out from here."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_ANALYTICS_ENABLED, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Settings, not only the environment: Prefect reads the environment once, at import. The
    # server process gets both (the environment, and the settings made here).
    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        with temporary_settings(updates={PREFECT_HOME: str(home), PREFECT_SERVER_ANALYTICS_ENABLED: False}):
            with prefect_test_harness(server_startup_timeout=120):
                yield PREFECT_API_URL.value()


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
