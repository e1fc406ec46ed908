"""admin sessions that logout ends, and a login throttle every process shares

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:00:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_admin_sessions")),
    )
    op.create_index("ix_admin_sessions_user", "admin_sessions", ["user"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_allowed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_index(
        "ix_login_throttle_last_failure_at", "login_throttle", ["last_failure_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_login_throttle_last_failure_at", table_name="login_throttle")
    op.drop_table("login_throttle")
    op.drop_index("ix_admin_sessions_user", table_name="admin_sessions")
    op.drop_table("admin_sessions")
