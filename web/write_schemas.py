"""The write API's request and answer documents, field by field.

Request fields are the CSV import's columns (DESIGN.md) and are checked by the
import's own code (importing/), so values here are loosely typed on purpose:
the import says what is wrong with a phone, a zone or a rep, in the same
words as for a file. Absent, null or "" all mean "keep what is stored".
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from web.schemas import CustomerOut, UtcDatetime

KEEP = "Absent, null or empty: keep what is stored (a new record gets the default)."

ExternalId = Annotated[
    str,
    Field(
        description="Your system's id for the record; the upsert matches on it (at most 100 characters).",
    ),
]
Phone = Annotated[
    str | None,
    Field(
        description=f"International format with the country code, stored as E.164 "
        f"('+48 601-234-567' becomes '+48601234567'). {KEEP}",
        examples=["+48 601 234 567"],
    ),
]
Email = Annotated[
    str | None,
    Field(
        description=f"An email address, checked by email-validator and stored in its normal form "
        f"(the domain lower-cased). {KEEP}",
        examples=["agnieszka@example.pl"],
    ),
]
ChatId = Annotated[
    int | None,
    Field(
        description=f"The person's Telegram chat id (the bot usually learns it itself). {KEEP}",
        examples=[123456789],
    ),
]


class _Record(BaseModel):
    # An unknown field is an error naming it, as an unknown CSV column is.
    model_config = ConfigDict(extra="forbid")


class RepIn(_Record):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_id": "rep-anna",
                    "name": "Anna Kowalska",
                    "phone": "+48 600 000 002",
                    "role": "rep",
                    "manager_external_id": "mgr-marek",
                    "language": "pl",
                }
            ]
        },
    )

    external_id: ExternalId = Field(examples=["rep-anna"])
    name: str = Field(description="Full name (required).", examples=["Anna Kowalska"])
    phone: Phone = None
    telegram_chat_id: ChatId = None
    email: Email = None
    working_hours: str | None = Field(
        None,
        description="Hours of their own on the business's clock, e.g. “Mon-Fri 09:00-18:00”; "
        f"“default”: the business's hours (Settings). {KEEP}",
        examples=["Mon-Fri 09:00-18:00"],
    )
    role: str | None = Field(
        None,
        description=f"rep, manager or admin (new reps: rep). {KEEP}",
        examples=["rep"],
    )
    manager_external_id: str | None = Field(
        None,
        description=f"The external_id of the rep's manager, who gets escalations past "
        f"their SLA; must be stored already (or be in the same batch). {KEEP}",
        examples=["mgr-marek"],
    )
    language: str | None = Field(
        None,
        description="en, pl, uk, ru or th: the language of the rep's alerts and replies, and "
        f"of the command words they may use besides English (new: the business's, "
        f"AFTERCARE_DEFAULT_LANGUAGE). {KEEP}",
        examples=["pl"],
    )


class CustomerIn(_Record):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_id": "cust-1042",
                    "name": "Agnieszka Wiśniewska",
                    "phone": "+48 601 234 567",
                    "language": "pl",
                    "timezone": "Europe/Warsaw",
                    "channel": "sms",
                    "rep_external_id": "rep-anna",
                    "tags": ["vip"],
                }
            ]
        },
    )

    external_id: ExternalId = Field(examples=["cust-1042"])
    name: str = Field(
        description="Full name (required); messages greet the customer by its first word.",
        examples=["Agnieszka Wiśniewska"],
    )
    phone: Phone = None
    telegram_chat_id: ChatId = None
    email: Email = None
    language: str | None = Field(
        None,
        description=f"en, pl, uk, ru or th: the language of every message (new: en). {KEEP}",
        examples=["pl"],
    )
    timezone: str | None = Field(
        None,
        description=f"IANA time zone for quiet hours and dates (none: AFTERCARE_DEFAULT_TZ). {KEEP}",
        examples=["Europe/Warsaw"],
    )
    channel: str | None = Field(
        None,
        description="sms (needs a phone), telegram (needs a telegram_chat_id, or a phone "
        f"so the customer can link their chat) or email (needs an email); new: sms. {KEEP}",
        examples=["sms"],
    )
    rep_external_id: str | None = Field(
        None,
        description=f"The rep who owns the customer; must be stored already (404 if not). {KEEP}",
        examples=["rep-anna"],
    )
    tags: list[str] | None = Field(
        None,
        description=f"Free labels (none may contain ';'); given, they replace the stored ones. {KEEP}",
        examples=[["vip", "fleet"]],
    )


class PurchaseIn(_Record):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "external_id": "order-77812",
                    "customer_external_id": "cust-1042",
                    "product": "Skoda Octavia Combi",
                    "category": "car",
                    "purchased_at": "2026-03-01T14:30:00+01:00",
                    "promised_delivery_date": "2026-03-20",
                    "rep_external_id": "rep-anna",
                }
            ]
        },
    )

    external_id: ExternalId = Field(examples=["order-77812"])
    customer_external_id: str = Field(
        description="The customer who bought it (required); must be stored already (404 if not).",
        examples=["cust-1042"],
    )
    product: str = Field(
        description="What was bought, as customers read it (required; delay notices name it).",
        examples=["Skoda Octavia Combi"],
    )
    category: str | None = Field(
        None,
        description="Sets the post-delivery delay (car 1 day, dental 2, garage 7, others 2) and "
        f"the service checks (car, garage, machinery). {KEEP}",
        examples=["car"],
    )
    purchased_at: str | None = Field(
        None,
        description=f"ISO 8601 time; without a zone it is read in the customer's zone. {KEEP}",
        examples=["2026-03-01T14:30:00+01:00"],
    )
    promised_delivery_date: str | None = Field(
        None,
        description="YYYY-MM-DD; once it passes undelivered, the customer gets one apology "
        f"and no survey. {KEEP}",
        examples=["2026-03-20"],
    )
    delivered_at: str | None = Field(
        None,
        description="ISO 8601 time of delivery; the tick plans the post-delivery survey from it "
        f"(POST /api/purchases/{{external_id}}/delivered plans it at once). {KEEP}",
        examples=["2026-03-19T10:00:00+01:00"],
    )
    rep_external_id: str | None = Field(
        None,
        description=f"The rep who sold it; must be stored already (404 if not). {KEEP}",
        examples=["rep-anna"],
    )


class RepBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[RepIn] = Field(
        min_length=1, max_length=1000, description="1 to 1,000 reps, all written or none."
    )


class CustomerBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[CustomerIn] = Field(
        min_length=1, max_length=1000, description="1 to 1,000 customers, all written or none."
    )


class PurchaseBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: list[PurchaseIn] = Field(
        min_length=1, max_length=1000, description="1 to 1,000 purchases, all written or none."
    )


class DeliveredIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delivered_at: str | None = Field(
        None,
        description="ISO 8601 time of the delivery; absent: now. Without a zone it is read "
        "in the customer's zone.",
        examples=["2026-03-19T10:00:00+01:00"],
    )


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    system: str = Field(
        "",
        max_length=100,
        description="Which system the customer told (kept in the consent record).",
        examples=["shop"],
    )
    note: str = Field(
        "",
        max_length=1000,
        description="What happened there, in a few words (kept in the consent record).",
        examples=["unticked 'messages about my order' in the account settings"],
    )


class RepOut(BaseModel):
    external_id: str
    name: str
    phone: str | None = Field(description="E.164.")
    telegram_chat_id: int | None
    email: str | None
    role: str = Field(description="rep, manager or admin.")
    manager_external_id: str | None
    working_hours: str | None = Field(
        description="Their own hours, or null for the business's (Settings)."
    )
    language: str | None = Field(
        description="en, pl, uk, ru or th; null: the business's (AFTERCARE_DEFAULT_LANGUAGE)."
    )


class PlannedCheckInOut(BaseModel):
    id: int
    kind: str = Field(description="post_delivery.", examples=["post_delivery"])
    status: str = Field(
        description="scheduled until it is sent; then sent, answered, expired, suppressed or failed."
    )
    due_at: UtcDatetime = Field(description="When it falls due: delivery + the category's delay.")


class PurchaseOut(BaseModel):
    external_id: str
    customer_external_id: str
    product: str
    category: str
    purchased_at: UtcDatetime | None
    promised_delivery_date: str | None = Field(description="YYYY-MM-DD.")
    delivered_at: UtcDatetime | None
    rep_external_id: str | None
    post_delivery_checkin: PlannedCheckInOut | None = Field(
        description="The post-delivery check-in once planned: at once by .../delivered, else by "
        "the scheduler when it falls due; null before (and when delivered too long ago to ask)."
    )


class RowWarning(BaseModel):
    row: int = Field(description="The record's index in `rows`, from 0.")
    field: str
    message: str


class BatchOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    warnings: list[RowWarning] = Field(
        description="Accepted but worth a look (a rep alerts cannot reach, a delivery in the future)."
    )


__all__ = [
    "BatchOut",
    "ConsentIn",
    "CustomerBatchIn",
    "CustomerIn",
    "CustomerOut",
    "DeliveredIn",
    "PlannedCheckInOut",
    "PurchaseBatchIn",
    "PurchaseIn",
    "PurchaseOut",
    "RepBatchIn",
    "RepIn",
    "RepOut",
    "RowWarning",
]
