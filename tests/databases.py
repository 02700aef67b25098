"""Test databases: a fresh SQLite file, or a fresh schema in the PostgreSQL server named by
SAMVERKAN_TEST_POSTGRES_URL (default: the local server, database `test`). In CI
(CI=true) an unreachable PostgreSQL fails the tests instead of skipping them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("SAMVERKAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> str | None:
    """None if the server answers, else why not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: not available
        return str(error).splitlines()[0]


def require_postgres() -> None:
    """Skip the test when PostgreSQL does not answer; in CI (CI=true), fail it instead."""
    reason = postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but does not answer: {reason}")
        pytest.skip(f"PostgreSQL not available: {reason}")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose connections see only a new, empty schema; dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'samverkan.db'}"
    else:
        with postgres_schema() as url:
            yield url


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two dumps are equal only if nothing changed."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            return {
                table: sorted((tuple(map(repr, row)) for row in connection.execute(text(f'SELECT * FROM "{table}"'))))
                for table in sorted(tables)
            }
    finally:
        engine.dispose()
