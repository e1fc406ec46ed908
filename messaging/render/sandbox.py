"""The Jinja2 environment every message renders in: the immutable sandbox, with a budget.

Templates are plain text (no HTML escaping), read from templates/<lang>/<key>.txt
once per process; admin edits arrive as source text and go through the same sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from messaging.render import budget

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def _none_as_empty(value: object) -> object:
    # An optional value (rep_name, product) must never reach a customer as "None".
    return "" if value is None else value


class _Sandbox(ImmutableSandboxedEnvironment):
    """The stock sandbox, plus a budget per render (budget.py beside this).

    Every parsed template has its loops and `~` routed through the budget; every
    call, filter and `*`, `**`, `+`, `%` is checked before it can build a large text
    or number, so a template can neither eat the server's memory nor keep a core busy.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = budget.checked_filters(self.filters)
        self.filters[budget.LOOP_FILTER] = budget.budgeted_loop
        self.filters[budget.CONCAT_FILTER] = budget.budgeted_concat
        self.finalize = budget.finalize_budgeted(self.finalize or _none_as_empty)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return budget.instrument(super()._parse(source, name, filename))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        budget.spend()
        budget.check_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str):
            budget.check_length(len(result))
        return result

    def wrap_str_format(self, value: Any) -> Any:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in {"format", "format_map"}:
            budget.check_format_string(owner)
        return super().wrap_str_format(value)


environment = _Sandbox(
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
