"""A rep's email that the mail server refuses (SMTP 550): marked dead like a customer's, the
alert resent on the rep's other channel, later alerts go where someone reads them.

The alerts are real emails from the real client (aiosmtplib) to the local SMTP server,
and real SMS to the local fake Twilio; the detractor's score comes in by the inbound door.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from conversation.inbound import Inbound, receive
from messaging.channels import Transports
from messaging.channels.email import EmailChannel
from messaging.channels.sms import SmsChannel
from messaging.outbox import drain
from models import Customer, Escalation, Message, Rep
from settings import Settings
from tests.channel_support import NOW, channel_settings
from tests.conversation_support import SETTINGS, sent_survey
from tests.fakes.smtp_server import FakeSmtp
from tests.fakes.twilio_server import FakeTwilio
from tests.test_importing import csv_text, run
from tests.test_users import empty_database  # noqa: F401  (a fixture)

pytest_plugins = ["tests.conftest_channels", "tests.conftest_email"]

ANNA_MAIL = "anna@kowalski.example"


@pytest.fixture
def transports(fake_smtp: FakeSmtp, fake_twilio: FakeTwilio, sms: SmsChannel) -> Transports:
    email = EmailChannel(
        channel_settings(
            smtp_url=fake_smtp.url,
            email_from="Kowalski Motors <care@kowalski.example>",
            session_secret="email-links-test-secret-0123456789",
        )
    )
    return Transports(by_channel={"email": email, "sms": sms})


def scores(db: sessionmaker[Session], customer: Customer, text: str, when=NOW) -> None:  # type: ignore[no-untyped-def]
    """The customer answers their SMS survey, through the one inbound door."""
    inbound = Inbound(
        channel="sms",
        address=customer.phone or "",
        text=text,
        provider_id=f"in-{customer.id}-{when:%H%M%S}",
        received_at=when,
    )
    with db.begin() as session:
        receive(session, when, inbound, SETTINGS)


def rep_alerts(session: Session) -> list[tuple[str, str, str, int | None]]:
    session.expire_all()
    rows = session.scalars(select(Message).where(Message.rep_id.is_not(None)).order_by(Message.id))
    return [(row.channel, row.address, row.status, row.rep_id) for row in rows]


def test_a_550_on_a_rep_alert_marks_the_reps_email_dead_and_the_alert_goes_by_sms(
    db, session, cast, fake_smtp, fake_twilio, transports
) -> None:
    anna, john = cast["rep"], cast["en"]
    phone = anna.phone
    anna.phone, anna.email = None, ANNA_MAIL  # reached by email only when the alert is queued
    sent_survey(session, john)
    session.commit()
    scores(db, john, "2")
    [(channel, address, status, _)] = rep_alerts(session)
    assert (channel, address, status) == ("email", ANNA_MAIL, "queued")
    # Her mobile is added before the alert goes out (it waited, or the sender was busy).
    session.get_one(Rep, anna.id).phone = phone
    session.commit()
    fake_smtp.refuse(ANNA_MAIL)  # 550 5.1.1 No such user here
    drain(db, NOW, transports, settings=Settings())
    session.expire_all()
    assert session.get_one(Rep, anna.id).email_unreachable_at == NOW
    assert fake_smtp.received == []
    assert rep_alerts(session) == [
        ("email", ANNA_MAIL, "failed", anna.id),
        ("sms", phone, "sent", anna.id),
    ]
    [texted] = [m for m in fake_twilio.messages if m["to"] == phone]
    assert "John Smith" in texted["body"] and "2/10" in texted["body"]


def test_a_rep_whose_only_email_bounced_is_skipped_for_the_manager_until_it_changes(
    db, session, cast, fake_smtp, fake_twilio, transports
) -> None:
    anna, marek, john, agnieszka = cast["rep"], cast["manager"], cast["en"], cast["pl"]
    anna.phone, anna.email = None, ANNA_MAIL
    sent_survey(session, john)
    sent_survey(session, agnieszka)
    session.commit()
    fake_smtp.refuse(ANNA_MAIL)
    scores(db, john, "2")
    drain(db, NOW, transports, settings=Settings())
    session.expire_all()
    assert session.get_one(Rep, anna.id).email_unreachable_at == NOW
    # The next escalation is not sent into the dead mailbox: her manager hears of it, and why.
    later = NOW + timedelta(minutes=5)
    scores(db, agnieszka, "3", later)
    *_, (channel, address, status, rep_id) = rep_alerts(session)
    assert (channel, address, rep_id) == ("sms", marek.phone, marek.id)
    escalation = session.scalars(
        select(Escalation).where(Escalation.customer_id == agnieszka.id)
    ).one()
    from models import EscalationEvent

    [why] = session.scalars(
        select(EscalationEvent.detail).where(
            EscalationEvent.escalation_id == escalation.id,
            EscalationEvent.action == "alert_rerouted",
        )
    ).all()
    assert "their email bounced" in why
    # A new address (the CSV import, as the API's upsert) is worth trying again.
    run(
        session,
        "reps",
        csv_text("external_id,name,email", "rep-1,Anna Kowalska,anna.k@kowalski.example"),
    )
    session.commit()
    session.expire_all()
    renewed = session.get_one(Rep, anna.id)
    assert (renewed.email, renewed.email_unreachable_at) == ("anna.k@kowalski.example", None)


def test_a_customers_new_email_clears_the_bounce_of_the_old_one(session, cast) -> None:
    john = cast["en"]
    john.email, john.email_unreachable_at = "john@example.com", NOW
    session.commit()
    # The same address again changes nothing: it is still dead.
    header = "external_id,name,phone,telegram_chat_id,language,timezone,channel,rep_external_id,tags,email"
    row = "cust-en,John Smith,+14155550101,,en,America/New_York,sms,rep-1,,{}"
    run(session, "customers", csv_text(header, row.format("john@example.com")))
    session.commit()
    session.expire_all()
    assert session.get_one(Customer, john.id).email_unreachable_at == NOW
    run(session, "customers", csv_text(header, row.format("john.smith@example.com")))
    session.commit()
    session.expire_all()
    assert session.get_one(Customer, john.id).email_unreachable_at is None


def test_a_rep_alert_by_email_arrives_with_its_first_line_as_the_subject(
    db, session, cast, fake_smtp, transports
) -> None:
    """It used to crash the transport: the alert's first paragraph (several lines) became the
    Subject header, and a header may not hold a line break."""
    anna, john = cast["rep"], cast["en"]
    anna.phone, anna.email = None, ANNA_MAIL
    sent_survey(session, john)
    session.commit()
    scores(db, john, "2")
    drain(db, NOW, transports, settings=Settings())
    [got] = fake_smtp.received
    assert got.recipients == [ANNA_MAIL]
    assert got.message["Subject"] == "Anna, John Smith needs you: score 2/10."
    body = got.message.get_body(("plain",))
    assert body is not None and "Acknowledge it and, once it is fixed" in body.get_content()
    assert rep_alerts(session) == [("email", ANNA_MAIL, "sent", anna.id)]
    # An alert to a colleague is not mail she could unsubscribe from (RFC 8058 headers and
    # the footer link are for customers): neither header, nor a link, in either part.
    assert got.message["List-Unsubscribe"] is None
    assert got.message["List-Unsubscribe-Post"] is None
    html = got.message.get_body(("html",))
    assert html is not None
    for part in (body.get_content(), html.get_content()):
        assert "/u/" not in part and "unsubscribe" not in part.lower()


def test_migration_0016_adds_and_drops_the_column_keeping_the_reps(
    empty_database,  # noqa: F811
) -> None:
    from datetime import datetime

    from sqlalchemy import inspect, text

    from tests.test_users import _to

    engine = empty_database
    _to(engine, "0015")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO reps (external_id, name, role, email, created_at, updated_at) "
                "VALUES ('rep-a', 'Anna', 'rep', 'anna@shop.pl', :t, :t)"
            ),
            {"t": datetime(2026, 1, 1)},
        )
    _to(engine, "0016")
    assert "email_unreachable_at" in {c["name"] for c in inspect(engine).get_columns("reps")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email_unreachable_at FROM reps")).all() == [(None,)]
    _to(engine, "0015", down=True)
    assert "email_unreachable_at" not in {c["name"] for c in inspect(engine).get_columns("reps")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT external_id FROM reps")).scalars().all() == ["rep-a"]
