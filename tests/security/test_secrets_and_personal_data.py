"""Hardening, item 6: no token in a printed settings object, no full phone number in logs, HSTS."""

from __future__ import annotations

import logging
import re

from fastapi.testclient import TestClient

from cli.running import warn_about
from messaging.privacy import masked
from settings import Settings
from web.app import create_app


def test_printing_the_settings_shows_no_token() -> None:
    settings = Settings(
        api_token="api-token-value",
        admin_password="admin-password-value",
        session_secret="session-secret-value",
        twilio_auth_token="twilio-token-value",
        telegram_bot_token="123:telegram-token-value",
        telegram_webhook_secret="webhook-secret-value",
        events_url="https://crm.example/hooks",
        events_secret="events-secret-value",
    )
    printed = repr(settings) + str(settings) + f"{settings!r}"
    assert "value" not in printed
    assert (
        settings.twilio_auth_token.get_secret_value() == "twilio-token-value"
    )  # the code still reads them


def test_phone_numbers_in_logs_are_masked(phone, caplog) -> None:
    caplog.set_level(logging.INFO)
    phone.say("+48601234501", "hello?", "2026-03-02 15:00")  # nobody we know
    assert "+48601234501" not in caplog.text and "601234" not in caplog.text
    assert "+48 *** *** 501" in caplog.text
    assert masked("424242424") == "42 *** *** 424" and masked("123") == "***"


def test_over_https_every_answer_carries_hsts_and_over_http_none(db) -> None:
    secure = TestClient(create_app(db, Settings(public_url="https://care.example.com")))
    plain = TestClient(create_app(db, Settings(public_url="http://127.0.0.1:8000")))
    assert "max-age=31536000" in secure.get("/healthz").headers["strict-transport-security"]
    assert "strict-transport-security" not in plain.get("/healthz").headers


def test_run_warns_about_a_weak_session_secret_and_plain_http(caplog) -> None:
    caplog.set_level(logging.WARNING)
    warn_about(Settings(session_secret="short", public_url="https://care.example.com"))
    assert "AFTERCARE_SESSION_SECRET is 5 characters" in caplog.text
    caplog.clear()
    warn_about(
        Settings(
            session_secret="x" * 40,
            public_url="https://care.example.com",
            telegram_bot_token="1:abc",
            twilio_account_sid="AC1",
            twilio_auth_token="secret",
            twilio_from_number="+15005550006",
            smtp_url="smtps://care:pw@mail.example.com:465",
            email_from="care@example.com",
        )
    )
    assert caplog.text == ""  # every channel configured (email too: it warns when not)
    warn_about(Settings(session_secret="", public_url="https://care.example.com"))
    # Unset, the key stored in the database signs sessions (the console fallback still warns).
    assert "AFTERCARE_SESSION_SECRET" not in caplog.text and "https" not in caplog.text
    warn_about(Settings(session_secret="", public_url="http://care.example.com"))
    assert "not https" in caplog.text


def test_the_api_docs_load_nothing_from_another_site(db) -> None:
    client = TestClient(create_app(db, Settings()))
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "http://" not in html and "https://" not in html  # no CDN, no web fonts
        for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', html):
            assert client.get(asset).status_code == 200
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
