"""Which database, how to connect, and bringing its schema up to date on first use.

SQLite (a file under SAMVERKAN_HOME, default ~/.samverkan) is the embedded default;
SAMVERKAN_DATABASE_URL selects another, e.g. postgresql+psycopg://user@host/db."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from samverkan.errors import SamverkanError

MIGRATIONS = Path(__file__).with_name("migrations")
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
        if parsed.database and parsed.database != ":memory:":
            _private_files(engine, Path(parsed.database))
        return engine
    if parsed.drivername in POSTGRESQL_DRIVERS:
        return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
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


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


class Database:
    """An engine, its sessions, and the guarantee that the schema is current."""

    def __init__(self, url: str | None = None, migrate: bool = True) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate:
            self.ensure_schema()

    def ensure_schema(self) -> None:
        with self._opening():
            current = current_revision(self.engine)
            head = head_revision()
            if current == head:
                return
            known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if current is not None and current not in known:
                raise SamverkanError(f"the database is at revision {current}, which this program does not know; upgrade samverkan")
            upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision, None when empty; an unreachable database is one line."""
        with self._opening():
            return current_revision(self.engine)

    @contextmanager
    def _opening(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, DBAPIError) as error:
            raise SamverkanError(f"cannot open the database {self.safe_url}: {_first_line(error)}") from None

    @property
    def safe_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed whole on success, rolled back whole on any error."""
        try:
            with self._sessions() as session, session.begin():
                yield session
        except DataError as error:
            # A safety net: input is checked before it gets here, but a value the database
            # still refuses (too long, NUL) must be one line, not a traceback with the SQL.
            raise SamverkanError(f"the database refused a value: {_first_line(error)}") from None

    def close(self) -> None:
        self.engine.dispose()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
