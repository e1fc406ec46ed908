"""The JSON API under /api/: thin handlers that look things up and translate them."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, HTTPException, Path, Query, Request, Security, status
from fastapi.exceptions import RequestValidationError
from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy.orm import Session

from accounts.scope import EVERYONE
from clock import Bound, parse_bound, utcnow, window_end, window_start
from conversation.linking import start_link
from messaging.consent import consent_history
from models import KINDS, CheckIn, Customer, Escalation
from models.states import CheckInStatus, EscalationStatus, shown_status
from reports.escalations import escalation_metrics
from reports.mix import contact_mix
from reports.nps import nps_report
from web import queries
from web.auth import require_api_token
from web.deps import SessionDep
from web.schemas import (
    CheckInOut,
    ConsentEventOut,
    CustomerOut,
    EscalationEventOut,
    EscalationMetricsOut,
    EscalationOut,
    GroupField,
    MessageOut,
    MixGroupField,
    MixReportOut,
    NpsReportOut,
    ShownCheckInStatus,
    problem_responses,
)

router = APIRouter(
    prefix="/api",
    tags=["api"],
    dependencies=[Security(require_api_token)],
    responses=problem_responses(401),
)

CustomerParam = Annotated[str, Query(description="The customer's external_id.")]
BOUND_HELP = "A UTC date YYYY-MM-DD (the whole day) or an ISO 8601 instant."
# Parsed by clock.parse_bound, which also takes what RFC 3339 leaves out
# (no zone: UTC; a space for the T); the document names the usual shapes, and
# empty, which leaves that side open as in the contract's `/api/nps?since=&until=&by=`.
BoundText = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
                {"type": "string", "maxLength": 0},
            ]
        }
    ),
]
SinceParam = Annotated[BoundText | None, Query(description=f"Start (inclusive). {BOUND_HELP}")]
UntilParam = Annotated[
    BoundText | None, Query(description=f"End (a date: inclusive). {BOUND_HELP}")
]
# Ids are 64-bit integers in every database; a larger one could not even be looked up.
EscalationId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The escalation's id.")]


@router.get(
    "/customers/{external_id}", response_model=CustomerOut, responses=problem_responses(404)
)
def get_customer(external_id: str, session: SessionDep, request: Request) -> CustomerOut:
    """One customer, with opt-out and Telegram link state."""
    customer = _customer_or_404(session, external_id)
    return customer_out(customer, queries.rep_external_id(session, customer.rep_id), request)


@router.get(
    "/customers/{external_id}/consent",
    response_model=list[ConsentEventOut],
    responses=problem_responses(404),
)
def get_consent(external_id: str, session: SessionDep) -> list[ConsentEventOut]:
    """When and how the customer opted out and back in, oldest first."""
    customer = _customer_or_404(session, external_id)
    return [ConsentEventOut.model_validate(e) for e in consent_history(session, customer.id)]


@router.get("/messages", response_model=list[MessageOut], responses=problem_responses(404))
def list_messages(customer: CustomerParam, session: SessionDep) -> list[MessageOut]:
    """The customer's messages in and out, oldest first."""
    found = _customer_or_404(session, customer)
    return [
        MessageOut.model_validate(m)
        for m in queries.customer_messages(session, found.id, viewer=EVERYONE)
    ]


@router.get("/checkins", response_model=list[CheckInOut], responses=problem_responses(404))
def list_checkins(customer: CustomerParam, session: SessionDep) -> list[CheckInOut]:
    """The customer's check-ins by due time, with the score each got."""
    found = _customer_or_404(session, customer)
    return [
        checkin_out(checkin, score, product)
        for checkin, score, product in queries.customer_checkins(session, found.id, viewer=EVERYONE)
    ]


@router.get("/escalations", response_model=list[EscalationOut])
def list_escalations(
    session: SessionDep,
    status: Annotated[
        EscalationStatus | None,
        BeforeValidator(lambda given: given or None),  # `?status=` means every status
        WithJsonSchema({"type": "string", "enum": [*EscalationStatus, ""]}),
        Query(description="Only these; empty: all."),
    ] = None,
) -> list[EscalationOut]:
    """Escalations, oldest first, optionally only those in one status."""
    return [
        escalation_out(row) for row in queries.escalations(session, status or None, viewer=EVERYONE)
    ]


@router.get("/escalations/metrics", response_model=EscalationMetricsOut)
def get_escalation_metrics(
    session: SessionDep,
    since: SinceParam = None,
    until: UntilParam = None,
) -> EscalationMetricsOut:
    """Escalations opened in the window: time to acknowledge and resolve, SLA, recovery.

    The same document as `bot.py escalations --json`.
    """
    start, end = _bound("since", since), _bound("until", until)
    try:
        report = escalation_metrics(session, utcnow(), start, end)
    except ValueError as exc:
        raise _invalid_query("until", until, str(exc)) from exc
    return EscalationMetricsOut.model_validate(report.as_dict())


@router.get(
    "/escalations/{escalation_id}/events",
    response_model=list[EscalationEventOut],
    responses=problem_responses(404),
)
def list_escalation_events(
    escalation_id: EscalationId, session: SessionDep
) -> list[EscalationEventOut]:
    """The escalation's audit trail, oldest first: every change, who made it and when."""
    if session.get(Escalation, escalation_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No escalation {escalation_id}.")
    return [
        EscalationEventOut.model_validate(event)
        for event in queries.escalation_events(session, escalation_id, viewer=EVERYONE)
    ]


def escalation_out(row: queries.EscalationRow) -> EscalationOut:
    escalation = row.escalation
    return EscalationOut(
        id=escalation.id,
        kind=escalation.kind,
        customer_external_id=row.customer_external_id,
        rep_external_id=row.rep_external_id,
        score=row.score,
        comment=row.comment,
        status=cast(EscalationStatus, escalation.status),
        escalated_to_manager=escalation.escalated_to_manager_at is not None,
        resolution_note=escalation.resolution_note,
        created_at=escalation.created_at,
        sla_due_at=escalation.sla_due_at,
        acknowledged_at=escalation.acknowledged_at,
        resolved_at=escalation.resolved_at,
    )


@router.get("/nps", response_model=NpsReportOut)
def get_nps(
    session: SessionDep,
    since: SinceParam = None,
    until: UntilParam = None,
    by: Annotated[
        Literal[GroupField, ""] | None,
        Query(description="Also break the score down by this; empty: no groups."),
    ] = None,
) -> NpsReportOut:
    """The same document as `bot.py nps --json`."""
    start, end = _bound("since", since), _bound("until", until)
    try:
        report = nps_report(session, start, end, by or None)
    except ValueError as exc:
        raise _invalid_query("until", until, str(exc)) from exc
    return NpsReportOut.model_validate(report.as_dict())


@router.get("/mix", response_model=MixReportOut)
def get_contact_mix(
    session: SessionDep,
    since: SinceParam = None,
    until: UntilParam = None,
    by: Annotated[
        Literal[MixGroupField, ""], Query(description="One row per rep or per UTC month.")
    ] = "rep",
) -> MixReportOut:
    """Contact mix: sent check-ins by kind, per rep or per month. The same as `bot.py mix --json`."""
    start, end = _bound("since", since), _bound("until", until)
    by = by or "rep"
    try:
        rows = contact_mix(session, start, end, by)
        overall = contact_mix(session, start, end, None)[0]
    except ValueError as exc:
        raise _invalid_query("until", until, str(exc)) from exc
    return MixReportOut.model_validate(
        {
            "since": window_start(start),
            "until": window_end(end),
            "by": by,
            "kinds": list(KINDS),
            "overall": overall.as_dict(),
            "groups": [row.as_dict() for row in rows],
        }
    )


def customer_out(customer: Customer, rep_external_id: str | None, request: Request) -> CustomerOut:
    # Whoever starts the Telegram bot may learn its username (getMe) and store it on app.state.
    link = start_link(customer, request.app.state.telegram_bot_username)
    return CustomerOut(
        external_id=customer.external_id,
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        language=customer.language,
        timezone=customer.timezone,
        channel=customer.channel,
        rep_external_id=rep_external_id,
        tags=list(customer.tags or []),
        opted_out=customer.opted_out_at is not None,
        opted_out_at=customer.opted_out_at,
        telegram_linked=customer.telegram_chat_id is not None,
        telegram_link_token=customer.telegram_link_token,
        telegram_start_link=link,
    )


def checkin_out(checkin: CheckIn, score: int | None, product: str | None) -> CheckInOut:
    shown = shown_status(checkin.status)
    waiting = shown == CheckInStatus.SCHEDULED
    return CheckInOut(
        id=checkin.id,
        kind=checkin.kind,
        status=cast(ShownCheckInStatus, shown),  # STATUSES minus `queued`; pydantic checks it
        due_at=checkin.due_at,
        not_before=checkin.not_before if waiting else None,
        sent_at=checkin.sent_at,
        score=score,
        reason=checkin.reason if waiting or shown == CheckInStatus.SUPPRESSED else None,
        error=checkin.error if shown == CheckInStatus.FAILED else None,
        channel=checkin.channel,
        product=product,
    )


def _customer_or_404(session: Session, external_id: str) -> Customer:
    customer = queries.customer_by_external_id(session, external_id, viewer=EVERYONE)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No customer {external_id!r}.")
    return customer


def _bound(name: str, text: str | None) -> Bound | None:
    """The parameter's bound; absent or empty (`?since=&until=`) leaves that side open."""
    if not text:
        return None
    try:
        return parse_bound(text)
    except ValueError as exc:
        raise _invalid_query(name, text, f"{BOUND_HELP} ({exc})") from exc


def _invalid_query(name: str, value: str | None, message: str) -> RequestValidationError:
    # The same shape FastAPI gives its own 422s, so clients parse one kind of error.
    return RequestValidationError(
        [{"type": "value_error", "loc": ("query", name), "msg": message, "input": value}]
    )
