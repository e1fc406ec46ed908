"""What a rep sends us: ACK 12, DONE 12 note, /ack 12, /resolve 12, ASSIGN 12 rep-2, and notes.

`conversation.inbound.receive` has already stored the message (with `rep_id`) when it
calls `handle_rep_message`; this module decides what the message does. SMS and
Telegram end in the same state: a Telegram button arrives as the text "/ack 12"
or "/resolve 12" (see conversation.telegram_bot), exactly as if typed.

A rep may also use the verbs of their own language (escalation/verbs.py: the Polish
OK 12 and ZAŁATWIONE 12 note, and so on). "/resolve 12" without a note acknowledges
the escalation and asks for the note; the rep's next message that is not a command
is taken as it. Every answer goes back to the rep on the channel they wrote from, at
once, in their language, from templates/<lang>/rep_reply_*.txt.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cadence.rules import load_rules
from escalation import actions
from escalation.replies import compose_reply, language_of
from messaging import rep_verbs as verbs
from messaging.channels import registry
from messaging.channels.base import Inbound
from messaging.compose import TemplateBook
from messaging.outbox import queue_message
from models import Customer, Escalation, Message, Rep
from models.states import EscalationKind, EscalationStatus, Purpose, Role
from settings import Settings

log = logging.getLogger(__name__)

_SLASH = r"/(?:ack|resolve|done|assign)(?:@\w+)?"
# A verb ends where no letter follows ("done12" is DONE 12; "acknowledged" is a word).
_END = r"(?![^\W\d_])"


def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(word) for word in words)


# "/ack", "/ack 12", "/resolve@AftercareBot 12", "ACK 12", "done #12", "ZAŁATWIONE 12", in any
# language, but never a word customers also write ("OK 12"): see escalation.verbs.SHARED.
_COMMAND = re.compile(
    rf"^\s*(?:{_SLASH}(?:\s|$)|(?:{_alternation(verbs.all_words(shared=False))}){_END}"
    r"\s*#?\d+\b)",
    re.IGNORECASE,
)


@functools.cache
def _parser(language: str) -> re.Pattern[str]:
    """The grammar for a rep who reads `language`: their verbs and the English ones."""
    words = sorted(
        {word for action in verbs.ACTIONS for word in verbs.words(language, action)},
        key=lambda word: (-len(word), word),
    )
    return re.compile(
        rf"^\s*(?P<slash>/)?(?P<verb>{_alternation(tuple(words))})(?:@\w+)?{_END}"
        r"(?:\s*#?(?P<id>\d{1,9})\b)?\s*(?P<rest>.*)$",
        re.IGNORECASE | re.DOTALL,
    )


# A note asked for and never sent does not capture a message days later.
NOTE_WAIT = timedelta(hours=24)
HELP_EVERY = timedelta(minutes=10)
MANAGERS = (Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Command:
    verb: str  # "ack", "resolve" or "assign"
    escalation_id: int | None
    rest: str  # the note, or the rep's external id for "assign"


def looks_like_rep_command(text: str) -> bool:
    """Whether `text` is addressed to the escalation machinery rather than a chat message.

    Asked before we know who wrote, so it knows every language's verbs, except the
    words customers also answer with.
    """
    return bool(_COMMAND.match(text))


def parse_command(text: str, language: str = verbs.FALLBACK) -> Command | None:
    """The command in `text` for a rep who reads `language`, or None when it is not one.

    "DONE", "/resolve" and the rep's own word for it are the same. Without a number,
    only a bare word ("ACK") or a slash command counts: "done it yesterday" is a
    sentence, and a word customers also use ("OK") needs the number.
    """
    match = _parser(language).match(text)
    if match is None:
        return None
    rest = match["rest"].strip()
    if match["id"] is None and (
        (rest and not match["slash"]) or match["verb"].upper() in verbs.SHARED
    ):
        return None
    action = verbs.action_of(match["verb"])
    assert action is not None  # the grammar holds only the table's words
    return Command(
        verb=action,
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
    book: TemplateBook

    @property
    def via(self) -> str:
        return self.inbound.channel

    def say(self, key: str, purpose: str = Purpose.REP_REPLY, **values: Any) -> None:
        """Answer with template `key` (templates/<lang>/rep_reply_*.txt) in the rep's language."""
        text = compose_reply(self.book, key, self.rep, self.settings, self.via, **values)
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
    turn = RepTurn(session, now, rep, inbound, settings, TemplateBook.load(session))
    command = parse_command(inbound.text, language_of(rep, settings))
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
            "rep_reply_refused",
            reason="owner",
            escalation_id=escalation.id,
            owner_name=owner.name if owner else None,
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
            turn.say("rep_reply_not_found", escalation_id=command.escalation_id, rep_id=None)
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
    turn.say("rep_reply_which", action=command.verb, waiting=[e.id for e in mine])
    return None


def _acknowledge(turn: RepTurn, escalation: Escalation) -> str:
    outcome = actions.acknowledge(turn.session, turn.now, escalation, turn.rep, turn.via)
    if not outcome.changed:
        _already(turn, escalation)
        return "already_" + escalation.status
    customer = turn.session.get_one(Customer, escalation.customer_id)
    turn.say(
        "rep_reply_acknowledged",
        escalation_id=escalation.id,
        customer_name=customer.name,
        customer_phone=customer.phone,
        buttons=registry.shows_buttons(turn.via),
    )
    return "acknowledged"


def _resolve(turn: RepTurn, escalation: Escalation, note: str) -> str:
    if escalation.status == EscalationStatus.RESOLVED:
        _already(turn, escalation)
        return "already_resolved"
    if not note:
        # The Resolve button: they have taken it, so it is acknowledged now; the note follows.
        actions.acknowledge(turn.session, turn.now, escalation, turn.rep, turn.via)
        turn.rep.awaiting_note_escalation_id = escalation.id
        turn.rep.awaiting_note_since = turn.now
        turn.say("rep_reply_note_requested", escalation_id=escalation.id)
        return "note_requested"
    outcome = actions.resolve(turn.session, turn.now, escalation, turn.rep, note, turn.via)
    if not outcome.changed:
        _already(turn, escalation)
        return "already_" + escalation.status
    turn.rep.awaiting_note_escalation_id = None
    turn.rep.awaiting_note_since = None
    days = None
    if escalation.kind == EscalationKind.DETRACTOR:
        days = f"{load_rules(turn.session).recovery_days:g}"
    turn.say("rep_reply_resolved", escalation_id=escalation.id, recovery_days=days)
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
    turn.say(
        "rep_reply_help",
        purpose=Purpose.REP_HELP,
        is_manager=rep.role in MANAGERS,
        buttons=registry.shows_buttons(turn.via),
    )
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
        turn.say("rep_reply_assign_usage")
        return "usage"
    if rep.role not in MANAGERS:
        turn.say("rep_reply_refused", reason="not_manager", escalation_id=command.escalation_id)
        return "not_allowed"
    escalation = session.get(Escalation, command.escalation_id)
    if escalation is None:
        turn.say("rep_reply_not_found", escalation_id=command.escalation_id, rep_id=None)
        return "unknown_escalation"
    if not may_act(session, rep, escalation):
        turn.say("rep_reply_refused", reason="not_team", escalation_id=escalation.id)
        return "not_allowed"
    new_rep = session.scalar(select(Rep).where(Rep.external_id == target_id))
    if new_rep is None:
        turn.say("rep_reply_not_found", escalation_id=None, rep_id=target_id)
        return "unknown_rep"
    if escalation.status == EscalationStatus.RESOLVED:
        _already(turn, escalation)
        return "already_resolved"
    outcome = actions.reassign(
        session, turn.now, escalation, new_rep, rep, settings=turn.settings, book=turn.book
    )
    turn.say(
        "rep_reply_reassigned",
        escalation_id=escalation.id,
        new_rep_name=new_rep.name,
        changed=outcome.changed,
    )
    return "reassigned" if outcome.changed else "unchanged"


def _already(turn: RepTurn, escalation: Escalation) -> None:
    """Say the escalation was already resolved or acknowledged (and by whom)."""
    by = (
        turn.session.get(Rep, escalation.acknowledged_by_id)
        if escalation.acknowledged_by_id is not None
        else None
    )
    turn.say(
        "rep_reply_already",
        escalation_id=escalation.id,
        status=escalation.status,
        by_name=by.name if by is not None else None,
    )
