"""Hardening, item 4: a template has a budget of steps, CPU time and text, and a channel's length.

Each of these kept a core busy, ate memory or made a 1 MB message before.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from messaging.channels import Transports
from messaging.render import TemplateError, render, validate_source
from models import CheckIn, TemplateVersion
from scheduler.tick import tick
from tests.conftest import at
from tests.test_admin import app, client, save_template, versions  # noqa: F401 - fixtures
from tests.test_tick import SETTINGS, deliver

pytest_plugins = ["tests.conftest_channels"]

CONTEXT = {"first_name": "Anna", "channel": "sms"}

ABUSE = {
    "nested loops": "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}x",
    "nested loops over a list": (
        "{% set x = range(10000)|list %}{% for a in x %}{% for b in x %}{% endfor %}{% endfor %}x"
    ),
    "a huge width": "{{ '{:x>1000000}'.format(1) }}",
    "a width from an argument": "{{ '{:{}}'.format('a', 1000000000) }}",
    "a huge %-width": "{{ '%1000000s' % 'a' }}",
    "the format filter": "{{ '%1000000s'|format('a') }}",
    "padding": "{{ 'a'|center(1000000000) }}{{ 'a'.ljust(1000000000) }}",
    "doubling with ~": (
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
    ),
    "doubling with +": (
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}"
    ),
    "replace": "{{ ('x' * 10000)|replace('', 'y' * 10000) }}",
    "join": "{{ (['x' * 10000] * 1000)|join }}",
    "literal text in a loop": "{% for i in range(20000) %}" + "z" * 1000 + "{% endfor %}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "big numbers": "{{ ((10 ** 100) ** 100) ** 100 }}",
}


@pytest.mark.parametrize("source", ABUSE.values(), ids=ABUSE.keys())
def test_a_template_that_would_spend_the_server_is_stopped_at_once(source: str) -> None:
    started = time.process_time()
    with pytest.raises(TemplateError):
        render("help", "en", CONTEXT, source=source)
    assert time.process_time() - started < 2  # generous: each stops within milliseconds


def test_an_ordinary_template_renders_as_before() -> None:
    source = (
        "Hi {{ first_name }}, {{ '{:,}'.format(1234567) }} "
        "{% for c in first_name %}{{ c }}{% endfor %} {{ 'a' ~ 'b' }} {{ 7 % 3 }} {{ 2 + 3 }}"
    )
    assert render("help", "en", CONTEXT, source=source) == "Hi Anna, 1,234,567 Anna ab 1 5"


def test_a_text_longer_than_its_channel_carries_is_an_error_not_a_cut_message() -> None:
    source = "{{ 'x' * 2000 }}"
    with pytest.raises(TemplateError, match="one sms message holds at most 1,600"):
        render("help", "en", CONTEXT, source=source)
    assert len(render("help", "en", {**CONTEXT, "channel": "telegram"}, source=source)) == 2000
    with pytest.raises(TemplateError, match="telegram message holds at most 4,096"):
        render("help", "en", {**CONTEXT, "channel": "telegram"}, source="{{ 'x' * 4100 }}")
    with pytest.raises(TemplateError, match="sms message holds at most 1,600"):
        validate_source("{{ 'x' * 1700 }}", "help")


def test_the_editor_refuses_a_template_that_breaks_the_budget(
    client: TestClient,  # noqa: F811
    session: Session,
) -> None:
    for source in (ABUSE["nested loops"], ABUSE["a huge width"], "{{ 'x' * 1700 }}"):
        answer = save_template(client, source)
        assert answer.status_code == 422 and "Not saved." in answer.text
    assert versions(session) == []
    answer = save_template(client, "x" * 4_001)
    assert answer.status_code == 422 and "at most 4000" in answer.text


def test_a_preview_of_an_endless_template_answers_at_once(client: TestClient) -> None:  # noqa: F811
    csrf = client.get("/admin/templates/help/en").text.split('name="csrf_token" value="')[1]
    started = time.monotonic()
    answer = client.post(
        "/admin/templates/help/en/preview",
        data={"body": ABUSE["nested loops"], "csrf_token": csrf.split('"')[0]},
    )
    assert answer.status_code == 200 and "20,000 steps" in answer.text
    assert time.monotonic() - started < 5


def test_a_saved_template_that_breaks_the_budget_at_send_time_fails_and_is_not_sent(
    db, session, cast, sms, fake_twilio
) -> None:
    # Saved before this check existed (or straight into the database): the survey is
    # recorded as failed with the reason, and nothing reaches the customer.
    session.add(
        TemplateVersion(
            key="survey_post_delivery", language="en", version=1, body="{{ 'x' * 1700 }}"
        )
    )
    session.commit()
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    tick(db, at("2026-03-02 14:00"), Transports(by_channel={"sms": sms}), SETTINGS)
    assert fake_twilio.messages == []
    session.expire_all()
    [checkin] = session.scalars(select(CheckIn).where(CheckIn.customer_id == john.id))
    assert checkin.status == "failed" and "holds at most 1,600" in (checkin.reason or "")
