"""working hours of one's own on reps ("Mon-Fri 09:00-18:00"; empty: the business's)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 01:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reps") as batch:
        batch.add_column(sa.Column("working_hours", sa.String(length=100), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, never a rebuild: SQLite cannot drop a table that other
    # tables' foreign keys point at (reps).
    with op.batch_alter_table("reps", recreate="never") as batch:
        batch.drop_column("working_hours")
