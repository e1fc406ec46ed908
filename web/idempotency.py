"""Every write answers once: the Idempotency-Key replay, and the write's errors as HTTP answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from clock import utcnow
from importing import ImportErrors, RowError
from intake.idempotency import fingerprint, forget_expired, recall, remember
from intake.upserts import NotFound
from models import IdempotencyKey

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="Any unique string of printable ASCII without spaces (a UUID) naming this "
        "request. A retry with the same key "
        "within 24 hours gets the first successful answer again, status and body, and changes "
        "nothing; the same key with a different request is refused (422). Refused requests "
        "(404, 422) are not kept, so a fixed request may be retried under its key.",
        examples=["3f1e7c2a-9b44-4d6e-8a51-0c2f5b7d9e10"],
    ),
]
REPLAYED = "Idempotent-Replayed"

# (the moment of the request) -> (status code, answer)
Work = Callable[[datetime], tuple[int, BaseModel]]


def answer_once(
    session: Session,
    request: Request,
    payload: BaseModel | None,
    key: str | None,
    work: Work,
    *,
    rows: bool = False,
) -> JSONResponse:
    """Run `work` and commit, or replay what `key` answered before.

    Bad fields (importing.ImportErrors) are 422 in FastAPI's own shape, located
    in the body (under `rows` for a batch); a single record whose only problem
    is a missing rep or customer is 404, as is NotFound.
    """
    now = utcnow()
    body = payload.model_dump(mode="json", exclude_none=True) if payload is not None else {}
    request_print = fingerprint(request.method, request.url.path, body)
    if key is not None:
        stored = recall(session, key, now)
        if stored is not None:
            return _replay(stored, request_print, key)
    try:
        status_code, answer = work(now)
        content = answer.model_dump(mode="json")
        if key is not None:
            remember(session, key, request_print, status_code, content, now)
        session.commit()
    except ImportErrors as exc:
        session.rollback()
        raise _refused(exc.errors, rows) from exc
    except NotFound as exc:
        session.rollback()
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except IntegrityError as exc:
        session.rollback()
        # Another process answered the same key first (its row is visible now), or wrote the
        # same new external_id between our checks and our writes.
        stored = recall(session, key, now) if key is not None else None
        if stored is not None:
            return _replay(stored, request_print, key or "")
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "Another request changed the same records at the same moment; nothing was "
            "written. Send it again.",
        ) from exc
    if key is not None:
        # After the write's commit, in a transaction of its own (see forget_expired). The
        # answer stands if tidying fails: the next keyed request tidies again.
        try:
            forget_expired(session, now)
            session.commit()
        except SQLAlchemyError:
            session.rollback()
    return JSONResponse(content, status_code)


def _replay(stored: IdempotencyKey, request_print: str, key: str) -> JSONResponse:
    if stored.fingerprint != request_print:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("header", "Idempotency-Key"),
                    "msg": "this key was used for a different request in the last 24 hours; "
                    "use a new key for a new request",
                    "input": key,
                }
            ]
        )
    return JSONResponse(stored.body, stored.status_code, headers={REPLAYED: "true"})


def _refused(errors: list[RowError], rows: bool) -> HTTPException | RequestValidationError:
    if not rows and errors and all(error.unknown_reference for error in errors):
        detail = "; ".join(f"{error.column}: {error.message}" for error in errors)
        return HTTPException(status.HTTP_404_NOT_FOUND, detail)
    return RequestValidationError([_located(error, rows) for error in errors])


def _located(error: RowError, rows: bool) -> dict[str, Any]:
    where: tuple[str | int, ...] = ("body", "rows", error.line) if rows else ("body",)
    if error.column:
        where = (*where, error.column)
    return {"type": "value_error", "loc": where, "msg": error.message, "input": None}
