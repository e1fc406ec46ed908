"""HTML for the admin pages: one Jinja2 environment (autoescaped), one helper to answer with a page.

The page templates live in web/admin/pages/, apart from templates/ (which holds
what customers receive). Every answer carries headers that keep the pages out
of frames and caches and let the browser run our own script only.

Times on every page are on the business's clock (the time zone set in Settings,
cadence/team.py; default AFTERCARE_DEFAULT_TZ) with the zone's abbreviation:
`{{ value|when }}` and `{{ value|clock }}` read the zone `page` puts in the context.
CSV exports and the API stay in ISO 8601 UTC.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import SQLAlchemyError

from cadence.team import load_team

log = logging.getLogger(__name__)

PAGES_DIR = Path(__file__).resolve().parent / "pages"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@jinja2.pass_context
def when(context: jinja2.runtime.Context, value: datetime | None) -> str:
    """A time on the business's clock, as admins read it: 2026-03-01 11:00 CET."""
    return when_in(value, context.get("business_zone") or "UTC")


@jinja2.pass_context
def clock(context: jinja2.runtime.Context, value: datetime | None) -> str:
    """A short time on the business's clock, for chat bubbles: 01 Mar 11:00."""
    if value is None:
        return "—"
    zone = ZoneInfo(context.get("business_zone") or "UTC")
    return value.astimezone(zone).strftime("%d %b %H:%M")


def when_in(value: datetime | None, zone: str) -> str:
    """A time on the business's clock: 2026-03-01 11:00 CET."""
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def duration(delta: timedelta) -> str:
    """A span in words, to the minute: '1 d 3 h', '2 h 05 min', '7 min'."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["when_in"] = when_in
    env.filters["clock"] = clock
    env.filters["duration"] = duration
    return env


pages = _environment()


def page(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render `name` with `context` plus what every page needs (business name, the admin, CSRF)."""
    admin = getattr(request.state, "admin", None)
    settings = request.app.state.settings
    values: dict[str, Any] = {
        "request": request,
        "business_name": settings.business_name,
        "admin": admin,
        "csrf_token": getattr(request.state, "csrf_token", "") or (admin.csrf if admin else ""),
        "section": "",
        "simulator_on": settings.simulator,
        "business_zone": business_zone(request),
    }
    values.update(context or {})
    html = pages.get_template(name).render(values)
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )


def business_zone(request: Request) -> str:
    """The zone set in Settings; AFTERCARE_DEFAULT_TZ when it cannot be read (e.g. no database)."""
    default = str(request.app.state.settings.default_tz)
    factory = getattr(request.app.state, "session_factory", None)
    if factory is None:
        return default
    try:
        with factory() as session:
            return load_team(session, default).timezone
    except (SQLAlchemyError, ValueError):
        log.warning("cannot read the business time zone; showing %s", default, exc_info=True)
        return default
