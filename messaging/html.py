"""HTML layouts from templates/email/, in Jinja2's immutable sandbox with autoescape on.

Only layouts live there: the words in them are the message's own text, already
rendered from its template (in messaging/render's sandbox, with its budget), and
are escaped here like any other value. Layout files are not admin-editable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

LAYOUTS = Path(__file__).resolve().parent.parent / "templates" / "email"

_html = ImmutableSandboxedEnvironment(
    loader=jinja2.FileSystemLoader(LAYOUTS, encoding="utf-8"),
    undefined=jinja2.StrictUndefined,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def render_html(name: str, context: Mapping[str, object]) -> str:
    """templates/email/<name> rendered with `context`, every value escaped."""
    return _html.get_template(name).render(context)
