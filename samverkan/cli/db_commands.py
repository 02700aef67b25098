"""`samverkan db upgrade|current`: the database schema (Alembic migrations)."""

from __future__ import annotations

import sys

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # imported where used: the command line starts without SQLAlchemy
    from samverkan.store.database import Database

app = typer.Typer(help="The database: SQLite under SAMVERKAN_HOME, or SAMVERKAN_DATABASE_URL.", no_args_is_help=True)


def _warn_if_empty(db: Database, starting_afresh: bool = False) -> None:
    from samverkan.store.database import empty_file_problem

    if db.empty_file is not None:
        print(f"warning: {empty_file_problem(db.empty_file, starting_afresh)}", file=sys.stderr)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema up to the newest revision, keeping its data."""
    from samverkan.store.database import Database

    db = Database(migrate=False)
    try:
        _warn_if_empty(db, starting_afresh=True)
        before = db.revision()
        db.ensure_schema(accept_empty_file=True)  # running this is the confirmation to start afresh
        print(f"{db.safe_url}: {before or 'empty'} -> {db.revision()}")
    finally:
        db.close()


@app.command("current")
def current() -> None:
    """Show the database's schema revision and the newest one."""
    from samverkan.store.database import Database, head_revision

    db = Database(migrate=False)
    try:
        _warn_if_empty(db)
        revision = db.revision()
        print(f"{db.safe_url}: at {revision or 'empty'}, newest {head_revision()}{_clock(db, revision)}")
    finally:
        db.close()


def _clock(db: Database, revision: str | None) -> str:
    """Whose time the store records (from revision 0003 on): live, or simulated."""
    if revision is None or revision < "0003":
        return ""
    from samverkan.store.clock_mode import mode

    with db.read() as session:
        return f"; clock: {mode(session) or 'not yet set (the first write decides)'}"
