"""What each event says: the business's own ids and words, never a phone number.

The receiver is the business's own system (a CRM, a helpdesk), so customers and
reps are named by their `external_id` (the key that system already has) and name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from events.outbox import timestamp
from models import CheckIn, Customer, Escalation, Message, Purchase, Rep, Response


def _when(moment: datetime | None) -> str | None:
    return timestamp(moment) if moment is not None else None


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "external_id": customer.external_id,
        "name": customer.name,
        "language": customer.language,
        "channel": customer.channel,
    }


def rep_data(rep: Rep | None) -> dict[str, Any] | None:
    if rep is None:
        return None
    return {"external_id": rep.external_id, "name": rep.name, "role": rep.role}


def purchase_data(purchase: Purchase | None) -> dict[str, Any] | None:
    if purchase is None:
        return None
    return {
        "external_id": purchase.external_id,
        "product": purchase.product,
        "category": purchase.category,
        "delivered_at": _when(purchase.delivered_at),
    }


def response_data(session: Session, response: Response) -> dict[str, Any]:
    """A response as `response.created` and `response.commented` carry it."""
    checkin = session.get_one(CheckIn, response.checkin_id)
    return {
        "response_id": response.id,
        "score": response.score,
        "category": response.category,
        "comment": response.comment,
        "channel": response.channel,
        "received_at": _when(response.received_at),
        "kind": checkin.kind,
        "checkin_id": checkin.id,
        "customer": customer_data(session.get_one(Customer, response.customer_id)),
        "purchase": purchase_data(
            session.get(Purchase, checkin.purchase_id) if checkin.purchase_id else None
        ),
    }


def escalation_data(session: Session, escalation: Escalation, by: str) -> dict[str, Any]:
    """An escalation as it stands after the change, and who made the change."""
    response = session.get(Response, escalation.response_id) if escalation.response_id else None
    rep = session.get(Rep, escalation.rep_id) if escalation.rep_id else None
    manager = session.get(Rep, escalation.manager_id) if escalation.manager_id else None
    return {
        "escalation_id": escalation.id,
        "kind": escalation.kind,
        "status": escalation.status,
        "by": by,
        "customer": customer_data(session.get_one(Customer, escalation.customer_id)),
        "rep": rep_data(rep),
        "response": response_data(session, response) if response is not None else None,
        "sla_due_at": _when(escalation.sla_due_at),
        "acknowledged_at": _when(escalation.acknowledged_at),
        "escalated_to_manager": escalation.escalated_to_manager_at is not None,
        "manager": rep_data(manager),
        "resolved_at": _when(escalation.resolved_at),
        "resolution_note": escalation.resolution_note,
    }


def consent_data(
    customer: Customer, at: datetime, source: str, channel: str | None
) -> dict[str, Any]:
    """An opt-out or opt-in: who, when, and how it came (keyword, reply, api, admin...)."""
    return {
        "customer": customer_data(customer),
        "at": _when(at),
        "source": source,
        "channel": channel,
    }


def message_data(session: Session, message: Message) -> dict[str, Any]:
    """An outgoing message that could not be delivered, and why (no address, no body)."""
    customer = session.get(Customer, message.customer_id) if message.customer_id else None
    return {
        "message_id": message.id,
        "channel": message.channel,
        "purpose": message.purpose,
        "checkin_id": message.checkin_id,
        "customer": customer_data(customer) if customer is not None else None,
        "rep": rep_data(session.get(Rep, message.rep_id) if message.rep_id else None),
        "attempts": message.attempts,
        "error_code": message.error_code,
        "error": message.error,
    }
