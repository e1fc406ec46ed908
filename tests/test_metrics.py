"""`/metrics`: Prometheus figures from the database, behind the API token."""

from __future__ import annotations

from fastapi.testclient import TestClient

from models import CheckIn, Escalation
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
