"""outbox lanes, leases, reconciliation and shared send budgets

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BULK = "('survey', 'reminder', 'delay_notice')"


def upgrade() -> None:
    op.create_table(
        "send_budgets",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_send_budgets")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reconciliation", sa.String(length=20), nullable=True))
        batch_op.drop_index("ix_messages_status_next_attempt_at")
        batch_op.create_index(
            "ix_messages_lane_status_next_attempt_at",
            ["lane", "status", "next_attempt_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_messages_status_lease_until", ["status", "lease_until"], unique=False
        )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_status_due_at")
        batch_op.create_index("ix_checkins_status_due_at", ["status", "due_at", "id"], unique=False)
    # Every outgoing message gets its lane; a claim left by the old outbox (no lease)
    # is reconciled by the first sender that starts.
    op.execute(
        f"UPDATE messages SET lane = CASE WHEN purpose IN {BULK} THEN 'bulk' "
        "ELSE 'interactive' END WHERE direction = 'out'"
    )
    op.execute(
        sa.text(
            "UPDATE messages SET lease_until = next_attempt_at, claimed_at = next_attempt_at "
            "WHERE status = 'sending'"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_status_due_at")
        batch_op.create_index("ix_checkins_status_due_at", ["status", "due_at"], unique=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_lease_until")
        batch_op.drop_index("ix_messages_lane_status_next_attempt_at")
        batch_op.create_index(
            "ix_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.drop_column("reconciliation")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("lane")
    op.drop_table("send_budgets")
