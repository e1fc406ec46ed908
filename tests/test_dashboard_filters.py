"""The dashboard's filters in the reports layer (reports.filters, .breakdown, .themes), on SQLite
and PostgreSQL: each filter narrows every figure, and a rep never sees past accounts.scope."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from accounts.scope import Viewer
from models import CheckIn, Customer, Purchase, Rep, Response
from models.states import NpsCategory
from reports.breakdown import choices, nps_trend, recent_answers, score_distribution
from reports.filters import DashboardFilter, parse_date
from reports.mix import contact_mix
from reports.nps import nps_report
from reports.themes import detractor_themes, words_of
from tests.conftest import at

NOW = at("2026-05-20 12:00")
ALL = (None, None)


def answer(
    session: Session, customer: Customer, score: int, comment: str, when: Any, *,
    kind: str = "post_delivery", channel: str = "sms", purchase: Purchase | None = None,
) -> Response:  # fmt: skip
    checkin = CheckIn(customer_id=customer.id, kind=kind, dedupe_key=f"k{when}{score}{comment}",
                      due_at=when, status="answered", sent_at=when, channel=channel,
                      purchase_id=purchase.id if purchase else None)  # fmt: skip
    session.add(checkin)
    session.flush()
    response = Response(checkin_id=checkin.id, customer_id=customer.id, score=score,
                        category=NpsCategory.of(score), comment=comment, channel=channel,
                        received_at=when)  # fmt: skip
    session.add(response)
    session.flush()
    return response


@pytest.fixture
def shop(session: Session, cast: dict[str, Any]) -> dict[str, Any]:
    """Anna's customers (en, pl, th) and Ben's (ru, uk), with cars and parts."""
    ben = Rep(external_id="rep-2", name="Ben Thompson", phone="+14155550199")
    session.add(ben)
    session.flush()
    for language in ("ru", "uk"):
        cast[language].rep = ben
    car = Purchase(external_id="o1", customer=cast["en"], product="Skoda Octavia", category="car")
    parts = Purchase(external_id="o2", customer=cast["ru"], product="Brake pads", category="parts")
    session.add_all([car, parts])
    session.flush()
    answer(session, cast["en"], 10, "great car", at("2026-05-18 10:00"), purchase=car)
    answer(session, cast["en"], 3, "The delivery was late, very late", at("2026-04-02 10:00"),
           purchase=car)  # fmt: skip
    answer(session, cast["pl"], 9, "", at("2026-05-19 10:00"), kind="periodic", channel="telegram")
    answer(session, cast["th"], 2, "รถส่งช้ามากค่ะ รอนาน", at("2026-05-10 10:00"))
    answer(session, cast["ru"], 4, "Доставка долгая, доставка!", at("2026-05-15 10:00"),
           purchase=parts)  # fmt: skip
    answer(session, cast["uk"], 8, "", at("2025-12-30 10:00"), kind="service")
    session.commit()
    return {"anna": cast["rep"], "ben": ben}


def test_periods_resolve_to_windows_in_the_business_zone() -> None:
    assert DashboardFilter(period="7").window(NOW) == (NOW - timedelta(days=7), None)
    assert DashboardFilter(period="quarter").window(NOW) == (at("2026-04-01 00:00"), None)
    assert DashboardFilter(period="year").window(NOW) == (at("2026-01-01 00:00"), None)
    assert DashboardFilter().window(NOW) == (None, None)
    custom = DashboardFilter(period="custom", start=date(2026, 5, 1), end=date(2026, 5, 10))
    assert custom.window(NOW) == (at("2026-05-01 00:00"), at("2026-05-11 00:00"))
    warsaw = DashboardFilter(period="quarter", zone="Europe/Warsaw").window(NOW)[0]
    assert warsaw == at("2026-03-31 22:00")  # midnight on 1 April in Warsaw
    with pytest.raises(ValueError, match="period 'fortnight' is not one of"):
        DashboardFilter(period="fortnight")
    with pytest.raises(ValueError, match="is after to"):
        DashboardFilter(period="custom", start=date(2026, 5, 2), end=date(2026, 5, 1))
    with pytest.raises(ValueError, match="from '2026-13-01' is not a date"):
        parse_date("2026-13-01", "from")


@pytest.mark.parametrize(
    ("filters", "responses"),
    [
        (DashboardFilter(), 6),
        (DashboardFilter(rep="rep-1"), 4),
        (DashboardFilter(rep="rep-2"), 2),
        (DashboardFilter(product="Skoda Octavia"), 2),
        (DashboardFilter(category="parts"), 1),
        (DashboardFilter(kind="periodic"), 1),
        (DashboardFilter(channel="telegram"), 1),
        (DashboardFilter(language="th"), 1),
        (DashboardFilter(rep="rep-1", language="ru"), 0),
    ],
)
def test_each_filter_narrows_the_nps_and_what_follows(
    session: Session, shop: dict[str, Any], filters: DashboardFilter, responses: int
) -> None:
    report = nps_report(session, filters=filters)
    assert report.overall.responses == responses
    assert (
        sum(score_distribution(session, filters, ALL, Viewer("x", "admin")).values()) == responses
    )
    assert len(recent_answers(session, filters, ALL, Viewer("x", "admin"), 50)) == responses
    by_rep = nps_report(session, by="rep", filters=filters).groups
    assert sum(group.figures.responses for group in by_rep) == responses


def test_the_numbers_under_one_rep(session: Session, shop: dict[str, Any]) -> None:
    anna = DashboardFilter(rep="rep-1")
    report = nps_report(session, by="language", filters=anna)
    assert {g.key: g.figures.nps for g in report.groups} == {"en": 0.0, "pl": 100.0, "th": -100.0}
    assert (
        report.overall.margin_of_error is None and report.overall.margin_note == "too few answers"
    )
    assert nps_report(session, by="rep", filters=anna).groups[0].shown == "Anna Kowalska"
    distribution = score_distribution(session, anna, ALL, Viewer("x", "admin"))
    assert [distribution[s] for s in (2, 3, 9, 10)] == [1, 1, 1, 1] and distribution[4] == 0
    [mix] = contact_mix(session, by="rep", filters=anna)
    assert mix.label == "Anna Kowalska" and mix.counts["post_delivery"] == 3
    assert contact_mix(session, by=None, filters=DashboardFilter(channel="telegram"))[0].total == 1


def test_a_rep_asking_for_another_reps_numbers_gets_nothing(
    session: Session, shop: dict[str, Any]
) -> None:
    anna = Viewer("anna", "rep", shop["anna"].id)
    bens = DashboardFilter(rep="rep-2")
    assert nps_report(session, viewer=anna, filters=bens).overall.responses == 0
    assert sum(score_distribution(session, bens, ALL, anna).values()) == 0
    assert detractor_themes(session, bens, ALL, anna) == []
    assert contact_mix(session, by="rep", viewer=anna, filters=bens) == []
    assert [rep for rep, _ in choices(session, anna).reps] == ["rep-1"]
    assert "ru" not in choices(session, anna).languages


def test_the_trend_by_week_and_by_month_follows_the_filters(
    session: Session, shop: dict[str, Any]
) -> None:
    admin = Viewer("x", "admin")
    window = DashboardFilter(period="quarter").window(NOW)
    months = nps_trend(session, DashboardFilter(), window, admin, NOW, "month")
    assert [(b.key, b.figures.responses) for b in months] == [("2026-04", 1), ("2026-05", 4)]
    weeks = nps_trend(session, DashboardFilter(language="en"), window, admin, NOW, "week")
    assert weeks[0].key == "2026-03-30" and weeks[-1].key == "2026-05-18"  # Mondays
    assert {b.key: b.figures.nps for b in weeks if b.figures.responses} == {
        "2026-03-30": -100.0,
        "2026-05-18": 100.0,
    }
    open_ended = nps_trend(session, DashboardFilter(), ALL, admin, NOW, "month")
    assert len(open_ended) == 12 and open_ended[-1].key == "2026-05"
    assert open_ended[0].figures.responses == 0 and open_ended[6].key == "2025-12"
    assert open_ended[6].figures.responses == 1
    with pytest.raises(ValueError, match="trend 'day'"):
        nps_trend(session, DashboardFilter(), ALL, admin, NOW, "day")


def test_detractors_words_per_language_computed_here(
    session: Session, shop: dict[str, Any]
) -> None:
    found = detractor_themes(session, DashboardFilter(), ALL, Viewer("x", "admin"))
    words = {theme.language: dict(theme.words) for theme in found}
    assert words["en"] == {"delivery": 1, "late": 2}  # "the", "was", "very" are stop words
    assert words["ru"] == {"доставка": 2, "долгая": 1}
    assert words["th"] == {"รถ": 1, "ส่ง": 1, "ช้า": 1, "รอ": 1, "นาน": 1}  # มาก, ค่ะ dropped
    in_may = DashboardFilter(period="custom", start=date(2026, 5, 1), end=date(2026, 5, 31))
    may = detractor_themes(session, in_may, in_may.window(NOW), Viewer("x", "admin"))
    assert [theme.language for theme in may] == ["ru", "th"]


def test_words_are_split_by_unicode_rules() -> None:
    assert words_of("Bardzo DŁUGO czekałem, długo!", "pl") == ["długo", "czekałem", "długo"]
    assert words_of("Olena: чекала 3 тижні", "uk") == ["olena", "чекала", "тижні"]
    assert words_of("ช่างไม่สุภาพ", "th") == ["ช่าง", "ไม่สุภาพ"]


def test_the_dashboard_reads_its_filters_from_the_url(
    as_user: Any,  # noqa: F811 - the fixture imported below
    world: World,  # noqa: F811
) -> None:
    boss, anna = as_user("boss"), as_user("anna")
    everyone = boss.get("/admin/").text
    assert "unhappy customer of rep-2" in everyone and "Ben Thompson" in everyone
    only_ben = boss.get("/admin/", params={"rep": "rep-2", "trend": "week"}).text
    assert "unhappy customer of rep-2" in only_ben and "unhappy customer of rep-1" not in only_ben
    assert "NPS by week" in only_ben and 'name="rep" value="rep-2"' in only_ben  # the CSV form
    # Anna asking for Ben's numbers sees nothing of his, and her own are filtered out too.
    sneaky = anna.get("/admin/", params={"rep": "rep-2"}).text
    assert "unhappy customer of rep-2" not in sneaky and "Ben Thompson" not in sneaky
    assert "unhappy customer of rep-1" not in sneaky
    for params, message in (
        ({"period": "fortnight"}, "period 'fortnight' is not one of"),
        ({"period": "custom", "from": "2026-02-30"}, "from '2026-02-30' is not a date"),
        ({"trend": "day"}, "trend 'day' is not week or month"),
    ):
        answer = boss.get("/admin/", params=params)
        assert answer.status_code == 400 and message in answer.text


def test_the_escalations_tile_follows_the_filters_but_not_the_period(
    session: Session,
    world: World,  # noqa: F811
) -> None:
    from accounts.scope import EVERYONE
    from clock import utcnow
    from web.admin.lookups import escalation_counts

    def open_ones(**wanted: Any) -> int:
        return escalation_counts(
            session, utcnow(), viewer=EVERYONE, filters=DashboardFilter(**wanted)
        ).open

    assert open_ones() == 3 and open_ones(period="7") == 3
    assert open_ones(rep="rep-2") == 1 and open_ones(rep="nobody") == 0
    assert open_ones(language="en", kind="post_delivery", channel="sms") == 3
    assert open_ones(language="pl") == 0 and open_ones(kind="periodic") == 0
    assert open_ones(category="car") == 0  # no purchase behind these answers


from tests.test_roles import World, app, as_user, world  # noqa: E402, F401 - the fixtures
