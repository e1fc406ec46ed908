"""the outbox's and the planner's hot indexes cover only their live rows (partial indexes)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 16:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

QUEUED = sa.text("status = 'queued'")
LEASED = sa.text("status IN ('sending', 'uncertain')")
TO_REP = sa.text("rep_id IS NOT NULL")
SCHEDULED = sa.text("status = 'scheduled'")
AWAITING = sa.text("status = 'sent'")

# (name, table, columns, condition): what replaces what.
NEW = [
    ("ix_messages_queue", "messages", ["lane", "next_attempt_at", "id"], QUEUED),
    ("ix_messages_leased", "messages", ["lease_until", "id"], LEASED),
    ("ix_messages_rep_id", "messages", ["rep_id"], TO_REP),
    ("ix_checkins_scheduled", "checkins", ["due_at", "id"], SCHEDULED),
    ("ix_checkins_awaiting", "checkins", ["sent_at"], AWAITING),
]
OLD = [
    ("ix_messages_lane_status_next_attempt_at", "messages", ["lane", "status", "next_attempt_at", "id"]),
    ("ix_messages_status_lease_until", "messages", ["status", "lease_until"]),
    ("ix_messages_rep_id", "messages", ["rep_id"]),
    ("ix_checkins_status_due_at", "checkins", ["status", "due_at", "id"]),
    ("ix_checkins_status_sent_at", "checkins", ["status", "sent_at"]),
]


def upgrade() -> None:
    # Plain CREATE/DROP INDEX, never a table rebuild; on a large PostgreSQL table each
    # build holds writes back for a moment (docs/DEPLOY.md).
    for name, table, _columns in OLD:
        op.drop_index(name, table_name=table)
    for name, table, columns, where in NEW:
        op.create_index(name, table, columns, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name, table, _columns, _where in NEW:
        op.drop_index(name, table_name=table)
    for name, table, columns in OLD:
        op.create_index(name, table, columns)
