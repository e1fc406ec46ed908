"""email as a channel: an address on customers and reps, and when a customer's went dead

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 23:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(
            sa.Column("email_unreachable_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index(batch.f("ix_customers_email"), ["email"], unique=False)
    with op.batch_alter_table("reps") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.create_index(batch.f("ix_reps_email"), ["email"], unique=False)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, never a rebuild: SQLite cannot drop a table that other
    # tables' foreign keys point at (reps, customers).
    with op.batch_alter_table("reps", recreate="never") as batch:
        batch.drop_index(batch.f("ix_reps_email"))
        batch.drop_column("email")
    with op.batch_alter_table("customers", recreate="never") as batch:
        batch.drop_index(batch.f("ix_customers_email"))
        batch.drop_column("email_unreachable_at")
        batch.drop_column("email")
