"""Charts drawn on the server as inline SVG: no JavaScript, readable by screen readers.

Pure functions from numbers to an SVG string. Every text that reaches the SVG
(rep names come from CSV imports) is escaped here, so the result can be put in a
page as is. Each chart carries a <title> and a <desc> that say what it shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from models import KINDS

PROMOTER, PASSIVE, DETRACTOR = "#1a9850", "#f0b429", "#d73027"
AXIS, GRID, INK, MUTED = "#6b7280", "#e5e7eb", "#111827", "#6b7280"
# Okabe–Ito colours: told apart by people with the common colour-vision deficiencies.
KIND_COLOURS = {
    "post_delivery": "#0072B2",
    "periodic": "#009E73",
    "service": "#E69F00",
    "delay_notice": "#CC79A7",
    "recovery": "#56B4E9",
}
KIND_LABELS = {
    "post_delivery": "After delivery",
    "periodic": "Periodic",
    "service": "Service check",
    "delay_notice": "Delay notice",
    "recovery": "Recovery",
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True)
class TrendPoint:
    """One month of the NPS trend: `nps` is None when nobody answered that month."""

    label: str
    nps: float | None
    responses: int


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class StackRow:
    label: str
    values: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.values.values())


def nps_trend_svg(
    points: Sequence[TrendPoint],
    *,
    chart_id: str = "nps-trend",
    title: str = "NPS by month",
    per: str = "month",
) -> str:
    """Bars from the zero line, one per month (−100..+100), labelled with the NPS and the n."""
    width, height = 640, 270
    left, right, top, bottom = 44, 12, 16, 54
    plot_w, plot_h = width - left - right, height - top - bottom
    described = [f"{p.label}: {_nps_text(p.nps)} (n={p.responses})" for p in points]
    desc = "; ".join(described) if points else "No responses yet."
    parts = [_open(chart_id, width, height, title, f"Net Promoter Score per {per}. {desc}")]

    def y(value: float) -> float:
        return top + (100 - value) / 200 * plot_h

    for tick in (-100, -50, 0, 50, 100):
        colour, dash = (AXIS, "") if tick == 0 else (GRID, ' stroke-dasharray="3 3"')
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{colour}" stroke-width="1"{dash}/>'
        )
        parts.append(_text(left - 6, y(tick) + 4, f"{tick:+d}" if tick else "0", anchor="end"))
    if not points:
        parts.append(_text(left + plot_w / 2, top + plot_h / 2 - 10, "No responses yet", size=14))
    slot = plot_w / max(len(points), 1)
    bar = min(slot * 0.6, 48)
    previous_year = ""
    for index, point in enumerate(points):
        centre = left + slot * (index + 0.5)
        # "Jan 2026": the month under its bar, the year only where it changes, so labels never collide.
        month, _, year = point.label.partition(" ")
        parts.append(_text(centre, height - bottom + 16, month, colour=INK))
        parts.append(_text(centre, height - bottom + 30, f"n={point.responses}", size=11))
        if year and year != previous_year:
            parts.append(_text(centre, height - bottom + 45, year, size=11, weight="600"))
            previous_year = year
        if point.nps is None:
            parts.append(_text(centre, y(0) - 6, "–"))
            continue
        top_y, bottom_y = sorted((y(point.nps), y(0)))
        colour = PROMOTER if point.nps >= 0 else DETRACTOR
        parts.append(
            f'<rect x="{centre - bar / 2:.1f}" y="{top_y:.1f}" width="{bar:.1f}" '
            f'height="{max(bottom_y - top_y, 1):.1f}" rx="2" fill="{colour}">'
            f"<title>{escape(described[index])}</title></rect>"
        )
        label_y, ink = (top_y - 5, INK) if point.nps >= 0 else (bottom_y + 13, INK)
        if point.nps < -80:  # below the bar there is no room left: write on the bar
            label_y, ink = bottom_y - 6, "#fff"
        parts.append(_text(centre, label_y, _nps_text(point.nps), colour=ink, weight="600"))
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars_svg(
    rows: Sequence[StackRow],
    segments: Sequence[Segment],
    *,
    chart_id: str,
    title: str,
    desc: str,
    empty_text: str = "No data yet",
) -> str:
    """Horizontal 100 % bars, one per row, split into `segments`, with a legend and percentages."""
    width, row_h, legend_h = 640, 34, 30
    label_w = min(max((len(r.label) for r in rows), default=0) * 7 + 12, 180) if rows else 0
    left, right = label_w + 8, 60
    height = legend_h + max(len(rows), 1) * row_h + 8
    plot_w = width - left - right
    details = "; ".join(_row_desc(row, segments) for row in rows) or empty_text + "."
    parts = [_open(chart_id, width, height, title, f"{desc} {details}")]
    parts.append(_legend(segments, width))
    if not rows:
        parts.append(_text(width / 2, legend_h + row_h / 2 + 4, empty_text, size=14))
    for index, row in enumerate(rows):
        y = legend_h + index * row_h
        parts.append(_text(label_w, y + row_h / 2 + 1, _fit(row.label), anchor="end", colour=INK))
        parts.append(_text(width - right + 8, y + row_h / 2 + 1, f"n={row.total}", anchor="start"))
        x = float(left)
        for segment in segments:
            value = row.values.get(segment.key, 0)
            if not row.total or not value:
                continue
            share = value / row.total
            span = plot_w * share
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 6}" width="{span:.1f}" height="{row_h - 12}" '
                f'fill="{segment.colour}"><title>'
                f"{escape(f'{row.label}: {segment.label} {value} ({share:.0%})')}</title></rect>"
            )
            if span >= 34:
                parts.append(
                    _text(
                        x + span / 2, y + row_h / 2 + 1, f"{share:.0%}", colour="#fff", weight="600"
                    )
                )
            x += span
        if not row.total:
            parts.append(_text(left + plot_w / 2, y + row_h / 2 + 1, "none"))
    parts.append("</svg>")
    return "".join(parts)


def categories_svg(
    promoters: int, passives: int, detractors: int, *, chart_id: str = "nps-categories"
) -> str:
    """One bar: promoters, passives and detractors as shares of all responses."""
    total = promoters + passives + detractors
    rows = (
        [
            StackRow(
                "Responses",
                {"promoters": promoters, "passives": passives, "detractors": detractors},
            )
        ]
        if total
        else []
    )
    segments = [
        Segment("promoters", "Promoters (9–10)", PROMOTER),
        Segment("passives", "Passives (7–8)", PASSIVE),
        Segment("detractors", "Detractors (0–6)", DETRACTOR),
    ]
    return stacked_bars_svg(
        rows,
        segments,
        chart_id=chart_id,
        title="Promoters, passives and detractors",
        desc="Share of responses in each NPS category.",
        empty_text="No responses yet",
    )


def contact_mix_svg(
    rows: Sequence[tuple[str, Mapping[str, int]]], *, chart_id: str = "contact-mix"
) -> str:
    """One bar per rep (label, counts by kind): what kinds of contact their customers got."""
    segments = [Segment(kind, KIND_LABELS[kind], KIND_COLOURS[kind]) for kind in KINDS]
    return stacked_bars_svg(
        [StackRow(label, counts) for label, counts in rows],
        segments,
        chart_id=chart_id,
        title="Contact mix per rep",
        desc="Share of each kind of check-in sent to the customers of each rep.",
        empty_text="No check-ins sent yet",
    )


def score_distribution_svg(
    counts: Mapping[int, int], *, chart_id: str = "score-distribution"
) -> str:
    """Eleven columns, scores 0 to 10, coloured by NPS category, each labelled with its count."""
    width, height = 640, 220
    left, right, top, bottom = 12, 12, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    total = sum(counts.values())
    described = ", ".join(f"{score}: {counts.get(score, 0)}" for score in range(11))
    desc = f"How many answers gave each score (n={total}). {described}."
    parts = [_open(chart_id, width, height, "Score distribution, 0–10", desc)]
    tallest = max(counts.values(), default=0) or 1
    slot = plot_w / 11
    base = top + plot_h
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{AXIS}"/>'
    )
    for score in range(11):
        n = counts.get(score, 0)
        centre = left + slot * (score + 0.5)
        colour = PROMOTER if score >= 9 else PASSIVE if score >= 7 else DETRACTOR
        bar_h = plot_h * n / tallest
        if n:
            parts.append(
                f'<rect x="{centre - slot * 0.35:.1f}" y="{base - bar_h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{max(bar_h, 1):.1f}" rx="2" fill="{colour}">'
                f"<title>{escape(f'score {score}: {n}')}</title></rect>"
            )
        parts.append(_text(centre, base - bar_h - 5, str(n), colour=INK, weight="600"))
        parts.append(_text(centre, height - bottom + 18, str(score), colour=INK))
    if not total:
        parts.append(_text(width / 2, top + plot_h / 2, "No responses yet", size=14))
    parts.append("</svg>")
    return "".join(parts)


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> str:
    ident = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chart_id)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="chart" id="{ident}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family={quoteattr(FONT)}>'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(desc)}</desc>'
    )


def _legend(segments: Sequence[Segment], width: int) -> str:
    parts, x = ['<g class="legend">'], 8.0
    for segment in segments:
        parts.append(
            f'<rect x="{x:.1f}" y="8" width="12" height="12" rx="2" fill="{segment.colour}"/>'
        )
        parts.append(_text(x + 17, 18, segment.label, anchor="start", colour=INK))
        x += 17 + len(segment.label) * 6.6 + 18
        if x > width - 40:
            break
    parts.append("</g>")
    return "".join(parts)


def _row_desc(row: StackRow, segments: Sequence[Segment]) -> str:
    shares = ", ".join(
        f"{s.label} {row.values.get(s.key, 0)}" for s in segments if row.values.get(s.key, 0)
    )
    return f"{row.label} (n={row.total}): {shares or 'none'}"


def _fit(label: str, chars: int = 24) -> str:
    return label if len(label) <= chars else label[: chars - 1] + "…"


def _nps_text(value: float | None) -> str:
    if value is None:
        return "no answers"
    return f"{value:+.0f}" if round(value) else "0"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "middle",
    colour: str = MUTED,
    size: int = 12,
    weight: str = "400",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{colour}">{escape(content)}</text>'
    )
