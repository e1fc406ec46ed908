"""What stands between a password guesser and the password check.

Three defences, each against what the others leave open:

- **Per address**: 10 failures in 15 minutes and the address waits out the rest of
  the window. The address is the TCP peer, or the client a trusted proxy names
  (AFTERCARE_TRUSTED_PROXIES; never X-Forwarded-For from anyone else).
- **Per account**: after 5 failures each further attempt waits twice as long as the
  one before, up to 5 minutes, from any address, so a botnet gets a few guesses an
  hour while the real user is only slowed down, never locked out for good.
- **Memory**: an argon2 check costs 64 MiB; at most two run at once in a process,
  and a queue longer than a few logins is told to come back.

An attempt is counted *before* the password is checked, by compare-and-set on a row
every process shares: a hundred concurrent guesses cannot all read "9 failures
so far" and all go through. A right password clears the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import LoginThrottle

FORGET_AFTER = timedelta(minutes=15)  # failures older than this no longer count
ADDRESS_FREE, ADDRESS_WAIT = 10, timedelta(minutes=15)
ACCOUNT_FREE, ACCOUNT_MAX_WAIT = 5, timedelta(minutes=5)
# A row this old neither counts nor makes anyone wait: it is deleted.
FORGOTTEN = FORGET_AFTER + ADDRESS_WAIT
HASHES_AT_ONCE = 2  # argon2 checks running at once, per process
HASHES_WAITING = 16  # logins queued for a check beyond which the next is turned away


@dataclass(frozen=True)
class Refusal:
    """Why an attempt may not go ahead, and when the client may try again."""

    retry_after: int  # seconds


def address_key(address: str) -> str:
    return f"address:{address}"


def account_key(user: str) -> str:
    return f"account:{user.strip().casefold()[:200]}"


def _wait(key: str, failures: int) -> timedelta | None:
    """How long after this many failures the next attempt must wait (None: no wait)."""
    if key.startswith("address:"):
        return ADDRESS_WAIT if failures >= ADDRESS_FREE else None
    if failures < ACCOUNT_FREE:
        return None
    return min(timedelta(seconds=2 ** (failures - ACCOUNT_FREE)), ACCOUNT_MAX_WAIT)


def count_attempt(session: Session, keys: list[str], now: datetime) -> Refusal | None:
    """Count one attempt against every key, or say why it may not be made (nothing counted).

    Call in its own transaction; commit it before checking the password, roll it
    back on a refusal.
    """
    session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGOTTEN))
    rows = {
        row.key: row
        for row in session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys)))
    }
    for held in rows.values():
        if held.next_allowed_at is not None and now < held.next_allowed_at:
            return Refusal(_seconds(held.next_allowed_at - now))
    for key in keys:
        row = rows.get(key)
        failures = 0 if row is None or row.last_failure_at < now - FORGET_AFTER else row.failures
        wait = _wait(key, failures + 1)
        values = {
            "failures": failures + 1,
            "last_failure_at": now,
            "next_allowed_at": now + wait if wait is not None else None,
        }
        if row is None:
            try:
                with session.begin_nested():
                    session.execute(insert(LoginThrottle).values(key=key, **values))
            except IntegrityError:  # another attempt made the row first
                return Refusal(1)
            continue
        # Compare-and-set: only if nobody counted an attempt since we read the row.
        changed = session.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.key == key,
                LoginThrottle.failures == row.failures,
                LoginThrottle.last_failure_at == row.last_failure_at,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return Refusal(1)
    return None


def clear(session: Session, keys: list[str]) -> None:
    """A right password: forget these keys' failures."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
