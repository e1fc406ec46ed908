"""Email addresses on customers and reps: checked by email-validator in the CSV import and the
write API, shown by the read API, and a customer with nothing else is reached by email."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from messaging.channels.registry import reach
from models import Customer, Rep
from tests.test_api import AUTH
from tests.test_api_writes import client, post, problems, stored  # noqa: F401 - fixtures
from tests.test_importing import NOW, csv_text, customer, errors_of, rep, run

HEADER = "external_id,name,phone,language,channel,email"


def test_the_import_stores_the_normal_form_and_email_alone_is_enough(session: Session) -> None:
    source = csv_text(HEADER, "c-1,Ola Nowak,,pl,email,ola@Example.PL")
    run(session, "customers", source)
    ola = customer(session, "c-1")
    assert (ola.email, ola.channel) == ("ola@example.pl", "email")
    assert reach(ola, ola.channel) == ("email", "ola@example.pl")


def test_a_customer_whose_channel_stopped_working_falls_back_to_email() -> None:
    ben = Customer(name="Ben", channel="telegram", telegram_chat_id=42, email="ben@example.com")
    assert reach(ben, ben.channel) == ("telegram", "42")
    ben.telegram_unreachable_at = NOW  # the bot was blocked, and Ben has no phone
    assert reach(ben, ben.channel) == ("email", "ben@example.com")
    ben.phone = "+48601234501"
    assert reach(ben, ben.channel) == ("sms", "+48601234501")  # email comes last


def test_a_bad_address_is_named_by_line_and_nothing_is_written(session: Session) -> None:
    source = csv_text(HEADER, "c-1,Ola,,pl,email,ola@example.pl", "c-2,Ben,,en,email,ben@@example")
    [(line, column, message)] = errors_of(session, "customers", source)
    assert (line, column) == (3, "email")
    assert message.startswith("'ben@@example' is not an email address")
    assert session.query(Customer).count() == 0


def test_channel_email_needs_an_email(session: Session) -> None:
    source = csv_text(HEADER, "c-1,Ola,+48601234501,pl,email,")
    assert errors_of(session, "customers", source) == [(2, "email", "channel email needs a email")]


def test_files_without_the_column_keep_importing_and_keep_the_stored_address(
    session: Session,
) -> None:
    run(session, "customers", csv_text(HEADER, "c-1,Ola,,pl,email,ola@example.pl"))
    run(session, "customers", csv_text("external_id,name", "c-1,Ola Nowak"))
    assert customer(session, "c-1").email == "ola@example.pl"


def test_reps_have_an_email(session: Session) -> None:
    run(
        session,
        "reps",
        csv_text("external_id,name,phone,email", "r-1,Anna,+48600000002,anna@shop.pl"),
    )
    assert rep(session, "r-1").email == "anna@shop.pl"
    bad = csv_text("external_id,name,email", "r-2,Marek,marek-at-shop")
    [(line, column, _)] = errors_of(session, "reps", bad)
    assert (line, column) == (2, "email")


def test_the_write_api_checks_and_returns_the_address(client, session: Session) -> None:  # noqa: F811
    body: dict[str, Any] = {"external_id": "c-1", "name": "Ola", "email": "Ola@Example.pl"}
    answer = post(client, "/api/customers", {**body, "channel": "email"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["email"], answer.json()["channel"]) == ("Ola@example.pl", "email")
    assert client.get("/api/customers/c-1", headers=AUTH).json()["email"] == "Ola@example.pl"
    bad = post(client, "/api/customers", {"external_id": "c-2", "name": "Ben", "email": "ben@"})
    [(where, message)] = problems(bad)
    assert where == ("body", "email") and "is not an email address" in message
    rep_answer = post(
        client, "/api/reps", {"external_id": "r-1", "name": "Anna", "email": "a@shop.pl"}
    )
    assert rep_answer.status_code == 201 and rep_answer.json()["email"] == "a@shop.pl"
    assert stored(session, Rep, "r-1").email == "a@shop.pl"
