"""What can go wrong with a template; each error names the template, language and line."""

from __future__ import annotations

import jinja2


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
