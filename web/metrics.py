"""`GET /metrics`: Prometheus figures read from the database at scrape time.

Reading them from the database, rather than counting in memory, gives the
same answer whichever of several `run` processes is scraped. The endpoint
takes the API's bearer token (Prometheus' `authorization` setting sends it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from clock import utcnow
from models import CheckIn, Escalation, Message
from web.auth import require_api_token
from web.deps import SessionDep

router = APIRouter(tags=["ops"], dependencies=[Depends(require_api_token)])


class DatabaseFigures(Collector):
    """Counts by status of check-ins, outgoing messages and escalations."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield self._family(
            "aftercare_checkins",
            "Check-ins by kind and status.",
            ["kind", "status"],
            select(CheckIn.kind, CheckIn.status, func.count()).group_by(
                CheckIn.kind, CheckIn.status
            ),
        )
        yield self._family(
            "aftercare_outgoing_messages",
            "Outgoing messages by channel and status (queued = waiting in the outbox).",
            ["channel", "status"],
            select(Message.channel, Message.status, func.count())
            .where(Message.direction == "out")
            .group_by(Message.channel, Message.status),
        )
        yield self._family(
            "aftercare_escalations",
            "Escalations by kind and status.",
            ["kind", "status"],
            select(Escalation.kind, Escalation.status, func.count()).group_by(
                Escalation.kind, Escalation.status
            ),
        )
        yield self._family(
            "aftercare_escalations_past_sla",
            "Escalations still open (not acknowledged) past their SLA.",
            [],
            select(func.count(Escalation.id)).where(
                Escalation.status == "open", Escalation.sla_due_at < utcnow()
            ),
        )

    def _family(
        self, name: str, documentation: str, labels: list[str], query: Any
    ) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, documentation, labels=labels)
        for *values, count in self.session.execute(query):
            family.add_metric([str(v) for v in values], count)
        return family


def _scrape(session: Session) -> bytes:
    registry = CollectorRegistry()
    registry.register(DatabaseFigures(session))
    return generate_latest(registry)


# Not part of the JSON API, so not in its OpenAPI document.
@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(session: SessionDep) -> Response:
    """Check-ins, outgoing messages and escalations by status, in Prometheus' text format."""
    body = await run_in_threadpool(_scrape, session)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
