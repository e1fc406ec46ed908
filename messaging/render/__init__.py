"""The one place message text is made: sandboxed Jinja2 templates from templates/<lang>/<key>.txt.

- `files`: finding a template by key and language (English as the fallback);
- `sandbox` and `budget`: the environment it renders in, and what a render may spend;
- `samples`: realistic values for previews and for checking admin edits;
- `text`: the clean-up every text gets;
- `versions`: admin-edited versions, in force over the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SecurityError

from messaging.channels import registry
from messaging.render import budget
from messaging.render.errors import (
    TemplateError,
    TemplateMissing,
    TemplateSyntax,
    UnknownVariable,
    UnsafeTemplate,
)
from messaging.render.files import (
    FALLBACK_LANGUAGE,
    LANGUAGES,
    available_keys,
    compile_source,
    language_code,
    load,
    template_source,
)
from messaging.render.samples import MAY_BE_EMPTY, SAMPLE_CONTEXT, sample_context
from messaging.render.sandbox import TEMPLATES_DIR, environment
from messaging.render.text import clean_text

__all__ = [
    "FALLBACK_LANGUAGE",
    "LANGUAGES",
    "SAMPLE_CONTEXT",
    "TEMPLATES_DIR",
    "TemplateError",
    "TemplateMissing",
    "TemplateSyntax",
    "UnknownVariable",
    "UnsafeTemplate",
    "available_keys",
    "clean_text",
    "render",
    "sample_context",
    "template_source",
    "validate_source",
]


def render(
    key: str, language: str, context: Mapping[str, object], *, source: str | None = None
) -> str:
    """The cleaned text of `key` in `language` (English if missing), or of `source` when given.

    Raises TemplateMissing for an unknown key and another TemplateError for a syntax
    error, a variable the context lacks, or anything the sandbox refuses.
    """
    if source is None:
        template, used = load(key, language)
    else:
        template, used = _compile_for(key, language, source), language_code(language)
    text = clean_text(_run(template, context, key=key, language=used))
    if not text:
        raise TemplateError("renders to empty text", key=key, language=used)
    _check_fits(text, str(context.get("channel", "")), key=key, language=used)
    return text


def _check_fits(text: str, channel: str, *, key: str | None, language: str | None) -> None:
    """A text longer than its channel carries in one message is an error, never sent cut off."""
    limit = registry.max_length(channel)
    if limit is not None and len(text) > limit:
        raise TemplateError(
            f"renders to {len(text):,} characters; one {channel} message holds at most {limit:,}",
            key=key,
            language=language,
        )


def _compile_for(key: str, language: str, source: str) -> jinja2.Template:
    try:
        return compile_source(source)
    except TemplateSyntax as error:
        raise TemplateSyntax(
            error.reason, key=key, language=language, lineno=error.lineno
        ) from None


def _run(
    template: jinja2.Template, context: Mapping[str, Any], *, key: str | None, language: str | None
) -> str:
    try:
        with budget.budget():
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
        tree = environment.parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntax(error.message or "syntax error", lineno=error.lineno) from None
    if key is not None:
        sample = dict(SAMPLE_CONTEXT[key])
    else:
        sample = {name: v for each in SAMPLE_CONTEXT.values() for name, v in each.items()}
    unknown = meta.find_undeclared_variables(tree) - set(environment.globals) - set(sample)
    if unknown:
        lineno = min(n.lineno for n in tree.find_all(nodes.Name) if n.name in unknown)
        noun = "variable" if len(unknown) == 1 else "variables"
        raise UnknownVariable(
            f"unknown {noun} {', '.join(sorted(unknown))} (available: {', '.join(sorted(sample))})",
            lineno=lineno,
        )
    template = compile_source(source)
    empty = {**sample, **{name: v for name, v in MAY_BE_EMPTY.items() if name in sample}}
    for context in (sample, empty):
        for channel in (*registry.CHANNELS, "console"):
            text = clean_text(
                _run(template, {**context, "channel": channel}, key=None, language=None)
            )
            if not text:
                raise TemplateError(f"renders to empty text on the {channel} channel")
            _check_fits(text, channel, key=None, language=None)
