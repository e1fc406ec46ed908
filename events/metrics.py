"""This process's event delivery figures, for `/metrics` (the outbox's own figures come from
the database, in web/metrics.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

REGISTRY = CollectorRegistry(auto_describe=True)

ATTEMPTS = Counter(
    "aftercare_event_attempts",
    "Event POSTs this process made, by outcome: delivered (2xx), failed (retried later), "
    "dead (failed for 24 h: given up).",
    ["outcome"],
    registry=REGISTRY,
)
