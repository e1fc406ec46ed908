"""Provider webhooks. Each reads in four steps: verify (403, store nothing), parse, hand to one
function in `messaging/`, answer fast.

A request that is not provably from the provider is refused even when the secret
is simply not configured: a webhook must never fail open.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator

from clock import utcnow
from conversation.inbound import Inbound
from conversation.inbox import Inbox, store
from conversation.provider_events import record_delivery
from conversation.telegram_bot import WEBHOOK_PATH, TelegramBot
from messaging.channels.sms import INBOUND_PATH, STATUS_PATH, delivery_report
from messaging.receipts import Receipt
from settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(tags=["webhooks"], include_in_schema=False)

TWILIO_SIGNATURE = "X-Twilio-Signature"
URLENCODED = "application/x-www-form-urlencoded"
TELEGRAM_SECRET = "X-Telegram-Bot-Api-Secret-Token"
# Replies go out through the outbox, never in the webhook answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def twilio_inbound_sms(request: Request) -> Response:
    """An SMS from a customer or a rep (Twilio's incoming-message webhook).

    Stored once and acknowledged at once; its turn (who wrote, the score, our
    answer) is taken after, by the inbox (conversation/inbox/).
    """
    form = await _twilio_form(request, INBOUND_PATH)
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not sid or not sender:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "MessageSid and From are required")
    inbound = Inbound(
        channel="sms",
        address=sender,
        text=form.get("Body", ""),
        provider_id=sid,
        received_at=utcnow(),
    )
    inbox: Inbox | None = getattr(request.app.state, "inbox", None)
    if inbox is not None:
        await inbox.store(inbound)
    else:  # an app served without its lifespan: whoever takes turns next finds it
        await run_in_threadpool(_in_transaction, _factory(request), lambda s: store(s, inbound))
    return Response(EMPTY_TWIML, media_type="text/xml")


# A plain Starlette route: the busiest one takes no dependencies and needs none of FastAPI's
# per-request machinery (about a tenth of an acknowledgement's CPU).
router.add_route(INBOUND_PATH, twilio_inbound_sms, methods=["POST"], include_in_schema=False)


@router.post(STATUS_PATH)
async def twilio_status(request: Request) -> Response:
    """A delivery receipt for a message we sent (Twilio's StatusCallback)."""
    form = await _twilio_form(request, STATUS_PATH)
    report = delivery_report(form)
    if report is None:
        return Response(status_code=status.HTTP_200_OK)
    receipt = Receipt("sms", report.provider_id, report.status, report.error_code, report.error)
    now = utcnow()
    # A receipt for a SID the outbox has not recorded yet is kept, and applied when it is.
    await run_in_threadpool(
        _in_transaction, _factory(request), lambda s: record_delivery(s, now, receipt)
    )
    return Response(status_code=status.HTTP_200_OK)


@router.post(WEBHOOK_PATH)
async def telegram_update(request: Request) -> Response:
    """An update from the Bot API (webhook mode, when TELEGRAM_WEBHOOK_SECRET is set)."""
    expected = _settings(request).telegram_webhook_secret.get_secret_value()
    given = request.headers.get(TELEGRAM_SECRET, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad or missing secret token")
    bot: TelegramBot | None = getattr(request.app.state, "telegram_bot", None)
    if bot is None:  # Telegram retries later; the bot is starting or not configured
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the Telegram bot is not running")
    try:
        update = bot.parse(await request.json())
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        update = None
    if update is None:
        # Verified, yet unreadable: refusing would only make Telegram send it again.
        log.warning("ignored a Telegram webhook body that is not an update")
        return Response(status_code=status.HTTP_200_OK)
    await bot.process(update)
    return Response(status_code=status.HTTP_200_OK)


async def _twilio_form(request: Request, path: str) -> dict[str, str]:
    """The POSTed fields, once X-Twilio-Signature proves Twilio sent them; else 403."""
    token = _settings(request).twilio_auth_token.get_secret_value()
    signature = request.headers.get(TWILIO_SIGNATURE, "")
    # The validator raises on a missing signature rather than saying no: check first.
    if not token or not signature:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing signature")
    fields = await _fields(request)
    if fields is None or not RequestValidator(token).validate(
        signed_url(_settings(request), path, request.url.query), fields, signature
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "bad signature")
    return {name: values[-1] for name, values in fields.items()}


class _Fields(dict[str, list[str]]):
    """A form's fields by name with every value (Twilio signs them all), as the validator
    reads them: a plain dict of lists costs it nothing, a multi-dict a scan per name."""

    def getall(self, name: str) -> list[str]:
        return self[name]


async def _fields(request: Request) -> _Fields | None:
    """The request's form fields; None when one is a file (Twilio never sends one).

    Twilio's form is URL-encoded: parse_qsl reads it for a tenth of the CPU of
    the general form parser, which stays for any other content type.
    """
    if request.headers.get("content-type", "").startswith(URLENCODED):
        body = (await request.body()).decode("utf-8", errors="replace")
        pairs = parse_qsl(body, keep_blank_values=True)
    else:
        form = await request.form()
        if not all(isinstance(value, str) for _, value in form.multi_items()):
            return None
        pairs = [(name, str(value)) for name, value in form.multi_items()]
    fields = _Fields()
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


def signed_url(settings: Settings, path: str, query: str = "") -> str:
    """The URL Twilio signed: AFTERCARE_PUBLIC_URL (what Twilio was told) plus path and query.

    Never the URL this process sees: behind a TLS-terminating proxy that is
    http://127.0.0.1:8000/..., while Twilio signed https://example.com/...
    """
    return f"{settings.public_url}{path}" + (f"?{query}" if query else "")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def _in_transaction(factory: sessionmaker[Session], work: Callable[[Session], Any]) -> Any:
    with factory.begin() as session:
        return work(session)
