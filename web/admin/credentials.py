"""Who may log in: the users (argon2 hashes), and "admin" with AFTERCARE_ADMIN_PASSWORD as a bootstrap.

The bootstrap admin logs in with the environment's password for as long as no
user row is called "admin"; once one is (`bot.py user add admin --role admin`),
that row's password is the one that counts.

Each check returns the account with a fingerprint of its credential rather than
a yes/no: the session carries the fingerprint, so a changed password ends the
sessions made with the old one.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from accounts.passwords import burn_time, matches
from accounts.scope import Viewer
from accounts.users import BOOTSTRAP_ADMIN, bootstrap_applies, enabled_user, users_exist
from models.states import Role
from web.admin.keys import admin_keys

ADMIN_USER = BOOTSTRAP_ADMIN
__all__ = ["ADMIN_USER", "Account", "account", "check_password", "login_possible"]


@dataclass(frozen=True)
class Account:
    """Someone who may log in now: their name, role and rep, and their credential's fingerprint."""

    username: str
    role: str
    rep_id: int | None
    stored_hash: str
    proof: str

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.username, self.role, self.rep_id)


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def account(request: Request, session: Session, username: str) -> Account | None:
    """The enabled account called `username` (the bootstrap admin included), or None."""
    keys = admin_keys(request)
    if bootstrap_applies(session, username):
        if keys.admin_hash is None:
            return None
        password = request.app.state.settings.admin_password.get_secret_value()
        return Account(
            ADMIN_USER, Role.ADMIN, None, keys.admin_hash, keys.fingerprint(f"env\0{password}")
        )
    user = enabled_user(session, username)
    if user is None:
        return None
    credential = f"user\0{user.username}\0{user.password_hash}"
    return Account(
        user.username, user.role, user.rep_id, user.password_hash, keys.fingerprint(credential)
    )


def login_possible(request: Request) -> bool:
    """False when there is neither a bootstrap password nor an enabled user: nobody can log in."""
    if admin_keys(request).admin_hash is not None:
        return True
    with _factory(request)() as session:
        return users_exist(session)


def check_password(request: Request, user: str, password: str) -> Account | None:
    """The account when `user`/`password` are right, else None (same cost either way)."""
    with _factory(request)() as session:
        found = account(request, session, user)
    if found is None:
        burn_time(password)  # an unknown user costs what a known one does
        return None
    return found if matches(found.stored_hash, password) else None
