"""What customers and reps actually read: every message, in every language, on every channel."""

import re

import pytest

from messaging.render import (
    LANGUAGES,
    SAMPLE_CONTEXT,
    available_keys,
    clean_text,
    render,
    sample_context,
    template_source,
)
from messaging.segments import sms_segments

# What reps and managers read: the alerts and the replies to their commands.
REP_KEYS = {key for key in available_keys() if key.startswith("rep_") or key == "manager_alert"}
# A reply to a rep's own command answers them there and then: no need to greet them by name.
REPLY_KEYS = {key for key in REP_KEYS if key.startswith("rep_reply_") or key == "rep_buttons"}
CUSTOMER_KEYS = sorted(set(available_keys()) - REP_KEYS)
SURVEY_KEYS = sorted(key for key in available_keys() if key.startswith("survey_"))
CHANNELS = ("sms", "telegram", "console")
# What a caller may pass as empty; those branches must read well too.
EMPTY_OPTIONALS = {
    "product": None,
    "review_url": "",
    "referral_url": "",
    "rep_name": None,
    "comment": "",
    "recent": [],
    "customer_phone": None,
    "owner_name": None,
    "by_name": None,
    "recovery_days": None,
    "waiting": [],
}
SMS_BUDGET_KEYS = [*SURVEY_KEYS, "reminder", "delay_notice"]


def contexts(key: str, language: str = "en") -> list[dict[str, object]]:
    """The sample context on every channel, with and without its optional values."""
    full = sample_context(key, language)
    empty = {**full, **{name: value for name, value in EMPTY_OPTIONALS.items() if name in full}}
    return [{**ctx, "channel": channel} for ctx in (full, empty) for channel in CHANNELS]


ALL = [(key, language) for key in available_keys() for language in LANGUAGES]


@pytest.mark.parametrize(("key", "language"), ALL)
def test_every_message_renders_cleanly_and_names_the_recipient(key: str, language: str) -> None:
    for context in contexts(key, language):
        text = render(key, language, context)
        assert text.strip()
        assert key in REPLY_KEYS or str(context["first_name"]) in text
        assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#", text), text
        assert "None" not in text, text
        assert "  " not in text and "\u00a0" not in text, text
        assert not re.search(r" [,.!?:;)]", text), text


@pytest.mark.parametrize("key", CUSTOMER_KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_customer_message_exists_in_every_language(key: str, language: str) -> None:
    assert template_source(key, language)[1] == language
    if language != "en":
        context = SAMPLE_CONTEXT[key]
        assert render(key, language, context) != render(key, "en", context)


@pytest.mark.parametrize("key", sorted(REP_KEYS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rep_message_exists_in_every_language(key: str, language: str) -> None:
    """A rep reads their own language (the alerts, the replies, rep_score_changed)."""
    assert template_source(key, language)[1] == language
    if language != "en" and key != "rep_buttons":
        context = SAMPLE_CONTEXT[key]
        assert render(key, language, context) != render(key, "en", context)


@pytest.mark.parametrize("key", CUSTOMER_KEYS)
def test_english_customer_messages_are_plain_ascii(key: str) -> None:
    source = template_source(key, "en")[0]
    assert source.isascii(), [ch for ch in source if not ch.isascii()]
    for context in contexts(key):
        assert sms_segments(render(key, "en", context)).encoding == "GSM-7"


@pytest.mark.parametrize("key", SMS_BUDGET_KEYS)
def test_english_surveys_fit_one_gsm7_segment_at_full_length(key: str) -> None:
    context = SAMPLE_CONTEXT[key]
    assert len(str(context["first_name"])) == 10
    assert len(str(context["business_name"])) == 15
    assert "product" not in context or len(str(context["product"])) == 20
    for ctx in contexts(key):
        if ctx["channel"] == "telegram":
            continue  # no segments there
        text = render(key, "en", ctx)
        info = sms_segments(text)
        assert (info.encoding, info.segments) == ("GSM-7", 1), f"{info.units}: {text}"


@pytest.mark.parametrize("key", SURVEY_KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_survey_asks_the_nps_question_about_the_business(key: str, language: str) -> None:
    for context in contexts(key, language):
        text = render(key, language, context)
        assert "Northwind Motor" in text
        if context["channel"] != "telegram":
            assert "10" in text  # the scale is spelled out where there are no buttons


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_opt_out_hint_goes_only_to_sms(language: str) -> None:
    context = SAMPLE_CONTEXT["survey_post_delivery"]
    assert "STOP" in render("survey_post_delivery", language, {**context, "channel": "sms"})
    for channel in ("telegram", "console"):
        text = render("survey_post_delivery", language, {**context, "channel": channel})
        assert "STOP" not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_product_is_named_when_known(language: str) -> None:
    for key in ("survey_post_delivery", "survey_service", "delay_notice"):
        assert "Toyota Corolla Cross" in render(key, language, SAMPLE_CONTEXT[key])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_delay_notice_names_the_promised_date_as_the_language_writes_it(language: str) -> None:
    context = sample_context("delay_notice", language)
    text = render("delay_notice", language, context)
    assert clean_text(str(context["promised_date"])) in text
    assert "2025" in text and ("September" in text) == (language == "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_promoters_get_the_review_and_referral_links_only_when_configured(language: str) -> None:
    context = dict(SAMPLE_CONTEXT["followup_promoter"])
    both = render("followup_promoter", language, context)
    assert context["review_url"] in both and context["referral_url"] in both
    neither = render(
        "followup_promoter", language, {**context, "review_url": "", "referral_url": ""}
    )
    assert "http" not in neither
    review_only = render("followup_promoter", language, {**context, "referral_url": ""})
    assert context["review_url"] in review_only and context["referral_url"] not in review_only


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_review_invitation_carries_the_link(language: str) -> None:
    context = SAMPLE_CONTEXT["review_invite"]
    assert context["review_url"] in render("review_invite", language, context)


def test_the_review_invitation_does_not_gate_on_happiness() -> None:
    text = render("review_invite", "en", SAMPLE_CONTEXT["review_invite"]).lower()
    for gating in ("happy", "enjoyed", "satisfied", "if you liked", "5 star", "five star"):
        assert gating not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_forwarding_note_names_the_rep_or_the_team(language: str) -> None:
    context = SAMPLE_CONTEXT["forwarded_to_rep"]
    assert "Marta Lopez" in render("forwarded_to_rep", language, context)
    assert "Marta" not in render("forwarded_to_rep", language, {**context, "rep_name": None})


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_sender_without_a_name_gets_a_tidy_greeting(language: str) -> None:
    text = render(
        "unknown_sender", language, {**SAMPLE_CONTEXT["unknown_sender"], "first_name": ""}
    )
    assert not re.search(r"\s[,.!]|,\s*!|^[,\s]", text), text


def test_thai_messages_use_the_polite_particle() -> None:
    for key in CUSTOMER_KEYS:
        text = render(key, "th", SAMPLE_CONTEXT[key])
        assert "ค่ะ" in text or "คะ" in text, key


@pytest.mark.parametrize("channel", ["sms", "telegram"])
def test_rep_alerts_say_how_to_acknowledge_on_that_channel(channel: str) -> None:
    for key in ("rep_alert", "manager_alert"):
        context = {**SAMPLE_CONTEXT[key], "channel_for_commands": channel}
        text = render(key, "en", context)
        assert "Aleksandra Nowak" in text and "3/10" in text and "garage" in text
        assert ("ACK 42" in text) == (channel == "sms")
        assert ("buttons" in text) == (channel == "telegram")


def test_rep_alerts_in_english_fit_the_gsm_alphabet() -> None:
    for key in sorted(REP_KEYS):
        assert sms_segments(render(key, "en", SAMPLE_CONTEXT[key])).encoding == "GSM-7"


# Realistic values at the sizes a survey must survive: a long native first name,
# a 15-character business and a 20-character product (bug 9 of issue 14).
LONG_NAMES = {
    "en": "Christopher",
    "pl": "Małgorzata",
    "uk": "Олександра",
    "ru": "Александра",
    "th": "ประภาพรรณ",
}


@pytest.mark.parametrize("key", SURVEY_KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_survey_sms_fits_two_segments_with_long_real_values(key: str, language: str) -> None:
    base = {
        **SAMPLE_CONTEXT[key],
        "first_name": LONG_NAMES[language],
        "business_name": "Kowalski Motors",
        "channel": "sms",
    }
    for product in ("Toyota Corolla Cross", "Skoda Octavia Combi", None):
        context = {**base, "product": product} if "product" in base else base
        text = render(key, language, context)
        info = sms_segments(text)
        assert info.segments <= 2, f"{language} {key}: {info.segments} x {info.encoding}: {text}"
        assert LONG_NAMES[language] in text and "Kowalski Motors" in text
        assert product is None or "product" not in base or product in text
        assert "STOP" in text and "10" in text


@pytest.mark.parametrize("key", SURVEY_KEYS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shipped_survey_passes_the_editor_check(key: str, language: str) -> None:
    """The check the template editor runs before saving (a 0-10 question and the opt-out line)."""
    from messaging.render import versions

    body, used = template_source(key, language)
    assert used == language
    versions.check(key, language, body)  # raises TemplateError naming what is missing


@pytest.mark.parametrize(
    ("language", "bot"), [("en", "Bot"), ("pl", "Bot"), ("uk", "Бот"), ("ru", "Бот"), ("th", "บอท")]
)
def test_recent_messages_in_an_alert_name_the_speaker_in_the_readers_language(
    language: str, bot: str
) -> None:
    for key in ("rep_alert", "manager_alert"):
        text = render(key, language, {**SAMPLE_CONTEXT[key], "language": "Polish"})
        assert f"- {bot}: How likely are you to recommend Northwind Motor" in text
        assert "- Aleksandra: 3. The car went back" in text
