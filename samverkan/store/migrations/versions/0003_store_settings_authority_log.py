"""The store's own settings (is its clock real or simulated?) and the log of every change of
authority: tokens issued and revoked, roles granted and withdrawn, recoveries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from samverkan.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = op.create_table(
        "store_settings",
        sa.Column("key", sa.String(63), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    op.create_table(
        "authority_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("by", sa.String(320), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("detail", sa.Text),
    )
    # A store that already holds a record kept it against the real clock: it stays live.
    connection = op.get_bind()
    in_use = any(connection.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() for table in ("instances", "actors"))
    if in_use:
        op.bulk_insert(settings, [{"key": "clock", "value": "live"}])


def downgrade() -> None:
    op.drop_table("authority_log")
    op.drop_table("store_settings")
