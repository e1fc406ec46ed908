"""CSV exports: the responses a filter keeps (every page of them), the escalations, the NPS breakdown.

The files are streamed as they are read from the database, with a session of
their own that lives as long as the download. What goes in them, and how they
are kept safe to open in a spreadsheet, is reports.exports' and reports.spreadsheet's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from models.states import EscalationStatus
from reports.exports import escalations_csv, nps_csv, responses_csv
from reports.nps import GROUP_FIELDS, nps_report
from web.admin.auth import AdminDep, StaffDep
from web.admin.filtering import read_filters
from web.admin.responses import FilterDep

router = APIRouter()


def _download(
    request: Request, name: str, chunks: Callable[[Session], Iterator[str]]
) -> StreamingResponse:
    factory: sessionmaker[Session] = request.app.state.session_factory

    def body() -> Iterator[bytes]:
        with factory() as session:
            for chunk in chunks(session):
                yield chunk.encode("utf-8")

    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/responses.csv")
def responses_export(request: Request, staff: StaffDep, filters: FilterDep) -> StreamingResponse:
    return _download(request, "responses", lambda session: responses_csv(session, filters))


@router.get("/escalations.csv")
def escalations_export(request: Request, admin: AdminDep, status: str = "") -> StreamingResponse:
    wanted = status if status in set(EscalationStatus) else ""
    zone = request.app.state.settings.default_tz
    return _download(
        request,
        f"escalations-{wanted}" if wanted else "escalations",
        lambda session: escalations_csv(session, wanted, zone),
    )


@router.get("/nps.csv")
def nps_export(request: Request, staff: StaffDep, by: str = "rep") -> StreamingResponse:
    """The dashboard's NPS under its filters, broken down by one of reports.nps.GROUP_FIELDS."""
    by = by if by in GROUP_FIELDS else "rep"
    filters = read_filters(request, request.app.state.settings.default_tz)
    since, until = filters.window(utcnow())
    return _download(
        request,
        f"nps-by-{by}",
        lambda session: nps_csv(
            nps_report(session, since, until, by, viewer=staff.viewer, filters=filters)
        ),
    )
