"""Configuration: read from the environment (or a `.env` file) once, checked early.

Every variable here is documented in the README's configuration table; a test
keeps the two in step.
"""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.states import Language, values

LANGUAGES = values(Language)


def _default_database_url() -> str:
    # The default SQLite file lives in the working directory, as DESIGN.md promises.
    return f"sqlite:///{Path.cwd() / 'aftercare.sqlite3'}"


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class Settings(BaseSettings):
    """All of Aftercare's configuration, one typed object."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(
        default_factory=_default_database_url, validation_alias=_env("AFTERCARE_DATABASE_URL")
    )
    public_url: str = Field("http://127.0.0.1:8000", validation_alias=_env("AFTERCARE_PUBLIC_URL"))
    api_token: SecretStr = Field(SecretStr(""), validation_alias=_env("AFTERCARE_API_TOKEN"))
    business_name: str = Field("Aftercare", validation_alias=_env("AFTERCARE_BUSINESS_NAME"))
    review_url: str = Field("", validation_alias=_env("AFTERCARE_REVIEW_URL"))
    referral_url: str = Field("", validation_alias=_env("AFTERCARE_REFERRAL_URL"))
    default_tz: str = Field("UTC", validation_alias=_env("AFTERCARE_DEFAULT_TZ"))
    # The business's language: what reps without a language of their own read.
    default_language: str = Field("en", validation_alias=_env("AFTERCARE_DEFAULT_LANGUAGE"))
    admin_password: SecretStr = Field(
        SecretStr(""), validation_alias=_env("AFTERCARE_ADMIN_PASSWORD")
    )
    session_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("AFTERCARE_SESSION_SECRET")
    )
    log_level: str = Field("INFO", validation_alias=_env("AFTERCARE_LOG_LEVEL"))
    # The customer-phone simulator lets an admin speak as any customer and triggers real
    # sends: `demo` turns it on; a production `run` has it only when asked for explicitly.
    simulator: bool = Field(False, validation_alias=_env("AFTERCARE_SIMULATOR"))
    # The reverse proxies whose X-Forwarded-For names the real client (IPs or CIDRs,
    # comma-separated). Empty: the header is ignored, so nobody can pick their own address.
    trusted_proxies: str = Field("", validation_alias=_env("AFTERCARE_TRUSTED_PROXIES"))
    # Sending: requests in flight per process (bulk lane; answers have a reserve of their
    # own), how long a provider may take to answer, and optional Twilio pacing per sender.
    sends_in_flight: int = Field(
        32, ge=1, le=1000, validation_alias=_env("AFTERCARE_SENDS_IN_FLIGHT")
    )
    provider_timeout: float = Field(
        10.0, gt=0, le=120, validation_alias=_env("AFTERCARE_PROVIDER_TIMEOUT")
    )
    twilio_per_second: float = Field(
        0.0, ge=0, validation_alias=_env("AFTERCARE_TWILIO_PER_SECOND")
    )

    twilio_account_sid: str = Field("", validation_alias=_env("TWILIO_ACCOUNT_SID"))
    twilio_auth_token: SecretStr = Field(SecretStr(""), validation_alias=_env("TWILIO_AUTH_TOKEN"))
    twilio_from_number: str = Field("", validation_alias=_env("TWILIO_FROM_NUMBER"))
    twilio_messaging_service_sid: str = Field(
        "", validation_alias=_env("TWILIO_MESSAGING_SERVICE_SID")
    )
    twilio_api_base_url: str = Field("", validation_alias=_env("TWILIO_API_BASE_URL"))

    telegram_bot_token: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_BOT_TOKEN")
    )
    telegram_api_base_url: str = Field("", validation_alias=_env("TELEGRAM_API_BASE_URL"))
    telegram_webhook_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("TELEGRAM_WEBHOOK_SECRET")
    )
    telegram_bot_username: str = Field("", validation_alias=_env("TELEGRAM_BOT_USERNAME"))

    # Event webhooks out: where to POST events (comma- or space-separated URLs), and the
    # key that signs them. URLs without a secret refuse to start: nothing goes out unsigned.
    events_url: str = Field("", validation_alias=_env("AFTERCARE_EVENTS_URL"))
    events_secret: SecretStr = Field(
        SecretStr(""), validation_alias=_env("AFTERCARE_EVENTS_SECRET")
    )
    # The whole URL is secret: it carries the SMTP password.
    smtp_url: SecretStr = Field(SecretStr(""), validation_alias=_env("AFTERCARE_SMTP_URL"))
    email_from: str = Field("", validation_alias=_env("AFTERCARE_EMAIL_FROM"))
    email_reply_to: str = Field("", validation_alias=_env("AFTERCARE_EMAIL_REPLY_TO"))

    @field_validator("default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"AFTERCARE_DEFAULT_TZ={value!r} is not an IANA time zone") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        code = value.strip().lower()
        if code not in LANGUAGES:
            raise ValueError(
                f"AFTERCARE_DEFAULT_LANGUAGE={value!r} is not one of {', '.join(LANGUAGES)}"
            )
        return code

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("events_url")
    @classmethod
    def _http_urls(cls, value: str) -> str:
        for url in _split_urls(value):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _events_are_signed(self) -> Settings:
        if self.events_endpoints and not self.events_secret.get_secret_value():
            raise ValueError(
                "AFTERCARE_EVENTS_URL is set but AFTERCARE_EVENTS_SECRET is not: "
                "events are never sent unsigned"
            )
        return self

    @property
    def events_endpoints(self) -> tuple[str, ...]:
        """The event receivers' URLs, in the order given, each once."""
        return tuple(dict.fromkeys(_split_urls(self.events_url)))

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if url and not url.startswith(("smtp://", "smtps://")):
            # Never echo the value: it holds the password.
            raise ValueError("AFTERCARE_SMTP_URL must start with smtps:// or smtp://")
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def send_lease(self) -> float:
        """Seconds a claim is held: three provider timeouts, so a live sender always settles first."""
        return 3 * self.provider_timeout

    @property
    def sms_configured(self) -> bool:
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token.get_secret_value()
            and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_url.get_secret_value() and self.email_from)

    @property
    def telegram_configured(self) -> bool:
        return bool(self.telegram_bot_token.get_secret_value())


def _split_urls(value: str) -> list[str]:
    return [url for url in value.replace(",", " ").split() if url]


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()


ENV_VARS = sorted(
    alias
    for field in Settings.model_fields.values()
    if isinstance(field.validation_alias, AliasChoices)
    for alias in field.validation_alias.choices
    if isinstance(alias, str)
)

__all__ = ["ENV_VARS", "Settings", "get_settings", "reset_settings"]
