"""Open an escalation: one per response or forwarded message, assigned to a human at once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules
from cadence.team import load_team
from escalation.alerts import alert_new_escalation
from escalation.trail import SYSTEM, record
from events import EventType, record_event
from events.payloads import escalation_data
from messaging.compose import TemplateBook
from messaging.once import insert_once
from models import Customer, Escalation, Message, Purchase, Rep, Response
from settings import Settings

log = logging.getLogger(__name__)


def sla_due_at(
    session: Session, now: datetime, rules: CadenceRules, settings: Settings
) -> datetime:
    """When an escalation opened (or reopened) `now` must be acted on: the SLA's hours of
    the team's working time (cadence/team.py: plain hours unless the business set them)."""
    team = load_team(session, settings.default_tz)
    return team.sla_due(now, timedelta(hours=rules.escalation_sla_hours))


def open_escalation(
    session: Session,
    now: datetime,
    *,
    customer: Customer,
    kind: str,
    response: Response | None = None,
    message: Message | None = None,
    rules: CadenceRules,
    settings: Settings,
    book: TemplateBook | None = None,
) -> Escalation:
    """The escalation for `response` (or `message`): created once, or the one that exists.

    It goes to the customer's own rep, else the purchase's rep, else a manager,
    with an SLA of `rules.escalation_sla_hours` of working time (cadence/team.py: plain
    hours unless the business set working hours) and an "opened" event, and the
    alert to that person is queued at once, in the same transaction (so it is
    sent when the outbox is next drained: within seconds under `run`).
    `book` defaults to the templates in force.
    """
    if (response is None) == (message is None):
        raise ValueError("an escalation is about one response or one message")
    unique = {"response_id": response.id} if response is not None else {"message_id": message.id}  # type: ignore[union-attr]
    rep_id = assignee(session, customer, response)
    escalation, created = insert_once(
        session,
        Escalation,
        {
            **unique,
            "kind": kind,
            "customer_id": customer.id,
            "rep_id": rep_id,
            "status": "open",
            "sla_due_at": sla_due_at(session, now, rules, settings),
            "created_at": now,
        },
        unique=unique,
    )
    if created:
        detail = f"{kind}, score {response.score}" if response is not None else kind
        record(session, now, escalation.id, "opened", detail)
        record_event(
            session,
            now,
            EventType.ESCALATION_OPENED,
            lambda: escalation_data(session, escalation, SYSTEM),
        )
        if rep_id is None:
            log.warning(
                "escalation %s for customer %s has nobody to go to", escalation.id, customer.id
            )
        alert_new_escalation(
            session,
            now,
            escalation,
            settings,
            book if book is not None else TemplateBook.load(session),
        )
    return escalation


def assignee(session: Session, customer: Customer, response: Response | None) -> int | None:
    """Who owns it: the customer's rep, else the purchase's rep, else the first manager."""
    if customer.rep_id is not None:
        return customer.rep_id
    purchase_rep = None
    if response is not None and response.checkin.purchase is not None:
        purchase_rep = response.checkin.purchase.rep_id
    if purchase_rep is None:
        purchase_rep = session.scalar(
            select(Purchase.rep_id)
            .where(Purchase.customer_id == customer.id, Purchase.rep_id.is_not(None))
            .order_by(Purchase.delivered_at.desc().nulls_last(), Purchase.id.desc())
            .limit(1)
        )
    if purchase_rep is not None:
        return purchase_rep
    return session.scalar(select(Rep.id).where(Rep.role == "manager").order_by(Rep.id).limit(1))
