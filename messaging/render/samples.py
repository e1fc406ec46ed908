"""Realistic values for every template key: for previews, and to check admin edits."""

from __future__ import annotations

import contextlib
import types
from collections.abc import Mapping
from datetime import date

from babel.core import UnknownLocaleError
from babel.dates import format_date

from messaging.render.errors import TemplateMissing
from messaging.render.files import FALLBACK_LANGUAGE, language_code
from messaging.rep_verbs import verb_context

_COMMON: dict[str, object] = {
    # The sizes the English surveys are budgeted for (one 160-character SMS):
    # a 10-character first name, a 15-character business, a 20-character product.
    "first_name": "Aleksandra",
    "name": "Aleksandra Nowak",
    "business_name": "Northwind Motor",
    "channel": "sms",
}
_SAMPLE_DATE = date(2025, 9, 30)  # the longest English month name
_PRODUCT: dict[str, object] = {"product": "Toyota Corolla Cross"}
_REVIEW: dict[str, object] = {
    "review_url": "https://g.page/r/northwind-motor/review",
    "referral_url": "https://northwind.example/refer",
}
_REP: dict[str, object] = {"first_name": "Marta", "name": "Marta Lopez"}
_ESCALATION: dict[str, object] = {
    "customer_name": "Aleksandra Nowak",
    "customer_phone": "+48601234567",
    "language": "pl",
    "product": "Toyota Corolla Cross",
    "score": 3,
    "comment": "The car went back to the garage twice in one month.",
    "recent": [
        {
            "ours": True,
            "who": "Aleksandra",
            "text": "How likely are you to recommend Northwind Motor to a friend or colleague?",
        },
        {
            "ours": False,
            "who": "Aleksandra",
            "text": "3. The car went back to the garage twice in one month.",
        },
    ],
    "sla_minutes": 120,
    "escalation_id": 42,
    "channel_for_commands": "telegram",
    "can_reply_commands": True,
    "escalation_url": "https://aftercare.example/admin/escalations/42",
}

# Replies to rep commands (escalation.commands): the verbs are the rep's language's.
_VERBS: dict[str, object] = dict(verb_context(FALLBACK_LANGUAGE))
_REPLY: dict[str, object] = {**_REP, **_VERBS, "escalation_id": 42}
_REPLIES: dict[str, dict[str, object]] = {
    "rep_reply_acknowledged": {
        **_REPLY,
        "customer_name": "Aleksandra Nowak",
        "customer_phone": "+48601234567",
        "buttons": False,
    },
    "rep_reply_already": {**_REPLY, "status": "acknowledged", "by_name": "Joanna Wright"},
    "rep_reply_assign_usage": _REPLY,
    "rep_reply_help": {**_REPLY, "is_manager": True, "buttons": False},
    "rep_reply_note_requested": _REPLY,
    "rep_reply_not_found": {**_REPLY, "rep_id": None},
    "rep_reply_reassigned": {**_REPLY, "new_rep_name": "Piotr Zielinski", "changed": True},
    "rep_reply_refused": {**_REPLY, "reason": "owner", "owner_name": "Piotr Zielinski"},
    "rep_reply_resolved": {**_REPLY, "recovery_days": "14"},
    "rep_reply_which": {**_REPLY, "action": "ack", "waiting": [41, 42]},
}

_SAMPLES: dict[str, dict[str, object]] = {
    "survey_post_delivery": _PRODUCT,
    "survey_periodic": {},
    "survey_service": _PRODUCT,
    "survey_recovery": _PRODUCT,
    "reminder": {},
    "delay_notice": {**_PRODUCT, "promised_date": format_date(_SAMPLE_DATE, "long", locale="en")},
    "followup_detractor": {"score": 3},
    "followup_passive": {"score": 7},
    "followup_promoter": {"score": 10, **_REVIEW},
    "review_invite": _REVIEW,
    "thanks_comment": {},
    "clarify": {},
    "opt_out_confirmation": {},
    "opt_in_confirmation": {},
    "help": {},
    "unknown_sender": {},
    # The pages a survey email's links open (web/email_pages.py).
    "score_page": {"score": 3, "category": "detractor", "channel": "email", **_REVIEW},
    "link_page": {"state": "unsubscribed", "address": "aleksandra@example.com", "channel": "email"},
    "telegram_greeting": {"channel": "telegram"},
    "forwarded_to_rep": {"rep_name": "Marta Lopez"},
    **_REPLIES,
    "rep_buttons": {**_REP, "button": "resolve", "channel": "telegram"},
    "rep_alert": {**_REP, **_VERBS, **_ESCALATION},
    "manager_alert": {
        **_REP,
        "first_name": "Joanna",
        "name": "Joanna Wright",
        **_VERBS,
        **_ESCALATION,
        "rep_name": "Marta Lopez",
    },
    # The customer clicked another number of the email: closed (out of detractors), or not.
    "rep_score_changed": {
        **_REP,
        "customer_name": "Aleksandra Nowak",
        "customer_phone": "+48601234567",
        "product": "Toyota Corolla Cross",
        "before": 3,
        "after": 9,
        "closed": True,
        "escalation_id": 42,
    },
    "rep_needs_answer": {
        **_REP,
        **_VERBS,
        "customer_name": "Aleksandra Nowak",
        "customer_phone": "+48601234567",
        "body": "Can someone call me after 5 pm?",
        "escalation_id": 42,
        "channel_for_commands": "sms",
        "can_reply_commands": True,
        "escalation_url": "https://aftercare.example/admin/escalations/42",
        "sla_minutes": 120,
    },
}

SAMPLE_CONTEXT: Mapping[str, Mapping[str, object]] = types.MappingProxyType(
    {key: types.MappingProxyType({**_COMMON, **extra}) for key, extra in _SAMPLES.items()}
)
"""For each key, a full context of realistic values: for previews and for validate_source()."""


def sample_context(key: str, language: str) -> dict[str, object]:
    """SAMPLE_CONTEXT[key], with the promised date written as `language` writes it (for previews)."""
    if key not in SAMPLE_CONTEXT:
        raise TemplateMissing("no such template", key=key, language=language)
    context = dict(SAMPLE_CONTEXT[key])
    if "ack" in context:  # a rep's text teaches the verbs of their language
        context.update(verb_context(language_code(language)))
    if "promised_date" in context:
        with contextlib.suppress(UnknownLocaleError, ValueError):  # else keep the English date
            context["promised_date"] = format_date(
                _SAMPLE_DATE, "long", locale=language_code(language)
            )
    return context


# Values a caller may legitimately pass as empty; validation renders those branches too.
MAY_BE_EMPTY: dict[str, object] = {
    "product": None,
    "review_url": "",
    "referral_url": "",
    "rep_name": None,
    "comment": "",
    "recent": [],
    "customer_phone": None,
    "owner_name": None,
    "by_name": None,
    "recovery_days": None,
    "waiting": [],
}
