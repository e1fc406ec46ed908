"""A shop reports a delivery: the purchase is updated and its post-delivery check-in planned at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cadence.rules import load_rules
from intake.upserts import NotFound, stored, upsert
from models import CheckIn, Purchase
from scheduler.planner import plan_post_delivery_of


@dataclass
class Delivery:
    purchase: Purchase
    checkin: CheckIn | None  # None: delivered too long ago for a post-delivery survey


def mark_delivered(
    session: Session,
    external_id: str,
    delivered_at: str | None,
    *,
    now: datetime,
    default_tz: str,
) -> Delivery:
    """Record the delivery (`delivered_at` ISO 8601, default `now`) and plan its check-in.

    The purchase goes through the import's own checks and writes, so its
    service checks and the customer's periodic clock start as from a CSV file;
    a time without a zone is read in the customer's zone. Raises NotFound, or
    ImportErrors for a bad time. The caller commits.
    """
    purchase = stored(session, Purchase, external_id)
    if purchase is None:
        raise NotFound(f"No purchase {external_id!r}.")
    record = {
        "external_id": purchase.external_id,
        "customer_external_id": purchase.customer.external_id,
        "product": purchase.product,
        "delivered_at": delivered_at or now.isoformat(),
    }
    upsert(session, "purchases", [record], now=now, default_tz=default_tz)
    checkin = plan_post_delivery_of(session, purchase.id, now, load_rules(session))
    session.refresh(purchase)
    return Delivery(purchase, checkin)
