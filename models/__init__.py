"""SQLAlchemy models: the data Aftercare keeps. Models are data; behaviour lives in services."""

from models.accounts import AuditEntry, StoredSecret, User
from models.admin import AdminSession, AppSetting, Lease, LoginThrottle, TemplateVersion
from models.base import Base, UTCDateTime
from models.checkin import KINDS, STATUSES, SURVEY_KINDS, THROTTLED_KINDS, CheckIn, Response
from models.consent import CONSENT_SOURCES, ConsentEvent
from models.escalation import Escalation, EscalationEvent
from models.event import EventDelivery
from models.idempotency import IdempotencyKey
from models.message import (
    EarlyReceipt,
    FailedTelegramUpdate,
    InboundEvent,
    Message,
    SendBudget,
)
from models.people import LANGUAGES, ROLES, Customer, Rep
from models.purchase import Purchase

__all__ = [
    "CONSENT_SOURCES",
    "KINDS",
    "LANGUAGES",
    "ROLES",
    "STATUSES",
    "SURVEY_KINDS",
    "THROTTLED_KINDS",
    "AdminSession",
    "AppSetting",
    "AuditEntry",
    "Base",
    "CheckIn",
    "ConsentEvent",
    "Customer",
    "EarlyReceipt",
    "Escalation",
    "EscalationEvent",
    "EventDelivery",
    "FailedTelegramUpdate",
    "IdempotencyKey",
    "InboundEvent",
    "Lease",
    "LoginThrottle",
    "Message",
    "Purchase",
    "Rep",
    "Response",
    "SendBudget",
    "StoredSecret",
    "TemplateVersion",
    "User",
    "UTCDateTime",
]
