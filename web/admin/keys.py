"""The admin UI's secrets, made once per app: the cookie signing key and the admin password's hash.

With AFTERCARE_SESSION_SECRET the signing key is derived from it, so sessions
survive a restart; without it the key is random per process (sessions end with
the process), never a fixed default.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from fastapi import Request

from settings import Settings

hasher = PasswordHasher()
_lock = threading.Lock()


def hash_password(password: str) -> str:
    """An argon2 hash, as Rep.password_hash stores it."""
    return hasher.hash(password)


@dataclass
class AdminKeys:
    """Per-app secrets, made once: the cookie signing key and the admin password's argon2 hash."""

    signing_key: bytes
    admin_hash: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> AdminKeys:
        secret = settings.session_secret.get_secret_value()
        key = (
            hashlib.sha256(b"aftercare admin session\0" + secret.encode()).digest()
            if secret
            else secrets.token_bytes(32)
        )
        password = settings.admin_password.get_secret_value()
        hashed = hasher.hash(password) if password else None
        return cls(key, hashed)

    def fingerprint(self, credential: str) -> str:
        """A short tag of the credential, so a password change ends the sessions made with the old one."""
        digest = hmac.new(self.signing_key, b"credential\0" + credential.encode(), "sha256")
        return digest.hexdigest()[:16]


def admin_keys(request: Request) -> AdminKeys:
    state = request.app.state
    keys: AdminKeys | None = getattr(state, "admin_keys", None)
    if keys is None:
        with _lock:
            keys = getattr(state, "admin_keys", None)
            if keys is None:
                keys = AdminKeys.from_settings(state.settings)
                state.admin_keys = keys
    return keys


def warm_up(app: Any) -> None:
    """Make the app's keys now rather than on the first request (the admin router's start-up)."""
    with _lock:
        if getattr(app.state, "admin_keys", None) is None:
            app.state.admin_keys = AdminKeys.from_settings(app.state.settings)
