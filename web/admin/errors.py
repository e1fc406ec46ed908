"""Errors on admin pages as pages: a person reading "Not found" in a browser, not raw JSON.

The JSON API, htmx requests and redirects (the way to the login page) keep
FastAPI's own answers.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response

from web.admin.rendering import page

TITLES = {
    403: (
        "Not allowed",
        "You may not do this, or the form had expired: reload the page and try again.",
    ),
    404: ("Not found", "There is no such page, or what it showed no longer exists."),
    405: ("Not allowed", "This page cannot be used that way."),
}


def _wants_a_page(request: Request, error: HTTPException) -> bool:
    return (
        request.url.path.startswith("/admin")
        and error.status_code in TITLES
        and not request.headers.get("HX-Request")
    )


async def admin_error_page(request: Request, error: Exception) -> Response:
    """An HTML page for 403/404/405 under /admin/; everything else as FastAPI answers it."""
    assert isinstance(error, HTTPException)
    if not _wants_a_page(request, error):
        return await http_exception_handler(request, error)
    title, explanation = TITLES[error.status_code]
    detail = error.detail if isinstance(error.detail, str) and error.detail != title else ""
    return page(
        request,
        "error.html",
        {"title": title, "explanation": explanation, "detail": detail},
        status_code=error.status_code,
        headers=dict(error.headers or {}),
    )
