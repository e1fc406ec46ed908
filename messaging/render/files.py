"""Finding a template: by key and language, falling back to English, compiled once."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import jinja2

from messaging.render.errors import TemplateMissing, TemplateSyntax
from messaging.render.sandbox import TEMPLATES_DIR, environment
from models.states import Language, values

LANGUAGES = values(Language)
FALLBACK_LANGUAGE = "en"
_SUFFIX = ".txt"
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


def language_code(language: str | None) -> str:
    """'pl_PL', 'PL', 'pl-pl' -> 'pl'; an empty value means English."""
    code = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return code or FALLBACK_LANGUAGE


def _path(key: str, language: str) -> Path:
    return TEMPLATES_DIR / language / f"{key}{_SUFFIX}"


def _resolve_language(key: str, language: str | None) -> str:
    if not _KEY.match(key):
        raise TemplateMissing("no such template", key=key, language=language)
    code = language_code(language)
    for candidate in (code, FALLBACK_LANGUAGE):
        if _KEY.match(candidate) and _path(key, candidate).is_file():
            return candidate
    raise TemplateMissing("no such template", key=key, language=language)


@functools.lru_cache(maxsize=1024)
def load(key: str, language: str | None) -> tuple[jinja2.Template, str]:
    used = _resolve_language(key, language)
    try:
        return environment.get_template(f"{used}/{key}{_SUFFIX}"), used
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntax(
            error.message or "syntax error", key=key, language=used, lineno=error.lineno
        ) from None


@functools.lru_cache(maxsize=256)
def compile_source(source: str) -> jinja2.Template:
    try:
        return environment.from_string(source)
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
