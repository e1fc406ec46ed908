"""Preparing a reply for matching, and cutting matched parts out of it.

The parser works on two strings of the same length: `base`, the customer's
text with keycap emoji turned into digits, and `key`, its folded copy
(lower case, no Polish diacritics, ё as е, one apostrophe, ASCII digits). Every
character of `key` sits where its original sits in `base`, so a span found in
`key` can be cut out of `base` to leave the comment in the customer's own words.
"""

import re
import unicodedata

_KEYCAPS = re.compile("(?:[0-9]\ufe0f?\u20e3)+")
_KEYCAP_TEN = "\U0001f51f"


def _fold_table() -> dict[int, str]:
    pairs = {
        "ąćęłńóśźż": "acelnoszz",
        "ё": "е",
        "\u2018\u2019\u201b\u02bc\u02b9\u00b4\u0060\u2032\uff07": "'" * 9,
        "\u201c\u201d\u201e\u00ab\u00bb": '"' * 5,
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2212": "-" * 7,
        "\u2044\u2215\uff0f": "///",
        "\r\u2028\u2029\x0b\x0c": "\n" * 5,
        # Thai often separates words with a zero-width space; NBSP and friends.
        "\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\ufeff\t": " " * 9,
        "๐๑๒๓๔๕๖๗๘๙": "0123456789",
        "０１２３４５６７８９": "0123456789",
        "٠١٢٣٤٥٦٧٨٩": "0123456789",
    }
    table = {
        ord(src): dst for srcs, dsts in pairs.items() for src, dst in zip(srcs, dsts, strict=True)
    }
    table.update({code: " " for code in range(0x20) if chr(code) not in "\n\r\x0b\x0c\t"})
    return table


_FOLD = _fold_table()


def prepare(text: str) -> str:
    """The customer's text in NFC, with keycap digits (9️⃣, 🔟) as plain digits."""
    text = unicodedata.normalize("NFC", text)
    if "\u20e3" in text:
        text = _KEYCAPS.sub(_keycap_digits, text)
    if _KEYCAP_TEN in text:
        text = text.replace(_KEYCAP_TEN, " 10 ")
    return text


def _keycap_digits(match: re.Match[str]) -> str:
    # Spaces keep "great9️⃣" from reading as the model name "great9".
    return " " + re.sub("[\ufe0f\u20e3]", "", match.group()) + " "


def fold(text: str) -> str:
    """Lower-cased, diacritic-folded copy of `text`, exactly as long as `text`."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two characters
        low = "".join(ch.lower()[0] for ch in text)
    return low.translate(_FOLD)


def fold_word(word: str) -> str:
    """A table entry folded the way `fold` folds the text it is looked up in."""
    return fold(unicodedata.normalize("NFC", word))


_DEVICE = (
    r"(?:iphone|ipad|ipod|apple|android|samsung|galaxy|huawei|xiaomi|redmi|honor|oppo|"
    r"oneplus|pixel|google|motorola|moto|nokia|sony|lg|htc|blackberry|windows|mobile|"
    r"phone|smartphone|tablet|outlook|gmail|yahoo|mail|aol|t-mobile|verizon|"
    r"телефона?|смартфона?|айфона?|мобильного|мобильной|мобільного|почты|приложения|додатка|"
    r"โทรศัพท์|ไอโฟน)"
)
_SIGNATURE = re.compile(
    rf"""(?:(?<=\s)|(?<=[.!?])|^)
    (?:sent\ (?:from|with|via|using)\ (?:my\ |the\ )?{_DEVICE}
      |get\ outlook\ for
      |wyslan[eoay]\ (?:z|ze|przez|za\ pomoca)\ (?:mojego\ |mojej\ |aplikacji\ )?{_DEVICE}
      |(?:надіслано|відправлено|надіслане)\ (?:з|із|зі)\ (?:мого\ |моєї\ )?{_DEVICE}
      |(?:отправлено|послано|отправлено\ из)\ (?:с|со|из)\ (?:моего\ |моей\ )?{_DEVICE}
      |ส่งจาก\s*{_DEVICE}
    )
    # Only to the end of the line, and only a short, plain tail: in "the link
    # sent from my phone, 9" the phrase is part of the message.
    (?:[^\n!?,;.]|\.(?=\S)){{0,40}}[.!]?[^\S\n]*$""",
    re.X | re.M,
)
_SIGNATURE_DELIMITER = re.compile(r"\n-- ?\n.*", re.S)


def signature_spans(key: str) -> list[tuple[int, int]]:
    """Spans of phone and mail-app signatures ("Sent from my iPhone") in `key`."""
    spans = [m.span() for m in _SIGNATURE.finditer(key)]
    delimiter = _SIGNATURE_DELIMITER.search(key)
    if delimiter:
        spans.append(delimiter.span())
    return spans


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with each span replaced by spaces, keeping every other index."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


# Plain str.strip sets, not regexes: a regex anchored at the end is tried at
# every position, which made a 10,000-character "9 9 9 ..." take seconds.
_SPACE = " \t\n\r\x0b\x0c\u00a0\u2007\u2009\u202f\u200b\u3000"
_LEFT_SEPARATORS = _SPACE + ",;:-\u2013\u2014/|("
_RIGHT_SEPARATORS = _SPACE + ",;:-\u2013\u2014/|)"
_CLOSING = ".!?…"
_MEANINGFUL = re.compile(r"[^\W_]|[\u0e00-\u0e7f\u2190-\u2bff\U0001f000-\U0001faff]")
# Thai politeness particles carry no feedback: "ให้สิบเลยครับ" leaves only "เลยครับ".
_PARTICLE = r"(?:ครับ|คับ|ค่ะ|คะ|ค่า|นะ|จ้า|จ้ะ|เลย|ka|krub|krap)"
_ONLY_PARTICLES = re.compile(rf"[\W_]*(?:{_PARTICLE}[\W_]*)+")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")


def cut(base: str, spans: list[tuple[int, int]]) -> str:
    """`base` with the spans removed and the punctuation around each cut tidied."""
    text = base
    for start, end in sorted(spans, reverse=True):
        text = _join(text[:start], text[end:])
    return tidy(text.rstrip(_LEFT_SEPARATORS).lstrip(_RIGHT_SEPARATORS))


def _join(left: str, right: str) -> str:
    bare_left = left.rstrip(_LEFT_SEPARATORS)
    bare_right = right.lstrip(_RIGHT_SEPARATORS)
    if not bare_left.strip():  # "Four. Rude driver." -> "Rude driver."
        return bare_right.lstrip(_CLOSING + _SPACE)
    if not bare_right:
        return bare_left
    gap = left[len(bare_left) :] + right[: len(right) - len(bare_right)]
    if bare_right[0] in _CLOSING:
        if bare_left[-1] not in _CLOSING:  # "Great, 9!" -> "Great!"
            return bare_left + bare_right
        bare_right = bare_right.lstrip(_CLOSING).lstrip()  # "polite. I rate 8. Thanks"
        if not bare_right:
            return bare_left
    if "\n" in gap:
        return bare_left + "\n" + bare_right
    for mark in gap:  # "Slow, 5, but friendly" -> "Slow, but friendly"
        if mark in ",;:":
            return f"{bare_left}{mark} {bare_right}"
    for mark in gap:
        if mark in "-\u2013\u2014":
            return f"{bare_left} {mark} {bare_right}"
    return bare_left + " " + bare_right


def tidy(text: str) -> str:
    """Collapse spaces and empty lines; "" if only punctuation or Thai particles are left."""
    lines = (_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.splitlines())
    text = "\n".join(line for line in lines if line)
    if not _MEANINGFUL.search(text) or len(text) < 40 and _ONLY_PARTICLES.fullmatch(text.lower()):
        return ""
    return text
