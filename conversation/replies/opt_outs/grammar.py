"""What the per-language opt-out patterns are built from: a Lexicon and the builders."""

from typing import NamedTuple

from conversation.replies import vocabulary as v

_L = v.LETTER

# The end of a clause: punctuation or the end of the text.
END = r"(?=\s*(?:[^\w\s']|\Z))"
# Thai clause end: no Thai letter follows (the particles are taken in before).
TH_END = r"(?![\u0e00-\u0e7f])"
S = r"\s*"
# "Ничего не присылайте, кроме счёта": what follows "nothing" takes it back.
_NO_EXCEPTION = (
    r"(?![\s,;:-]*(?:except|apart from|other than|oprocz|poza|z wyjatkiem|кроме|за исключением"
    rf"|крім|окрім|за винятком)(?!{_L}))"
)
# What may follow a "from your list" that ends the request: "..., thanks", "... and".
_THEN = v.alternation(
    v.FILLERS,
    ("and", "but", "so", "i", "ale", "bo", "oraz", "и", "но", "а", "і", "й", "але", "та", "бо"),
)


def words(*entries: str) -> str:
    """Literal words or phrases, written naturally (folded here), longest first."""
    return v.alternation(entries)


def any_of(*patterns: str) -> str:
    return "(?:" + "|".join(patterns) + ")"


def opt(pattern: str) -> str:
    """`pattern` or nothing, after a space."""
    return f"(?: {pattern})?"


def some(*patterns: str) -> str:
    """A few of `patterns`, each after a space: objects and adverbs in any order."""
    # Bounded: an open * is tried again from every word of a long reply (quadratic).
    return f"(?: {any_of(*patterns)}){{0,4}}"


class Lexicon(NamedTuple):
    """One language's words around a request to stop."""

    me: str  # the object: "me", "us", "this number"
    more: str  # adverbs: "any more", "again", "już", "больше"
    det: str  # before a message noun: "these", "your", "żadnych"
    messages: str  # the nouns: "texts", "wiadomości", "рассылку"
    things: str  # stand-ins for the messages that end a clause: "these", "nic", "ничего"
    # Calls never count alone ("proszę nie dzwonić, wolę SMS"), but may come first:
    # "stop calling and texting me", "перестаньте звонить и писать".
    calls: str


def tail(lex: Lexicon) -> str:
    return some(lex.me, lex.more)


def sending_verbs(lex: Lexicon, verbs: str) -> str:
    """`verbs` that also take goods: only with a message object, or ending the clause."""
    after = tail(lex)
    return (
        f"{verbs}{after}(?:{opt(lex.det)} {lex.messages}{after}"
        f"|{opt(lex.things)}{after}{END}{_NO_EXCEPTION})"
    )


def request(lex: Lexicon, lead: str, contacting: str = "", sending: str = "") -> str:
    """`lead` (a stop verb, a negation) before a verb that only means contacting or one that sends."""
    verbs = [f"{contacting}{tail(lex)}"] if contacting else []
    if sending:
        verbs.append(sending_verbs(lex, sending))
    before = some(lex.me, lex.more, lex.things)  # "не надо мне ничего присылать"
    return f"{lead}{before}{opt(lex.calls)} {any_of(*verbs)}"


def from_list(lex: Lexicon, source: str) -> str:
    """`source` ("from your list", "z bazy") as the end of the request: not "from the waiting list"."""
    return f"{source}(?={tail(lex)}(?:{END}| {_THEN}(?!{_L})))"


def negated(lex: Lexicon, negation: str) -> str:
    """`negation` with the words that may come first: "більше не", "ничего не", "więcej nie"."""
    return f"(?:{any_of(lex.more, lex.things)} ){{0,3}}{negation}"
