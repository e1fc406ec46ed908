"""Opening an escalation: exactly one per response or message, always with someone to answer it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cadence.rules import CadenceRules
from escalation.opening import open_escalation
from models import CheckIn, Escalation, EscalationEvent, Message, Purchase, Rep, Response
from settings import Settings
from tests.conftest import at

RULES = CadenceRules(escalation_sla_hours=4)
NOW = at("2026-03-02 16:00")


def a_response(session, customer, purchase=None, score=2) -> Response:
    checkin = CheckIn(
        customer_id=customer.id,
        purchase=purchase,
        kind="post_delivery",
        dedupe_key="x",
        due_at=NOW,
        status="answered",
        sent_at=NOW,
    )
    session.add(checkin)
    session.flush()
    response = Response(
        checkin_id=checkin.id,
        customer_id=customer.id,
        score=score,
        category="detractor",
        received_at=NOW,
    )
    session.add(response)
    session.flush()
    return response


def test_it_goes_to_the_customers_own_rep_with_the_sla(session, cast) -> None:
    escalation = open_escalation(
        session,
        NOW,
        customer=cast["en"],
        kind="detractor",
        response=a_response(session, cast["en"]),
        rules=RULES,
        settings=Settings(),
    )
    assert escalation.rep_id == cast["rep"].id
    assert (escalation.status, escalation.sla_due_at, escalation.created_at) == (
        "open",
        at("2026-03-02 20:00"),
        NOW,
    )


def test_without_an_own_rep_it_goes_to_the_rep_who_sold_the_purchase(session, cast) -> None:
    customer = cast["pl"]
    customer.rep_id = None
    seller = Rep(external_id="rep-2", name="Piotr Zieliński", phone="+48600000003")
    purchase = Purchase(external_id="o-1", customer=customer, product="Sofa", rep=seller)
    session.add_all([seller, purchase])
    session.flush()
    escalation = open_escalation(
        session,
        NOW,
        customer=customer,
        kind="detractor",
        response=a_response(session, customer, purchase),
        rules=RULES,
        settings=Settings(),
    )
    assert escalation.rep_id == seller.id


def test_a_forwarded_message_goes_to_the_rep_of_the_customers_purchases(session, cast) -> None:
    customer = cast["pl"]
    customer.rep_id = None
    seller = Rep(external_id="rep-2", name="Piotr Zieliński")
    session.add_all(
        [seller, Purchase(external_id="o-1", customer=customer, product="Sofa", rep=seller)]
    )
    message = Message(
        direction="in",
        channel="sms",
        body="hello?",
        status="received",
        provider_id="m1",
        customer_id=customer.id,
    )
    session.add(message)
    session.flush()
    escalation = open_escalation(
        session,
        NOW,
        customer=customer,
        kind="needs_answer",
        message=message,
        rules=RULES,
        settings=Settings(),
    )
    assert (escalation.rep_id, escalation.message_id, escalation.kind) == (
        seller.id,
        message.id,
        "needs_answer",
    )


def test_with_nobody_else_it_goes_to_a_manager(session, cast) -> None:
    customer = cast["th"]
    customer.rep_id = None
    session.flush()
    escalation = open_escalation(
        session,
        NOW,
        customer=customer,
        kind="detractor",
        response=a_response(session, customer),
        rules=RULES,
        settings=Settings(),
    )
    assert escalation.rep_id == cast["manager"].id


def test_opening_twice_returns_the_same_escalation_and_one_event(session, cast) -> None:
    response = a_response(session, cast["en"])
    first = open_escalation(
        session,
        NOW,
        customer=cast["en"],
        kind="detractor",
        response=response,
        rules=RULES,
        settings=Settings(),
    )
    second = open_escalation(
        session,
        NOW,
        customer=cast["en"],
        kind="detractor",
        response=response,
        rules=RULES,
        settings=Settings(),
    )
    session.commit()
    assert first.id == second.id
    assert session.scalar(select(func.count(Escalation.id))) == 1
    [event] = session.scalars(select(EscalationEvent)).all()
    assert (event.escalation_id, event.action, event.at) == (first.id, "opened", NOW)


def test_it_is_about_one_response_or_one_message(session, cast) -> None:
    with pytest.raises(ValueError, match="one response or one message"):
        open_escalation(
            session, NOW, customer=cast["en"], kind="detractor", rules=RULES, settings=Settings()
        )
