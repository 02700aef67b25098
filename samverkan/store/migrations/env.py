"""Alembic's entry: runs migrations on the engine Samverkan hands over, or, when run as
`alembic upgrade head` from the project folder, on SAMVERKAN_DATABASE_URL / the default."""

from alembic import context

from samverkan.store.database import database_url, make_engine
from samverkan.store.models import Base

config = context.config
engine = config.attributes.get("engine") or make_engine(database_url())

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
