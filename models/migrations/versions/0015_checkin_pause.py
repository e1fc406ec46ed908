"""checkins.paused_at: a check-in held by a person, not sent until resumed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 01:15:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, never a rebuild: messages and responses point at checkins.
    with op.batch_alter_table("checkins", recreate="never") as batch:
        batch.add_column(
            sa.Column("paused_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", recreate="never") as batch:
        batch.drop_column("paused_at")
