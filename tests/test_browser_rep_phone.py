"""A rep works their escalations on a phone, in a real browser (Debian's Chromium, 390×844 and 360 px).

Anna logs in, lands on her open escalations, sees hers and not Ben's, acknowledges
and resolves it with a note, and no page she opens (home, the escalation, the
customer) scrolls sideways. Screenshots go to test-artifacts/ in the repo root.
Launches /usr/bin/chromium as tests/test_browser.py does, and skips like it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accounts.users import add_user
from cli.demo_data import seed
from cli.running import build_app
from clock import utcnow
from messaging.channels import ConsoleChannel, console_only
from models import CheckIn, Customer, Escalation, EscalationEvent, Message, Rep, Response
from models.db import make_engine, migrate, session_factory
from settings import Settings
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS  # skips this module when it skips itself

pytestmark = pytest.mark.browser

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PASSWORD = "anna's phone password"
ADMIN_PASSWORD = "the admin's phone password"
ANNAS_COMMENT = "The paint is scratched on the left door."
BENS_COMMENT = "Nobody told me the parts were late."


def _complaint(session: Session, customer: Customer, comment: str, now: object) -> None:
    assert isinstance(now, type(utcnow()))
    checkin = CheckIn(customer_id=customer.id, kind="post_delivery", dedupe_key=f"phone-{customer.id}",
                      due_at=now - timedelta(hours=3), status="answered",
                      sent_at=now - timedelta(hours=2), channel="sms")  # fmt: skip
    session.add(checkin)
    session.flush()
    response = Response(checkin_id=checkin.id, customer_id=customer.id, score=3,
                        category="detractor", comment=comment, channel="sms",
                        received_at=now - timedelta(minutes=40))  # fmt: skip
    session.add(response)
    # What the thread shows: the survey, and the answer (already handled, not waiting in the inbox).
    session.add(Message(customer_id=customer.id, direction="out", channel="sms",
                        address=customer.phone or "", body=f"Hi {customer.name}, how likely...",
                        status="delivered", created_at=now - timedelta(hours=2)))  # fmt: skip
    session.add(Message(customer_id=customer.id, direction="in", channel="sms",
                        address=customer.phone or "", body=f"3. {comment}", status="received",
                        created_at=now - timedelta(minutes=40),
                        processed_at=now - timedelta(minutes=40)))  # fmt: skip
    session.flush()
    session.add(Escalation(kind="detractor", response_id=response.id, customer_id=customer.id,
                           rep_id=customer.rep_id, status="open",
                           sla_due_at=now + timedelta(minutes=80),
                           created_at=now - timedelta(minutes=40)))  # fmt: skip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The demo's people, one complaint for Anna and one for Ben, and a login for Anna."""
    engine = make_engine(f"sqlite:///{tmp_path / 'phone.sqlite3'}")
    migrate(engine)
    factory = session_factory(engine)
    now = utcnow()
    with factory.begin() as session:
        seed(session, now)
        anna = session.scalars(select(Rep).where(Rep.external_id == "r-anna")).one()
        ben = session.scalars(select(Rep).where(Rep.external_id == "r-ben")).one()
        for rep, comment in ((anna, ANNAS_COMMENT), (ben, BENS_COMMENT)):
            customer = session.scalars(
                select(Customer).where(Customer.rep_id == rep.id).order_by(Customer.id)
            ).first()
            assert customer is not None
            _complaint(session, customer, comment, now)
        add_user(session, now, "anna", "rep", PASSWORD, rep_external_id="r-anna", actor="test")
    settings = Settings(admin_password=ADMIN_PASSWORD, session_secret="phone-test-secret",
                        business_name="Kowalski Motors", simulator=True)  # fmt: skip
    app = build_app(factory, console_only(ConsoleChannel(stream=None)), settings, scheduler=False)

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", factory
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture
def phone() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def fits(page: Page, name: str) -> None:
    """Nothing scrolls sideways; the screenshot is kept either way."""
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.evaluate("window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / f"rep-phone-{name}-{width}.png"), full_page=True)
    wide = page.evaluate("document.scrollingElement.scrollWidth")
    assert wide <= width, f"{page.url} scrolls sideways at {width} px ({wide} px wide)"


def test_a_rep_works_her_escalation_on_a_phone(
    served: tuple[str, sessionmaker[Session]], phone: Page
) -> None:
    base, factory = served
    errors: list[str] = []
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.on(
        "response",
        lambda answer: (
            errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
        ),
    )

    phone.goto(f"{base}/admin/")
    phone.get_by_label("User").fill("anna")
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone).to_have_url(f"{base}/admin/my")
    expect(phone.get_by_role("heading", name="My open escalations")).to_be_visible()
    card = phone.locator("article.esc-card")
    expect(card).to_have_count(1)
    expect(card.get_by_text(ANNAS_COMMENT).first).to_be_visible()
    expect(phone.get_by_text(BENS_COMMENT)).to_have_count(0)
    expect(card.get_by_role("link", name="Call")).to_have_attribute("href", "tel:+14155550123")
    expect(card.locator(".badge.sla-ok")).to_contain_text("left")
    expect(card.locator("ol.esc-thread .bubble.in")).to_contain_text(f"3. {ANNAS_COMMENT}")
    fits(phone, "home")

    # The nav is folded behind the Menu button.
    dashboard = phone.get_by_role("link", name="Dashboard")
    expect(dashboard).to_be_hidden()
    phone.get_by_text("Menu", exact=True).click()
    expect(dashboard).to_be_visible()
    fits(phone, "menu")
    phone.get_by_text("Menu", exact=True).click()

    card.get_by_role("button", name="Acknowledge").click()
    expect(phone).to_have_url(f"{base}/admin/my")
    expect(card.locator(".badge.status-acknowledged")).to_be_visible()
    expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)

    with factory() as session:
        escalation_id = session.scalars(
            select(Escalation.id).where(Escalation.status != "open")
        ).one()
    card.get_by_role("link", name=f"#{escalation_id}").click()
    expect(phone).to_have_url(f"{base}/admin/escalations/{escalation_id}")
    expect(phone.get_by_role("heading", name=f"Escalation #{escalation_id}")).to_be_visible()
    fits(phone, "escalation")

    phone.get_by_label(f"Resolution note for escalation {escalation_id}").fill(
        "Called her; the door is repainted on Friday."
    )
    phone.get_by_role("button", name="Resolve").click()
    expect(phone).to_have_url(f"{base}/admin/escalations/{escalation_id}")
    expect(phone.get_by_text("Resolved").first).to_be_visible()
    expect(phone.locator("ol.trail")).to_contain_text("resolved")
    fits(phone, "resolved")
    with factory() as session:
        done = session.get_one(Escalation, escalation_id)
        assert done.status == "resolved"
        assert done.resolution_note == "Called her; the door is repainted on Friday."
        trail = session.scalars(
            select(EscalationEvent.action).where(EscalationEvent.escalation_id == escalation_id)
        ).all()
        assert trail == ["acknowledged", "resolved"]

    phone.locator("article.esc-card h2 a").click()
    expect(phone.get_by_role("heading", name="Emily Carter")).to_be_visible()
    fits(phone, "customer")
    customer_url = phone.url

    phone.goto(f"{base}/admin/my")
    expect(phone.get_by_text("Nothing waits for you")).to_be_visible()

    # The narrowest phones: 360 px.
    phone.set_viewport_size({"width": 360, "height": 780})
    for name, url in (
        ("home", f"{base}/admin/my"),
        ("escalation", f"{base}/admin/escalations/{escalation_id}"),
        ("customer", customer_url),
        ("escalations", f"{base}/admin/escalations"),
        ("customers", f"{base}/admin/customers"),
        ("responses", f"{base}/admin/responses"),
        ("dashboard", f"{base}/admin/"),
    ):
        phone.goto(url)
        fits(phone, name)
    assert not errors, f"the browser reported errors: {errors}"


def test_no_admin_page_scrolls_sideways_on_a_360_px_phone(
    served: tuple[str, sessionmaker[Session]], phone: Page
) -> None:
    base, factory = served
    phone.set_viewport_size({"width": 360, "height": 780})
    phone.goto(f"{base}/admin/login")
    phone.get_by_label("User").fill("admin")
    phone.get_by_label("Password").fill(ADMIN_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    expect(phone.get_by_role("heading", name="Dashboard")).to_be_visible()
    with factory() as session:
        customer = session.scalars(select(Customer.external_id).order_by(Customer.id)).first()
        escalation_id = session.scalars(select(Escalation.id).order_by(Escalation.id)).first()
    for name, path in (
        ("admin-dashboard", "/admin/"),
        ("admin-my", "/admin/my"),
        ("admin-escalations", "/admin/escalations"),
        ("admin-escalation", f"/admin/escalations/{escalation_id}"),
        ("admin-customers", "/admin/customers"),
        ("admin-customer", f"/admin/customers/{customer}"),
        ("admin-responses", "/admin/responses"),
        ("admin-upcoming", "/admin/upcoming"),
        ("admin-templates", "/admin/templates"),
        ("admin-template", "/admin/templates/survey_post_delivery/en"),
        ("admin-settings", "/admin/settings"),
        ("admin-import", "/admin/import"),
        ("admin-users", "/admin/users"),
        ("admin-audit", "/admin/audit"),
        ("admin-events", "/admin/events"),
        ("admin-simulator", f"/admin/simulator?customer={customer}"),
    ):
        answer = phone.goto(f"{base}{path}")
        assert answer is not None and answer.status == 200, path
        fits(phone, name)
