"""Refused attempts counted, not listed: one audit row per actor, branch and day holds how
many times that actor tried, so an outsider cannot fill the public record with rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("attempts")
