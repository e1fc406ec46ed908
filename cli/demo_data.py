"""Sample reps, customers and purchases for `bot.py demo`, relative to `now`.

Every cadence kind has a customer it is due for, in each of the five
languages, so the first pass already shows surveys, an apology for a late
delivery, a service check, a periodic check-in, and what quiet hours hold back.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.users import add_user
from cadence.due import first_service_at
from cadence.rules import DEFAULT_RULES
from models import CheckIn, Customer, Escalation, Purchase, Rep, Response
from models.states import EscalationKind, NpsCategory

CUSTOMERS = [
    # external_id, name, phone, language, zone, channel
    ("c-en-1", "Emily Carter", "+14155550123", "en", "America/Los_Angeles", "sms"),
    ("c-en-2", "James O'Neill", "+447700900123", "en", "Europe/London", "sms"),
    ("c-pl-1", "Agnieszka Wiśniewska", "+48601234567", "pl", "Europe/Warsaw", "sms"),
    ("c-pl-2", "Tomasz Zieliński", "+48602345678", "pl", "Europe/Warsaw", "telegram"),
    ("c-uk-1", "Олена Шевченко", "+380501234567", "uk", "Europe/Kyiv", "sms"),
    ("c-uk-2", "Андрій Коваленко", "+380671234567", "uk", "Europe/Kyiv", "sms"),
    ("c-ru-1", "Дмитрий Иванов", "+77011234567", "ru", "Asia/Almaty", "sms"),
    ("c-ru-2", "Наталья Смирнова", "+995555123456", "ru", "Asia/Tbilisi", "sms"),
    ("c-th-1", "สมชาย ใจดี", "+66812345678", "th", "Asia/Bangkok", "sms"),
    ("c-th-2", "มาลี ศรีสุข", "+66898765432", "th", "Asia/Bangkok", "sms"),
]


def seed(session: Session, now: datetime) -> dict[str, int]:
    """Add the sample data; returns counts by table."""
    manager = Rep(external_id="r-mgr", name="Marek Nowak", phone="+48600000001", role="manager")
    anna = Rep(external_id="r-anna", name="Anna Kowalska", phone="+48600000002", manager=manager)
    ben = Rep(external_id="r-ben", name="Ben Thompson", phone="+14155550199", manager=manager)
    session.add_all([manager, anna, ben])
    customers = {}
    for index, (external_id, name, phone, language, zone, channel) in enumerate(CUSTOMERS):
        customers[external_id] = Customer(
            external_id=external_id,
            name=name,
            phone=phone,
            language=language,
            timezone=zone,
            channel=channel,
            rep=anna if index % 2 == 0 else ben,
            tags=["demo"],
        )
    session.add_all(customers.values())
    purchases = [
        # Delivered yesterday: a car (due after 1 day), a dentist visit two days ago.
        ("o-1", "c-en-1", "Toyota Corolla Hybrid", "car", now - timedelta(days=1, minutes=5), None),
        ("o-2", "c-pl-1", "Skoda Octavia Combi", "car", now - timedelta(days=1, hours=2), None),
        ("o-3", "c-uk-1", "Teeth whitening", "dental", now - timedelta(days=2, hours=1), None),
        ("o-4", "c-ru-1", "Кухонный гарнитур", "furniture", now - timedelta(days=2, hours=3), None),
        ("o-5", "c-th-1", "Honda City", "car", now - timedelta(days=1, hours=1), None),
        # Promised three days ago, still not delivered: an apology is due.
        ("o-6", "c-en-2", "Oak dining table", "furniture", None, (now - timedelta(days=3)).date()),
        (
            "o-7",
            "c-uk-2",
            "Пральна машина Bosch",
            "appliances",
            None,
            (now - timedelta(days=2)).date(),
        ),
        # Delivered half a year ago: a service check is due.
        ("o-8", "c-pl-2", "Volkswagen Golf", "car", now - timedelta(days=183), None),
        # Delivered long ago: a periodic check-in is due (nothing to sell).
        ("o-9", "c-ru-2", "Ремонт коробки передач", "service", now - timedelta(days=120), None),
        ("o-10", "c-th-2", "รถจักรยานยนต์ Yamaha", "motorbike", now - timedelta(days=95), None),
    ]
    for external_id, customer_id, product, category, delivered_at, promised in purchases:
        customer = customers[customer_id]
        purchase = Purchase(
            external_id=external_id,
            customer=customer,
            product=product,
            category=category,
            purchased_at=(delivered_at or now) - timedelta(days=14),
            promised_delivery_date=promised,
            delivered_at=delivered_at,
            rep=customer.rep,
        )
        if delivered_at is not None:
            purchase.next_service_at = first_service_at(delivered_at, category, DEFAULT_RULES)
            customer.periodic_anchor_at = customer.periodic_anchor_at or delivered_at
        session.add(purchase)
    return {"reps": 3, "customers": len(customers), "purchases": len(purchases)}


# One login of each role: the admin, Marek (who manages Anna and Ben), and Anna.
DEMO_USERS = [("admin", "admin", None), ("marek", "manager", "r-mgr"), ("anna", "rep", "r-anna")]


def add_users(session: Session, now: datetime) -> list[tuple[str, str, str]]:
    """One user of each role, with fresh random passwords: (user, role, password) each."""
    logins = []
    for username, role, rep in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        add_user(session, now, username, role, password, rep_external_id=rep, actor="demo")
        logins.append((username, role, password))
    return logins


HISTORY = [
    (5, [9, 10, 7, 3, 8, 9]),
    (4, [10, 9, 6, 9, 8]),
    (3, [9, 9, 10, 7, 5, 10, 8]),
    (2, [10, 9, 9, 8, 2, 9]),
    (1, [9, 10, 10, 7, 9, 6, 10]),
]

COMMENTS = {
    10: "Anna explained everything, thank you!",
    6: "Delivery was two days late.",
    2: "Nobody called me back about the scratch.",
}


def add_history(session: Session, now: datetime) -> None:
    """Answered surveys over the past months, spread over the demo's customers, and one escalation."""
    customers = list(session.scalars(select(Customer).order_by(Customer.id)))
    count = 0
    for months_ago, scores in HISTORY:
        for index, score in enumerate(scores):
            customer = customers[count % len(customers)]
            when = now - timedelta(days=30 * months_ago - index)
            kind = ("post_delivery", "periodic", "service")[count % 3]
            checkin = CheckIn(
                customer_id=customer.id,
                kind=kind,
                dedupe_key=f"history-{count}",
                due_at=when - timedelta(hours=3),
                status="answered",
                sent_at=when - timedelta(hours=2),
                channel="sms",
            )
            session.add(checkin)
            session.flush()
            category = NpsCategory.of(score)
            response = Response(
                checkin_id=checkin.id,
                customer_id=customer.id,
                score=score,
                category=category,
                comment=COMMENTS.get(score, ""),
                channel="sms",
                received_at=when,
            )
            session.add(response)
            session.flush()
            if score <= 6:
                session.add(
                    Escalation(
                        kind=EscalationKind.DETRACTOR,
                        response_id=response.id,
                        customer_id=customer.id,
                        rep_id=customer.rep_id,
                        status="resolved" if months_ago > 1 else "open",
                        sla_due_at=when + timedelta(hours=2),
                        resolved_at=when + timedelta(hours=5) if months_ago > 1 else None,
                        resolution_note="Called and sent a voucher." if months_ago > 1 else None,
                        created_at=when,
                    )
                )
            count += 1
