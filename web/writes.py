"""The write API under /api/: thin handlers around intake/, each answering once per Idempotency-Key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Security, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from accounts.scope import EVERYONE
from importing import ImportReport
from intake import consent, delivery
from intake.upserts import upsert
from models import Customer, Purchase
from web import queries
from web.api import customer_out
from web.auth import require_api_token
from web.deps import SessionDep, SettingsDep
from web.idempotency import IdempotencyKeyHeader, answer_once
from web.schemas import problem_responses
from web.write_schemas import (
    BatchOut,
    ConsentIn,
    CustomerBatchIn,
    CustomerIn,
    CustomerOut,
    DeliveredIn,
    PlannedCheckInOut,
    PurchaseBatchIn,
    PurchaseIn,
    PurchaseOut,
    RepBatchIn,
    RepIn,
    RepOut,
    RowWarning,
)

router = APIRouter(
    prefix="/api",
    tags=["write api"],
    dependencies=[Security(require_api_token)],
    # 400: a body that is not JSON at all.
    responses=problem_responses(400, 401),
)
# 404: a referenced rep or customer (or the one in the path) is not stored; 409: a race lost.
REFUSALS = problem_responses(404, 409)


def _upserted(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model, "description": "Updated (or already so)."}, **REFUSALS}


def _status(report: ImportReport) -> int:
    return status.HTTP_201_CREATED if report.created else status.HTTP_200_OK


@router.post(
    "/reps", status_code=status.HTTP_201_CREATED, response_model=RepOut, responses=_upserted(RepOut)
)
def upsert_rep(
    body: RepIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Create the rep, or update the one with this external_id: 201 created, 200 updated."""

    def work(now: Any) -> tuple[int, RepOut]:
        report = upsert(
            session, "reps", [body.model_dump()], now=now, default_tz=settings.default_tz
        )
        return _status(report), rep_out(session, body.external_id.strip())

    return answer_once(session, request, body, idempotency_key, work)


@router.post(
    "/customers",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerOut,
    responses=_upserted(CustomerOut),
)
def upsert_customer(
    body: CustomerIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Create the customer, or update the one with this external_id: 201 created, 200 updated."""

    def work(now: Any) -> tuple[int, CustomerOut]:
        report = upsert(
            session, "customers", [body.model_dump()], now=now, default_tz=settings.default_tz
        )
        customer = queries.customer_by_external_id(
            session, body.external_id.strip(), viewer=EVERYONE
        )
        assert customer is not None  # just written
        return _status(report), _customer_out(session, customer, request)

    return answer_once(session, request, body, idempotency_key, work)


@router.post(
    "/purchases",
    status_code=status.HTTP_201_CREATED,
    response_model=PurchaseOut,
    responses=_upserted(PurchaseOut),
)
def upsert_purchase(
    body: PurchaseIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Create the purchase, or update the one with this external_id: 201 created, 200 updated.

    A `delivered_at` here is like one in a CSV file: the scheduler plans the
    post-delivery survey when it falls due. To plan it at once and see it,
    use POST /api/purchases/{external_id}/delivered.
    """

    def work(now: Any) -> tuple[int, PurchaseOut]:
        report = upsert(
            session, "purchases", [body.model_dump()], now=now, default_tz=settings.default_tz
        )
        purchase = queries.purchase_by_external_id(session, body.external_id.strip())
        assert purchase is not None  # just written
        return _status(report), purchase_out(session, purchase)

    return answer_once(session, request, body, idempotency_key, work)


@router.post("/reps:batch", response_model=BatchOut)
def upsert_reps(
    body: RepBatchIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Upsert up to 1,000 reps, all or none; errors are located by row (`body.rows.N.field`).

    A manager may come later in the same batch.
    """
    return _batch(session, request, settings.default_tz, "reps", body, idempotency_key)


@router.post("/customers:batch", response_model=BatchOut)
def upsert_customers(
    body: CustomerBatchIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Upsert up to 1,000 customers, all or none; errors are located by row (`body.rows.N.field`).

    An unknown rep is a 422 here, named on its row.
    """
    return _batch(session, request, settings.default_tz, "customers", body, idempotency_key)


@router.post("/purchases:batch", response_model=BatchOut)
def upsert_purchases(
    body: PurchaseBatchIn,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """Upsert up to 1,000 purchases, all or none; errors are located by row (`body.rows.N.field`).

    The same checks as `bot.py import purchases`; an unknown customer or rep is a 422 here,
    named on its row.
    """
    return _batch(session, request, settings.default_tz, "purchases", body, idempotency_key)


@router.post("/purchases/{external_id}/delivered", response_model=PurchaseOut, responses=REFUSALS)
def mark_delivered(
    external_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[DeliveredIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The purchase was delivered: start the post-delivery clock.

    Plans the post-delivery check-in in the same transaction and returns the
    purchase with it (`post_delivery_checkin`: kind, status, due_at). Sent again
    with another time (a correction), the check-in moves if it has not gone out yet.
    """

    def work(now: Any) -> tuple[int, PurchaseOut]:
        done = delivery.mark_delivered(
            session,
            external_id,
            body.delivered_at if body else None,
            now=now,
            default_tz=settings.default_tz,
        )
        return status.HTTP_200_OK, purchase_out(session, done.purchase)

    return answer_once(session, request, body, idempotency_key, work)


@router.post("/customers/{external_id}/opt-out", response_model=CustomerOut, responses=REFUSALS)
def opt_out(
    external_id: str,
    request: Request,
    session: SessionDep,
    body: Annotated[ConsentIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The customer opted out in another system: nothing more is sent to them, on any channel.

    Queued messages and planned check-ins are withdrawn; the consent record
    keeps it with source `api` and the `system` and `note` given. Nothing is
    sent to the customer. Opting out someone already opted out changes nothing.
    """

    def work(now: Any) -> tuple[int, CustomerOut]:
        given = body or ConsentIn()
        customer = consent.opt_out(session, external_id, now, system=given.system, note=given.note)
        return status.HTTP_200_OK, _customer_out(session, customer, request)

    return answer_once(session, request, body, idempotency_key, work)


@router.post("/customers/{external_id}/opt-in", response_model=CustomerOut, responses=REFUSALS)
def opt_in(
    external_id: str,
    request: Request,
    session: SessionDep,
    body: Annotated[ConsentIn | None, Body()] = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    """The customer opted back in in another system: surveys start again from the next pass.

    Recorded with source `api`; a customer who is not opted out is left as they are.
    """

    def work(now: Any) -> tuple[int, CustomerOut]:
        given = body or ConsentIn()
        customer = consent.opt_in(session, external_id, now, system=given.system, note=given.note)
        return status.HTTP_200_OK, _customer_out(session, customer, request)

    return answer_once(session, request, body, idempotency_key, work)


def _batch(
    session: Session,
    request: Request,
    default_tz: str,
    kind: str,
    body: RepBatchIn | CustomerBatchIn | PurchaseBatchIn,
    key: str | None,
) -> JSONResponse:
    def work(now: Any) -> tuple[int, BatchOut]:
        records = [row.model_dump() for row in body.rows]
        report = upsert(session, kind, records, now=now, default_tz=default_tz)
        warnings = [
            RowWarning(row=w.line, field=w.column, message=w.message) for w in report.warnings
        ]
        return status.HTTP_200_OK, BatchOut(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            warnings=warnings,
        )

    return answer_once(session, request, body, key, work, rows=True)


def rep_out(session: Session, external_id: str) -> RepOut:
    rep = queries.rep_by_external_id(session, external_id)
    assert rep is not None  # just written
    manager = queries.rep_external_id(session, rep.manager_id)
    return RepOut(
        external_id=rep.external_id,
        name=rep.name,
        phone=rep.phone,
        telegram_chat_id=rep.telegram_chat_id,
        email=rep.email,
        role=rep.role,
        manager_external_id=manager,
        working_hours=rep.working_hours,
        language=rep.language,
    )


def purchase_out(session: Session, purchase: Purchase) -> PurchaseOut:
    checkin = queries.post_delivery_checkin(session, purchase)
    promised = purchase.promised_delivery_date
    return PurchaseOut(
        external_id=purchase.external_id,
        customer_external_id=purchase.customer.external_id,
        product=purchase.product,
        category=purchase.category,
        purchased_at=purchase.purchased_at,
        promised_delivery_date=promised.isoformat() if promised else None,
        delivered_at=purchase.delivered_at,
        rep_external_id=queries.rep_external_id(session, purchase.rep_id),
        post_delivery_checkin=PlannedCheckInOut(
            id=checkin.id,
            kind=checkin.kind,
            status="scheduled" if checkin.status == "queued" else checkin.status,
            due_at=checkin.due_at,
        )
        if checkin
        else None,
    )


def _customer_out(session: Session, customer: Customer, request: Request) -> CustomerOut:
    return customer_out(customer, queries.rep_external_id(session, customer.rep_id), request)
