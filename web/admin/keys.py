"""The admin UI's secrets, made once per app: the cookie signing key and the bootstrap password's hash.

With AFTERCARE_SESSION_SECRET the signing key is derived from it; without it the
key is generated once and stored in the database (accounts/stored_secrets.py),
so every process behind a load balancer, and the next start, sign alike. Never
a fixed default.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from accounts.passwords import hash_password
from accounts.stored_secrets import stored_key
from settings import Settings

_lock = threading.Lock()
SIGNING_KEY = "admin_session_signing_key"

__all__ = ["AdminKeys", "admin_keys", "hash_password", "warm_up"]


@dataclass
class AdminKeys:
    """Per-app secrets, made once: the cookie signing key and the bootstrap password's argon2 hash."""

    signing_key: bytes
    admin_hash: str | None

    @classmethod
    def make(cls, settings: Settings, factory: sessionmaker[Session]) -> AdminKeys:
        secret = settings.session_secret.get_secret_value()
        key = (
            hashlib.sha256(b"aftercare admin session\0" + secret.encode()).digest()
            if secret
            else stored_key(factory, SIGNING_KEY)
        )
        password = settings.admin_password.get_secret_value()
        hashed = hash_password(password) if password else None
        return cls(key, hashed)

    def fingerprint(self, credential: str) -> str:
        """A short tag of the credential, so a password change ends the sessions made with the old one."""
        digest = hmac.new(self.signing_key, b"credential\0" + credential.encode(), "sha256")
        return digest.hexdigest()[:16]


def _keys_of(state: Any) -> AdminKeys:
    keys: AdminKeys | None = getattr(state, "admin_keys", None)
    if keys is None:
        with _lock:
            keys = getattr(state, "admin_keys", None)
            if keys is None:
                keys = AdminKeys.make(state.settings, state.session_factory)
                state.admin_keys = keys
    return keys


def admin_keys(request: Request) -> AdminKeys:
    return _keys_of(request.app.state)


def warm_up(app: Any) -> None:
    """Make the app's keys now rather than on the first request (the admin router's start-up)."""
    _keys_of(app.state)
