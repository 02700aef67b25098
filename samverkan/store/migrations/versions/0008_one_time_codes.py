"""One-time codes: what a form asks for instead of a personal token, which must never be typed
where Prefect keeps it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from samverkan.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("instance_id", sa.String(100), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.String(63), nullable=False),
        sa.Column("party", sa.String(63)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("issued_by", sa.String(320), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("spent_at", UTCDateTime()),
        sa.Column("spent_how", sa.String(16)),
        sa.Column("spent_for", sa.String(64)),
    )
    op.create_index("ix_one_time_codes_node", "one_time_codes", ["instance_id", "stage", "party"])


def downgrade() -> None:
    op.drop_table("one_time_codes")
