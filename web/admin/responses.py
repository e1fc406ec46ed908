"""Responses: every answer with its customer, rep, product and contact, filtered, searched and paged.

The query is reports.responses' (which the CSV export shares); this page only
reads the filters from the address and shows a page of rows. Times are shown in
the business's zone (AFTERCARE_DEFAULT_TZ), phone numbers masked.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from messaging.privacy import masked
from models import KINDS, LANGUAGES
from reports.responses import (
    NPS_CATEGORIES,
    ResponseFilter,
    count_responses,
    filter_choices,
    find_responses,
)
from web.admin.auth import StaffDep
from web.admin.rendering import business_zone, page
from web.deps import SessionDep

router = APIRouter()

PAGE_SIZE = 50
# The address parameters, as the filter form names them, by ResponseFilter field.
PARAMETERS = {
    "since": "since",
    "until": "until",
    "rep": "rep",
    "product": "product",
    "category": "category",
    "kind": "kind",
    "channel": "channel",
    "language": "language",
    "nps_category": "nps",
    "text": "q",
}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None  # the form's date picker sends ISO dates; anything else filters nothing


def response_filter(
    request: Request,
    staff: StaffDep,
    since: str = "",
    until: str = "",
    rep: str = "",
    product: str = "",
    category: str = "",
    kind: str = "",
    channel: str = "",
    language: str = "",
    nps: str = "",
    q: str = "",
) -> ResponseFilter:
    """The filters in the address (shared by the page and its CSV export)."""
    return ResponseFilter(
        since=_day(since),
        until=_day(until),
        rep=rep[:100],
        product=product[:200],
        category=category[:50],
        kind=kind if kind in KINDS else "",
        channel=channel[:10],
        language=language if language in LANGUAGES else "",
        nps_category=nps if nps in NPS_CATEGORIES else "",
        text=q[:200],
        zone=business_zone(request),
        viewer=staff.viewer,
    )


FilterDep = Annotated[ResponseFilter, Depends(response_filter)]


def query_string(filters: ResponseFilter, **extra: int) -> str:
    """The filters as address parameters (empty ones left out), plus `extra`."""
    values: dict[str, object] = {}
    for field, parameter in PARAMETERS.items():
        value = getattr(filters, field)
        if value:
            values[parameter] = value.isoformat() if isinstance(value, date) else value
    values.update(extra)
    return urlencode(values)


@router.get("/responses", response_class=HTMLResponse)
def response_list(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    filters: FilterDep,
    page_asked: Annotated[str, Query(alias="page")] = "1",
) -> HTMLResponse:
    total = count_responses(session, filters)
    pages = max(1, -(-total // PAGE_SIZE))
    current = min(max(int(page_asked) if page_asked.isdigit() else 1, 1), pages)
    rows = find_responses(session, filters, offset=(current - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return page(
        request,
        "responses.html",
        {
            "section": "responses",
            "filters": filters,
            "choices": filter_choices(session),
            "kinds": KINDS,
            "languages": LANGUAGES,
            "nps_categories": NPS_CATEGORIES,
            "rows": rows,
            "phones": {
                row.response_id: masked(row.customer_phone) for row in rows if row.customer_phone
            },
            "total": total,
            "page_number": current,
            "pages": pages,
            "query": query_string(filters),
            "zone": filters.zone,
        },
    )
