"""What reps and managers read, in their language: the language a rep reads, and the replies.

Every word lives in templates/<lang>/rep_reply_*.txt (admins edit them like any
other template); this module picks the rep's language and fills in the values.
"""

from __future__ import annotations

import logging
from typing import Any

from messaging import rep_verbs as verbs
from messaging.compose import TemplateBook
from messaging.render import TemplateError, render
from models import Rep
from settings import Settings

log = logging.getLogger(__name__)


def language_of(rep: Rep | None, settings: Settings) -> str:
    """The rep's own language, else the business's (AFTERCARE_DEFAULT_LANGUAGE)."""
    if rep is not None and rep.language:
        return rep.language
    return settings.default_language


def staff_context(rep: Rep, language: str, settings: Settings, channel: str) -> dict[str, Any]:
    """What every rep-facing template may use: who reads it and the verbs of their language."""
    return {
        "first_name": rep.name.split()[0] if rep.name.strip() else rep.name,
        "name": rep.name,
        "business_name": settings.business_name,
        "channel": channel,
        # ack, resolve, assign: the rep's words; ack_en...: the English ones, which work too.
        **verbs.verb_context(language),
    }


def compose_reply(
    book: TemplateBook, key: str, rep: Rep, settings: Settings, channel: str, **values: Any
) -> str:
    """The text of reply `key` for `rep`: the admin's version in force, else the file.

    An admin's version is checked when saved; should it still fail to render, the
    rep gets the file's text rather than nothing (and the log says why).
    """
    language = language_of(rep, settings)
    context = {**staff_context(rep, language, settings, channel), **values}
    try:
        return book.compose(key, language, context).body
    except TemplateError:
        log.exception("cannot render %s in %s; using the file", key, language)
        return render(key, language, context)


def button_label(book: TemplateBook, button: str, language: str) -> str:
    """A Telegram button's label under an alert ("ack", "resolve", "customer"), from rep_buttons."""
    # A label is not a message of its own: no channel's length limit applies.
    context = {"button": button, "channel": ""}
    try:
        return book.compose("rep_buttons", language, context).body
    except TemplateError:
        log.exception("cannot render rep_buttons in %s; using the file", language)
        return render("rep_buttons", language, context)
