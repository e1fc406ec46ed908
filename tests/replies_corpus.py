"""The labelled reply corpus (tests/data/replies_corpus.tsv), and how well the parser reads it.

Shared by tests/test_replies.py (which holds the parser to it) and bench/replies.py
(which prints the per-language figures).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import NamedTuple

from conversation.replies import parse_reply

CORPUS = Path(__file__).parent / "data" / "replies_corpus.tsv"
LANGUAGES = ("en", "pl", "uk", "ru", "th")


class Case(NamedTuple):
    lang: str
    text: str
    score: int | None
    keyword: str | None
    comment: str | None  # None: not checked


def _cell(raw: str) -> str:
    return "" if raw == "<empty>" else raw.replace("\\n", "\n")


def load_corpus(path: Path = CORPUS) -> list[Case]:
    cases = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines[lines.index("lang\tscore\tkeyword\ttext\tcomment") + 1 :]:
        if not line.strip() or line.startswith("#"):
            continue
        lang, score, keyword, text, comment = (line.split("\t") + [""])[:5]
        cases.append(
            Case(
                lang=lang,
                text=_cell(text),
                score=None if score == "-" else int(score),
                keyword=None if keyword == "-" else keyword,
                comment=_cell(comment) if comment else None,
            )
        )
    return cases


class LanguageFigures(NamedTuple):
    opt_outs: int  # rows labelled "stop"
    caught: int  # of those, read as "stop"
    false_opt_outs: int  # rows not labelled "stop" read as "stop"
    others: int  # rows not labelled "stop"
    scores_right: int  # rows whose score (or its absence) is read right
    rows: int

    @property
    def recall(self) -> float:
        return self.caught / self.opt_outs if self.opt_outs else 1.0

    @property
    def precision(self) -> float:
        flagged = self.caught + self.false_opt_outs
        return self.caught / flagged if flagged else 1.0

    @property
    def score_accuracy(self) -> float:
        return self.scores_right / self.rows if self.rows else 1.0


def consent_figures(cases: list[Case]) -> dict[str, LanguageFigures]:
    """Opt-out recall and precision, and score accuracy, per language."""
    tally: dict[str, Counter[str]] = {}
    for case in cases:
        reply = parse_reply(case.text)
        count = tally.setdefault(case.lang, Counter())
        count["rows"] += 1
        count["scores_right"] += reply.score == case.score
        if case.keyword == "stop":
            count["opt_outs"] += 1
            count["caught"] += reply.keyword == "stop"
        else:
            count["others"] += 1
            count["false_opt_outs"] += reply.keyword == "stop"
    return {
        lang: LanguageFigures(
            c["opt_outs"],
            c["caught"],
            c["false_opt_outs"],
            c["others"],
            c["scores_right"],
            c["rows"],
        )
        for lang, c in sorted(tally.items())
    }


def figures_table(figures: dict[str, LanguageFigures]) -> str:
    lines = ["lang  opt-outs  recall   precision  false opt-outs  score accuracy"]
    for lang, f in figures.items():
        lines.append(
            f"{lang:<5} {f.opt_outs:>8}  {f.recall:>6.1%}   {f.precision:>8.1%}  "
            f"{f.false_opt_outs:>6} of {f.others:<5}  {f.score_accuracy:>8.1%} of {f.rows}"
        )
    return "\n".join(lines)
