"""The clean-up every rendered text gets, so a pasted no-break space cannot turn a GSM-7
SMS into a twice-as-expensive UCS-2 one."""

from __future__ import annotations

import re

# Exotic spaces become plain ones; invisible ones go. (ZWJ/ZWNJ stay: emoji and scripts need them.)
_SPACES: dict[int, str | None] = dict.fromkeys(
    map(ord, "\t\v\f\u00a0\u1680\u202f\u205f\u3000"), " "
)
_SPACES.update(dict.fromkeys(range(0x2000, 0x200B), " "))
_SPACES.update(dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"), None))
_SPACES.update({ord("\r"): "\n", 0x2028: "\n", 0x2029: "\n"})
_SPACE_RUN = re.compile(" {2,}")
_SPACE_AT_LINE_EDGE = re.compile(" *\n *")
_BLANK_LINES = re.compile("\n{3,}")


def clean_text(text: str) -> str:
    """Plain spaces only, no runs of spaces, at most one blank line in a row, no outer whitespace."""
    text = text.replace("\r\n", "\n").translate(_SPACES)
    if "  " in text:
        text = _SPACE_RUN.sub(" ", text)
    if "\n" in text:
        text = _SPACE_AT_LINE_EDGE.sub("\n", text)
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
