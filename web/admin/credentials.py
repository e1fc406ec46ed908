"""Who may log in: "admin" with AFTERCARE_ADMIN_PASSWORD, or a rep whose role is admin (argon2 hash).

Each check returns a fingerprint of the credential rather than a yes/no: the
session carries it, so a changed password ends the sessions made with the old one.
"""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Rep
from web.admin.keys import admin_keys, hasher

ADMIN_USER = "admin"


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def admin_reps_exist(session: Session) -> bool:
    return (
        session.scalar(
            select(Rep.id).where(Rep.role == "admin", Rep.password_hash.is_not(None)).limit(1)
        )
        is not None
    )


def login_possible(request: Request) -> bool:
    """False when no admin password and no admin rep with a password exist: nobody can log in."""
    if admin_keys(request).admin_hash is not None:
        return True
    with _factory(request)() as session:
        return admin_reps_exist(session)


def check_password(request: Request, user: str, password: str) -> str | None:
    """The credential fingerprint when `user`/`password` are right, else None (same cost either way)."""
    keys = admin_keys(request)
    if user == ADMIN_USER:
        stored = keys.admin_hash
        credential = f"env\0{request.app.state.settings.admin_password.get_secret_value()}"
    else:
        with _factory(request)() as session:
            stored = session.scalar(
                select(Rep.password_hash).where(
                    Rep.external_id == user, Rep.role == "admin", Rep.password_hash.is_not(None)
                )
            )
        credential = f"rep\0{user}\0{stored}"
    if stored is None:
        _burn_time(password)  # an unknown user costs what a known one does
        return None
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    return keys.fingerprint(credential)


@functools.cache
def _dummy_hash() -> str:
    return hasher.hash(secrets.token_urlsafe(16))


def _burn_time(password: str) -> None:
    with contextlib.suppress(VerificationError):
        hasher.verify(_dummy_hash(), password)


def current_proof(request: Request, user: str) -> str | None:
    keys = admin_keys(request)
    if user == ADMIN_USER:
        if keys.admin_hash is None:
            return None
        return keys.fingerprint(
            f"env\0{request.app.state.settings.admin_password.get_secret_value()}"
        )
    with _factory(request)() as session:
        stored = session.scalar(
            select(Rep.password_hash).where(Rep.external_id == user, Rep.role == "admin")
        )
    return None if stored is None else keys.fingerprint(f"rep\0{user}\0{stored}")
