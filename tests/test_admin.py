"""The admin UI: login and CSRF, and each page doing what an admin needs (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from accounts.users import add_user, disable_user
from cadence.rules import CadenceRules, load_rules
from clock import utcnow
from messaging.channels import ConsoleChannel, console_only
from messaging.compose import TemplateBook, score_buttons
from messaging.outbox import queue_message
from messaging.render import template_source
from models import (
    AuditEntry,
    CheckIn,
    Customer,
    Escalation,
    FailedTelegramUpdate,
    Message,
    Response,
    TemplateVersion,
)
from settings import Settings
from web.admin import router as admin_router
from web.admin.session_cookie import COOKIE
from web.admin.settings_page import FIELDS
from web.app import create_app

with warnings.catch_warnings():
    # Starlette now prefers httpx2 for its test client; httpx is what we have pinned.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
SECRET = "session-secret-for-tests"
API_TOKEN = "api-token-for-tests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

PAGES = [
    "/admin/",
    "/admin/?period=30",
    "/admin/customers",
    "/admin/customers?q=smith",
    "/admin/customers/cust-en",
    "/admin/customers/cust-en/consent.csv",
    "/admin/consent.csv",
    "/admin/templates",
    "/admin/templates/survey_post_delivery/en",
    "/admin/templates/survey_post_delivery/en/versions/1",
    "/admin/settings",
    "/admin/escalations",
    "/admin/simulator",
    "/admin/simulator?customer=cust-en",
    "/admin/simulator/cust-en/thread",
]
POSTS = [
    "/admin/logout",
    "/admin/templates/survey_post_delivery/en",
    "/admin/templates/survey_post_delivery/en/preview",
    "/admin/templates/survey_post_delivery/en/versions/1/restore",
    "/admin/settings",
    "/admin/escalations/1/acknowledge",
    "/admin/escalations/1/resolve",
    "/admin/simulator/cust-en/reply",
    "/admin/simulator/cust-en/button",
    "/admin/simulator/tick",
    "/admin/customers/cust-en/consent",
]


def make_app(db: sessionmaker[Session], **overrides: Any) -> tuple[FastAPI, ConsoleChannel]:
    values = {
        "admin_password": PASSWORD,
        "session_secret": SECRET,
        "api_token": API_TOKEN,
        "business_name": "Kowalski Motors",
        "review_url": "https://g.page/r/kowalski/review",
        "simulator": True,  # as in `demo`; test_the_simulator_is_off_unless_switched_on
        **overrides,
    }
    app = create_app(db, Settings(**values), extra_routers=[admin_router])
    console = ConsoleChannel(stream=None)
    app.state.transports = console_only(console)
    return app, console


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


def log_in(client: TestClient, user: str = "admin", password: str = PASSWORD) -> Any:
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"username": user, "password": password, "csrf_token": csrf_of(form.text)},
    )


@pytest.fixture
def app(db: sessionmaker[Session]) -> FastAPI:
    return make_app(db)[0]


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(app: FastAPI, cast: dict[str, object]) -> Iterator[TestClient]:
    """Logged in as admin, over the conftest cast."""
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        yield client


def token(client: TestClient, path: str = "/admin/settings") -> str:
    return csrf_of(client.get(path).text)


# ---------------------------------------------------------------- login and CSRF


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_logged_out_visitor_to_the_login(
    anonymous: TestClient, path: str
) -> None:
    answer = anonymous.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login?next=%2Fadmin%2F")


@pytest.mark.parametrize("path", POSTS)
def test_every_action_refuses_a_logged_out_visitor(anonymous: TestClient, path: str) -> None:
    answer = anonymous.post(path, data={"body": "x", "text": "9"})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/admin/login")


def test_an_htmx_call_without_a_session_is_told_to_reload_the_login(anonymous: TestClient) -> None:
    answer = anonymous.get("/admin/simulator/cust-en/thread", headers={"HX-Request": "true"})
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/admin/login?next=")


def test_the_login_page_is_open_and_carries_a_csrf_token(anonymous: TestClient) -> None:
    page = anonymous.get("/admin/login")
    assert page.status_code == 200
    assert 'type="password"' in page.text and csrf_of(page.text)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_right_password_logs_in_and_returns_to_the_page_asked_for(
    anonymous: TestClient, cast: dict
) -> None:
    form = anonymous.get("/admin/login?next=/admin/customers")
    answer = anonymous.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "/admin/customers",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/customers"
    assert anonymous.get("/admin/customers").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/admin/../api"])
def test_login_never_redirects_off_the_admin_pages(anonymous: TestClient, target: str) -> None:
    form = anonymous.get("/admin/login")
    answer = anonymous.post(
        "/admin/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
    )
    assert answer.headers["location"] == "/admin/"


@pytest.mark.parametrize(
    ("user", "password"),
    [("admin", "wrong"), ("admin", ""), ("root", PASSWORD), ("", PASSWORD)],
)
def test_wrong_credentials_are_rejected(anonymous: TestClient, user: str, password: str) -> None:
    answer = log_in(anonymous, user, password)
    assert answer.status_code == 401
    assert "Wrong user name or password" in answer.text
    assert anonymous.get("/admin/").status_code == 303


def test_repeated_failures_are_slowed_down(anonymous: TestClient) -> None:
    for n in range(10):  # other user names each time: this is the per-address limit
        assert log_in(anonymous, f"guess-{n}", "guess").status_code == 401
    answer = log_in(anonymous)  # even the right password waits now
    assert answer.status_code == 429
    assert "Too many failed attempts" in answer.text
    assert 0 < int(answer.headers["Retry-After"]) <= 15 * 60


def test_login_without_the_csrf_token_is_refused(anonymous: TestClient) -> None:
    anonymous.get("/admin/login")
    answer = anonymous.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert answer.status_code == 403
    assert anonymous.get("/admin/").status_code == 303


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    answer = client.post("/admin/settings", data={"throttle_days": "3"})
    assert answer.status_code == 403
    wrong = client.post(
        "/admin/templates/help/en", data={"body": "Hello {{ first_name }}", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    assert session.scalar(select(func.count()).select_from(TemplateVersion)) == 0
    assert load_rules(session) == CadenceRules()


def test_a_token_in_any_alphabet_is_just_wrong(client: TestClient) -> None:
    answer = client.post("/admin/settings", data={"csrf_token": "żółć"})
    assert answer.status_code == 403


def test_htmx_sends_the_token_in_a_header(client: TestClient) -> None:
    page = client.get("/admin/templates/help/en")
    assert "X-CSRF-Token" in page.text  # hx-headers on <body>
    answer = client.post(
        "/admin/templates/help/en/preview",
        data={"body": "Hi {{ first_name }}"},
        headers={"X-CSRF-Token": csrf_of(page.text), "HX-Request": "true"},
    )
    assert answer.status_code == 200 and "Hi Aleksandra" in answer.text


def test_a_tampered_cookie_is_not_a_session(client: TestClient) -> None:
    value = client.cookies[COOKIE]
    body, _, mac = value.partition(".")
    client.cookies.set(
        COOKIE, body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac, path="/admin"
    )
    assert client.get("/admin/").status_code == 303


def test_the_session_cookie_is_httponly_lax_and_secure_behind_https(
    db: sessionmaker[Session],
) -> None:
    app, _ = make_app(db, public_url="https://care.example.com")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        header = client.get("/admin/login").headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header and "Secure" in header
    plain, _ = make_app(db)
    with TestClient(plain, follow_redirects=False) as client:
        assert "Secure" not in client.get("/admin/login").headers["set-cookie"]


def test_logout_needs_the_token_and_ends_the_session(client: TestClient) -> None:
    assert client.post("/admin/logout").status_code == 403
    answer = client.post("/admin/logout", data={"csrf_token": token(client)})
    assert answer.status_code == 303
    assert client.get("/admin/").status_code == 303


def test_a_new_password_ends_the_sessions_made_with_the_old_one(
    db: sessionmaker[Session], client: TestClient
) -> None:
    cookie = client.cookies[COOKIE]
    changed, _ = make_app(db, admin_password="a brand new password")
    with TestClient(changed, follow_redirects=False) as other:
        other.cookies.set(COOKIE, cookie, path="/admin")
        assert other.get("/admin/").status_code == 303
    same, _ = make_app(db)  # same secret and password: the session survives a restart
    with TestClient(same, follow_redirects=False) as other:
        other.cookies.set(COOKIE, cookie, path="/admin")
        assert other.get("/admin/").status_code == 200


def test_without_an_admin_password_nobody_can_log_in(db: sessionmaker[Session]) -> None:
    app, _ = make_app(db, admin_password="")
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/admin/login")
        assert "nobody can log in" in page.text and "AFTERCARE_ADMIN_PASSWORD" in page.text
        assert 'type="password"' not in page.text
        # No form to fill in; a hand-made POST with the page's token still gets nowhere.
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert csrf
        for password in ("", "admin", PASSWORD):
            answer = client.post(
                "/admin/login",
                data={"username": "admin", "password": password, "csrf_token": csrf[1]},
            )
            assert answer.status_code == 401
        assert client.get("/admin/").status_code == 303


def test_a_user_logs_in_with_their_own_password_and_a_disabled_one_cannot(
    db: sessionmaker[Session], session: Session, cast: dict
) -> None:
    add_user(session, utcnow(), "anna", "rep", "anna's own password", rep_external_id="rep-1",
             actor="test")  # fmt: skip
    add_user(session, utcnow(), "boss", "admin", "the boss's password", actor="test")
    session.commit()
    app, _ = make_app(db, admin_password="")
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client, "anna", "wrong password").status_code == 401
        assert log_in(client, "Anna", "anna's own password").status_code == 303
        assert "anna" in client.get("/admin/").text
        disable_user(session, utcnow(), "anna", actor="test")
        session.commit()
        assert client.get("/admin/").status_code == 303  # the session ended with the account
        assert log_in(client, "anna", "anna's own password").status_code == 401


def test_secrets_never_appear_in_pages(client: TestClient) -> None:
    for path in PAGES:
        text = client.get(path).text
        for secret in (PASSWORD, SECRET, API_TOKEN):
            assert secret not in text, f"{path} shows a secret"


# ---------------------------------------------------------------- dashboard


def answered(
    session: Session, customer: Customer, score: int, comment: str = "", days_ago: float = 1
) -> Response:
    when = utcnow() - timedelta(days=days_ago)
    checkin = CheckIn(
        customer_id=customer.id,
        kind="post_delivery",
        dedupe_key=f"answered-{customer.id}-{days_ago}",
        due_at=when - timedelta(hours=2),
        status="answered",
        sent_at=when - timedelta(hours=1),
        channel="sms",
    )
    session.add(checkin)
    session.flush()
    response = Response(
        checkin_id=checkin.id,
        customer_id=customer.id,
        score=score,
        category="promoter" if score >= 9 else "passive" if score >= 7 else "detractor",
        comment=comment,
        channel="sms",
        received_at=when,
    )
    session.add(response)
    session.flush()
    return response


def test_the_dashboard_shows_nps_charts_escalations_and_comments(
    client: TestClient, session: Session, cast: dict
) -> None:
    answered(session, cast["en"], 10, "Great service")
    answered(session, cast["pl"], 9)
    answered(session, cast["uk"], 8)
    low = answered(session, cast["ru"], 3, "The car <b>rattles</b>")
    session.add(
        Escalation(
            kind="detractor",
            response_id=low.id,
            customer_id=cast["ru"].id,
            rep_id=cast["rep"].id,
            status="open",
            sla_due_at=utcnow() - timedelta(minutes=5),
        )
    )
    session.commit()
    page = client.get("/admin/").text
    assert "+25" in page  # (2 promoters - 1 detractor) / 4
    assert "too few answers, n = 4" in page and "± " not in page
    assert page.count("<svg") == 4  # trend, score distribution, categories, contact mix
    assert 'aria-labelledby="nps-trend-title nps-trend-desc"' in page
    assert "Great service" in page
    assert "The car &lt;b&gt;rattles&lt;/b&gt;" in page  # comments are escaped
    assert "1 past SLA" in page
    assert "Anna Kowalska" in page  # the contact mix names the rep
    assert "100%" in page  # responses to surveys sent


def test_the_dashboard_is_calm_with_no_data(client: TestClient) -> None:
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "no responses yet" in page.text and "No check-ins sent yet" in page.text
    assert "Telegram updates that could not be handled" not in page.text


def test_the_dashboard_lists_telegram_updates_that_could_not_be_handled(
    client: TestClient, session: Session
) -> None:
    session.add(
        FailedTelegramUpdate(
            update_id=700000042,
            payload={"update_id": 700000042, "message": {"text": "call me on +14155550101"}},
            error="OperationalError: database is locked",
            attempts=5,
            failed_at=utcnow(),
        )
    )
    session.commit()
    page = client.get("/admin/").text
    assert "Telegram updates that could not be handled" in page
    assert "700000042" in page and "database is locked" in page and ">5<" in page
    assert "+14155550101" not in page  # what the customer wrote stays in the database


# ---------------------------------------------------------------- customers


@pytest.mark.parametrize(
    ("query", "found"), [("smith", "John Smith"), ("CUST-PL", "Agnieszka"), ("+66 812", "สมชาย")]
)
def test_customers_can_be_found_by_name_external_id_or_phone(
    client: TestClient, query: str, found: str
) -> None:
    page = client.get("/admin/customers", params={"q": query}).text
    assert found in page
    assert page.count("/admin/customers/cust-") == 1


def test_the_customer_page_answers_why_they_got_nothing(
    client: TestClient, session: Session, cast: dict
) -> None:
    customer = cast["en"]
    customer.opted_out_at = utcnow() - timedelta(days=3)
    session.add(
        CheckIn(
            customer_id=customer.id,
            kind="periodic",
            dedupe_key="why",
            due_at=utcnow(),
            status="suppressed",
            reason="throttled: a survey went out 3 days ago",
        )
    )
    queue_message(
        session,
        now=utcnow(),
        channel="sms",
        address=customer.phone,
        body="Hi John, how likely are you to recommend us?",
        purpose="survey",
        customer_id=customer.id,
    )
    session.commit()
    page = client.get("/admin/customers/cust-en").text
    assert "John Smith" in page and "+14155550101" in page
    assert "Opted out (STOP)" in page
    assert "throttled: a survey went out 3 days ago" in page
    assert "Hi John, how likely are you to recommend us?" in page
    assert "not linked" in page
    assert client.get("/admin/customers/nobody").status_code == 404


# ---------------------------------------------------------------- templates


def versions(session: Session) -> list[TemplateVersion]:
    session.expire_all()
    return list(session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)))


def save_template(client: TestClient, body: str, key: str = "help", language: str = "en") -> Any:
    csrf = token(client, f"/admin/templates/{key}/{language}")
    return client.post(
        f"/admin/templates/{key}/{language}", data={"body": body, "csrf_token": csrf}
    )


def test_the_template_list_shows_every_key_and_language(client: TestClient) -> None:
    page = client.get("/admin/templates").text
    assert "survey_post_delivery" in page and "/admin/templates/rep_alert/th" in page
    assert "/admin/templates/rep_score_changed/th" in page  # every rep message is editable
    editor = client.get("/admin/templates/rep_score_changed/pl")
    assert editor.status_code == 200 and "zmienia ocenę z 3 na 9" in editor.text
    assert "en file" in page  # languages without their own text fall back to English


def test_the_template_list_shows_what_an_sms_of_each_costs(client: TestClient) -> None:
    body = client.get("/admin/templates").text
    assert "1&times;GSM-7" in body  # the English surveys fit one segment
    assert "&times;UCS-2" in body  # Ukrainian, Russian and Thai cannot be GSM-7


def test_a_template_with_a_syntax_error_is_not_saved(client: TestClient, session: Session) -> None:
    answer = save_template(client, "Hello {{ first_name }}\nSee {% if product %}you")
    assert answer.status_code == 422
    assert "Not saved." in answer.text and "Line 2" in answer.text
    assert "See {% if product %}you" in answer.text  # the admin's text is kept for fixing
    assert versions(session) == []


def test_a_template_with_an_unknown_variable_names_it(client: TestClient, session: Session) -> None:
    answer = save_template(client, "Hi {{ first_name }}\nYour code is {{ coupon }}")
    assert answer.status_code == 422 and "coupon" in answer.text and "Line 2" in answer.text
    assert versions(session) == []


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ first_name.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% for x in range(10**9) %}x{% endfor %}",
    ],
)
def test_a_sandbox_escape_attempt_is_rejected(
    client: TestClient, session: Session, body: str
) -> None:
    answer = save_template(client, body)
    assert answer.status_code == 422 and "Not saved." in answer.text
    assert versions(session) == []


def test_save_history_and_restore(client: TestClient, session: Session) -> None:
    first = "Reply STOP to stop, {{ first_name }}."
    second = "Need help, {{ first_name }}? Call {{ business_name }}."
    answer = save_template(client, first)
    assert answer.status_code == 303 and answer.headers["location"].endswith("?saved=1")
    assert save_template(client, second).status_code == 303
    rows = versions(session)
    assert [(v.version, v.body, v.changed_by) for v in rows] == [
        (1, first, "admin"),
        (2, second, "admin"),
    ]
    book = TemplateBook.load(session)
    assert book.compose("help", "en", {"first_name": "Jo", "business_name": "K"}).body == (
        "Need help, Jo? Call K."
    )

    editor = client.get("/admin/templates/help/en?saved=2").text
    assert "Saved as version 2" in editor and "/admin/templates/help/en/versions/1" in editor
    old = client.get("/admin/templates/help/en/versions/1").text
    assert "Reply STOP to stop, {{ first_name }}." in old

    restored = client.post(
        "/admin/templates/help/en/versions/1/restore", data={"csrf_token": csrf_of(old)}
    )
    assert restored.status_code == 303
    assert [(v.version, v.body) for v in versions(session)][-1] == (3, first)
    back_to_file = client.post(
        "/admin/templates/help/en/versions/0/restore", data={"csrf_token": csrf_of(old)}
    )
    assert back_to_file.status_code == 303
    newest = versions(session)[-1]
    assert (newest.version, newest.body) == (4, template_source("help", "en")[0])


def test_the_preview_renders_sample_values_and_counts_sms_segments(client: TestClient) -> None:
    csrf = token(client, "/admin/templates/survey_periodic/pl")
    gsm = client.post(
        "/admin/templates/survey_periodic/pl/preview",
        data={"body": "Hi {{ first_name }}!", "csrf_token": csrf},
    ).text
    assert "Hi Aleksandra!" in gsm and "1 segment" in gsm and "GSM-7" in gsm
    ucs = client.post(
        "/admin/templates/survey_periodic/pl/preview",
        data={"body": "Cześć {{ first_name }}! " * 4, "csrf_token": csrf},
    ).text
    assert "UCS-2" in ucs and "2 segments" in ucs
    broken = client.post(
        "/admin/templates/survey_periodic/pl/preview",
        data={"body": "ok\n{{ first_name ", "csrf_token": csrf},
    ).text
    assert "Line 2" in broken and 'class="bad"' in broken


def test_unknown_templates_are_404(client: TestClient) -> None:
    assert client.get("/admin/templates/no_such_key/en").status_code == 404
    assert client.get("/admin/templates/help/xx").status_code == 404


# ---------------------------------------------------------------- settings


def settings_form(client: TestClient, **changes: str) -> dict[str, str]:
    page = client.get("/admin/settings").text
    form = {"csrf_token": csrf_of(page)}
    for name, value in re.findall(r'<input id="field-\w+" name="(\w+)" value="([^"]*)"', page):
        form[name] = value
    for name, value in re.findall(
        r'<textarea id="field-\w+" name="(\w+)"[^>]*>([^<]*)</textarea>', page
    ):
        form[name] = value
    form.update(changes)
    return form


def test_the_settings_form_has_every_cadence_rule() -> None:
    assert {field.name for field in FIELDS} == {f.name for f in dataclasses.fields(CadenceRules)}


def test_settings_are_saved_when_valid(client: TestClient, session: Session) -> None:
    form = settings_form(
        client,
        throttle_days="21",
        quiet_end="08:30",
        post_delivery_days="car = 1\ndental = 2\nbikes = 3",
        service_categories="car, Garage, boats",
        review_invite_all="on",
    )
    answer = client.post("/admin/settings", data=form)
    assert answer.status_code == 303
    rules = load_rules(session)
    assert rules.throttle_days == 21 and rules.quiet_end.strftime("%H:%M") == "08:30"
    assert rules.post_delivery_days == {"car": 1, "dental": 2, "bikes": 3}
    assert rules.service_categories == ("car", "garage", "boats")
    assert rules.review_invite_all is True
    assert rules.periodic_days == 90  # untouched fields keep their values
    page = client.get("/admin/settings?saved=1").text
    assert "Saved." in page and 'value="21"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"throttle_days": "two weeks"},
            "At most one survey per customer in: 'two weeks' is not a number",
        ),
        ({"expire_days": "0"}, "An unanswered survey expires after: must be between 1 and"),
        ({"quiet_start": "25:00"}, "Send messages until: &#39;25:00&#39; is not a time"),
        ({"post_delivery_days": "car: 1"}, "line 1 should read"),
        ({"reminder_days": "9"}, "the reminder must come before the survey expires"),
        ({"quiet_start": "09:00", "quiet_end": "09:00"}, "the sending window would be empty"),
        ({"max_manager_reminders": "-1"}, "Manager reminders: enter a whole number"),
        ({"service_days": "nan"}, "Service check every: must be between"),
    ],
)
def test_bad_settings_name_the_field_and_save_nothing(
    client: TestClient, session: Session, changes: dict[str, str], message: str
) -> None:
    answer = client.post("/admin/settings", data=settings_form(client, **changes))
    assert answer.status_code == 422
    assert "Nothing was saved" in answer.text
    assert message.replace("'", "&#39;") in answer.text or message in answer.text
    assert 'aria-invalid="true"' in answer.text
    session.expire_all()
    assert load_rules(session) == CadenceRules()


def test_the_review_switch_explains_review_gating(client: TestClient) -> None:
    page = client.get("/admin/settings").text
    assert "review gating" in page and "Google" in page and "Trustpilot" in page
    assert 'name="review_invite_all"' in page


# ---------------------------------------------------------------- escalations


def escalation(
    session: Session, customer: Customer, score: int, status: str, sla_minutes: int
) -> Escalation:
    response = answered(
        session, customer, score, f"score {score} comment", days_ago=0.01 * score + 0.01
    )
    row = Escalation(
        kind="detractor",
        response_id=response.id,
        customer_id=customer.id,
        rep_id=customer.rep_id,
        status=status,
        sla_due_at=utcnow() + timedelta(minutes=sla_minutes),
        resolution_note="Replaced the part" if status == "resolved" else None,
        resolved_at=utcnow() if status == "resolved" else None,
    )
    session.add(row)
    session.commit()
    return row


def test_escalations_are_listed_by_status_with_the_sla_countdown(
    client: TestClient, session: Session, cast: dict
) -> None:
    escalation(session, cast["en"], 2, "open", -30)
    escalation(session, cast["pl"], 4, "open", 95)
    escalation(session, cast["uk"], 5, "resolved", 0)
    page = client.get("/admin/escalations").text
    assert "overdue by 30 min" in page or "overdue by 29 min" in page
    assert "due in 1 h 3" in page
    assert "Replaced the part" in page and "John Smith" in page and "Anna Kowalska" in page
    assert "score 2 comment" in page


def test_acknowledge_and_resolve_change_the_escalation(
    client: TestClient, session: Session, cast: dict
) -> None:
    row = escalation(session, cast["en"], 2, "open", 60)
    csrf = token(client, "/admin/escalations")
    client.post(f"/admin/escalations/{row.id}/acknowledge", data={"csrf_token": csrf})
    session.expire_all()
    assert session.get(Escalation, row.id).status == "acknowledged"
    page = client.get("/admin/escalations").text
    assert "Acknowledge</button>" not in page  # only open ones can be acknowledged
    no_note = client.post(f"/admin/escalations/{row.id}/resolve", data={"csrf_token": csrf})
    assert no_note.status_code == 422  # resolving says what was done
    client.post(
        f"/admin/escalations/{row.id}/resolve",
        data={"csrf_token": csrf, "note": "Called him, replaced the mat"},
    )
    session.expire_all()
    resolved = session.get(Escalation, row.id)
    assert (resolved.status, resolved.resolution_note) == (
        "resolved",
        "Called him, replaced the mat",
    )
    assert "Called him, replaced the mat" in client.get("/admin/escalations").text


# ---------------------------------------------------------------- simulator


def survey_sent(session: Session, customer: Customer) -> CheckIn:
    """A survey that went out an hour ago, with its message and 0–10 buttons, as dispatch leaves it."""
    sent = utcnow() - timedelta(hours=1)
    checkin = CheckIn(
        customer_id=customer.id,
        kind="post_delivery",
        dedupe_key="simulated",
        due_at=sent,
        status="sent",
        sent_at=sent,
        channel="console",
    )
    session.add(checkin)
    session.flush()
    message = queue_message(
        session,
        now=sent,
        channel="console",
        address=customer.phone or "",
        body=f"Hi {customer.first_name}, how likely are you to recommend Kowalski Motors?",
        purpose="survey",
        customer_id=customer.id,
        checkin_id=checkin.id,
        buttons=score_buttons(checkin.id),
    )
    message.status, message.sent_at = "sent", sent
    session.commit()
    return checkin


def test_the_simulator_shows_the_thread_with_score_buttons(
    client: TestClient, session: Session, cast: dict
) -> None:
    cast["en"].channel, cast["en"].telegram_chat_id = "telegram", 555001
    checkin = survey_sent(session, cast["en"])
    page = client.get("/admin/simulator?customer=cust-en").text
    assert "how likely are you to recommend Kowalski Motors?" in page
    assert page.count('name="score"') == 11
    assert f'name="checkin_id" value="{checkin.id}"' in page
    assert "Agnieszka" in page  # the customer picker


def test_a_typed_reply_goes_through_receive_and_the_answer_appears(
    app: FastAPI, client: TestClient, session: Session, cast: dict
) -> None:
    survey_sent(session, cast["en"])
    page = client.get("/admin/simulator?customer=cust-en").text
    answer = client.post(
        "/admin/simulator/cust-en/reply",
        data={"text": "9", "csrf_token": csrf_of(page)},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "Thank you so much, John!" in answer.text
    assert "https://g.page/r/kowalski/review" in answer.text
    session.expire_all()
    response = session.scalars(select(Response)).one()
    assert (response.score, response.channel) == (9, "sms")  # John's real channel
    inbound = session.scalars(select(Message).where(Message.direction == "in")).one()
    assert inbound.provider_id.startswith("sim-") and inbound.address == "+14155550101"
    console = app.state.transports.fallback
    assert any("Thank you so much, John!" in text for text in console.to("+14155550101"))
    # Speaking as a customer changes real data: the trail says which admin did it.
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "simulator.reply")).one()
    assert (entry.actor, entry.target, entry.detail) == ("admin (admin)", "cust-en", "wrote '9'")


def test_pressing_a_score_button_records_that_score(
    client: TestClient, session: Session, cast: dict
) -> None:
    checkin = survey_sent(session, cast["en"])
    page = client.get("/admin/simulator?customer=cust-en").text
    answer = client.post(
        "/admin/simulator/cust-en/button",
        data={"checkin_id": str(checkin.id), "score": "3", "csrf_token": csrf_of(page)},
    )
    assert answer.status_code == 303  # without htmx: back to the simulator page
    followed = client.get(answer.headers["location"]).text
    assert "sorry to hear that, John" in followed
    session.expire_all()
    assert session.scalars(select(Response.score)).one() == 3
    assert session.scalars(select(Escalation)).one().status == "open"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "simulator.reply")).one()
    assert entry.detail == "pressed 3"
    bad = client.post(
        "/admin/simulator/cust-en/button",
        data={"checkin_id": str(checkin.id), "score": "11", "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 422


def test_the_scheduler_button_runs_a_pass_and_reports_it(
    client: TestClient, session: Session
) -> None:
    page = client.get("/admin/simulator").text
    answer = client.post(
        "/admin/simulator/tick", data={"csrf_token": csrf_of(page)}, headers={"HX-Request": "true"}
    )
    assert answer.status_code == 200
    assert "Scheduler pass done." in answer.text and "tick at " in answer.text
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "simulator.tick")).one()
    assert entry.actor == "admin (admin)" and "tick at " in entry.detail


def test_static_files_are_served_by_name_only(anonymous: TestClient) -> None:
    assert anonymous.get("/admin/static/htmx.min.js").status_code == 200
    assert "text/css" in anonymous.get("/admin/static/admin.css").headers["content-type"]
    assert anonymous.get("/admin/static/..%2Fadmin%2Fauth.py").status_code == 404
    assert anonymous.get("/admin/static/app.py").status_code == 404


def test_the_failure_log_forgets_quiet_clients(anonymous: TestClient, session: Session) -> None:
    from models import LoginThrottle

    long_ago = utcnow() - timedelta(hours=1)
    session.add_all(
        LoginThrottle(key=f"address:10.0.0.{n}", failures=9, last_failure_at=long_ago)
        for n in range(50)
    )
    session.commit()
    log_in(anonymous, "admin", "wrong")
    session.expire_all()
    keys = set(session.scalars(select(LoginThrottle.key)))
    assert keys == {"address:testclient", "account:admin"}  # only the attempt just made


def test_the_settings_page_shows_the_channel_status(client: TestClient) -> None:
    page = client.get("/admin/settings").text
    assert "Channels" in page and "console" in page and "TELEGRAM_BOT_TOKEN" in page


def test_admin_404_and_403_are_html_pages_while_the_api_stays_json(
    client: TestClient, anonymous: TestClient
) -> None:
    for path in ("/admin/no-such-page", "/admin/customers/no-such-customer"):
        missing = client.get(path, headers={"Accept": "text/html"})
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "<!doctype html>" in missing.text.lower() and "not found" in missing.text.lower()
        assert '{"detail"' not in missing.text
    forbidden = client.post("/admin/settings", data={}, headers={"Accept": "text/html"})
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in forbidden.text.lower()
    api = anonymous.get("/api/customers/nobody", headers={"Authorization": "Bearer wrong"})
    assert api.headers["content-type"].startswith("application/json")


def test_the_preview_uses_the_business_name_and_counts_segments_only_for_sms(
    client: TestClient,
) -> None:
    csrf = token(client, "/admin/templates/survey_periodic/en")
    path = "/admin/templates/survey_periodic/en/preview"
    body = "Thanks from {{ business_name }}!"
    sms = client.post(path, data={"body": body, "csrf_token": csrf, "channel": "sms"}).text
    assert "Thanks from Kowalski Motors!" in sms and "Northwind" not in sms
    assert "segment" in sms
    telegram = client.post(
        path, data={"body": body, "csrf_token": csrf, "channel": "telegram"}
    ).text
    assert "Thanks from Kowalski Motors!" in telegram
    assert "segment" not in telegram and "GSM-7" not in telegram
    assert "Telegram" in telegram


@pytest.mark.parametrize("language", ["en", "pl", "th"])
def test_a_survey_without_a_0_to_10_question_is_refused(
    client: TestClient, session: Session, language: str
) -> None:
    answer = save_template(
        client, "Hi {{ first_name }}, how was it? STOP to opt out.", "survey_periodic", language
    )
    assert answer.status_code == 422 and "Not saved." in answer.text and "0" in answer.text
    assert "0 to 10" in answer.text
    assert versions(session) == []


@pytest.mark.parametrize("language", ["en", "uk", "th"])
def test_a_survey_without_the_opt_out_line_is_refused(
    client: TestClient, session: Session, language: str
) -> None:
    answer = save_template(
        client, "Hi {{ first_name }}, how likely are you to recommend us? Reply 0-10.",
        "survey_service", language,
    )  # fmt: skip
    assert answer.status_code == 422 and "Not saved." in answer.text
    assert "opt out" in answer.text and "STOP" in answer.text
    assert versions(session) == []


def test_every_shipped_survey_passes_the_survey_check(client: TestClient, session: Session) -> None:
    from messaging.render import template_source

    for key in ("survey_post_delivery", "survey_periodic", "survey_service", "survey_recovery"):
        for language in ("en", "pl", "uk", "ru", "th"):
            body, _used = template_source(key, language)
            assert save_template(client, body, key, language).status_code == 303, (key, language)


def test_the_preview_warns_of_a_survey_without_the_opt_out_line(client: TestClient) -> None:
    csrf = token(client, "/admin/templates/survey_periodic/en")
    shown = client.post(
        "/admin/templates/survey_periodic/en/preview",
        data={"body": "Hi {{ first_name }}! Reply 0-10.", "csrf_token": csrf, "channel": "sms"},
    ).text
    assert "opt-out" in shown and "STOP" in shown


def test_an_old_version_shows_its_diff_against_the_text_in_force(client: TestClient) -> None:
    assert save_template(client, "Need help?\nCall {{ business_name }}.").status_code == 303
    assert save_template(client, "Need help?\nWrite to {{ business_name }}.").status_code == 303
    old = client.get("/admin/templates/help/en/versions/1").text
    assert 'class="diff"' in old
    assert "-Call {{ business_name }}." in old and "+Write to {{ business_name }}." in old
    assert " Need help?" in old


def test_the_simulator_is_off_unless_switched_on(db: sessionmaker[Session]) -> None:
    assert Settings().simulator is False
    app, _console = make_app(db, simulator=False)
    with TestClient(app, follow_redirects=False) as off:
        assert log_in(off).status_code == 303
        assert "/admin/simulator" not in off.get("/admin/").text
        for path in ("/admin/simulator", "/admin/simulator/cust-en/thread"):
            assert off.get(path).status_code == 404
        csrf = csrf_of(off.get("/admin/settings").text)
        reply = off.post("/admin/simulator/cust-en/reply", data={"text": "9", "csrf_token": csrf})
        assert reply.status_code == 404


def test_the_simulator_shows_an_sms_customer_no_telegram_buttons_and_records_sms(
    client: TestClient, session: Session, cast: dict
) -> None:
    survey_sent(session, cast["en"])  # John's channel is SMS
    page = client.get("/admin/simulator?customer=cust-en").text
    assert "how likely are you to recommend Kowalski Motors?" in page
    assert 'name="score"' not in page
    client.post("/admin/simulator/cust-en/reply", data={"text": "9", "csrf_token": csrf_of(page)})
    session.expire_all()
    inbound = session.scalars(
        select(Message).where(Message.direction == "in", Message.customer_id == cast["en"].id)
    ).all()
    assert [m.channel for m in inbound] == ["sms"]
