"""Which database, how to connect, and bringing its schema up to date on first use.

SQLite (a file under SAMVERKAN_HOME, default ~/.samverkan) is the embedded default;
SAMVERKAN_DATABASE_URL selects another, e.g. postgresql+psycopg://user@host/db."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from samverkan.errors import SamverkanError, StoreUnavailable
from samverkan.faults import crash_point

if TYPE_CHECKING:  # Alembic is imported only where migrations run: a current database needs none of it
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions; a test holds it equal to Alembic's own head.
HEAD_REVISION = "0009"
VERSION_TABLE = "alembic_version"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def samverkan_home() -> Path:
    return Path(os.environ.get("SAMVERKAN_HOME") or Path.home() / ".samverkan").expanduser()


def database_url() -> str:
    url = os.environ.get("SAMVERKAN_DATABASE_URL")
    if url:
        return url
    home = samverkan_home()
    try:
        return f"sqlite:///{private_folder(home) / 'samverkan.db'}"
    except OSError as error:
        raise SamverkanError(f"SAMVERKAN_HOME {home}: cannot create the folder or the database: {error.strerror}") from None


_SECRET_OPTIONS = {"password", "sslpassword", "sslkey", "passfile"}  # libpq options that are or point at secrets


def safe_url(url: str) -> str:
    """The URL for a message: the password hidden, in the user part or as a query option."""
    parsed = make_url(url)
    hidden = {key: "hidden" for key in parsed.query if key.lower() in _SECRET_OPTIONS}
    return (parsed.update_query_dict(hidden) if hidden else parsed).render_as_string(hide_password=True)


def private_folder(folder: Path) -> Path:
    """The folder, made 0700 when it is created here: the record is for the office, not for
    every account on the machine. The files in it are made 0600 by `_private_files`."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode is filtered by the umask
    return folder


# Only the drivers the locking, isolation and crash guarantees were built and tested on.
SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
POSTGRESQL_DRIVERS = {"postgresql", "postgresql+psycopg"}
_SUPPORTED = "use sqlite:///PATH or postgresql://USER@HOST/DATABASE (with psycopg)"


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        # Not the URL itself: it may hold a password.
        raise SamverkanError(f"SAMVERKAN_DATABASE_URL: not a database URL; {_SUPPORTED}") from None
    if parsed.drivername in SQLITE_DRIVERS:
        if parsed.query:  # the driver would only warn, over several lines, and ignore them
            raise SamverkanError(f"SAMVERKAN_DATABASE_URL: a sqlite URL takes no options (?{'&'.join(parsed.query)})")
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_settings(engine)
        path = sqlite_file(url)
        if path is not None:
            _private_files(engine, path)
        return engine
    if parsed.drivername in POSTGRESQL_DRIVERS:
        engine = create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
        _postgresql_settings(engine)
        return engine
    raise SamverkanError(f"SAMVERKAN_DATABASE_URL: {parsed.drivername!r} is not supported; {_SUPPORTED}")


def _sqlite_settings(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed transition survives power loss
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A reader takes no lock: in WAL mode it sees the last commit, whatever a writer holds.
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock at the start: two writers then queue instead of one failing
            # halfway with "database is locked" after it has read a state that is about to change.
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _private_files(engine: Engine, path: Path) -> None:
    """The database and its -wal and -shm files readable by their owner only (SQLite creates
    them with the umask's permissions; a file made by hand keeps its own)."""

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection, _record) -> None:
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            try:
                if name.stat().st_mode & 0o077:
                    name.chmod(0o600)
            except OSError:  # not there (yet), or not ours to change: nothing to tighten
                pass


def _postgresql_settings(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")  # a read that writes is a bug: fail it


READ_ONLY = "samverkan_read_only"  # an execution option: the engine's transactions only read


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.drivername in SQLITE_DRIVERS and parsed.database and parsed.database != ":memory:":
        return Path(parsed.database)
    return None


def _create_sqlite_file(path: Path) -> None:
    """Create the file whole (header and WAL mode written) and only then give it its name, so a
    concurrent first use never sees it at 0 bytes, which would mean a lost record."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
        finally:
            connection.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError:
            pass  # no hard links on this file system: SQLite creates it on first use, as it would
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or _first_line(error)
        raise SamverkanError(f"cannot create the database {path}: {reason}; check that you may write in {path.parent}") from None
    finally:
        for leftover in (temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm")):
            leftover.unlink(missing_ok=True)


def empty_file_problem(path: Path, starting_afresh: bool = False) -> str:
    lost = f"the database {path} is empty (0 bytes): the record it held is lost"
    if starting_afresh:
        return f"{lost}; starting afresh with an empty database (restore it from a backup if you have one)"
    return f"{lost}; restore it from a backup, or run `samverkan db upgrade` to start again with an empty database"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return HEAD_REVISION


def _revision_of(connection: Connection) -> str | None:
    """The schema revision Alembic recorded, None when empty. Read directly, as Alembic's
    MigrationContext would: importing Alembic costs every command almost half a second."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    if len(rows) <= 1:
        return rows[0] if rows else None
    from alembic.runtime.migration import MigrationContext  # several heads: Alembic's own answer (an error)

    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    with engine.execution_options(**{READ_ONLY: True}).connect() as connection:
        return _revision_of(connection)


# pg_advisory_xact_lock's first key: "SVK"; the second is the schema, so schemas migrate apart.
_MIGRATION_LOCK = 0x53564B


def lock_for_migration(connection: Connection) -> None:
    """One process at a time checks and migrates; the others wait, then find it done. SQLite:
    the transaction's BEGIN IMMEDIATE already holds the write lock."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"),
                           {"key": _MIGRATION_LOCK})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate in one transaction, under the migration lock: a crash leaves nothing half-created."""
    from alembic import command

    with engine.connect() as connection, connection.begin():
        lock_for_migration(connection)
        command.upgrade(alembic_config(connection), revision)


class Database:
    """An engine, its sessions, and the guarantee that the schema is current."""

    def __init__(self, url: str | None = None, migrate: bool = True) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self._reader, expire_on_commit=False)
        # A file that exists but is empty held a record that is gone; one that is missing is a first use.
        self.empty_file: Path | None = None
        crash_point("database-opening")  # tests gather concurrent first uses here
        path = sqlite_file(self.url)
        if path is not None:
            try:
                self.empty_file = path if path.stat().st_size == 0 else None
            except FileNotFoundError:
                _create_sqlite_file(path)
            except OSError as error:
                raise SamverkanError(f"cannot open the database {path}: {error.strerror}") from None
        if migrate:
            self.ensure_schema()

    def ensure_schema(self, accept_empty_file: bool = False) -> None:
        """Migrate to the newest revision if needed. An empty file is refused unless accepted
        (by `samverkan db upgrade`): a new schema in it would hide that the record was lost."""
        if self.empty_file is not None and not accept_empty_file:
            raise SamverkanError(empty_file_problem(self.empty_file))
        head = head_revision()
        with self._errors():
            with self._reader.connect() as connection:  # the usual case: current, no lock taken
                if _revision_of(connection) == head:
                    return
            with self.engine.connect() as connection, connection.begin():
                lock_for_migration(connection)
                current = _revision_of(connection)  # again, under the lock: another may have done it
                if current == head:
                    return
                from alembic import command
                from alembic.script import ScriptDirectory

                known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
                if current is not None and current not in known:
                    raise SamverkanError(f"the database is at revision {current}, which this program does not know; upgrade samverkan")
                command.upgrade(alembic_config(connection), head)
        self.empty_file = None

    def revision(self) -> str | None:
        """The schema revision, None when empty; an unreachable database is one line."""
        if self.empty_file is not None:
            return None  # opening it would write a header: a report changes nothing
        with self._errors(), self._reader.connect() as connection:
            return _revision_of(connection)

    @property
    def safe_url(self) -> str:
        return safe_url(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed whole on success, rolled back whole on any error."""
        with self._unit(self._sessions) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads: it waits for no writer (SQLite: a deferred BEGIN
        in WAL mode; PostgreSQL: READ ONLY) and sees the last committed state."""
        with self._unit(self._read_sessions) as session:
            yield session

    @contextmanager
    def _unit(self, sessions: sessionmaker) -> Iterator[Session]:
        committing = False
        try:
            with sessions() as session, session.begin():
                yield session
                committing = True
        except DataError as error:
            # A safety net: input is checked before it gets here, but a value the database
            # still refuses (too long, NUL) must be one line, not a traceback with the SQL.
            raise SamverkanError(f"the database refused a value: {_first_line(error)}") from None
        except IntegrityError:
            raise  # a conflict: the caller says what it means
        except _driver_errors() as error:
            raise database_error(error, self.safe_url, committing) from None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except _driver_errors() as error:
            raise database_error(error, self.safe_url) from None

    def close(self) -> None:
        self.engine.dispose()


def _driver_errors() -> tuple[type[BaseException], ...]:
    """SQLAlchemy's wrapper, and the drivers' own errors should one escape it unwrapped. psycopg
    only if loaded: importing it costs every SQLite command a fifth of a second."""
    psycopg = sys.modules.get("psycopg")
    return (DBAPIError, sqlite3.Error) + ((psycopg.Error,) if psycopg else ())


def database_error(error: BaseException, where: str | None, committing: bool = False) -> SamverkanError:
    """A driver's failure as one line a person can act on: what is wrong with which database
    and what to do. Never the SQL or its parameters (SQLAlchemy's text holds both)."""
    db = f"the database {where}" if where else "the database"
    original = getattr(error, "orig", None) or error
    detail = _first_line(original)
    if isinstance(original, sqlite3.Error):
        name = getattr(original, "sqlite_errorname", "") or ""
        if name.startswith("SQLITE_FULL"):
            return StoreUnavailable(f"{db} is full: the disk has no room left; free some space and try again (nothing was changed)")
        if name.startswith("SQLITE_READONLY"):
            return SamverkanError(f"{db} is read-only: check the permissions of its file and folder "
                                  "(SQLite also writes FILE-wal and FILE-shm beside it); nothing was changed")
        if name.startswith("SQLITE_CANTOPEN"):
            return SamverkanError(f"cannot open {db}: check that its folder exists and that you may read and write there "
                                  "(SQLite also needs FILE-wal and FILE-shm beside it)")
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return SamverkanError(f"{db} is damaged ({detail}): restore it from a backup; nothing was changed")
        if name.startswith("SQLITE_IOERR"):
            return StoreUnavailable(f"{db}: disk I/O error: the disk may be full, failing or gone; check it (nothing was changed)")
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return StoreUnavailable(f"{db} is busy: another process has held its write lock for over "
                                  f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s; try again later (nothing was changed)")
        return SamverkanError(f"{db} failed: {detail} (nothing was changed)")
    state = getattr(original, "sqlstate", None) or ""
    if state == "53100":
        return StoreUnavailable(f"{db} is full: the server's disk has no room left; nothing was changed")
    if state == "25006":
        return SamverkanError(f"{db} is read-only (a standby server, or read-only by its settings); nothing was changed")
    if state.startswith(("XX001", "XX002")):
        return SamverkanError(f"{db} is damaged ({detail}): restore it from a backup; nothing was changed")
    if detail.startswith("connection failed"):  # psycopg could not connect at all
        return SamverkanError(f"cannot open {db}: {detail}")
    if state.startswith(("57P", "08")) or getattr(error, "connection_invalidated", False):
        if committing:  # the server may have committed before the connection broke
            return SamverkanError(f"lost the connection to {db} while committing: it may or may not be recorded; "
                                  "check with `samverkan audit` before trying again")
        return StoreUnavailable(f"lost the connection to {db} ({detail}); nothing was changed, try again")
    if isinstance(error, OperationalError) and not state:
        return SamverkanError(f"cannot open {db}: {detail}")
    return SamverkanError(f"{db} failed: {detail} (nothing was changed)")


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:199] + "…"
