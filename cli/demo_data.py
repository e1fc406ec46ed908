"""Sample reps, customers and purchases for `bot.py demo`, relative to `now`.

The story: Kowalski Motors, a car dealer in Poland that sells cars, services them
in its own workshop and sells parts, with customers who write in Polish, Ukrainian,
Russian, Thai and English. Every cadence kind has a customer it is due for, so the
first pass already shows surveys, an apology for a late delivery, a service check,
a periodic check-in, and what quiet hours hold back. The history (`add_history`) is
five months of answered surveys, each with its messages: the survey as it went out,
in the customer's language and on their channel, and their reply in their words.
Then one of Anna's customers answers today's survey with a complaint
(`add_fresh_complaint`), so she has an escalation waiting when she logs in.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.users import add_user
from cadence.due import first_service_at
from cadence.rules import DEFAULT_RULES
from conversation.inbound import Inbound, receive
from messaging.render import render
from models import CheckIn, Customer, Escalation, Message, Purchase, Rep, Response
from models.states import SURVEY_KINDS, CheckInStatus, EscalationKind, NpsCategory
from settings import Settings

_MIN = timedelta(minutes=1)
DEMO_CHAT_IDS = {"c-pl-2": 700_000_001}  # Tomasz linked his Telegram chat

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
    # A Polish dealer: Marek and Anna read their alerts in Polish, Ben in English.
    manager = Rep(
        external_id="r-mgr", name="Marek Nowak", phone="+48600000001", role="manager", language="pl"
    )
    anna = Rep(
        external_id="r-anna",
        name="Anna Kowalska",
        phone="+48600000002",
        manager=manager,
        language="pl",
    )
    ben = Rep(
        external_id="r-ben",
        name="Ben Thompson",
        phone="+14155550199",
        manager=manager,
        language="en",
    )
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
            telegram_chat_id=DEMO_CHAT_IDS.get(external_id),
            tags=["demo"],
        )
    session.add_all(customers.values())
    # Cars ("car": surveyed a day after the keys, serviced twice a year), the workshop
    # ("garage": a week after the visit) and parts (any other category: two days after).
    day = timedelta(days=1)
    purchases = [
        # Handed over yesterday: a survey is due now.
        ("o-1", "c-en-1", "Toyota Corolla Hybrid", "car", now - timedelta(days=1, minutes=5), None),
        ("o-2", "c-pl-1", "Skoda Octavia Combi", "car", now - timedelta(days=1, hours=2), None),
        ("o-5", "c-th-1", "Honda City", "car", now - timedelta(days=1, hours=1), None),
        # The workshop a week ago, winter tyres fitted two days ago.
        ("o-3", "c-uk-1", "Заміна гальмівних колодок", "garage", now - 7 * day - 60 * _MIN, None),
        ("o-4", "c-ru-1", "Комплект зимних шин Nokian", "parts", now - 2 * day - 180 * _MIN, None),
        # Promised, still not here: an apology is due.
        ("o-6", "c-en-2", "Ford Kuga", "car", None, (now - 3 * day).date()),
        ("o-7", "c-uk-2", "Фаркоп для Skoda Kodiaq", "parts", None, (now - 2 * day).date()),
        # Half a year on the road: the service check is due.
        ("o-8", "c-pl-2", "Volkswagen Golf", "car", now - 183 * day, None),
        # Long ago: a periodic check-in is due (nothing to sell).
        ("o-9", "c-ru-2", "ТО-2 Kia Sportage", "garage", now - 120 * day, None),
        ("o-10", "c-th-2", "ยาง Michelin 4 เส้น", "parts", now - 95 * day, None),
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

# What customers wrote with their score, in their own language (the reply is "<score> <words>").
COMMENTS: dict[str, dict[int, str]] = {
    "en": {10: "Anna explained everything, thank you!", 6: "The car came two days late.",
           2: "Nobody called me back about the scratch on the door."},
    "pl": {10: "Pani Anna wszystko świetnie wyjaśniła, dziękuję!",
           6: "Samochód przyjechał dwa dni po terminie.",
           2: "Nikt nie oddzwonił w sprawie rysy na drzwiach."},
    "uk": {10: "Анна все чудово пояснила, дякую!", 6: "Авто привезли на два дні пізніше.",
           2: "Ніхто не передзвонив щодо подряпини на дверях."},
    "ru": {10: "Анна всё отлично объяснила, спасибо!", 6: "Машину пригнали на два дня позже.",
           2: "Никто не перезвонил по поводу царапины на двери."},
    "th": {10: "คุณแอนนาอธิบายทุกอย่างชัดเจนมาก ขอบคุณค่ะ", 6: "รถมาส่งช้าไปสองวันค่ะ",
           2: "ยังไม่มีใครโทรกลับเรื่องรอยขีดข่วนที่ประตูเลยค่ะ"},
}  # fmt: skip


def _address(customer: Customer) -> str:
    if customer.channel == "telegram" and customer.telegram_chat_id is not None:
        return str(customer.telegram_chat_id)
    return customer.phone or ""


def _messages(customer: Customer, checkin: CheckIn, survey: str, reply: str) -> list[Message]:
    """The survey as it went out and the customer's reply, as the bot records them."""
    assert checkin.sent_at is not None
    received = checkin.sent_at + timedelta(hours=2)
    common = {
        "channel": checkin.channel or customer.channel,
        "address": _address(customer),
        "customer_id": customer.id,
        "checkin_id": checkin.id,
    }
    return [
        Message(
            direction="out", purpose="survey", body=survey, status="delivered",
            provider_id=f"demo-out-{checkin.id}", created_at=checkin.sent_at,
            sent_at=checkin.sent_at, delivered_at=checkin.sent_at, **common,
        ),
        Message(
            direction="in", purpose="", body=reply, status="received",
            provider_id=f"demo-in-{checkin.id}", created_at=received, processed_at=received,
            **common,
        ),
    ]  # fmt: skip


# Every demo customer came to the workshop before the history starts (its first survey
# is about that visit), in the words of their language.
EARLIER_VISIT = {
    "en": "Annual service",
    "pl": "Przegląd okresowy",
    "uk": "Планове ТО",
    "ru": "Плановое ТО",
    "th": "เช็กระยะ 10,000 กม.",
}


def _schedule(customers: list[Customer], now: datetime) -> list[tuple[Customer, datetime, int]]:
    """(customer, when they answered, score) for every answered survey of the history."""
    found: list[tuple[Customer, datetime, int]] = []
    for months_ago, scores in HISTORY:
        for index, score in enumerate(scores):
            customer = customers[len(found) % len(customers)]
            found.append((customer, now - timedelta(days=30 * months_ago - index), score))
    return found


def _earlier_visits(
    session: Session, schedule: list[tuple[Customer, datetime, int]]
) -> dict[int, Purchase]:
    """A workshop visit for each customer a week before their first survey (no service cadence)."""
    visits: dict[int, Purchase] = {}
    for customer, when, _score in schedule:
        if customer.id not in visits:
            visits[customer.id] = Purchase(
                external_id=f"o-visit-{customer.external_id}",
                customer=customer,
                product=EARLIER_VISIT[customer.language],
                category="garage",
                purchased_at=when - timedelta(days=9),
                delivered_at=when - timedelta(days=8),
                rep=customer.rep,
            )
    session.add_all(visits.values())
    session.flush()
    return visits


def _survey(customer: Customer, kind: str, about: Purchase | None, business_name: str) -> str:
    return render(
        f"survey_{kind}",
        customer.language,
        {
            "first_name": customer.name.split()[0],
            "business_name": business_name,
            "product": about.product if about is not None else None,
            "channel": customer.channel,
        },
    )


def add_history(session: Session, now: datetime, business_name: str = "Kowalski Motors") -> None:
    """Answered surveys over the past months, spread over the demo's customers, each with its
    survey and reply messages, and the escalations the low scores opened.

    Each customer's first survey is the post-delivery one about a workshop visit a week
    before; later ones are a service check about a car delivered by then, else periodic.
    """
    customers = list(session.scalars(select(Customer).order_by(Customer.id)))
    schedule = _schedule(customers, now)
    visits = _earlier_visits(session, schedule)
    cars = {
        p.customer_id: p
        for p in session.scalars(select(Purchase).where(Purchase.category == "car"))
        if p.delivered_at is not None
    }
    surveyed: set[int] = set()
    for count, (customer, when, score) in enumerate(schedule):
        car = cars.get(customer.id)
        about: Purchase | None
        if customer.id not in surveyed:
            kind, about = "post_delivery", visits[customer.id]
        elif car is not None and car.delivered_at is not None and car.delivered_at < when:
            kind, about = "service", car
        else:
            kind, about = "periodic", None
        surveyed.add(customer.id)
        checkin = CheckIn(
            customer_id=customer.id,
            purchase_id=about.id if about is not None else None,
            kind=kind,
            dedupe_key=f"history-{count}",
            due_at=when - timedelta(hours=3),
            status="answered",
            sent_at=when - timedelta(hours=2),
            channel=customer.channel,
            template_key=f"survey_{kind}",
        )
        session.add(checkin)
        session.flush()
        comment = COMMENTS[customer.language].get(score, "")
        reply = f"{score} {comment}".strip()
        survey = _survey(customer, kind, about, business_name)
        session.add_all(_messages(customer, checkin, survey, reply))
        response = Response(
            checkin_id=checkin.id,
            customer_id=customer.id,
            score=score,
            category=NpsCategory.of(score),
            comment=comment,
            channel=customer.channel,
            received_at=when,
        )
        session.add(response)
        session.flush()
        if score <= 6:
            # The team keeps up: older complaints are settled, last month's was taken within
            # its SLA and is still being worked on; today's is the one open
            # (add_fresh_complaint), never one left weeks past its SLA.
            settled = now - when > timedelta(days=30)
            session.add(
                Escalation(
                    kind=EscalationKind.DETRACTOR,
                    response_id=response.id,
                    customer_id=customer.id,
                    rep_id=customer.rep_id,
                    status="resolved" if settled else "acknowledged",
                    sla_due_at=when + timedelta(hours=2),
                    acknowledged_at=when + timedelta(minutes=40),
                    acknowledged_by_id=customer.rep_id,
                    resolved_at=when + timedelta(hours=5) if settled else None,
                    resolution_note="Called and sent a voucher." if settled else None,
                    created_at=when,
                )
            )


# Whose answer to today's survey about their new car is a complaint, first choice first:
# Anna's car buyers, in Warsaw, Bangkok and Los Angeles (one of them is always awake).
COMPLAINERS = ["c-pl-1", "c-th-1", "c-en-1"]
FRESH_COMPLAINT = {
    "en": "4 The car wasn't cleaned at handover and nobody showed me the navigation.",
    "pl": "4 Auto przy odbiorze było brudne i nikt nie pokazał mi nawigacji.",
    "th": "4 รถยังไม่ได้ล้างตอนส่งมอบ และไม่มีใครสอนใช้ระบบนำทางเลยค่ะ",
}


def add_fresh_complaint(session: Session, now: datetime, settings: Settings) -> Customer | None:
    """One of Anna's customers answers the survey the first pass just sent with a 4 and why,
    through the same door as a real SMS, so Anna has an escalation waiting when she logs in.

    None when the first pass sent none of them a survey (it is their night everywhere).
    """
    sent = {
        customer.external_id: customer
        for customer in session.scalars(
            select(Customer)
            .join(CheckIn, CheckIn.customer_id == Customer.id)
            .where(
                Customer.external_id.in_(COMPLAINERS),
                CheckIn.status == CheckInStatus.SENT,
                CheckIn.kind.in_(SURVEY_KINDS),
            )
        )
    }
    customer = next((sent[key] for key in COMPLAINERS if key in sent), None)
    if customer is None:
        return None
    receive(
        session,
        now,
        Inbound(
            channel=customer.channel,
            address=_address(customer),
            text=FRESH_COMPLAINT[customer.language],
            provider_id=f"demo-complaint-{customer.external_id}",
            received_at=now,
            sender_name=customer.name,
        ),
        settings,
    )
    return customer
