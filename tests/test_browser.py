"""The admin UI in a real browser: log in, read the dashboard, answer a survey on the simulated phone.

Drives Debian's Chromium (/usr/bin/chromium, installed by scripts/ensure-chromium;
never `playwright install`) against the demo app served by uvicorn on 127.0.0.1.
Skips, saying why, when Chromium or the playwright package is missing.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cli.demo_data import add_history, seed
from cli.running import build_app
from clock import utcnow
from messaging.channels import ConsoleChannel, console_only
from models import SURVEY_KINDS, CheckIn, Customer, Message, Response
from models.db import make_engine, migrate, session_factory
from scheduler.tick import tick
from settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "browser-test-password"
SCREENSHOT = Path("/tmp/aftercare-dashboard.png")

if not CHROMIUM.exists():
    pytest.skip(
        f"{CHROMIUM} is missing (scripts/ensure-chromium installs Debian's chromium)",
        allow_module_level=True,
    )
if importlib.util.find_spec("playwright") is None:
    pytest.skip("the playwright package is not installed", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


# Six months of answers, so the trend chart has something to show: (months ago, scores).
@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    """The demo's data and app (scheduler thread off), served on a free port of 127.0.0.1."""
    engine = make_engine(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    migrate(engine)
    factory = session_factory(engine)
    now = utcnow()
    with factory.begin() as session:
        seed(session, now)
    settings = Settings(
        admin_password=PASSWORD,
        session_secret="browser-test-secret",
        business_name="Kowalski Motors",
        review_url="https://g.page/r/kowalski-motors/review",
        simulator=True,  # as `demo` sets it
    )
    transports = console_only(ConsoleChannel(stream=None))
    tick(factory, now, transports, settings)
    with factory.begin() as session:
        add_history(session, now)
    app = build_app(factory, transports, settings, scheduler=False)

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
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def customer_with_open_survey(factory: sessionmaker[Session]) -> Customer:
    """A customer the first pass sent a survey to (an English one when the clock allows)."""
    with factory() as session:
        rows = session.execute(
            select(Customer)
            .join(CheckIn, CheckIn.customer_id == Customer.id)
            .where(CheckIn.status == "sent", CheckIn.kind.in_(SURVEY_KINDS))
            .order_by((Customer.language != "en"), Customer.id)
        ).scalars()
        found = rows.first()
    assert found is not None, "the demo's first pass sent no survey"
    return found


def test_an_admin_logs_in_reads_the_dashboard_and_answers_as_a_customer(
    demo: tuple[str, sessionmaker[Session]], page: Page
) -> None:
    base, factory = demo
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "response",
        lambda answer: (
            errors.append(f"{answer.status} {answer.url}") if answer.status >= 400 else None
        ),
    )
    page.on("console", on_console)

    page.goto(f"{base}/admin/")
    expect(page).to_have_url(f"{base}/admin/login?next=%2Fadmin%2F")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    trend = page.locator("svg#nps-trend")
    expect(trend).to_be_visible()
    expect(trend.locator("rect").first).to_be_visible()
    expect(page.locator("svg#contact-mix")).to_be_visible()
    # The latest detractor's words, in her language (Thai): "the car came two days late".
    expect(page.get_by_text("รถมาส่งช้าไปสองวันค่ะ").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    customer = customer_with_open_survey(factory)
    page.get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="Customer simulator")).to_be_visible()
    page.get_by_role("link", name=customer.name).click()
    expect(page).to_have_url(f"{base}/admin/simulator?customer={customer.external_id}")
    phone = page.locator("#phone")
    # What their real channel shows: 0-10 buttons on Telegram, none by SMS.
    score_9 = phone.get_by_role("button", name="Score 9")
    if customer.channel == "telegram" and customer.telegram_chat_id is not None:
        expect(score_9.last).to_be_visible()
    else:
        # Every language's SMS survey asks for "0-10" in so many characters.
        expect(phone.get_by_text("0-10").last).to_be_visible()
        expect(score_9).to_have_count(0)
    # The demo's history may already hold answers of this customer's: only what follows counts.
    with factory() as session:
        before = session.scalar(select(func.max(Message.id))) or 0
    phone.get_by_role("textbox").fill("9")
    phone.get_by_role("button", name="Send").click()

    with factory() as session:
        deadline = time.monotonic() + 10
        thanks = None
        while thanks is None and time.monotonic() < deadline:
            session.expire_all()
            thanks = session.scalar(
                select(Message.body).where(
                    Message.customer_id == customer.id,
                    Message.purpose == "followup",
                    Message.id > before,
                )
            )
            time.sleep(0.1)
        score = session.scalar(
            select(Response.score)
            .where(
                Response.customer_id == customer.id,
                Response.channel == ("telegram" if customer.channel == "telegram" else "sms"),
            )
            .order_by(Response.id.desc())
            .limit(1)
        )
    assert thanks is not None and score == 9
    first_line = thanks.splitlines()[0][:40]
    expect(phone.locator(".bubble.out").filter(has_text=first_line).first).to_be_visible()
    expect(phone.locator(".bubble.in").filter(has_text="9").first).to_be_visible()
    page.screenshot(path="/tmp/aftercare-simulator.png", full_page=True)
    assert not errors, f"the browser reported errors: {errors}"


def test_an_admin_uploads_a_semicolon_csv_fixes_a_line_imports_and_exports_on_a_phone(
    demo: tuple[str, sessionmaker[Session]], page: Page
) -> None:
    base, factory = demo
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 390, "height": 844})
    header = (
        "external_id;name;phone;telegram_chat_id;language;timezone;channel;rep_external_id;tags"
    )
    good = "b-1;Wiśniewska, Agnieszka;+48 601 777 001;;pl;Europe/Warsaw;sms;r-anna;vip"
    bad = "b-2;Łukasz Żółkiewski;601 777 002;;pl;Europe/Warsaw;sms;r-anna;"

    def fits_the_phone() -> None:
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, f"{page.url} scrolls sideways on a phone ({wide} px)"

    def upload(lines: list[str]) -> None:
        page.goto(f"{base}/admin/import?kind=customers")
        data = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
        page.get_by_label("CSV file").set_input_files(
            files=[{"name": "klienci.csv", "mimeType": "text/csv", "buffer": data}]
        )
        page.get_by_role("button", name="Check the file").click()

    page.goto(f"{base}/admin/import")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Import")).to_be_visible()
    fits_the_phone()

    upload([header, good, bad])
    problems = page.locator("#import-errors")
    expect(problems.locator("tr").filter(has_text="phone")).to_contain_text("3")
    expect(page.get_by_text("nothing was imported")).to_be_visible()

    upload([header, good, bad.replace("601 777 002", "+48 601 777 002")])
    expect(page.locator("#import-preview")).to_contain_text("create 2 customers")
    expect(page.locator("#import-preview")).to_contain_text("separated by semicolons")
    fits_the_phone()
    page.screenshot(path="/tmp/aftercare-import-preview-phone.png", full_page=True)
    page.get_by_role("button", name="Import 2 customers").click()
    expect(page.locator("#import-result")).to_contain_text("2 created, 0 updated, 0 unchanged")

    page.get_by_role("link", name="See the customers").click()
    page.get_by_role("searchbox").fill("Żółkiewski")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Łukasz Żółkiewski")).to_be_visible()

    page.goto(f"{base}/admin/responses")
    expect(page.get_by_role("heading", name="Responses")).to_be_visible()
    fits_the_phone()
    page.screenshot(path="/tmp/aftercare-responses-phone.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    body = Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbfreceived_local")
    with factory() as session:
        stored = session.scalar(select(Customer.phone).where(Customer.external_id == "b-2"))
    assert stored == "+48601777002"
    assert not errors, f"the browser reported errors: {errors}"
