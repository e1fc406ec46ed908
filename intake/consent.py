"""Consent that another system collected (a shop's account page, a CRM): opt-outs and opt-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from conversation.optout import record_opt_in, record_opt_out
from intake.upserts import NotFound, stored
from models import Customer

SOURCE = "api"


def opt_out(
    session: Session, external_id: str, now: datetime, *, system: str = "", note: str = ""
) -> Customer:
    """Opt the customer out at once, on every channel, withdrawing what is queued; written down.

    Nothing is sent to the customer: they told the other system, not us. A
    customer already opted out is left as they are. The caller commits.
    """
    customer = _customer(session, external_id)
    record_opt_out(session, now, customer, SOURCE, detail=_detail(system, note))
    return customer


def opt_in(
    session: Session, external_id: str, now: datetime, *, system: str = "", note: str = ""
) -> Customer:
    """Opt an opted-out customer back in, written down; anyone else is left as they are."""
    customer = _customer(session, external_id)
    if customer.opted_out_at is not None:
        record_opt_in(session, now, customer, SOURCE, detail=_detail(system, note))
    return customer


def _customer(session: Session, external_id: str) -> Customer:
    customer = stored(session, Customer, external_id)
    if customer is None:
        raise NotFound(f"No customer {external_id!r}.")
    return customer


def _detail(system: str, note: str) -> str:
    """What the consent record keeps: which system said so, and its words ("shop: ticked ...")."""
    system, note = system.strip(), note.strip()
    return f"{system}: {note}" if system and note else system or note
