"""What a rep sends us: ACK 12, DONE 12 note, /ack 12, /resolve 12, ASSIGN 12 rep-2, and notes.

`conversation.inbound.receive` has already stored the message (with `rep_id`) when it
calls `handle_rep_message`; this module decides what the message does. SMS and
Telegram end in the same state: a Telegram button arrives as the text "/ack 12"
or "/resolve 12" (see conversation.telegram_bot), exactly as if typed.

"/resolve 12" without a note acknowledges the escalation and asks for the note;
the rep's next message that is not a command is taken as it. Every answer goes
back to the rep on the channel they wrote from, at once.

The replies are operational English for staff, kept here beside the grammar they
explain; customer-facing text lives in templates/.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cadence.rules import load_rules
from escalation import actions
from messaging.channels import registry
from messaging.channels.base import Inbound
from messaging.compose import TemplateBook
from messaging.outbox import queue_message
from models import Customer, Escalation, Message, Rep
from models.states import EscalationKind, EscalationStatus, Purpose, Role
from settings import Settings

log = logging.getLogger(__name__)

# "/ack", "/ack 12", "/resolve@AftercareBot 12 fixed", "ACK 12", "done #12 replaced the part",
# "assign 12 rep-2".
_COMMAND = re.compile(
    r"^\s*(?:/(?:ack|resolve|done|assign)(?:@\w+)?(?:\s|$)|(?:ack|done|resolve|assign)\s*#?\d+\b)",
    re.IGNORECASE,
)
_PARSE = re.compile(
    r"^\s*(?P<slash>/)?(?P<verb>ack|done|resolve|assign)(?:@\w+)?(?![a-z])"
    r"(?:\s*#?(?P<id>\d{1,9})\b)?\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# A note asked for and never sent does not capture a message days later.
NOTE_WAIT = timedelta(hours=24)
HELP_EVERY = timedelta(minutes=10)
MANAGERS = (Role.MANAGER, Role.ADMIN)

HELP = (
    "Commands: ACK 12 to take escalation #12, DONE 12 followed by what you did to resolve it"
    "{assign}. On Telegram, use the buttons under the alert."
)


@dataclass(frozen=True)
class Command:
    verb: str  # "ack", "resolve" or "assign"
    escalation_id: int | None
    rest: str  # the note, or the rep's external id for "assign"


def looks_like_rep_command(text: str) -> bool:
    """Whether `text` is addressed to the escalation machinery rather than a chat message."""
    return bool(_COMMAND.match(text))


def parse_command(text: str) -> Command | None:
    """The command in `text`, or None when it is not one ("DONE" and "/resolve" are the same).

    Without a number, only a bare word ("ACK") or a slash command counts: "done it
    yesterday" is a sentence.
    """
    match = _PARSE.match(text)
    if match is None:
        return None
    rest = match["rest"].strip()
    if match["id"] is None and rest and not match["slash"]:
        return None
    verb = match["verb"].lower()
    return Command(
        verb="resolve" if verb == "done" else verb,
        escalation_id=int(match["id"]) if match["id"] else None,
        rest=rest,
    )


@dataclass
class RepTurn:
    """A rep's message (already stored), and the means to answer it."""

    session: Session
    now: datetime
    rep: Rep
    inbound: Inbound
    settings: Settings

    @property
    def via(self) -> str:
        return self.inbound.channel

    def say(self, text: str, purpose: str = Purpose.REP_REPLY) -> None:
        queue_message(
            self.session,
            now=self.now,
            channel=self.inbound.channel,
            address=self.inbound.address,
            body=text,
            purpose=purpose,
            rep_id=self.rep.id,
        )


def handle_rep_message(
    session: Session, now: datetime, rep: Rep, inbound: Inbound, settings: Settings
) -> str:
    """Act on a rep's message (already stored); return what it did, e.g. "acknowledged"."""
    turn = RepTurn(session, now, rep, inbound, settings)
    command = parse_command(inbound.text)
    if command is None:
        return _note_or_help(turn)
    if command.verb == "assign":
        return _assign(turn, command)
    escalation = _find(turn, command)
    if escalation is None:
        return "unknown_escalation"
    if not may_act(session, rep, escalation):
        owner = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
        turn.say(
            f"Escalation #{escalation.id} is assigned to {owner.name if owner else 'nobody'}. "
            "Only that rep, their manager or an admin can act on it."
        )
        return "not_allowed"
    if command.verb == "ack":
        return _acknowledge(turn, escalation)
    return _resolve(turn, escalation, command.rest)


def may_act(session: Session, rep: Rep, escalation: Escalation) -> bool:
    """The assigned rep, their manager (or the manager alerted), and admins."""
    if rep.role == Role.ADMIN or rep.id in (escalation.rep_id, escalation.manager_id):
        return True
    owner = session.get(Rep, escalation.rep_id) if escalation.rep_id is not None else None
    return owner is not None and owner.manager_id == rep.id


def _find(turn: RepTurn, command: Command) -> Escalation | None:
    if command.escalation_id is not None:
        escalation = turn.session.get(Escalation, command.escalation_id)
        if escalation is None:
            turn.say(
                f"There is no escalation #{command.escalation_id}. Check the number in the alert."
            )
        return escalation
    # "ACK" alone is clear when the rep has exactly one escalation it can apply to.
    statuses = ("open",) if command.verb == "ack" else ("open", "acknowledged")
    mine = list(
        turn.session.scalars(
            select(Escalation)
            .where(Escalation.rep_id == turn.rep.id, Escalation.status.in_(statuses))
            .order_by(Escalation.id)
            .limit(10)
        )
    )
    if len(mine) == 1:
        return mine[0]
    word = "ACK" if command.verb == "ack" else "DONE"
    listed = ", ".join(f"#{e.id}" for e in mine)
    turn.say(
        f"Which escalation? Reply {word} followed by its number"
        + (f" ({listed})." if listed else "; you have none waiting.")
    )
    return None


def _acknowledge(turn: RepTurn, escalation: Escalation) -> str:
    outcome = actions.acknowledge(turn.session, turn.now, escalation, turn.rep, turn.via)
    if not outcome.changed:
        turn.say(_already(turn.session, escalation))
        return "already_" + escalation.status
    customer = turn.session.get_one(Customer, escalation.customer_id)
    then = (
        "tap Resolve under the alert"
        if registry.shows_buttons(turn.via)
        else f"reply DONE {escalation.id} and a short note"
    )
    turn.say(
        f"Escalation #{escalation.id} is yours: {customer.name}"
        + (f", {customer.phone}" if customer.phone else "")
        + f". When it is fixed, {then}."
    )
    return "acknowledged"


def _resolve(turn: RepTurn, escalation: Escalation, note: str) -> str:
    if escalation.status == EscalationStatus.RESOLVED:
        turn.say(_already(turn.session, escalation))
        return "already_resolved"
    if not note:
        # The Resolve button: they have taken it, so it is acknowledged now; the note follows.
        actions.acknowledge(turn.session, turn.now, escalation, turn.rep, turn.via)
        turn.rep.awaiting_note_escalation_id = escalation.id
        turn.rep.awaiting_note_since = turn.now
        turn.say(
            f"How was escalation #{escalation.id} resolved? "
            "Reply with a short note; your next message is saved as it."
        )
        return "note_requested"
    outcome = actions.resolve(turn.session, turn.now, escalation, turn.rep, note, turn.via)
    if not outcome.changed:
        turn.say(_already(turn.session, escalation))
        return "already_" + escalation.status
    turn.rep.awaiting_note_escalation_id = None
    turn.rep.awaiting_note_since = None
    follow_up = ""
    if escalation.kind == EscalationKind.DETRACTOR:
        days = load_rules(turn.session).recovery_days
        follow_up = f" We will ask the customer again in {days:g} days."
    turn.say(f"Escalation #{escalation.id} resolved. Note saved.{follow_up}")
    return "resolved"


def _note_or_help(turn: RepTurn) -> str:
    rep, session = turn.rep, turn.session
    pending = rep.awaiting_note_escalation_id
    fresh = rep.awaiting_note_since is not None and turn.now - rep.awaiting_note_since < NOTE_WAIT
    note = turn.inbound.text.strip()
    if pending is not None and fresh and note:
        escalation = session.get(Escalation, pending)
        if escalation is not None and may_act(session, rep, escalation):
            return _resolve(turn, escalation, note)
    if pending is not None:
        rep.awaiting_note_escalation_id, rep.awaiting_note_since = None, None
    log.info("rep %s wrote something that is not a command", rep.external_id)
    if _helped_recently(turn):
        return "rep_message"
    assign = ", ASSIGN 12 rep-id to hand it to another rep" if rep.role in MANAGERS else ""
    turn.say(HELP.format(assign=assign), purpose=Purpose.REP_HELP)
    return "help"


def _helped_recently(turn: RepTurn) -> bool:
    turn.session.flush()
    return bool(
        turn.session.scalar(
            select(func.count(Message.id)).where(
                Message.rep_id == turn.rep.id,
                Message.direction == "out",
                Message.purpose == Purpose.REP_HELP,
                Message.created_at >= turn.now - HELP_EVERY,
            )
        )
    )


def _assign(turn: RepTurn, command: Command) -> str:
    session, rep = turn.session, turn.rep
    target_id = command.rest.split()[0] if command.rest else ""
    if command.escalation_id is None or not target_id:
        turn.say("To hand an escalation over, reply ASSIGN followed by its number and a rep's id.")
        return "usage"
    if rep.role not in MANAGERS:
        turn.say("Only a manager or an admin can reassign escalations.")
        return "not_allowed"
    escalation = session.get(Escalation, command.escalation_id)
    if escalation is None:
        turn.say(f"There is no escalation #{command.escalation_id}. Check the number in the alert.")
        return "unknown_escalation"
    if not may_act(session, rep, escalation):
        turn.say(f"Escalation #{escalation.id} is not in your team.")
        return "not_allowed"
    new_rep = session.scalar(select(Rep).where(Rep.external_id == target_id))
    if new_rep is None:
        turn.say(f"There is no rep with the id {target_id!r}.")
        return "unknown_rep"
    if escalation.status == EscalationStatus.RESOLVED:
        turn.say(_already(session, escalation))
        return "already_resolved"
    outcome = actions.reassign(
        session,
        turn.now,
        escalation,
        new_rep,
        rep,
        settings=turn.settings,
        book=TemplateBook.load(session),
    )
    if not outcome.changed:
        turn.say(f"Escalation #{escalation.id} is already with {new_rep.name}.")
        return "unchanged"
    turn.say(f"Escalation #{escalation.id} is now with {new_rep.name}; they have been alerted.")
    return "reassigned"


def _already(session: Session, escalation: Escalation) -> str:
    if escalation.status == EscalationStatus.RESOLVED:
        return f"Escalation #{escalation.id} is already resolved."
    by = (
        session.get(Rep, escalation.acknowledged_by_id)
        if escalation.acknowledged_by_id is not None
        else None
    )
    return f"Escalation #{escalation.id} was already acknowledged" + (
        f" by {by.name}." if by is not None else "."
    )
