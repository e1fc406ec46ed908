"""The schema: migrations match the models, and the one-per rules are database constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import CheckIn, Customer, Message, Response
from models.db import alembic_config, make_engine, migrate
from tests.conftest import at


def test_migrations_leave_no_drift_from_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.check(config)  # raises when models and migrations differ


def test_migrating_twice_is_harmless(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.sqlite3'}")
    migrate(engine)
    migrate(engine)
    engine.dispose()


def test_datetimes_come_back_aware_utc(session: Session) -> None:
    warsaw_noon = datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
    customer = Customer(external_id="c1", name="Ola", opted_out_at=warsaw_noon)
    session.add(customer)
    session.commit()
    session.expire_all()
    stored = session.get(Customer, customer.id)
    assert stored is not None and stored.opted_out_at == at("2026-03-01 11:00")
    assert stored.opted_out_at.tzinfo is not None
    assert stored.opted_out_at.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Customer(external_id="c1", name="Ola", opted_out_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.commit()


def test_one_checkin_per_customer_kind_and_period(session: Session) -> None:
    customer = Customer(external_id="c1", name="Ola")
    session.add(customer)
    session.flush()
    due = datetime(2026, 1, 1, tzinfo=UTC)
    session.add(
        CheckIn(customer_id=customer.id, kind="periodic", dedupe_key="2026-01-01", due_at=due)
    )
    session.flush()
    session.add(
        CheckIn(customer_id=customer.id, kind="periodic", dedupe_key="2026-01-01", due_at=due)
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_one_response_per_checkin(session: Session) -> None:
    customer = Customer(external_id="c1", name="Ola")
    session.add(customer)
    session.flush()
    checkin = CheckIn(
        customer_id=customer.id, kind="periodic", dedupe_key="k", due_at=at("2026-01-01 00:00")
    )
    session.add(checkin)
    session.flush()
    for score in (9, 3):
        session.add(
            Response(
                checkin_id=checkin.id,
                customer_id=customer.id,
                score=score,
                category="x",
                received_at=at("2026-01-02 00:00"),
            )
        )
    with pytest.raises(IntegrityError):
        session.flush()


def test_a_provider_message_id_is_stored_once(session: Session) -> None:
    for _ in range(2):
        session.add(
            Message(direction="in", channel="sms", body="9", status="received", provider_id="SM1")
        )
    with pytest.raises(IntegrityError):
        session.flush()


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from models.db import MIGRATIONS_DIR, head_revision

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revision() == script.get_current_head()
    assert (MIGRATIONS_DIR / "versions").is_dir()
