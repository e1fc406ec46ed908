"""The words of the rep commands, per language: data, read by escalation.commands
(the grammar) and by the templates that teach them (HELP, the alerts, their previews).

Every rep may use English (ACK, DONE or RESOLVE, ASSIGN, and the Telegram
buttons' /ack and /resolve) and the verbs of their own language. A word means
one action in every language (tests check it), a localised verb is a command
only when the escalation's number follows it or it stands alone, and words
customers also answer with ("OK") are `SHARED`: from a person who is both a
customer and a rep they are read as the customer's, never as a command.

The first word of each tuple is the one HELP and the alerts teach.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

ACTIONS: Final = ("ack", "resolve", "assign")
FALLBACK: Final = "en"

# language -> action -> its words.
VERBS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = MappingProxyType(
    {
        "en": {"ack": ("ACK",), "resolve": ("DONE", "RESOLVE"), "assign": ("ASSIGN",)},
        "pl": {
            # Without diacritics too: many phones type ZALATWIONE.
            "ack": ("OK", "BIORĘ", "BIORE"),
            "resolve": ("ZAŁATWIONE", "ZALATWIONE"),
            "assign": ("PRZEKAŻ", "PRZEKAZ"),
        },
        "uk": {"ack": ("БЕРУ",), "resolve": ("ВИРІШЕНО",), "assign": ("ПЕРЕДАТИ",)},
        "ru": {"ack": ("БЕРУ",), "resolve": ("РЕШЕНО",), "assign": ("ПЕРЕДАТЬ",)},
        "th": {"ack": ("รับเรื่อง",), "resolve": ("ปิดเรื่อง",), "assign": ("โอนเรื่อง",)},
    }
)
# Words customers use in their own replies: a command only from someone who is not a customer.
SHARED: Final[frozenset[str]] = frozenset({"OK"})


def words(language: str, action: str) -> tuple[str, ...]:
    """The verbs for `action` a rep who reads `language` may use: theirs, then English."""
    own = VERBS.get(language, {}).get(action, ())
    english = VERBS[FALLBACK][action]
    return tuple(dict.fromkeys((*own, *english)))


def action_of(word: str) -> str | None:
    """The action `word` names in any language (case-insensitive), or None."""
    folded = word.casefold()
    for table in VERBS.values():
        for action, verbs in table.items():
            if folded in (verb.casefold() for verb in verbs):
                return action
    return None


def all_words(*, shared: bool = True) -> tuple[str, ...]:
    """Every verb of every language, longest first (for one regular expression)."""
    found = {
        verb
        for table in VERBS.values()
        for verbs in table.values()
        for verb in verbs
        if shared or verb not in SHARED
    }
    return tuple(sorted(found, key=lambda verb: (-len(verb), verb)))


def teach(language: str) -> dict[str, str]:
    """The verb HELP and the alerts show for each action, in `language` (English when it has none)."""
    table = VERBS.get(language) or VERBS[FALLBACK]
    return {action: table[action][0] for action in ACTIONS}


def verb_context(language: str) -> dict[str, str]:
    """The template variables naming the verbs: ack, resolve, assign, and the English ack_en..."""
    own, english = teach(language), teach(FALLBACK)
    return {
        **own,
        **{f"{action}_en": word for action, word in english.items()},
    }
