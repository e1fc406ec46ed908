"""consent events: every opt-out and opt-in, when, how and on whose words

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:10:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.CheckConstraint("action IN ('opt_out', 'opt_in')", name=op.f("ck_consent_events_action")),
        sa.CheckConstraint(
            "source IN ('keyword', 'reply', 'email', 'api', 'admin', 'history')",
            name=op.f("ck_consent_events_source"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consent_events_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_consent_events_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    op.create_index(
        "ix_consent_events_customer_id_at", "consent_events", ["customer_id", "at"], unique=False
    )
    # Customers who opted out before the log existed: the time is known, the words are not.
    op.execute(
        "INSERT INTO consent_events (customer_id, at, action, source, detail) "
        "SELECT id, opted_out_at, 'opt_out', 'history', 'recorded before the consent log' "
        "FROM customers WHERE opted_out_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_consent_events_customer_id_at", table_name="consent_events")
    op.drop_table("consent_events")
