"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:08:51.562606
"""

from alembic import op
import sqlalchemy as sa
import models.base


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_settings")),
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("source", "key", name=op.f("uq_inbound_events_source_key")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "reps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["manager_id"], ["reps.id"], name=op.f("fk_reps_manager_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reps")),
        sa.UniqueConstraint("external_id", name=op.f("uq_reps_external_id")),
    )
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reps_phone"), ["phone"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reps_telegram_chat_id"), ["telegram_chat_id"], unique=False
        )

    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint(
            "key", "language", "version", name=op.f("uq_template_versions_key_language_version")
        ),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_link_token", sa.String(length=64), nullable=False),
        sa.Column("telegram_unreachable_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("opted_out_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_survey_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("periodic_anchor_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_customers_rep_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customers_external_id")),
        sa.UniqueConstraint("telegram_chat_id", name=op.f("uq_customers_telegram_chat_id")),
        sa.UniqueConstraint("telegram_link_token", name=op.f("uq_customers_telegram_link_token")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customers_periodic_anchor_at", ["periodic_anchor_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_rep_id"), ["rep_id"], unique=False)

    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.Column("purchased_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promised_delivery_date", sa.Date(), nullable=True),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("next_service_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_purchases_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_purchases_rep_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("external_id", name=op.f("uq_purchases_external_id")),
    )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchases_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_purchases_delivered_at"), ["delivered_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchases_next_service_at"), ["next_service_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_purchases_promised_delivery_date"),
            ["promised_delivery_date"],
            unique=False,
        )

    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=100), nullable=False),
        sa.Column("due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("not_before", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("template_key", sa.String(length=50), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('post_delivery', 'periodic', 'service', 'delay_notice', 'recovery')",
            name=op.f("ck_checkins_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'queued', 'sent', 'answered', 'expired', 'suppressed', 'failed')",
            name=op.f("ck_checkins_status"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_checkins_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name=op.f("fk_checkins_purchase_id_purchases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint(
            "customer_id",
            "kind",
            "dedupe_key",
            name=op.f("uq_checkins_customer_id_kind_dedupe_key"),
        ),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkins_purchase_id"), ["purchase_id"], unique=False)
        batch_op.create_index("ix_checkins_status_due_at", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_checkins_status_sent_at", ["status", "sent_at"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("error_code", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_messages_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_messages_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_messages_rep_id_reps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("channel", "provider_id", name=op.f("uq_messages_channel_provider_id")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_checkin_id"), ["checkin_id"], unique=False)
        batch_op.create_index("ix_messages_customer_id_id", ["customer_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_messages_rep_id"), ["rep_id"], unique=False)
        batch_op.create_index(
            "ix_messages_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=True),
        sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("awaiting_comment", sa.Boolean(), nullable=False),
        sa.Column("followup_sent_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_responses_score_range")),
        sa.ForeignKeyConstraint(
            ["checkin_id"], ["checkins.id"], name=op.f("fk_responses_checkin_id_checkins")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_responses_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("checkin_id", name=op.f("uq_responses_checkin_id")),
    )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_responses_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_responses_received_at"), ["received_at"], unique=False)

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sla_due_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("alerted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("escalated_to_manager_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("recovery_checkin_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved')", name=op.f("ck_escalations_status")
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["reps.id"], name=op.f("fk_escalations_acknowledged_by_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_escalations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["reps.id"], name=op.f("fk_escalations_manager_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_escalations_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["recovery_checkin_id"],
            ["checkins.id"],
            name=op.f("fk_escalations_recovery_checkin_id_checkins"),
        ),
        sa.ForeignKeyConstraint(["rep_id"], ["reps.id"], name=op.f("fk_escalations_rep_id_reps")),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["reps.id"], name=op.f("fk_escalations_resolved_by_id_reps")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_escalations_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("message_id", name=op.f("uq_escalations_message_id")),
        sa.UniqueConstraint("recovery_checkin_id", name=op.f("uq_escalations_recovery_checkin_id")),
        sa.UniqueConstraint("response_id", name=op.f("uq_escalations_response_id")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_escalations_rep_id"), ["rep_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalations_resolved_at"), ["resolved_at"], unique=False
        )
        batch_op.create_index(
            "ix_escalations_status_sla_due_at", ["status", "sla_due_at"], unique=False
        )

    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_events_escalation_id_escalations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_events")),
    )
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_events_escalation_id"), ["escalation_id"], unique=False
        )



def downgrade() -> None:
    with op.batch_alter_table("escalation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_events_escalation_id"))

    op.drop_table("escalation_events")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_status_sla_due_at")
        batch_op.drop_index(batch_op.f("ix_escalations_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_escalations_rep_id"))
        batch_op.drop_index(batch_op.f("ix_escalations_customer_id"))

    op.drop_table("escalations")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responses_received_at"))
        batch_op.drop_index(batch_op.f("ix_responses_customer_id"))

    op.drop_table("responses")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_messages_rep_id"))
        batch_op.drop_index("ix_messages_customer_id_id")
        batch_op.drop_index(batch_op.f("ix_messages_checkin_id"))

    op.drop_table("messages")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_status_sent_at")
        batch_op.drop_index("ix_checkins_status_due_at")
        batch_op.drop_index(batch_op.f("ix_checkins_purchase_id"))
        batch_op.drop_index(batch_op.f("ix_checkins_customer_id"))

    op.drop_table("checkins")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchases_promised_delivery_date"))
        batch_op.drop_index(batch_op.f("ix_purchases_next_service_at"))
        batch_op.drop_index(batch_op.f("ix_purchases_delivered_at"))
        batch_op.drop_index(batch_op.f("ix_purchases_customer_id"))

    op.drop_table("purchases")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_rep_id"))
        batch_op.drop_index(batch_op.f("ix_customers_phone"))
        batch_op.drop_index("ix_customers_periodic_anchor_at")

    op.drop_table("customers")
    op.drop_table("template_versions")
    with op.batch_alter_table("reps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reps_telegram_chat_id"))
        batch_op.drop_index(batch_op.f("ix_reps_phone"))

    op.drop_table("reps")
    op.drop_table("leases")
    op.drop_table("inbound_events")
    op.drop_table("app_settings")
