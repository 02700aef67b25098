"""Process instances, their nodes and the audit trail of transitions.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from samverkan.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("registered_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("process_id", "version", name="uq_definitions_process_version"),
    )
    op.create_table(
        "instances",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("definition_id", sa.Integer, sa.ForeignKey("definitions.id"), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_by", sa.String(320), nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "nodes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.String(100), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(140), nullable=False),
        sa.Column("stage", sa.String(63), nullable=False),
        sa.Column("party", sa.String(63)),
        sa.Column("state", sa.String(63), nullable=False),
        sa.Column("ready_at", UTCDateTime),
        sa.Column("started_at", UTCDateTime),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("changed_at", UTCDateTime),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.UniqueConstraint("instance_id", "key", name="uq_nodes_instance_key"),
    )
    op.create_index("ix_nodes_instance_id", "nodes", ["instance_id"])
    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.String(100), sa.ForeignKey("instances.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("node_key", sa.String(140), nullable=False),
        sa.Column("stage", sa.String(63), nullable=False),
        sa.Column("party", sa.String(63)),
        sa.Column("from_state", sa.String(63), nullable=False),
        sa.Column("to_state", sa.String(63), nullable=False),
        sa.Column("automatic", sa.Boolean, nullable=False),
        sa.Column("caused_by_seq", sa.Integer),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("reference", sa.String(500)),
        sa.Column("record", sa.JSON),
        sa.UniqueConstraint("instance_id", "seq", name="uq_transitions_instance_seq"),
    )
    op.create_index("ix_transitions_instance_id", "transitions", ["instance_id"])


def downgrade() -> None:
    op.drop_table("transitions")
    op.drop_table("nodes")
    op.drop_table("instances")
    op.drop_table("definitions")
