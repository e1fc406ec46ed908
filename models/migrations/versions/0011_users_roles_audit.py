"""users with roles, the audit trail, and the session key stored for every process

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 21:40:00
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('rep', 'manager', 'admin')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_users_rep_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index("ix_users_rep_id", "users", ["rep_id"], unique=False)
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"], unique=False)
    op.create_table(
        "stored_secrets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stored_secrets")),
    )
    # Admin reps who had a password log in as users of their own, by the same name.
    op.execute(
        "INSERT INTO users (username, role, rep_id, password_hash, created_at, updated_at) "
        "SELECT lower(external_id), 'admin', id, password_hash, created_at, updated_at FROM reps "
        "WHERE role = 'admin' AND password_hash IS NOT NULL"
    )
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), never a rebuild: rebuilding reps would
    # drop a table that customers, purchases and escalations point at.
    with op.batch_alter_table("reps", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("password_hash")


def downgrade() -> None:
    with op.batch_alter_table("reps", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE reps SET password_hash = (SELECT users.password_hash FROM users "
        "WHERE users.rep_id = reps.id AND users.role = 'admin' AND users.disabled_at IS NULL "
        "ORDER BY users.id LIMIT 1)"
    )
    op.drop_table("stored_secrets")
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_index("ix_users_rep_id", table_name="users")
    op.drop_table("users")
