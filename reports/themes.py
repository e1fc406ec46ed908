"""The words detractors use most, per language, counted here (no cloud service).

Comments are split into words with Unicode-aware rules: runs of letters in any
script (`[^\\W\\d_]+`, so Cyrillic and Polish letters are letters), NFC-normalised and
case-folded.
Words of one letter and the language's stop words (and English's, which
customers of every language mix in) are dropped. The stop words are data, one
per line, in `reports/stopwords/<language>.txt`.

Thai is written without spaces between words. No Thai word-segmentation
library (PyThaiNLP, ICU) is installed here, so a run of Thai letters is cut by
greedy longest match against a small word list, `reports/stopwords/th_words.txt`
(the stop words count as known words too); letters that start no known word are
gathered into one unknown chunk, kept as a "word" when at least two letters long.
That is a documented approximation: good for the frequent service words the list
holds, rough for the rest.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from accounts.scope import Viewer
from models import Customer, Response
from models.states import NpsCategory
from reports.breakdown import Window, answered
from reports.filters import DashboardFilter

WORDS_DIR = Path(__file__).parent / "stopwords"
THAI = re.compile(r"[\u0e00-\u0e7f]+")
# A run of Thai (its vowel and tone marks are not letters to `\w`), or of other letters.
TOKENS = re.compile(r"[\u0e00-\u0e7f]+|[^\W\d_\u0e00-\u0e7f]+")
TOP_WORDS = 10
# Detractor comments read at most, per dashboard view (newest first).
COMMENTS_READ = 2000


@cache
def stop_words(language: str) -> frozenset[str]:
    """The language's stop words, and English's: customers of any language write some English."""
    return _word_file(f"{language}.txt") | _word_file("en.txt")


@cache
def thai_lexicon() -> frozenset[str]:
    return _word_file("th_words.txt") | _word_file("th.txt")


def _word_file(name: str) -> frozenset[str]:
    path = WORDS_DIR / name
    if not path.is_file():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and line[0] != "#")


def segment_thai(run: str) -> list[str]:
    """Greedy longest match of `run` against the Thai word list; unknown letters kept together."""
    lexicon = thai_lexicon()
    longest = max((len(word) for word in lexicon), default=1)
    words, unknown, at = [], "", 0
    while at < len(run):
        match = next(
            (
                run[at : at + size]
                for size in range(min(longest, len(run) - at), 0, -1)
                if run[at : at + size] in lexicon
            ),
            None,
        )
        if match is None:
            unknown += run[at]
            at += 1
            continue
        if unknown:
            words.append(unknown)
            unknown = ""
        words.append(match)
        at += len(match)
    if unknown:
        words.append(unknown)
    return words


def words_of(text: str, language: str) -> list[str]:
    """The words of `text` worth counting: letters only, case-folded, no stop words."""
    stop = stop_words(language)
    found: list[str] = []
    for match in TOKENS.finditer(unicodedata.normalize("NFC", text).casefold()):
        token = match[0]
        parts = segment_thai(token) if THAI.fullmatch(token) else [token]
        found.extend(word for word in parts if len(word) >= 2 and word not in stop)
    return found


@dataclass(frozen=True)
class LanguageThemes:
    language: str
    comments: int  # detractor comments read
    words: list[tuple[str, int]]  # the most frequent, most first


def detractor_themes(
    session: Session,
    filters: DashboardFilter,
    window: Window,
    viewer: Viewer,
    *,
    top: int = TOP_WORDS,
) -> list[LanguageThemes]:
    """Per customer language, the `top` words of detractor comments (languages by name)."""
    query = answered((Customer.language, Response.comment), filters, window, viewer).where(
        Response.category == NpsCategory.DETRACTOR,
        Response.comment != "",
    )
    rows: Any = session.execute(
        query.order_by(Response.received_at.desc(), Response.id.desc()).limit(COMMENTS_READ)
    )
    counts: dict[str, Counter[str]] = {}
    comments: Counter[str] = Counter()
    for language, comment in rows:
        comments[language] += 1
        counts.setdefault(language, Counter()).update(words_of(comment, language))
    return [
        LanguageThemes(language, comments[language], counts[language].most_common(top))
        for language in sorted(counts)
    ]
