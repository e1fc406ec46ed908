"""`/metrics`: Prometheus figures from the database, behind the API token."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from models import CheckIn, Escalation, FailedTelegramUpdate
from settings import Settings
from tests.conftest import at
from web.app import create_app


def test_metrics_need_the_api_token(db) -> None:
    client = TestClient(create_app(db, Settings(api_token="secret")))
    assert client.get("/metrics").status_code == 401


def test_metrics_count_checkins_messages_and_escalations(db, session, cast) -> None:
    john = cast["en"]
    session.add(
        CheckIn(
            customer=john,
            kind="periodic",
            dedupe_key="k",
            due_at=at("2026-03-01 10:00"),
            status="sent",
        )
    )
    session.add(Escalation(customer=john, rep=cast["rep"], sla_due_at=at("2026-03-01 12:00")))
    session.commit()
    client = TestClient(create_app(db, Settings(api_token="secret")))
    response = client.get("/metrics", headers={"Authorization": "Bearer secret"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'aftercare_checkins{kind="periodic",status="sent"} 1.0' in text
    assert 'aftercare_escalations{kind="detractor",status="open"} 1.0' in text
    assert "aftercare_escalations_past_sla 1.0" in text


def test_metrics_show_the_outbox_by_lane_pauses_and_reconciliations(db, session, cast) -> None:
    import time

    from clock import utcnow
    from messaging.outbox import queue_message
    from models import Message, SendBudget

    now = utcnow()
    john = cast["en"]
    for purpose, minutes in (("survey", 10), ("survey", 1), ("thanks", 2)):
        queue_message(
            session,
            now=now - timedelta(minutes=minutes),
            channel="sms",
            address=john.phone or "",
            body="Hi",
            purpose=purpose,
            customer_id=john.id,
        )
    session.add(
        Message(direction="out", channel="sms", body="x", status="sent", reconciliation="found")
    )
    session.add(SendBudget(key="sms:+15005550006", next_slot=0.0, paused_until=time.time() + 30))
    session.commit()
    client = TestClient(create_app(db, Settings(api_token="secret")))
    text = client.get("/metrics", headers={"Authorization": "Bearer secret"}).text

    assert 'aftercare_outbox_due{lane="bulk"} 2.0' in text
    assert 'aftercare_outbox_due{lane="interactive"} 1.0' in text
    oldest = float(text.split('aftercare_outbox_oldest_due_seconds{lane="bulk"} ')[1].split()[0])
    assert 599 <= oldest < 700
    paused = float(
        text.split('aftercare_sender_paused_seconds{sender="sms:+15005550006"} ')[1].split()[0]
    )
    assert 20 < paused <= 30
    assert 'aftercare_reconciled_messages{outcome="found"} 1.0' in text
    # this process's own figures ride along
    assert "# TYPE aftercare_send_seconds histogram" in text
    assert "# TYPE aftercare_sends_in_flight gauge" in text


def test_metrics_show_the_inbound_messages_waiting_for_their_turn(db, session, cast) -> None:
    from clock import utcnow
    from conversation.inbound import Inbound
    from conversation.inbox import store, take_turns

    now = utcnow()
    for sid, minutes in (("SM1", 3), ("SM2", 1)):
        store(session, Inbound("sms", cast["en"].phone, "9", sid, now - timedelta(minutes=minutes)))
    session.commit()
    client = TestClient(create_app(db, Settings(api_token="secret")))

    text = client.get("/metrics", headers={"Authorization": "Bearer secret"}).text
    assert "aftercare_inbox_waiting 2.0" in text
    oldest = float(text.split("\naftercare_inbox_oldest_seconds ")[1].split()[0])
    assert 179 <= oldest < 300

    take_turns(db, Settings())
    text = client.get("/metrics", headers={"Authorization": "Bearer secret"}).text
    assert "aftercare_inbox_waiting 0.0" in text and "aftercare_inbox_oldest_seconds 0.0" in text


def test_metrics_count_telegram_updates_kept_after_failing(db, session) -> None:
    client = TestClient(create_app(db, Settings(api_token="secret")))
    auth = {"Authorization": "Bearer secret"}
    assert "aftercare_telegram_updates_failed 0.0" in client.get("/metrics", headers=auth).text
    session.add(
        FailedTelegramUpdate(
            update_id=7, payload={"update_id": 7}, error="OperationalError: disk I/O error",
            attempts=5, failed_at=at("2026-03-01 10:00"),
        )
    )  # fmt: skip
    session.commit()
    assert "aftercare_telegram_updates_failed 1.0" in client.get("/metrics", headers=auth).text
