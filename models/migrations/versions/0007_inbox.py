"""the inbox: inbound messages are acknowledged first and their turn taken after

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WAITING = sa.text("direction = 'in' AND processed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("processed_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Everything received so far was acted on when it arrived.
    op.execute("UPDATE messages SET processed_at = created_at WHERE direction = 'in'")
    op.create_index(
        "ix_messages_waiting",
        "messages",
        ["id"],
        unique=False,
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )
    op.create_index(
        "ix_messages_waiting_sender",
        "messages",
        ["channel", "address", "id"],
        unique=False,
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_messages_waiting_sender", table_name="messages")
    op.drop_index("ix_messages_waiting", table_name="messages")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("processed_at")
