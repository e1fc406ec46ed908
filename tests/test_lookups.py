"""Admin look-ups: customer search ignores case in every script, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from accounts.scope import EVERYONE
from models import Customer
from web.admin.lookups import find_customers

NAMES = {
    "uk-1": "Олена Коваленко",
    "pl-1": "Łukasz Żółtowski",
    "th-1": "สมชาย ใจดี",
    "de-1": "Jürgen Groß",
    "en-1": "John Smith",
}


@pytest.fixture
def customers(session: Session) -> None:
    for external_id, name in NAMES.items():
        session.add(Customer(external_id=external_id, name=name, phone=None, channel="sms"))
    session.commit()


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Коваленко", "uk-1"),
        ("коваленко", "uk-1"),
        ("КОВАЛЕНКО", "uk-1"),
        ("олена", "uk-1"),
        ("Łukasz", "pl-1"),
        ("łukasz", "pl-1"),
        ("ŁUKASZ ŻÓŁ", "pl-1"),
        ("ใจดี", "th-1"),
        ("jürgen", "de-1"),
        ("JOHN", "en-1"),
        ("UK-1", "uk-1"),
    ],
)
@pytest.mark.usefixtures("customers")
def test_customer_search_ignores_case_in_every_script(
    session: Session, query: str, found: str
) -> None:
    assert [
        row.customer.external_id for row in find_customers(session, query, viewer=EVERYONE)
    ] == [found]


@pytest.mark.usefixtures("customers")
def test_like_wildcards_in_the_search_are_plain_characters(session: Session) -> None:
    assert (
        find_customers(session, "%", viewer=EVERYONE) == []
        and find_customers(session, "_", viewer=EVERYONE) == []
    )
