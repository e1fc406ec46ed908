"""Contact mix: what kinds of contact went out, in what proportion, per rep or per month.

Sales leaders need the shape of their team's contacts, not only the count: a rep
whose customers hear from us only through delay apologies has a delivery problem,
one with no service checks is leaving the relationship to chance.

A contact is a check-in that was *sent* (it has a `sent_at`), whatever happened
after (answered, expired). The window is half-open `[since, until)` on `sent_at`,
with the same date/instant rules as `reports.nps`. "Per rep" means the rep who
owns the customer, as in the NPS report, so the two line up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from accounts.scope import EVERYONE, Viewer, scope
from models import KINDS, CheckIn, Customer, Purchase, Rep
from reports.filters import DashboardFilter
from reports.nps import Bound, window_end, window_start, year_month

MIX_GROUPS = ("rep", "month")


@dataclass(frozen=True)
class MixRow:
    """The contacts of one group: a count for every kind (zeros included)."""

    key: str  # a rep's external id or "unassigned", a UTC month YYYY-MM, or "" overall
    label: str  # what a person reads: the rep's name, else the key
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share(self, kind: str) -> float:
        """The fraction (0..1) of this group's contacts that were `kind`; 0 when there are none."""
        return self.counts.get(kind, 0) / self.total if self.total else 0.0

    @property
    def proportions(self) -> dict[str, float]:
        """Each kind's share in percent, one decimal."""
        return {kind: round(100 * self.share(kind), 1) for kind in KINDS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "total": self.total,
            "counts": dict(self.counts),
            "proportions": self.proportions,
        }


def contact_mix(
    session: Session,
    since: Bound | None = None,
    until: Bound | None = None,
    by: str | None = "rep",
    *,
    viewer: Viewer = EVERYONE,
    filters: DashboardFilter | None = None,
) -> list[MixRow]:
    """Sent check-ins in `[since, until)` counted by kind, one row per group (`by`), or one overall.

    Rows come sorted by key; groups with no contacts do not appear. Overall
    (`by=None`) always returns exactly one row, with key "".
    """
    if by is not None and by not in MIX_GROUPS:
        raise ValueError(f"cannot group the contact mix by {by!r}; choose rep or month")
    start, end = window_start(since), window_end(until)
    if start is not None and end is not None and start >= end:
        raise ValueError(
            f"the window is empty: since {start.isoformat()} ≥ until {end.isoformat()}"
        )
    key, label = _key_columns(by)
    query = (
        select(key.label("key"), label.label("label"), CheckIn.kind.label("kind"))
        .select_from(CheckIn)
        .join(Customer, Customer.id == CheckIn.customer_id)
        .outerjoin(Purchase, Purchase.id == CheckIn.purchase_id)
        .outerjoin(Rep, Rep.id == Customer.rep_id)
        .where(CheckIn.sent_at.is_not(None))
    )
    query = scope(query, viewer)  # a rep's mix is their own (accounts.scope)
    if filters is not None:  # the dashboard's rep, product, kind... (not its period)
        query = filters.narrow_checkins(query)
    if start is not None:
        query = query.where(CheckIn.sent_at >= start)
    if end is not None:
        query = query.where(CheckIn.sent_at < end)
    inner = query.subquery()
    # Grouping by the subquery's columns: PostgreSQL then sees one expression, not two copies.
    rows = session.execute(
        select(inner.c.key, inner.c.label, inner.c.kind, func.count()).group_by(
            inner.c.key, inner.c.label, inner.c.kind
        )
    )
    counts: dict[str, dict[str, int]] = {}
    labels: dict[str, str] = {}
    for group, name, kind, n in rows:
        counts.setdefault(group, dict.fromkeys(KINDS, 0))[kind] = int(n)
        labels[group] = name or group
    if by is None:
        return [MixRow("", "all contacts", counts.get("", dict.fromkeys(KINDS, 0)))]
    return [MixRow(group, labels[group], counts[group]) for group in sorted(counts)]


def _constant(value: str) -> ColumnElement[str]:
    # Our own constant, rendered inline: it keeps GROUP BY free of bound parameters.
    return literal_column(f"'{value}'", String())


def _key_columns(by: str | None) -> tuple[ColumnElement[str], ColumnElement[str]]:
    if by == "rep":
        key = func.coalesce(func.nullif(Rep.external_id, ""), _constant("unassigned"))
        return key, func.coalesce(Rep.name, _constant("unassigned"))
    if by == "month":
        month = year_month(CheckIn.sent_at)
        return month, month
    return _constant(""), _constant("")
