"""The demo's customer phone: speak as any customer and watch the bot answer at once.

A reply typed here goes through exactly the door a real SMS or Telegram message
uses (`conversation.inbound.receive`), on the customer's real channel (the console
delivers the answer); the page comes back once the bot's answer is sent, so it is in
the thread, with buttons only where that channel shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import audit
from accounts.scope import EVERYONE  # the simulator is for admins only (AdminDep)
from clock import utcnow
from conversation.inbound import Inbound, receive
from messaging.channels import ConsoleChannel, Transports, console_only, registry
from messaging.outbox import drain, wait_until_settled
from models import Customer, Message
from models.db import transaction
from scheduler.tick import tick
from web import queries
from web.admin import lookups
from web.admin.auth import AdminDep, AdminPost, Staff
from web.admin.rendering import page
from web.deps import SessionDep


def _switched_on(request: Request) -> None:
    # Not found, rather than forbidden: in production the simulator does not exist.
    if not request.app.state.settings.simulator:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "The simulator is off (AFTERCARE_SIMULATOR, on in demo)."
        )


router = APIRouter(dependencies=[Depends(_switched_on)])

MAX_REPLY_CHARS = 1000
_SCORE_BUTTON = re.compile(r"score:(\d+):(\d+)\Z")


def transports(request: Request) -> Transports:
    """The app's transports (set by `build_app`); a silent console when an app was built without."""
    state = request.app.state
    found: Transports | None = getattr(state, "transports", None)
    if found is None:
        found = state.transports = console_only(ConsoleChannel(stream=None))
    return found


def address_of(customer: Customer) -> str | None:
    """Where the customer writes from: their phone, else their Telegram chat id."""
    found = channel_and_address(customer)
    return found[1] if found is not None else None


def channel_and_address(customer: Customer) -> tuple[str, str] | None:
    """The channel the customer really uses and their address on it, as the bot would reach them.

    The simulator speaks as the customer on that channel, so what it records and
    shows (buttons only where the channel has them) is what production would. A chat
    that blocked the bot is no address: the bot reaches them by phone, and so do they.
    """
    telegram = registry.address_on("telegram", customer)
    if customer.channel == "telegram" and telegram is not None:
        return "telegram", telegram
    if customer.phone:
        return "sms", customer.phone
    return ("telegram", telegram) if telegram is not None else None


def _thread(customer: Customer, messages: Sequence[Message]) -> list[Any]:
    """Each message with the 0–10 buttons its channel shows (none on SMS or email).

    A message records the channel it really went on (the console only delivers it), so
    that decides; a row an older version recorded as "console" goes by the customer's.
    """
    found = channel_and_address(customer)
    customers = found is not None and registry.shows_buttons(found[0])

    def shown(message: Message) -> bool:
        if message.channel in registry.CHANNELS:
            return registry.shows_buttons(message.channel)
        return customers

    return [(message, score_buttons(message) if shown(message) else []) for message in messages]


def score_buttons(message: Message) -> list[tuple[int, int]]:
    """(check-in id, score) for each 0–10 button under a survey message."""
    found = []
    for row in message.buttons or []:
        for button in row:
            match = _SCORE_BUTTON.match(str(button.get("data") or ""))
            if match:
                found.append((int(match[1]), int(match[2])))
    return found


def default_customer(session: Session) -> Customer | None:
    """Whoever the bot wrote to last: the most likely person to answer in a demo."""
    latest = session.scalar(
        select(Message.customer_id)
        .where(Message.direction == "out", Message.customer_id.is_not(None))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return session.get(Customer, latest) if latest is not None else None


def _customer_or_404(session: Session, external_id: str) -> Customer:
    customer = queries.customer_by_external_id(session, external_id, viewer=EVERYONE)
    if customer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No customer {external_id!r}.")
    return customer


def _phone(
    request: Request, session: Session, customer: Customer, *, name: str = "phone.html"
) -> HTMLResponse:
    messages = queries.customer_messages(session, customer.id, viewer=EVERYONE)
    return page(
        request,
        name,
        {
            "customer": customer,
            "address": address_of(customer),
            "thread": _thread(customer, messages),
        },
    )


@router.get("/simulator", response_class=HTMLResponse)
def simulator(
    request: Request, admin: AdminDep, session: SessionDep, customer: str = ""
) -> HTMLResponse:
    chosen = _customer_or_404(session, customer) if customer else default_customer(session)
    return _simulator_page(request, session, chosen)


def _simulator_page(
    request: Request, session: Session, chosen: Customer | None, tick_summary: str = ""
) -> HTMLResponse:
    messages = queries.customer_messages(session, chosen.id, viewer=EVERYONE) if chosen else []
    return page(
        request,
        "simulator.html",
        {
            "section": "simulator",
            "customers": lookups.customers_for_simulator(session, viewer=EVERYONE),
            "customer": chosen,
            "address": address_of(chosen) if chosen else None,
            "thread": _thread(chosen, messages) if chosen else [],
            "summary": tick_summary,
        },
    )


@router.get("/simulator/{external_id}/thread", response_class=HTMLResponse)
def thread(
    request: Request, external_id: str, admin: AdminDep, session: SessionDep
) -> HTMLResponse:
    """The messages alone, for the phone's polling (so scheduler sends show up too)."""
    return _phone(
        request, session, _customer_or_404(session, external_id), name="phone_thread.html"
    )


def _deliver(
    request: Request,
    staff: Staff,
    external_id: str,
    text: str,
    button: tuple[int, int] | None,
) -> Response:
    factory = request.app.state.session_factory
    now = utcnow()
    with transaction(factory) as session:
        customer = _customer_or_404(session, external_id)
        found = channel_and_address(customer)
        if found is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                "This customer has no phone or Telegram chat.",
            )
        channel, address = found
        inbound = Inbound(
            channel=channel,
            address=address,
            text=text,
            provider_id=f"sim-{uuid4()}",
            received_at=now,
            button_score=button,
            sender_name=customer.name,
        )
        receive(session, now, inbound, request.app.state.settings)
        # Speaking as a customer changes real data (a score, an escalation, an opt-out):
        # the trail says which admin it was, in the same transaction.
        said = f"pressed {button[1]}" if button is not None else f"wrote {text[:200]!r}"
        audit.record(session, now, staff.actor, "simulator.reply", external_id, said)
        customer_id = customer.id
    # Under `run` and `demo` the app's own sender is woken by the commit; without one
    # (an app built bare), this drain sends. Either way, wait for the answer.
    drain(factory, now, transports(request), settings=request.app.state.settings)
    wait_until_settled(factory, customer_id, now)
    if not request.headers.get("HX-Request"):
        return RedirectResponse(
            f"/admin/simulator?customer={external_id}", status.HTTP_303_SEE_OTHER
        )
    with factory() as session:
        return _phone(request, session, _customer_or_404(session, external_id))


@router.post("/simulator/{external_id}/reply", response_class=HTMLResponse)
def reply(
    request: Request, external_id: str, admin: AdminPost, text: Annotated[str, Form()] = ""
) -> Response:
    """The customer types `text` and presses send."""
    text = text.strip()[:MAX_REPLY_CHARS]
    if not text:
        with request.app.state.session_factory() as session:
            return _phone(request, session, _customer_or_404(session, external_id))
    return _deliver(request, admin, external_id, text, None)


@router.post("/simulator/{external_id}/button", response_class=HTMLResponse)
def press_button(
    request: Request,
    external_id: str,
    admin: AdminPost,
    checkin_id: Annotated[int, Form()],
    score: Annotated[int, Form(ge=0, le=10)],
) -> Response:
    """The customer taps a 0–10 button under a survey."""
    return _deliver(request, admin, external_id, "", (checkin_id, score))


@router.post("/simulator/tick", response_class=HTMLResponse)
def run_tick(request: Request, admin: AdminPost) -> HTMLResponse:
    """One scheduler pass now, as `bot.py tick` would run it."""
    report = tick(
        request.app.state.session_factory,
        utcnow(),
        transports(request),
        request.app.state.settings,
    )
    with transaction(request.app.state.session_factory) as session:
        audit.record(session, utcnow(), admin.actor, "simulator.tick", "", report.summary())
    if request.headers.get("HX-Request"):
        return page(request, "tick_report.html", {"summary": report.summary()})
    with request.app.state.session_factory() as session:
        return _simulator_page(request, session, default_customer(session), report.summary())
