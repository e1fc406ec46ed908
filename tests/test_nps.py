"""reports.nps and `bot.py nps`: the arithmetic, the groups, the window, and one document for CLI and API."""

from __future__ import annotations

import itertools
import json
import math
import warnings
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

import settings as settings_module
from cli.reports import nps_command
from clock import parse_bound
from models import CheckIn, Customer, Purchase, Rep, Response
from reports.nps import GROUP_FIELDS, NpsFigures, nps_report
from settings import Settings
from tests.conftest import at
from web.app import create_app
from web.schemas import GroupField

with warnings.catch_warnings():
    # Starlette now prefers httpx2 for its test client; httpx is what we have pinned.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

_keys = itertools.count(1)


def category_of(score: int) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def survey(
    session: Session,
    customer: Customer,
    sent_at: datetime | None,
    *,
    kind: str = "post_delivery",
    purchase: Purchase | None = None,
    channel: str = "sms",
) -> CheckIn:
    checkin = CheckIn(
        customer_id=customer.id,
        purchase_id=purchase.id if purchase else None,
        kind=kind,
        dedupe_key=f"k{next(_keys)}",
        due_at=(sent_at or at("2026-01-01 00:00")) - timedelta(hours=1),
        status="sent" if sent_at else "scheduled",
        sent_at=sent_at,
        channel=channel,
    )
    session.add(checkin)
    session.flush()
    return checkin


def answer(
    session: Session,
    customer: Customer,
    score: int,
    received_at: datetime,
    *,
    sent_at: datetime | None = None,
    channel: str = "sms",
    **survey_fields: Any,
) -> Response:
    """A survey sent (by default an hour before) and the customer's score for it."""
    sent = sent_at or received_at - timedelta(hours=1)
    checkin = survey(session, customer, sent, channel=channel, **survey_fields)
    checkin.status = "answered"
    response = Response(
        checkin_id=checkin.id,
        customer_id=customer.id,
        score=score,
        category=category_of(score),
        channel=channel,
        received_at=received_at,
    )
    session.add(response)
    session.flush()
    return response


def answers(session: Session, customer: Customer, scores: list[int], **fields: Any) -> None:
    for minute, score in enumerate(scores):
        answer(
            session, customer, score, at("2026-03-10 12:00") + timedelta(minutes=minute), **fields
        )


def groups_of(report: Any) -> dict[str, dict[str, Any]]:
    return {group["key"]: group for group in report.as_dict()["groups"]}


# The arithmetic ----------------------------------------------------------------------------


def test_without_responses_the_score_is_null_and_the_counts_zero(session: Session) -> None:
    document = nps_report(session, by="rep").as_dict()
    assert document == {
        "nps": None,
        "responses": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "surveys_sent": 0,
        "response_rate": None,
        "margin_of_error": None,
        "margin_note": None,
        "since": None,
        "until": None,
        "by": "rep",
        "groups": [],
    }


def test_all_promoters_score_100(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [9, 10, 10])
    report = nps_report(session).overall
    assert (report.nps, report.promoters, report.responses) == (100.0, 3, 3)


def test_all_detractors_score_minus_100(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [0, 3, 6])
    report = nps_report(session).overall
    assert (report.nps, report.detractors) == (-100.0, 3)


def test_all_passives_score_zero(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [7, 8])
    assert nps_report(session).overall.nps == 0.0


def test_a_mix_is_percent_promoters_minus_percent_detractors(
    session: Session, cast: dict[str, Any]
) -> None:
    answers(session, cast["en"], [9, 10, 9, 10, 9, 7, 8, 7, 6, 0])
    overall = nps_report(session).as_dict()
    assert overall["nps"] == 30.0  # 50% − 20%
    assert (overall["promoters"], overall["passives"], overall["detractors"]) == (5, 3, 2)
    assert overall["responses"] == 10


def test_the_score_has_one_decimal(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [10, 8, 8])
    assert nps_report(session).overall.nps == 33.3


@pytest.mark.parametrize(
    ("score", "category"),
    [
        (0, "detractors"),
        (6, "detractors"),
        (7, "passives"),
        (8, "passives"),
        (9, "promoters"),
        (10, "promoters"),
    ],
)
def test_categories_follow_the_score_boundaries(
    session: Session, cast: dict[str, Any], score: int, category: str
) -> None:
    answers(session, cast["en"], [score])
    assert nps_report(session).as_dict()[category] == 1


def test_the_margin_of_error_is_the_95_percent_half_width(
    session: Session, cast: dict[str, Any]
) -> None:
    answers(session, cast["en"], [9, 10, 9, 10, 9, 7, 8, 7, 6, 0])
    # p_pro = .5, p_det = .2: var = .5 + .2 − .3² = .61; 1.96 × √(.61 / 10) × 100 = 48.4
    assert nps_report(session).overall.margin_of_error == 48.4
    assert round(1.96 * math.sqrt(0.61 / 10) * 100, 1) == 48.4


def test_the_margin_of_error_narrows_with_more_answers() -> None:
    few = NpsFigures(responses=10, promoters=5, passives=3, detractors=2)
    many = NpsFigures(responses=1000, promoters=500, passives=300, detractors=200)
    assert few.nps == many.nps == 30.0
    assert many.margin_of_error == 4.8  # 1.96 × √(.61 / 1000) × 100
    assert few.margin_of_error is not None and few.margin_of_error > 10 * many.margin_of_error
    assert NpsFigures().margin_of_error is None


# The response rate -------------------------------------------------------------------------


def test_the_response_rate_is_responses_per_survey_sent(
    session: Session, cast: dict[str, Any]
) -> None:
    customer = cast["en"]
    answers(session, customer, [9, 3])
    survey(session, customer, at("2026-03-11 10:00"))
    survey(session, customer, at("2026-03-11 11:00"), kind="periodic")
    survey(session, customer, at("2026-03-11 12:00"), kind="delay_notice")  # not a survey
    survey(session, customer, None)  # not sent yet
    overall = nps_report(session).overall
    assert (overall.surveys_sent, overall.responses, overall.response_rate) == (4, 2, 50.0)


def test_without_surveys_sent_the_response_rate_is_null(session: Session) -> None:
    assert nps_report(session).overall.response_rate is None


def test_surveys_sent_count_only_inside_the_window(session: Session, cast: dict[str, Any]) -> None:
    survey(session, cast["en"], at("2026-02-28 23:59"))
    survey(session, cast["en"], at("2026-03-01 00:00"))
    survey(session, cast["en"], at("2026-03-31 23:59"))
    survey(session, cast["en"], at("2026-04-01 00:00"))
    report = nps_report(session, date(2026, 3, 1), date(2026, 3, 31))
    assert report.overall.surveys_sent == 2


# The window --------------------------------------------------------------------------------


def test_dates_cover_whole_utc_days_and_until_is_inclusive_of_its_day(
    session: Session, cast: dict[str, Any]
) -> None:
    customer = cast["en"]
    answer(session, customer, 0, at("2026-02-28 23:59:59"))
    answer(session, customer, 9, at("2026-03-01 00:00"))
    answer(session, customer, 10, at("2026-03-31 23:59:59.999999"))
    answer(session, customer, 0, at("2026-04-01 00:00"))
    report = nps_report(session, since=date(2026, 3, 1), until=date(2026, 3, 31))
    assert (report.overall.responses, report.overall.nps) == (2, 100.0)
    assert report.since == at("2026-03-01 00:00")
    assert report.until == at("2026-04-01 00:00")  # the first instant after the window


def test_datetime_bounds_are_exact_and_until_is_exclusive(
    session: Session, cast: dict[str, Any]
) -> None:
    answer(session, cast["en"], 9, at("2026-03-01 10:00"))
    answer(session, cast["en"], 0, at("2026-03-01 11:00"))
    report = nps_report(session, at("2026-03-01 10:00"), at("2026-03-01 11:00"))
    assert (report.overall.responses, report.overall.promoters) == (1, 1)


def test_one_side_open_windows(session: Session, cast: dict[str, Any]) -> None:
    answer(session, cast["en"], 9, at("2025-12-31 12:00"))
    answer(session, cast["en"], 0, at("2026-01-01 12:00"))
    assert nps_report(session, since=date(2026, 1, 1)).overall.nps == -100.0
    assert nps_report(session, until=date(2025, 12, 31)).overall.nps == 100.0
    assert nps_report(session).overall.responses == 2


def test_an_empty_window_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="empty"):
        nps_report(session, since=date(2026, 3, 2), until=date(2026, 3, 1))
    assert nps_report(session, since=date(2026, 3, 1), until=date(2026, 3, 1)).overall.nps is None


def test_naive_datetimes_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        nps_report(session, since=datetime(2026, 3, 1))


def test_bounds_parse_as_days_or_instants() -> None:
    assert parse_bound("2026-03-01") == date(2026, 3, 1)
    assert parse_bound("2026-03-01T10:00:00Z") == at("2026-03-01 10:00")
    assert parse_bound("2026-03-01T12:00:00+02:00") == at("2026-03-01 10:00")
    with pytest.raises(ValueError):
        parse_bound("March")


def test_bounds_take_rfc_3339_lower_case_and_refuse_surrounding_spaces() -> None:
    assert parse_bound("2026-03-01t10:00:00z") == at("2026-03-01 10:00")
    with pytest.raises(ValueError, match="spaces"):
        parse_bound(" 2026-03-01")


def test_bounds_past_the_ends_of_the_calendar_become_those_ends(session: Session) -> None:
    # Year 1 east of UTC, and the day after 9999-12-31, are no Python datetime in UTC.
    earliest = parse_bound("0001-01-01T00:00:00+01:00")
    assert earliest == datetime.min.replace(tzinfo=UTC)
    assert parse_bound("9999-12-31T23:00:00-05:00") == datetime.max.replace(tzinfo=UTC)
    report = nps_report(session, since=earliest, until=parse_bound("9999-12-31"))
    assert report.until == datetime.max.replace(tzinfo=UTC)
    assert report.overall.responses == 0


# The groups --------------------------------------------------------------------------------


def test_unknown_grouping_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="cannot group by 'colour'"):
        nps_report(session, by="colour")


def test_the_api_accepts_exactly_the_report_groupings() -> None:
    from typing import get_args

    assert get_args(GroupField) == GROUP_FIELDS


def test_by_rep_uses_the_customers_rep_now_or_unassigned(
    session: Session, cast: dict[str, Any]
) -> None:
    other = Rep(external_id="rep-2", name="Piotr")
    loner = Customer(external_id="loner", name="Lone Ranger")
    session.add_all([other, loner])
    session.flush()
    answers(session, cast["en"], [9, 10])
    answers(session, cast["pl"], [0])
    answers(session, loner, [8])
    cast["pl"].rep = other  # moved to another rep after answering: counts for the new one
    session.flush()
    groups = groups_of(nps_report(session, by="rep"))
    assert {key: (g["responses"], g["nps"]) for key, g in groups.items()} == {
        "rep-1": (2, 100.0),
        "rep-2": (1, -100.0),
        "unassigned": (1, 0.0),
    }


def test_by_product_and_category_come_from_the_purchase_or_none(
    session: Session, cast: dict[str, Any]
) -> None:
    customer = cast["en"]
    car = Purchase(external_id="p1", customer_id=customer.id, product="Model 3", category="car")
    filling = Purchase(external_id="p2", customer_id=customer.id, product="Filling", category="")
    session.add_all([car, filling])
    session.flush()
    answers(session, customer, [10, 9], purchase=car)
    answers(session, customer, [3], purchase=filling)
    answers(session, customer, [7], kind="periodic")
    products = groups_of(nps_report(session, by="product"))
    assert {k: g["nps"] for k, g in products.items()} == {
        "Model 3": 100.0,
        "Filling": -100.0,
        "none": 0.0,
    }
    categories = groups_of(nps_report(session, by="category"))
    assert {k: g["responses"] for k, g in categories.items()} == {"car": 2, "none": 2}
    assert categories["none"]["nps"] == -50.0


def test_by_kind_channel_and_language(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [10], kind="post_delivery", channel="sms")
    answers(session, cast["pl"], [2, 9], kind="periodic", channel="telegram")
    answers(session, cast["th"], [8], kind="recovery", channel="telegram")
    by_kind = groups_of(nps_report(session, by="kind"))
    assert {k: g["nps"] for k, g in by_kind.items()} == {
        "periodic": 0.0,
        "post_delivery": 100.0,
        "recovery": 0.0,
    }
    by_channel = groups_of(nps_report(session, by="channel"))
    assert {k: g["responses"] for k, g in by_channel.items()} == {"sms": 1, "telegram": 3}
    by_language = groups_of(nps_report(session, by="language"))
    assert {k: g["responses"] for k, g in by_language.items()} == {"en": 1, "pl": 2, "th": 1}


def test_by_month_uses_utc_months_whatever_the_database_session_zone(
    session: Session, cast: dict[str, Any]
) -> None:
    answer(session, cast["en"], 10, at("2026-01-31 23:30"))
    answer(session, cast["en"], 0, at("2026-02-01 00:30"))
    answer(session, cast["en"], 9, at("2026-02-15 12:00"))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Asia/Bangkok'"))  # 23:30 UTC is 06:30 next day there
    groups = groups_of(nps_report(session, by="month"))
    assert {k: (g["responses"], g["nps"]) for k, g in groups.items()} == {
        "2026-01": (1, 100.0),
        "2026-02": (2, 0.0),
    }


def test_groups_carry_the_same_fields_and_add_up_to_the_total(
    session: Session, cast: dict[str, Any]
) -> None:
    for language, scores in {"en": [9, 10, 3], "pl": [7, 0], "uk": [10]}.items():
        answers(session, cast[language], scores)
    document = nps_report(session, by="language").as_dict()
    assert [g["key"] for g in document["groups"]] == ["en", "pl", "uk"]
    fields = set(NpsFigures().as_dict())
    for group in document["groups"]:
        assert set(group) == fields | {"key", "label"}
    for field in ("responses", "promoters", "passives", "detractors", "surveys_sent"):
        assert sum(g[field] for g in document["groups"]) == document[field]
    assert document["groups"][0]["nps"] == 33.3  # 2 promoters, 1 detractor of 3


def test_a_group_with_surveys_but_no_answers_still_shows(
    session: Session, cast: dict[str, Any]
) -> None:
    answers(session, cast["en"], [9])
    survey(session, cast["pl"], at("2026-03-10 09:00"))
    groups = groups_of(nps_report(session, by="language"))
    assert groups["pl"]["responses"] == 0
    assert groups["pl"]["surveys_sent"] == 1
    assert groups["pl"]["nps"] is None and groups["pl"]["response_rate"] == 0.0
    assert groups["en"]["response_rate"] == 100.0


def test_every_grouping_runs_on_both_databases(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [9, 4])
    for by in GROUP_FIELDS:
        report = nps_report(session, since=date(2026, 3, 1), until=date(2026, 3, 31), by=by)
        assert sum(group.figures.responses for group in report.groups) == 2, by


# The command line, and the same numbers as the API -----------------------------------------


@pytest.fixture
def run_nps(monkeypatch: pytest.MonkeyPatch, database_url: str, session: Session) -> Any:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings_module.reset_settings()

    def run(*args: str) -> Any:
        session.commit()  # the command reads through a connection of its own
        return CliRunner().invoke(nps_command, list(args))

    return run


def api_nps(db: sessionmaker[Session], **params: str) -> dict[str, Any]:
    app = create_app(db, Settings(api_token="secret"))
    with TestClient(app) as client:
        answer_ = client.get("/api/nps", params=params, headers={"Authorization": "Bearer secret"})
    assert answer_.status_code == 200, answer_.text
    return answer_.json()


def _mixed_data(session: Session, cast: dict[str, Any]) -> None:
    answers(session, cast["en"], [9, 10, 9, 10, 9, 7, 8, 7, 6, 0])
    answers(session, cast["pl"], [3, 10], kind="periodic", channel="telegram")
    answer(session, cast["uk"], 8, at("2026-04-02 08:00"))
    survey(session, cast["ru"], at("2026-03-12 10:00"))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"by": "rep"},
        {"since": "2026-03-01", "until": "2026-03-31", "by": "language"},
        {"since": "2026-03-10T12:03:00Z", "by": "month"},
    ],
)
def test_nps_json_is_the_api_document(
    run_nps: Any,
    session: Session,
    cast: dict[str, Any],
    db: sessionmaker[Session],
    params: dict[str, str],
) -> None:
    _mixed_data(session, cast)
    result = run_nps(
        *itertools.chain.from_iterable((f"--{k}", v) for k, v in params.items()), "--json"
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)  # only the document: it parses whole
    assert printed == api_nps(db, **params)
    assert {"nps", "responses", "promoters", "passives", "detractors", "groups"} <= set(printed)


def test_nps_json_on_an_empty_database(run_nps: Any) -> None:
    result = run_nps("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["nps"] is None


def test_nps_prints_an_aligned_table(run_nps: Any, session: Session, cast: dict[str, Any]) -> None:
    _mixed_data(session, cast)
    result = run_nps("--by", "language")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "NPS, all time, by language"
    header = next(line for line in lines if "NPS" in line and "±MoE" in line)
    overall = next(line for line in lines if line.startswith("overall"))
    # 6 promoters, 4 passives, 3 detractors of 13; 14 surveys sent.
    assert overall.split() == ["overall", "13", "+23.1", "±43.5", "14", "92.9%", "*"]
    rows = [line for line in lines if line[:2] in ("en", "pl", "uk", "ru")]
    assert [row.split()[0] for row in rows] == ["en", "pl", "ru", "uk"]
    assert rows[2].split()[:5] == ["ru", "0", "-", "-", "1"]
    assert len({len(line.rstrip(" *")) for line in [header, overall, *rows]}) == 1  # aligned


def test_nps_names_the_window_in_its_title(run_nps: Any) -> None:
    days = run_nps("--since", "2026-03-01", "--until", "2026-03-31", "--by", "kind")
    assert days.output.splitlines()[0] == "NPS, 2026-03-01 to 2026-03-31 (inclusive), by kind"
    instants = run_nps("--until", "2026-03-01T09:30:00+01:00")
    assert instants.output.splitlines()[0] == (
        "NPS, the beginning to 2026-03-01T08:30:00+00:00 (exclusive)"
    )


def test_nps_rejects_a_bad_date_naming_the_option(run_nps: Any) -> None:
    result = run_nps("--since", "yesterday")
    assert result.exit_code == 2
    assert "--since" in result.output and "yesterday" in result.output


def test_nps_rejects_an_unknown_grouping(run_nps: Any) -> None:
    result = run_nps("--by", "colour")
    assert result.exit_code == 2
    assert "--by" in result.output


def test_nps_rejects_an_empty_window(run_nps: Any) -> None:
    result = run_nps("--since", "2026-03-02", "--until", "2026-03-01")
    assert result.exit_code == 2
    assert "empty" in result.output


# Names and small samples -------------------------------------------------------------------


def test_by_rep_shows_the_reps_name_everywhere(
    run_nps: Any, session: Session, cast: dict[str, Any], db: sessionmaker[Session]
) -> None:
    answers(session, cast["en"], [9, 10])
    table = run_nps("--by", "rep")
    assert table.exit_code == 0, table.output
    assert any(line.startswith("Anna Kowalska") for line in table.output.splitlines())
    assert "rep-1" not in table.output
    [group] = api_nps(db, by="rep")["groups"]
    assert (group["key"], group["label"]) == ("rep-1", "Anna Kowalska")


def test_below_ten_answers_there_is_no_margin_of_error_only_too_few_answers(
    run_nps: Any, session: Session, cast: dict[str, Any], db: sessionmaker[Session]
) -> None:
    answers(session, cast["en"], [9, 3])
    assert nps_report(session).overall.margin_of_error is None
    table = run_nps()
    overall = next(line for line in table.output.splitlines() if line.startswith("overall"))
    assert "±" not in overall and "too few answers" in overall
    document = api_nps(db)
    assert document["margin_of_error"] is None and document["margin_note"] == "too few answers"
    nine = NpsFigures(responses=9, promoters=9)
    ten = NpsFigures(responses=10, promoters=5, passives=3, detractors=2)
    assert nine.margin_of_error is None and ten.margin_of_error == 48.4
    assert ten.as_dict()["margin_note"] is None
