"""Users: adding one, listing, disabling, changing a password, and who may log in.

Plain functions of a session and `now`; the command line and the admin UI both
call them, and each change adds its line to the audit trail in the same
transaction. Errors are `UserError`, whose message is one line for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.passwords import BadPassword, checked, hash_password
from accounts.scope import Viewer
from models import Rep, User
from models.states import Role

# The user AFTERCARE_ADMIN_PASSWORD logs in, as long as no user row takes the name.
BOOTSTRAP_ADMIN = "admin"
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,99}")


class UserError(ValueError):
    """A user change that cannot be made; the message names what is wrong."""


def normal_username(text: str) -> str:
    """The name as stored and compared: stripped and lower-case."""
    return text.strip().lower()


def _username(text: str) -> str:
    name = normal_username(text)
    if not USERNAME.fullmatch(name):
        raise UserError(
            f"user name {text!r} is not valid: use 1-100 letters, digits, '.', '_', '@' or '-'"
        )
    return name


def _password(password: str) -> str:
    try:
        return checked(password)
    except BadPassword as error:
        raise UserError(str(error)) from None


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == normal_username(username))).first()


def _existing(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise UserError(f"there is no user {normal_username(username)!r}")
    return user


def add_user(
    session: Session,
    now: datetime,
    username: str,
    role: str,
    password: str,
    *,
    rep_external_id: str | None = None,
    actor: str,
) -> User:
    """A new user. Managers and reps must name their rep (by external id); admins may."""
    name = _username(username)
    if role not in set(Role):
        raise UserError(f"role {role!r} is not one of admin, manager, rep")
    rep = None
    if rep_external_id:
        rep = session.scalars(select(Rep).where(Rep.external_id == rep_external_id)).first()
        if rep is None:
            raise UserError(f"there is no rep with external id {rep_external_id!r}")
    elif role != Role.ADMIN:
        raise UserError(f"a {role} user must be linked to their rep: give --rep EXTERNAL_ID")
    if find_user(session, name) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(
        username=name,
        role=role,
        rep_id=rep.id if rep is not None else None,
        password_hash=hash_password(_password(password)),
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    linked = f", rep {rep.external_id}" if rep is not None else ""
    audit.record(session, now, actor, "user.added", name, f"role {role}{linked}")
    return user


def set_password(
    session: Session, now: datetime, username: str, password: str, *, actor: str
) -> User:
    """A new password; the sessions made with the old one end (their proof no longer matches)."""
    user = _existing(session, username)
    user.password_hash = hash_password(_password(password))
    user.updated_at = now
    audit.record(session, now, actor, "user.password_set", user.username)
    return user


def disable_user(session: Session, now: datetime, username: str, *, actor: str) -> User:
    """The user can no longer log in, and their sessions end; disabling twice changes nothing."""
    user = _existing(session, username)
    if user.disabled_at is None:
        if user.role == Role.ADMIN and _enabled_admins(session) == [user.id]:
            raise UserError(f"{user.username!r} is the last admin; add another admin first")
        user.disabled_at = now
        user.updated_at = now
        audit.record(session, now, actor, "user.disabled", user.username)
    return user


def _enabled_admins(session: Session) -> list[int]:
    return list(
        session.scalars(select(User.id).where(User.role == Role.ADMIN, User.disabled_at.is_(None)))
    )


@dataclass(frozen=True)
class UserRow:
    user: User
    rep_external_id: str | None
    rep_name: str | None


def list_users(session: Session) -> list[UserRow]:
    """Every user, by name, with their rep."""
    rows = session.execute(
        select(User, Rep.external_id, Rep.name)
        .outerjoin(Rep, Rep.id == User.rep_id)
        .order_by(User.username)
    )
    return [UserRow(*row) for row in rows]


def enabled_user(session: Session, username: str) -> User | None:
    """The user who may log in under that name, if any."""
    user = find_user(session, username)
    return user if user is not None and user.disabled_at is None else None


def users_exist(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.disabled_at.is_(None)).limit(1)) is not None


def bootstrap_applies(session: Session, username: str) -> bool:
    """True when `username` is the bootstrap admin and no user row has taken that name."""
    return (
        normal_username(username) == BOOTSTRAP_ADMIN and find_user(session, BOOTSTRAP_ADMIN) is None
    )


def viewer_of(user: User) -> Viewer:
    return Viewer(user.username, user.role, user.rep_id)
