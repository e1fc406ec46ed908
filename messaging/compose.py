"""Turn a message key and a customer into the text they receive.

The words live in templates/; admins may override a template (the newest
saved version wins). A `TemplateBook` loads those overrides once per pass, so
rendering thousands of check-ins does not query the database for each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from messaging.channels.base import Button, Buttons
from messaging.render import render
from models import Customer, TemplateVersion
from models.people import first_name
from settings import Settings


@dataclass(frozen=True)
class Composed:
    key: str
    body: str
    version: int | None  # None: the file in templates/
    language: str = "en"
    # What it was rendered with, so the outbox can render it again for another channel.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class TemplateBook:
    """The admin overrides in force: (key, language) -> (body, version)."""

    overrides: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> TemplateBook:
        newest = (
            select(
                TemplateVersion.key,
                TemplateVersion.language,
                func.max(TemplateVersion.version).label("v"),
            )
            .group_by(TemplateVersion.key, TemplateVersion.language)
            .subquery()
        )
        rows = session.execute(
            select(
                TemplateVersion.key,
                TemplateVersion.language,
                TemplateVersion.body,
                TemplateVersion.version,
            ).join(
                newest,
                (TemplateVersion.key == newest.c.key)
                & (TemplateVersion.language == newest.c.language)
                & (TemplateVersion.version == newest.c.v),
            )
        )
        return cls({(key, language): (body, version) for key, language, body, version in rows})

    def compose(self, key: str, language: str, context: dict[str, Any]) -> Composed:
        override = self.overrides.get((key, language))
        if override is None:
            return Composed(key, render(key, language, context), None, language, dict(context))
        body, version = override
        rendered = render(key, language, context, source=body)
        return Composed(key, rendered, version, language, dict(context))


class Named(Protocol):
    name: str


def customer_context(
    customer: Customer | Named, settings: Settings, channel: str, **extra: Any
) -> dict[str, Any]:
    """The variables every customer-facing template may use (a Customer, or a row with `name`)."""
    context: dict[str, Any] = {
        "first_name": first_name(customer.name),
        "name": customer.name,
        "business_name": settings.business_name,
        "channel": channel,
        "product": None,
    }
    context.update(extra)
    return context


def score_buttons(checkin_id: int) -> Buttons:
    """The 0-10 keyboard under a Telegram survey, in two rows that fit a phone screen."""
    return [
        [Button(str(n), data=f"score:{checkin_id}:{n}") for n in range(0, 6)],
        [Button(str(n), data=f"score:{checkin_id}:{n}") for n in range(6, 11)],
    ]
