"""A fake Twilio Programmable Messaging API (2010-04-01) for the real `twilio` client.

Point a client at it with `client.api.base_url = fake.base_url` (and no
TWILIO_EDGE / TWILIO_REGION, which make the client rewrite the host name).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
from twilio.request_validator import RequestValidator

from tests.fakes import LocalServer, Reply

API_VERSION = "2010-04-01"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MESSAGES_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/([^/]+)/Messages(?:/(SM[0-9a-f]{{32}}))?\.json$"
)

# Twilio's own wording, so tests read like the errors operators will see.
ERROR_MESSAGES = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
}
CODE_FOR_STATUS = {429: 20429, 500: 20500, 503: 20503}

# GSM 03.38: a body made only of these fits 160 chars per segment; anything else is UCS-2.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")  # these cost two septets each


def sms_segments(body: str) -> tuple[int, str]:
    """Segments and encoding Twilio would bill for `body` (no smart-encoding)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in body):
        units, single, multi, encoding = (
            len(body) + sum(c in GSM_EXTENDED for c in body),
            160,
            153,
            "GSM-7",
        )
    else:
        units, single, multi, encoding = len(body.encode("utf-16-le")) // 2, 70, 67, "UCS-2"
    if units <= single:
        return 1, encoding
    return -(-units // multi), encoding


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment)  # "Thu, 24 Aug 2023 05:01:45 +0000", as the API returns


class FakeTwilio(LocalServer):
    """Serves POST/GET {base}/2010-04-01/Accounts/{sid}/Messages[/{SM...}].json.

    A send is recorded when it arrives, then answered after `latency` (or an injected
    delay): as with Twilio, a client that gives up early may still have sent it.
    """

    def __init__(self, account_sid: str, auth_token: str, host: str = "127.0.0.1", port: int = 0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._credentials = {account_sid: auth_token}  # plus API keys (SK...) if added
        self._messages: list[dict[str, Any]] = []
        self._failing_numbers: dict[str, tuple[int, int, str]] = {}
        self._fail_next: list[tuple[int, int, int | None]] = []
        # How many messages it had accepted when it last answered an injected failure.
        self.accepted_before_failure: int | None = None
        self._delays: list[float] = []
        self.list_requests = 0
        self.hold_in_queue = False
        self._by_recipient: dict[str, list[dict[str, Any]]] = {}
        self.latency = 0.0  # seconds every answer to a send waits, like a real round trip
        # (status, url): report each send's delivery before answering the send, as a fast
        # carrier can; `overtaking_answers` holds what our webhook answered each time.
        self.overtaking_report: tuple[str, str] | None = None
        self.overtaking_answers: list[int] = []
        super().__init__(host, port)

    # -- recorded state and failure injection ---------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Snapshot of accepted messages, oldest first (the key is `from_`, as in twilio)."""
        with self._cond:
            return [dict(m) for m in self._messages]

    def message(self, sid: str) -> dict[str, Any]:
        with self._cond:
            return dict(self._find(sid))

    def add_api_key(self, key_sid: str, secret: str) -> None:
        """Accept Basic auth with an API key pair too, as Twilio does."""
        with self._cond:
            self._credentials[key_sid] = secret

    def fail_number(
        self, to: str, code: int = 21610, status: int = 400, message: str | None = None
    ) -> None:
        """Reject every send to `to` (default: the recipient texted STOP)."""
        text = message or ERROR_MESSAGES.get(code, f"Error {code}").replace("{to}", to)
        with self._cond:
            self._failing_numbers[to] = (status, code, text)

    def fail_next(
        self,
        status: int = 500,
        times: int = 1,
        code: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next `times` sends fail with `status` (429 → code 20429, 5xx → 205xx).

        `retry_after` adds Twilio's Retry-After header (seconds) to those answers.
        """
        with self._cond:
            failure = (status, code or CODE_FOR_STATUS.get(status, 20500), retry_after)
            self._fail_next += [failure] * times

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Record the next sends, then answer only after `seconds`: an ambiguous send."""
        with self._cond:
            self._delays += [seconds] * times

    # -- the HTTP API -----------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Reply:
        if not self._authorised(headers.get("Authorization", "")):
            return _error(401, 20003)
        match = MESSAGES_PATH.match(path)
        if not match or match.group(1) != self.account_sid:
            return _error(404, 20404)
        if method == "GET" and match.group(2):
            with self._cond:
                found = next((m for m in self._messages if m["sid"] == match.group(2)), None)
            return _json(200, self._resource(found)) if found else _error(404, 20404)
        if method == "GET":
            return self._list(dict(parse_qsl(query, keep_blank_values=True)))
        if method != "POST" or match.group(2):
            return _error(405, 20004, "Method not allowed")
        return self._create(dict(parse_qsl(body.decode(), keep_blank_values=True)))

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        expected = self._credentials.get(user)
        return expected is not None and hmac.compare_digest(expected, password)

    def _create(self, form: dict[str, str]) -> Reply:
        to, sender, service = form.get("To", ""), form.get("From"), form.get("MessagingServiceSid")
        body = form.get("Body", "")
        # Twilio checks in this order; with both From and a service it sends from From.
        if not to:
            return _error(400, 21604)
        if not sender and not service:
            return _error(400, 21603)
        if not body:
            return _error(400, 21602)
        if not E164.match(to):
            return _error(400, 21211, to=to)
        if len(body) > 1600:
            return _error(400, 21617)
        with self._cond:
            if to in self._failing_numbers:
                status, code, text = self._failing_numbers[to]
                return _error(status, code, text)
            if self._fail_next:
                status, code, retry_after = self._fail_next.pop(0)
                self.accepted_before_failure = len(self._messages)
                status, headers, payload = _error(status, code)
                if retry_after is not None:
                    headers = {**headers, "Retry-After": str(retry_after)}
                return status, headers, payload
            delay = self._delays.pop(0) if self._delays else self.latency
            segments, encoding = sms_segments(body)
            record = {
                "sid": new_sid("SM"),
                "account_sid": self.account_sid,
                "to": to,
                "from_": sender,
                "body": body,
                "messaging_service_sid": service,
                "status_callback": form.get("StatusCallback"),
                "validity_period": int(form["ValidityPeriod"])
                if form.get("ValidityPeriod")
                else None,
                # A service-routed message starts "accepted" (sender not chosen yet), else "queued".
                "status": "queued" if sender else "accepted",
                "error_code": None,
                "num_segments": segments,
                "encoding": encoding,
                "date_created": datetime.now(UTC),
                # The fake hands every message to the carrier at once, unless it holds them
                # in its queue (Twilio's date_sent stays empty until the carrier has it).
                "date_sent": None if self.hold_in_queue else datetime.now(UTC),
            }
            self._messages.append(record)
            self._by_recipient.setdefault(to, []).append(record)
            self._cond.notify_all()
        if self.overtaking_report is not None:
            status, url = self.overtaking_report
            self.overtaking_answers.append(
                self.send_status_callback(record["sid"], status, url=url)
            )
        if delay:
            self._stopping.wait(delay)  # the client times out meanwhile; the send stands
        return _json(201, self._resource(record))

    def _list(self, query: dict[str, str]) -> Reply:
        """GET Messages.json: To, From and DateSent / DateSent< / DateSent> filters, newest first.

        One page only (the page size bounds it), as Twilio's first page would be.
        """

        def when(value: str) -> datetime:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

        size = min(int(query.get("PageSize") or 50), 1000)
        with self._cond:
            self.list_requests += 1
            if "To" in query:
                found = list(reversed(self._by_recipient.get(query["To"], [])))
            else:
                found = list(reversed(self._messages))
        if any(name.startswith("DateSent") for name in query):
            found = [m for m in found if m.get("date_sent")]
        if "From" in query:
            found = [m for m in found if m["from_"] == query["From"]]
        if "DateSent>" in query:
            found = [m for m in found if m["date_sent"] >= when(query["DateSent>"])]
        if "DateSent<" in query:
            found = [m for m in found if m["date_sent"] <= when(query["DateSent<"])]
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        return _json(
            200,
            {
                "messages": [self._resource(m) for m in found[:size]],
                "end": min(len(found), size) - 1,
                "first_page_uri": f"{uri}?PageSize={size}&Page=0",
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": f"{uri}?PageSize={size}&Page=0",
            },
        )

    def _resource(self, m: dict[str, Any]) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{m['sid']}"
        return {
            "account_sid": m["account_sid"],
            "api_version": API_VERSION,
            "body": m["body"],
            "date_created": rfc2822(m["date_created"]),
            "date_sent": rfc2822(m["date_sent"]) if m.get("date_sent") else None,
            "date_updated": rfc2822(m["date_created"]),
            "direction": "outbound-api",
            "error_code": m["error_code"],
            "error_message": None,
            "from": m["from_"],
            "messaging_service_sid": m["messaging_service_sid"],
            "num_media": "0",
            "num_segments": str(m["num_segments"]),  # Twilio sends these counts as strings
            "price": None,
            "price_unit": "USD",
            "sid": m["sid"],
            "status": m["status"],
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": m["to"],
            "uri": f"{uri}.json",
        }

    def _find(self, sid: str) -> dict[str, Any]:
        for m in self._messages:
            if m["sid"] == sid:
                return m
        raise KeyError(sid)

    # -- webhooks Twilio would send to us ----------------------------------------

    def send_status_callback(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        url: str | None = None,
        signature_url: str | None = None,
    ) -> int:
        """POST a signed status callback; returns the HTTP status our app answered.

        Twilio signs the StatusCallback URL it was given, so the signature covers
        the message's StatusCallback even when `url` (where we POST) differs.
        """
        with self._cond:
            m = self._find(sid)
            m["status"], m["error_code"] = status, error_code
            self._cond.notify_all()
        signed_for = signature_url or m["status_callback"] or url
        target = url or m["status_callback"]
        if not target or not signed_for:
            raise ValueError(f"message {sid} has no StatusCallback; pass url=")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": self.account_sid,
            "To": m["to"],
            "From": m["from_"] or "",
            "ApiVersion": API_VERSION,
        }
        if m["messaging_service_sid"]:
            params["MessagingServiceSid"] = m["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self._post_signed(target, signed_for, params, sign=True)[0]

    def send_inbound_sms(
        self,
        url: str,
        from_: str,
        to: str,
        body: str,
        message_sid: str | None = None,
        sign: bool = True,
        signature_url: str | None = None,
        tamper: bool = False,
    ) -> tuple[int, str]:
        """POST an incoming-SMS webhook to `url`, signed for `signature_url` (default `url`).

        `tamper` changes the body after signing (a forged request); `sign=False`
        omits X-Twilio-Signature. Returns (status_code, response text).
        """
        sid = message_sid or new_sid("SM")
        params = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": str(sms_segments(body)[0]),
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
        }
        return self._post_signed(url, signature_url or url, params, sign=sign, tamper=tamper)

    def _post_signed(
        self, url: str, signed_for: str, params: dict[str, str], sign: bool, tamper: bool = False
    ) -> tuple[int, str]:
        headers = {
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        if sign:
            validator = RequestValidator(self.auth_token)
            headers["X-Twilio-Signature"] = validator.compute_signature(signed_for, params)
        if tamper:
            params = {**params, "Body": params.get("Body", "") + " (tampered)"}
        # trust_env=False: a proxy variable in the environment must not reroute test traffic.
        with httpx.Client(trust_env=False, timeout=10) as client:
            response = client.post(url, data=params, headers=headers)
        return response.status_code, response.text


def _json(status: int, payload: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(payload).encode()


def _error(status: int, code: int, message: str | None = None, **fields: str) -> Reply:
    text = message or ERROR_MESSAGES.get(code, f"Error {code}").replace(
        "{to}", fields.get("to", "")
    )
    return _json(
        status,
        {
            "code": code,
            "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )
