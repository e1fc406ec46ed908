"""Events for the business's own systems: written with the change, delivered signed, at least once.

`record_event(session, now, EventType..., data)` writes an event to the outbox in
the caller's transaction, for each receiver the session's factory was given with
`send_events_to` (none: nothing is written). The worker (`EventWorker`) claims
due rows and POSTs them, signed the way Stripe signs its webhooks.
"""

from events.outbox import record_event, send_events_to
from events.types import EventType

__all__ = ["EventType", "record_event", "send_events_to"]
