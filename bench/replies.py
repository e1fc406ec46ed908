"""How many replies per second parse_reply reads on one core.

    .venv/bin/python -m bench.replies [--seconds 3]

Parses the labelled corpus (tests/data/replies_corpus.tsv) over and over and
prints the rate. A figure to watch, not a pass/fail check.
"""

import argparse
import time
from pathlib import Path

from messaging.replies import parse_reply

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run (default 3)")
    seconds = parser.parse_args().seconds

    texts = corpus_texts()
    for text in texts:  # warm up regex caches before timing
        parse_reply(text)
    parsed, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        for text in texts:
            parse_reply(text)
        parsed += len(texts)
    print(f"parse_reply: {parsed / elapsed:,.0f} replies/s ({parsed:,} replies, {len(texts)} distinct, {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
