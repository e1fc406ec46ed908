"""The dashboard's filters: a period and what to keep (rep, product, category, kind, channel,
language), applied to the reports' queries in one place.

A `DashboardFilter` is what the dashboard's query parameters say. `window()`
turns its period into the half-open `[start, end)` of the reports (aware
datetimes; `None` leaves a side open). `narrow()` adds the other filters to a
select over responses or check-ins that already joins `customers`, `reps`,
`checkins` and, outer, `purchases` (as every query in `reports.nps` and
`reports.mix` does).

Filters only ever narrow: `accounts.scope` is applied by the reports as well, so
a rep who asks for another rep's id gets nothing, never that rep's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select

from models import CheckIn, Customer, Purchase, Rep, Response

SelectT = TypeVar("SelectT", bound=Select)

# Preset name -> what the period menu shows. "custom" takes `start` and `end` dates.
PERIODS = {
    "7": "Last 7 days",
    "30": "Last 30 days",
    "90": "Last 90 days",
    "quarter": "This quarter",
    "year": "This year",
    "all": "All time",
    "custom": "Custom dates",
}
# The query parameters that are filters, besides the period and its dates.
FIELDS = ("rep", "product", "category", "kind", "channel", "language")


@dataclass(frozen=True)
class DashboardFilter:
    period: str = "all"
    start: date | None = None  # custom period: first day, inclusive
    end: date | None = None  # custom period: last day, inclusive
    rep: str = ""  # the owner rep's external id
    product: str = ""  # the purchase's product, exactly
    category: str = ""  # the purchase's category, exactly
    kind: str = ""  # the check-in's kind (its purpose)
    channel: str = ""
    language: str = ""  # the customer's language
    zone: str = "UTC"  # whose calendar "this quarter" and whole days are read in

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period {self.period!r} is not one of {', '.join(PERIODS)}")
        if self.period == "custom" and self.start and self.end and self.start > self.end:
            raise ValueError(f"from {self.start} is after to {self.end}")

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """`[start, end)` of the period as it stands at `now`."""
        zone = ZoneInfo(self.zone)
        today = now.astimezone(zone).date()

        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), zone)

        if self.period == "all":
            return None, None
        if self.period == "custom":
            first = midnight(self.start) if self.start else None
            last = midnight(self.end + timedelta(days=1)) if self.end else None
            return first, last
        if self.period == "quarter":
            return midnight(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)), None
        if self.period == "year":
            return midnight(date(today.year, 1, 1)), None
        return now - timedelta(days=int(self.period)), None

    def narrow(self, query: SelectT, *, channel: Any = Response.channel) -> SelectT:
        """`query` keeping only what the filters keep (the channel of `channel`'s column)."""
        exact = {
            Rep.external_id: self.rep,
            Purchase.product: self.product,
            Purchase.category: self.category,
            CheckIn.kind: self.kind,
            channel: self.channel,
            Customer.language: self.language,
        }
        for column, wanted in exact.items():
            if wanted:
                query = query.where(column == wanted)
        return query

    def narrow_checkins(self, query: SelectT) -> SelectT:
        """`narrow` for a query over check-ins sent: the channel is the check-in's."""
        return self.narrow(query, channel=CheckIn.channel)

    def without(self, name: str) -> DashboardFilter:
        """The same filters less one (what a "by rep" widget shows when a rep is chosen)."""
        if name not in FIELDS:
            raise ValueError(f"{name!r} is not a filter")
        changes: dict[str, Any] = {name: ""}
        return replace(self, **changes)

    def is_narrowed(self) -> bool:
        return any(getattr(self, name) for name in FIELDS)

    def query_params(self) -> dict[str, str]:
        """The filters as the URL carries them (only the ones that are set)."""
        params = {"period": self.period}
        if self.period == "custom":
            params |= {"from": str(self.start or ""), "to": str(self.end or "")}
        params |= {f.name: getattr(self, f.name) for f in fields(self) if f.name in FIELDS}
        return {key: value for key, value in params.items() if value}


def parse_date(text: str, name: str) -> date | None:
    """A YYYY-MM-DD query parameter; '' is none. Bad input: a one-line error naming it."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from None
