"""Idempotency-Key on the write API: a retry gets the first answer, in any process, for 24 hours."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from intake.idempotency import fingerprint
from models import CheckIn, ConsentEvent, Customer, IdempotencyKey, Rep
from tests.test_api import AUTH, TestClient, make_client
from tests.test_api_writes import post


@pytest.fixture
def client(db: sessionmaker[Session]) -> Iterator[TestClient]:
    with make_client(db) as test_client:
        yield test_client


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


EWA = {"external_id": "c-ewa", "name": "Ewa Nowak", "phone": "+48601234502"}


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    first = post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    # Someone changes the customer meanwhile; the retry still answers what the first call did.
    post(client, "/api/customers", {**EWA, "name": "Ewa N."})

    again = post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-1"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    customer = session.scalars(select(Customer)).one()
    assert customer.name == "Ewa N."


def test_key_order_and_spacing_do_not_make_another_request(client: TestClient) -> None:
    first = post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-1"})
    reordered = '{"phone": "+48601234502", "name": "Ewa Nowak",  "external_id": "c-ewa"}'
    again = client.post(
        "/api/customers",
        content=reordered,
        headers={**AUTH, "Idempotency-Key": "k-1", "Content-Type": "application/json"},
    )
    assert (again.status_code, again.json()) == (201, first.json())


def test_the_same_key_with_another_body_or_path_is_422_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-1"})
    for path, body in (
        ("/api/customers", {**EWA, "name": "Someone Else"}),
        ("/api/reps", {"external_id": "rep-1", "name": "Anna"}),
        ("/api/customers/c-ewa/opt-out", None),
    ):
        answer = post(client, path, body, **{"Idempotency-Key": "k-1"})
        assert answer.status_code == 422, path
        [problem] = answer.json()["detail"]
        assert problem["loc"] == ["header", "Idempotency-Key"]
        assert "different request" in problem["msg"]
    customer = session.scalars(select(Customer)).one()
    assert (customer.name, customer.opted_out_at) == ("Ewa Nowak", None)
    assert count(session, Rep) == 0


def test_a_refused_request_is_not_kept_so_it_can_be_fixed_and_retried_under_its_key(
    client: TestClient, session: Session
) -> None:
    body = {**EWA, "rep_external_id": "rep-1"}
    assert post(client, "/api/customers", body, **{"Idempotency-Key": "k-1"}).status_code == 404
    post(client, "/api/reps", {"external_id": "rep-1", "name": "Anna"})
    answer = post(client, "/api/customers", body, **{"Idempotency-Key": "k-1"})
    assert answer.status_code == 201, answer.text
    assert count(session, IdempotencyKey) == 1


def test_the_answer_is_kept_in_the_database_for_every_process(
    db: sessionmaker[Session], session: Session
) -> None:
    with make_client(db) as one, make_client(db) as other:
        post(one, "/api/customers", EWA)
        post(
            one,
            "/api/purchases",
            {"external_id": "o-1", "customer_external_id": "c-ewa", "product": "Sofa"},
        )
        first = post(one, "/api/purchases/o-1/delivered", None, **{"Idempotency-Key": "d-1"})
        assert first.status_code == 200, first.text
        again = post(other, "/api/purchases/o-1/delivered", None, **{"Idempotency-Key": "d-1"})
    # Without the key the retry would have moved the delivery (and its check-in) to its own now.
    assert (again.status_code, again.json()) == (200, first.json())
    assert count(session, CheckIn) == 1


def test_a_late_retry_of_an_opt_out_does_not_undo_the_opt_in_after_it(
    client: TestClient, session: Session
) -> None:
    post(client, "/api/customers", EWA)
    opt_out = {"system": "shop"}
    first = post(client, "/api/customers/c-ewa/opt-out", opt_out, **{"Idempotency-Key": "o-1"})
    post(client, "/api/customers/c-ewa/opt-in", {"system": "shop"}, **{"Idempotency-Key": "o-2"})
    again = post(client, "/api/customers/c-ewa/opt-out", opt_out, **{"Idempotency-Key": "o-1"})
    assert again.json() == first.json() and again.json()["opted_out"] is True
    session.expire_all()
    assert session.scalars(select(Customer)).one().opted_out_at is None
    assert count(session, ConsentEvent) == 2


def test_keys_older_than_a_day_are_forgotten_and_tidied(
    client: TestClient, session: Session
) -> None:
    old = utcnow() - timedelta(hours=24, minutes=1)
    request = fingerprint("POST", "/api/reps", {"external_id": "rep-1", "name": "Anna"})
    session.add(
        IdempotencyKey(key="k-old", fingerprint=request, status_code=201, body={}, created_at=old)
    )
    session.add(
        IdempotencyKey(key="k-stale", fingerprint=request, status_code=201, body={}, created_at=old)
    )
    session.commit()

    # A different request under the old key is a new request now, not a mismatch.
    answer = post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-old"})
    assert answer.status_code == 201, answer.text
    session.expire_all()
    keys: list[Any] = session.scalars(select(IdempotencyKey.key)).all()
    assert keys == ["k-old"]
    assert session.get(IdempotencyKey, "k-old").fingerprint != request  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_empty_or_overlong_key_is_422(client: TestClient, session: Session, key: str) -> None:
    answer = post(client, "/api/customers", EWA, **{"Idempotency-Key": key})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert count(session, Customer) == 0


def test_two_processes_answering_the_same_retry_at_once_write_once(
    db: sessionmaker[Session], session: Session
) -> None:
    # Whichever order the database lets them in (one waits on the other's new row, or finds
    # its key), both callers get the same answer and the customer is created once.
    start = threading.Barrier(2)
    answers: list[Any] = []

    def call(client: TestClient) -> None:
        start.wait()
        answers.append(post(client, "/api/customers", EWA, **{"Idempotency-Key": "k-1"}))

    with make_client(db) as one, make_client(db) as other:
        for client in (one, other):
            # FastAPI builds a route's validators on its first request: not in two threads at once.
            assert post(client, "/api/customers", {}).status_code == 422
        threads = [threading.Thread(target=call, args=(c,)) for c in (one, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert count(session, Customer) == 1
    assert count(session, IdempotencyKey) == 1
