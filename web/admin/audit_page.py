"""The audit trail (admins only): every login, failed login and admin action, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accounts import audit
from web.admin.auth import AdminDep
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()

SHOWN = 200


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request, admin: AdminDep, session: SessionDep, actor: str = "", action: str = ""
) -> HTMLResponse:
    entries = audit.recent(session, actor=actor[:200], action=action[:50], limit=SHOWN)
    return page(
        request,
        "audit.html",
        {
            "section": "audit",
            "entries": entries,
            "actions": audit.actions(session),
            "actor": actor,
            "action": action,
            "shown": SHOWN,
        },
    )
