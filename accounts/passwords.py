"""Password hashing (argon2id, the library's defaults) and the checks around it."""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()

SHORTEST = 10  # characters; below this an offline guesser wins quickly even against argon2
LONGEST = 1000  # a longer "password" only makes the hash cost more


class BadPassword(ValueError):
    """A password that may not be set; the message says why, in one line."""


def checked(password: str) -> str:
    """The password, if it may be set (stripped of a trailing newline from stdin)."""
    password = password.rstrip("\r\n")
    if len(password) < SHORTEST:
        raise BadPassword(f"the password must have at least {SHORTEST} characters")
    if len(password) > LONGEST:
        raise BadPassword(f"the password must have at most {LONGEST} characters")
    return password


def hash_password(password: str) -> str:
    """An argon2 hash, as User.password_hash stores it."""
    return hasher.hash(password)


def matches(stored: str, password: str) -> bool:
    """True when `password` is the one `stored` was made from."""
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


@functools.cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def burn_time(password: str) -> None:
    """Spend what a real check costs, so an unknown user answers as slowly as a known one."""
    with contextlib.suppress(VerificationError):
        hasher.verify(_dummy_hash(), password)
