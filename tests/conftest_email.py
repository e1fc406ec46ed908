"""Fixtures for the email tests: the local SMTP server, and a browser on the app that serves
the emails' links. Loaded with `pytest_plugins = ["tests.conftest_email"]`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.email_support import PUBLIC, survey_settings
from tests.fakes.smtp_server import FakeSmtp
from web.app import create_app


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    with FakeSmtp() as fake:
        yield fake


@pytest.fixture
def browser(db: sessionmaker[Session], fake_smtp: FakeSmtp) -> Iterator[TestClient]:
    with TestClient(create_app(db, survey_settings(fake_smtp)), base_url=PUBLIC) as client:
        yield client
