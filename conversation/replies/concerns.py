"""Whether a customer's free text needs a person: a question or a complaint, or neither.

A small local classifier, no model and no cloud: a message needs an answer when
it has a question mark, opens a sentence with a question word (and that
sentence does not end with "!", so "Как всегда отлично!" is praise), carries a
Thai question particle, or names a problem (a negative word). Phrases that
contain a negative word but praise ("no problem", "bez problemu", "ไม่มีปัญหา")
are taken out first. The words are data, one table per language, folded the
way the reply parser folds text (lower case, no Polish diacritics, ё as е).
Every language's table is checked, since customers mix languages.

Entries match as whole words; an entry ending in "*" is a stem and matches
the start of a word; Thai entries match anywhere (Thai has no spaces).
"""

from __future__ import annotations

import re
from functools import cache

from conversation.replies.text import fold, fold_word, prepare
from conversation.replies.vocabulary import LETTER

QUESTION_MARKS = ("?", "？", "¿")

# Words that open a question, at the start of a sentence.
QUESTION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("how", "when", "where", "why", "what", "which", "who", "can", "could", "do",
           "does", "did", "is", "are", "will", "would", "should", "may", "any idea"),
    "pl": ("jak", "kiedy", "gdzie", "dlaczego", "czemu", "czy", "ile", "który", "która",
           "które", "można", "mogę", "proszę o informację"),
    "uk": ("як", "коли", "де", "чому", "чи", "скільки", "який", "яка", "яке", "можна",
           "підкажіть", "скажіть"),
    "ru": ("как", "когда", "где", "почему", "зачем", "сколько", "какой", "какая", "какое",
           "можно", "подскажите", "скажите"),
    "th": (),
}  # fmt: skip

# Thai asks with particles, anywhere in the sentence and often without "?".
THAI_QUESTION_PARTICLES = ("ไหม", "มั้ย", "หรือเปล่า", "หรือยัง", "ยังไง", "อย่างไร", "อะไร",
                           "เมื่อไร", "เมื่อไหร่", "ที่ไหน", "ทำไม", "กี่")  # fmt: skip

# Words that name a problem or a complaint.
NEGATIVE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("not working", "doesn't work", "didn't work", "isn't working", "stopped working",
           "broken", "broke", "problem*", "issue*", "complain*", "disappoint*", "bad",
           "worst", "terrible", "awful", "poor*", "rude", "refund*", "faulty", "defect*",
           "leak*", "noise*", "never again", "still waiting", "unhappy", "wrong", "angry"),
    "pl": ("nie działa*", "zepsu*", "problem*", "usterk*", "awari*", "reklamacj*",
           "rozczarowan*", "źle", "fataln*", "okropn*", "słab*", "niezadowol*", "skarg*",
           "wadliw*", "hałas*", "stuk*", "wyciek*", "cieknie", "nadal czekam", "zwrot*",
           "niestety"),
    "uk": ("не працю*", "зламал*", "зламав*", "поламал*", "проблем*", "несправн*",
           "погано", "жахлив*", "скарг*", "розчарован*", "незадовол*", "шум*", "стук*",
           "тече", "досі чекаю", "повернення", "на жаль"),
    "ru": ("не работа*", "сломал*", "поломк*", "проблем*", "неисправн*", "плохо",
           "ужасн*", "жалоб*", "разочарован*", "недовол*", "шум*", "стук*", "течет",
           "до сих пор жду", "возврат*", "грубо*", "хамств*", "к сожалению"),
    "th": ("ไม่ดี", "ไม่พอใจ", "ไม่ทำงาน", "ใช้ไม่ได้", "เสีย", "ปัญหา", "แย่", "ผิดหวัง",
           "ช้ามาก", "ร้องเรียน", "พัง", "ชำรุด", "เสียงดัง", "รั่ว", "คืนเงิน", "ยังไม่ได้"),
}  # fmt: skip

# Praise that happens to hold a negative word; removed before looking for one.
NOT_NEGATIVE: dict[str, tuple[str, ...]] = {
    "en": ("no problem*", "no issue*", "not bad", "couldn't be better", "nothing wrong",
           "without any problem*", "not a single problem"),
    "pl": ("bez problemu", "bez problemów", "żadnych problemów", "nie ma problemu",
           "nie mogło być lepiej", "nie ma się do czego przyczepić"),
    "uk": ("без проблем", "жодних проблем", "не погано", "не могло бути краще"),
    "ru": ("без проблем", "никаких проблем", "не плохо", "не могло быть лучше"),
    "th": ("ไม่มีปัญหา", "ไม่เสียใจ", "ไม่แย่"),
}  # fmt: skip

_SENTENCE = re.compile(r"[^.!?\n…]+[.!?\n…]*")


def _pattern(entries: tuple[str, ...], *, spaced: bool) -> str:
    parts = []
    for entry in sorted(entries, key=lambda e: -len(e)):
        stem = entry.endswith("*")
        word = re.escape(fold_word(entry.rstrip("*"))).replace(r"\ ", r"\s+")
        if spaced:
            word = rf"(?<!{LETTER}){word}" + ("" if stem else rf"(?!{LETTER})")
        parts.append(word)
    return "(?:" + "|".join(parts) + ")" if parts else "(?!)"


def _all(table: dict[str, tuple[str, ...]], *, thai: bool) -> tuple[str, ...]:
    return tuple(e for lang, entries in table.items() if (lang == "th") == thai for e in entries)


@cache
def _compiled() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    opener = re.compile(r"\s*" + _pattern(_all(QUESTION_WORDS, thai=False), spaced=True))
    particles = re.compile(_pattern(THAI_QUESTION_PARTICLES, spaced=False))
    negative = re.compile(
        _pattern(_all(NEGATIVE_WORDS, thai=False), spaced=True)
        + "|"
        + _pattern(_all(NEGATIVE_WORDS, thai=True), spaced=False)
    )
    praise = re.compile(
        _pattern(_all(NOT_NEGATIVE, thai=False), spaced=True)
        + "|"
        + _pattern(_all(NOT_NEGATIVE, thai=True), spaced=False)
    )
    return opener, particles, negative, praise


def asks_question(text: str) -> bool:
    """Whether `text` asks something: a question mark, a sentence that opens with a
    question word (and is not an exclamation), or a Thai question particle."""
    if any(mark in text for mark in QUESTION_MARKS):
        return True
    key = fold(prepare(text))
    opener, particles, _negative, _praise = _compiled()
    if particles.search(key):
        return True
    for sentence in _SENTENCE.findall(key):
        if opener.match(sentence) and not sentence.rstrip().endswith("!"):
            return True
    return False


def complains(text: str) -> bool:
    """Whether `text` names a problem (praise like "no problem at all" does not count)."""
    _opener, _particles, negative, praise = _compiled()
    key = praise.sub(" ", fold(prepare(text)))
    return negative.search(key) is not None


def needs_answer(text: str) -> bool:
    """Whether a person should read and answer `text`: a question or a complaint."""
    return asks_question(text) or complains(text)
