"""The public pages a survey email's links open: a score, its comment box, unsubscribing.

No login: the signed token in the path is the proof (messaging/links.py). A forged
or damaged token, or an expired survey, gets a polite page and changes nothing.
Mail scanners open links before people do, so a GET is never taken as more than a
click of that number (the same number twice is one press; see docs/channels.md):
the comment box and unsubscribing need a POST, which scanners do not send.
Handlers only translate; what a click does is intake/email_links.py's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from clock import utcnow
from intake import email_links
from messaging import links
from messaging.html import render_html
from messaging.render import render
from models.states import NpsCategory
from settings import Settings
from web.deps import SessionDep, SettingsDep

router = APIRouter(include_in_schema=False)
SCORES = range(11)


def _key(request: Request) -> bytes:
    """The link signing key, read once per app (the stored one is shared by every process)."""
    key: bytes | None = getattr(request.app.state, "email_link_key", None)
    if key is None:
        key = links.link_key(request.app.state.settings, request.app.state.session_factory)
        request.app.state.email_link_key = key
    return key


LinkKey = Annotated[bytes, Depends(_key)]


def _page(
    key: str, language: str, context: dict[str, Any], status: int = 200, **page: Any
) -> HTMLResponse:
    lines = render(key, language, {"channel": "email", **context}).splitlines()
    body = render_html(
        "page.html",
        {
            "language": language,
            "heading": lines[0],
            "lines": page.pop("lines", lines[1:]),
            "review_url": None,
            "comment_url": None,
            "unsubscribe_url": None,
            "scores": None,
            "button": None,
            "change_hint": None,
            "chosen": None,
            **page,
        },
    )
    # No caching by proxies, no referrer carrying the token to a review site.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(body, status_code=status, headers=headers)


def _people(customer: Any, settings: Settings) -> dict[str, Any]:
    name = customer.name if customer is not None else ""
    return {
        "first_name": name.split()[0] if name.strip() else name,
        "name": name,
        "business_name": settings.business_name,
    }


def _state_page(state: str, customer: Any, settings: Settings, status: int) -> HTMLResponse:
    language = customer.language if customer is not None else "en"
    context = {**_people(customer, settings), "state": state, "address": ""}
    return _page("link_page", language, context, status)


@router.get("/r/{token}/{value}", response_class=HTMLResponse)
def score_link(
    token: str,
    value: int,
    session: SessionDep,
    settings: SettingsDep,
    key: LinkKey,
) -> HTMLResponse:
    checkin_id = links.checkin_of(key, token)
    if checkin_id is None or value not in SCORES:
        return _state_page("invalid", None, settings, 404)
    clicked = email_links.score(session, utcnow(), checkin_id, value, settings)
    session.commit()
    if clicked.state != "scored" or clicked.response is None:
        status = 404 if clicked.state == "invalid" else 410
        return _state_page(clicked.state, clicked.customer, settings, status)
    response, customer = clicked.response, clicked.customer
    assert customer is not None
    base = f"{settings.public_url}/r/{token}"
    context = {
        **_people(customer, settings),
        "score": response.score,
        "category": response.category,
        "review_url": settings.review_url,
    }
    lines = render("score_page", customer.language, {"channel": "email", **context}).splitlines()
    promoter = response.category == NpsCategory.PROMOTER
    return _page(
        "score_page",
        customer.language,
        context,
        lines=[lines[1]],
        review_url=settings.review_url or None if promoter else None,
        comment_url=f"{base}/comment",
        button=lines[2],
        change_hint=lines[3],
        scores=[(n, f"{base}/{n}") for n in SCORES],
        chosen=response.score,
    )


@router.post("/r/{token}/comment", response_class=HTMLResponse)
def score_comment(
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    key: LinkKey,
    comment: Annotated[str, Form()] = "",
) -> HTMLResponse:
    checkin_id = links.checkin_of(key, token)
    if checkin_id is None:
        return _state_page("invalid", None, settings, 404)
    clicked = email_links.comment(session, utcnow(), checkin_id, comment, settings)
    session.commit()
    state = clicked.state if clicked.state != "open" else "commented"
    status = {"invalid": 404, "expired": 410}.get(state, 200)
    return _state_page(state, clicked.customer, settings, status)


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    key: LinkKey,
) -> HTMLResponse:
    """Asks first: a scanner opening the footer link must not unsubscribe anyone."""
    address = _unsubscribing(token, key)
    if address is None:
        return _state_page("invalid", None, settings, 404)
    customer = email_links.customers_at(session, address)
    language = customer.language if customer is not None else "en"
    context = {**_people(customer, settings), "state": "confirm_unsubscribe", "address": address}
    lines = render("link_page", language, {"channel": "email", **context}).splitlines()
    return _page(
        "link_page",
        language,
        context,
        lines=lines[1:-1],
        unsubscribe_url=f"{settings.public_url}/u/{token}",
        button=lines[-1],
    )


@router.post("/u/{token}", response_class=HTMLResponse)
def unsubscribe(
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    key: LinkKey,
) -> HTMLResponse:
    """RFC 8058 one-click (the mail provider POSTs "List-Unsubscribe=One-Click"), or the page's button."""
    address = _unsubscribing(token, key)
    if address is None:
        return _state_page("invalid", None, settings, 404)
    customers = email_links.unsubscribe(session, utcnow(), address)
    session.commit()
    return _state_page("unsubscribed", customers[0] if customers else None, settings, 200)


def _unsubscribing(token: str, key: bytes) -> str | None:
    """The address an unsubscribe token was made for; None when it is forged."""
    return links.address_of(key, token)
