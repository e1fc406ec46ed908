"""This process's sending figures, for `/metrics` (the database figures live in web/metrics.py)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

SEND_SECONDS = Histogram(
    "aftercare_send_seconds",
    "Time a provider took to accept a message, by channel.",
    ["channel"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
IN_FLIGHT = Gauge(
    "aftercare_sends_in_flight",
    "Requests to providers waiting for an answer in this process, by channel.",
    ["channel"],
    registry=REGISTRY,
)
THROTTLED = Counter(
    "aftercare_provider_throttled",
    "429 answers (the provider asked us to slow down), by sender.",
    ["sender"],
    registry=REGISTRY,
)
PAUSED = Counter(
    "aftercare_sends_paused",
    "Messages given back unsent because their sender was paused, by sender.",
    ["sender"],
    registry=REGISTRY,
)
