"""Without credentials the console stands in for SMS, Telegram and email: what it delivers is
recorded on the customer's real channel and shows what that channel would (buttons only where
the channel has them); nothing Telegram- or Twilio-specific happens to it."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from messaging.channels import ConsoleChannel, Transports, console_only
from messaging.outbox import drain
from models import CheckIn, Customer, Message, SendBudget
from scheduler.tick import tick
from scheduler.upcoming import upcoming
from settings import Settings
from tests.conftest import at
from tests.test_admin import log_in, make_app
from tests.test_outbox import NOW, LookingUpChannel, lost_claim, queued, stored
from tests.test_tick import deliver

SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")
DELIVERED = "2026-03-01 14:00"
DUE = at("2026-03-02 14:00")  # a day after delivery: 09:00 in New York, John's zone
JOHN = "+14155550101"


def printing() -> tuple[ConsoleChannel, io.StringIO]:
    printed = io.StringIO()
    return ConsoleChannel(stream=printed), printed


def survey_of(session: Session, customer: Customer) -> tuple[CheckIn, Message]:
    session.expire_all()
    checkin = session.scalars(select(CheckIn).where(CheckIn.customer_id == customer.id)).one()
    message = session.scalars(select(Message).where(Message.checkin_id == checkin.id)).one()
    return checkin, message


def test_an_sms_customers_survey_is_recorded_as_sms_and_printed_without_buttons(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any]
) -> None:
    john = cast["en"]  # SMS
    deliver(session, john, product="Skoda Octavia", category="car", delivered=DELIVERED)
    console, printed = printing()
    tick(db, DUE, console_only(console), SETTINGS)

    checkin, message = survey_of(session, john)
    assert (checkin.status, checkin.channel, message.channel) == ("sent", "sms", "sms")
    assert "(STOP to opt out)" in message.body  # written for SMS, not for "console"
    [sent] = console.sent
    assert sent.to == JOHN and sent.buttons is None
    assert "[0]" not in printed.getvalue() and "[10]" not in printed.getvalue()
    assert printed.getvalue().strip() == f"--> {JOHN}: {message.body}"


def test_a_telegram_customers_survey_is_recorded_as_telegram_and_printed_with_buttons(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any]
) -> None:
    john = cast["en"]
    john.channel, john.telegram_chat_id = "telegram", 555001
    deliver(session, john, product="Skoda Octavia", category="car", delivered=DELIVERED)
    console, printed = printing()
    tick(db, DUE, console_only(console), SETTINGS)

    checkin, message = survey_of(session, john)
    assert (checkin.channel, message.channel, message.address) == ("telegram", "telegram", "555001")
    assert "Just tap a score below." in message.body
    [sent] = console.sent
    assert sent.buttons is not None
    assert [b.text for row in sent.buttons for b in row] == [str(n) for n in range(11)]
    assert "[0]  [1]" in printed.getvalue() and "[10]" in printed.getvalue()
    # The console has no Telegram budgets: the demo's sends are never paced by them.
    assert session.scalar(select(func.count()).select_from(SendBudget)) == 0


def test_a_reminder_and_the_upcoming_list_name_the_real_channel(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any]
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered=DELIVERED)
    [item] = [i for i in upcoming(db, DUE, SETTINGS) if i.kind == "post_delivery"]
    assert (item.action, item.channel) == ("send", "sms")
    console, _ = printing()
    tick(db, DUE, console_only(console), SETTINGS)
    tick(db, at("2026-03-05 14:00"), console_only(console), SETTINGS)  # three days on
    session.expire_all()
    reminder = session.scalars(select(Message).where(Message.purpose == "reminder")).one()
    assert reminder.channel == "sms" and "(STOP to opt out)" in reminder.body
    assert console.sent[-1].buttons is None


def test_a_lost_claim_the_console_delivered_is_not_looked_up_at_another_provider(
    db: sessionmaker[Session], cast: dict[str, Any]
) -> None:
    # Twilio is not configured (only a provider that can look up, for Telegram): an SMS
    # message went through the console, so no provider is asked about it.
    telegram = LookingUpChannel()
    console = ConsoleChannel(stream=None)
    message_id = queued(db, cast["en"])  # recorded "sms"
    lost_claim(db, message_id)
    transports = Transports(by_channel={"telegram": telegram}, fallback=console)
    report = drain(db, NOW, transports, settings=Settings())
    assert report.reconciled == {"resent_blind": 1}
    assert telegram.looked_up == [] and telegram.calls == []
    assert [m.to for m in console.sent] == [JOHN]
    assert stored(db, message_id).channel == "sms"


def test_a_row_recorded_as_console_by_an_older_version_still_goes_by_the_console(
    db: sessionmaker[Session], cast: dict[str, Any]
) -> None:
    console = ConsoleChannel(stream=None)
    message_id = queued(db, cast["en"])
    with db.begin() as session:
        session.get_one(Message, message_id).channel = "console"
    drain(db, NOW, console_only(console), settings=Settings())
    assert [m.to for m in console.sent] == [JOHN]
    assert stored(db, message_id).status == "sent"


def test_the_simulator_shows_an_sms_customers_survey_without_buttons(
    db: sessionmaker[Session], session: Session, cast: dict[str, Any]
) -> None:
    john, olena = cast["en"], cast["uk"]
    # Olena chose Telegram, but blocked the bot: the survey goes to her phone by SMS.
    olena.channel, olena.telegram_chat_id, olena.telegram_unreachable_at = (
        "telegram", 555002, at("2026-02-01 00:00"),
    )  # fmt: skip
    for customer in (john, olena):
        deliver(session, customer, product="Car", category="car", delivered=DELIVERED)
    app, console = make_app(db)
    tick(db, at("2026-03-02 15:00"), app.state.transports, SETTINGS)  # daytime for both

    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        for customer in (john, olena):
            _, message = survey_of(session, customer)
            assert message.channel == "sms" and message.buttons  # kept, for a reroute
            page = client.get(f"/admin/simulator?customer={customer.external_id}").text
            assert message.body.split("\n")[0][:40] in page
            assert 'name="score"' not in page
            assert f"{customer.phone}" in page  # she writes from her phone too
    assert all(sent.buttons is None for sent in console.sent)
