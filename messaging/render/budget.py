"""What one render may spend: a budget of steps, time and text, so no template can hog the server.

An admin can write any template. The sandbox stops it from reaching Python's
insides; this module stops it from spending the server: a nested loop, a huge
`'{:x>1000000}'.format(...)` or a string doubled thirty times. Every render gets
a budget (a ContextVar, so concurrent renders on threads or tasks each have
their own):

- steps: each loop turn and each call spends one;
- time: CPU time of the rendering thread (so a busy machine does not fail a
  good template), checked every 64 steps;
- text: every string a template builds is capped, and so is what it writes out
  (each loop turn spends its literal text, each `{{ }}` the length of what it prints).

Operations that can multiply text in one go (widths in formats, padding, replace,
join, `*`, `+`, `~`) are checked before they run, so nothing large is ever built.
Breaking the budget raises SecurityError, which the renderer reports as an unsafe
template: the editor refuses it, and at send time the message fails rather than goes.
"""

from __future__ import annotations

import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import SecurityError
from jinja2.visitor import NodeTransformer

MAX_STEPS = 20_000  # loop turns and calls in one render; real templates use a few dozen
MAX_SECONDS = 0.25  # of this thread's CPU; a survey renders in well under a millisecond
MAX_TEXT = 20_000  # characters in any one string a template builds, and in all it writes
MAX_EXPONENT_BITS = 4_096  # integers a template may compute (a score needs four bits)

LOOP_FILTER = "_budgeted_loop"
CONCAT_FILTER = "_budgeted_concat"


@dataclass
class _Budget:
    steps: int
    text: int
    deadline: float


_current: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


@contextmanager
def budget() -> Iterator[None]:
    """Give the renders inside a fresh budget."""
    token = _current.set(_Budget(MAX_STEPS, MAX_TEXT, time.thread_time() + MAX_SECONDS))
    try:
        yield
    finally:
        _current.reset(token)


def spend(steps: int = 1, text: int = 0) -> None:
    """Charge the render in progress; SecurityError when it runs out (nothing outside a render)."""
    current = _current.get()
    if current is None:
        return
    current.steps -= steps
    current.text -= text
    if current.steps < 0:
        raise SecurityError(f"the template takes more than {MAX_STEPS:,} steps")
    if current.text < 0:
        raise SecurityError(f"the template writes more than {MAX_TEXT:,} characters")
    if current.steps % 64 == 0 and time.thread_time() > current.deadline:
        raise SecurityError(f"the template takes longer than {MAX_SECONDS:g} s to render")


def check_length(length: int) -> None:
    if length > MAX_TEXT:
        raise SecurityError(f"the template builds a text longer than {MAX_TEXT:,} characters")


def _sized(value: object) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


# ---------------------------------------------------------------- the compiled template's hooks


def budgeted_loop(iterable: Iterable[Any], literal: int = 0) -> Iterator[Any]:
    """What every `{% for %}` iterates: the items, spending a step and the body's literal text each."""
    for item in iterable:
        spend(1, literal)
        yield item


def budgeted_concat(parts: list[Any]) -> str:
    """The `~` operator, checked before it joins."""
    texts = [str(part) for part in parts]
    check_length(sum(map(len, texts)))
    return "".join(texts)


class _Instrument(NodeTransformer):
    """Routes every loop and every `~` of a parsed template through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)  # in place: the nested loops first
        literal = sum(len(data.data) for data in _own_literals(node.body))
        node.iter = nodes.Filter(
            node.iter, LOOP_FILTER, [nodes.Const(literal)], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        parts = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(parts, CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


def instrument(tree: nodes.Template) -> nodes.Template:
    """The parsed template with its loops and `~` budgeted (the sandbox's parser calls this)."""
    instrumented: nodes.Template = _Instrument().visit(tree)
    return instrumented


def _own_literals(body: list[nodes.Node]) -> Iterator[nodes.TemplateData]:
    """The literal text a loop body writes per turn, leaving out nested loops (they pay their own)."""
    for node in body:
        if isinstance(node, nodes.TemplateData):
            yield node
        elif not isinstance(node, nodes.For):
            yield from _own_literals(list(node.iter_child_nodes()))


def finalize_budgeted(finalize: Callable[[object], object]) -> Callable[[object], object]:
    """Each `{{ }}` spends the length of what it prints."""

    def printed(value: object) -> object:
        value = finalize(value)
        spend(0, len(value) if isinstance(value, str) else len(str(value)))
        return value

    return printed


# ---------------------------------------------------------------- operations that multiply text

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*|\*)(?:\.(\d+|\*))?")
_DIGITS = re.compile(r"\d+")


def check_format_string(template: str) -> None:
    """Refuse `'{:x>1000000}'` and `'%1000000s'` before formatting: a width is text to build.

    Widths taken from the arguments (`'{:{}}'`, `'%*s'`) are refused outright: no
    message needs them, and the number would only be known too late.
    """
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(template)]
    except ValueError:
        specs = []
    if any("{" in spec for spec in specs):
        raise SecurityError("a format takes its width from an argument")
    numbers = [n for spec in specs for n in _DIGITS.findall(spec)]
    numbers += [n for match in _PERCENT_SPEC.findall(template) for n in match if n]
    if "*" in numbers:
        raise SecurityError("a format takes its width from an argument")
    if any(int(number) > MAX_TEXT for number in numbers):
        raise SecurityError(f"a width or precision over {MAX_TEXT:,} in a format")


def _check_replace(text: object, old: object, new: object, count: object = -1) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        hits = (len(text) + 1) if not old else text.count(old)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        check_length(len(text) + hits * max(0, len(new) - len(old)))


def _check_join(separator: object, items: list[Any]) -> None:
    check_length(len(str(separator)) * len(items) + sum(len(str(item)) for item in items))


def _check_width(width: object) -> None:
    if isinstance(width, int) and width > MAX_TEXT:
        raise SecurityError(f"a width over {MAX_TEXT:,}")


def check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Before a method call from a template: padding, replace and join of `str` cannot blow up."""
    owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in {"center", "ljust", "rjust", "zfill"} and args:
        _check_width(args[0])
    elif name == "expandtabs":
        _check_width((args[0] if args else kwargs.get("tabsize", 8)) * max(1, owner.count("\t")))
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, *args[:3])
    elif name == "join" and args:
        if not isinstance(args[0], list | tuple | str):
            raise SecurityError("str.join takes a list in a template")
        _check_join(owner, list(args[0]))


def check_binop(operator: str, left: Any, right: Any) -> None:
    """`*`, `**`, `+` and `%` may not build a text or number the budget does not allow."""
    if operator == "*":
        both_ints = isinstance(left, int) and isinstance(right, int)
        if both_ints and left.bit_length() + right.bit_length() > MAX_EXPONENT_BITS:
            raise SecurityError("a number too large to compute")
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                check_length(len(seq) * times)
    elif operator == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and (abs(right) > 100 or max(1, left.bit_length()) * abs(right) > MAX_EXPONENT_BITS)
        ):
            raise SecurityError("a number too large to compute")
    elif operator == "+":
        check_length(_sized(left) + _sized(right))
    elif operator == "%" and isinstance(left, str):
        check_format_string(left)


# ---------------------------------------------------------------- filters


def _checked_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter, its size-changing arguments checked first and its result after."""

    @functools.wraps(function)
    def filtered(*args: Any, **kwargs: Any) -> Any:
        spend()
        # pass_environment / pass_eval_context filters get that first; the value follows.
        at = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
        value, rest = (args[at], args[at + 1 :]) if len(args) > at else (None, ())
        if name == "center":
            _check_width(rest[0] if rest else kwargs.get("width", 80))
        elif name == "indent":
            width = rest[0] if rest else kwargs.get("width", 4)
            lines = str(value).count("\n") + 1
            check_length(
                len(str(value)) + lines * (width if isinstance(width, int) else len(str(width)))
            )
        elif name == "replace" and len(rest) >= 2:
            _check_replace(str(value), *rest[:3])
        elif name == "format" and isinstance(value, str):
            check_format_string(value)
        elif name == "join" and value is not None:
            items = list(value)
            _check_join(rest[0] if rest else kwargs.get("d", ""), items)
            args = (*args[:at], items, *rest)
        result = function(*args, **kwargs)
        if isinstance(result, str):
            check_length(len(result))
        return result

    return filtered


def checked_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    return {name: _checked_filter(name, function) for name, function in filters.items()}
