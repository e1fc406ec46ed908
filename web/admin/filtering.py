"""The dashboard's filters read from the query string, so a filtered view is a shareable URL.

`?period=quarter&rep=rep-1&language=pl`, or `?period=custom&from=2026-01-01&to=2026-03-31`.
Unknown values are refused with a one-line 400 naming the parameter, never guessed.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, status

from reports.filters import FIELDS, DashboardFilter, parse_date

MAX_VALUE = 200


def read_filters(request: Request, zone: str = "UTC") -> DashboardFilter:
    """The filters the request's query parameters give (absent ones keep everything)."""
    params = request.query_params
    values = {name: params.get(name, "").strip()[:MAX_VALUE] for name in FIELDS}
    try:
        return DashboardFilter(
            period=params.get("period", "all") or "all",
            start=parse_date(params.get("from", ""), "from"),
            end=parse_date(params.get("to", ""), "to"),
            zone=zone,
            **values,
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
