"""Step 1 of a pass: create the check-ins that the cadence rules make due.

Each rule reads candidates through an index (a range of delivery times, of
promised dates, of anchors) and inserts with ON CONFLICT DO NOTHING on the
(customer, kind, dedupe_key) key. Running the same pass twice, or in two
processes at once, therefore creates nothing new: the database decides.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, text, update
from sqlalchemy.orm import Session

from cadence import due as cadence
from cadence.quiet_hours import zone_for
from cadence.rules import CadenceRules
from models import CheckIn, Customer, Escalation, Purchase
from models.db import insert_rows
from models.states import CheckInKind, CheckInStatus, EscalationKind


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert check-ins (rows from `_row`), skipping those already planned; how many were new."""
    unique_key = ["customer_id", "kind", "dedupe_key"]
    return len(insert_rows(session, CheckIn, rows, unless_exists=unique_key, returning=CheckIn.id))


def _row(
    customer_id: int, kind: str, key: str, due_at: datetime, now: datetime, **extra: Any
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "kind": kind,
        "dedupe_key": key,
        "due_at": due_at,
        "status": "scheduled",
        "created_at": now,
        "purchase_id": extra.get("purchase_id"),
    }


def _no_checkin(kind: str, key: Any) -> Any:
    return ~exists().where(CheckIn.kind == kind, CheckIn.dedupe_key == key)


def plan_post_delivery(session: Session, now: datetime, rules: CadenceRules) -> int:
    oldest = (
        now - rules.max_post_delivery_delay - timedelta(days=rules.post_delivery_max_lateness_days)
    )
    newest = now - rules.min_post_delivery_delay
    key = "p" + Purchase.id.cast(type_=CheckIn.dedupe_key.type)
    candidates = session.execute(
        select(Purchase.id, Purchase.customer_id, Purchase.category, Purchase.delivered_at).where(
            Purchase.delivered_at > oldest,
            Purchase.delivered_at <= newest,
            ~exists().where(
                CheckIn.customer_id == Purchase.customer_id,
                CheckIn.kind == CheckInKind.POST_DELIVERY,
                CheckIn.dedupe_key == key,
            ),
        )
    ).all()
    rows = []
    for purchase_id, customer_id, category, delivered_at in candidates:
        assert delivered_at is not None  # the WHERE clause guarantees it
        due = cadence.post_delivery_due(delivered_at, category, rules)
        if due <= now and not cadence.post_delivery_too_late(due, now, rules):
            rows.append(
                _row(
                    customer_id,
                    "post_delivery",
                    f"p{purchase_id}",
                    due,
                    now,
                    purchase_id=purchase_id,
                )
            )
    return _insert_ignoring_duplicates(session, rows)


def plan_post_delivery_of(
    session: Session, purchase_id: int, now: datetime, rules: CadenceRules
) -> CheckIn | None:
    """Plan one delivered purchase's post-delivery check-in at once, even if it falls due later.

    For a shop that reports a delivery as it happens (the write API): the
    check-in exists from then on, due when the cadence says, and the pass that
    would plan it finds it planned (same unique key). A delivery time corrected
    before the survey went out moves its due time. None when the purchase is
    not delivered, or was delivered too long ago to ask (as plan_post_delivery).
    """
    purchase = session.get(Purchase, purchase_id)
    if purchase is None or purchase.delivered_at is None:
        return None
    due = cadence.post_delivery_due(purchase.delivered_at, purchase.category, rules)
    key = f"p{purchase_id}"
    existing = _checkin(session, purchase.customer_id, CheckInKind.POST_DELIVERY, key)
    if existing is None:
        if cadence.post_delivery_too_late(due, now, rules):
            return None
        row = _row(purchase.customer_id, "post_delivery", key, due, now, purchase_id=purchase_id)
        _insert_ignoring_duplicates(session, [row])
        return _checkin(session, purchase.customer_id, CheckInKind.POST_DELIVERY, key)
    if existing.status == CheckInStatus.SCHEDULED and existing.due_at != due:
        existing.due_at = due
        session.flush()
    return existing


def _checkin(session: Session, customer_id: int, kind: str, key: str) -> CheckIn | None:
    return session.scalars(
        select(CheckIn).where(
            CheckIn.customer_id == customer_id, CheckIn.kind == kind, CheckIn.dedupe_key == key
        )
    ).first()


def plan_delay_notices(
    session: Session, now: datetime, rules: CadenceRules, default_tz: str
) -> int:
    earliest = (now - timedelta(days=rules.delay_notice_max_age_days + 2)).date()
    candidates = session.execute(
        select(
            Purchase.id, Purchase.customer_id, Purchase.promised_delivery_date, Customer.timezone
        )
        .join(Customer, Customer.id == Purchase.customer_id)
        .where(
            Purchase.promised_delivery_date >= earliest,
            Purchase.promised_delivery_date <= now.date() + timedelta(days=1),
            Purchase.delivered_at.is_(None),
        )
    ).all()
    rows = []
    for purchase_id, customer_id, promised, zone_name in candidates:
        assert promised is not None
        due = cadence.delay_notice_due(promised, zone_for(zone_name, default_tz))
        if due <= now:
            key = f"p{purchase_id}:{promised.isoformat()}"
            rows.append(_row(customer_id, "delay_notice", key, due, now, purchase_id=purchase_id))
    return _insert_ignoring_duplicates(session, rows)


def plan_periodic(session: Session, now: datetime, rules: CadenceRules) -> int:
    candidates = session.execute(
        select(Customer.id, Customer.periodic_anchor_at).where(
            Customer.periodic_anchor_at <= now - timedelta(days=rules.periodic_days),
            Customer.opted_out_at.is_(None),
        )
    ).all()
    rows = []
    for customer_id, anchor in candidates:
        assert anchor is not None
        due = cadence.periodic_due(anchor, rules)
        rows.append(_row(customer_id, "periodic", due.date().isoformat(), due, now))
    return _insert_ignoring_duplicates(session, rows)


def plan_service(session: Session, now: datetime, rules: CadenceRules) -> int:
    candidates = session.execute(
        select(
            Purchase.id, Purchase.customer_id, Purchase.delivered_at, Purchase.next_service_at
        ).where(Purchase.next_service_at <= now)
    ).all()
    rows = []
    for purchase_id, customer_id, delivered_at, due in candidates:
        assert due is not None
        current, following = cadence.service_catch_up(due, now, rules)
        if current is not None:
            number = cadence.service_number(delivered_at or current, current, rules)
            key = f"p{purchase_id}:s{number}"
            rows.append(_row(customer_id, "service", key, current, now, purchase_id=purchase_id))
        # Advance only if nobody else did: a conditional update, safe under concurrency.
        session.execute(
            update(Purchase)
            .where(Purchase.id == purchase_id, Purchase.next_service_at == due)
            .values(next_service_at=following)
        )
    return _insert_ignoring_duplicates(session, rows)


def plan_recovery(session: Session, now: datetime, rules: CadenceRules) -> int:
    delay = timedelta(days=rules.recovery_days)
    candidates = session.execute(
        select(Escalation.id, Escalation.customer_id, Escalation.resolved_at).where(
            Escalation.resolved_at <= now - delay,
            Escalation.resolved_at > now - delay - timedelta(days=30),
            Escalation.recovery_checkin_id.is_(None),
            Escalation.kind == EscalationKind.DETRACTOR,
        )
    ).all()
    rows = []
    for escalation_id, customer_id, resolved_at in candidates:
        assert resolved_at is not None
        due = cadence.recovery_due(resolved_at, rules)
        rows.append(_row(customer_id, "recovery", f"e{escalation_id}", due, now))
    created = _insert_ignoring_duplicates(session, rows)
    for escalation_id, customer_id, _ in candidates:
        checkin_id = session.scalar(
            select(CheckIn.id).where(
                and_(
                    CheckIn.customer_id == customer_id,
                    CheckIn.kind == CheckInKind.RECOVERY,
                    CheckIn.dedupe_key == f"e{escalation_id}",
                )
            )
        )
        session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, Escalation.recovery_checkin_id.is_(None))
            .values(recovery_checkin_id=checkin_id)
        )
    return created


# Any constant works; it only has to be the same in every Aftercare process.
PLAN_LOCK_KEY = 0x506C616E  # "Plan"


def plan(session: Session, now: datetime, rules: CadenceRules, default_tz: str) -> Counter[str]:
    """Create every check-in due at `now`; return how many of each kind were new.

    On PostgreSQL passes plan one at a time (a transaction-scoped advisory lock):
    the unique keys already make a second planner harmless, but four processes
    starting together would each read the same candidates and try the same
    inserts; waiting instead, the later ones find everything planned.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLAN_LOCK_KEY})
    return Counter(
        {
            "post_delivery": plan_post_delivery(session, now, rules),
            "delay_notice": plan_delay_notices(session, now, rules, default_tz),
            "periodic": plan_periodic(session, now, rules),
            "service": plan_service(session, now, rules),
            "recovery": plan_recovery(session, now, rules),
        }
    )


__all__ = ["plan", "plan_post_delivery_of"]
