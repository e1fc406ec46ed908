"""A rep's home: "my open escalations" as cards a phone can show, one escalation's page, reassigning.

Each card says who the customer is, what they scored and said, how old the
escalation is and how long its SLA has left, how to call or message them, and
their last few messages. What the buttons do belongs to `escalation.actions`
(the same functions a rep's Telegram button or SMS command calls);
acknowledging, resolving and adding a note are posted to `web.admin.escalations`.
What a viewer sees is narrowed by `accounts.scope`: a rep their own, a manager
their team's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.scope import Viewer, scope, team
from cadence.team import Team, load_team
from clock import utcnow
from escalation import actions
from escalation.sla import sla_time_left
from models import Customer, Escalation, Message, Rep
from models import Response as Answer
from models.db import transaction
from models.states import EscalationStatus, Role
from web import queries
from web.admin.auth import StaffDep, StaffPost
from web.admin.escalations import back_to
from web.admin.rendering import duration, page
from web.deps import SessionDep

router = APIRouter()

LAST_MESSAGES = 3
CARDS_SHOWN = 200
MANAGERS = (Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Card:
    escalation: Escalation
    customer: Customer
    rep_name: str | None
    score: int | None
    comment: str | None
    age: str
    left: str  # "1 h 05 min left", "overdue by 12 min"
    overdue: bool
    call: str | None  # tel: link
    telegram: str | None  # tg:// link, only when the customer has a Telegram chat
    messages: Sequence[Message]


def telegram_link(customer: Customer) -> str | None:
    """A link that opens the customer's Telegram chat, when Aftercare knows their chat."""
    if customer.telegram_chat_id is None or customer.telegram_chat_id <= 0:
        return None  # a negative id is a group, not a person
    return f"tg://user?id={customer.telegram_chat_id}"


def _last_messages(
    session: Session, customer_ids: set[int], viewer: Viewer
) -> dict[int, list[Message]]:
    found: dict[int, list[Message]] = {customer_id: [] for customer_id in customer_ids}
    for customer_id in customer_ids:
        query = (
            select(Message)
            .where(Message.customer_id == customer_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(LAST_MESSAGES)
        )
        found[customer_id] = list(session.scalars(scope(query, viewer)))[::-1]
    return found


def cards(
    session: Session,
    now: datetime,
    viewer: Viewer,
    escalation_id: int | None = None,
    *,
    team: Team | None = None,
) -> list[Card]:
    """The viewer's unresolved escalations (or the one asked for), oldest SLA first.

    Time left is working time when the team has working hours (`team`), else plain time.
    """
    query = (
        select(Escalation, Customer, Rep.name, Answer.score, Answer.comment, Message.body)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(Rep, Rep.id == Escalation.rep_id)
        .outerjoin(Answer, Answer.id == Escalation.response_id)
        .outerjoin(Message, Message.id == Escalation.message_id)
        .order_by(Escalation.sla_due_at, Escalation.id)
        .limit(CARDS_SHOWN)
    )
    if escalation_id is None:
        query = query.where(Escalation.status != EscalationStatus.RESOLVED)
    else:
        query = query.where(Escalation.id == escalation_id)
    rows = session.execute(scope(query, viewer)).all()
    messages = _last_messages(session, {row[1].id for row in rows}, viewer)
    result = []
    for escalation, customer, rep_name, score, comment, body in rows:
        left = sla_time_left(escalation, now, team)
        overdue = escalation.status == EscalationStatus.OPEN and left <= timedelta(0)
        if escalation.status != EscalationStatus.OPEN:
            words = ""
        elif overdue:
            words = f"overdue by {duration(left)}"
        else:
            words = f"{duration(left)} left"
        result.append(
            Card(
                escalation,
                customer,
                rep_name,
                score,
                comment or body or None,
                duration(now - escalation.created_at),
                words,
                overdue,
                f"tel:{customer.phone}" if customer.phone else None,
                telegram_link(customer),
                messages[customer.id],
            )
        )
    return result


def reassign_targets(session: Session, viewer: Viewer) -> Sequence[Rep]:
    """Whom a manager may hand an escalation to: their team (an admin: every rep)."""
    if viewer.role not in MANAGERS:
        return []
    query = select(Rep).order_by(Rep.name, Rep.id)
    members = team(viewer)
    if members is not None:
        query = query.where(Rep.id.in_(members))
    return session.scalars(query).all()


def _title(viewer: Viewer) -> str:
    if viewer.role == Role.REP:
        return "My open escalations"
    if viewer.role == Role.MANAGER:
        return "My team's open escalations"
    return "Open escalations"


def _team(request: Request, session: Session) -> Team:
    return load_team(session, str(request.app.state.settings.default_tz))


@router.get("/my", response_class=HTMLResponse)
def my_escalations(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    return page(
        request,
        "my_escalations.html",
        {
            "section": "mine",
            "title": _title(staff.viewer),
            "cards": cards(session, utcnow(), staff.viewer, team=_team(request, session)),
            "targets": reassign_targets(session, staff.viewer),
            "back": "/admin/my",
        },
    )


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
def one_escalation(
    request: Request, escalation_id: int, staff: StaffDep, session: SessionDep
) -> HTMLResponse:
    found = cards(session, utcnow(), staff.viewer, escalation_id, team=_team(request, session))
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No escalation {escalation_id}.")
    return page(
        request,
        "escalation.html",
        {
            "section": "mine",
            "card": found[0],
            "trail": queries.escalation_events(session, escalation_id, viewer=staff.viewer),
            "targets": reassign_targets(session, staff.viewer),
            "back": f"/admin/escalations/{escalation_id}",
        },
    )


@router.post("/escalations/{escalation_id}/reassign")
def reassign(
    request: Request,
    escalation_id: int,
    staff: StaffPost,
    rep: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    """Hand the escalation to another rep of the manager's team, who is alerted at once."""
    if staff.role not in MANAGERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only a manager or an admin may reassign.")
    with transaction(request.app.state.session_factory) as session:
        escalation = queries.escalation(session, escalation_id, viewer=staff.viewer)
        if escalation is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No escalation {escalation_id}.")
        target = next(
            (
                found
                for found in reassign_targets(session, staff.viewer)
                if found.external_id == rep
            ),
            None,
        )
        if target is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"rep: {rep!r} is not a rep of your team."
            )
        now = utcnow()
        outcome = actions.reassign(
            session,
            now,
            escalation,
            target,
            session.get(Rep, staff.rep_id) if staff.rep_id is not None else None,
            actor=f"{staff.user} (admin UI)",
            settings=request.app.state.settings,
        )
        if outcome.changed:
            audit.record(
                session, now, staff.actor, "escalation.reassign", f"escalation {escalation_id}",
                f"to {target.external_id}",
            )  # fmt: skip
    return RedirectResponse(back_to(back), status.HTTP_303_SEE_OTHER)
