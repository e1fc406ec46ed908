"""The reply parser: a labelled corpus, num2words as an oracle, and properties."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from conversation.replies import Reply, parse_reply
from tests.replies_corpus import LANGUAGES, Case, consent_figures, figures_table, load_corpus

KEYWORDS = (None, "stop", "start", "help")
CASES = load_corpus()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.lang}:{c.text[:40]!r}" for c in CASES])
def test_it_reads_the_labelled_corpus(case: Case) -> None:
    reply = parse_reply(case.text)
    assert (reply.score, reply.keyword) == (case.score, case.keyword)
    if case.comment is not None:
        assert reply.comment == case.comment


def test_every_opt_out_in_the_corpus_is_caught_and_nothing_else_is_taken_for_one() -> None:
    figures = consent_figures(CASES)
    print("\n" + figures_table(figures))
    for lang in LANGUAGES:
        assert figures[lang].opt_outs >= 40, lang  # enough wordings to mean something
        assert figures[lang].recall == 1.0, lang
        assert figures[lang].false_opt_outs == 0, lang


def test_it_has_a_corpus_that_covers_every_language() -> None:
    per_language = {lang: sum(c.lang == lang for c in CASES) for lang in (*LANGUAGES, "mix")}
    assert len(CASES) >= 400
    assert all(count >= 40 for lang, count in per_language.items() if lang != "mix")
    assert per_language["mix"] >= 10


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("n", range(11))
def test_it_reads_every_number_word_num2words_writes(lang: str, n: int) -> None:
    word = num2words(n, lang=lang)
    assert parse_reply(word).score == n
    assert parse_reply(word.upper()).score == n
    assert parse_reply(f"{word}/10").score == n


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("n", range(11, 21))
def test_it_never_reads_numbers_above_ten_as_a_score(lang: str, n: int) -> None:
    assert parse_reply(num2words(n, lang=lang)).score is None
    assert parse_reply(str(n)).score is None


@pytest.mark.parametrize("n", range(11))
def test_it_reads_every_digit_form(n: int) -> None:
    thai = str(n).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))
    keycaps = "🔟" if n == 10 else f"{n}\ufe0f\u20e3"
    for text in (str(n), thai, keycaps, f"{n}/10", f"{n} out of 10", f"{n} из 10", f"{n} เต็ม 10"):
        assert parse_reply(text).score == n, text


def test_it_returns_a_frozen_reply() -> None:
    reply = parse_reply("9 great")
    assert reply == Reply(score=9, keyword=None, comment="great")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.score = 1  # type: ignore[misc]


def test_it_keeps_the_customers_own_spelling_in_the_comment() -> None:
    assert parse_reply("ŚWIETNIE, dziękuję! 9").comment == "ŚWIETNIE, dziękuję!"
    assert parse_reply("/start AbC_12-xY").comment == "AbC_12-xY"


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_it_never_crashes_on_any_text(text: str) -> None:
    _assert_well_formed(parse_reply(text))


# Text built from the parser's own vocabulary reaches far more of its branches
# than random characters do.
_PIECES = st.sampled_from(
    [
        "9", "10", "/10", " out of ", " na ", " из ", "เต็ม", "สิบ", "เก้า", "เอ็ด",
        "stop", "STOP", " please", "start", "help", "/start", "@Bot", " ", ", ", ".",
        "!", "\n", "-", " or ", "8.5", "7-8", "stars", "zł", "#", "I rate you ",
        "daję ", "ставлю ", "ให้", "คะแนน", "dziewięć", "дев'ять", "восьмёрка", "one",
        "Sent from my iPhone", "Wysłano z iPhone'a", "9\ufe0f\u20e3", "🔟", "๙", "İ",
        "\u200b", "\x00", "'", "don't text me", "не пишите", "ยกเลิก", "ครับ", "²", "①",
        "½", "٩", "\ud800", " ", "ﬁ",
    ]
)  # fmt: skip


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES | st.text(max_size=3), max_size=12).map("".join))
def test_it_never_crashes_on_reply_like_text(text: str) -> None:
    _assert_well_formed(parse_reply(text))


@pytest.mark.parametrize(
    "text",
    ["9/²", "9 - ²", "9 or ³", "9 out of ①", "½", "9²", "\ud800 9", "/ſtop", "/ınfo", "/İnfo"],
)
def test_it_survives_characters_that_look_like_digits_or_letters(text: str) -> None:
    _assert_well_formed(parse_reply(text))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10), st.sampled_from(["", "Sent from my iPhone", "Надіслано з iPhone"]))
def test_it_reads_a_bare_score_whatever_the_signature(score: int, signature: str) -> None:
    assert parse_reply(f"{score}\n{signature}") == Reply(score=score, keyword=None, comment="")


def _assert_well_formed(reply: Reply) -> None:
    assert reply.score is None or 0 <= reply.score <= 10
    assert reply.keyword in KEYWORDS
    assert isinstance(reply.comment, str)
    assert reply.comment == reply.comment.strip()
    assert reply.score is None or reply.keyword is None
