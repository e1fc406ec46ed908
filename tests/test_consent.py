"""The consent record: every opt-out and opt-in, with its source and the customer's words."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from messaging.consent import consent_history
from models import ConsentEvent, Escalation
from settings import Settings
from tests.conftest import at
from tests.conversation_support import JOHN, sent_survey
from tests.test_admin import csrf_of, make_app
from tests.test_admin import log_in as admin_log_in
from web.app import create_app


def test_a_stop_keyword_is_recorded_with_its_channel_and_message(session, cast, phone) -> None:
    john = cast["en"]
    phone.say(JOHN, "STOP", "2026-03-02 15:00")
    [event] = consent_history(session, john.id)
    assert (event.action, event.source, event.channel, event.detail) == (
        "opt_out",
        "keyword",
        "sms",
        "STOP",
    )
    assert event.at == at("2026-03-02 15:00") and event.message_id is not None
    phone.say(JOHN, "START", "2026-03-05 10:00")
    later = consent_history(session, john.id)
    assert [(e.action, e.source) for e in later] == [("opt_out", "keyword"), ("opt_in", "keyword")]


def test_a_second_stop_records_nothing_more_and_sends_nothing_more(session, cast, phone) -> None:
    phone.say(JOHN, "STOP", "2026-03-02 15:00")
    phone.say(JOHN, "stop!!", "2026-03-02 15:02")
    assert len(consent_history(session, cast["en"].id)) == 1
    assert len(phone.received(JOHN)) == 1  # one confirmation, nothing after it


def test_an_opt_out_in_their_own_words_is_recorded_and_a_human_reads_the_rest(
    session, cast, phone
) -> None:
    sent_survey(session, cast["en"])
    text = "Please stop texting me, the car broke down twice and nobody called back"
    assert phone.say(JOHN, text, "2026-03-02 15:10").action == "stop"
    [event] = consent_history(session, cast["en"].id)
    assert (event.source, event.detail) == ("reply", text)
    [confirmation] = phone.received(JOHN)  # only the confirmation, which says how to return
    assert "START" in confirmation
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.kind == "needs_answer"  # the rep reads the complaint


def test_the_api_answers_when_and_how_a_customer_opted_out(db, session, cast, phone) -> None:
    phone.say(JOHN, "unsubscribe me", "2026-03-02 15:00")
    client = TestClient(create_app(db, Settings(api_token="secret")))
    headers = {"Authorization": "Bearer secret"}
    [event] = client.get("/api/customers/cust-en/consent", headers=headers).json()
    assert event == {
        "at": "2026-03-02T15:00:00+00:00",
        "action": "opt_out",
        "source": "reply",
        "channel": "sms",
        "message_id": event["message_id"],
        "detail": "unsubscribe me",
    }
    assert client.get("/api/customers/nobody/consent", headers=headers).status_code == 404
    assert client.get("/api/customers/cust-en/consent").status_code == 401


def test_admins_see_the_record_and_export_it_as_csv(db, session, cast, phone) -> None:
    phone.say(JOHN, "STOP", "2026-03-02 15:00")
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        assert admin_log_in(client).status_code == 303
        page = client.get("/admin/customers/cust-en").text
        assert "Consent" in page and "opted out" in page and "STOP" in page
        one = client.get("/admin/customers/cust-en/consent.csv")
        everyone = client.get("/admin/consent.csv")
    assert one.headers["content-type"].startswith("text/csv")
    assert 'filename="consent-cust-en.csv"' in one.headers["content-disposition"]
    for answer in (one, everyone):
        assert answer.text.startswith("\ufeff")  # the BOM: Excel then reads UTF-8
        [row] = list(csv.DictReader(io.StringIO(answer.text.removeprefix("\ufeff"))))
        assert (row["customer_external_id"], row["action"], row["source"], row["detail"]) == (
            "cust-en",
            "opt_out",
            "keyword",
            "STOP",
        )
        assert row["at"] == "2026-03-02T15:00:00+00:00"


def test_the_consent_export_never_hands_a_spreadsheet_a_formula(db, session, cast) -> None:
    app, _ = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        assert admin_log_in(client).status_code == 303
        csrf = csrf_of(client.get("/admin/customers/cust-en").text)
        note = '=HYPERLINK("http://evil.example","Fix")'
        client.post(
            "/admin/customers/cust-en/consent",
            data={"action": "opt_out", "note": note, "csrf_token": csrf},
        )
        answer = client.get("/admin/consent.csv")
    [row] = list(csv.DictReader(io.StringIO(answer.text.removeprefix("\ufeff"))))
    assert row["detail"].startswith("'=HYPERLINK(")


def test_the_record_only_grows(session, cast, phone) -> None:
    for when, text in (("15:00", "STOP"), ("16:00", "START"), ("17:00", "stop texting me")):
        phone.say(JOHN, text, f"2026-03-02 {when}")
    actions = [e.action for e in session.scalars(select(ConsentEvent).order_by(ConsentEvent.id))]
    assert actions == ["opt_out", "opt_in", "opt_out"]


def test_a_probable_opt_out_stops_everything_and_a_human_reads_it(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    assert phone.say(JOHN, "Enough with the texts", "2026-03-02 15:10").action == "stop"
    [event] = consent_history(session, cast["en"].id)
    assert (event.action, event.source) == ("opt_out", "reply")
    [confirmation] = phone.received(JOHN)  # one confirmation that says how to come back
    assert "START" in confirmation
    [escalation] = session.scalars(select(Escalation)).all()
    assert escalation.kind == "needs_answer"  # in case they meant something else


def test_near_misses_opt_nobody_out(session, cast, phone) -> None:
    sent_survey(session, cast["en"])
    for when, text in (("15:05", "the courier didn't stop at my door, 6"),):
        assert phone.say(JOHN, text, f"2026-03-02 {when}").action == "scored"
    assert consent_history(session, cast["en"].id) == []
    assert session.get_one(type(cast["en"]), cast["en"].id).opted_out_at is None


def test_an_admin_records_an_opt_out_that_came_by_phone_and_the_opt_in_after(
    db, session, cast
) -> None:
    from tests.test_admin import csrf_of

    app, console = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        assert admin_log_in(client).status_code == 303
        page = client.get("/admin/customers/cust-en").text
        assert "Record opt-out" in page
        token = csrf_of(page)
        url = "/admin/customers/cust-en/consent"
        refused = client.post(url, data={"csrf_token": token, "action": "opt_out", "note": " "})
        assert refused.status_code == 422  # how they asked must be said
        done = client.post(
            url, data={"csrf_token": token, "action": "opt_out", "note": "phone call, 2 March"}
        )
        assert done.status_code == 303
        back = client.post(
            url, data={"csrf_token": token, "action": "opt_in", "note": "signed form in store"}
        )
        assert back.status_code == 303
    session.expire_all()
    events = consent_history(session, cast["en"].id)
    assert [(e.action, e.source) for e in events] == [("opt_out", "admin"), ("opt_in", "admin")]
    assert events[0].detail == "phone call, 2 March (recorded by admin)"
    assert console.sent == []  # nobody texted us: no confirmation goes out
