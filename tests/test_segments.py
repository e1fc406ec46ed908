import pytest

from messaging.segments import GSM7_BASIC, GSM7_EXTENSION, SegmentInfo, is_gsm7, sms_segments

EMOJI = "\U0001f600"  # one code point, two UTF-16 code units


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", SegmentInfo("GSM-7", 0, 0, 0), id="empty"),
        pytest.param("Hello", SegmentInfo("GSM-7", 1, 5, 5), id="ascii"),
        pytest.param("a" * 160, SegmentInfo("GSM-7", 1, 160, 160), id="gsm-full-single"),
        pytest.param("a" * 161, SegmentInfo("GSM-7", 2, 161, 161), id="gsm-one-over"),
        pytest.param("a" * 306, SegmentInfo("GSM-7", 2, 306, 306), id="gsm-two-full-parts"),
        pytest.param("a" * 307, SegmentInfo("GSM-7", 3, 307, 307), id="gsm-third-part"),
        pytest.param(
            "£¥èéùìòÇØøÅåÄÖÑÜäöñüà§¿¡", SegmentInfo("GSM-7", 1, 24, 24), id="gsm-non-ascii"
        ),
        pytest.param("ΔΦΓΛΩΠΨΣΘΞ", SegmentInfo("GSM-7", 1, 10, 10), id="gsm-greek"),
        pytest.param("line\nline\r", SegmentInfo("GSM-7", 1, 10, 10), id="newlines-count-one"),
        pytest.param("€5", SegmentInfo("GSM-7", 1, 2, 3), id="euro-is-two-septets"),
        pytest.param("^{}\\[~]|", SegmentInfo("GSM-7", 1, 8, 16), id="extension-chars"),
        pytest.param("{" * 80, SegmentInfo("GSM-7", 1, 80, 160), id="extension-fills-single"),
        pytest.param("{" * 81, SegmentInfo("GSM-7", 2, 81, 162), id="extension-overflows"),
        # 152 + 77*2 = 306 septets would be two parts, but an escape pair is never split.
        pytest.param(
            "a" * 152 + "€" * 77, SegmentInfo("GSM-7", 3, 229, 306), id="escape-pair-not-split"
        ),
        pytest.param("Zażółć", SegmentInfo("UCS-2", 1, 6, 6), id="polish"),
        pytest.param("Привет", SegmentInfo("UCS-2", 1, 6, 6), id="cyrillic"),
        pytest.param("สวัสดีค่ะ", SegmentInfo("UCS-2", 1, 9, 9), id="thai-combining-marks"),
        pytest.param("ą" * 70, SegmentInfo("UCS-2", 1, 70, 70), id="ucs2-full-single"),
        pytest.param("ą" * 71, SegmentInfo("UCS-2", 2, 71, 71), id="ucs2-one-over"),
        pytest.param("ą" * 134, SegmentInfo("UCS-2", 2, 134, 134), id="ucs2-two-full-parts"),
        pytest.param("ą" * 135, SegmentInfo("UCS-2", 3, 135, 135), id="ucs2-third-part"),
        pytest.param(EMOJI, SegmentInfo("UCS-2", 1, 1, 2), id="emoji-is-two-units"),
        pytest.param("a" * 69 + EMOJI, SegmentInfo("UCS-2", 2, 70, 71), id="emoji-tips-over"),
        # 66 + 2 + 66 = 134 units would be two parts, but a surrogate pair is never split.
        pytest.param(
            "a" * 66 + EMOJI + "a" * 66, SegmentInfo("UCS-2", 3, 133, 134), id="surrogate-not-split"
        ),
        pytest.param("Hi\u00a0Anna", SegmentInfo("UCS-2", 1, 7, 7), id="no-break-space-is-ucs2"),
        pytest.param("it\u2019s", SegmentInfo("UCS-2", 1, 4, 4), id="curly-quote-is-ucs2"),
        pytest.param("0\u201310", SegmentInfo("UCS-2", 1, 4, 4), id="en-dash-is-ucs2"),
        pytest.param("`", SegmentInfo("UCS-2", 1, 1, 1), id="backtick-is-not-gsm"),
        pytest.param("ç", SegmentInfo("UCS-2", 1, 1, 1), id="lowercase-c-cedilla-is-not-gsm"),
        pytest.param("\x1b", SegmentInfo("UCS-2", 1, 1, 1), id="bare-escape-is-not-text"),
        pytest.param(
            "€" + "ą", SegmentInfo("UCS-2", 1, 2, 2), id="extension-char-in-ucs2-is-one-unit"
        ),
    ],
)
def test_it_counts_encoding_segments_and_units(text: str, expected: SegmentInfo) -> None:
    assert sms_segments(text) == expected


def test_the_gsm_tables_have_the_sizes_of_the_standard() -> None:
    assert len(GSM7_BASIC) == 127  # 128 positions, less the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


def test_every_printable_ascii_character_but_the_backtick_is_gsm7() -> None:
    printable = "".join(chr(c) for c in range(0x20, 0x7F))
    assert not is_gsm7(printable)
    assert is_gsm7(printable.replace("`", ""))
