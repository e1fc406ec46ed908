"""The events Aftercare sends, each named once."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    RESPONSE_CREATED = "response.created"
    RESPONSE_COMMENTED = "response.commented"
    ESCALATION_OPENED = "escalation.opened"
    ESCALATION_ACKNOWLEDGED = "escalation.acknowledged"
    ESCALATION_ESCALATED = "escalation.escalated"
    ESCALATION_RESOLVED = "escalation.resolved"
    CUSTOMER_OPTED_OUT = "customer.opted_out"
    CUSTOMER_OPTED_IN = "customer.opted_in"
    MESSAGE_FAILED = "message.failed"
