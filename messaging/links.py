"""Signed links in emails: a score link bound to one check-in, an unsubscribe link to one address.

A token is the value and an HMAC-SHA256 tag over it (with what it is for, so a score
token can never be replayed as an unsubscribe one). The key is derived from
AFTERCARE_SESSION_SECRET when it is set; without it, a key generated once and
stored in the database (accounts/stored_secrets.py) signs the links, so every
process, and the next release, reads the links the last one wrote (never a
fixed default).
A score token carries no expiry of its own: it expires when its check-in does (the
page checks the check-in's state), so a reminder's links and the survey's agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.orm import Session, sessionmaker

from accounts.stored_secrets import stored_key
from models.db import make_engine, session_factory
from settings import Settings

TAG_BYTES = 16  # 128 bits: unguessable, and short enough for a tidy URL


STORED_KEY_NAME = "email_link_key"


def link_key(settings: Settings, factory: sessionmaker[Session] | None = None) -> bytes:
    """The key that signs email links: from AFTERCARE_SESSION_SECRET, else the stored one.

    `factory` reaches the database holding the stored key; without it, a short-lived
    engine on AFTERCARE_DATABASE_URL does (a channel is built from settings alone).
    """
    secret = settings.session_secret.get_secret_value()
    if secret:
        return hashlib.sha256(b"aftercare email links\0" + secret.encode()).digest()
    if factory is not None:
        return stored_key(factory, STORED_KEY_NAME)
    engine = make_engine(settings.database_url)
    try:
        return stored_key(session_factory(engine), STORED_KEY_NAME)
    finally:
        engine.dispose()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(key: bytes, purpose: str, value: str) -> str:
    mac = hmac.new(key, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()
    return _b64(mac[:TAG_BYTES])


def _sign(key: bytes, purpose: str, value: str) -> str:
    return f"{_b64(value.encode())}.{_tag(key, purpose, value)}"


def _read(key: bytes, purpose: str, token: str) -> str | None:
    body, _, tag = token.partition(".")
    try:
        value = _unb64(body).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return value if hmac.compare_digest(tag, _tag(key, purpose, value)) else None


def score_token(key: bytes, checkin_id: int) -> str:
    return _sign(key, "score", str(checkin_id))


def checkin_of(key: bytes, token: str) -> int | None:
    """The check-in a score token was made for; None when forged or damaged."""
    value = _read(key, "score", token)
    return int(value) if value is not None and value.isdigit() else None


def unsubscribe_token(key: bytes, address: str) -> str:
    return _sign(key, "unsubscribe", address)


def address_of(key: bytes, token: str) -> str | None:
    """The email address an unsubscribe token was made for; None when forged or damaged."""
    return _read(key, "unsubscribe", token)
