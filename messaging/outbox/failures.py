"""What a failed send becomes, by the kind of error the channel classified.

Uncertain (the request may have reached the provider): looked up later, never
simply resent. Unreachable: the address is dead. Permanent, or out of attempts:
failed. Anything else: retried with backoff, or after the provider's Retry-After.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from messaging.channels.base import ErrorKind, SendError
from messaging.outbox.claims import Claimed
from messaging.outbox.record import Outcome, OutcomeKind

MAX_ATTEMPTS = 6


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def failure(
    message: Claimed, error: SendError, can_look_up: bool, now: datetime, timeout: float
) -> Outcome:
    """What a failed send becomes: looked up later, unreachable, failed, or retried later."""
    failed = functools.partial(Outcome, message, error=str(error), error_code=error.code)
    match error.kind:
        case ErrorKind.UNCERTAIN:
            look_up_after = timedelta(seconds=timeout) if can_look_up else None
            return failed(OutcomeKind.UNCERTAIN, look_up_after=look_up_after)
        case ErrorKind.UNREACHABLE:
            return failed(OutcomeKind.UNREACHABLE)
        case ErrorKind.PERMANENT:
            return failed(OutcomeKind.FAILED)
    if message.attempts >= MAX_ATTEMPTS:
        return failed(OutcomeKind.FAILED)
    pause = timedelta(seconds=error.retry_after) if error.retry_after else backoff(message.attempts)
    return failed(OutcomeKind.RETRY, when=now + pause)
