"""Finding the 0–10 rating among the numbers in a reply.

Every number in the reply (digits, number words, grade nouns, Thai numerals)
becomes a candidate. Counts, prices, durations, order numbers and model names
are dropped by the words around them; the rest are ranked by how clearly they
are a rating:

    EXPLICIT    "2/10", "8 out of 10", "osiem na dziesięć", "9 из 10", "8 เต็ม 10"
    CUED        "I rate you 8", "daję 9", "ставлю 10", "ósemka", "9 points", "ให้สิบ"
    POSITIONAL  the number stands alone in its clause, ends the message, or
                (digits only) opens the message or a sentence: "fine, 9", "9 great job"

The best tier must agree on one value; otherwise ("7 or 8", "8.5", "8 9") the
reply has no score, and the bot asks again rather than file a wrong rating.
"""

import re
from itertools import pairwise

from conversation.replies import vocabulary as v
from conversation.replies.numbers import (
    POINTS_WORD,
    Number,
    find_numbers,
    mask_dates_and_times,
)

EXPLICIT, CUED, POSITIONAL, IGNORED = 3, 2, 1, 0
_LETTER = v.LETTER
_THAI_CHAR = "\u0e00-\u0e7f"

# One word before or after a number is looked up in a set: far faster than
# matching an alternation of a few hundred words at every position.
_UNITS = v.folded(v.UNITS)
_MARKERS = v.folded(v.MARKERS)
_PREPOSITIONS = v.folded(v.PREPOSITIONS)
_NEGATIONS = v.folded(v.NEGATIONS)
_WORD_AFTER = re.compile(rf"\s*(?:-\s*)?({_LETTER}+(?:[.']{_LETTER}+)*)")
_POINTS = re.compile(rf"\s*{POINTS_WORD}")
_QUANTITY = re.compile(rf"\s*{v.alternation(v.QUANTITY_LINKS)}(?!{_LETTER})")

# "I'd give you a 9": the cue, then only glue words, right before the number.
# "I would rate the delivery 3": the cue further back in the same sentence.
_CUE = (
    rf"(?:(?P<strong>{v.alternation(v.STRONG_CUES)})|(?P<weak>{v.alternation(v.WEAK_CUES)}))"
    rf"(?!{_LETTER})"
)
_CUE_NEAR = re.compile(
    rf"(?:(?<!{_LETTER}){v.alternation(v.SUBJECTS)}\s+)?(?<!{_LETTER}){_CUE}"
    rf"(?:[\s:=\-\"']+{v.alternation(v.GLUE)}(?!{_LETTER}))*[\s:=\-\"']*\Z"
    rf"|(?P<thai>{v.alternation(v.THAI_CUES)})\s*\Z"
)
_THAI_PARTICLES = re.compile(rf"\s*{v.alternation(v.THAI_PARTICLES)}+")
_ARTICLE = re.compile(rf"(?<!{_LETTER})(?:a|an|na|на)\s+\Z")  # "a 10", "na szóstkę"
_CUE_FAR = re.compile(rf"(?<!{_LETTER}){_CUE}[^.!?\n]{{0,40}}\Z")
_CLAUSE_END = re.compile(
    rf"\s*(?:\Z|[^\w\s]|[{_THAI_CHAR}]|{v.alternation(v.CLAUSE_ENDERS, v.FILLERS)}(?!{_LETTER}))"
)

# A clause ends at punctuation (_SEP). Filler (_FILL) is what may stand around
# a rating without making it prose: spaces, emoji, "thanks", "ครับ".
_SEP = r"[.!?;:,\n()\[\]…\"/|\-]"
_FILL = (
    rf"(?:[^\w{_THAI_CHAR}.!?;:,\n()\[\]…\"/|\-]"
    rf"|(?<!{_LETTER}){v.alternation(v.FILLERS)}(?!{_LETTER})|{v.alternation(v.THAI_FILLERS)})"
)
_ONLY_FILL_OR_SEP = re.compile(rf"(?:{_FILL}|{_SEP})*")
_ALONE_BEFORE = re.compile(rf"(?:^|{_SEP}){_FILL}*\Z")
_ALONE_AFTER = re.compile(rf"{_FILL}*(?:{_SEP}|\Z)")
_SENTENCE_BEFORE = re.compile(rf"[.!?\n]{_FILL}*\Z")


def find_score(key: str) -> tuple[int | None, list[tuple[int, int]]]:
    """The rating in folded text `key` and the spans that express it, or (None, [])."""
    scan = mask_dates_and_times(key)
    ranked = [(_tier(number, scan), number) for number in find_numbers(scan)]
    best = max((tier for tier, _ in ranked), default=IGNORED)
    if best == IGNORED:
        return None, []
    top = [number for tier, number in ranked if tier == best]
    values = {number.value for number in top}
    if len(values) != 1 or None in values:
        return None, []
    _take_in_repeats(top, [number for _, number in ranked], scan)
    return top[0].value, [(number.start, number.end) for number in top]


def _take_in_repeats(top: list[Number], numbers: list[Number], scan: str) -> None:
    """Add the middle 10 of "10 10 10" to the rating: a repeat is emphasis, not a comment."""
    chosen = {id(number) for number in top}
    for sequence in (numbers, numbers[::-1]):  # one sweep each way keeps it linear
        for previous, number in pairwise(sequence):
            if (
                id(previous) in chosen
                and id(number) not in chosen
                and number.value == previous.value
                and _ONLY_FILL_OR_SEP.fullmatch(
                    scan, min(previous.end, number.end), max(previous.start, number.start)
                )
            ):
                chosen.add(id(number))
                top.append(number)


def _tier(number: Number, scan: str) -> int:
    """Rank one number, widening its span over the words that belong to the rating."""
    if number.value is not None and number.value > 10:
        return IGNORED
    if _below_zero(number, scan) or _negated(number, scan):
        return IGNORED
    if not number.explicit and _counts_something(number, scan):
        return IGNORED
    window = max(0, number.start - 60)
    near_cue = _CUE_NEAR.search(scan, window, number.start)
    tier = _rank(number, scan, near_cue)
    if tier == IGNORED:
        return tier
    # The comment loses "I'd give you a", "ставлю" and "เลยครับ" along with the number.
    lead = near_cue or _ARTICLE.search(scan, window, number.start)
    if lead:
        number.start = lead.start()
    particles = _THAI_PARTICLES.match(scan, number.end)
    if particles:
        number.end = particles.end()
    return tier


def _rank(number: Number, scan: str, near_cue: re.Match[str] | None) -> int:
    if number.explicit:
        return EXPLICIT
    points = _POINTS.match(scan, number.end)
    if points:
        number.end = points.end()
        return CUED
    if number.kind == "grade" or _cued(number, scan, near_cue):
        return CUED
    return POSITIONAL if _positional(number, scan) else IGNORED


def _counts_something(number: Number, scan: str) -> bool:
    """A unit after it ("3 days", "5 stars", "10%") or a marker before it ("#12", "iPhone 8")."""
    after = scan[number.end : number.end + 16].lstrip().lstrip("-").lstrip()
    if after and (after[0] in v.UNIT_SYMBOLS or after.startswith(v.THAI_UNITS)):
        return True
    unit = _WORD_AFTER.match(scan, number.end)
    if unit and unit.group(1) in _UNITS:
        return True
    before = _text_before(number, scan).rstrip("-").rstrip()
    if before and (before[-1] in v.MARKER_SYMBOLS or before.endswith(v.THAI_MARKERS)):
        return True
    return _last_word(before) in _MARKERS


# A minus sign is one only when it sticks to the number and nothing sticks to it from the
# other side: "-3", "score: -1", "−2", but not the "3-4" of a range or a "- 7" bullet.
_MINUS_SIGNS = "-\u2212\ufe63\uff0d"
_MINUS_WORDS = frozenset({"minus", "мінус", "минус"})
_THAI_MINUS = "ลบ"


def _below_zero(number: Number, scan: str) -> bool:
    """ "-3", "−2", "ocena: -1", "minus 5", "ลบ 2 คะแนน": a negative number is no rating."""
    start = number.start
    if start and scan[start - 1] in _MINUS_SIGNS and (start == 1 or not scan[start - 2].isalnum()):
        return True
    before = _text_before(number, scan)
    return _last_word(before) in _MINUS_WORDS or before.endswith(_THAI_MINUS)


def _negated(number: Number, scan: str) -> bool:
    """ "Not 10, but 9", "not a 10", "не 10, а 8", "ไม่ถึง 10": a rating taken back."""
    before = _text_before(number, scan)
    if before.endswith(v.THAI_NEGATIONS):
        return True
    words = before.rsplit(None, 2)[-2:]
    if words and words[-1] in v.ARTICLES:
        words.pop()
    return bool(words) and words[-1] in _NEGATIONS


def _text_before(number: Number, scan: str) -> str:
    return scan[max(0, number.start - 24) : number.start].rstrip()


def _last_word(text: str) -> str:
    return text.rsplit(None, 1)[-1].lstrip("([{\"'") if text else ""


def _cued(number: Number, scan: str, near_cue: re.Match[str] | None) -> bool:
    cue = near_cue or _CUE_FAR.search(scan, max(0, number.start - 60), number.start)
    if cue is None:
        return False
    # A weak cue also gives days and chances: "gave them 2 chances" is no rating.
    return bool(cue.group("strong") or _CLAUSE_END.match(scan, number.end))


def _positional(number: Number, scan: str) -> bool:
    window = max(0, number.start - 40)
    opens_clause = _ALONE_BEFORE.search(scan, window, number.start)
    closes_clause = _ALONE_AFTER.match(scan, number.end)
    if opens_clause and closes_clause:  # "Great service, 9!"
        return True
    before = _text_before(number, scan)
    if number.kind == "prose" or _last_word(before) in _PREPOSITIONS:
        return False  # "the one I bought", "waited for 3"
    if before.endswith(v.THAI_PREPOSITIONS):
        return False  # "ประมาณ 3" (about 3)
    if closes_clause or _ONLY_FILL_OR_SEP.fullmatch(scan, number.end):
        return True  # "Delivery 5, service 9" (two ratings: none wins), "fine 7"
    if number.kind != "digits" or _QUANTITY.match(scan, number.end):
        return False  # "Two of the boxes", "3 of the items"
    if _ONLY_FILL_OR_SEP.fullmatch(scan, 0, number.start) or _SENTENCE_BEFORE.search(
        scan, window, number.start
    ):
        return True  # "9 great job", "Thanks. 10 from me"
    return bool(opens_clause and _CLAUSE_END.match(scan, number.end))  # "ok, 9 because"
