"""Alembic's entry: runs migrations on the connection Samverkan hands over (in its transaction,
under its migration lock), or, when run as `alembic upgrade head` from the project folder, on
SAMVERKAN_DATABASE_URL / the default, the same way."""

from alembic import context

from samverkan.faults import crash_point
from samverkan.store.database import database_url, lock_for_migration, make_engine
from samverkan.store.models import Base

config = context.config


def _after_each_step(**_) -> None:
    crash_point("migration-step-applied")  # a test kills here: the steps so far must not stay


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite's DDL is transactional too; alembic would otherwise commit after each step.
        transactional_ddl=True,
        on_version_apply=_after_each_step,
    )
    with context.begin_transaction():  # inside the caller's transaction: one for all steps
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(database_url())
    with engine.connect() as connection, connection.begin():
        lock_for_migration(connection)
        run(connection)
