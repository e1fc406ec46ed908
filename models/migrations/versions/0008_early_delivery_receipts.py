"""delivery receipts that overtake the outbox are kept until it records the id, and Telegram
updates that fail every attempt are kept for an admin

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_receipts")),
        sa.UniqueConstraint(
            "channel",
            "provider_id",
            "status",
            name=op.f("uq_early_receipts_channel_provider_id_status"),
        ),
    )
    op.create_index(
        "ix_early_receipts_received_at", "early_receipts", ["received_at"], unique=False
    )
    op.create_table(
        "failed_telegram_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_telegram_updates")),
        sa.UniqueConstraint("update_id", name=op.f("uq_failed_telegram_updates_update_id")),
    )
    op.create_index(
        "ix_failed_telegram_updates_failed_at",
        "failed_telegram_updates",
        ["failed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_failed_telegram_updates_failed_at", table_name="failed_telegram_updates")
    op.drop_table("failed_telegram_updates")
    op.drop_index("ix_early_receipts_received_at", table_name="early_receipts")
    op.drop_table("early_receipts")
