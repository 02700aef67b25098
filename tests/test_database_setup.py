"""The embedded default and its failure modes: WAL mode, first-use migration, clear errors."""

import json


from samverkan.store.database import Database, current_revision, head_revision
from tests.cli_helpers import run_cli


def test_sqlite_default_lives_under_samverkan_home_in_wal_mode(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SAMVERKAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("SAMVERKAN_HOME", str(tmp_path / "home"))
    assert "at empty" in run_cli(capsys, "db", "current").out  # a report changes nothing
    assert "ingen processinstans ännu" in run_cli(capsys, "status").err  # the first real use creates and migrates
    assert f"at {head_revision()}, newest {head_revision()}" in run_cli(capsys, "db", "current").out
    database = Database()
    try:
        assert database.url == f"sqlite:///{tmp_path / 'home' / 'samverkan.db'}"
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert current_revision(database.engine) == head_revision()
    finally:
        database.close()


def test_unreachable_or_unknown_databases_get_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = run_cli(capsys, "status")
    assert result.code == 2 and result.err.count("\n") == 1 and "cannot open the database" in result.err
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "mysql://x@localhost/y")
    result = run_cli(capsys, "status")
    assert result.code == 2 and "'mysql' is not supported" in result.err
    monkeypatch.setenv("SAMVERKAN_DATABASE_URL", "not a url")
    result = run_cli(capsys, "status")
    assert result.code == 2 and "not a database URL" in result.err


def test_status_as_of_judges_deadlines_at_another_time(cli_env, capsys):
    assert run_cli(capsys, "start", "process_definitions/samverkan_2027_2030.yaml").code == 0
    early = json.loads(run_cli(capsys, "status", "--json", "--as-of", "2025-10-01").out)
    memo = next(s for s in early["stages"] if s["id"] == "memo")
    assert memo["days_left"] == 16 and not memo["late"] and early["as_of"].startswith("2025-10-01T00:00:00+02:00")
    late = json.loads(run_cli(capsys, "status", "--json", "--as-of", "2025-10-20T08:00").out)
    assert next(s for s in late["stages"] if s["id"] == "memo")["late"] is True
    bad = run_cli(capsys, "status", "--as-of", "igår")
    assert bad.code == 2 and "--as-of: 'igår' är inget datum eller klockslag" in bad.err


def test_a_pinned_clock_that_is_not_a_time_is_one_line(cli_env, capsys, monkeypatch):
    monkeypatch.setenv("SAMVERKAN_NOW", "soon")
    result = run_cli(capsys, "status")
    assert result.code == 2 and "SAMVERKAN_NOW: 'soon' är inget datum eller klockslag" in result.err


def test_no_instance_yet_is_a_clear_error(cli_env, capsys):
    result = run_cli(capsys, "status")
    assert result.code == 2 and "ingen processinstans ännu" in result.err
    assert run_cli(capsys, "audit", "--format", "xml").err.strip() == "fel: --format: 'xml' är varken csv eller json"


def test_head_revision_is_alembics_head(tmp_path):
    """HEAD_REVISION spares a current database the import of Alembic: it must name the newest
    migration, and the revision read without Alembic must be the one Alembic reads."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from samverkan.store.database import HEAD_REVISION, alembic_config, _revision_of

    assert HEAD_REVISION == ScriptDirectory.from_config(alembic_config()).get_current_head()
    database = Database(f"sqlite:///{tmp_path / 'head.db'}", migrate=False)
    try:
        for step in (None, HEAD_REVISION):
            if step:
                database.ensure_schema()
            with database.engine.connect() as connection:
                assert _revision_of(connection) == MigrationContext.configure(connection).get_current_revision() == step
    finally:
        database.close()
