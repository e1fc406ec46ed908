"""Every number in a reply: digits, number words, grade nouns, Thai numerals.

The parser folds the reply first (see text.py), so a table entry like "ósemka"
also finds "OSEMKA" and "osemka". "N/10" becomes one explicit number and
"7-8" one undecided number (value None); which of them is the rating is for
scores.py to decide.
"""

import re
from dataclasses import dataclass

from conversation.replies import number_words as nw
from conversation.replies import vocabulary as v
from conversation.replies.text import fold_word

_LETTER = v.LETTER
_PROSE = {fold_word(word) for word in nw.PROSE_WORDS}


@dataclass(slots=True)
class Number:
    """A number found in the reply, with the span that expresses it."""

    value: int | None  # None: rating-like but no score ("8.5", "7-8")
    start: int
    end: int
    kind: str  # "digits", "word", "prose" (also everyday prose: "one"), "grade"
    explicit: bool = False  # "N/10", "N out of 10"


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
_MIXED_SCRIPT = re.compile("[\u0400-\u04ff][a-z]|[a-z][\u0400-\u04ff]")
HAS_THAI = re.compile("[\u0e00-\u0e7f]")
_THAI_RUN = re.compile(v.alternation(tuple(nw.THAI), nw.THAI_COMPOUND_PARTS) + "+")
_THAI_BEFORE_OK = re.compile(v.alternation(v.THAI_BEFORE_NUMERAL) + r"\s*\Z")
_THAI_AFTER_OK = re.compile(v.alternation(v.THAI_AFTER_NUMERAL, v.THAI_FILLERS, v.THAI_UNITS))
_DATES_AND_TIMES = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?")

_NUMBER_AT = rf"(?P<n>[0-9]+|{_LETTER}+(?:'{_LETTER}+)*|{_THAI_RUN.pattern})"
POINTS_WORD = rf"(?:{v.alternation(v.POINTS)}(?!{_LETTER})|{v.alternation(v.THAI_POINTS)})"
_SCALE_LINK = (
    rf"[/\\]|(?<!{_LETTER}){v.alternation(v.SCALE_LINKS)}(?!{_LETTER})"
    rf"|{v.alternation(v.THAI_SCALE_LINKS)}"
)
_SCALE = re.compile(rf"(?:\s*{POINTS_WORD})?\s*(?:{_SCALE_LINK})\s*{_NUMBER_AT}(?:-?(?:ти|и))?")
_RANGE_LINK = rf"[-~]|(?<!{_LETTER}){v.alternation(v.RANGE_LINKS)}(?!{_LETTER})|หรือ|ถึง"
_RANGE = re.compile(rf"\s*(?:{_RANGE_LINK})\s*{_NUMBER_AT}")
_AND_LINK = rf"(?<!{_LETTER}){v.alternation(v.AND)}(?!{_LETTER})|และ|กับ"
_AND_NUMBER = re.compile(rf"\s*(?:{_AND_LINK})\s*{_NUMBER_AT}")
_BETWEEN = re.compile(rf"{v.alternation(v.BETWEEN)}\s*\Z")


def mask_dates_and_times(key: str) -> str:
    """`key` with dates and clock times overwritten: "12.03.2024" and "9:30" hold no rating."""
    return _DATES_AND_TIMES.sub(lambda m: "_" * len(m.group()), key)


def find_numbers(scan: str) -> list[Number]:
    """The numbers in folded, masked text, "N/10" and "7-8" each joined into one."""
    found = [_digits(m, scan) for m in _DIGITS.finditer(scan)]
    if _may_hold_number_words(scan):
        for m in _WORD.finditer(scan):
            entry = _word_value(m.group())
            if entry:
                found.append(Number(entry[0], m.start(), m.end(), entry[1]))
    if HAS_THAI.search(scan):
        found.extend(_thai_numbers(scan))
    return _linked(scan, sorted(found, key=lambda number: number.start))


def _may_hold_number_words(scan: str) -> bool:
    # One C-level pass over the words first: most replies hold no number word.
    return not _WORDS.keys().isdisjoint(_WORD.findall(scan)) or bool(_MIXED_SCRIPT.search(scan))


def _digits(m: re.Match[str], scan: str) -> Number:
    whole, fraction = m.group(1), m.group(2)
    value: int | None = int(whole) if len(whole) <= 3 else 1000  # int() refuses huge strings
    if fraction and fraction.strip("0"):
        value = None  # "8.5", "8,5": between two marks
    grade = _GRADE_SUFFIX.match(scan, m.end())  # "10-ку", "5-ka"
    if grade and value is not None:
        return Number(value, m.start(), grade.end(), "grade")
    return Number(value, m.start(), m.end(), "digits")


def _word_value(word: str) -> tuple[int, str] | None:
    entry = _WORDS.get(word)
    if entry is None and _CYRILLIC.search(word):
        entry = _WORDS.get(word.translate(_HOMOGLYPHS))
    return entry


def _thai_numbers(scan: str) -> list[Number]:
    found = []
    for m in _THAI_RUN.finditer(scan):
        value = nw.THAI.get(m.group())  # None for สิบเอ็ด, ยี่สิบ, ห้าร้อย: above 10
        if value is None or not _thai_word_boundary(scan, m.start(), m.end()):
            continue
        kind = "prose" if m.group() in _THAI_PROSE else "word"
        found.append(Number(value, m.start(), m.end(), kind))
    return found


def _thai_word_boundary(scan: str, start: int, end: int) -> bool:
    # Thai has no spaces: ห้า (5) starts ห้าง (mall) and ห้าม (forbid), เก้า (9)
    # starts เก้าอี้ (chair), สาม (3) starts สามารถ (can). A numeral counts only
    # between non-Thai text or next to the words that go with a rating.
    before_ok = (
        start == 0
        or not HAS_THAI.match(scan, start - 1)
        or _THAI_BEFORE_OK.search(scan, max(0, start - 12), start)
    )
    after_ok = end == len(scan) or not HAS_THAI.match(scan, end) or _THAI_AFTER_OK.match(scan, end)
    return bool(before_ok and after_ok)


def _linked(scan: str, numbers: list[Number]) -> list[Number]:
    """Join "N/10" into one explicit number and "7-8" into one undecided one."""
    linked: list[Number] = []
    consumed = 0
    for number in numbers:
        if number.start < consumed:
            continue
        scale = _SCALE.match(scan, number.end)
        denominator = _value_at(scale)
        if scale and denominator is not None:
            consumed = scale.end()
            if denominator == 10:
                linked.append(Number(number.value, number.start, scale.end(), number.kind, True))
            continue  # "4/5", "24/7", "1 of 3": another scale, or a fraction
        link = _range(scan, number)
        if link:
            consumed = link.end()
            if not (number.value in (0, 1) and _value_at(link) == 10):  # "on a scale of 1-10"
                linked.append(Number(None, number.start, link.end(), number.kind))
            continue
        linked.append(number)
    return linked


def _value_at(m: re.Match[str] | None) -> int | None:
    if m is None:
        return None
    token = m.group("n")
    if token[0] in "0123456789":  # not str.isdigit(): "²" is a digit that int() refuses
        return int(token) if len(token) <= 3 else 1000
    entry = _word_value(token)
    return entry[0] if entry else nw.THAI.get(token)


def _range(scan: str, number: Number) -> re.Match[str] | None:
    link = _RANGE.match(scan, number.end)
    if link is None and _BETWEEN.search(scan, max(0, number.start - 12), number.start):
        link = _AND_NUMBER.match(scan, number.end)
    return link if _value_at(link) is not None else None
