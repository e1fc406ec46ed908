"""Upcoming: what the next 24 hours of passes will send and hold back, by kind and rep, with
pause, resume and cancel for one check-in.

The list is the scheduler's own (scheduler.upcoming, `plan --at` played forward);
the holds are scheduler.holds', audited. A rep sees and holds their own customers'
check-ins only, a manager their team's (`accounts.scope`): another's is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.scope import Viewer, scope
from clock import utcnow
from models import CheckIn, Customer, Rep
from models.db import transaction
from scheduler import holds
from scheduler.upcoming import HORIZON_HOURS, Upcoming, upcoming
from web.admin.auth import Staff, StaffDep, StaffPost
from web.admin.charts import KIND_LABELS
from web.admin.rendering import page

router = APIRouter()

ACTION_LABELS = {"send": "will send", "wait": "held back", "suppress": "will not go",
                 "fail": "will fail", "paused": "paused"}  # fmt: skip


@dataclass(frozen=True)
class UpcomingRow:
    item: Upcoming
    customer_external_id: str
    customer_name: str


@dataclass(frozen=True)
class UpcomingGroup:
    kind: str
    rep: str
    rows: list[UpcomingRow]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.item.action == action)


def visible(session: Session, ids: list[int], viewer: Viewer) -> dict[int, tuple[Any, ...]]:
    """Of these check-ins, those the viewer may see: id -> customer id, name, rep name."""
    query = (
        select(CheckIn.id, Customer.external_id, Customer.name, Rep.name, Rep.external_id)
        .select_from(CheckIn)
        .join(Customer, Customer.id == CheckIn.customer_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id)
        .where(CheckIn.id.in_(ids))
    )
    return {row[0]: tuple(row[1:]) for row in session.execute(scope(query, viewer))}


def groups(session: Session, items: list[Upcoming], viewer: Viewer) -> list[UpcomingGroup]:
    """The viewer's share of `items`, grouped by kind and then the customer's rep."""
    seen = visible(session, [item.checkin_id for item in items], viewer)
    grouped: dict[tuple[str, str], list[UpcomingRow]] = {}
    for item in items:
        if item.checkin_id not in seen:
            continue
        external_id, name, rep_name, rep_id = seen[item.checkin_id]
        rep = rep_name or rep_id or "unassigned"
        grouped.setdefault((item.kind, rep), []).append(UpcomingRow(item, external_id, name))
    return [UpcomingGroup(kind, rep, rows) for (kind, rep), rows in sorted(grouped.items())]


@router.get("/upcoming", response_class=HTMLResponse)
def upcoming_page(request: Request, staff: StaffDep) -> HTMLResponse:
    factory = request.app.state.session_factory
    items = upcoming(factory, utcnow(), request.app.state.settings)
    with factory() as session:
        found = groups(session, items, staff.viewer)
    return page(
        request,
        "upcoming.html",
        {
            "section": "upcoming",
            "groups": found,
            "hours": HORIZON_HOURS,
            "kind_labels": KIND_LABELS,
            "action_labels": ACTION_LABELS,
        },
    )


def _hold(request: Request, staff: Staff, checkin_id: int, act: Callable[..., Any]) -> Response:
    with transaction(request.app.state.session_factory) as session:
        # Another rep's check-in is as absent as one that does not exist.
        if checkin_id not in visible(session, [checkin_id], staff.viewer):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No check-in {checkin_id}.")
        try:
            act(session, checkin_id, utcnow(), staff.actor)
        except holds.HoldError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return RedirectResponse("/admin/upcoming", status.HTTP_303_SEE_OTHER)


@router.post("/upcoming/{checkin_id}/pause")
def pause(request: Request, checkin_id: int, staff: StaffPost) -> Response:
    return _hold(request, staff, checkin_id, holds.pause)


@router.post("/upcoming/{checkin_id}/resume")
def resume(request: Request, checkin_id: int, staff: StaffPost) -> Response:
    return _hold(request, staff, checkin_id, holds.resume)


@router.post("/upcoming/{checkin_id}/cancel")
def cancel(
    request: Request, checkin_id: int, staff: StaffPost, reason: Annotated[str, Form()] = ""
) -> Response:
    if not reason.strip():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Say why it is cancelled (the reason is required).",
        )

    def act(session: Session, checkin_id: int, now: Any, actor: str) -> Any:
        return holds.cancel(session, checkin_id, now, actor, reason)

    return _hold(request, staff, checkin_id, act)
