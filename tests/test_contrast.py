"""Text and badges in the admin stylesheet meet WCAG's 4.5:1 contrast ratio.

The stylesheet is read as it ships (web/static/admin.css): custom properties are
resolved, every rule that sets a text colour is paired with the background it
is drawn on (its own, the rule it refines, or the surface it sits on: a card,
the page, the top bar), and the ratio is computed as WCAG 2 defines it. Pure
Python, no dependency.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[1] / "web" / "static" / "admin.css"
AA = 4.5

Colour = tuple[float, float, float, float]


def luminance(colour: Colour) -> float:
    """WCAG 2 relative luminance of an opaque sRGB colour (channels 0-255)."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = colour
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(ink: Colour, paper: Colour) -> float:
    ink = over(ink, paper)
    lighter, darker = sorted((luminance(ink), luminance(paper)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def over(top: Colour, below: Colour) -> Colour:
    """`top` drawn over the opaque `below` (alpha compositing)."""
    alpha = top[3]
    mixed = [alpha * t + (1 - alpha) * b for t, b in zip(top[:3], below[:3], strict=True)]
    return (mixed[0], mixed[1], mixed[2], 1.0)


def parse_colour(text: str) -> Colour | None:
    text = text.strip().lower().removesuffix("!important").strip()
    if text in ("#fff", "white"):
        return (255, 255, 255, 1.0)
    if match := re.fullmatch(r"#([0-9a-f]{3})", text):
        r, g, b = (int(c * 2, 16) for c in match[1])
        return (r, g, b, 1.0)
    if match := re.fullmatch(r"#([0-9a-f]{6})", text):
        h = match[1]
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0)
    if match := re.fullmatch(r"rgba?\(([^)]*)\)", text):
        parts = [float(part) for part in re.split(r"[,\s/]+", match[1].strip())]
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0)
    return None


def rules(css: str) -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every style rule, @media blocks flattened."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*\{", "", css)  # the inner rules stay; a stray "}" is skipped below
    found = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        declarations = {}
        for declaration in body.split(";"):
            if ":" in declaration:
                name, value = declaration.split(":", 1)
                declarations[name.strip()] = value.strip()
        for selector in selectors.split(","):
            if selector.strip():
                found.append((" ".join(selector.split()), declarations))
    return found


def resolve(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"var\((--[\w-]+)\)", lambda m: resolve(variables[m[1]], variables), value)


# Surfaces text sits on when its rule sets no background: by the selector's start.
TOPBAR = "#0f1b3d"
SURFACES = {
    ".topbar": TOPBAR,
    ".brand": TOPBAR,
    ".logout": TOPBAR,
    "button.link": TOPBAR,
    ".menu-button": TOPBAR,
    ".phone-head": "#1f2937",
}
# The dimmest text drawn on a surface, for a rule there that sets only a background.
SURFACE_INK = {TOPBAR: "#dbe4ff"}
# Shapes that hold no text of their own.
NOT_TEXT = (".dot", ".phone ")
# Where nothing else says: a card (white) or the page itself; both must pass.
DEFAULT_PAPERS = ("--card", "--bg")


def _colours_of(value: str) -> list[Colour]:
    """The solid colour of a background value, or every stop of a gradient."""
    found = [
        parse_colour(token)
        for token in re.findall(r"#[0-9a-fA-F]{3,6}\b|rgba?\([^)]*\)|\bwhite\b", value)
    ]
    return [colour for colour in found if colour is not None]


def pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background) for every rule that draws text with a colour."""
    found = rules(CSS.read_text(encoding="utf-8"))
    variables = {
        name: value for selector, body in found if selector == ":root" for name, value in body.items()
        if name.startswith("--")
    }  # fmt: skip
    by_selector: dict[str, dict[str, str]] = {}
    for selector, body in found:
        by_selector.setdefault(selector, {}).update(body)

    def inherited(selector: str, prop: str) -> str | None:
        # `.score.promoter` refines `.score`, `button.primary:hover` refines `button.primary`.
        current = selector
        while True:
            body = by_selector.get(current, {})
            for name in (prop, "background") if prop == "background-color" else (prop,):
                if name in body:
                    return resolve(body[name], variables)
            shorter = re.sub(r"(:[\w-]+(\([^)]*\))?|\.[\w-]+|\[[^\]]*\])$", "", current)
            if shorter == current or not shorter or shorter.endswith(" "):
                return None
            current = shorter

    def refined_with_a_background(selector: str) -> bool:
        # `.score` sets the ink, `.score.promoter` the paper: the pairs are checked there.
        return any(
            other.startswith(selector + ".")
            and ("background" in body or "background-color" in body)
            for other, body in by_selector.items()
        )

    result = []
    for selector in by_selector:
        if selector.startswith((":root", "@", "svg", *NOT_TEXT)) or selector in (
            ".phone",
            ".nav-toggle",
        ):
            continue
        ink = inherited(selector, "color")
        paper = inherited(selector, "background-color")
        if ink is None and paper is None:
            continue
        if paper is None and refined_with_a_background(selector):
            continue
        surface = next((colour for key, colour in SURFACES.items() if key in selector), None)
        if ink is None:
            ink = SURFACE_INK.get(surface or "", resolve("var(--ink)", variables))
        if ink.strip() in ("inherit", "currentColor", "transparent"):
            continue
        papers: list[str]
        if paper is not None and _colours_of(paper):
            papers = [paper]
        else:
            papers = (
                [surface]
                if surface
                else [resolve(f"var({name})", variables) for name in DEFAULT_PAPERS]
            )
        for each in papers:
            result.append((selector, ink, each))
    return result


def test_the_ratio_matches_wcags_examples() -> None:
    black, white = parse_colour("#000"), parse_colour("#fff")
    assert black is not None and white is not None
    assert ratio(black, white) == pytest.approx(21.0)
    assert ratio(white, white) == pytest.approx(1.0)
    grey = parse_colour("#767676")  # the lightest grey that passes on white
    assert grey is not None and ratio(grey, white) == pytest.approx(4.54, abs=0.01)


def test_the_stylesheet_is_read() -> None:
    selectors = {selector for selector, _, _ in pairs()}
    assert {".badge", ".badge.sla-overdue", ".score.detractor", ".muted", ".topbar a"} <= selectors


def test_text_and_badges_meet_4_5_to_1() -> None:
    failures = []
    for selector, ink_text, paper_text in pairs():
        inks = _colours_of(ink_text)
        for paper in _colours_of(paper_text):
            base = paper if paper[3] == 1 else over(paper, parse_colour(TOPBAR) or paper)
            for ink in inks:
                value = ratio(ink, base)
                if value < AA:
                    failures.append(f"{selector}: {ink_text} on {paper_text} is {value:.2f}:1")
    assert not failures, "\n".join(failures)


def test_no_text_is_faded_with_opacity() -> None:
    # Opacity lowers contrast behind the check's back; fade with a colour instead.
    faded = [
        selector
        for selector, body in rules(CSS.read_text(encoding="utf-8"))
        if "opacity" in body
        and float(body["opacity"]) < 1
        and selector != ".nav-toggle"  # the Menu checkbox, drawn as its label
    ]
    assert not faded
