"""The named states of the data, each defined once: kinds, statuses, languages, roles.

They are StrEnums, so a member is its string: rows, JSON and templates keep
plain text, and `CheckInStatus.SENT == "sent"`. The database CHECK constraints
are generated from them.
"""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """The languages Aftercare writes and reads."""

    EN = "en"
    PL = "pl"
    UK = "uk"
    RU = "ru"
    TH = "th"


class Role(StrEnum):
    REP = "rep"
    MANAGER = "manager"
    ADMIN = "admin"


class CheckInKind(StrEnum):
    POST_DELIVERY = "post_delivery"
    PERIODIC = "periodic"
    SERVICE = "service"
    DELAY_NOTICE = "delay_notice"
    RECOVERY = "recovery"


# Kinds that ask the NPS question; and those of them that count towards the throttle
# (a delay notice asks nothing, a recovery check must go even right after a survey).
THROTTLED_KINDS = (CheckInKind.POST_DELIVERY, CheckInKind.PERIODIC, CheckInKind.SERVICE)
SURVEY_KINDS = (*THROTTLED_KINDS, CheckInKind.RECOVERY)


class CheckInStatus(StrEnum):
    SCHEDULED = "scheduled"
    # Handed to the outbox, not yet confirmed by the channel; the API shows it as scheduled.
    QUEUED = "queued"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    SUPPRESSED = "suppressed"
    FAILED = "failed"


class MessageStatus(StrEnum):
    """Outbound: queued -> sending -> sent -> delivered | undelivered | failed; `uncertain`
    when the provider may have taken it but we never heard back; `cancelled` when it
    must not go any more (opt-out). Inbound: `received`."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"
    RECEIVED = "received"


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class EscalationKind(StrEnum):
    DETRACTOR = "detractor"  # a low score: the rep has an SLA, then the manager hears
    NEEDS_ANSWER = "needs_answer"  # words the bot cannot answer: forwarded to the rep


class EventDeliveryStatus(StrEnum):
    """An event's way to one receiver: pending -> sending -> delivered, or back to pending
    (retried with backoff) until 24 h have passed, then dead."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"


def values(states: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings, in definition order (for CHECK constraints and CSV help)."""
    return tuple(state.value for state in states)
