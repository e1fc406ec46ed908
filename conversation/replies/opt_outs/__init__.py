"""Opt-out requests in a sentence.

A request that can only mean "stop messaging me" ("please stop texting me",
"wypisz mnie", "не пишите мне больше") opts out wherever it stands, and wins
over a score in the same message: ignoring an opt-out costs more than re-asking.
"""

import re
from typing import NamedTuple

from conversation.replies import vocabulary as v
from conversation.replies.opt_outs import english, polish, russian, thai, ukrainian
from conversation.replies.opt_outs.grammar import any_of, words

__all__ = ["OptOut", "opt_out"]

_L = v.LETTER

# ---------------------------------------------------------------------------
# Opt-out requests in a sentence
#
# Written as a small grammar per language, not as a list of sentences: a stop
# verb ("stop", "przestańcie", "хватит", "เลิก") or a negated imperative
# ("don't", "nie piszcie", "не пишите", "อย่า") before a verb of contacting,
# with objects and adverbs in any order around it ("me", "już", "мне больше"),
# and the message nouns such requests are about. Two tiers:
#   phrase - an unmistakable request ("stop texting me", "usuńcie mój numer");
#   likely - most probably an opt-out, but said as an idiom, a sigh or half a
#            request ("leave me alone", "enough with the texts", a bare
#            "remove me", "ขอยกเลิกครับ"). We still stop (an ignored opt-out
#            costs more than a lost survey), and conversation/optout.py passes the
#            message to the rep, who can see what was meant.
#
# Verbs that also take goods or text ("send", "wysyłać", "присылать", "ส่ง", and
# "pisać"/"писать" a review) count only with a message as their object, or at
# the end of the clause: "please don't send the wrong part again" and "пришлите
# счёт" are no opt-outs. Verbs that can only mean contacting ("texting",
# "spamować", "не пишите") need neither. Calls are left out on purpose:
# "proszę nie dzwonić, wolę SMS" asks for texts.
#
# In these patterns a space stands for any run of white space (see
# _compile_opt_outs); Thai, written without spaces, uses grammar.S (optional space).
# Everything is matched against folded text: lower case, no Polish diacritics.
# ---------------------------------------------------------------------------


# --- Any language -----------------------------------------------------------
def _bare_stop(polite: str, stop: str, after: str) -> str:
    """A bare "Stop." as a sentence of its own among others: "Please stop. I've asked twice."""
    # At the start of the text or of a sentence (one or two spaces after it;
    # \x20, as a plain space in these patterns stands for any run of them).
    sentence_start = r"(?:(?<![^.!?\n])|(?<=[.!?]\x20)|(?<=[.!?]\x20\x20))"
    return f"{sentence_start}(?:{polite} )?{stop}(?: {after})?\\s*(?:[.!]+|\\n)"


_LATIN_BARE_STOP = _bare_stop(
    words("please", "pls", "plz", "ok", "okay", "just", "proszę"),
    words("stop", "dość", "dosyć", "wystarczy", "enough"),
    words("it", "now", "please", "pls", "already", "proszę", "już"),
)
_CYRILLIC_BARE_STOP = _bare_stop(
    words("пожалуйста", "будь ласка"),
    words("стоп", "хватит", "досить", "годі"),
    words("уже", "вже", "пожалуйста", "будь ласка"),
)


def _compile_opt_outs(tier: str) -> re.Pattern[str]:
    """One regex for the requests of `tier` ("phrase", or "likely" for both tiers).

    Each script's patterns sit behind a look-ahead for their first letter, so a
    Cyrillic word is never tried against the English ones: most replies hold no
    request, and this scan is the whole cost of finding that out.
    """
    scripts = {
        "[a-z]": (*english.PHRASES, *polish.PHRASES),
        "[\u0400-\u04ff]": (*ukrainian.PHRASES, *russian.PHRASES),
        "[\u0e00-\u0e7f]": thai.PHRASES,
    }
    if tier == "likely":  # after the phrases: where both start at one place, the phrase wins
        scripts["[a-z]"] += (*english.LIKELY, *polish.LIKELY, _LATIN_BARE_STOP)
        scripts["[\u0400-\u04ff]"] += (*ukrainian.LIKELY, *russian.LIKELY, _CYRILLIC_BARE_STOP)
        scripts["[\u0e00-\u0e7f]"] += thai.LIKELY
    branches = any_of(*(f"(?={first}){any_of(*patterns)}" for first, patterns in scripts.items()))
    return re.compile(rf"(?<!{_L}){branches}(?!{_L})".replace(" ", r"\s+"))


_ANY_OPT_OUT = _compile_opt_outs("likely")
_PHRASE_OPT_OUT = _compile_opt_outs("phrase")

# "Don't text me on WhatsApp, better here": a request about another channel or
# time is at most likely, and none at all when it asks for this channel instead.
# "By text", "на этот номер", "ทางข้อความ" name this very channel: no qualifier.
_THIS_CHANNEL = (
    r"(?:(?:this|my|ten|moj|этот|мой|цей|мій)\s+(?:number|numer|номер)"
    r"|texts?\b|sms|смс|messages?\b|ข้อความ|เอสเอ็มเอส)"
)
_QUALIFIER = re.compile(
    r"\s+(?:in|on|at|via|over|through|after|before|during|about|until|w|we|na|przez|po|o"
    rf"|в|во|у|на|через|по|після|после|про|о|об)\s+(?!{_THIS_CHANNEL})"
    rf"|\s*(?:ทาง|ตอน)(?!\s*{_THIS_CHANNEL})"
)
# ... and "better here" after it asks for this channel instead.
_HERE_WORDS = r"(?:here|tu|tutaj|тут|здесь|сюда|сюди|this chat|ten czat|этот чат|цей чат)"
_INSTEAD = words(
    "better", "rather", "only", "just", "lepiej", "wolę", "raczej", "tylko", "piszcie", "лучше",
    "только", "пишите", "краще", "тільки", "пишіть",
)  # fmt: skip
_HERE = re.compile(
    rf"(?<!{_L}){_INSTEAD}\s+(?:\w+\s+){{0,2}}?{_HERE_WORDS}(?!{_L})"
    rf"|(?<!{_L}){_HERE_WORDS}\s+(?:instead|zamiast tego|вместо этого|замість цього)(?!{_L})"
    r"|(?:ที่นี่|ทางนี้)\s*แทน"
)
_POLITE = r"(?:please|pls|plz|now|prosze|пожалуйста|будь ласка|กรุณา|ช่วย)"
_THAI_PARTICLES = rf"(?:{v.alternation(v.THAI_PARTICLES, 'ด้วย')})*"
_CONNECTOR = r"(?:but|and|so|ale|но|и|а|але|і|та|แต่|และ)"  # not "i", "a": "how do I unsubscribe"
# Taken in with the request so the comment keeps neither: "10 but please stop texting me".
_LEAD_IN = re.compile(rf"(?<!{_L}){_CONNECTOR}\s+(?:{_POLITE}\s*)?\Z|(?<!{_L}){_POLITE}\s*\Z")
_TRAIL = re.compile(rf"(?:[\s,]*(?<!{_L}){_POLITE}(?!{_L}))?{_THAI_PARTICLES}")
# Words that, just before a request, make it none: "don't stop texting me", "nie
# wypisujcie mnie", "the salesman wouldn't leave me alone", "ask him to stop calling".
_NOT_A_REQUEST = (
    "don't", "dont", "do not", "can't", "cant", "cannot", "won't", "wont", "will not",
    "wouldn't", "wouldnt", "would not", "doesn't", "doesnt", "does not", "didn't", "didnt",
    "did not", "couldn't", "couldnt", "shouldn't", "shouldnt", "never", "not", "no need to",
    "him to", "her to", "nie", "не", "ні",
)  # fmt: skip
_NEGATED = re.compile(rf"(?<!{_L}){v.alternation(_NOT_A_REQUEST)}\s+\Z|(?:ไม่|ไม่ได้|อย่า)\s*\Z")
# "They never text me back", "you don't message me": a statement, not a request.
_SUBJECT = re.compile(rf"(?<!{_L})(?:i|we|you|u|ya|they|he|she|it|who|why|nobody|people)\s+\Z")
_EN_NEGATION_FIRST = ("don't", "dont", "do not", "never")


class OptOut(NamedTuple):
    start: int
    end: int
    how: str  # "phrase" (an unmistakable request) or "likely" (most probably one)


def opt_out(key: str) -> OptOut | None:
    """Where folded text `key` asks us to stop messaging, and how sure that is.

    A request that is negated ("don't stop texting me") or is a statement ("they
    never text me") is none. The first unmistakable request wins; failing one, the
    first likely one. The span takes in a "but please" before and particles after.
    """
    likely = None
    for m in _ANY_OPT_OUT.finditer(key):
        start, end = m.span()
        window = max(0, start - 24)
        if _NEGATED.search(key, window, start):
            continue
        if key.startswith(_EN_NEGATION_FIRST, start) and _SUBJECT.search(key, window, start):
            continue
        how = "phrase" if _PHRASE_OPT_OUT.match(key, start) else "likely"
        if how == "phrase" and _QUALIFIER.match(key, end):
            if _HERE.search(key, end):
                continue  # "не пишите мне в WhatsApp, лучше сюда": keep writing here
            how = "likely"
        if how == "phrase" or likely is None:
            lead_in = _LEAD_IN.search(key, window, start)
            trail = _TRAIL.match(key, end)
            found = OptOut(
                lead_in.start() if lead_in else start, trail.end() if trail else end, how
            )
            if how == "phrase":
                return found
            likely = found
    return likely
