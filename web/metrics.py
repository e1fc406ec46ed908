"""`GET /metrics`: Prometheus figures read from the database at scrape time, and this process's.

Reading them from the database, rather than counting in memory, gives the
same answer whichever of several `run` processes is scraped: check-ins,
messages, escalations, the outbox's depth and oldest due message per lane,
senders paused by a provider, reconciled claims, inbound messages waiting
for their turn, Telegram updates that could not be handled. What only a process knows
(its sends' latency, requests in flight, 429s it got) comes from
`messaging.outbox.metrics`; scrape every process for those. The endpoint takes
the API's bearer token (Prometheus' `authorization` setting sends it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from clock import utcnow
from events.metrics import REGISTRY as EVENT_FIGURES
from events.report import standing
from messaging.outbox import LANES
from messaging.outbox.metrics import REGISTRY as PROCESS_FIGURES
from models import CheckIn, Escalation, FailedTelegramUpdate, Message, SendBudget
from models.db import in_state
from models.states import EscalationStatus, MessageStatus
from web.auth import require_api_token
from web.deps import SessionDep

router = APIRouter(tags=["ops"], dependencies=[Depends(require_api_token)])


class DatabaseFigures(Collector):
    """Counts by status of check-ins, outgoing messages and escalations."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = utcnow()
        yield from self._outbox(now)
        yield from self._inbox(now)
        yield from self._events(now)
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
                Escalation.status == EscalationStatus.OPEN, Escalation.sla_due_at < now
            ),
        )

    def _outbox(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        due = self.session.execute(
            select(Message.lane, func.count(), func.min(Message.next_attempt_at))
            .where(in_state(Message.status, MessageStatus.QUEUED), Message.next_attempt_at <= now)
            .group_by(Message.lane)
        ).all()
        depth = GaugeMetricFamily(
            "aftercare_outbox_due", "Messages due now and not yet sent, by lane.", labels=["lane"]
        )
        oldest = GaugeMetricFamily(
            "aftercare_outbox_oldest_due_seconds",
            "How long the longest-waiting due message has waited, by lane.",
            labels=["lane"],
        )
        for lane in LANES:
            count, since = next(((c, s) for name, c, s in due if name == lane), (0, None))
            depth.add_metric([lane], count)
            oldest.add_metric([lane], (now - since).total_seconds() if since else 0.0)
        yield depth
        yield oldest
        paused = GaugeMetricFamily(
            "aftercare_sender_paused_seconds",
            "Seconds left of a pause a provider imposed (a 429), by sender.",
            labels=["sender"],
        )
        clock = now.timestamp()
        for key, until in self.session.execute(
            select(SendBudget.key, SendBudget.paused_until).where(SendBudget.paused_until > clock)
        ):
            paused.add_metric([key], (until or clock) - clock)
        yield paused
        yield self._family(
            "aftercare_reconciled_messages",
            "Messages whose lost claim was settled, by outcome: found at the provider, "
            "resent, or resent blind (the provider cannot tell: a possible duplicate).",
            ["outcome"],
            select(Message.reconciliation, func.count())
            .where(Message.reconciliation.is_not(None))
            .group_by(Message.reconciliation),
        )

    def _inbox(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        count, since = self.session.execute(
            select(func.count(Message.id), func.min(Message.created_at)).where(
                Message.direction == "in", Message.processed_at.is_(None)
            )
        ).one()
        yield GaugeMetricFamily(
            "aftercare_inbox_waiting",
            "Inbound messages acknowledged and stored whose turn (the answer) is still to come.",
            value=count,
        )
        yield GaugeMetricFamily(
            "aftercare_inbox_oldest_seconds",
            "How long the longest-waiting of them has waited.",
            value=(now - since).total_seconds() if since else 0.0,
        )
        yield GaugeMetricFamily(
            "aftercare_telegram_updates_failed",
            "Polled Telegram updates that failed every attempt, kept for an admin (dashboard).",
            value=self.session.scalar(select(func.count(FailedTelegramUpdate.id))) or 0,
        )

    def _events(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        figures = standing(self.session, now)
        by_status = GaugeMetricFamily(
            "aftercare_events",
            "Event webhook deliveries (one per event and receiver) by status: pending and "
            "sending wait, dead failed for 24 h and were given up.",
            labels=["status"],
        )
        for status, count in figures.by_status.items():
            by_status.add_metric([status], count)
        yield by_status
        yield GaugeMetricFamily(
            "aftercare_events_pending",
            "Event deliveries not yet accepted by their receiver (pending or being sent).",
            value=figures.waiting,
        )
        yield GaugeMetricFamily(
            "aftercare_events_dead",
            "Event deliveries given up after 24 h of failures (listed in the admin UI, Events).",
            value=figures.by_status["dead"],
        )
        yield GaugeMetricFamily(
            "aftercare_events_oldest_pending_seconds",
            "How long the longest-waiting undelivered event has waited.",
            value=figures.oldest_waiting_seconds,
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
    return (
        generate_latest(registry)
        + generate_latest(PROCESS_FIGURES)
        + generate_latest(EVENT_FIGURES)
    )


# Not part of the JSON API, so not in its OpenAPI document.
@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(session: SessionDep) -> Response:
    """Check-ins, outgoing messages and escalations by status, in Prometheus' text format."""
    body = await run_in_threadpool(_scrape, session)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
