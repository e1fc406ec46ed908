"""How many replies per second parse_reply reads on one core, and how well, per language.

    .venv/bin/python -m bench.replies [--seconds 3]

Prints opt-out recall and precision and score accuracy on the labelled corpus
(tests/data/replies_corpus.tsv), per language, then parses it over and over on
one core and prints the rate. A figure to watch, not a pass/fail check; the
target is 20,000 replies/s. The corpus is harder than real traffic, where most
replies are a bare number.
"""

import argparse
import time
from pathlib import Path

from conversation.replies import parse_reply
from tests.replies_corpus import consent_figures, figures_table, load_corpus

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "replies_corpus.tsv"


def corpus_texts() -> list[str]:
    """The reply texts of the corpus, as the customer sent them."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    texts = []
    for line in lines[lines.index("lang\tscore\tkeyword\ttext\tcomment") + 1 :]:
        if line.strip() and not line.startswith("#"):
            text = line.split("\t")[3]
            texts.append("" if text == "<empty>" else text.replace("\\n", "\n"))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description="Replies per second that parse_reply reads.")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run (default 3)")
    seconds = parser.parse_args().seconds

    print(figures_table(consent_figures(load_corpus())) + "\n")
    texts = corpus_texts()
    for text in texts:  # warm up before timing
        parse_reply(text)
    parsed, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        for text in texts:
            parse_reply(text)
        parsed += len(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # CPU time is the figure to compare: on a busy machine wall time also counts
    # the time other processes held the core.
    print(
        f"parse_reply: {parsed / cpu:,.0f} replies per CPU second "
        f"({parsed / wall:,.0f}/s wall clock; {parsed:,} replies, {len(texts)} distinct)"
    )


if __name__ == "__main__":
    main()
