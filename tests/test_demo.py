"""The demo's story hangs together (issue 14, bug 12): a car dealer selling cars, service and
parts; customers who write in their own language; past check-ins with their messages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cli.demo_data import add_fresh_complaint, add_history, seed
from clock import utcnow
from conversation.replies import parse_reply
from messaging.channels import ConsoleChannel, console_only
from messaging.outbox import drain
from models import CheckIn, Customer, Escalation, Message, Purchase, Rep, Response
from scheduler.tick import tick
from settings import Settings
from tests.conftest import at

SCRIPTS = {
    "uk": re.compile("[\u0400-\u04ff]"),
    "ru": re.compile("[\u0400-\u04ff]"),
    "th": re.compile("[\u0e00-\u0e7f]"),
    "pl": re.compile("[ąćęłńóśźż]", re.I),
}


def test_a_car_dealer_sells_cars_service_and_parts(session) -> None:
    now = utcnow()
    seed(session, now)
    session.flush()
    add_history(session, now)
    session.commit()
    categories = {p.category for p in session.scalars(select(Purchase))}
    assert categories == {"car", "garage", "parts"}


def test_every_past_check_in_has_its_survey_and_the_customers_reply(session) -> None:
    now = utcnow()
    seed(session, now)
    session.flush()
    add_history(session, now, "Kowalski Motors")
    session.commit()
    responses = session.scalars(select(Response)).all()
    assert len(responses) >= 30
    for response in responses:
        checkin = session.get_one(CheckIn, response.checkin_id)
        customer = session.get_one(Customer, response.customer_id)
        rows = session.scalars(
            select(Message).where(Message.checkin_id == checkin.id).order_by(Message.id)
        ).all()
        assert [m.direction for m in rows] == ["out", "in"], checkin.id
        survey, reply = rows
        assert survey.purpose == "survey" and survey.created_at == checkin.sent_at
        assert "Kowalski Motors" in survey.body and customer.name.split()[0] in survey.body
        assert survey.channel == reply.channel == checkin.channel == response.channel
        assert survey.channel == customer.channel and survey.address == reply.address != ""
        assert reply.created_at == response.received_at and reply.processed_at is not None
        parsed = parse_reply(reply.body)
        assert (parsed.score, parsed.comment) == (response.score, response.comment), reply.body
        if checkin.purchase_id is not None:
            purchase = session.get_one(Purchase, checkin.purchase_id)
            assert purchase.delivered_at is not None and purchase.delivered_at < checkin.sent_at
            assert purchase.product in survey.body
        # Customers write in their own language.
        if response.comment and customer.language in SCRIPTS:
            assert SCRIPTS[customer.language].search(response.comment), response.comment
            assert SCRIPTS[customer.language].search(survey.body) or customer.language == "pl"


def test_demo_no_serve_seeds_and_runs_a_pass(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "bot.py"), "demo", "--no-serve"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Seeded 10 customers in 5 languages" in done.stdout
    assert "Logins for the admin UI" in done.stdout


def test_anna_logs_in_to_todays_complaint_and_nothing_is_left_weeks_overdue(
    db: sessionmaker[Session],
) -> None:
    """The first pass's survey to Agnieszka gets a 4 and why, through the real door: Anna, her
    rep, has it open with the SLA ahead of her, her alert in Polish went out, and the history's
    complaints are settled rather than weeks past their SLA."""
    now = at("2026-03-02 11:00")  # 12:00 in Warsaw
    settings = Settings()
    with db.begin() as session:
        seed(session, now)
    console = ConsoleChannel()
    tick(db, now, console_only(console), settings)
    with db.begin() as session:
        add_history(session, now)
        complainer = add_fresh_complaint(session, now, settings)
        assert complainer is not None and complainer.external_id == "c-pl-1"
    drain(db, now, console_only(console), settings=settings)
    with db() as session:
        open_ones = session.scalars(select(Escalation).where(Escalation.status == "open")).all()
        assert len(open_ones) == 1
        (fresh,) = open_ones
        rep = session.get_one(Rep, fresh.rep_id)
        assert rep.external_id == "r-anna" and fresh.sla_due_at > now
        assert session.get_one(Response, fresh.response_id).score == 4
    alerts = console.to("+48600000002")
    assert any("Auto przy odbiorze było brudne" in text and "OK " in text for text in alerts)
