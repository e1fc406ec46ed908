"""The email channel end to end: the real SMTP client (aiosmtplib) to a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest

from messaging.channels import SendError, Transports
from messaging.channels.base import ErrorKind
from messaging.channels.email import EmailChannel, Server
from messaging.channels.network import NETWORK
from models import CheckIn, Customer
from settings import Settings
from tests.channel_support import NOW, channel_settings, drain_now, messages, survey_for
from tests.email_support import PUBLIC, SCORE_LINK, send_surveys, text_and_html
from tests.fakes.smtp_server import FakeSmtp, free_port

pytest_plugins = ["tests.conftest_channels", "tests.conftest_email"]

SENDER = "Kowalski Motors <care@kowalski.example>"
LINK_SECRET = "email-links-test-secret-0123456789"


def email_settings(fake: FakeSmtp, **overrides: object) -> Settings:
    return channel_settings(
        smtp_url=fake.url, email_from=SENDER, session_secret=LINK_SECRET, **overrides
    )


@pytest.fixture
def email(fake_smtp: FakeSmtp) -> EmailChannel:
    return EmailChannel(email_settings(fake_smtp))


def on_email(session, customer: Customer, address: str = "john@example.com") -> Customer:  # type: ignore[no-untyped-def]
    customer.email, customer.channel = address, "email"
    session.commit()
    return customer


def test_a_survey_arrives_as_an_email_with_message_id_date_and_reply_to(
    db, session, cast, email, fake_smtp
) -> None:
    john = on_email(session, cast["en"])
    checkin = survey_for(session, john, channel="email", address="john@example.com")
    report = drain_now(db, Transports(by_channel={"email": email}))
    assert report["sent"] == 1
    [got] = fake_smtp.received
    assert got.recipients == ["john@example.com"]
    mail = got.message
    assert mail["To"] == "john@example.com" and mail["From"] == SENDER
    assert mail["Reply-To"] == SENDER and mail["Date"] and mail["Message-ID"]
    assert mail["Subject"].startswith("Hi John")
    [sent] = messages(session, direction="out")
    assert (sent.status, sent.provider_id) == ("sent", mail["Message-ID"])
    assert session.get_one(CheckIn, checkin.id).status == "sent"


def test_no_such_mailbox_marks_the_address_dead_and_the_survey_goes_by_sms(
    db, session, cast, email, fake_smtp, fake_twilio, sms
) -> None:
    john = on_email(session, cast["en"])
    fake_smtp.refuse("john@example.com")  # 550 5.1.1 No such user here
    checkin = survey_for(session, john, channel="email", address="john@example.com")
    report = drain_now(db, Transports(by_channel={"email": email, "sms": sms}))
    assert (report["unreachable"], report["sent"]) == (1, 1)
    session.expire_all()
    assert session.get_one(Customer, john.id).email_unreachable_at == NOW
    assert fake_smtp.received == []
    [texted] = fake_twilio.messages
    assert texted["to"] == john.phone
    dead, resent = messages(session, direction="out")
    assert (dead.channel, dead.status, resent.channel, resent.status) == (
        "email",
        "failed",
        "sms",
        "sent",
    )
    assert session.get_one(CheckIn, checkin.id).channel == "sms"


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        ("450 4.2.1 Mailbox busy, try later", ErrorKind.TRANSIENT),
        ("421 4.7.0 Too many connections", ErrorKind.THROTTLED),
        ("552 5.2.2 Mailbox full", ErrorKind.PERMANENT),
        ("554 5.7.1 Rejected by policy", ErrorKind.PERMANENT),
        ("550 5.1.1 User unknown", ErrorKind.UNREACHABLE),
    ],
)
def test_smtp_replies_are_classified(email, fake_smtp, reply: str, kind: ErrorKind) -> None:
    fake_smtp.refuse("ola@example.com", reply)
    with pytest.raises(SendError) as caught:
        NETWORK.call(email.send("ola@example.com", "Hi Ola"), timeout=10)
    assert caught.value.kind is kind and caught.value.code == reply[:3]


def test_a_server_that_is_not_listening_is_transient() -> None:
    url = f"smtp://127.0.0.1:{free_port()}"  # bound a moment ago, listened on by nobody
    channel = EmailChannel(
        channel_settings(smtp_url=url, email_from=SENDER, session_secret=LINK_SECRET)
    )
    with pytest.raises(SendError) as caught:
        NETWORK.call(channel.send("ola@example.com", "Hi Ola"), timeout=10)
    assert caught.value.kind is ErrorKind.TRANSIENT


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtps://u:p%40ss@mail.example:465", ("mail.example", 465, True, None, "u", "p@ss")),
        ("smtp://u:p@mail.example", ("mail.example", 587, False, True, "u", "p")),
        ("smtp://127.0.0.1:2525", ("127.0.0.1", 2525, False, None, None, None)),
        ("smtp://localhost:25", ("localhost", 25, False, None, None, None)),
    ],
)
def test_the_url_says_how_to_connect_and_starttls_is_required_off_this_machine(
    url: str, expected: tuple[object, ...]
) -> None:
    server = Server.from_url(url)
    found = (server.host, server.port, server.implicit_tls, server.start_tls)
    assert (*found, server.username, server.password) == expected


# -- the survey email ------------------------------------------------------------------

LANGUAGES = ("en", "pl", "uk", "ru", "th")
SUBJECT_WORDS = {
    "en": "how are you getting on with your Skoda Octavia?",
    "pl": "jak sprawdza się Skoda Octavia?",
    "uk": "як вам Skoda Octavia?",
    "ru": "как вам Skoda Octavia?",
    "th": "ใช้ Skoda Octavia เป็นอย่างไรบ้างคะ",
}
FOOTER_WORDS = {
    "en": "Unsubscribe",
    "pl": "Wypisz się",
    "uk": "Відписатися",
    "ru": "Отписаться",
    "th": "ยกเลิกการรับอีเมล",
}


def test_the_survey_email_in_each_language_with_eleven_links_and_one_click_unsubscribe(
    db, session, cast, fake_smtp
) -> None:
    mails = send_surveys(db, session, [cast[language] for language in LANGUAGES], fake_smtp)
    assert len(mails) == 5
    for language in LANGUAGES:
        customer = cast[language]
        mail = mails[f"{customer.external_id}@example.com"]
        first = customer.name.split()[0]
        assert mail["Subject"].startswith(first if language != "th" else f"คุณ{first}")
        assert SUBJECT_WORDS[language] in mail["Subject"]
        plain, html = text_and_html(mail)
        assert first in plain and first in html and "Skoda Octavia" in html
        links = SCORE_LINK.findall(html)
        assert [int(score) for _, score in links] == list(range(11))
        assert len({token for token, _ in links}) == 1  # one check-in's token
        assert SCORE_LINK.findall(plain) == links
        assert "<script" not in html and "<img" not in html and "<table" in html
        assert FOOTER_WORDS[language] in html and FOOTER_WORDS[language] in plain
        https, mailto = [part.strip(" <>") for part in mail["List-Unsubscribe"].split(",")]
        assert https.startswith(f"{PUBLIC}/u/") and https in html
        assert mailto == "mailto:care@kowalski.example?subject=unsubscribe"
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_names_and_products_are_escaped_in_the_html(db, session, cast, fake_smtp) -> None:
    john = cast["en"]
    john.name = "<b>John&Co</b> Smith"
    session.commit()
    [mail] = send_surveys(db, session, [john], fake_smtp).values()
    plain, html = text_and_html(mail)
    assert "<b>John" not in html and "&lt;b&gt;John&amp;Co&lt;/b&gt;" in html
    assert "Hi <b>John&Co</b>," in plain  # plain text is plain


def test_a_survey_rerouted_to_email_keeps_its_score_links(
    db, session, cast, email, fake_smtp, fake_telegram, telegram_channel
) -> None:
    olena = cast["uk"]
    olena.telegram_chat_id, olena.channel, olena.phone = 4242, "telegram", None
    olena.email = "olena@example.com"
    session.commit()
    fake_telegram.block_chat(4242)
    survey_for(session, olena, channel="telegram", address="4242", keyboard=True)
    transports = Transports(by_channel={"telegram": telegram_channel, "email": email})
    assert drain_now(db, transports)["unreachable"] == 1
    [got] = fake_smtp.received
    _, html = text_and_html(got.message)
    assert [int(score) for _, score in SCORE_LINK.findall(html)] == list(range(11))


def test_reply_to_is_the_setting_else_the_customers_rep_else_the_business(
    db, session, cast, fake_smtp
) -> None:
    """Issue 12: "optional AFTERCARE_EMAIL_REPLY_TO, default the customer's rep's email, else
    the business's": the setting wins when set, else the rep's address, else From."""
    from tests.email_support import send_surveys, survey_settings

    rep = cast["rep"]
    rep.email = "anna.kowalska@kowalski.example"
    orphan = cast["uk"]
    orphan.rep = None
    session.commit()
    # Unset: the customer's rep's email; a customer without a rep gets the business's From.
    mails = send_surveys(db, session, [cast["en"], orphan], fake_smtp)
    assert mails["cust-en@example.com"]["Reply-To"] == "anna.kowalska@kowalski.example"
    assert mails["cust-uk@example.com"]["Reply-To"] == SENDER
    # The one-click mailto stays the business's inbox, never the rep's.
    assert "care@kowalski.example" in mails["cust-en@example.com"]["List-Unsubscribe"]
    assert "anna.kowalska" not in mails["cust-en@example.com"]["List-Unsubscribe"]
    # Set: it wins, even over a rep who has an email.
    fake_smtp.received.clear()
    settings = survey_settings(fake_smtp, email_reply_to="Team <team@kowalski.example>")
    [mail] = send_surveys(db, session, [cast["pl"]], fake_smtp, settings).values()
    assert mail["Reply-To"] == "Team <team@kowalski.example>"
    assert "team@kowalski.example" in mail["List-Unsubscribe"]
    # Unset, and the rep has no email: the business's From.
    fake_smtp.received.clear()
    rep.email = None
    session.commit()
    [mail] = send_surveys(db, session, [cast["ru"]], fake_smtp).values()
    assert mail["Reply-To"] == SENDER


def test_an_email_to_the_team_keeps_every_paragraph_and_offers_no_unsubscribe(email) -> None:
    """A text shaped like a customer email (subject, paragraphs, last line) sent to a rep:
    with no unsubscribe link to hang the last line on, it stays a paragraph of the body."""
    text = "Weekly summary\n\nThree complaints are open.\n\nSee the dashboard for details."
    mail = email.message("anna@kowalski.example", text, to_team=True)
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    for part in (plain.get_content(), html.get_content()):
        assert "Three complaints are open." in part
        assert "See the dashboard for details." in part
        assert "/u/" not in part
    assert mail["List-Unsubscribe"] is None
    # The same text to a customer: the last line is the unsubscribe link's words.
    to_customer = email.message("john@example.com", text)
    assert to_customer["List-Unsubscribe"] is not None
    customer_plain = to_customer.get_body(("plain",))
    assert (
        customer_plain is not None
        and "See the dashboard for details.: http" in customer_plain.get_content()
    )
