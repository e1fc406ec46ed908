"""Customers: a searchable list, and one customer's whole story (the "why did they get nothing?" page)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from accounts import audit
from cadence.decisions import Decision
from cadence.rules import load_rules
from clock import utcnow
from conversation.linking import start_link
from conversation.optout import record_opt_in, record_opt_out
from messaging.channels import registry
from messaging.consent import CSV_COLUMNS, consent_history, consent_rows
from models import CheckIn, ConsentEvent, Customer
from models.db import transaction
from models.states import CheckInStatus, ConsentSource, shown_status
from reports.spreadsheet import Cell, csv_chunks
from scheduler.why import survey_now
from web import queries
from web.admin import lookups
from web.admin.auth import AdminDep, StaffDep, StaffPost
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()


@dataclass(frozen=True)
class CheckInLine:
    """One row of the customer's check-ins, as the page shows it."""

    kind: str
    product: str | None
    status: CheckInStatus
    due_at: datetime
    not_before: datetime | None  # while it waits
    sent_at: datetime | None
    score: int | None
    note: str  # why it waits or was suppressed, or what failed

    @classmethod
    def of(cls, checkin: CheckIn, score: int | None, product: str | None) -> CheckInLine:
        shown = shown_status(checkin.status)
        waiting = shown == CheckInStatus.SCHEDULED
        note = checkin.reason if waiting or shown == CheckInStatus.SUPPRESSED else None
        if shown == CheckInStatus.FAILED:
            note = checkin.error
        return cls(
            checkin.kind,
            product,
            shown,
            checkin.due_at,
            checkin.not_before if waiting else None,
            checkin.sent_at,
            score,
            note or "",
        )


@router.get("/customers", response_class=HTMLResponse)
def customer_list(
    request: Request, staff: StaffDep, session: SessionDep, q: str = ""
) -> HTMLResponse:
    rows = lookups.find_customers(session, q[:100], viewer=staff.viewer)
    name = "customer_rows.html" if request.headers.get("HX-Request") else "customers.html"
    return page(request, name, {"section": "customers", "q": q, "rows": rows})


@router.get("/customers/{external_id}", response_class=HTMLResponse)
def customer_page(
    request: Request, external_id: str, staff: StaffDep, session: SessionDep
) -> HTMLResponse:
    viewer = staff.viewer
    customer = queries.customer_by_external_id(session, external_id, viewer=viewer)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No customer {external_id!r}.")
    checkins = [
        CheckInLine.of(*row)
        for row in queries.customer_checkins(session, customer.id, viewer=viewer)
    ]
    purchases = lookups.customer_purchases(session, customer.id, viewer=viewer)
    escalations = lookups.customer_escalations(session, customer.id, viewer=viewer)
    return page(
        request,
        "customer.html",
        {
            "section": "customers",
            "customer": customer,
            "start_link": start_link(customer, request.app.state.telegram_bot_username),
            "rep": customer.rep,
            "purchases": purchases,
            "checkins": checkins,
            "messages": queries.customer_messages(session, customer.id, viewer=viewer),
            "escalations": escalations,
            "holding_back": holding_back(
                customer,
                checkins,
                survey_now(
                    session,
                    customer.id,
                    utcnow(),
                    load_rules(session),
                    request.app.state.settings.default_tz,
                ),
            ),
            "consent": consent_history(session, customer.id),
            "consent_sources": CONSENT_SOURCE_WORDS,
        },
    )


# How each source reads on the page.
CONSENT_SOURCE_WORDS = {
    "keyword": "replied with a keyword (STOP / START)",
    "reply": "asked in their own words",
    "email": "email unsubscribe link",
    "api": "another system (API)",
    "admin": "changed by an admin",
    "history": "recorded before the consent log",
}


@router.post("/customers/{external_id}/consent")
def change_consent(
    request: Request,
    external_id: str,
    staff: StaffPost,
    action: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record an opt-out or opt-in that came by phone, letter or in person, with how it came."""
    note = note.strip()
    if action not in ("opt_out", "opt_in"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Choose opt out or opt in.")
    if not note:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "Say how the customer asked (the note is kept in the consent record).",
        )
    with transaction(request.app.state.session_factory) as session:
        customer = queries.customer_by_external_id(session, external_id, viewer=staff.viewer)
        if customer is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No customer {external_id!r}.")
        now = utcnow()
        detail = f"{note[:1500]} (recorded by {staff.user})"
        if action == "opt_out":
            record_opt_out(session, now, customer, ConsentSource.ADMIN, detail=detail)
        elif customer.opted_out_at is not None:
            record_opt_in(session, now, customer, ConsentSource.ADMIN, detail=detail)
        audit.record(session, now, staff.actor, f"customer.{action}", external_id, note[:500])
    return RedirectResponse(
        f"/admin/customers/{quote(external_id, safe='')}", status.HTTP_303_SEE_OTHER
    )


@router.get("/customers/{external_id}/consent.csv")
def customer_consent_csv(external_id: str, staff: StaffDep, session: SessionDep) -> Response:
    """One customer's consent record, for a compliance question."""
    customer = queries.customer_by_external_id(session, external_id, viewer=staff.viewer)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No customer {external_id!r}.")
    events = consent_history(session, customer.id)
    return _csv(consent_rows((customer.external_id, e) for e in events), f"consent-{external_id}")


@router.get("/consent.csv")
def all_consent_csv(admin: AdminDep, session: SessionDep) -> Response:
    """Every customer's consent record, oldest first (admins only: it is everyone's)."""
    rows = session.execute(
        select(Customer.external_id, ConsentEvent)
        .join(Customer, Customer.id == ConsentEvent.customer_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    ).all()
    return _csv(consent_rows((external_id, event) for external_id, event in rows), "consent")


def _csv(rows: Iterable[Sequence[Cell]], name: str) -> Response:
    """A spreadsheet-safe file: the record holds customers' own words, which may look like formulas."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:100]
    return Response(
        "".join(csv_chunks(CSV_COLUMNS, rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{safe}.csv"'},
    )


def holding_back(
    customer: Customer, checkins: list[CheckInLine], survey_now: Decision
) -> list[str]:
    """Plain-words reasons this customer may be hearing nothing from us, most decisive first.

    `survey_now` is the scheduler's own decision for a survey due now (scheduler/why.py).
    """
    reasons = []
    if customer.opted_out_at is not None:
        reasons.append(
            f"Opted out (STOP) on {customer.opted_out_at:%Y-%m-%d}: nothing the bot starts is sent "
            "until they reply START."
        )
    elif survey_now.action != "send":
        verb = "would wait" if survey_now.action == "wait" else "would not go out"
        reasons.append(f"A survey due now {verb}: {survey_now.reason}.")
    used = registry.reach(customer, customer.channel)
    if used is not None and used[0] != customer.channel:
        reasons.append(
            f"Prefers {customer.channel} but cannot be reached there (not linked yet, or blocked); "
            f"{used[0]} is used meanwhile."
        )
    if customer.telegram_unreachable_at is not None:
        reasons.append(
            f"Telegram unreachable since {customer.telegram_unreachable_at:%Y-%m-%d} "
            "(the bot was blocked)."
        )
    for checkin in reversed(checkins):  # newest first
        if checkin.note and checkin.status in (CheckInStatus.SCHEDULED, CheckInStatus.SUPPRESSED):
            verb = "waits" if checkin.status == CheckInStatus.SCHEDULED else "was suppressed"
            reasons.append(f"{checkin.kind} check-in {verb}: {checkin.note}")
        if len(reasons) >= 6:
            break
    if not checkins:
        reasons.append(
            "No check-ins planned yet: a survey is planned after a delivery "
            "(or a delay notice when a promised date passes)."
        )
    return reasons
