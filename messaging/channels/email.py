"""The email channel: SMTP through aiosmtplib's async client.

SMTP's reply codes live here, and only here: 4xx is "try again later", 5xx is
"this will not go", and a 550-family refusal of the recipient ("no such user")
says the mailbox is dead, so the outbox marks it and reaches the customer on
another channel. Email cannot be asked afterwards whether a message went
(`can_look_up` is False): a timeout after the data was handed over is uncertain,
and never resent blindly by the channel itself.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import quote, unquote, urlsplit

import aiosmtplib

from clock import utcnow
from messaging import links
from messaging.channels.base import Buttons, ErrorKind, Limit, SendError, SendResult
from messaging.html import render_html
from settings import Settings

SCORE_PATH, UNSUBSCRIBE_PATH = "/r", "/u"  # the public pages (web/email_pages.py)

# Enhanced status codes and words that mean the mailbox itself does not exist (RFC 3463
# 5.1.1 "bad destination mailbox address"; 5.1.10 null MX), not that this one message was
# refused (a policy or a spam rejection is permanent for the message, not for the address).
NO_SUCH_MAILBOX = ("5.1.1", "5.1.10", "no such user", "user unknown", "does not exist")
SMTPS_PORT, SUBMISSION_PORT = 465, 587


@dataclass(frozen=True)
class Server:
    """AFTERCARE_SMTP_URL read: where to connect, how to secure it, who to log in as."""

    host: str
    port: int
    implicit_tls: bool
    start_tls: bool | None  # True: required; None: used if offered (loopback only)
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> Server:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("AFTERCARE_SMTP_URL must be smtps://user:pass@host:465 or smtp://…")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (SMTPS_PORT if implicit else SUBMISSION_PORT),
            implicit_tls=implicit,
            # A password never crosses the network in clear: STARTTLS is required unless the
            # server is on this machine (a local relay, or the tests' server).
            start_tls=None if implicit or _loopback(parts.hostname) else True,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Parts:
    """A message's text as an email: the templates' email variant is written as
    "subject", blank line, the paragraphs, blank line, the unsubscribe link's words.
    A text whose first paragraph is more than one line has no email variant."""

    subject: str
    paragraphs: list[str]
    footer: str | None

    @classmethod
    def of(cls, text: str) -> Parts:
        blocks = [block.strip() for block in text.strip().split("\n\n") if block.strip()]
        if blocks and "\n" in blocks[0]:
            # Not a subject line (a rep's alert starts with its facts): no email variant.
            return cls(blocks[0].splitlines()[0][:200], blocks, None)
        if len(blocks) >= 3:
            return cls(blocks[0], blocks[1:-1], blocks[-1])
        if len(blocks) == 2:
            return cls(blocks[0], blocks[1:], None)
        # A text with no email variant: its first line is the subject, all of it the body.
        return cls(text.strip().splitlines()[0][:200] if text.strip() else "", blocks, None)


def score_links(buttons: Buttons | None, public_url: str, key: bytes) -> list[tuple[str, str]]:
    """(label, signed link) for each survey button (data "score:<check-in>:<n>")."""
    found = []
    for row in buttons or []:
        for button in row:
            parts = (button.data or "").split(":")
            if len(parts) == 3 and parts[0] == "score" and parts[1].isdigit():
                token = links.score_token(key, int(parts[1]))
                found.append((button.text, f"{public_url}{SCORE_PATH}/{token}/{int(parts[2])}"))
    return found


class EmailChannel:
    """Sends each message as one email from AFTERCARE_EMAIL_FROM."""

    name = "email"
    can_look_up = False  # SMTP has no "did you take this message?"
    # A survey's buttons reach the channel, which turns them into signed score links (the
    # registry says email shows none: a rep's Acknowledge button cannot be pressed back).
    shows_buttons = True
    # The outbox passes `reply_to` (the customer's rep's email) to `send`: when
    # AFTERCARE_EMAIL_REPLY_TO is unset, replies reach the rep.
    takes_reply_to = True
    # ...and `to_team=True` for a message to a rep or manager: an alert to a colleague has
    # no unsubscribe header or link (RFC 8058 is for what customers can stop receiving).
    marks_team = True
    webhooks = ()  # replies go to a person's inbox (Reply-To); IMAP polling is not built

    def __init__(self, settings: Settings, *, timeout: float | None = None) -> None:
        if not settings.email_configured:
            raise ValueError("AFTERCARE_SMTP_URL and AFTERCARE_EMAIL_FROM must be set")
        self._server = Server.from_url(settings.smtp_url.get_secret_value())
        self._timeout = timeout or settings.provider_timeout
        self._from = settings.email_from
        self._reply_to = settings.email_reply_to  # "" when unset: the rep's, else From
        self._unsubscribe_box = settings.email_reply_to or settings.email_from
        domain = parseaddr(self._from)[1].rpartition("@")[2] or "localhost"
        self._domain = domain
        self._public_url = settings.public_url
        self._key = links.link_key(settings)  # the secret's, else the one stored in the database

    def limits(self, to: str) -> tuple[Limit, ...]:
        """One budget per mail server: its 421s pause every process's sends through it."""
        return (Limit(f"email:{self._server.host}"),)

    async def connect(self) -> None:
        return None  # each send opens its own connection

    def message(
        self,
        to: str,
        text: str,
        buttons: Buttons | None = None,
        reply_to: str | None = None,
        to_team: bool = False,
    ) -> EmailMessage:
        """The email for `text`: plain text and HTML, score links, RFC 8058 unsubscribe.

        Reply-To is AFTERCARE_EMAIL_REPLY_TO when set, else `reply_to` (the customer's
        rep's email), else the From address (the business's), as issue 12 orders them;
        the unsubscribe mailto stays the business's. A message `to_team` (a rep's or a
        manager's alert) carries no unsubscribe header, footer or link.
        """
        parts = Parts.of(text)
        unsubscribe = (
            None
            if to_team
            else f"{self._public_url}{UNSUBSCRIBE_PATH}/{links.unsubscribe_token(self._key, to)}"
        )
        scores = score_links(buttons, self._public_url, self._key)
        paragraphs = parts.paragraphs
        if to_team and parts.footer:  # no unsubscribe link to put these words on: keep them
            paragraphs = [*paragraphs, parts.footer]
        footer = parts.footer or unsubscribe
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = Address(addr_spec=to)
        message["Reply-To"] = self._reply_to or reply_to or self._from
        message["Subject"] = parts.subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = make_msgid(domain=self._domain)
        plain = "\n\n".join(paragraphs)
        if scores:
            plain += "\n\n" + "\n".join(f"{label}: {url}" for label, url in scores)
        if unsubscribe is not None:
            reply_box = parseaddr(self._unsubscribe_box)[1]
            mailto = f"mailto:{reply_box}?subject={quote('unsubscribe')}"
            message["List-Unsubscribe"] = f"<{unsubscribe}>, <{mailto}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            plain += (
                f"\n\n-- \n{footer}: {unsubscribe}" if parts.footer else f"\n\n-- \n{unsubscribe}"
            )
        message.set_content(plain + "\n")
        html = render_html(
            "message.html",
            {
                "subject": parts.subject,
                "paragraphs": paragraphs,
                "scores": scores,
                "footer": footer,
                "unsubscribe_url": unsubscribe,
            },
        )
        message.add_alternative(html, subtype="html")
        return message

    async def send(
        self,
        to: str,
        text: str,
        buttons: Buttons | None = None,
        reply_to: str | None = None,
        to_team: bool = False,
    ) -> SendResult:
        """Send `text` to the address `to`, a survey's buttons as signed score links."""
        message = self.message(to, text, buttons, reply_to, to_team)
        server = self._server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=server.start_tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise _refused(error.recipients[0] if error.recipients else None) from error
        except aiosmtplib.SMTPRecipientRefused as error:
            raise _refused(error) from error
        except aiosmtplib.SMTPReadTimeoutError as error:
            # The data may have been taken: the customer could get it twice if sent again.
            raise SendError(
                f"no answer from the mail server: {error}", ErrorKind.UNCERTAIN
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise _by_code(error.code, error.message) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            # Refused, unreachable or cut off before the message was handed over.
            raise SendError(
                f"mail server unreachable: {_short(error)}", ErrorKind.TRANSIENT
            ) from error
        return SendResult(provider_id=str(message["Message-ID"]))

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        return []

    async def aclose(self) -> None:
        return None


def _refused(error: aiosmtplib.SMTPRecipientRefused | None) -> SendError:
    if error is None:
        return SendError("the mail server refused the recipient", ErrorKind.PERMANENT)
    kind = _by_code(error.code, error.message)
    words = error.message.lower()
    if error.code in (550, 551, 553) and any(sign in words for sign in NO_SUCH_MAILBOX):
        return SendError(str(kind), ErrorKind.UNREACHABLE, code=str(error.code))
    return kind


def _by_code(code: int, text: str) -> SendError:
    described = f"SMTP {code}: {text}"[:300]
    if code == 421:  # "service not available, closing": the server wants us to slow down
        return SendError(described, ErrorKind.THROTTLED, code=str(code))
    if 400 <= code < 500:
        return SendError(described, ErrorKind.TRANSIENT, code=str(code))
    if code in (530, 534, 535):  # authentication: ours to fix, kept for a corrected deployment
        return SendError(described, ErrorKind.TRANSIENT, code=str(code))
    return SendError(described, ErrorKind.PERMANENT, code=str(code))


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]
