"""The reads behind the JSON API and the admin pages: plain functions of a session, no HTTP in sight.

Each read that returns customers' data takes the `viewer` and runs through
`accounts.scope.scope`, so a rep's page cannot show another rep's customer. The
JSON API passes `EVERYONE` (its bearer token is an admin's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from accounts.scope import EVERYONE, Viewer, scope
from intake.upserts import stored
from models import (
    CheckIn,
    Customer,
    Escalation,
    EscalationEvent,
    Message,
    Purchase,
    Rep,
    Response,
)
from models.states import CheckInKind


def customer_by_external_id(
    session: Session, external_id: str, *, viewer: Viewer
) -> Customer | None:
    """The customer, if the viewer may see them."""
    if viewer is EVERYONE:
        return stored(session, Customer, external_id)
    if "\x00" in external_id:  # no stored id holds one, and PostgreSQL refuses the query
        return None
    query = select(Customer).where(Customer.external_id == external_id)
    return session.scalars(scope(query, viewer)).first()


def rep_external_id(session: Session, rep_id: int | None) -> str | None:
    if rep_id is None:
        return None
    return session.scalar(select(Rep.external_id).where(Rep.id == rep_id))


def customer_messages(session: Session, customer_id: int, *, viewer: Viewer) -> Sequence[Message]:
    """Every message to and from the customer, oldest first."""
    query = (
        select(Message)
        .where(Message.customer_id == customer_id)
        .order_by(Message.created_at, Message.id)
    )
    return session.scalars(scope(query, viewer)).all()


class CheckInRow(NamedTuple):
    checkin: CheckIn
    score: int | None
    product: str | None


class EscalationRow(NamedTuple):
    escalation: Escalation
    customer_external_id: str
    rep_external_id: str | None
    score: int | None
    comment: str | None


def customer_checkins(session: Session, customer_id: int, *, viewer: Viewer) -> list[CheckInRow]:
    """Each of the customer's check-ins with its score and product, by due time."""
    query = (
        select(CheckIn, Response.score, Purchase.product)
        .outerjoin(Response, Response.checkin_id == CheckIn.id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .where(CheckIn.customer_id == customer_id)
        .order_by(CheckIn.due_at, CheckIn.id)
    )
    rows = session.execute(scope(query, viewer))
    return [CheckInRow(checkin, score, product) for checkin, score, product in rows]


def escalations(
    session: Session, status: str | None = None, *, viewer: Viewer
) -> list[EscalationRow]:
    """Escalations, oldest first, with who they concern and what the customer said.

    The comment is the response's comment or, for a forwarded message, its text.
    """
    owner = aliased(Rep)
    query = (
        select(
            Escalation,
            Customer.external_id,
            owner.external_id,
            Response.score,
            Response.comment,
            Message.body,
        )
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(owner, owner.id == Escalation.rep_id)
        .outerjoin(Response, Response.id == Escalation.response_id)
        .outerjoin(Message, Message.id == Escalation.message_id)
        .order_by(Escalation.created_at, Escalation.id)
    )
    if status is not None:
        query = query.where(Escalation.status == status)
    return [
        EscalationRow(escalation, customer, rep, score, comment or body or None)
        for escalation, customer, rep, score, comment, body in session.execute(scope(query, viewer))
    ]


def escalation(session: Session, escalation_id: int, *, viewer: Viewer) -> Escalation | None:
    """The escalation, if the viewer may see it (and so act on it)."""
    query = select(Escalation).where(Escalation.id == escalation_id)
    return session.scalars(scope(query, viewer)).first()


def escalation_events(
    session: Session, escalation_id: int, *, viewer: Viewer
) -> Sequence[EscalationEvent]:
    """The escalation's audit trail, oldest first."""
    query = (
        select(EscalationEvent)
        .where(EscalationEvent.escalation_id == escalation_id)
        .order_by(EscalationEvent.at, EscalationEvent.id)
    )
    return session.scalars(scope(query, viewer)).all()


def rep_by_external_id(session: Session, external_id: str) -> Rep | None:
    return stored(session, Rep, external_id)


def purchase_by_external_id(session: Session, external_id: str) -> Purchase | None:
    return stored(session, Purchase, external_id)


def post_delivery_checkin(session: Session, purchase: Purchase) -> CheckIn | None:
    """The purchase's post-delivery check-in, once planned (the planner keys it `p<id>`)."""
    return session.scalars(
        select(CheckIn).where(
            CheckIn.customer_id == purchase.customer_id,
            CheckIn.kind == CheckInKind.POST_DELIVERY,
            CheckIn.dedupe_key == f"p{purchase.id}",
        )
    ).first()
