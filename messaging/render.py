"""The one place message text is made: sandboxed Jinja2 templates from templates/<lang>/<key>.txt.

Templates are plain text (no HTML escaping), compiled once and cached. Admin-edited
bodies go through the same sandbox and the same clean-up, so a pasted no-break
space cannot turn a GSM-7 SMS into a twice-as-expensive UCS-2 one.
"""

from __future__ import annotations

import contextlib
import functools
import re
import types
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from babel.core import UnknownLocaleError
from babel.dates import format_date
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from messaging import template_budget

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("en", "pl", "uk", "ru", "th")
FALLBACK_LANGUAGE = "en"
_SUFFIX = ".txt"
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


class TemplateError(jinja2.TemplateError):
    """A template could not be found, compiled or rendered; the message says which and where."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        language: str | None = None,
        lineno: int | None = None,
    ) -> None:
        where = []
        if key is not None:
            where.append(f"template {key!r}" + (f" ({language})" if language else ""))
        if lineno is not None:
            where.append(f"line {lineno}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.reason, self.key, self.language, self.lineno = message, key, language, lineno


class TemplateMissing(TemplateError, LookupError):
    """No template with that key exists, in the language asked for or in English."""


class TemplateSyntax(TemplateError):
    """The template text is not valid Jinja2."""


class UnknownVariable(TemplateError):
    """The template uses a variable its context does not provide."""


class UnsafeTemplate(TemplateError):
    """The sandbox refused something the template tried (e.g. reaching `__class__`)."""


def _none_as_empty(value: object) -> object:
    # An optional value (rep_name, product) must never reach a customer as "None".
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    """The stock sandbox, plus a budget per render (messaging/template_budget.py).

    Every parsed template has its loops and `~` routed through the budget; every
    call, filter and `*`, `**`, `+`, `%` is checked before it can build a large text
    or number, so a template can neither eat the server's memory nor keep a core busy.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = template_budget.checked_filters(self.filters)
        self.filters[template_budget.LOOP_FILTER] = template_budget.budgeted_loop
        self.filters[template_budget.CONCAT_FILTER] = template_budget.budgeted_concat
        self.finalize = template_budget.finalize_budgeted(self.finalize or _none_as_empty)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return template_budget.instrument(super()._parse(source, name, filename))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        template_budget.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        template_budget.spend()
        template_budget.check_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str):
            template_budget.check_length(len(result))
        return result

    def wrap_str_format(self, value: Any) -> Any:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in {"format", "format_map"}:
            template_budget.check_format_string(owner)
        return super().wrap_str_format(value)


_env = _Sandbox(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR, encoding="utf-8"),
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    # Files are read once per process; admin edits arrive as `source`, not as files.
    auto_reload=False,
    finalize=_none_as_empty,
)


# ---------------------------------------------------------------- sample contexts

_COMMON: dict[str, object] = {
    # The sizes the English surveys are budgeted for (one 160-character SMS):
    # a 10-character first name, a 15-character business, a 20-character product.
    "first_name": "Aleksandra",
    "name": "Aleksandra Nowak",
    "business_name": "Northwind Motor",
    "channel": "sms",
}
_SAMPLE_DATE = date(2025, 9, 30)  # the longest English month name
_PRODUCT: dict[str, object] = {"product": "Toyota Corolla Cross"}
_REVIEW: dict[str, object] = {
    "review_url": "https://g.page/r/northwind-motor/review",
    "referral_url": "https://northwind.example/refer",
}
_REP: dict[str, object] = {"first_name": "Marta", "name": "Marta Lopez"}
_ESCALATION: dict[str, object] = {
    "customer_name": "Aleksandra Nowak",
    "customer_phone": "+48601234567",
    "language": "pl",
    "product": "Toyota Corolla Cross",
    "score": 3,
    "comment": "The car went back to the garage twice in one month.",
    "recent": [
        "Bot: How likely are you to recommend Northwind Motor to a friend or colleague?",
        "Aleksandra: 3. The car went back to the garage twice in one month.",
    ],
    "sla_minutes": 120,
    "escalation_id": 42,
    "channel_for_commands": "telegram",
}

_SAMPLES: dict[str, dict[str, object]] = {
    "survey_post_delivery": _PRODUCT,
    "survey_periodic": {},
    "survey_service": _PRODUCT,
    "survey_recovery": _PRODUCT,
    "reminder": {},
    "delay_notice": {**_PRODUCT, "promised_date": format_date(_SAMPLE_DATE, "long", locale="en")},
    "followup_detractor": {"score": 3},
    "followup_passive": {"score": 7},
    "followup_promoter": {"score": 10, **_REVIEW},
    "review_invite": _REVIEW,
    "thanks_comment": {},
    "clarify": {},
    "opt_out_confirmation": {},
    "opt_in_confirmation": {},
    "help": {},
    "unknown_sender": {},
    "telegram_greeting": {"channel": "telegram"},
    "forwarded_to_rep": {"rep_name": "Marta Lopez"},
    "rep_alert": {**_REP, **_ESCALATION},
    "manager_alert": {
        **_REP,
        "first_name": "Joanna",
        "name": "Joanna Wright",
        **_ESCALATION,
        "rep_name": "Marta Lopez",
    },
    "rep_needs_answer": {
        **_REP,
        "customer_name": "Aleksandra Nowak",
        "customer_phone": "+48601234567",
        "body": "Can someone call me after 5 pm?",
        "escalation_id": 42,
        "channel_for_commands": "sms",
        "sla_minutes": 120,
    },
}

SAMPLE_CONTEXT: Mapping[str, Mapping[str, object]] = types.MappingProxyType(
    {key: types.MappingProxyType({**_COMMON, **extra}) for key, extra in _SAMPLES.items()}
)
"""For each key, a full context of realistic values: for previews and for validate_source()."""


def sample_context(key: str, language: str) -> dict[str, object]:
    """SAMPLE_CONTEXT[key], with the promised date written as `language` writes it (for previews)."""
    if key not in SAMPLE_CONTEXT:
        raise TemplateMissing("no such template", key=key, language=language)
    context = dict(SAMPLE_CONTEXT[key])
    if "promised_date" in context:
        with contextlib.suppress(UnknownLocaleError, ValueError):  # else keep the English date
            context["promised_date"] = format_date(
                _SAMPLE_DATE, "long", locale=_language_code(language)
            )
    return context


# Values a caller may legitimately pass as empty; validation renders those branches too.
_MAY_BE_EMPTY: dict[str, object] = {
    "product": None,
    "review_url": "",
    "referral_url": "",
    "rep_name": None,
    "comment": "",
    "recent": [],
}


# ---------------------------------------------------------------- finding and compiling


def _language_code(language: str | None) -> str:
    """'pl_PL', 'PL', 'pl-pl' -> 'pl'; an empty value means English."""
    code = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code or FALLBACK_LANGUAGE


def _path(key: str, language: str) -> Path:
    return TEMPLATES_DIR / language / f"{key}{_SUFFIX}"


def _resolve_language(key: str, language: str | None) -> str:
    if not _KEY.match(key):
        raise TemplateMissing("no such template", key=key, language=language)
    code = _language_code(language)
    for candidate in (code, FALLBACK_LANGUAGE):
        if _KEY.match(candidate) and _path(key, candidate).is_file():
            return candidate
    raise TemplateMissing("no such template", key=key, language=language)


@functools.lru_cache(maxsize=1024)
def _load(key: str, language: str | None) -> tuple[jinja2.Template, str]:
    used = _resolve_language(key, language)
    try:
        return _env.get_template(f"{used}/{key}{_SUFFIX}"), used
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntax(
            error.message or "syntax error", key=key, language=used, lineno=error.lineno
        ) from None


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> jinja2.Template:
    try:
        return _env.from_string(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntax(error.message or "syntax error", lineno=error.lineno) from None


def available_keys() -> tuple[str, ...]:
    """Every message key, in alphabetical order (English has them all)."""
    return tuple(
        sorted(path.stem for path in (TEMPLATES_DIR / FALLBACK_LANGUAGE).glob(f"*{_SUFFIX}"))
    )


def template_source(key: str, language: str) -> tuple[str, str]:
    """The file text for `key` and the language actually used (English when the language lacks it)."""
    used = _resolve_language(key, language)
    return _path(key, used).read_text(encoding="utf-8"), used


# ---------------------------------------------------------------- rendering

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


def render(
    key: str, language: str, context: Mapping[str, object], *, source: str | None = None
) -> str:
    """The cleaned text of `key` in `language` (English if missing), or of `source` when given.

    Raises TemplateMissing for an unknown key and another TemplateError for a syntax
    error, a variable the context lacks, or anything the sandbox refuses.
    """
    if source is None:
        template, used = _load(key, language)
    else:
        template, used = _compile_for(key, language, source), _language_code(language)
    text = clean_text(_run(template, context, key=key, language=used))
    if not text:
        raise TemplateError("renders to empty text", key=key, language=used)
    _check_fits(text, str(context.get("channel", "")), key=key, language=used)
    return text


def _check_fits(text: str, channel: str, *, key: str | None, language: str | None) -> None:
    """A text longer than its channel carries in one message is an error, never sent cut off."""
    limit = template_budget.CHANNEL_LIMITS.get(channel)
    if limit is not None and len(text) > limit:
        raise TemplateError(
            f"renders to {len(text):,} characters; one {channel} message holds at most {limit:,}",
            key=key,
            language=language,
        )


def _compile_for(key: str, language: str, source: str) -> jinja2.Template:
    try:
        return _compile(source)
    except TemplateSyntax as error:
        raise TemplateSyntax(
            error.reason, key=key, language=language, lineno=error.lineno
        ) from None


def _run(
    template: jinja2.Template, context: Mapping[str, Any], *, key: str | None, language: str | None
) -> str:
    try:
        with template_budget.budget():
            return template.render(context)
    except jinja2.UndefinedError as error:
        message = error.message or "undefined value"
        raise UnknownVariable(
            message, key=key, language=language, lineno=_line(error, template)
        ) from None
    except SecurityError as error:
        raise UnsafeTemplate(
            str(error), key=key, language=language, lineno=_line(error, template)
        ) from None
    except TemplateError:
        raise
    except RecursionError:
        raise UnsafeTemplate(
            "the template calls itself too deeply", key=key, language=language
        ) from None
    except Exception as error:  # noqa: BLE001 - an admin's template may raise anything; say where.
        message = f"{type(error).__name__}: {error}"
        raise TemplateError(
            message, key=key, language=language, lineno=_line(error, template)
        ) from None


def _line(error: BaseException, template: jinja2.Template) -> int | None:
    """The template line the error came from (Jinja2 rewrites tracebacks to template lines)."""
    filename = template.filename or "<template>"
    lineno = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


# ---------------------------------------------------------------- validating admin edits


def validate_source(source: str, key: str | None = None) -> None:
    """Raise a TemplateError naming the problem and line if `source` cannot be used as `key`.

    Checks syntax, variables outside the key's context (any key's when `key` is None),
    and renders against the sample context, with and without its optional values and
    on every channel, so a broken branch is caught before a customer sees it.
    """
    if key is not None and key not in SAMPLE_CONTEXT:
        raise TemplateMissing("no such template", key=key)
    try:
        tree = _env.parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntax(error.message or "syntax error", lineno=error.lineno) from None
    if key is not None:
        sample = dict(SAMPLE_CONTEXT[key])
    else:
        sample = {name: v for each in SAMPLE_CONTEXT.values() for name, v in each.items()}
    unknown = meta.find_undeclared_variables(tree) - set(_env.globals) - set(sample)
    if unknown:
        lineno = min(n.lineno for n in tree.find_all(nodes.Name) if n.name in unknown)
        noun = "variable" if len(unknown) == 1 else "variables"
        raise UnknownVariable(
            f"unknown {noun} {', '.join(sorted(unknown))} (available: {', '.join(sorted(sample))})",
            lineno=lineno,
        )
    template = _compile(source)
    empty = {**sample, **{name: v for name, v in _MAY_BE_EMPTY.items() if name in sample}}
    for context in (sample, empty):
        for channel in ("sms", "telegram", "console"):
            text = clean_text(
                _run(template, {**context, "channel": channel}, key=None, language=None)
            )
            if not text:
                raise TemplateError(f"renders to empty text on the {channel} channel")
            _check_fits(text, channel, key=None, language=None)
