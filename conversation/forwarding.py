"""Hand a customer's message to a human, so no message is ever left unread."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from conversation.turn import Turn
from escalation.alerts import relay_to_rep
from escalation.opening import open_escalation
from escalation.trail import record
from models import Escalation, Rep
from models.states import EscalationStatus, Purpose

# The "we've passed it on" note goes at most this often: a chatty customer is not spammed.
FORWARD_NOTE_EVERY = timedelta(days=1)


def forward_to_rep(turn: Turn, *, answer: bool) -> Escalation:
    """Put the message in front of the customer's rep; tell the customer (once a day) if `answer`.

    A customer with an unresolved escalation already has a human on it: the
    message joins that escalation's trail ("customer_message") instead of
    opening another one. Otherwise it opens a `needs_answer` escalation.
    """
    session, customer = turn.session, turn.customer
    escalation = unresolved_escalation(turn)
    if escalation is None:
        escalation = open_escalation(
            session,
            turn.now,
            customer=customer,
            kind="needs_answer",
            message=turn.message,
            rules=turn.rules,
            settings=turn.settings,
            book=turn.book,
        )
    else:
        body = turn.message.body
        record(session, turn.now, escalation.id, "customer_message", body, actor=customer.name)
        relay_to_rep(session, turn.now, escalation, turn.message.body, turn.settings, turn.book)
    if (
        answer
        and customer.opted_out_at is None
        and not turn.replied_since("forwarded", turn.now - FORWARD_NOTE_EVERY)
    ):
        rep = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
        turn.reply(
            "forwarded_to_rep", purpose=Purpose.FORWARDED, rep_name=rep.name if rep else None
        )
    return escalation


def unresolved_escalation(turn: Turn) -> Escalation | None:
    """The customer's newest escalation that is open or acknowledged, if any."""
    turn.session.flush()
    return turn.session.scalar(
        select(Escalation)
        .where(
            Escalation.customer_id == turn.customer.id,
            Escalation.status != EscalationStatus.RESOLVED,
        )
        .order_by(Escalation.id.desc())
        .limit(1)
    )
