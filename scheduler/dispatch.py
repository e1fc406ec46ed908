"""Step 2 of a pass: claim due check-ins, decide each, render and queue the sendable ones.

A batch is claimed with one conditional UPDATE (row locks with SKIP LOCKED on
PostgreSQL), decided, and committed together with the messages it queues, so
two processes never dispatch the same check-in and a crash loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel.dates import format_date
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from cadence.decisions import (
    SURVEY_KINDS,
    Decision,
    Facts,
    decide,
)
from cadence.quiet_hours import local_today, zone_for
from cadence.rules import CadenceRules
from messaging.channels.registry import address_fields, address_on, reach
from messaging.compose import TemplateBook, customer_context, score_buttons
from messaging.outbox import message_row, queue_many
from messaging.render import TemplateError
from models import CheckIn, Customer, Escalation, Purchase
from models.db import claimed, in_state, one_of
from models.states import CheckInKind, CheckInStatus, EscalationStatus, Purpose
from settings import Settings

TEMPLATE_FOR_KIND = {
    "post_delivery": "survey_post_delivery",
    "periodic": "survey_periodic",
    "service": "survey_service",
    "recovery": "survey_recovery",
    "delay_notice": "delay_notice",
}


FIRST_BATCH = 50


@dataclass(frozen=True)
class Outcome:
    """What happened to one due check-in (also what `plan --at` prints)."""

    checkin_id: int
    customer: str
    kind: str
    action: str  # "send", "wait", "suppress", "fail"
    channel: str | None = None
    reason: str | None = None
    body: str | None = None


# Rows, not ORM objects (SQLAlchemy types their columns one by one; these read as names):
DueCheckIn = Any  # id, customer_id, purchase_id, kind, due_at
CustomerRow = Any  # the columns of _CUSTOMER


def claim_due(session: Session, now: datetime, limit: int) -> list[DueCheckIn]:
    """Claim up to `limit` due check-ins (now "queued"): rows of id, customer_id, purchase_id, kind."""
    due = (
        select(CheckIn.id)
        .where(
            in_state(CheckIn.status, CheckInStatus.SCHEDULED),
            CheckIn.due_at <= now,
            (CheckIn.not_before.is_(None)) | (CheckIn.not_before <= now),
            CheckIn.paused_at.is_(None),  # paused on the Upcoming page: held until resumed
        )
        .order_by(CheckIn.due_at, CheckIn.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(CheckIn)
        .where(claimed(session, due, CheckIn.id), CheckIn.status == CheckInStatus.SCHEDULED)
        .values(status="queued")
        .returning(
            CheckIn.id, CheckIn.customer_id, CheckIn.purchase_id, CheckIn.kind, CheckIn.due_at
        ),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(taken, key=lambda row: (row.due_at, row.id))


class Neighbourhood:
    """Everything about the batch's customers that the decisions read, in four queries.

    Plain rows, not ORM objects: a batch is hundreds of check-ins, and the
    decisions only read.
    """

    def __init__(
        self, session: Session, checkins: list[DueCheckIn], now: datetime, default_tz: str
    ) -> None:
        customer_ids = {c.customer_id for c in checkins}
        self.customers = {
            c.id: c
            for c in session.execute(
                select(*_CUSTOMER).where(one_of(session, Customer.id, customer_ids))
            )
        }
        purchase_ids = {c.purchase_id for c in checkins if c.purchase_id is not None}
        self.purchases = (
            {
                p.id: p
                for p in session.execute(
                    select(*_PURCHASE).where(one_of(session, Purchase.id, purchase_ids))
                )
            }
            if purchase_ids
            else {}
        )
        self.open_escalation = dict(
            session.execute(
                select(Escalation.customer_id, func.min(Escalation.id))
                .where(
                    one_of(session, Escalation.customer_id, customer_ids),
                    Escalation.status != EscalationStatus.RESOLVED,
                )
                .group_by(Escalation.customer_id)
            ).all()
        )
        self.overdue: dict[int, str] = {}
        undelivered = session.execute(
            select(Purchase.customer_id, Purchase.product, Purchase.promised_delivery_date).where(
                one_of(session, Purchase.customer_id, customer_ids),
                Purchase.delivered_at.is_(None),
                Purchase.promised_delivery_date.is_not(None),
                Purchase.promised_delivery_date <= now.date(),
            )
        ).all()
        for customer_id, product, promised in undelivered:
            customer = self.customers[customer_id]
            if promised is not None and promised < local_today(
                now, zone_for(customer.timezone, default_tz)
            ):
                self.overdue.setdefault(customer_id, product)
        # Customers surveyed earlier in this very batch: the throttle counts those too.
        self.surveyed_now: set[int] = set()

    def facts(self, checkin: DueCheckIn, now: datetime, default_tz: str) -> Facts:
        customer = self.customers[checkin.customer_id]
        purchase = self.purchases.get(checkin.purchase_id) if checkin.purchase_id else None
        delivered = purchase is not None and purchase.delivered_at is not None
        return Facts(
            kind=checkin.kind,
            zone=zone_for(customer.timezone, default_tz),
            opted_out=customer.opted_out_at is not None,
            channel=reachable(customer),
            last_survey_at=now if customer.id in self.surveyed_now else customer.last_survey_at,
            open_escalation_id=self.open_escalation.get(customer.id),
            overdue_product=self.overdue.get(customer.id),
            delivered_product=purchase.product if purchase and delivered else None,
        )


def reachable(customer: Any) -> str | None:
    """The channel the customer uses if we can reach them there, else another that works."""
    found = reach(customer, customer.channel)
    return found[0] if found is not None else None


_CUSTOMER = (
    Customer.id,
    Customer.external_id,
    Customer.name,
    Customer.language,
    Customer.timezone,
    Customer.channel,
    # The addresses of every channel (and whether each is dead), as the registry lists them.
    *(getattr(Customer, name) for name in address_fields()),
    Customer.opted_out_at,
    Customer.last_survey_at,
)
_PURCHASE = (Purchase.id, Purchase.product, Purchase.delivered_at, Purchase.promised_delivery_date)


@dataclass
class _Writes:
    """What a batch changes, written set-wise: one UPDATE per distinct change, not per row.

    A batch of 500 surveys changes its check-ins in a handful of ways (one per
    channel, template and version), so grouping by the new values turns 500
    statements into a few, each naming its rows in one array parameter.
    """

    waits: dict[tuple[str | None, datetime | None], list[int]] = field(default_factory=dict)
    closes: dict[tuple[str, str | None], list[int]] = field(default_factory=dict)
    sends: dict[tuple[str, str, int | None], list[int]] = field(default_factory=dict)
    surveyed: list[int] = field(default_factory=list)
    periodic_closed: list[int] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session, now: datetime) -> None:
        connection = session.connection()

        def checkins(ids: list[int]) -> Any:
            return update(CheckIn).where(one_of(session, CheckIn.id, ids))

        for (why, wake), ids in self.waits.items():
            connection.execute(
                checkins(ids).values(status="scheduled", reason=why, not_before=wake)
            )
        for (final, why), ids in self.closes.items():
            connection.execute(
                checkins(ids).values(status=final, reason=why, closed_at=now, not_before=None)
            )
        for (via, key, version), ids in self.sends.items():
            connection.execute(
                checkins(ids).values(
                    channel=via,
                    reason=None,
                    not_before=None,
                    template_key=key,
                    template_version=version,
                )
            )
        if self.surveyed:
            connection.execute(
                update(Customer)
                .where(one_of(session, Customer.id, self.surveyed))
                .values(last_survey_at=now, periodic_anchor_at=now)
            )
        if self.periodic_closed:
            # Otherwise the same periodic would be due again at once, forever.
            connection.execute(
                update(Customer)
                .where(one_of(session, Customer.id, self.periodic_closed))
                .values(periodic_anchor_at=now)
            )
        queue_many(session, self.messages)


def dispatch_batch(
    session: Session,
    now: datetime,
    rules: CadenceRules,
    settings: Settings,
    book: TemplateBook,
    *,
    limit: int = 500,
) -> list[Outcome]:
    """Claim up to `limit` due check-ins and settle each of them; [] when none are due."""
    checkins = claim_due(session, now, limit)
    if not checkins:
        return []
    around = Neighbourhood(session, checkins, now, settings.default_tz)
    writes = _Writes()
    outcomes = []
    for checkin in checkins:
        facts = around.facts(checkin, now, settings.default_tz)
        decision = decide(facts, now, rules)
        outcomes.append(_apply(now, checkin, around, facts, decision, settings, book, writes))
    writes.write(session, now)
    return outcomes


def _apply(
    now: datetime,
    checkin: DueCheckIn,
    around: Neighbourhood,
    facts: Facts,
    decision: Decision,
    settings: Settings,
    book: TemplateBook,
    writes: _Writes,
) -> Outcome:
    """Carry out `decision` on the check-in: the changes go to `writes`."""
    customer = around.customers[checkin.customer_id]
    label = f"{customer.external_id} ({customer.name})"
    if decision.action == "wait":
        writes.waits.setdefault((decision.reason, decision.not_before), []).append(checkin.id)
        return Outcome(checkin.id, label, checkin.kind, "wait", facts.channel, decision.reason)
    if decision.action == "suppress":
        _close(writes, checkin, "suppressed", decision.reason)
        return Outcome(checkin.id, label, checkin.kind, "suppress", facts.channel, decision.reason)
    # The customer's real channel, recorded and rendered for, whatever delivers it (without
    # credentials the console stands in: it shows what that channel would).
    channel = facts.channel
    assert channel is not None
    try:
        composed = book.compose(
            TEMPLATE_FOR_KIND[checkin.kind],
            customer.language,
            _context(checkin, customer, around, settings, channel),
        )
    except TemplateError as error:
        reason = f"template error: {error}"
        _close(writes, checkin, "failed", reason)
        return Outcome(checkin.id, label, checkin.kind, "fail", facts.channel, reason)
    address = address_on(channel, customer)
    if address is None:  # decide() checked reachability; the row changed under us
        reason = f"no {channel} address any more"
        _close(writes, checkin, "suppressed", reason)
        return Outcome(checkin.id, label, checkin.kind, "suppress", channel, reason)
    is_survey = checkin.kind in SURVEY_KINDS
    writes.messages.append(
        message_row(
            now=now,
            channel=channel,
            address=address,
            body=composed.body,
            purpose=Purpose.SURVEY if is_survey else Purpose.DELAY_NOTICE,
            customer_id=customer.id,
            checkin_id=checkin.id,
            buttons=score_buttons(checkin.id) if is_survey else None,
            composed=composed,
        )
    )
    writes.sends.setdefault((channel, composed.key, composed.version), []).append(checkin.id)
    if is_survey:
        around.surveyed_now.add(customer.id)
        writes.surveyed.append(customer.id)
    return Outcome(checkin.id, label, checkin.kind, "send", channel, None, composed.body)


def _close(writes: _Writes, checkin: DueCheckIn, status: str, reason: str | None) -> None:
    writes.closes.setdefault((status, reason), []).append(checkin.id)
    if checkin.kind == CheckInKind.PERIODIC:
        writes.periodic_closed.append(checkin.customer_id)


def _context(
    checkin: DueCheckIn,
    customer: CustomerRow,
    around: Neighbourhood,
    settings: Settings,
    channel: str,
) -> dict[str, Any]:
    purchase = around.purchases.get(checkin.purchase_id) if checkin.purchase_id else None
    extra: dict[str, Any] = {"product": purchase.product if purchase else None}
    if checkin.kind == CheckInKind.DELAY_NOTICE and purchase and purchase.promised_delivery_date:
        extra["promised_date"] = format_date(
            purchase.promised_delivery_date, "long", locale=customer.language
        )
    return customer_context(customer, settings, channel, **extra)


def dispatch(
    factory: sessionmaker[Session],
    now: datetime,
    rules: CadenceRules,
    settings: Settings,
    *,
    batch_size: int = 500,
) -> Iterator[Outcome]:
    """Dispatch every due check-in, one committed batch at a time.

    The first batches are small and then double up to `batch_size`: the sender
    starts on the first committed batch, so the first survey leaves at once.
    """
    with factory() as session:
        book = TemplateBook.load(session)
    size = min(FIRST_BATCH, batch_size)
    while True:
        with factory.begin() as session:
            outcomes = dispatch_batch(session, now, rules, settings, book, limit=size)
        if not outcomes:
            return
        yield from outcomes
        size = min(2 * size, batch_size)
