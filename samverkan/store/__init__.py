"""The durable state: SQLAlchemy models, the database (SQLite by default, PostgreSQL in
production) and its Alembic migrations."""
