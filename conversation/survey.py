"""The survey conversation: what a customer's message means, and what we do about it.

survey sent --score--> answered --follow-up question--> awaiting comment --text--> comment stored
    |                     (promoters: thanks + review ask, no question)
    +--unreadable text--> one clarification --still unreadable--> forwarded to the rep
no survey open, or expired ---------------------------------------> forwarded to the rep
STOP / START / HELP (any time) -----> opt out / opt back in / help, one confirmation each
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from conversation import rescore
from conversation.forwarding import forward_to_rep, unresolved_escalation
from conversation.optout import opt_in, opt_out, send_help, welcome_again
from conversation.replies import Reply, parse_reply
from conversation.replies.concerns import needs_answer
from conversation.turn import Turn
from escalation.alerts import alert_new_escalation, relay_to_rep, tell_score_change
from escalation.opening import open_escalation, sla_due_at
from escalation.trail import record
from events import EventType, record_event
from events.payloads import response_data
from messaging.once import insert_once
from models import SURVEY_KINDS, CheckIn, Escalation, Message, Response
from models.states import (
    CheckInStatus,
    EscalationKind,
    EscalationStatus,
    NpsCategory,
    Purpose,
)

# How long after the follow-up question a text still counts as the answer to it.
COMMENT_WINDOW = timedelta(days=2)
# How long a correcting press (another score link of the same email) changes the score: a
# day, so a person's click after a mail scanner's prefetch of the links still counts.
CORRECTION_WINDOW = timedelta(days=1)
KEYWORDS = {"stop": opt_out, "start": opt_in, "help": send_help}


def carries_comment(text: str) -> bool:
    """Whether the words beside a score say something ("3, the courier was rude"), not just "!!" or "ok"."""
    return sum(ch.isalpha() for ch in text) >= 3


def handle_customer_message(turn: Turn) -> str:
    """Decide what the customer's message is, act on it, and return what was done."""
    if turn.inbound.button_score is not None:
        return _button(turn, *turn.inbound.button_score)
    reply = parse_reply(turn.inbound.text)
    opted_out = turn.customer.opted_out_at is not None
    if reply.keyword == "start" and not opted_out:
        # Nothing to opt back into, and "yes" is a START word: it may well answer us.
        return _converse(turn, reply, otherwise=welcome_again)
    if reply.keyword is not None:
        return KEYWORDS[reply.keyword](turn, reply)
    if opted_out:
        # A human reads it; the bot stays silent as promised.
        forward_to_rep(turn, answer=False)
        return "forwarded"
    return _converse(turn, reply, otherwise=_forward)


def _converse(turn: Turn, reply: Reply, *, otherwise: Callable[[Turn], str]) -> str:
    survey = open_survey(turn)
    pending = awaiting_comment(turn)
    if pending is not None and (
        survey is None or survey.sent_at is None or pending.received_at >= survey.sent_at
    ):
        # Even "a 10 would need faster delivery" answers the question; it is not a new score.
        return take_comment(turn, pending)
    if survey is not None and reply.score is not None:
        return record_score(turn, survey, reply.score, reply.comment)
    if survey is not None:
        return clarify_or_forward(turn, survey)
    praised = invited_promoter(turn)
    if (
        praised is not None
        and reply.keyword is None
        and reply.score is None  # a second score is for a human to read
        and not needs_answer(turn.inbound.text)  # a question or a complaint
    ):
        return take_praise(turn, praised)
    return otherwise(turn)


def invited_promoter(turn: Turn) -> Response | None:
    """The customer's newest promoter response whose thanks-and-review ask went out lately."""
    newest = turn.session.scalar(
        select(Response)
        .where(Response.customer_id == turn.customer.id)
        .order_by(Response.received_at.desc(), Response.id.desc())
        .limit(1)
    )
    if (
        newest is None
        or newest.category != "promoter"
        or newest.followup_sent_at is None
        or newest.followup_sent_at < turn.now - COMMENT_WINDOW
    ):
        return None
    return newest


def take_praise(turn: Turn, response: Response) -> str:
    """A promoter's words after the review invite: the response's comment, no escalation."""
    text = turn.message.body.strip()
    response.comment = f"{response.comment}\n{text}" if response.comment else text
    turn.message.checkin_id = response.checkin_id
    return "comment"


def _forward(turn: Turn) -> str:
    forward_to_rep(turn, answer=True)
    return "forwarded"


def _button(turn: Turn, checkin_id: int, score: int) -> str:
    if turn.customer.opted_out_at is None:
        checkin = turn.session.get(CheckIn, checkin_id)
        if (
            checkin is not None
            and checkin.customer_id == turn.customer.id
            and checkin.kind in SURVEY_KINDS
        ):
            if checkin.status == CheckInStatus.SENT:
                return record_score(turn, checkin, score, "")
            if checkin.status == CheckInStatus.ANSWERED and turn.inbound.corrects:
                return _correct_score(turn, checkin, score)
            if checkin.status == CheckInStatus.ANSWERED:
                return "already_answered"  # a second tap on the same keyboard
    forward_to_rep(turn, answer=turn.customer.opted_out_at is None)
    return "forwarded"


def _correct_score(turn: Turn, checkin: CheckIn, score: int) -> str:
    """Another number clicked soon after the first: the last one counts, escalated at most once.

    Falling into detractors opens the escalation (one per response, by constraint) and
    alerts the rep as usual; climbing out of them resolves it as the customer's doing,
    with a trail entry and no recovery check (conversation/rescore.py), and whoever was
    alerted reads that it was closed and why (rep_score_changed, old and new score);
    falling back in reopens it with the usual alert and a fresh SLA. A move within
    0-6 tells the rep the new score.
    """
    turn.message.checkin_id = checkin.id
    response = turn.session.scalar(
        select(Response).where(Response.checkin_id == checkin.id).with_for_update()
    )
    if (
        response is None
        or response.score == score
        or turn.now - response.received_at > CORRECTION_WINDOW
    ):
        return "already_answered"
    before = response.score
    response.score, response.category = score, NpsCategory.of(score)
    response.awaiting_comment = response.category != NpsCategory.PROMOTER and not response.comment
    escalation = turn.session.scalar(
        select(Escalation).where(Escalation.response_id == response.id)
    )
    if escalation is not None:
        note = f"score changed from {before} to {score}"  # the trail's words (for staff)
        record(turn.session, turn.now, escalation.id, "comment", note, actor=turn.customer.name)
        _follow_score(turn, escalation, before, score)
    elif response.category == NpsCategory.DETRACTOR:
        _escalate(turn, response)
    return "rescored"


def _follow_score(turn: Turn, escalation: Escalation, before: int, after: int) -> None:
    """The escalation follows the corrected score, and whoever was alerted hears of it once."""
    session, now, who = turn.session, turn.now, turn.customer.name
    if NpsCategory.of(after) != NpsCategory.DETRACTOR:
        if rescore.withdraw(session, now, escalation, before, after, who):
            tell_score_change(session, now, escalation, before, after, turn.settings, turn.book)
        return
    if rescore.reopen(session, now, escalation, before, after, who):
        # They were told it was closed: the usual alert again, with the time to act.
        escalation.sla_due_at = sla_due_at(session, now, turn.rules, turn.settings)
        alert_new_escalation(session, now, escalation, turn.settings, turn.book)
    elif escalation.status != EscalationStatus.RESOLVED:  # a rep's resolution stands
        tell_score_change(session, now, escalation, before, after, turn.settings, turn.book)


def open_survey(turn: Turn) -> CheckIn | None:
    """The customer's newest survey that went out and is still waiting for a score."""
    return turn.session.scalar(
        select(CheckIn)
        .where(
            CheckIn.customer_id == turn.customer.id,
            CheckIn.status == CheckInStatus.SENT,
            CheckIn.kind.in_(SURVEY_KINDS),
            CheckIn.sent_at > turn.now - timedelta(days=turn.rules.expire_days),
        )
        .order_by(CheckIn.sent_at.desc(), CheckIn.id.desc())
        .limit(1)
    )


def awaiting_comment(turn: Turn) -> Response | None:
    """The customer's newest response whose follow-up question is still unanswered."""
    return turn.session.scalar(
        select(Response)
        .where(
            Response.customer_id == turn.customer.id,
            Response.awaiting_comment.is_(True),
            Response.received_at >= turn.now - COMMENT_WINDOW,
        )
        .order_by(Response.received_at.desc(), Response.id.desc())
        .limit(1)
    )


def record_score(turn: Turn, checkin: CheckIn, score: int, comment: str) -> str:
    """Store the response (once per check-in) and answer it by category."""
    comment = comment.strip()
    category = NpsCategory.of(score)
    response, created = insert_once(
        turn.session,
        Response,
        {
            "checkin_id": checkin.id,
            "customer_id": turn.customer.id,
            "score": score,
            "category": category,
            "comment": comment,
            "channel": turn.inbound.channel,
            "received_at": turn.now,
            "awaiting_comment": False,
        },
        unique={"checkin_id": checkin.id},
    )
    turn.message.checkin_id = checkin.id
    if not created:
        return "already_answered"  # another delivery or process scored it first
    checkin.status, checkin.closed_at = "answered", turn.now
    record_event(
        turn.session,
        turn.now,
        EventType.RESPONSE_CREATED,
        lambda: response_data(turn.session, response),
    )
    if category == NpsCategory.DETRACTOR:
        _escalate(turn, response)
    if category == NpsCategory.PROMOTER:
        sent = turn.reply(
            "followup_promoter",
            purpose=Purpose.FOLLOWUP,
            checkin_id=checkin.id,
            score=score,
            review_url=turn.settings.review_url,
            referral_url=turn.settings.referral_url,
        )
    elif carries_comment(comment):
        sent = close_conversation(turn, response)
    else:
        sent = turn.reply(
            f"followup_{category}", purpose=Purpose.FOLLOWUP, checkin_id=checkin.id, score=score
        )
        response.awaiting_comment = sent is not None
    if sent is not None:
        response.followup_sent_at = turn.now
    return "scored"


def take_comment(turn: Turn, response: Response) -> str:
    """The answer to our follow-up question becomes the response's comment."""
    text = turn.message.body.strip()
    response.comment = f"{response.comment}\n{text}" if response.comment else text
    response.awaiting_comment = False
    turn.message.checkin_id = response.checkin_id
    record_event(
        turn.session,
        turn.now,
        EventType.RESPONSE_COMMENTED,
        lambda: response_data(turn.session, response) | {"added": text},
    )
    escalation = turn.session.scalar(
        select(Escalation).where(Escalation.response_id == response.id)
    )
    if escalation is not None:
        record(turn.session, turn.now, escalation.id, "comment", text, actor=turn.customer.name)
        # The alert went out with the score; the rep also needs the "what went wrong".
        relay_to_rep(turn.session, turn.now, escalation, text, turn.settings, turn.book)
    close_conversation(turn, response)
    return "comment"


def close_conversation(turn: Turn, response: Response) -> Message | None:
    """The last word: thanks, or the review invitation when admins ask every respondent for one.

    Review sites forbid asking only happy customers, hence `review_invite_all`; but
    nobody is invited to review while a human is still sorting out their problem.
    """
    if (
        turn.rules.review_invite_all
        and response.category != NpsCategory.PROMOTER
        and unresolved_escalation(turn) is None
    ):
        return turn.reply(
            "review_invite",
            purpose=Purpose.REVIEW_INVITE,
            checkin_id=response.checkin_id,
            review_url=turn.settings.review_url,
            referral_url=turn.settings.referral_url,
        )
    return turn.reply("thanks_comment", purpose=Purpose.THANKS, checkin_id=response.checkin_id)


def clarify_or_forward(turn: Turn, survey: CheckIn) -> str:
    """One friendly "reply with a number" per survey; after that a human reads it."""
    turn.message.checkin_id = survey.id
    turn.session.flush()
    asked = turn.session.scalar(
        select(func.count(Message.id)).where(
            Message.direction == "out",
            Message.purpose == Purpose.CLARIFY,
            Message.checkin_id == survey.id,
        )
    )
    if (
        not asked
        and turn.reply("clarify", purpose=Purpose.CLARIFY, checkin_id=survey.id) is not None
    ):
        return "clarify"
    forward_to_rep(turn, answer=True)
    return "forwarded"


def _escalate(turn: Turn, response: Response) -> None:
    """A detractor's score: open the one escalation for it (the rep is alerted with it)."""
    open_escalation(
        turn.session,
        turn.now,
        customer=turn.customer,
        kind=EscalationKind.DETRACTOR,
        response=response,
        rules=turn.rules,
        settings=turn.settings,
        book=turn.book,
    )
