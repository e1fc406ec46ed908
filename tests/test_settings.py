"""Configuration: read once from the environment or `.env`, refused early when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import bot
from settings import Settings, get_settings, reset_settings


def test_the_defaults_need_no_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AFTERCARE_DATABASE_URL")
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    assert settings.default_tz == "UTC"
    assert not settings.sms_configured and not settings.telegram_configured


def test_a_trailing_slash_on_the_public_url_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERCARE_PUBLIC_URL", "https://care.example.com/")
    assert Settings().public_url == "https://care.example.com"


def test_an_unknown_time_zone_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AFTERCARE_DEFAULT_TZ", "Mars/Olympus")
    with pytest.raises(ValidationError, match="AFTERCARE_DEFAULT_TZ"):
        Settings()


def test_a_command_stops_at_once_on_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFTERCARE_DEFAULT_TZ", "Mars/Olympus")
    reset_settings()
    result = CliRunner().invoke(bot.main, ["tick"])
    assert result.exit_code != 0
    assert "bad configuration" in result.output and "Mars/Olympus" in result.output


def test_a_dot_env_file_in_the_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "AFTERCARE_BUSINESS_NAME=Kowalski Motors\nTWILIO_ACCOUNT_SID=AC1\n"
    )
    monkeypatch.delenv("AFTERCARE_BUSINESS_NAME", raising=False)
    reset_settings()
    assert get_settings().business_name == "Kowalski Motors"
    assert get_settings().twilio_account_sid == "AC1"


def test_sms_counts_as_configured_only_with_a_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC1")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    assert not Settings().sms_configured
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", "MG1")
    assert Settings().sms_configured


@pytest.mark.parametrize("command", ["nps", "mix", "escalations", "tick", "plan", "migrate"])
def test_a_bad_time_zone_is_one_line_naming_the_variable_and_the_fix(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERCARE_DEFAULT_TZ", "Europe/Warszawa")
    reset_settings()
    result = CliRunner().invoke(bot.main, [command])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "AFTERCARE_DEFAULT_TZ" in lines[0] and "Europe/Warsaw" in lines[0]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("mysql-ish://nobody@nowhere/db", "is not a URL"),
        ("postgresql+psycopg://aftercare:s3cret@127.0.0.1:1/aftercare", "cannot connect"),
        ("sqlite:////no/such/folder/aftercare.sqlite3", "cannot connect"),
    ],
)
@pytest.mark.parametrize("command", ["nps", "mix", "escalations", "tick", "migrate"])
def test_a_bad_or_unreachable_database_url_is_one_line_and_exit_2(
    command: str, url: str, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", url)
    reset_settings()
    result = CliRunner().invoke(bot.main, [command])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "AFTERCARE_DATABASE_URL" in lines[0] and named in lines[0]
    assert "s3cret" not in result.output


def test_bot_py_itself_exits_2_without_a_traceback(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = Path(bot.__file__).resolve()
    environment = {**os.environ, "AFTERCARE_DEFAULT_TZ": "Europe/Warszawa"}
    done = subprocess.run(
        [sys.executable, str(script), "nps"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
