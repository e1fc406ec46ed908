"""What a failed send becomes, by the kind of error the channel classified.

Uncertain (the request may have reached the provider): looked up later, never
simply resent. Unreachable: the address is dead. Permanent, or out of attempts:
failed. Anything else: retried with backoff, or after the provider's Retry-After.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from messaging.channels.base import ErrorKind, SendError
from messaging.outbox.claims import Claimed
from messaging.outbox.record import Outcome

MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def failure(
    message: Claimed, error: SendError, can_look_up: bool, now: datetime, timeout: float
) -> Outcome:
    """What a failed send becomes: looked up later, unreachable, failed, or retried later."""
    values: dict[str, Any] = {"error": str(error), "error_code": error.code}
    match error.kind:
        case ErrorKind.UNCERTAIN:
            if can_look_up:
                values["look_up_after"] = timedelta(seconds=timeout)
            return Outcome(message, "uncertain", values)
        case ErrorKind.UNREACHABLE:
            return Outcome(message, "unreachable", values)
        case ErrorKind.PERMANENT:
            return Outcome(message, "failed", values)
    if message.attempts >= MAX_ATTEMPTS:
        return Outcome(message, "failed", values)
    pause = timedelta(seconds=error.retry_after) if error.retry_after else backoff(message.attempts)
    values["next_attempt_at"] = now + pause
    return Outcome(message, "retry", values)
