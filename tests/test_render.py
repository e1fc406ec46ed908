from pathlib import Path

import jinja2
import pytest

from messaging.render import (
    LANGUAGES,
    SAMPLE_CONTEXT,
    TemplateError,
    TemplateMissing,
    TemplateSyntax,
    UnknownVariable,
    UnsafeTemplate,
    available_keys,
    clean_text,
    files,
    render,
    sample_context,
    sandbox,
    template_source,
    validate_source,
)
from messaging.segments import sms_segments

CONTEXT = SAMPLE_CONTEXT["survey_post_delivery"]


# ---------------------------------------------------------------- languages and keys


def test_it_falls_back_to_english_for_a_language_without_templates() -> None:
    assert render("survey_periodic", "de", CONTEXT) == render("survey_periodic", "en", CONTEXT)


@pytest.mark.parametrize("tag", ["pl_PL", "pl-PL", "PL", " pl "])
def test_it_reads_regional_and_odd_cased_tags_as_the_base_language(tag: str) -> None:
    assert render("survey_periodic", tag, CONTEXT) == render("survey_periodic", "pl", CONTEXT)


@pytest.mark.parametrize("language", ["de", "../en", "../../etc", "th/../en", "\x00"])
def test_an_unknown_or_odd_language_gets_english(language: str) -> None:
    assert render("help", language, CONTEXT) == render("help", "en", CONTEXT)
    assert template_source("help", language)[1] == "en"


def test_an_empty_language_means_english() -> None:
    assert render("help", "", CONTEXT) == render("help", "en", CONTEXT)


def test_a_key_missing_in_a_language_falls_back_to_english() -> None:
    # Every key exists in the five languages; one Aftercare does not write falls back.
    context = SAMPLE_CONTEXT["rep_alert"]
    assert render("rep_alert", "de", context) == render("rep_alert", "en", context)
    assert render("rep_alert", "th", context) != render("rep_alert", "en", context)


def test_template_source_says_which_language_it_used() -> None:
    text, used = template_source("help", "pl")
    assert used == "pl" and "{{ first_name }}" in text
    assert template_source("rep_alert", "pl")[1] == "pl"
    assert template_source("rep_alert", "de")[1] == "en"
    assert template_source("help", "de")[1] == "en"


def test_an_unknown_key_is_a_lookup_error_naming_key_and_language() -> None:
    with pytest.raises(TemplateMissing) as caught:
        render("no_such_message", "pl", CONTEXT)
    assert isinstance(caught.value, LookupError)
    assert "no_such_message" in str(caught.value) and "pl" in str(caught.value)


@pytest.mark.parametrize("key", ["../pyproject", "en/help", "help.txt", "Help", ""])
def test_a_key_that_is_not_a_plain_name_is_missing(key: str) -> None:
    with pytest.raises(TemplateMissing):
        render(key, "en", CONTEXT)


def test_template_source_of_an_unknown_key_is_missing() -> None:
    with pytest.raises(TemplateMissing):
        template_source("no_such_message", "en")


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "September 30, 2025"),
        ("pl", "30 września 2025"),
        ("ru", "30 сентября 2025\u202fг."),
        ("de", "30. September 2025"),
        ("zz", "September 30, 2025"),
    ],
)
def test_sample_context_writes_the_promised_date_in_the_language(
    language: str, written: str
) -> None:
    assert sample_context("delay_notice", language)["promised_date"] == written
    assert sample_context("help", language) == dict(SAMPLE_CONTEXT["help"])


def test_babels_narrow_no_break_space_in_a_date_reaches_the_customer_as_a_plain_space() -> None:
    context = sample_context("delay_notice", "uk")
    assert "\u202f" in str(context["promised_date"])  # CLDR writes "2025\u202fр."
    text = render("delay_notice", "uk", context)
    assert "30 вересня 2025 р." in text and "\u202f" not in text


def test_sample_context_of_an_unknown_key_is_missing() -> None:
    with pytest.raises(TemplateMissing):
        sample_context("no_such_message", "en")


def test_available_keys_are_exactly_the_keys_with_sample_contexts() -> None:
    assert set(available_keys()) == set(SAMPLE_CONTEXT)
    assert list(available_keys()) == sorted(available_keys())


# ---------------------------------------------------------------- strictness and errors


def test_a_variable_missing_from_the_context_is_an_error_naming_it() -> None:
    context = {k: v for k, v in SAMPLE_CONTEXT["survey_periodic"].items() if k != "business_name"}
    with pytest.raises(UnknownVariable, match="business_name"):
        render("survey_periodic", "en", context)


def test_template_errors_are_also_jinja_template_errors() -> None:
    with pytest.raises(jinja2.TemplateError):
        render("survey_periodic", "en", {})


def test_a_runtime_error_names_the_line() -> None:
    with pytest.raises(UnknownVariable) as caught:
        render("custom", "en", CONTEXT, source="Hi {{ first_name }}\n\n{{ missing }}")
    assert caught.value.lineno == 3
    assert "line 3" in str(caught.value) and "missing" in str(caught.value)


def test_a_runtime_error_in_a_template_file_names_the_key_and_language() -> None:
    with pytest.raises(UnknownVariable) as caught:
        render("delay_notice", "ru", {**CONTEXT})  # no promised_date
    assert caught.value.key == "delay_notice" and caught.value.language == "ru"
    assert "promised_date" in str(caught.value) and caught.value.lineno == 1


def test_none_renders_as_nothing_never_as_the_word_none() -> None:
    text = render("x", "en", {"rep_name": None}, source="Thanks! {{ rep_name }} will call.")
    assert text == "Thanks! will call."


def test_text_that_renders_empty_is_an_error() -> None:
    with pytest.raises(TemplateError, match="empty"):
        render("x", "en", CONTEXT, source="{% if false %}never{% endif %}  \n ")


def test_other_exceptions_in_a_template_become_template_errors() -> None:
    with pytest.raises(TemplateError, match="ZeroDivisionError") as caught:
        render("x", "en", CONTEXT, source="ok\n{{ 1 // 0 }}")
    assert caught.value.lineno == 2


# ---------------------------------------------------------------- admin-edited sources


def test_a_source_replaces_the_file_text() -> None:
    text = render("help", "pl", CONTEXT, source="Hej {{ first_name }} z {{ business_name }}")
    assert text == "Hej Aleksandra z Northwind Motor"


def test_a_source_with_a_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateSyntax) as caught:
        render("help", "pl", CONTEXT, source="Hi\n{% if first_name %}\nno end")
    assert caught.value.key == "help" and caught.value.language == "pl"
    assert caught.value.lineno == 3 and "line 3" in str(caught.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ '{0.__class__.__mro__}'.format(first_name) }}",
        "{% set seen = [] %}{{ seen.append(1) }}",
        "{{ 'x' * 100000000 }}",
        "{{ 9 ** 99999999 }}",
    ],
)
def test_the_sandbox_blocks_escapes_and_resource_abuse(source: str) -> None:
    with pytest.raises(UnsafeTemplate):
        render("x", "en", CONTEXT, source=source)


def test_sandbox_errors_are_template_errors() -> None:
    with pytest.raises(TemplateError):
        render("x", "en", CONTEXT, source="{{ ''.__class__.__mro__ }}")


# ---------------------------------------------------------------- whitespace clean-up


def test_no_break_and_other_exotic_spaces_become_plain_spaces() -> None:
    source = "Hi\u00a0{{ first_name }},\u2009we\u202fhope\u3000you\u2007are well.\u200b"
    text = render("x", "en", CONTEXT, source=source)
    assert text == "Hi Aleksandra, we hope you are well."
    assert sms_segments(text).encoding == "GSM-7"


def test_exotic_spaces_in_the_context_are_cleaned_too() -> None:
    context = {**CONTEXT, "first_name": "Anna\u00a0Maria"}
    text = render("survey_periodic", "en", context)
    assert "Anna Maria" in text and "\u00a0" not in text
    assert sms_segments(text).encoding == "GSM-7"


def test_runs_of_spaces_and_blank_lines_collapse_and_the_ends_are_stripped() -> None:
    source = "  Hi   {{ first_name }}  \r\n\n\n\n\tBye  \n\n"
    assert render("x", "en", CONTEXT, source=source) == "Hi Aleksandra\n\nBye"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\u00a0b", "a b"),
        ("a \u00a0 b", "a b"),
        ("a\u00adb", "ab"),  # soft hyphen
        ("a\ufeffb", "ab"),
        ("a\u2028b", "a\nb"),
        ("one\n \n \n \ntwo", "one\n\ntwo"),
        ("\U0001f468\u200d\U0001f469", "\U0001f468\u200d\U0001f469"),  # ZWJ kept
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


# ---------------------------------------------------------------- validate_source


def test_validate_source_accepts_every_shipped_template() -> None:
    for key in available_keys():
        for language in LANGUAGES:
            validate_source(template_source(key, language)[0], key)


def test_validate_source_reports_a_syntax_error_with_its_line() -> None:
    with pytest.raises(TemplateSyntax, match="line 2"):
        validate_source("Hi {{ first_name }}\n{% if product %}oops", "survey_post_delivery")


def test_validate_source_reports_an_unknown_variable_with_its_line() -> None:
    with pytest.raises(UnknownVariable) as caught:
        validate_source("Hi {{ first_name }},\nthanks for {{ prodcut }}", "survey_post_delivery")
    assert caught.value.lineno == 2 and "prodcut" in str(caught.value)
    assert "product" in str(caught.value)  # it lists what is available


def test_validate_source_finds_unknown_variables_in_branches_the_sample_skips() -> None:
    with pytest.raises(UnknownVariable, match="typo"):
        validate_source("{% if channel == 'fax' %}{{ typo }}{% endif %}Hi", "help")


def test_validate_source_rejects_a_variable_of_another_key() -> None:
    with pytest.raises(UnknownVariable, match="score"):
        validate_source("Hi {{ first_name }}, you gave {{ score }}", "survey_periodic")
    validate_source("Hi {{ first_name }}, you gave {{ score }}")  # fine for some key


def test_validate_source_allows_variables_the_template_sets_itself() -> None:
    validate_source(
        "{% set who = first_name | upper %}{% for c in 'ab' %}{{ c }}{% endfor %} {{ who }}"
    )


def test_validate_source_renders_the_branch_for_an_empty_optional_value() -> None:
    with pytest.raises(TemplateError, match="line 2"):
        validate_source("Hi {{ first_name }}\n{{ product.upper() }}", "survey_post_delivery")


def test_validate_source_rejects_text_that_renders_empty() -> None:
    with pytest.raises(TemplateError, match="empty"):
        validate_source("{% if channel == 'telegram' %}Tap below{% endif %}", "survey_periodic")


def test_validate_source_blocks_sandbox_escapes() -> None:
    with pytest.raises(UnsafeTemplate):
        validate_source("{{ ''.__class__.__mro__ }}", "help")


def test_validate_source_of_an_unknown_key_is_missing() -> None:
    with pytest.raises(TemplateMissing):
        validate_source("Hi", "no_such_message")


# ---------------------------------------------------------------- speed and location


def test_it_works_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files.load.cache_clear()
    assert "Aleksandra" in render("help", "uk", CONTEXT)


def test_templates_are_read_and_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    files.load.cache_clear()
    reads: list[str] = []
    loader = sandbox.environment.loader
    assert loader is not None
    original = loader.get_source
    monkeypatch.setattr(
        loader, "get_source", lambda env, name: reads.append(name) or original(env, name)
    )
    for _ in range(50):
        render("clarify", "th", CONTEXT)
    assert len(reads) <= 1
