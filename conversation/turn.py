"""One message from a known customer, and the means to answer it on the spot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules
from messaging.channels.base import Inbound
from messaging.compose import TemplateBook, customer_context
from messaging.outbox import queue_message
from messaging.render import TemplateError
from models import Customer, Message
from models.states import MessageStatus
from settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """A customer's inbound message (already stored) and what answering it needs."""

    session: Session
    now: datetime
    customer: Customer
    inbound: Inbound
    message: Message
    settings: Settings
    rules: CadenceRules
    book: TemplateBook

    def reply(
        self, key: str, *, purpose: str, checkin_id: int | None = None, **extra: Any
    ) -> Message | None:
        """Queue `key` for the customer on the channel they wrote from, to go at once.

        A direct answer ignores quiet hours: the customer is awake, they just wrote.
        A broken template is logged and nothing is queued; it must not lose the inbound message.
        """
        context = customer_context(self.customer, self.settings, self.inbound.channel, **extra)
        try:
            composed = self.book.compose(key, self.customer.language, context)
        except TemplateError:
            log.exception("cannot answer customer %s with %r", self.customer.id, key)
            return None
        return queue_message(
            self.session,
            now=self.now,
            channel=self.inbound.channel,
            address=self.inbound.address,
            body=composed.body,
            purpose=purpose,
            customer_id=self.customer.id,
            checkin_id=checkin_id,
            composed=composed,
        )

    def replied_since(self, purpose: str, since: datetime) -> bool:
        """Whether we already queued a `purpose` message to this customer since `since`."""
        self.session.flush()
        return (
            self.session.scalar(
                select(Message.id)
                .where(
                    Message.customer_id == self.customer.id,
                    Message.direction == "out",
                    Message.purpose == purpose,
                    Message.created_at >= since,
                    Message.status != MessageStatus.CANCELLED,
                )
                .limit(1)
            )
            is not None
        )
