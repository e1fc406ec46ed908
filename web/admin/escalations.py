"""Escalations: open, acknowledged and resolved, with the time left before each SLA runs out.

Acknowledging and resolving belong to `escalation.actions`; the page's buttons
call the same functions as a rep's Telegram button or SMS command, inside one
transaction. A rep sees and acts on their own escalations only, a manager on
their team's (`accounts.scope`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts import audit
from accounts.scope import Viewer
from clock import utcnow
from escalation import actions
from models import Escalation, Rep
from models.db import transaction
from models.states import EscalationStatus
from web import queries
from web.admin import lookups
from web.admin.auth import Staff, StaffDep, StaffPost
from web.admin.rendering import duration, page
from web.deps import SessionDep

router = APIRouter()

RESOLVED_SHOWN = 50
# Under this much time left, an open escalation is shown as urgent.
URGENT = timedelta(minutes=30)


@dataclass(frozen=True)
class EscalationView:
    row: queries.EscalationRow
    customer_name: str
    rep_name: str | None
    sla: str  # "due in 1 h 05 min", "overdue by 12 min", or "" when not open
    sla_state: str  # ok | urgent | overdue | ""

    @property
    def escalation(self) -> Escalation:
        return self.row.escalation


# What the buttons do, by the name in their URL.
ACTIONS: dict[str, Callable[..., Any]] = {
    "acknowledge": actions.acknowledge,
    "resolve": actions.resolve,
    "note": actions.add_note,
}

# Where a button may send the browser back to: the lists, the rep's home, one escalation.
BACK = re.compile(r"/admin/(escalations|my|escalations/\d+)")


def back_to(target: str) -> str:
    """The page the form came from, if it is one of ours; the lists otherwise."""
    return target if BACK.fullmatch(target) else "/admin/escalations"


def sla_status(escalation: Escalation, now: datetime) -> tuple[str, str]:
    """The SLA countdown of an open escalation, in words, and how worried to be."""
    if escalation.status != EscalationStatus.OPEN:
        return "", ""
    left = escalation.sla_due_at - now
    if left <= timedelta(0):
        return f"overdue by {duration(left)}", "overdue"
    return f"due in {duration(left)}", "urgent" if left <= URGENT else "ok"


def views(session: Session, now: datetime, viewer: Viewer) -> dict[str, list[EscalationView]]:
    lists = {
        state: queries.escalations(session, state, viewer=viewer)
        for state in (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)
    }
    # Oldest first is right for work waiting; for the record, the newest matter.
    resolved = queries.escalations(session, EscalationStatus.RESOLVED, viewer=viewer)
    lists[EscalationStatus.RESOLVED] = resolved[-RESOLVED_SHOWN:][::-1]
    rows = [row for found in lists.values() for row in found]
    customers = lookups.customer_names(
        session, {row.customer_external_id for row in rows}, viewer=viewer
    )
    reps = lookups.rep_names(
        session, {row.escalation.rep_id for row in rows if row.escalation.rep_id is not None}
    )
    result: dict[str, list[EscalationView]] = {}
    for state, found in lists.items():
        result[state] = []
        for row in found:
            sla, sla_state = sla_status(row.escalation, now)
            rep_id = row.escalation.rep_id
            result[state].append(
                EscalationView(
                    row,
                    customers.get(row.customer_external_id, row.customer_external_id),
                    reps.get(rep_id) if rep_id is not None else None,
                    sla,
                    sla_state,
                )
            )
    return result


@router.get("/escalations", response_class=HTMLResponse)
def escalation_lists(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    name = "escalation_lists.html" if request.headers.get("HX-Request") else "escalations.html"
    return page(
        request,
        name,
        {
            "section": "escalations",
            "lists": views(session, utcnow(), staff.viewer),
            "actions": ACTIONS,
            "resolved_shown": RESOLVED_SHOWN,
        },
    )


def _act(
    request: Request, staff: Staff, escalation_id: int, name: str, back: str, **extra: str
) -> Response:
    action = ACTIONS[name]
    with transaction(request.app.state.session_factory) as session:
        # Another rep's escalation is as absent as one that does not exist.
        if queries.escalation(session, escalation_id, viewer=staff.viewer) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No escalation {escalation_id}.")
        now = utcnow()
        outcome = action(
            session,
            now,
            # A rep's or manager's own Rep is recorded as who acknowledged or resolved it,
            # as their SMS command or Telegram button would record it.
            rep=session.get(Rep, staff.rep_id) if staff.rep_id is not None else None,
            escalation_id=escalation_id,
            actor=f"{staff.user} (admin UI)",
            **extra,
        )
        if outcome.changed:
            audit.record(
                session, now, staff.actor, f"escalation.{name}", f"escalation {escalation_id}",
                extra.get("note", ""),
            )  # fmt: skip
    return RedirectResponse(back_to(back), status.HTTP_303_SEE_OTHER)


@router.post("/escalations/{escalation_id}/acknowledge")
def acknowledge(
    request: Request, escalation_id: int, staff: StaffPost, back: Annotated[str, Form()] = ""
) -> Response:
    return _act(request, staff, escalation_id, "acknowledge", back)


@router.post("/escalations/{escalation_id}/resolve")
def resolve(
    request: Request,
    escalation_id: int,
    staff: StaffPost,
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    note = note.strip()
    if not note:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "Say how it was resolved (the note is required)."
        )
    return _act(request, staff, escalation_id, "resolve", back, note=note[:2000])


@router.post("/escalations/{escalation_id}/note")
def add_note(
    request: Request,
    escalation_id: int,
    staff: StaffPost,
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """A note in the escalation's trail ("left a voicemail"); the status stays as it is."""
    note = note.strip()
    if not note:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The note is empty: write one.")
    return _act(request, staff, escalation_id, "note", back, note=note[:2000])
