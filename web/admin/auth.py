"""Admin login and logout, the dependencies every page uses, and CSRF tokens on every POST.

Who may log in: the users (admin, manager or rep; `bot.py user add`, or the
Users page), and "admin" with AFTERCARE_ADMIN_PASSWORD until a user takes that
name (web/admin/credentials.py). With neither, nobody can log in: the page says
how to set a password, and never lets anyone in without one. Every login,
failed login and logout is in the audit trail.

The cookie holds the user, a session id, a CSRF token, an expiry and a
fingerprint of the credential, signed with HMAC-SHA256 under
AFTERCARE_SESSION_SECRET, or under a key generated once and stored in the
database when that is unset (web/admin/keys.py). The session id must name a
live row in admin_sessions (web/admin/sessions.py), so logout ends the session
for good; changing the password changes the fingerprint, which ends every
session made with the old one; disabling a user ends theirs.
Password guessing is held back by web/admin/login_guard.py.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from accounts import audit
from accounts.scope import Viewer
from accounts.users import normal_username
from clock import utcnow
from models.states import Role
from web.admin import login_guard
from web.admin.credentials import account, check_password, login_possible
from web.admin.rendering import SECURITY_HEADERS, page
from web.admin.session_cookie import COOKIE, new_payload, read_cookie, write_cookie
from web.admin.sessions import end_session, session_is_live, start_session

router = APIRouter()


@dataclass(frozen=True)
class Staff:
    """The logged-in person: who, their role and rep, and the CSRF token their forms must carry."""

    user: str
    csrf: str
    role: str
    rep_id: int | None

    @property
    def viewer(self) -> Viewer:
        """What `accounts.scope.scope` narrows every query to."""
        return Viewer(self.user, self.role, self.rep_id)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def actor(self) -> str:
        """How they appear in the audit trail."""
        return f"{self.user} ({self.role})"


Admin = Staff  # the name pages written before roles know it by


# ---------------------------------------------------------------- dependencies


def _to_login(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/admin/login?next={quote(target, safe='')}"
    if request.headers.get("HX-Request"):
        # An htmx call would follow a 303 inside the page; HX-Redirect makes it load the login page.
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail="Log in first.", headers={"HX-Redirect": location}
        )
    return HTTPException(
        status.HTTP_303_SEE_OTHER,
        detail="Log in first.",
        headers={"Location": location, "HX-Redirect": location, **SECURITY_HEADERS},
    )


def require_staff(request: Request) -> Staff:
    """The logged-in admin, manager or rep, or a redirect to the login page.

    The role and rep are read from the database on every request, so a role
    change or a disabled user takes effect at once.
    """
    payload = read_cookie(request)
    user = payload.get("user") if payload else None
    if not payload or not user or not isinstance(user, str):
        raise _to_login(request)
    session_id = payload.get("sid")
    if not isinstance(session_id, str) or not session_id:
        raise _to_login(request)
    with _factory(request)() as session:
        found = account(request, session, user)
        if found is None or not same_token(found.proof, str(payload.get("proof", ""))):
            raise _to_login(request)
        if not session_is_live(session, session_id, found.username, utcnow()):
            raise _to_login(request)
    staff = Staff(found.username, str(payload["csrf"]), found.role, found.rep_id)
    request.state.admin = staff
    return staff


def _only_admins(staff: Staff) -> Staff:
    if not staff.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Only an admin may do this.")
    return staff


def require_admin(request: Request) -> Staff:
    """The logged-in admin; a manager or rep gets 403, a visitor the login page."""
    return _only_admins(require_staff(request))


async def submitted_csrf(request: Request) -> str:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


def same_token(expected: str, submitted: str) -> bool:
    """Constant-time equality; an empty token never matches (bytes: any text may be submitted)."""
    return bool(expected and submitted) and hmac.compare_digest(
        expected.encode(), submitted.encode()
    )


def _check_csrf(expected: str, submitted: str) -> None:
    if not same_token(expected, submitted):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="The form's security token is missing or stale. Reload the page and try again.",
        )


async def require_staff_post(request: Request) -> Staff:
    """The logged-in person, for a POST: it must also carry the session's CSRF token (else 403)."""
    staff = await run_in_threadpool(require_staff, request)  # it asks the database
    _check_csrf(staff.csrf, await submitted_csrf(request))
    return staff


async def require_admin_post(request: Request) -> Staff:
    """The logged-in admin, for a POST with the session's CSRF token; anyone else gets 403."""
    return _only_admins(await require_staff_post(request))


# Pages that apply `scope` to their queries take StaffDep/StaffPost; everything else
# (templates, settings, users, the audit trail, and any page not yet scoped) is admin-only.
StaffDep = Annotated[Staff, Depends(require_staff)]
StaffPost = Annotated[Staff, Depends(require_staff_post)]
AdminDep = Annotated[Staff, Depends(require_admin)]
AdminPost = Annotated[Staff, Depends(require_admin_post)]


# ---------------------------------------------------------------- login and logout


def _safe_next(target: str | None) -> str:
    # Only our own pages: "//evil.example" and "/admin/../x" tricks land on the dashboard.
    if target and target.startswith("/admin/") and "//" not in target and ".." not in target:
        return target
    return "/admin/"


def _factory(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def _count_attempt(factory: sessionmaker[Session], keys: list[str]) -> login_guard.Refusal | None:
    with factory() as session:
        refusal = login_guard.count_attempt(session, keys, utcnow())
        if refusal is None:
            session.commit()
        else:
            session.rollback()
        return refusal


def _log_in(factory: sessionmaker[Session], keys: list[str], user: str, client: str) -> str:
    with factory.begin() as session:
        login_guard.clear(session, keys)
        now = utcnow()
        audit.record(session, now, user, "login", user, f"from {client}")
        return start_session(session, user, now)


def _record_failure(factory: sessionmaker[Session], user: str, client: str) -> None:
    # Only attempts the throttle let through are recorded: refused ones cost an attacker
    # nothing, and writing a row for each would let them fill the table.
    with factory.begin() as session:
        audit.record(session, utcnow(), user or "(no name)", "login.failed", user, f"from {client}")


def _hash_limiter(request: Request) -> anyio.CapacityLimiter:
    # Made on the event loop that uses it (anyio limiters belong to one loop).
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "hash_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(login_guard.HASHES_AT_ONCE)
        request.app.state.hash_limiter = limiter
    return limiter


def _login_page(
    request: Request, csrf: str, next_url: str, *, error: str = "", status_code: int = 200
) -> HTMLResponse:
    request.state.csrf_token = csrf
    return page(
        request,
        "login.html",
        {"possible": login_possible(request), "error": error, "next": next_url},
        status_code=status_code,
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str = "/admin/") -> Response:  # noqa: A002 - the query name
    payload = read_cookie(request)
    if payload and payload.get("user"):
        try:
            require_staff(request)
            return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
        except HTTPException:
            payload = None  # a session whose password changed: start afresh
    payload = payload or new_payload()
    response = _login_page(request, payload["csrf"], _safe_next(next))
    write_cookie(response, request, payload)
    return response


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/admin/",  # noqa: A002
) -> Response:
    payload = read_cookie(request) or {}
    target = _safe_next(next)
    user = normal_username(username)
    expected = str(payload.get("csrf", ""))
    if not same_token(expected, csrf_token):
        fresh = new_payload()
        response = _login_page(
            request,
            fresh["csrf"],
            target,
            error="The login form expired. Please enter your password again.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
        write_cookie(response, request, fresh)
        return response
    # The TCP peer, or the client a trusted proxy names (web/app.py); never a header
    # anyone can set.
    client = request.client.host if request.client else "unknown"
    keys = [login_guard.address_key(client), login_guard.account_key(user)]
    refusal = await run_in_threadpool(_count_attempt, _factory(request), keys)
    if refusal is not None:
        response = _login_page(
            request,
            csrf_token,
            target,
            error="Too many failed attempts. Wait a few minutes and try again.",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        )
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    limiter = _hash_limiter(request)
    if limiter.statistics().tasks_waiting >= login_guard.HASHES_WAITING:
        response = _login_page(
            request,
            csrf_token,
            target,
            error="The server is busy checking other logins. Try again in a moment.",
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        response.headers["Retry-After"] = "5"
        return response
    found = (
        await anyio.to_thread.run_sync(check_password, request, user, password, limiter=limiter)
        if password
        else None
    )
    if found is None:  # the attempt was counted before the check
        await run_in_threadpool(_record_failure, _factory(request), user[:100], client)
        return _login_page(
            request,
            csrf_token,
            target,
            error="Wrong user name or password.",
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    session_id = await run_in_threadpool(_log_in, _factory(request), keys, found.username, client)
    if target == "/admin/" and found.role == Role.REP:
        target = "/admin/my"  # a rep's home is their open escalations
    # A fresh CSRF token on login: a token planted before it is worth nothing after.
    redirect = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    write_cookie(redirect, request, new_payload(found.username, found.proof, session_id))
    return redirect


def _log_out(factory: sessionmaker[Session], session_id: str, user: str) -> None:
    with factory.begin() as session:
        now = utcnow()
        end_session(session, session_id, now)
        audit.record(session, now, user, "logout", user)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, staff: StaffPost) -> Response:
    payload = read_cookie(request) or {}
    await run_in_threadpool(_log_out, _factory(request), str(payload.get("sid", "")), staff.user)
    response = RedirectResponse("/admin/login", status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="lax")
    return response
