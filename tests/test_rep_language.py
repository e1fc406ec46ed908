"""Reps read and write their own language: alerts, replies and command words (issue 14).

The database-facing tests run on SQLite and PostgreSQL (the `db` fixture).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cadence.rules import CadenceRules
from escalation.commands import Command, looks_like_rep_command, parse_command
from escalation.opening import open_escalation
from importing import ImportErrors, import_csv
from messaging import rep_verbs
from messaging.channels import Transports
from messaging.compose import TemplateBook
from messaging.outbox import drain
from messaging.render import LANGUAGES, render, sample_context
from models import Escalation, Rep, Response
from settings import Settings
from tests import conversation_support
from tests.conftest import at
from tests.conversation_support import Phone, sent_survey
from tests.test_admin import csrf_of, log_in, make_app
from tests.test_api import AUTH, make_client

JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep (conftest's cast)


def only_escalation(session: Session) -> Escalation:
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    return escalation


def speaks(session: Session, rep: Rep, language: str | None) -> None:
    rep.language = language
    session.commit()


def detractor(session: Session, cast, phone: Phone) -> str:  # type: ignore[no-untyped-def]
    """John scores 3 at 16:00; the alert Anna got."""
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3 it rattles", "2026-03-02 16:00")
    [alert] = phone.received(ANNA)
    return alert


# -- the verb table --------------------------------------------------------------------


def test_every_language_has_a_word_for_every_action() -> None:
    assert set(rep_verbs.VERBS) == set(LANGUAGES)
    for table in rep_verbs.VERBS.values():
        assert set(table) == set(rep_verbs.ACTIONS)
        assert all(words for words in table.values())


def test_no_word_means_two_actions_in_any_two_languages() -> None:
    meaning: dict[str, str] = {}
    for table in rep_verbs.VERBS.values():
        for action, words in table.items():
            for word in words:
                assert meaning.setdefault(word.casefold(), action) == action, word


def test_no_command_word_is_a_word_customers_answer_a_survey_with() -> None:
    # A customer's "9", "ok", "dziękuję" or "спасибо" never names an action on its own.
    for reply in ("9", "10", "dziękuję", "спасибо", "дякую", "ขอบคุณครับ", "stop", "tak", "да"):
        assert rep_verbs.action_of(reply) is None
        assert not looks_like_rep_command(reply)


@pytest.mark.parametrize(
    ("text", "language", "command"),
    [
        ("OK 12", "pl", Command("ack", 12, "")),
        ("ok #12", "pl", Command("ack", 12, "")),
        ("BIORĘ 12", "pl", Command("ack", 12, "")),
        ("ZAŁATWIONE 12 wymieniono część", "pl", Command("resolve", 12, "wymieniono część")),
        ("załatwione 12 wymieniono część", "pl", Command("resolve", 12, "wymieniono część")),
        ("zalatwione 12 ok", "pl", Command("resolve", 12, "ok")),
        ("PRZEKAŻ 12 rep-2", "pl", Command("assign", 12, "rep-2")),
        ("ZAŁATWIONE", "pl", Command("resolve", None, "")),
        ("DONE 12 fixed", "pl", Command("resolve", 12, "fixed")),  # English works for everyone
        ("/ack 12", "pl", Command("ack", 12, "")),
        ("OK", "pl", None),  # "ok" alone is a chat reply, not ACK
        ("OK, dzięki", "pl", None),
        ("okej 12", "pl", None),
        ("załatwione wczoraj", "pl", None),
        ("беру 7", "uk", Command("ack", 7, "")),
        ("ВИРІШЕНО 7 замінили деталь", "uk", Command("resolve", 7, "замінили деталь")),
        ("ПЕРЕДАТИ 7 rep-2", "uk", Command("assign", 7, "rep-2")),
        ("Беру 7", "ru", Command("ack", 7, "")),
        ("решено 7 заменили деталь", "ru", Command("resolve", 7, "заменили деталь")),
        ("ПЕРЕДАТЬ 7 rep-2", "ru", Command("assign", 7, "rep-2")),
        ("รับเรื่อง 7", "th", Command("ack", 7, "")),
        ("ปิดเรื่อง 7 เปลี่ยนอะไหล่แล้ว", "th", Command("resolve", 7, "เปลี่ยนอะไหล่แล้ว")),
        ("โอนเรื่อง 7 rep-2", "th", Command("assign", 7, "rep-2")),
        ("OK 12", "en", None),  # another language's words are not an English rep's
        ("ZAŁATWIONE 12 note", "ru", None),
    ],
)  # fmt: skip
def test_commands_are_read_in_the_reps_language_and_in_english(
    text: str, language: str, command: Command | None
) -> None:
    assert parse_command(text, language) == command


@pytest.mark.parametrize(
    ("text", "is_command"),
    [
        ("ZAŁATWIONE 12 wymieniono część", True),
        ("беру 12", True),
        ("ปิดเรื่อง 12", True),
        (
            "OK 12",
            False,
        ),  # customers write "ok 10": from a rep who is also a customer, it is theirs
        ("ZAŁATWIONE", False),
        ("Беру", False),
    ],
)
def test_before_we_know_who_wrote_only_unambiguous_words_with_a_number_count(
    text: str, is_command: bool
) -> None:
    assert looks_like_rep_command(text) is is_command


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_in_each_language_lists_its_own_words_and_the_english_ones(language: str) -> None:
    context = sample_context("rep_reply_help", language)
    text = render("rep_reply_help", language, context)
    for action in rep_verbs.ACTIONS:
        assert f"{rep_verbs.teach(language)[action]} 12" in text, text
        assert f"{rep_verbs.teach('en')[action]} 12" in text, text
    if language != "en":
        assert text != render("rep_reply_help", "en", sample_context("rep_reply_help", "en"))


# -- alerts and replies, end to end ------------------------------------------------------


def test_a_polish_rep_gets_a_polish_alert(session, cast, phone) -> None:
    speaks(session, cast["rep"], "pl")
    alert = detractor(session, cast, phone)
    assert alert.startswith("Anna, John Smith czeka na kontakt: ocena 3/10."), alert
    assert "Język: angielski" in alert  # the customer's language, named in Polish
    assert "Odpisz OK 1, gdy się tym zajmiesz, a ZAŁATWIONE 1 z krótką notatką" in alert
    assert "Reply" not in alert


def test_a_rep_without_a_language_reads_the_businesss(session, cast, phone, monkeypatch) -> None:
    monkeypatch.setattr(
        conversation_support,
        "SETTINGS",
        Settings(business_name="Kowalski Motors", default_language="uk"),
    )
    alert = detractor(session, cast, phone)
    assert alert.startswith("Anna, клієнт John Smith чекає на ваш дзвінок"), alert


def test_an_english_rep_still_reads_english(session, cast, phone) -> None:
    alert = detractor(session, cast, phone)
    assert alert.startswith("Anna, John Smith needs you: score 3/10."), alert


def test_zalatwione_resolves_with_the_note_and_answers_in_polish(session, cast, phone) -> None:
    speaks(session, cast["rep"], "pl")
    detractor(session, cast, phone)

    taken = phone.say(ANNA, "OK 1", "2026-03-02 16:05")
    assert taken.detail == "acknowledged"
    assert phone.received(ANNA)[-1] == (
        "Zgłoszenie #1 jest Twoje: John Smith, +14155550101. Gdy sprawa będzie załatwiona, "
        "odpisz ZAŁATWIONE 1 z krótką notatką."
    )
    done = phone.say(ANNA, "ZAŁATWIONE 1 wymieniono część", "2026-03-02 16:30")

    assert done.detail == "resolved"
    escalation = only_escalation(session)
    assert (escalation.status, escalation.resolution_note) == ("resolved", "wymieniono część")
    assert phone.received(ANNA)[-1].startswith("Zgłoszenie #1 zamknięte, notatka zapisana.")


def test_english_commands_keep_working_for_a_polish_rep(session, cast, phone) -> None:
    speaks(session, cast["rep"], "pl")
    detractor(session, cast, phone)
    assert phone.say(ANNA, "/resolve 1", "2026-03-02 16:05").detail == "note_requested"
    assert phone.received(ANNA)[-1].startswith("Jak załatwiono zgłoszenie #1?")
    assert phone.say(ANNA, "wymieniono część", "2026-03-02 16:06").detail == "resolved"
    assert only_escalation(session).resolution_note == "wymieniono część"


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_answers_in_the_reps_language_with_their_words(
    session, cast, phone, language: str
) -> None:
    speaks(session, cast["manager"], language)
    phone.say("+48600000001", "?", "2026-03-02 16:00")
    [help_text] = phone.received("+48600000001")
    for action in rep_verbs.ACTIONS:  # the manager may assign, so all three are listed
        assert f"{rep_verbs.teach(language)[action]} 12" in help_text, help_text


def test_an_english_reps_ok_is_not_a_command(session, cast, phone) -> None:
    detractor(session, cast, phone)
    assert phone.say(ANNA, "OK 1", "2026-03-02 16:05").detail == "help"
    assert only_escalation(session).status == "open"


def test_editing_the_polish_rep_alert_changes_the_next_polish_alert(
    db: sessionmaker[Session], session, cast, phone
) -> None:
    speaks(session, cast["rep"], "pl")
    app, _console = make_app(db)
    body = (
        "{{ first_name }}: PILNE #{{ escalation_id }}, {{ customer_name }}, ocena {{ score }}/10."
    )
    with TestClient(app, follow_redirects=False) as client:
        assert log_in(client).status_code == 303
        page = client.get("/admin/templates/rep_alert/pl")
        assert page.status_code == 200
        saved = client.post(
            "/admin/templates/rep_alert/pl", data={"body": body, "csrf_token": csrf_of(page.text)}
        )
        assert saved.status_code == 303, saved.text
        listing = client.get("/admin/templates").text
        assert "rep_reply_help" in listing  # the replies are editable too

    assert detractor(session, cast, phone) == "Anna: PILNE #1, John Smith, ocena 3/10."


def test_editing_a_reply_changes_what_the_rep_reads(
    db: sessionmaker[Session], session, cast, phone
) -> None:
    speaks(session, cast["rep"], "pl")
    app, _console = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client)
        page = client.get("/admin/templates/rep_reply_resolved/pl")
        saved = client.post(
            "/admin/templates/rep_reply_resolved/pl",
            data={"body": "Gotowe, #{{ escalation_id }}.", "csrf_token": csrf_of(page.text)},
        )
        assert saved.status_code == 303, saved.text
    detractor(session, cast, phone)
    phone.say(ANNA, "ZAŁATWIONE 1 wymieniono część", "2026-03-02 16:30")
    assert phone.received(ANNA)[-1] == "Gotowe, #1."


# -- CSV and API -------------------------------------------------------------------------

NOW = at("2026-03-01 12:00")


def test_the_reps_csv_takes_an_optional_language(session: Session) -> None:
    header = "external_id,name,phone,role,language"
    import_csv(
        session,
        "reps",
        io.StringIO(f"{header}\nrep-a,Anna,+48600000011,rep,pl\nrep-b,Bogdan,+48600000012,rep,\n"),
        now=NOW,
        default_tz="UTC",
    )
    session.commit()
    languages = dict(session.execute(select(Rep.external_id, Rep.language)).all())
    assert languages == {"rep-a": "pl", "rep-b": None}
    # A file without the column keeps importing, and keeps what is stored.
    import_csv(
        session,
        "reps",
        io.StringIO("external_id,name\nrep-a,Anna Kowalska\n"),
        now=NOW,
        default_tz="UTC",
    )
    session.commit()
    session.expire_all()
    assert session.scalars(select(Rep.language).where(Rep.external_id == "rep-a")).one() == "pl"


def test_a_bad_language_in_the_reps_csv_names_the_line_and_column(session: Session) -> None:
    source = io.StringIO("external_id,name,language\nrep-a,Anna,pl\nrep-b,Bogdan,de\n")
    with pytest.raises(ImportErrors) as caught:
        import_csv(session, "reps", source, now=NOW, default_tz="UTC")
    assert [(e.line, e.column, e.message) for e in caught.value.errors] == [
        (3, "language", "'de' is not one of en, pl, uk, ru, th")
    ]


@pytest.fixture
def api(db: sessionmaker[Session]) -> Iterator[TestClient]:
    with make_client(db) as client:
        yield client


def test_the_api_writes_and_returns_a_reps_language(api: TestClient) -> None:
    made = api.post(
        "/api/reps", json={"external_id": "rep-a", "name": "Anna", "language": "PL"}, headers=AUTH
    )
    assert made.status_code == 201, made.text
    assert made.json()["language"] == "pl"
    kept = api.post("/api/reps", json={"external_id": "rep-a", "name": "Anna K"}, headers=AUTH)
    assert kept.json()["language"] == "pl"
    fresh = api.post("/api/reps", json={"external_id": "rep-b", "name": "Bob"}, headers=AUTH)
    assert fresh.json()["language"] is None  # the business's


def test_the_api_refuses_a_bad_language(api: TestClient) -> None:
    answer = api.post(
        "/api/reps", json={"external_id": "rep-a", "name": "Anna", "language": "de"}, headers=AUTH
    )
    assert answer.status_code == 422
    assert "'de' is not one of en, pl, uk, ru, th" in answer.text


def test_a_bad_business_language_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="AFTERCARE_DEFAULT_LANGUAGE='de' is not one of"):
        Settings(default_language="de")


def test_an_admin_sets_a_reps_language_on_the_users_page(
    db: sessionmaker[Session], session, cast, phone
) -> None:
    app, _console = make_app(db)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client)
        page = client.get("/admin/users")
        assert "Reps' languages" in page.text and "Anna Kowalska" in page.text
        csrf = csrf_of(page.text)
        bad = client.post("/admin/reps/rep-1/language", data={"language": "de", "csrf_token": csrf})
        assert bad.status_code == 422
        assert "language: &#39;de&#39; is not one of en, pl, uk, ru, th" in bad.text
        saved = client.post(
            "/admin/reps/rep-1/language", data={"language": "th", "csrf_token": csrf}
        )
        assert saved.status_code == 303
        assert 'value="th" selected' in client.get("/admin/users").text
        missing = client.post(
            "/admin/reps/rep-9/language", data={"language": "th", "csrf_token": csrf}
        )
        assert missing.status_code == 404

    assert detractor(session, cast, phone).startswith("Anna ลูกค้า John Smith รอการติดต่อ")


def test_a_polish_rep_on_telegram_gets_polish_text_and_buttons(db, session, cast, console) -> None:
    anna = cast["rep"]
    anna.telegram_chat_id, anna.language = 777001, "pl"
    session.commit()
    checkin = sent_survey(session, cast["en"])
    checkin.status = "answered"
    response = Response(
        checkin_id=checkin.id,
        customer_id=checkin.customer_id,
        score=1,
        category="detractor",
        comment="",
        received_at=at("2026-03-02 16:00"),
    )
    session.add(response)
    session.flush()
    settings = Settings(public_url="https://care.example.com/")
    open_escalation(
        session,
        at("2026-03-02 16:00"),
        customer=cast["en"],
        kind="detractor",
        response=response,
        rules=CadenceRules(),
        settings=settings,
        book=TemplateBook.load(session),
    )
    session.commit()
    drain(db, at("2026-03-02 16:00"), Transports(fallback=console), settings=Settings())

    [sent] = [m for m in console.sent if m.to == "777001"]
    assert "Przyciskami poniżej przejmij zgłoszenie" in sent.text, sent.text
    assert [[b.text for b in row] for row in sent.buttons or []] == [
        ["Biorę", "Załatwione"],
        ["Karta klienta"],
    ]
