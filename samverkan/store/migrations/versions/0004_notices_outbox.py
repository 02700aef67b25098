"""The outbox of e-mail notices: written in the transaction that causes a notice, then
delivered; its identity is unique, so nothing is queued or sent twice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from samverkan.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.String(100), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stage", sa.String(63), nullable=False),
        sa.Column("party", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("recipient_name", sa.String(200)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("send_at", UTCDateTime, nullable=False),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("last_error", sa.Text),
        sa.Column("queued_at", UTCDateTime, nullable=False),
        sa.Column("queued_by", sa.String(64), nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("message_id", sa.String(200)),
        sa.Column("message", sa.LargeBinary),
        sa.UniqueConstraint("instance_id", "stage", "party", "kind", "due_date", "recipient", name="uq_notices_identity"),
    )
    op.create_index("ix_notices_instance_id", "notices", ["instance_id"])
    op.create_index("ix_notices_state_send_at", "notices", ["state", "send_at"])


def downgrade() -> None:
    op.drop_table("notices")
