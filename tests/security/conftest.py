"""Fixtures the hardening tests share with the webhook tests."""

from tests.test_webhooks import telegram_app  # noqa: F401 - a fixture, served with its bot
