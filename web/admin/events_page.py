"""Event webhooks: where events go, how many wait, and every delivery that is failing or dead.

An admin sees here what a receiver that is down costs (events waiting, their last
error), and can give a dead event another day once the receiver is fixed.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clock import utcnow
from events import delivery
from events.report import standing, troubles
from events.worker import where
from models.db import transaction
from web.admin.auth import AdminDep, AdminPost
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()

SHOWN = 100


@router.get("/events", response_class=HTMLResponse)
def events_page(request: Request, admin: AdminDep, session: SessionDep) -> HTMLResponse:
    settings = request.app.state.settings
    now = utcnow()
    return page(
        request,
        "events.html",
        {
            "section": "events",
            # Scheme, host and path only: a receiver's query string may carry its token.
            "endpoints": [where(url) for url in settings.events_endpoints],
            "standing": standing(session, now),
            "troubles": troubles(session, SHOWN),
            "shown": SHOWN,
            "where": where,
        },
    )


@router.post("/events/{row_id}/retry")
def retry(request: Request, row_id: int, admin: AdminPost) -> Response:
    with transaction(request.app.state.session_factory) as session:
        if not delivery.retry(session, row_id, utcnow()):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No dead event delivery {row_id}.")
    return RedirectResponse("/admin/events", status.HTTP_303_SEE_OTHER)
