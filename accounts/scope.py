"""What each person may see, as one function applied to queries: `scope(query, viewer)`.

- an admin sees everything;
- a rep sees their own customers (and any customer whose escalation they hold),
  those customers' messages, check-ins, responses, purchases and consent record,
  and the escalations assigned to them;
- a manager sees what their team sees: the reps whose `manager` is the manager's
  own `Rep`, and the manager's own;
- a manager or rep with no `Rep` sees nothing (never everything).

`scope` looks at the FROM list of the query (tables, joins, aliases of tables)
and adds one condition per table it knows, on that table as the query names it
(on the outer side of a LEFT JOIN, a missing row passes; a present one must be
visible).
A query over tables it does not know (reps, templates) comes back unchanged;
what only admins may read (users, the audit trail) comes back empty. Apply it to
the select that names the tables, before `.subquery()`: a subquery in FROM is
opaque to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Alias, ColumnElement, FromClause, Join, Select, Table, false, or_, select

from models import Customer, Escalation, Rep
from models.states import Role

Query = TypeVar("Query", bound=Select)


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a user's name, role and `Rep` (None for an admin without one)."""

    username: str
    role: str
    rep_id: int | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role == Role.ADMIN


# The JSON API (its bearer token is the admin's) and the command line see everything.
EVERYONE = Viewer("system", Role.ADMIN)


def team(viewer: Viewer) -> Select[Any] | None:
    """The ids of the reps whose work the viewer sees (None: everyone's)."""
    if viewer.sees_everything:
        return None
    if viewer.rep_id is None:
        return select(Rep.id).where(false())
    if viewer.role == Role.MANAGER:
        return (
            select(Rep.id)
            .where(or_(Rep.id == viewer.rep_id, Rep.manager_id == viewer.rep_id))
            .correlate(None)
        )
    return select(Rep.id).where(Rep.id == viewer.rep_id).correlate(None)


# Every subquery below is `correlate(None)`: inside a query over the same table,
# SQLAlchemy would otherwise tie it to the outer row and change its meaning.


def _escalation_visible(c: Any, reps: Select[Any]) -> ColumnElement[bool]:
    # Whoever holds it, and the manager it was sent up to.
    return or_(c.rep_id.in_(reps), c.manager_id.in_(reps))


def _visible_escalation_ids(reps: Select[Any]) -> Select[Any]:
    table = Escalation.__table__.alias("visible_escalations")
    return select(table.c.id).where(_escalation_visible(table.c, reps)).correlate(None)


def _customer_visible(c: Any, reps: Select[Any]) -> ColumnElement[bool]:
    held = Escalation.__table__.alias("held_escalations")
    holding = select(held.c.customer_id).where(_escalation_visible(held.c, reps)).correlate(None)
    return or_(c.rep_id.in_(reps), c.id.in_(holding))


def _visible_customer_ids(reps: Select[Any]) -> Select[Any]:
    table = Customer.__table__.alias("visible_customers")
    return select(table.c.id).where(_customer_visible(table.c, reps)).correlate(None)


def _of_visible_customers(c: Any, reps: Select[Any]) -> ColumnElement[bool]:
    return c.customer_id.in_(_visible_customer_ids(reps))


def _nothing(c: Any, reps: Select[Any]) -> ColumnElement[bool]:
    return false()


# Table name -> the condition on its columns that keeps what the viewer may see.
RULES: dict[str, Callable[[Any, Select[Any]], ColumnElement[bool]]] = {
    "customers": _customer_visible,
    "escalations": _escalation_visible,
    "escalation_events": lambda c, reps: c.escalation_id.in_(_visible_escalation_ids(reps)),
    "messages": _of_visible_customers,
    "checkins": _of_visible_customers,
    "responses": _of_visible_customers,
    "purchases": _of_visible_customers,
    "consent_events": _of_visible_customers,
    "users": _nothing,
    "audit_entries": _nothing,
}


def scope(query: Query, viewer: Viewer) -> Query:
    """`query` narrowed to what `viewer` may see (unchanged for an admin)."""
    reps = team(viewer)
    if reps is None:
        return query
    conditions = []
    for source, name, optional in _named_sources(query):
        rule = RULES.get(name)
        if rule is None:
            continue
        condition = rule(source.c, reps)
        if optional:
            # The outer-joined side of a LEFT JOIN may be missing; only a row that is
            # there has to be visible, or the join would drop the rows it was meant to keep.
            key = next(iter(source.primary_key))
            condition = or_(key.is_(None), condition)
        conditions.append(condition)
    return query.where(*conditions) if conditions else query


def _named_sources(query: Select[Any]) -> Iterator[tuple[FromClause, str, bool]]:
    # get_final_froms compiles the statement's FROM list (ORM joins included); a few
    # milliseconds at most on the admin pages' queries.
    for source in query.get_final_froms():
        yield from _walk(source, optional=False)


def _walk(source: FromClause, *, optional: bool) -> Iterator[tuple[FromClause, str, bool]]:
    if isinstance(source, Join):
        yield from _walk(source.left, optional=optional or source.full)
        yield from _walk(source.right, optional=optional or source.isouter)
    elif isinstance(source, Table):
        yield source, source.name, optional
    elif isinstance(source, Alias) and isinstance(source.element, Table):
        yield source, source.element.name, optional
