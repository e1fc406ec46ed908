"""`run` without channel credentials says so: at start-up, on /healthz, and in Settings.

Every channel in the registry is listed, email included (it used to be left out of all three).
"""

from __future__ import annotations

import logging
import re
import warnings

import pytest

from cli.running import warn_about
from messaging.channels import registry
from settings import Settings
from tests.test_admin import log_in, make_app
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SMS = {
    "twilio_account_sid": "AC1",
    "twilio_auth_token": "secret",
    "twilio_from_number": "+15005550006",
}
EMAIL = {"smtp_url": "smtp://127.0.0.1:2525", "email_from": "care@example.com"}
QUIET = {"session_secret": "x" * 40, "public_url": "https://care.example.com"}


def _console_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "console" in record.getMessage()]


def test_run_without_credentials_warns_once_per_channel_naming_the_variables(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    warn_about(Settings(**QUIET))
    lines = _console_lines(caplog)
    assert len(lines) == len(registry.CHANNELS) == 3
    for channel, variables in (
        ("SMS", ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")),
        ("TELEGRAM", ("TELEGRAM_BOT_TOKEN",)),
        ("EMAIL", ("AFTERCARE_SMTP_URL", "AFTERCARE_EMAIL_FROM")),
    ):
        [line] = [line for line in lines if f"NO {channel} CREDENTIALS" in line]
        assert all(variable in line for variable in variables), line
    assert all(record.levelno == logging.WARNING for record in caplog.records)


def test_run_with_sms_and_email_warns_about_telegram_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    warn_about(Settings(**QUIET, **SMS, **EMAIL))
    [line] = _console_lines(caplog)
    assert "TELEGRAM_BOT_TOKEN" in line and "TWILIO" not in line and "SMTP" not in line


def test_email_needs_both_the_server_and_the_sender_address() -> None:
    assert registry.senders(Settings(smtp_url=EMAIL["smtp_url"]))["email"] == "console"
    assert registry.senders(Settings(email_from=EMAIL["email_from"]))["email"] == "console"
    assert registry.senders(Settings(**EMAIL))["email"] == "smtp"
    assert "AFTERCARE_SMTP_URL" in registry.variables("email")


def test_healthz_names_each_channels_sender_and_keeps_its_fields(db) -> None:
    with TestClient(create_app(db, Settings())) as client:
        bare = client.get("/healthz").json()
    assert bare["status"] == "ok" and bare["database"] == "ok"
    assert bare["channels"] == {"sms": "console", "telegram": "console", "email": "console"}
    configured = Settings(telegram_bot_token="1:abc", **SMS, **EMAIL)
    with TestClient(create_app(db, configured)) as client:
        assert client.get("/healthz").json()["channels"] == {
            "sms": "twilio",
            "telegram": "telegram",
            "email": "smtp",
        }


def _status_rows(html: str) -> dict[str, str]:
    rows = re.findall(r'<tr data-channel="(\w+)">(.*?)</tr>', html, flags=re.S)
    return {channel: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for channel, row in rows}


def test_the_settings_page_has_a_status_row_per_channel(db, cast) -> None:
    app, _ = make_app(db, **EMAIL)
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        rows = _status_rows(client.get("/admin/settings").text)
    assert set(rows) == {"sms", "telegram", "email"}
    assert "console only" in rows["sms"] and "TWILIO_AUTH_TOKEN" in rows["sms"]
    assert "console only" in rows["telegram"] and "TELEGRAM_BOT_TOKEN" in rows["telegram"]
    assert "configured" in rows["email"] and "smtp" in rows["email"]
    assert "console only" not in rows["email"]
