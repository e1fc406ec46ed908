"""The signed session cookie: a small JSON payload and its HMAC-SHA256, checked on every request."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time
from typing import Any

from fastapi import Request, Response

from settings import Settings
from web.admin.keys import AdminKeys, admin_keys
from web.admin.sessions import SESSION_LENGTH

COOKIE = "aftercare_admin"
SESSION_SECONDS = int(SESSION_LENGTH.total_seconds())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(keys: AdminKeys, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(keys.signing_key, body.encode(), "sha256").digest()
    return f"{body}.{_b64(mac)}"


def unsign(keys: AdminKeys, value: str) -> dict[str, Any] | None:
    """The payload when the signature is right and it has not expired; else None."""
    body, _, mac = value.partition(".")
    try:
        expected = hmac.new(keys.signing_key, body.encode(), "sha256").digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
        return None
    return payload


def read_cookie(request: Request) -> dict[str, Any] | None:
    value = request.cookies.get(COOKIE)
    return unsign(admin_keys(request), value) if value else None


def write_cookie(response: Response, request: Request, payload: dict[str, Any]) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        sign(admin_keys(request), payload),
        max_age=SESSION_SECONDS,
        path="/admin",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https://"),
    )


def new_payload(user: str = "", proof: str = "", session_id: str = "") -> dict[str, Any]:
    return {
        "user": user,
        "sid": session_id,
        "proof": proof,
        "csrf": secrets.token_urlsafe(24),
        "exp": int(time.time()) + SESSION_SECONDS,
    }
