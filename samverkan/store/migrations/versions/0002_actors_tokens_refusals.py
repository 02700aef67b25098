"""Actors, their roles and personal tokens; refused attempts in the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from samverkan.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(63)),
        sa.Column("party", sa.String(63)),
        sa.UniqueConstraint("actor_id", "role", "stage", "party", name="uq_grants"),
    )
    op.create_index("ix_grants_actor_id", "grants", ["actor_id"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_tokens_actor_id", "tokens", ["actor_id"])
    # Every transition recorded before this revision was applied: refusals were not kept then.
    with op.batch_alter_table("transitions") as batch:
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default="applied"))
        batch.add_column(sa.Column("refusal", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("transitions") as batch:
        batch.drop_column("refusal")
        batch.drop_column("outcome")
    op.drop_table("tokens")
    op.drop_table("grants")
    op.drop_table("actors")
