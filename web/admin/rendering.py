"""HTML for the admin pages: one Jinja2 environment (autoescaped), one helper to answer with a page.

The page templates live in web/admin/pages/, apart from templates/ (which holds
what customers receive). Every answer carries headers that keep the pages out
of frames and caches and let the browser run our own script only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

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


def when(value: datetime | None) -> str:
    """A UTC time as admins read it: 2026-03-01 10:00 UTC."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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
    }
    values.update(context or {})
    html = pages.get_template(name).render(values)
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )
