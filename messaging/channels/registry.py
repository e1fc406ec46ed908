"""The channels, one entry each: what is channel-specific outside the channel's own module.

An entry says how to find a person's address on the channel (None when they have
none there, or it is dead), whether messages there carry buttons, and which class
delivers it. Scheduler, escalation and import ask here; they never name a channel.

Nothing registers itself on import: a new channel is one more entry here. Its
module is imported only when the channel is configured or its webhooks are
mounted (a provider SDK is heavy).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from messaging.channels import Channel, Transports
from messaging.channels.webhooks import Webhook
from settings import Settings


@dataclass(frozen=True)
class ChannelEntry:
    provider: Callable[[], type]  # the channel's class, imported when first asked for
    address_of: Callable[[Any], str | None]  # a customer's or rep's address here
    shows_buttons: bool
    # The customer fields, any one of which makes the channel usable when importing
    # (a phone is enough for Telegram: the customer links their chat by the deep link).
    contact_fields: tuple[str, ...]
    # Where a sender's address is kept on Customer and Rep, and how an inbound address
    # reads as that column's value (None: not an address of this channel).
    column: str
    parse_address: Callable[[str], Any]
    # What sends on it once configured (shown on /healthz and in Settings), whether the
    # settings configure it, and the variables to set when they do not (the start-up
    # warning and the Settings page name them). Unconfigured, the console stands in.
    sender: str
    configured: Callable[[Settings], bool]
    variables: str
    # Characters one message carries: a longer text is a template error, never sent cut off.
    max_length: int | None = None
    # The person's column that records "the channel said this address is dead" (None: never).
    dead_since: str | None = None
    # For a channel whose address is a contact of its own kind (an email address): how an
    # imported or API-written cell becomes the stored value, raising ValueError saying why.
    # The import and the write API add the column from here; None: they know it already.
    check_address: Callable[[str], Any] | None = None
    # Whether a person's reply on this channel comes back to us (so a rep can answer an alert
    # with "ACK 12"); email replies go to a person's inbox, so its alerts link to the admin.
    takes_commands: bool = True


def _phone(person: Any) -> str | None:
    return getattr(person, "phone", None) or None


def _telegram_chat(person: Any) -> str | None:
    chat = getattr(person, "telegram_chat_id", None)
    if chat is None or getattr(person, "telegram_unreachable_at", None) is not None:
        return None  # not linked, or the bot was blocked
    return str(chat)


_CHAT_ID = re.compile(r"-?[0-9]{1,19}")


def _chat_id(address: str) -> int | None:
    # Only a bare integer: int("+48600000002") would happily turn a phone into a chat id.
    return int(address) if _CHAT_ID.fullmatch(address) else None


def _sms() -> type:
    from messaging.channels.sms import SmsChannel

    return SmsChannel


def _email(person: Any) -> str | None:
    if getattr(person, "email_unreachable_at", None) is not None:
        return None  # the mail server said the mailbox does not exist
    return getattr(person, "email", None) or None


def _email_address(address: str) -> str | None:
    """An inbound sender as stored: the validator's normal form, without a DNS look-up."""
    try:
        return check_email(address)
    except ValueError:
        return None


def check_email(text: str) -> str:
    """A mailbox address in its normal form ("Jan@Example.COM" -> "Jan@example.com").

    email-validator checks the syntax (and internationalised domains); no DNS look-up, so
    an import does not wait on the network and a test needs none.
    """
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"{text!r} is not an email address ({error})") from None


def _email_channel() -> type:
    from messaging.channels.email import EmailChannel

    return EmailChannel


def _telegram() -> type:
    from messaging.channels.telegram import TelegramChannel

    return TelegramChannel


CHANNELS: dict[str, ChannelEntry] = {
    "sms": ChannelEntry(
        _sms,
        _phone,
        shows_buttons=False,
        contact_fields=("phone",),
        column="phone",
        parse_address=lambda address: address or None,
        max_length=1_600,  # Twilio refuses more
        sender="twilio",
        configured=lambda settings: settings.sms_configured,
        variables="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER or "
        "TWILIO_MESSAGING_SERVICE_SID",
    ),
    "telegram": ChannelEntry(
        _telegram,
        _telegram_chat,
        shows_buttons=True,
        contact_fields=("telegram_chat_id", "phone"),
        column="telegram_chat_id",
        parse_address=_chat_id,
        max_length=4_096,  # the Bot API's limit for one message
        dead_since="telegram_unreachable_at",  # the bot was blocked
        sender="telegram",
        configured=lambda settings: settings.telegram_configured,
        variables="TELEGRAM_BOT_TOKEN",
    ),
    # Last: a customer whose phone or chat works is reached there; email when nothing else.
    "email": ChannelEntry(
        _email_channel,
        _email,
        shows_buttons=False,  # its score links are in the message, not pressed back to us
        contact_fields=("email",),
        column="email",
        parse_address=_email_address,
        max_length=100_000,  # no limit of SMTP's; a runaway template stops here
        dead_since="email_unreachable_at",  # 550: no such mailbox
        check_address=check_email,
        takes_commands=False,
        sender="smtp",
        configured=lambda settings: settings.email_configured,
        variables="AFTERCARE_SMTP_URL and AFTERCARE_EMAIL_FROM",
    ),
}


def address_fields() -> tuple[str, ...]:
    """Every column of a person that `address_of` reads: what a query loading people for
    sending must select (the scheduler loads only the columns it needs)."""
    names: dict[str, None] = {}
    for entry in CHANNELS.values():
        names.update(dict.fromkeys((entry.column, *entry.contact_fields)))
        if entry.dead_since:
            names[entry.dead_since] = None
    return tuple(names)


def address_columns() -> dict[str, Callable[[str], Any]]:
    """Contact columns a channel adds (column -> check), for the import and the write API."""
    return {
        entry.column: entry.check_address
        for entry in CHANNELS.values()
        if entry.check_address is not None
    }


# A customer's channel when nobody said which: the first one above.
DEFAULT_CHANNEL = next(iter(CHANNELS))


def address_on(channel: str, person: Any) -> str | None:
    """`person`'s address on `channel`, or None when they have none there (never "None")."""
    entry = CHANNELS.get(channel)
    return entry.address_of(person) if entry is not None else None


def reach(
    person: Any, preferred: str | None, *, buttons_first: bool = False, besides: str | None = None
) -> tuple[str, str] | None:
    """(channel, address) for `person`: the preferred channel if it works, else the first that does.

    `buttons_first` tries the channels that show buttons before the others; `besides`
    leaves one channel out (the one that just failed).
    """
    order = (
        sorted(CHANNELS, key=lambda name: not CHANNELS[name].shows_buttons)
        if buttons_first
        else list(CHANNELS)
    )
    for name in ([preferred] if preferred in CHANNELS else []) + order:
        assert name is not None
        address = address_on(name, person) if name != besides else None
        if address is not None:
            return name, address
    return None


def max_length(channel: str) -> int | None:
    """How many characters one message on `channel` carries (None: no limit we know of)."""
    entry = CHANNELS.get(channel)
    return entry.max_length if entry is not None else None


def mark_dead(channel: str, person: Any, now: Any) -> None:
    """The channel refused `person`'s address for good (the bot was blocked, no such
    mailbox): stop using it. A person without the column (a rep on Telegram) is left as is."""
    entry = CHANNELS.get(channel)
    if (
        entry is not None
        and entry.dead_since
        and hasattr(person, entry.dead_since)
        and getattr(person, entry.dead_since) is None
    ):
        setattr(person, entry.dead_since, now)


def revived(changed: Iterable[str], model: type) -> dict[str, None]:
    """The "dead since" columns to clear because the address they judged was `changed`
    (a new email address after a 550, a new chat id): {column: None} for `model`'s columns."""
    names = set(changed)
    return {
        entry.dead_since: None
        for entry in CHANNELS.values()
        if entry.dead_since and entry.column in names and hasattr(model, entry.dead_since)
    }


def heard_from(channel: str, person: Any) -> None:
    """`person` just wrote to us on `channel`: whatever it said before, the address works."""
    entry = CHANNELS.get(channel)
    if entry is not None and entry.dead_since and hasattr(person, entry.dead_since):
        setattr(person, entry.dead_since, None)


def senders_on(channel: str, address: str) -> list[tuple[str, Any]]:
    """(column, value) pairs that may identify who wrote from `address` on `channel`.

    A channel not in the registry (the console, standing in for any of them) tries
    each channel's column in turn.
    """
    names = [channel] if channel in CHANNELS else list(CHANNELS)
    pairs = []
    for name in names:
        value = CHANNELS[name].parse_address(address)
        if value is not None:
            pairs.append((CHANNELS[name].column, value))
    return pairs


def takes_commands(channel: str) -> bool:
    """Whether a rep can answer an alert on `channel` with a command (ACK 12, DONE 12 ...)."""
    entry = CHANNELS.get(channel)
    return entry is None or entry.takes_commands  # the console stands in for any of them


def shows_buttons(channel: str) -> bool:
    entry = CHANNELS.get(channel)
    return entry is not None and entry.shows_buttons


def buttons_shown(channel: str, transports: Transports) -> bool:
    """Whether a message recorded on `channel` goes out with its buttons.

    A configured provider decides for itself (email turns them into score links). The
    console standing in for a channel shows what the registry says that channel shows:
    none for SMS. A row an older version recorded as "console" keeps the console's own.
    """
    transport = transports.get(channel)
    entry = CHANNELS.get(channel)
    if channel in transports.by_channel or entry is None:
        return transport.shows_buttons
    return transport.shows_buttons and entry.shows_buttons


def channel_class(name: str) -> Callable[[Settings], Channel]:
    found: Callable[[Settings], Channel] = CHANNELS[name].provider()
    return found


def webhooks() -> list[tuple[str, Webhook]]:
    """(channel, webhook) for every webhook of every registered channel."""
    return [
        (name, hook)
        for name, entry in CHANNELS.items()
        for hook in getattr(entry.provider(), "webhooks", ())
    ]


# What stands in for a channel without credentials: it prints, and reaches nobody.
CONSOLE = "console"


def is_configured(name: str, settings: Settings) -> bool:
    """Whether the settings hold what channel `name` needs to reach anybody."""
    return CHANNELS[name].configured(settings)


def senders(settings: Settings) -> dict[str, str]:
    """Every channel and what sends on it: its provider, or "console" (nothing leaves)."""
    return {
        name: entry.sender if entry.configured(settings) else CONSOLE
        for name, entry in CHANNELS.items()
    }


def variables(channel: str) -> str:
    """The variables to set so that `channel` reaches people ("A, B and C or D")."""
    return CHANNELS[channel].variables


def attach_configured(transports: Transports, settings: Settings) -> None:
    """Give `transports` a real provider for each channel whose credentials are set.

    Building a channel connects to nothing; the first send does. Without
    credentials the console stands in, as DESIGN.md promises.
    """
    for name in CHANNELS:
        if is_configured(name, settings):
            transports.by_channel[name] = channel_class(name)(settings)
