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


def shown_status(status: str) -> CheckInStatus:
    """A check-in's status as people see it: `queued` (handed to the outbox) has not gone yet."""
    found = CheckInStatus(status)
    return CheckInStatus.SCHEDULED if found is CheckInStatus.QUEUED else found


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


class NpsCategory(StrEnum):
    """Where a 0-10 score falls: promoter 9-10, passive 7-8, detractor 0-6."""

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"

    @classmethod
    def of(cls, score: int) -> NpsCategory:
        if score >= 9:
            return cls.PROMOTER
        return cls.PASSIVE if score >= 7 else cls.DETRACTOR


class Purpose(StrEnum):
    """Why an outbound message was sent (`messages.purpose`; inbound messages have none)."""

    NONE = ""  # an inbound message
    # The bot's own initiative: the bulk lane, paced and kept out of the customer's night.
    SURVEY = "survey"
    REMINDER = "reminder"
    DELAY_NOTICE = "delay_notice"
    # Answers to a customer.
    FOLLOWUP = "followup"
    CLARIFY = "clarify"
    THANKS = "thanks"
    REVIEW_INVITE = "review_invite"
    FORWARDED = "forwarded"
    HELP = "help"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    UNKNOWN_SENDER = "unknown_sender"
    TELEGRAM_GREETING = "telegram_greeting"
    # To the people who work the escalations.
    REP_ALERT = "rep_alert"
    REP_NEEDS_ANSWER = "rep_needs_answer"
    # The customer changed their score after the alert: closed (out of 0-6), or the new score.
    REP_SCORE_CHANGED = "rep_score_changed"
    MANAGER_ALERT = "manager_alert"
    REP_REPLY = "rep_reply"
    REP_HELP = "rep_help"


# Sent on the bot's own initiative rather than in answer to someone: the bulk lane.
BOT_STARTED = frozenset({Purpose.SURVEY, Purpose.REMINDER, Purpose.DELAY_NOTICE})
# The messages whose sending settles their check-in (sent, or failed); a reminder
# belongs to a check-in that is already sent.
SETTLES_CHECKIN = frozenset({Purpose.SURVEY, Purpose.DELAY_NOTICE})
# The messages whose delivery reports concern their check-in (a failed reminder too).
REPORTS_ON_CHECKIN = frozenset({*SETTLES_CHECKIN, Purpose.REMINDER})
# What may still go to a customer after they opted out: the confirmation, and help.
ALLOWED_AFTER_OPT_OUT = frozenset({Purpose.OPT_OUT_CONFIRMATION, Purpose.HELP})


class ConsentAction(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class ConsentSource(StrEnum):
    """How a consent change reached us."""

    KEYWORD = "keyword"  # STOP/START as the whole message, or Telegram's /stop
    REPLY = "reply"  # an opt-out in the customer's own words
    EMAIL = "email"  # from outside a conversation: an unsubscribe link,
    API = "api"  # another system,
    ADMIN = "admin"  # or an admin who heard it by phone, letter or in person
    HISTORY = "history"  # recorded before the consent log existed (its wording is not known)


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
