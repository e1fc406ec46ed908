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
from dataclasses import dataclass

from messaging import number_words as nw
from messaging.replies import vocabulary as v
from messaging.replies.text import fold_word

EXPLICIT, CUED, POSITIONAL, IGNORED = 3, 2, 1, 0
_LETTER = v.LETTER
_THAI_CHAR = "\u0e00-\u0e7f"


_PROSE = {fold_word(word) for word in nw.PROSE_WORDS}


def _word_table() -> dict[str, tuple[int, str]]:
    table: dict[str, tuple[int, str]] = {}
    for kind, groups in (("word", nw.CARDINALS), ("grade", nw.GRADE_NOUNS)):
        for value, forms in groups.items():
            for form in forms:
                # Ukrainians often skip the apostrophe: "пятірка", "девятку".
                for spelling in {form, form.replace("'", "")}:
                    folded = fold_word(spelling)
                    table[folded] = (value, "prose" if folded in _PROSE else kind)
    return table


_WORDS = _word_table()
_THAI_PROSE = {w for w in nw.THAI if w in nw.PROSE_WORDS}
# Latin letters typed for their Cyrillic twins on a mixed keyboard ("вiсiм").
_HOMOGLYPHS = str.maketrans("aceiopxyk", "асеіорхук")

_DIGITS = re.compile(r"(?<![0-9A-Za-z\u00c0-\u024f\u0400-\u04ff_])([0-9]+)(?:[.,]([0-9]+))?")
_GRADE_SUFFIX = re.compile(rf"-?(?:ка|ку|ки|очка|очку|tka|tkę|ka|kę)(?!{_LETTER})")
_WORD = re.compile(rf"{_LETTER}+(?:'{_LETTER}+)*")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_HAS_THAI = re.compile(f"[{_THAI_CHAR}]")
_THAI_RUN = re.compile(v.alternation(tuple(nw.THAI), nw.THAI_COMPOUND_PARTS) + "+")
_THAI_BEFORE_OK = re.compile(
    v.alternation(v.THAI_CUES, v.THAI_SCALE_LINKS, "เป็น", "ก็", "คือ", "ว่า") + r"\s*\Z"
)
_THAI_AFTER_OK = re.compile(
    v.alternation(
        v.THAI_POINTS,
        v.THAI_SCALE_LINKS,
        v.THAI_FILLERS,
        v.THAI_UNITS,
        "หรือ",
        "ถึง",
        "แล้ว",
        "ไป",
        "ก็",
        "เพราะ",
        "แต่",
        "ละ",
        "และ",
    )
)
_DATES_AND_TIMES = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?")

_NUMBER_AT = rf"(?P<n>[0-9]+|{_LETTER}+(?:'{_LETTER}+)*|{_THAI_RUN.pattern})"
_POINTS_WORD = rf"(?:{v.alternation(v.POINTS)}(?!{_LETTER})|{v.alternation(v.THAI_POINTS)})"
_SCALE = re.compile(
    rf"(?:\s*{_POINTS_WORD})?\s*(?:[/\\]|(?<!{_LETTER}){v.alternation(v.SCALE_LINKS)}(?!{_LETTER})|{v.alternation(v.THAI_SCALE_LINKS)})"
    rf"\s*{_NUMBER_AT}(?:-?(?:ти|и))?"
)
_RANGE = re.compile(
    rf"\s*(?:[-~]|(?<!{_LETTER}){v.alternation(v.RANGE_LINKS)}(?!{_LETTER})|หรือ|ถึง)\s*{_NUMBER_AT}"
)
_AND_NUMBER = re.compile(
    rf"\s*(?:(?<!{_LETTER}){v.alternation(v.AND)}(?!{_LETTER})|และ|กับ)\s*{_NUMBER_AT}"
)
_BETWEEN = re.compile(rf"{v.alternation(v.BETWEEN)}\s*\Z")

# One word before or after a number is looked up in a set: far faster than
# matching an alternation of a few hundred words at every position.
_UNITS = v.folded(v.UNITS)
_MARKERS = v.folded(v.MARKERS)
_PREPOSITIONS = v.folded(v.PREPOSITIONS)
_NEGATIONS = v.folded(v.NEGATIONS)
_WORD_AFTER = re.compile(rf"\s*-?\s*({_LETTER}+(?:[.']{_LETTER}+)*)")
_POINTS = re.compile(rf"\s*{_POINTS_WORD}")
_QUANTITY = re.compile(rf"\s*{v.alternation(v.QUANTITY_LINKS)}(?!{_LETTER})")

_CUE = rf"(?:(?P<strong>{v.alternation(v.STRONG_CUES)})|(?P<weak>{v.alternation(v.WEAK_CUES)}))(?!{_LETTER})"
_CUE_NEAR = re.compile(
    rf"(?:(?<!{_LETTER}){v.alternation(v.SUBJECTS)}\s+)?(?<!{_LETTER}){_CUE}"
    rf"(?:[\s:=\-\"']+{v.alternation(v.GLUE)}(?!{_LETTER}))*[\s:=\-\"']*\Z"
    rf"|(?P<thai>{v.alternation(v.THAI_CUES)})\s*\Z"
)
_ARTICLE = re.compile(rf"(?<!{_LETTER})(?:a|an)\s+\Z")
_CUE_FAR = re.compile(rf"(?<!{_LETTER}){_CUE}[^.!?\n]{{0,40}}\Z")
_CLAUSE_END = re.compile(
    rf"\s*(?:\Z|[^\w\s]|[{_THAI_CHAR}]|{v.alternation(v.CLAUSE_ENDERS, v.FILLERS)}(?!{_LETTER}))"
)

_SEP = r"[.!?;:,\n()\[\]…\"/|\-]"
_FILL = (
    rf"(?:[^\w{_THAI_CHAR}.!?;:,\n()\[\]…\"/|\-]"
    rf"|(?<!{_LETTER}){v.alternation(v.FILLERS)}(?!{_LETTER})|{v.alternation(v.THAI_FILLERS)})"
)
_ONLY_FILL_OR_SEP = re.compile(rf"(?:{_FILL}|{_SEP})*")
_ALONE_BEFORE = re.compile(rf"(?:^|{_SEP}){_FILL}*\Z")
_ALONE_AFTER = re.compile(rf"{_FILL}*(?:{_SEP}|\Z)")
_SENTENCE_BEFORE = re.compile(rf"[.!?\n]{_FILL}*\Z")


@dataclass(slots=True)
class _Number:
    value: int | None  # None: rating-like but no score ("8.5", "7-8")
    start: int
    end: int
    kind: str  # "digits", "word", "prose" (also everyday prose: "one"), "grade"
    explicit: bool = False


def find_score(key: str) -> tuple[int | None, list[tuple[int, int]]]:
    """The rating in folded text `key` and the spans that express it, or (None, [])."""
    scan = _DATES_AND_TIMES.sub(lambda m: "_" * len(m.group()), key)
    ranked = [(_tier(number, scan), number) for number in _linked(scan, _numbers(scan))]
    best = max((tier for tier, _ in ranked), default=IGNORED)
    if best == IGNORED:
        return None, []
    top = [number for tier, number in ranked if tier == best]
    values = {number.value for number in top}
    if len(values) != 1 or None in values:
        return None, []
    _take_in_repeats(top, [number for _, number in ranked], scan)
    return top[0].value, [(number.start, number.end) for number in top]


def _take_in_repeats(top: list[_Number], numbers: list[_Number], scan: str) -> None:
    """Add the middle 10 of "10 10 10" to the rating: a repeat is emphasis, not a comment."""
    for number in numbers:
        if number.value != top[0].value or any(number is chosen for chosen in top):
            continue
        for chosen in top:
            gap = (
                (number.end, chosen.start)
                if number.end <= chosen.start
                else (chosen.end, number.start)
            )
            if _ONLY_FILL_OR_SEP.fullmatch(scan, *gap):
                top.append(number)
                break


def _numbers(scan: str) -> list[_Number]:
    found = [_digits(m, scan) for m in _DIGITS.finditer(scan)]
    for m in _WORD.finditer(scan):
        entry = _word_value(m.group())
        if entry:
            found.append(_Number(entry[0], m.start(), m.end(), entry[1]))
    if _HAS_THAI.search(scan):
        found.extend(_thai_numbers(scan))
    return sorted(found, key=lambda number: number.start)


def _digits(m: re.Match[str], scan: str) -> _Number:
    whole, fraction = m.group(1), m.group(2)
    value: int | None = int(whole) if len(whole) <= 3 else 1000  # int() refuses huge strings
    if fraction and fraction.strip("0"):
        value = None  # "8.5", "8,5": between two marks
    grade = _GRADE_SUFFIX.match(scan, m.end())  # "10-ку", "5-ka"
    if grade and value is not None:
        return _Number(value, m.start(), grade.end(), "grade")
    return _Number(value, m.start(), m.end(), "digits")


def _word_value(word: str) -> tuple[int, str] | None:
    entry = _WORDS.get(word)
    if entry is None and _CYRILLIC.search(word):
        entry = _WORDS.get(word.translate(_HOMOGLYPHS))
    return entry


def _thai_numbers(scan: str) -> list[_Number]:
    found = []
    for m in _THAI_RUN.finditer(scan):
        value = nw.THAI.get(m.group())  # None for สิบเอ็ด, ยี่สิบ, ห้าร้อย: above 10
        if value is None or not _thai_word_boundary(scan, m.start(), m.end()):
            continue
        kind = "prose" if m.group() in _THAI_PROSE else "word"
        found.append(_Number(value, m.start(), m.end(), kind))
    return found


def _thai_word_boundary(scan: str, start: int, end: int) -> bool:
    # Thai has no spaces: ห้า (5) starts ห้าง (mall) and ห้าม (forbid), เก้า (9)
    # starts เก้าอี้ (chair), สาม (3) starts สามารถ (can). A numeral counts only
    # between non-Thai text or next to the words that go with a rating.
    before_ok = (
        start == 0
        or not _HAS_THAI.match(scan, start - 1)
        or _THAI_BEFORE_OK.search(scan, max(0, start - 12), start)
    )
    after_ok = end == len(scan) or not _HAS_THAI.match(scan, end) or _THAI_AFTER_OK.match(scan, end)
    return bool(before_ok and after_ok)


def _linked(scan: str, numbers: list[_Number]) -> list[_Number]:
    """Join "N/10" into one explicit number and "7-8" into one undecided one."""
    linked: list[_Number] = []
    consumed = 0
    for number in numbers:
        if number.start < consumed:
            continue
        scale = _SCALE.match(scan, number.end)
        denominator = _value_at(scale)
        if scale and denominator is not None:
            consumed = scale.end()
            if denominator == 10:
                linked.append(_Number(number.value, number.start, scale.end(), number.kind, True))
            continue  # "4/5", "24/7", "1 of 3": another scale, or a fraction
        link = _range(scan, number)
        if link:
            consumed = link.end()
            if not (number.value in (0, 1) and _value_at(link) == 10):  # "on a scale of 1-10"
                linked.append(_Number(None, number.start, link.end(), number.kind))
            continue
        linked.append(number)
    return linked


def _value_at(m: re.Match[str] | None) -> int | None:
    if m is None:
        return None
    token = m.group("n")
    if token.isdigit():
        return int(token) if len(token) <= 3 else 1000
    entry = _word_value(token)
    return entry[0] if entry else nw.THAI.get(token)


def _range(scan: str, number: _Number) -> re.Match[str] | None:
    link = _RANGE.match(scan, number.end)
    if link is None and _BETWEEN.search(scan, max(0, number.start - 12), number.start):
        link = _AND_NUMBER.match(scan, number.end)
    return link if _value_at(link) is not None else None


def _tier(number: _Number, scan: str) -> int:
    """Rank one number, widening its span over the words that belong to the rating."""
    if number.value is not None and number.value > 10:
        return IGNORED
    if _negated(number, scan) or not number.explicit and _counts_something(number, scan):
        return IGNORED
    window = max(0, number.start - 60)
    near_cue = _CUE_NEAR.search(scan, window, number.start)
    tier = _rank(number, scan, near_cue)
    # The comment loses "I'd give you a" and "ставлю" along with the number.
    lead = near_cue or _ARTICLE.search(scan, window, number.start) if tier else None
    if lead:
        number.start = lead.start()
    return tier


def _rank(number: _Number, scan: str, near_cue: re.Match[str] | None) -> int:
    if number.explicit:
        return EXPLICIT
    points = _POINTS.match(scan, number.end)
    if points:
        number.end = points.end()
        return CUED
    if number.kind == "grade" or _cued(number, scan, near_cue):
        return CUED
    return POSITIONAL if _positional(number, scan) else IGNORED


def _counts_something(number: _Number, scan: str) -> bool:
    """A unit after it ("3 days", "5 stars", "10%") or a marker before it ("#12", "iPhone 8")."""
    after = scan[number.end : number.end + 16].lstrip().lstrip("-").lstrip()
    unit = _WORD_AFTER.match(scan, number.end)
    if after[:1] in v.UNIT_SYMBOLS and after or after.startswith(v.THAI_UNITS):
        return True
    if unit and unit.group(1) in _UNITS:
        return True
    before = _text_before(number, scan).rstrip("-").rstrip()
    if before[-1:] in v.MARKER_SYMBOLS and before or before.endswith(v.THAI_MARKERS):
        return True
    return _last_word(before) in _MARKERS


def _negated(number: _Number, scan: str) -> bool:
    before = _text_before(number, scan)
    words = before.rsplit(None, 2)[-2:]
    if words and words[-1] in v.ARTICLES:  # "not a 10"
        words.pop()
    return bool(words) and words[-1] in _NEGATIONS or before.endswith(v.THAI_NEGATIONS)


def _text_before(number: _Number, scan: str) -> str:
    return scan[max(0, number.start - 24) : number.start].rstrip()


def _last_word(text: str) -> str:
    return text.rsplit(None, 1)[-1].lstrip("([{\"'") if text else ""


def _cued(number: _Number, scan: str, near_cue: re.Match[str] | None) -> bool:
    cue = near_cue or _CUE_FAR.search(scan, max(0, number.start - 60), number.start)
    if cue is None:
        return False
    # A weak cue also gives days and chances: "gave them 2 chances" is no rating.
    return bool(cue.group("strong") or _CLAUSE_END.match(scan, number.end))


def _positional(number: _Number, scan: str) -> bool:
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
