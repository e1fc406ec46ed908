"""reps.email_unreachable_at: when the mail server said a rep's mailbox does not exist

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, never a rebuild: customers, escalations and users point at reps.
    with op.batch_alter_table("reps", recreate="never") as batch:
        batch.add_column(
            sa.Column("email_unreachable_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("reps", recreate="never") as batch:
        batch.drop_column("email_unreachable_at")
