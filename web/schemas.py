"""The JSON API's documents: what each endpoint returns, field by field.

Every datetime is ISO 8601 in UTC with an explicit offset (`+00:00`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from models.states import EscalationStatus


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


UtcDatetime = Annotated[
    datetime,
    PlainSerializer(_iso_utc, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]

# models.states.CheckInStatus as the API shows it: `queued` (handed to the outbox) reads as
# scheduled. Spelled out for type checkers; a test keeps it equal to the enum minus `queued`.
ShownCheckInStatus = Literal["scheduled", "sent", "answered", "expired", "suppressed", "failed"]
# Spelled out for type checkers; a test keeps it equal to reports.nps.GROUP_FIELDS.
GroupField = Literal["rep", "product", "category", "kind", "channel", "language", "month"]


class Problem(BaseModel):
    """What an error answer carries (401, 404, 503)."""

    detail: str


class Health(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "unavailable"]
    channels: dict[str, str] = Field(
        default_factory=dict,
        description='What sends on each customer channel: the provider, or "console" '
        "(no credentials: nothing reaches customers).",
    )


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    external_id: str
    name: str
    phone: str | None
    email: str | None
    language: str
    timezone: str | None
    channel: str = Field(description="The channel the customer prefers: sms, telegram or email.")
    rep_external_id: str | None = Field(description="The rep who owns the customer, if any.")
    tags: list[str]
    opted_out: bool = Field(description="True while the customer has opted out (STOP).")
    opted_out_at: UtcDatetime | None
    telegram_linked: bool = Field(description="True once the customer's Telegram chat is known.")
    telegram_link_token: str = Field(
        description="The token a `/start <token>` Telegram message links to this customer."
    )
    telegram_start_link: str | None = Field(
        description=(
            "https://t.me/<bot>?start=<token>, the deep link that links the customer's chat. "
            "null while the bot's username is unknown (TELEGRAM_BOT_USERNAME not set and the "
            "bot not started), since a link to a guessed bot would be a broken link."
        )
    )


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: Literal["in", "out"]
    channel: str
    body: str
    status: str
    purpose: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None


class ConsentEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: UtcDatetime = Field(description="When the customer's consent changed.")
    action: Literal["opt_out", "opt_in"]
    source: Literal["keyword", "reply", "email", "api", "admin", "history"] = Field(
        description=(
            "keyword: STOP/START as the whole message (or Telegram's /stop); reply: an opt-out "
            "in the customer's own words; email: the one-click unsubscribe; api, admin: another "
            "system or a person; history: an opt-out from before the log was kept."
        )
    )
    channel: str | None = Field(description="The channel it came by, when it came by one.")
    message_id: int | None = Field(description="The customer's message that asked for it.")
    detail: str = Field(description="The customer's words, or what was said about it.")


class CheckInOut(BaseModel):
    id: int
    kind: str
    status: ShownCheckInStatus = Field(
        description="Internal `queued` (handed to the outbox, not yet sent) shows as `scheduled`."
    )
    due_at: UtcDatetime = Field(description="When the cadence made it due.")
    not_before: UtcDatetime | None = Field(
        description="When a wait (quiet hours, a hold) lets it go out, while still waiting."
    )
    sent_at: UtcDatetime | None
    score: int | None = Field(description="The 0–10 answer, or null.")
    reason: str | None = Field(
        description="Why it was suppressed, or why it is waiting; null otherwise."
    )
    error: str | None = Field(description="The channel's error, when it failed.")
    channel: str | None
    product: str | None = Field(description="The purchase's product, or null.")


class EscalationOut(BaseModel):
    id: int
    kind: str = Field(description="detractor (a low score) or needs_answer (a forwarded message).")
    customer_external_id: str
    rep_external_id: str | None
    score: int | None = Field(description="The detractor's score; null for needs_answer.")
    comment: str | None = Field(
        description="The customer's comment (or forwarded message text), if any."
    )
    status: EscalationStatus
    escalated_to_manager: bool
    resolution_note: str | None
    created_at: UtcDatetime
    sla_due_at: UtcDatetime
    acknowledged_at: UtcDatetime | None
    resolved_at: UtcDatetime | None


class NpsFiguresOut(BaseModel):
    nps: float | None = Field(
        description="% promoters − % detractors, −100..+100, one decimal; null without responses."
    )
    responses: int
    promoters: int = Field(description="Scores 9–10.")
    passives: int = Field(description="Scores 7–8.")
    detractors: int = Field(description="Scores 0–6.")
    surveys_sent: int = Field(description="Survey check-ins sent inside the window.")
    response_rate: float | None = Field(
        description="responses / surveys_sent × 100, one decimal; null when none were sent."
    )
    margin_of_error: float | None = Field(
        description="95% confidence half-width of the NPS, in points; null below 10 responses."
    )
    margin_note: str | None = Field(
        description="'too few answers' when 1–9 responses leave no margin of error, else null."
    )


class NpsGroupOut(NpsFiguresOut):
    key: str = Field(
        description="The group: a rep's external id or 'unassigned', a product or category "
        "or 'none', a kind, a channel, a language, or a UTC month YYYY-MM."
    )
    label: str = Field(description="What a person reads: the rep's name, else the key.")


class NpsReportOut(NpsFiguresOut):
    since: UtcDatetime | None = Field(description="First instant in the window (inclusive).")
    until: UtcDatetime | None = Field(description="First instant after the window (exclusive).")
    by: GroupField | None
    groups: list[NpsGroupOut]


class EscalationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: UtcDatetime
    actor: str = Field(description="Who: a rep as 'Name (external_id)', an admin, or aftercare.")
    action: str = Field(
        description="opened, acknowledged, resolved, reassigned, escalated (to a manager), "
        "sla_breached, alert_rerouted, not_alerted, comment, customer_message, ..."
    )
    detail: str


class EscalationFiguresOut(BaseModel):
    escalations: int = Field(description="Escalations opened in the window.")
    acknowledged: int
    resolved: int
    median_minutes_to_acknowledge: float | None = Field(
        description="Median minutes from opening to acknowledgement; null when none was."
    )
    median_minutes_to_resolve: float | None = Field(
        description="Median minutes from opening to resolution; null when none was."
    )
    sla_decided: int = Field(
        description="Acknowledged, or past the SLA without it (the others are still in time)."
    )
    sla_breached: int = Field(description="Acknowledged after the SLA, or still waiting past it.")
    sla_breach_rate: float | None = Field(
        description="sla_breached / sla_decided × 100, one decimal; null when none is decided."
    )
    escalated_to_manager: int
    recovery_asked: int = Field(description="Recovery check-ins sent after resolution.")
    recovery_answered: int
    recovered: int = Field(description="Recovery answers of 7 or more.")
    recovery_rate: float | None = Field(
        description="recovered / recovery_answered × 100, one decimal; null when none answered."
    )


class EscalationGroupOut(EscalationFiguresOut):
    key: str = Field(description="The escalation kind: detractor or needs_answer.")


class EscalationMetricsOut(EscalationFiguresOut):
    since: UtcDatetime | None = Field(description="First instant in the window (inclusive).")
    until: UtcDatetime | None = Field(description="First instant after the window (exclusive).")
    groups: list[EscalationGroupOut]


MixGroupField = Literal["rep", "month"]


class MixRowOut(BaseModel):
    key: str = Field(
        description="A rep's external id or 'unassigned', a UTC month YYYY-MM, or '' overall."
    )
    label: str = Field(description="What a person reads: the rep's name, else the key.")
    total: int
    counts: dict[str, int] = Field(description="Sent check-ins of each kind.")
    proportions: dict[str, float] = Field(description="Each kind's share in percent.")


class MixReportOut(BaseModel):
    since: UtcDatetime | None
    until: UtcDatetime | None
    by: MixGroupField
    kinds: list[str]
    overall: MixRowOut
    groups: list[MixRowOut]


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers that carry a `Problem`."""
    return {code: {"model": Problem} for code in codes}
