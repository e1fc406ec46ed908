"""The reads only the admin pages need (the shared ones live in web.queries): plain functions of a session.

Every read of customers' data takes the `viewer` and goes through `scope`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.orm import Session

from accounts.scope import Viewer, scope
from models import (
    CheckIn,
    Customer,
    Escalation,
    FailedTelegramUpdate,
    Purchase,
    Rep,
    Response,
)
from models.db import case_folded
from models.states import EscalationStatus
from reports.filters import DashboardFilter


@dataclass(frozen=True)
class EscalationCounts:
    open: int = 0
    overdue: int = 0  # open and past the SLA
    with_manager: int = 0  # open and already sent to the manager
    acknowledged: int = 0


def escalation_counts(
    session: Session, now: datetime, *, viewer: Viewer, filters: DashboardFilter | None = None
) -> EscalationCounts:
    """How many escalations wait for a human, and how many of those are past their SLA.

    `filters` (the dashboard's) keep those the rep holds, of customers in that language,
    about a response to that kind of check-in, channel, product or category. Not the
    period: what waits now is the point.
    """
    is_open = Escalation.status == EscalationStatus.OPEN

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = select(
        count(is_open),
        count(is_open & (Escalation.sla_due_at < now)),
        count(is_open & Escalation.escalated_to_manager_at.is_not(None)),
        count(Escalation.status == EscalationStatus.ACKNOWLEDGED),
    ).where(Escalation.status != EscalationStatus.RESOLVED)
    if filters is not None and filters.is_narrowed():
        query = filters.narrow(
            query.select_from(Escalation)
            .join(Customer, Customer.id == Escalation.customer_id)
            .outerjoin(Rep, Rep.id == Escalation.rep_id)
            .outerjoin(Response, Response.id == Escalation.response_id)
            .outerjoin(CheckIn, CheckIn.id == Response.checkin_id)
            .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        )
    row = session.execute(scope(query, viewer)).one()
    return EscalationCounts(*(int(value) for value in row))


@dataclass(frozen=True)
class CustomerListRow:
    customer: Customer
    rep_name: str | None


def find_customers(
    session: Session, text: str = "", *, viewer: Viewer, limit: int = 50
) -> list[CustomerListRow]:
    """Customers whose name, external id or phone contains `text` (any case), by name."""
    query = select(Customer, Rep.name).outerjoin(Rep, Rep.id == Customer.rep_id)
    needle = text.strip()
    if needle:
        # Both sides folded by the database, so the needle and the names fold alike.
        pattern = case_folded(session, literal(f"%{_escape_like(needle)}%"))
        digits = "".join(ch for ch in needle if ch.isdigit() or ch == "+")
        conditions = [
            case_folded(session, Customer.name).like(pattern, escape="\\"),
            case_folded(session, Customer.external_id).like(pattern, escape="\\"),
        ]
        if digits:
            conditions.append(Customer.phone.like(f"%{_escape_like(digits)}%", escape="\\"))
        query = query.where(or_(*conditions))
    rows = session.execute(scope(query, viewer).order_by(Customer.name, Customer.id).limit(limit))
    return [CustomerListRow(customer, rep_name) for customer, rep_name in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def customer_purchases(session: Session, customer_id: int, *, viewer: Viewer) -> Sequence[Purchase]:
    query = (
        select(Purchase)
        .where(Purchase.customer_id == customer_id)
        .order_by(Purchase.purchased_at.desc().nulls_last(), Purchase.id.desc())
    )
    return session.scalars(scope(query, viewer)).all()


@dataclass(frozen=True)
class CustomerEscalation:
    escalation: Escalation
    rep_name: str | None
    score: int | None
    comment: str | None


def customer_escalations(
    session: Session, customer_id: int, *, viewer: Viewer
) -> list[CustomerEscalation]:
    """The customer's escalations, newest first, with the score and comment behind each."""
    query = (
        select(Escalation, Rep.name, Response.score, Response.comment)
        .outerjoin(Rep, Rep.id == Escalation.rep_id)
        .outerjoin(Response, Response.id == Escalation.response_id)
        .where(Escalation.customer_id == customer_id)
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
    )
    return [CustomerEscalation(*row) for row in session.execute(scope(query, viewer))]


def customers_for_simulator(session: Session, *, viewer: Viewer) -> Sequence[Customer]:
    """Everyone the simulator can speak for: customers with a phone or a Telegram chat."""
    query = (
        select(Customer)
        .where(or_(Customer.phone.is_not(None), Customer.telegram_chat_id.is_not(None)))
        .order_by(Customer.name, Customer.id)
        .limit(500)
    )
    return session.scalars(scope(query, viewer)).all()


def rep_names(session: Session, rep_ids: set[int]) -> dict[int, str]:
    if not rep_ids:
        return {}
    rows = session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(rep_ids)))
    return {rep_id: name for rep_id, name in rows}


def customer_names(session: Session, external_ids: set[str], *, viewer: Viewer) -> dict[str, str]:
    if not external_ids:
        return {}
    query = select(Customer.external_id, Customer.name).where(
        Customer.external_id.in_(external_ids)
    )
    rows = session.execute(scope(query, viewer))
    return {external_id: name for external_id, name in rows}


def failed_telegram_updates(session: Session, limit: int = 20) -> list[FailedTelegramUpdate]:
    """The latest polled Telegram updates that failed every attempt, newest first."""
    query = select(FailedTelegramUpdate).order_by(FailedTelegramUpdate.failed_at.desc())
    return list(session.scalars(query.limit(limit)))
