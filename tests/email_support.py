"""Helpers for the survey-email tests: every customer of the cast on email, a survey each, the MIME read."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import ConsoleChannel, Transports
from messaging.channels.email import EmailChannel
from models import Customer
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at
from tests.fakes.smtp_server import FakeSmtp
from tests.test_tick import deliver

PUBLIC = "https://aftercare.example"
SENDER = "Kowalski Motors <care@kowalski.example>"
LINK_SECRET = "email-links-test-secret-0123456789"
SENT_AT = at("2026-03-02 15:00")
SCORE_LINK = re.compile(re.escape(PUBLIC) + r"/r/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/(\d+)")


def survey_settings(fake: FakeSmtp, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "business_name": "Kowalski Motors",
        "default_tz": "UTC",
        "public_url": PUBLIC,
        "smtp_url": fake.url,
        "email_from": SENDER,
        "session_secret": LINK_SECRET,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def on_email(session: Session, customer: Customer) -> str:
    address = f"{customer.external_id}@example.com"
    customer.email, customer.channel, customer.timezone = address, "email", "UTC"
    session.commit()
    return address


def send_surveys(
    db: sessionmaker[Session],
    session: Session,
    customers: list[Customer],
    fake: FakeSmtp,
    settings: Settings | None = None,
) -> dict[str, EmailMessage]:
    """A delivered car for each customer, the tick that sends the surveys: the emails by address."""
    for customer in customers:
        on_email(session, customer)
        deliver(
            session, customer, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00"
        )
    settings = settings or survey_settings(fake)
    transports = Transports(
        by_channel={"email": EmailChannel(settings)}, fallback=ConsoleChannel(stream=None)
    )
    tick(db, SENT_AT, transports, settings)
    return {got.recipients[0]: got.message for got in fake.received}


def text_and_html(mail: EmailMessage) -> tuple[str, str]:
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    return str(plain.get_content()), str(html.get_content())  # type: ignore[attr-defined]


def links_of(mail: EmailMessage) -> dict[int, str]:
    """Each score's link in the email's HTML, as a path on the app: {score: "/r/<token>/<n>"}."""
    _, html = text_and_html(mail)
    return {int(score): f"/r/{token}/{score}" for token, score in SCORE_LINK.findall(html)}
