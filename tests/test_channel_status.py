"""`run` without channel credentials says so: at start-up, on /healthz, and in Settings."""

from __future__ import annotations

import logging
import warnings

import pytest

from cli.running import warn_about
from settings import Settings
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SMS = {
    "twilio_account_sid": "AC1",
    "twilio_auth_token": "secret",
    "twilio_from_number": "+15005550006",
}


def test_run_without_credentials_warns_naming_the_variables(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    warn_about(Settings(session_secret="x" * 40, public_url="https://care.example.com"))
    assert "console" in caplog.text
    for variable in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TELEGRAM_BOT_TOKEN"):
        assert variable in caplog.text


def test_run_with_sms_only_warns_about_telegram_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    warn_about(Settings(session_secret="x" * 40, public_url="https://care.example.com", **SMS))
    assert "TELEGRAM_BOT_TOKEN" in caplog.text and "TWILIO_AUTH_TOKEN" not in caplog.text


def test_healthz_names_each_channels_sender_and_keeps_its_fields(db) -> None:
    with TestClient(create_app(db, Settings())) as client:
        bare = client.get("/healthz").json()
    assert bare["status"] == "ok" and bare["database"] == "ok"
    assert bare["channels"] == {"sms": "console", "telegram": "console"}
    with TestClient(create_app(db, Settings(telegram_bot_token="1:abc", **SMS))) as client:
        assert client.get("/healthz").json()["channels"] == {
            "sms": "twilio",
            "telegram": "telegram",
        }
