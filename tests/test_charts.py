"""web.admin.charts: valid SVG, the numbers visible, accessible names, and nothing unescaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from web.admin.charts import (
    KIND_COLOURS,
    TrendPoint,
    categories_svg,
    contact_mix_svg,
    nps_trend_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [node.text or "" for node in root.iter(f"{SVG}text")]


def accessible_name(root: ET.Element) -> tuple[str, str]:
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    labelled_by = root.get("aria-labelledby", "").split()
    assert labelled_by == [title.get("id"), desc.get("id")]
    assert root.get("role") == "img"
    return title.text or "", desc.text or ""


def test_the_trend_draws_one_bar_per_answered_month_with_its_nps_and_n() -> None:
    root = parse(
        nps_trend_svg(
            [
                TrendPoint("Jan 2026", 40.0, 10),
                TrendPoint("Feb 2026", None, 0),
                TrendPoint("Mar 2026", -25.0, 4),
            ]
        )
    )
    labels = texts(root)
    assert {"Jan", "Feb", "Mar", "n=10", "n=0", "n=4", "+40", "-25"} <= set(labels)
    assert labels.count("2026") == 1  # the year is written once, where it starts
    bars = [rect for rect in root.iter(f"{SVG}rect")]
    assert len(bars) == 2  # the month without answers has no bar
    assert bars[0].get("fill") != bars[1].get("fill")  # positive and negative differ
    title, desc = accessible_name(root)
    assert title == "NPS by month"
    assert "Jan 2026: +40 (n=10)" in desc and "Feb 2026: no answers (n=0)" in desc


def test_a_positive_bar_rises_from_zero_and_a_negative_one_falls() -> None:
    root = parse(nps_trend_svg([TrendPoint("A", 50.0, 2), TrendPoint("B", -50.0, 2)]))
    up, down = list(root.iter(f"{SVG}rect"))
    zero = next(
        float(line.get("y1", 0))
        for line in root.iter(f"{SVG}line")
        if line.get("stroke-dasharray") is None
    )
    assert float(up.get("y", 0)) + float(up.get("height", 0)) == zero
    assert float(down.get("y", 0)) == zero
    assert float(up.get("height", 0)) == float(down.get("height", 0))


def test_the_year_is_written_again_where_it_changes() -> None:
    root = parse(
        nps_trend_svg([TrendPoint("Dec 2025", 10.0, 1), TrendPoint("Jan 2026", -100.0, 1)])
    )
    labels = texts(root)
    assert labels.count("2025") == 1 and labels.count("2026") == 1
    assert "-100" in labels


def test_the_trend_without_data_says_so() -> None:
    root = parse(nps_trend_svg([]))
    assert "No responses yet" in texts(root)
    assert "No responses yet." in accessible_name(root)[1]


def test_categories_show_each_share() -> None:
    root = parse(categories_svg(6, 2, 2))
    assert {"60%", "20%", "n=10"} <= set(texts(root))
    title, desc = accessible_name(root)
    assert title == "Promoters, passives and detractors"
    assert "Promoters (9–10) 6" in desc and "Detractors (0–6) 2" in desc
    widths = [
        float(r.get("width", 0))
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None
    ]
    assert widths[0] == pytest.approx(3 * widths[1], abs=0.2)
    assert widths[1] == pytest.approx(widths[2])


def test_categories_without_responses_draw_an_empty_state() -> None:
    root = parse(categories_svg(0, 0, 0))
    assert "No responses yet" in texts(root)


def test_contact_mix_draws_a_bar_per_rep_coloured_by_kind() -> None:
    root = parse(
        contact_mix_svg(
            [
                ("Anna Kowalska", {"post_delivery": 3, "service": 1}),
                ("Ben Thompson", {"delay_notice": 2, "periodic": 2}),
            ]
        )
    )
    labels = texts(root)
    assert {"Anna Kowalska", "Ben Thompson", "75%", "25%", "50%", "n=4"} <= set(labels)
    assert {"After delivery", "Periodic", "Service check", "Delay notice", "Recovery"} <= set(
        labels
    )
    fills = {rect.get("fill") for rect in root.iter(f"{SVG}rect")}
    assert set(KIND_COLOURS.values()) <= fills  # the legend shows every kind
    tooltips = [node.text for node in root.iter(f"{SVG}title")]
    assert "Anna Kowalska: After delivery 3 (75%)" in tooltips


def test_chart_text_is_escaped() -> None:
    hostile = '<script>alert("x")</script> & Co'
    svg = contact_mix_svg([(hostile, {"service": 1})], chart_id='mix"><script>')
    root = parse(svg)  # still well-formed
    assert "<script>" not in svg
    assert root.find(f".//{SVG}script") is None
    assert any(hostile[:20] in text for text in texts(root))
    assert '"' not in (root.get("id") or "") and "<" not in (root.get("id") or "")


def test_long_labels_are_shortened_but_kept_in_the_description() -> None:
    name = "Maximilian Alexander von Schwarzenberg-Hohenlohe"
    root = parse(contact_mix_svg([(name, {"service": 1})]))
    assert any(text.endswith("…") for text in texts(root))
    assert name in accessible_name(root)[1]
