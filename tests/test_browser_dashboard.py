"""The dashboard in a real browser: filtered by one rep, every widget changes.

Same set-up as tests/test_browser.py (Debian's Chromium, the demo's data served
by uvicorn; skipped, saying why, without Chromium or playwright). Screenshots of
both views go to test-artifacts/ in the repository root (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.test_browser import PASSWORD, Page, demo, expect, page  # noqa: F401 - the fixtures

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Every widget on the dashboard (data-widget="..."); each must follow the rep filter.
WIDGETS = ("figures", "escalations", "trend", "distribution", "by-rep", "by-product",
           "by-category", "by-language", "themes", "mix", "recent")  # fmt: skip


def widgets(view: Page) -> dict[str, str]:
    """Each widget's text and drawing (an SVG's markup holds its numbers)."""
    found = {}
    for name in WIDGETS:
        widget = view.locator(f'[data-widget="{name}"]')
        expect(widget).to_have_count(1)
        found[name] = widget.inner_html()
    return found


def test_the_dashboard_filtered_by_rep_changes_every_widget(
    demo: tuple[str, sessionmaker[Session]],  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    base, _ = demo
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{base}/admin/")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    before = widgets(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-everyone.png"), full_page=True)

    form = page.locator("#dash-filters")
    rep = form.locator('select[name="rep"] option').nth(1)
    rep_id, rep_name = rep.get_attribute("value"), rep.inner_text()
    form.locator('select[name="rep"]').select_option(rep_id)
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{base}/admin/?period=all&from=&to=&rep={rep_id}"
                             "&product=&category=&kind=&channel=&language=&trend=month")  # fmt: skip
    after = widgets(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-one-rep.png"), full_page=True)

    unchanged = [name for name in WIDGETS if before[name] == after[name]]
    assert not unchanged, f"filtered by {rep_name}, these widgets did not change: {unchanged}"
    # The rep's own breakdown row is all the "by rep" widget has left.
    by_rep = page.locator('[data-widget="by-rep"] tbody tr')
    expect(by_rep).to_have_count(1)
    expect(by_rep.first).to_contain_text(rep_name)
    # The link is shareable: opened afresh, it shows the same.
    page.goto(page.url)
    assert widgets(page) == after


def test_the_upcoming_page_pauses_and_resumes_a_checkin(
    demo: tuple[str, sessionmaker[Session]],  # noqa: F811
    page: Page,  # noqa: F811
) -> None:
    base, _ = demo
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{base}/admin/upcoming")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Upcoming")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "upcoming.png"), full_page=True)
    pause = page.get_by_role("button", name="Pause")
    if pause.count() == 0:
        pytest.skip("the demo has nothing due in the next 24 hours at this hour")
    row = page.locator("tbody tr").filter(has=page.get_by_role("button", name="Pause")).first
    row_id = row.get_attribute("id")
    row.get_by_role("button", name="Pause").click()
    paused = page.locator(f"tr#{row_id}")
    expect(paused).to_contain_text("paused by admin (admin)")
    paused.get_by_role("button", name="Resume").click()
    expect(page.locator(f"tr#{row_id}")).not_to_contain_text("paused by")
