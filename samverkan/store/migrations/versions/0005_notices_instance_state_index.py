"""The outbox by instance and state: a sweep claims, renders and lists each instance's rows in
a given state. With only (state, send_at) and (instance_id) to go by, PostgreSQL combined the
two and read every queued or sending entry of the whole outbox (dead ones included, until a
vacuum) for each instance: a sweep's cost grew with the square of the instances.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notices_instance_state_send_at", "notices", ["instance_id", "state", "send_at"])


def downgrade() -> None:
    op.drop_index("ix_notices_instance_state_send_at", table_name="notices")
