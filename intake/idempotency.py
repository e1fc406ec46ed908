"""Idempotency-Key: a retried request gets the first answer, for 24 hours, in every process.

Only answers that changed something (2xx) are kept: a request refused for a
bad field or an unknown rep may be fixed on the other side and retried under
the same key. Keys live in the database beside the change they answer for,
written in the same transaction, so a crash cannot keep one without the other.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import IdempotencyKey

KEEP = timedelta(hours=24)


def fingerprint(method: str, path: str, payload: Any) -> str:
    """What makes two requests the same: method, path and body (key order and spacing aside)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def recall(session: Session, key: str, now: datetime) -> IdempotencyKey | None:
    """The answer stored under `key` in the last 24 hours, if any."""
    return session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.key == key, IdempotencyKey.created_at > now - KEEP
        )
    ).first()


def remember(
    session: Session, key: str, request: str, status_code: int, body: Any, now: datetime
) -> None:
    """Store the answer in the caller's transaction; raises IntegrityError if another process did."""
    # The same key from more than 24 hours ago, not tidied yet, is a different request.
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.key == key, IdempotencyKey.created_at <= now - KEEP
        ),
        execution_options={"synchronize_session": False},
    )
    session.add(
        IdempotencyKey(
            key=key, fingerprint=request, status_code=status_code, body=body, created_at=now
        )
    )
    session.flush()


def forget_expired(session: Session, now: datetime) -> int:
    """Delete the keys older than 24 hours (an indexed range), in the caller's transaction.

    Run it in a short transaction of its own: the rows it deletes stay locked until commit,
    and every other request tidying the same rows would wait that long.
    """
    result = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at <= now - KEEP),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
