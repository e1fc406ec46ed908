"""The SMS channel: Twilio Programmable Messaging through the official `twilio` client's async API.

Twilio's error codes and status words live here, and only here. The rest of
Aftercare sees a `SendResult` (the message SID) or a `SendError` that says
whether trying again can help.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from clock import utcnow
from messaging.channels.base import (
    Buttons,
    ErrorKind,
    Inbound,
    Limit,
    Receipt,
    SendError,
    SendResult,
)
from messaging.channels.webhooks import HookRequest, Refused, Webhook
from settings import Settings

STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/sms"
TWILIO_SIGNATURE = "X-Twilio-Signature"
URLENCODED = "application/x-www-form-urlencoded"
# Replies go out through the outbox, never in the webhook's answer.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

# A survey that cannot reach the phone within this time is dropped by Twilio
# rather than delivered late (at night, or after the customer already answered).
DEFAULT_VALIDITY = timedelta(hours=4)

# Retrying cannot help: the number is wrong, unreachable, or opted out at the carrier.
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21408: "no permission to send to this region",
    21610: "recipient replied STOP to this sender",
    21612: "no route between 'From' and 'To'",
    21614: "'To' number is not a mobile number",
    21617: "message body too long",
    30003: "unreachable destination handset",
    30004: "message blocked",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier as spam",
    30008: "unknown error from the carrier",
}
# Ours to fix (credentials, sender): retried, so messages survive a corrected deployment.
CONFIGURATION_CODES = {20003, 20404, 21603, 21606, 21659}

# Twilio's delivery words -> ours. "read" (RCS) implies delivered; the rest are steps we
# already passed ("queued", "sending") or nothing to record ("accepted", "scheduled").
DELIVERY_STATUSES = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


def delivery_report(form: dict[str, str]) -> Receipt | None:
    """Read a Twilio status callback; None when it reports nothing we record."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = DELIVERY_STATUSES.get(
        (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    )
    if not sid or status is None:
        return None
    code = form.get("ErrorCode") or None
    error = None
    if status in ("undelivered", "failed"):
        error = f"{status} (Twilio {code}: {describe(code)})" if code else status
    return Receipt("sms", provider_id=sid, status=status, error_code=code, error=error)


def read_inbound(request: HookRequest, settings: Settings) -> Inbound:
    """An SMS from a customer or a rep (Twilio's incoming-message webhook)."""
    form = _verified_form(request, settings)
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not sid or not sender:
        raise Refused("MessageSid and From are required", 400)
    return Inbound(
        channel="sms",
        address=sender,
        text=form.get("Body", ""),
        provider_id=sid,
        received_at=utcnow(),
    )


def read_status(request: HookRequest, settings: Settings) -> Receipt | None:
    """A delivery receipt for a message we sent (Twilio's StatusCallback)."""
    return delivery_report(_verified_form(request, settings))


def _verified_form(request: HookRequest, settings: Settings) -> dict[str, str]:
    """The POSTed fields, once X-Twilio-Signature proves Twilio sent them.

    Refused when the auth token is not set: a webhook never fails open. Twilio's
    form is URL-encoded; parse_qsl reads it for a tenth of the CPU of a general
    form parser, and Twilio signs every value of every field.
    """
    token = settings.twilio_auth_token.get_secret_value()
    signature = request.headers.get(TWILIO_SIGNATURE, "")
    # The validator raises on a missing signature rather than saying no: check first.
    if not token or not signature:
        raise Refused("missing signature")
    if not request.headers.get("content-type", "").startswith(URLENCODED):
        raise Refused(
            "bad signature: not the form Twilio posts (application/x-www-form-urlencoded)"
        )
    fields = _Fields()
    for name, value in parse_qsl(
        request.body.decode("utf-8", errors="replace"), keep_blank_values=True
    ):
        fields.setdefault(name, []).append(value)
    if not RequestValidator(token).validate(request.url, fields, signature):
        raise Refused("bad signature")
    return {name: given[-1] for name, given in fields.items()}


class _Fields(dict[str, list[str]]):
    """A form's fields by name with every value, as the validator reads them: a plain dict
    of lists costs it nothing, a multi-dict a scan per name."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def describe(code: str | int | None) -> str:
    """Twilio's error code in words, for admins reading a check-in."""
    try:
        return PERMANENT_CODES.get(int(code or 0), f"see https://www.twilio.com/docs/errors/{code}")
    except ValueError:
        return str(code)


class SmsChannel:
    """Sends SMS through Twilio, from TWILIO_FROM_NUMBER or the Messaging Service."""

    name = "sms"
    can_look_up = True
    shows_buttons = False
    webhooks = (
        Webhook(INBOUND_PATH, read_inbound, answer=EMPTY_TWIML, media_type="text/xml"),
        Webhook(STATUS_PATH, read_status),
    )

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float | None = None,
        validity: timedelta = DEFAULT_VALIDITY,
    ) -> None:
        if not settings.sms_configured:
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender must be set")
        self._settings = settings
        self._timeout = timeout or settings.provider_timeout
        self._validity = int(validity.total_seconds())
        self._status_callback = f"{settings.public_url}{STATUS_PATH}"
        self._sender = settings.twilio_from_number or settings.twilio_messaging_service_sid
        self._client: Client | None = None
        # The clients log every request (phone numbers, message text) at INFO.
        for name in ("twilio.http_client", "twilio.async_http_client"):
            logging.getLogger(name).setLevel(logging.WARNING)

    def limits(self, to: str) -> tuple[Limit, ...]:
        """One budget per sender; paced only when AFTERCARE_TWILIO_PER_SECOND is set.

        Twilio queues each sender's excess itself, so by default we only honour its 429s.
        """
        rate = self._settings.twilio_per_second or None
        return (Limit(f"sms:{self._sender}", rate),)

    async def connect(self) -> None:
        return None  # the first request opens the connection; nothing to learn first

    async def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
        """Send `text` to the E.164 number `to`; buttons are dropped (SMS has none)."""
        del buttons
        params: dict[str, Any] = {
            "to": to,
            "body": text,
            "status_callback": self._status_callback,
            "validity_period": self._validity,
        }
        if self._settings.twilio_from_number:
            params["from_"] = self._settings.twilio_from_number
        else:
            params["messaging_service_sid"] = self._settings.twilio_messaging_service_sid
        _retry_after.set(None)
        try:
            message = await self.client.messages.create_async(**params)
        except TwilioRestException as error:
            raise _rest_error(error) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise _network_error(error) from error
        return SendResult(provider_id=str(message.sid))

    async def look_up(self, to: str, text: str, since: datetime) -> list[str]:
        """SIDs of messages with exactly `text` that Twilio took for `to` since `since`.

        Listed by recipient and sender, newest first, and filtered on `date_created`
        here: Twilio's `DateSent` filter would miss a message it has accepted but not
        yet handed to the carrier (its `date_sent` stays empty until then).
        """
        try:
            found = await self.client.messages.list_async(
                to=to, from_=self._settings.twilio_from_number or values.unset, limit=100
            )
        except TwilioRestException as error:
            raise _rest_error(error) from error
        except (TimeoutError, aiohttp.ClientError) as error:
            raise SendError(
                f"cannot list Twilio messages: {_short(error)}", ErrorKind.TRANSIENT
            ) from error
        return [
            str(message.sid)
            for message in found
            if message.body == text
            and str(message.direction).startswith("outbound")
            and (message.date_created is None or message.date_created >= since)
        ]

    @property
    def client(self) -> Client:
        """The Twilio client, made on first use on the network loop (aiohttp binds to it)."""
        if self._client is None:
            client = Client(
                self._settings.twilio_account_sid,
                self._settings.twilio_auth_token.get_secret_value(),
                http_client=_HttpClient(self._timeout),
            )
            if self._settings.twilio_api_base_url:
                client.api.base_url = self._settings.twilio_api_base_url.rstrip("/")
            self._client = client
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            http = self._client.http_client
            self._client = None
            if isinstance(http, _HttpClient):
                await http.close()


# The Retry-After of the 429 this task just got: TwilioRestException does not carry headers.
# A ContextVar is per task, so concurrent sends never read each other's.
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


class _HttpClient(AsyncTwilioHttpClient):
    """twilio's aiohttp client with our timeouts, keeping a 429's Retry-After for the outbox."""

    def __init__(self, timeout: float) -> None:
        # The session is made here, so construct this on the loop that will use it.
        super().__init__(timeout=timeout, pool_connections=False)
        self.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0)),
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
        )

    async def request(self, *args: Any, **kwargs: Any) -> Response:
        # twilio passes timeout=None, which aiohttp reads as "no timeout at all".
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        if isinstance(kwargs.get("data"), dict):
            # The same form Twilio receives, encoded once here: aiohttp's FormData would
            # build (and discard) a multipart writer with a fresh uuid4 for every message.
            kwargs["data"] = urlencode(kwargs["data"], doseq=True)
        response = await super().request(*args, **kwargs)
        if response.status_code == 429 or response.status_code >= 500:
            _retry_after.set(_seconds(response.headers.get("Retry-After")))
        return response


def _rest_error(error: TwilioRestException) -> SendError:
    code = error.code
    text = f"Twilio {error.status}" + (f" error {code}" if code else "") + f": {error.msg}"
    if error.status == 429 or error.status >= 500:
        return SendError(
            text,
            ErrorKind.THROTTLED if error.status == 429 else ErrorKind.TRANSIENT,
            code=_str(code),
            retry_after=_retry_after.get(),
        )
    if error.status in (401, 403) or code in CONFIGURATION_CODES:
        return SendError(text, ErrorKind.TRANSIENT, code=_str(code))
    # Any other 4xx is about this message or this number: sending it again fails again.
    return SendError(text, ErrorKind.PERMANENT, code=_str(code))


# aiohttp errors raised before a byte of the request can have reached Twilio.
_BEFORE_SENDING = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.InvalidUrlClientError,
    aiohttp.NonHttpUrlClientError,
)


def _network_error(error: BaseException) -> SendError:
    if isinstance(error, _BEFORE_SENDING):
        return SendError(f"Twilio unreachable: {_short(error)}", ErrorKind.TRANSIENT)
    # The request may have reached Twilio: resending could text the customer twice.
    return SendError(f"no answer from Twilio after sending: {_short(error)}", ErrorKind.UNCERTAIN)


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None  # an HTTP date: rare enough to fall back to our own backoff


def _str(code: int | None) -> str | None:
    return None if code is None else str(code)
