"""The process's diarienummer per instance: what the registrar files the decision register
under (`samverkan audit --register`), set at the start or later, when the definition does not
give it or the instance's registry gave another.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(sa.Column("registration_number", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("registration_number")
