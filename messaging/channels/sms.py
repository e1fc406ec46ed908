"""The SMS channel: Twilio Programmable Messaging through the official `twilio` client.

Twilio's error codes and status words live here, and only here. The rest of
Aftercare sees a `SendResult` (the message SID) or a `SendError` that says
whether trying again can help.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from messaging.channels.base import Buttons, SendError, SendResult
from settings import Settings

STATUS_PATH = "/webhooks/twilio/status"
INBOUND_PATH = "/webhooks/twilio/sms"

# A survey that cannot reach the phone within this time is dropped by Twilio
# rather than delivered late (at night, or after the customer already answered).
DEFAULT_VALIDITY = timedelta(hours=4)
# Twilio answers in well under a second; a stuck call must not stall the outbox.
DEFAULT_TIMEOUT = 10.0

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


@dataclass(frozen=True)
class DeliveryReport:
    """A status callback, in our words: `status` is one of Message's statuses."""

    provider_id: str
    status: str
    error_code: str | None
    error: str | None


def delivery_report(form: dict[str, str]) -> DeliveryReport | None:
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
    return DeliveryReport(provider_id=sid, status=status, error_code=code, error=error)


def describe(code: str | int | None) -> str:
    """Twilio's error code in words, for admins reading a check-in."""
    try:
        return PERMANENT_CODES.get(int(code or 0), f"see https://www.twilio.com/docs/errors/{code}")
    except ValueError:
        return str(code)


class SmsChannel:
    """Sends SMS through Twilio, from TWILIO_FROM_NUMBER or the Messaging Service."""

    name = "sms"

    def __init__(
        self,
        settings: Settings,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        validity: timedelta = DEFAULT_VALIDITY,
    ) -> None:
        if not settings.sms_configured:
            raise ValueError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender must be set")
        self._settings = settings
        self._timeout = timeout
        self._validity = int(validity.total_seconds())
        self._status_callback = f"{settings.public_url}{STATUS_PATH}"
        # One client per thread: a response hook notes a 429's Retry-After header in
        # thread-local state, which must not be another thread's response.
        self._local = threading.local()
        # The client logs every request body (phone numbers, message text) at INFO.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

    def send(self, to: str, text: str, buttons: Buttons | None = None) -> SendResult:
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
        client = self._client()
        self._local.retry_after = None
        try:
            message = client.messages.create(**params)
        except TwilioRestException as error:
            raise self._rest_error(error) from error
        except requests.exceptions.RequestException as error:
            raise _network_error(error) from error
        return SendResult(provider_id=str(message.sid))

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            http = TwilioHttpClient(
                timeout=self._timeout,
                request_hooks={"response": [self._remember_retry_after]},
            )
            client = Client(
                self._settings.twilio_account_sid,
                self._settings.twilio_auth_token,
                http_client=http,
            )
            if self._settings.twilio_api_base_url:
                client.api.base_url = self._settings.twilio_api_base_url.rstrip("/")
            self._local.client = client
        return client

    def _remember_retry_after(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.retry_after = _seconds(response.headers.get("Retry-After"))

    def _rest_error(self, error: TwilioRestException) -> SendError:
        code = error.code
        text = f"Twilio {error.status}" + (f" error {code}" if code else "") + f": {error.msg}"
        if error.status == 429 or error.status >= 500:
            retry_after = getattr(self._local, "retry_after", None)
            return SendError(text, permanent=False, code=_str(code), retry_after=retry_after)
        if error.status in (401, 403) or code in CONFIGURATION_CODES:
            return SendError(text, permanent=False, code=_str(code))
        # Any other 4xx is about this message or this number: sending it again fails again.
        return SendError(text, permanent=True, code=_str(code))


_BEFORE_SENDING = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.SSLError,
    requests.exceptions.ProxyError,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
)


def _network_error(error: requests.exceptions.RequestException) -> SendError:
    if _never_sent(error):
        return SendError(f"Twilio unreachable: {_short(error)}", permanent=False)
    # The request may have reached Twilio: resending could text the customer twice.
    return SendError(
        f"no answer from Twilio after sending: {_short(error)}", permanent=False, uncertain=True
    )


def _never_sent(error: requests.exceptions.RequestException) -> bool:
    """True when the request cannot have left: no connection (or no TLS session) was made."""
    if isinstance(error, _BEFORE_SENDING):
        return True
    if isinstance(error, requests.exceptions.ConnectionError) and error.args:
        # urllib3 wraps "connection refused" and DNS failures in MaxRetryError.reason.
        cause = getattr(error.args[0], "reason", error.args[0])
        return isinstance(cause, NewConnectionError | ConnectTimeoutError)
    return False


def _short(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None  # an HTTP date: rare enough to fall back to our own backoff


def _str(code: int | None) -> str | None:
    return None if code is None else str(code)
