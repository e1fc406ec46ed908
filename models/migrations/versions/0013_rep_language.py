"""reps have a language: the one their alerts and replies are written in

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 01:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the business's language (AFTERCARE_DEFAULT_LANGUAGE), so existing reps follow it.
    with op.batch_alter_table("reps") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, never a rebuild: customers and escalations point at reps.
    with op.batch_alter_table("reps", recreate="never") as batch:
        batch.drop_column("language")
