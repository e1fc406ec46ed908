"""How many SMS segments a text costs: GSM 03.38 (7-bit) when every character fits, else UCS-2.

A single message holds 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2). A
longer one is split into parts of 153 or 67, since each part carries a header; a
two-septet GSM character (escape + char) and a UTF-16 surrogate pair are never
split across parts, so a part may hold one unit less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set, in table order (0x1B, the escape, is left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# The extension table: each costs the escape septet plus its own.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What an SMS text costs.

    `characters` counts code points (what a person counts); `units` is what the
    limits count: septets for GSM-7, UTF-16 code units for UCS-2.
    """

    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    characters: int
    units: int


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM 03.38 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_segments(text: str) -> SegmentInfo:
    """The encoding and number of segments `text` needs as one SMS (0 segments for "")."""
    encoding: Literal["GSM-7", "UCS-2"]
    if is_gsm7(text):
        encoding = "GSM-7"
        widths = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    else:
        encoding = "UCS-2"
        widths = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    units = sum(widths)
    single, part = _LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments, used = 1, 0
        for width in widths:
            if used + width > part:
                segments, used = segments + 1, 0
            used += width
    return SegmentInfo(encoding, segments, len(text), units)
