"""Users (admins only): who can log in, as what; add one, disable one, set a new password;
and the language each rep reads (their alerts and the replies to their commands).

The page only translates the form; the rules (names, roles, a rep for managers
and reps, password length, never disabling the last admin) are
`accounts.users`', the same the command line follows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit, users
from cadence.working_hours import InvalidHours, parse_hours
from clock import utcnow
from models import LANGUAGES, Rep
from models.db import transaction
from models.states import Role
from web.admin.auth import AdminDep, AdminPost
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()


def _render(
    request: Request,
    session: Session,
    *,
    error: str = "",
    done: str = "",
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    reps = session.execute(select(Rep.external_id, Rep.name).order_by(Rep.name)).all()
    team = session.scalars(select(Rep).order_by(Rep.name)).all()
    return page(
        request,
        "users.html",
        {
            "section": "users",
            "rows": users.list_users(session),
            "reps": reps,
            "team": team,
            "languages": LANGUAGES,
            "business_language": request.app.state.settings.default_language,
            "roles": [Role.ADMIN, Role.MANAGER, Role.REP],
            "error": error,
            "done": done,
            "form": form or {"username": "", "role": "rep", "rep": ""},
        },
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def user_list(
    request: Request, admin: AdminDep, session: SessionDep, done: str = ""
) -> HTMLResponse:
    messages = {
        "added": "User added.",
        "disabled": "User disabled.",
        "password": "Password set.",
        "language": "Language saved: the rep's next alert and replies are written in it.",
        "hours": "Hours saved: the rep's next alerts wait for them, and new SLAs count them.",
    }
    return _render(request, session, done=messages.get(done, ""))


@router.post("/users", response_class=HTMLResponse)
def add(
    request: Request,
    admin: AdminPost,
    session: SessionDep,
    username: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    rep: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form = {"username": username, "role": role, "rep": rep}
    try:
        with transaction(request.app.state.session_factory) as writing:
            users.add_user(
                writing, utcnow(), username, role, password,
                rep_external_id=rep or None, actor=admin.actor,
            )  # fmt: skip
    except users.UserError as error:
        return _render(
            request, session, error=str(error), form=form,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    return RedirectResponse("/admin/users?done=added", status.HTTP_303_SEE_OTHER)


@router.post("/users/{username}/disable", response_class=HTMLResponse)
def disable(request: Request, username: str, admin: AdminPost, session: SessionDep) -> Response:
    try:
        with transaction(request.app.state.session_factory) as writing:
            users.disable_user(writing, utcnow(), username, actor=admin.actor)
    except users.UserError as error:
        return _render(
            request, session, error=str(error), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    return RedirectResponse("/admin/users?done=disabled", status.HTTP_303_SEE_OTHER)


@router.post("/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request,
    username: str,
    admin: AdminPost,
    session: SessionDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Set a new password (tell the user it by another way); their sessions end."""
    try:
        with transaction(request.app.state.session_factory) as writing:
            users.set_password(writing, utcnow(), username, password, actor=admin.actor)
    except users.UserError as error:
        return _render(
            request, session, error=str(error), status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    return RedirectResponse("/admin/users?done=password", status.HTTP_303_SEE_OTHER)


@router.post("/reps/{rep}/language", response_class=HTMLResponse)
def set_rep_language(
    request: Request,
    rep: str,
    admin: AdminPost,
    session: SessionDep,
    language: Annotated[str, Form()] = "",
) -> Response:
    """The language a rep reads; empty: the business's (AFTERCARE_DEFAULT_LANGUAGE)."""
    code = language.strip().lower()
    if code and code not in LANGUAGES:
        return _render(
            request,
            session,
            error=f"language: {language!r} is not one of {', '.join(LANGUAGES)}",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    _set_on_rep(request, admin.actor, rep, "language", code or None)
    return RedirectResponse("/admin/users?done=language", status.HTTP_303_SEE_OTHER)


@router.post("/reps/{rep}/hours", response_class=HTMLResponse)
def set_rep_hours(
    request: Request,
    rep: str,
    admin: AdminPost,
    session: SessionDep,
    working_hours: Annotated[str, Form()] = "",
) -> Response:
    """A rep's own working hours ("Mon-Fri 08:00-16:00"); empty: the business's (Settings)."""
    try:
        hours = parse_hours(working_hours).text() if working_hours.strip() else None
    except InvalidHours as bad:
        return _render(
            request,
            session,
            error=f"working hours of {rep}: {bad}",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    _set_on_rep(request, admin.actor, rep, "working_hours", hours)
    return RedirectResponse("/admin/users?done=hours", status.HTTP_303_SEE_OTHER)


# The audit action each rep setting is recorded under.
_AUDITED_AS = {"language": "rep.language", "working_hours": "rep.hours"}


def _set_on_rep(request: Request, actor: str, rep: str, name: str, value: str | None) -> None:
    """Set one of a rep's own settings (None: the business's), audited; 404 for no such rep."""
    with transaction(request.app.state.session_factory) as writing:
        found = writing.scalar(select(Rep).where(Rep.external_id == rep))
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No rep {rep!r}.")
        setattr(found, name, value)
        audit.record(writing, utcnow(), actor, _AUDITED_AS[name], rep, value or "the business's")
