"""Reading a customer's reply: the 0–10 score, a stop/start/help keyword, the comment."""

from dataclasses import dataclass

from conversation.replies import keywords, opt_outs
from conversation.replies.scores import find_score
from conversation.replies.text import blank, cut, fold, prepare, signature_spans, tidy

__all__ = ["Reply", "parse_reply"]


@dataclass(frozen=True, slots=True)
class Reply:
    score: int | None = None  # 0–10
    keyword: str | None = None  # None, "stop", "start" or "help"
    comment: str = ""  # what the customer wrote besides the score or keyword
    # How the keyword was read: "keyword" (the whole message is one, or a /command),
    # "phrase" (an unmistakable request in a sentence), "likely" (most probably an
    # opt-out: we stop, and a human reads it). None without a keyword.
    how: str | None = None


def parse_reply(text: str) -> Reply:
    """Read the score, keyword and comment out of a customer's free-text reply.

    `score` is the 0–10 rating given in digits (also Thai digits and keycap
    emoji), as "N/10" or "N out of 10" and their pl/uk/ru/th equivalents, or in
    number words of those languages; it is None when the reply holds no rating
    or an undecided one ("7 or 8", "8.5", "5 stars", two different numbers).
    `keyword` is "stop" for an opt-out (a carrier keyword as the whole message,
    or a request to stop messaging anywhere, unmistakable like "stop texting
    me" or likely like "leave me alone", which then wins over a score), "start"
    for an opt-in, "help" for a help request, else None; `how` says which.
    `comment` is the rest of the text without phone signatures, or "".
    Pure and total: any string gives a Reply.
    """
    base = prepare(text)
    key = fold(base)
    signatures = signature_spans(key)
    if signatures:
        base, key = blank(base, signatures), blank(key, signatures)

    command = keywords.command(base, key)
    if command:
        return Reply(keyword=command[0], comment=command[1], how="keyword")
    keyword = keywords.whole_message(key)
    if keyword:
        return Reply(keyword=keyword, how="keyword")
    opt_out = opt_outs.opt_out(key)
    if opt_out:
        comment = cut(base, [(opt_out.start, opt_out.end)])
        return Reply(keyword=keywords.STOP, comment=comment, how=opt_out.how)

    score, spans = find_score(key)
    if score is None:
        return Reply(comment=tidy(base))
    comment = cut(base, spans)
    if comment and keywords.whole_message(fold(comment)) == keywords.STOP:
        # "10 STOP": the opt-out wins and the number is all that is left to say.
        return Reply(
            keyword=keywords.STOP,
            comment=tidy(" ".join(base[s:e] for s, e in spans)),
            how="keyword",
        )
    return Reply(score=score, comment=comment)
