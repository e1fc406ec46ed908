"""Escalation metrics (reports.escalations, `bot.py escalations`, the API) and the contact-mix API."""

from __future__ import annotations

import itertools
import json
import warnings
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

import settings as settings_module
from cli.escalations import escalations_command
from cli.mix import mix_command
from models import CheckIn, Customer, Escalation, Response
from reports.escalations import escalation_metrics
from settings import Settings
from tests.conftest import at
from web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette prefers httpx2 for its test client
    from fastapi.testclient import TestClient

OPENED = at("2026-03-02 10:00")
SLA = timedelta(hours=2)
_keys = itertools.count(1)


def escalation(
    session: Session,
    customer: Customer,
    *,
    opened: datetime = OPENED,
    kind: str = "detractor",
    ack_after: float | None = None,
    resolve_after: float | None = None,
    to_manager: bool = False,
    recovery: int | None | str = None,
) -> Escalation:
    """An escalation opened at `opened`, acknowledged/resolved that many minutes later.

    `recovery`: None (no recovery check-in), "asked" (sent, unanswered) or the score given.
    """
    row = Escalation(
        kind=kind,
        customer_id=customer.id,
        status="open",
        sla_due_at=opened + SLA,
        created_at=opened,
    )
    if ack_after is not None:
        row.status, row.acknowledged_at = "acknowledged", opened + timedelta(minutes=ack_after)
    if resolve_after is not None:
        row.status, row.resolved_at = "resolved", opened + timedelta(minutes=resolve_after)
    if to_manager:
        row.escalated_to_manager_at = opened + SLA
    if recovery is not None:
        checkin = CheckIn(
            customer_id=customer.id,
            kind="recovery",
            dedupe_key=f"e{next(_keys)}",
            due_at=opened + timedelta(days=3),
            status="sent",
            sent_at=opened + timedelta(days=3),
        )
        session.add(checkin)
        session.flush()
        row.recovery_checkin_id = checkin.id
        if recovery != "asked":
            assert isinstance(recovery, int)
            checkin.status = "answered"
            session.add(
                Response(
                    checkin_id=checkin.id,
                    customer_id=customer.id,
                    score=recovery,
                    category="promoter"
                    if recovery >= 9
                    else "passive"
                    if recovery >= 7
                    else "detractor",
                    received_at=opened + timedelta(days=3, hours=1),
                )
            )
    session.add(row)
    session.flush()
    return row


def hand_computed_data(session: Session, cast: dict[str, Any]) -> None:
    en, pl, uk = cast["en"], cast["pl"], cast["uk"]
    # Acknowledged after 10, 30, 200 (late) minutes; one never, well past its SLA.
    escalation(session, en, ack_after=10, resolve_after=60, recovery=9)
    escalation(session, pl, ack_after=30, resolve_after=300, recovery=5)
    escalation(session, uk, ack_after=200, resolve_after=240, to_manager=True, recovery="asked")
    escalation(session, en, to_manager=True)
    # A question still inside its SLA at NOW: neither breached nor in time yet.
    escalation(session, pl, kind="needs_answer", opened=at("2026-03-03 11:00"))
    session.commit()


NOW = at("2026-03-03 12:00")


def test_metrics_against_hand_computed_values(session: Session, cast: dict[str, Any]) -> None:
    hand_computed_data(session, cast)
    report = escalation_metrics(session, NOW)
    assert report.overall.as_dict() == {
        "escalations": 5,
        "acknowledged": 3,
        "resolved": 3,
        "median_minutes_to_acknowledge": 30.0,  # of 10, 30, 200
        "median_minutes_to_resolve": 240.0,  # of 60, 240, 300
        "sla_decided": 4,  # three acknowledged, one past its SLA; the question is in time
        "sla_breached": 2,  # acknowledged after 200 minutes, and never
        "sla_breach_rate": 50.0,
        "escalated_to_manager": 2,
        "recovery_asked": 3,
        "recovery_answered": 2,
        "recovered": 1,  # 9 counts, 5 does not
        "recovery_rate": 50.0,
    }
    groups = dict(report.groups)
    assert sorted(groups) == ["detractor", "needs_answer"]
    assert groups["detractor"].escalations == 4 and groups["detractor"].sla_breach_rate == 50.0
    assert groups["needs_answer"].as_dict()["sla_breach_rate"] is None


def test_the_window_counts_escalations_by_when_they_opened(
    session: Session, cast: dict[str, Any]
) -> None:
    hand_computed_data(session, cast)
    assert escalation_metrics(session, NOW, since=at("2026-03-03 00:00")).overall.escalations == 1
    assert escalation_metrics(session, NOW, until=at("2026-03-03 00:00")).overall.escalations == 4
    with pytest.raises(ValueError, match="window is empty"):
        escalation_metrics(session, NOW, since=at("2026-03-04 00:00"), until=at("2026-03-03 00:00"))


def test_an_open_escalation_breaches_when_its_sla_passes(
    session: Session, cast: dict[str, Any]
) -> None:
    escalation(session, cast["en"])
    session.commit()
    before = escalation_metrics(session, OPENED + SLA - timedelta(seconds=1)).overall
    after = escalation_metrics(session, OPENED + SLA).overall
    assert (before.sla_decided, before.sla_breach_rate) == (0, None)
    assert (after.sla_decided, after.sla_breached, after.sla_breach_rate) == (1, 1, 100.0)


def test_acknowledged_exactly_at_the_sla_is_in_time(session: Session, cast: dict[str, Any]) -> None:
    escalation(session, cast["en"], ack_after=120)
    session.commit()
    assert escalation_metrics(session, NOW).overall.sla_breached == 0


def test_an_even_number_of_durations_takes_the_middle_two(
    session: Session, cast: dict[str, Any]
) -> None:
    escalation(session, cast["en"], ack_after=5)
    escalation(session, cast["pl"], ack_after=20)
    session.commit()
    assert escalation_metrics(session, NOW).overall.median_minutes_to_acknowledge == 12.5


def test_no_escalations_at_all(session: Session) -> None:
    figures = escalation_metrics(session, NOW).overall.as_dict()
    assert figures["escalations"] == 0
    assert all(
        figures[key] is None
        for key in (
            "median_minutes_to_acknowledge",
            "median_minutes_to_resolve",
            "sla_breach_rate",
            "recovery_rate",
        )
    )


# -- the command line, and the same document from the API ----------------------------


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, database_url: str, session: Session) -> Any:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings_module.reset_settings()

    def run(command: Any, *args: str) -> Any:
        session.commit()  # the command reads through a connection of its own
        return CliRunner().invoke(command, list(args))

    return run


def api(db: sessionmaker[Session], path: str, **params: str) -> Any:
    with TestClient(create_app(db, Settings(api_token="secret"))) as client:
        answer = client.get(path, params=params, headers={"Authorization": "Bearer secret"})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize(
    "params", [{}, {"since": "2026-03-03"}, {"until": "2026-03-02"}, {"since": "2026-03-02T11:00Z"}]
)
def test_escalations_json_is_the_api_document(
    run_cli: Any, session: Session, cast: dict[str, Any], db: sessionmaker[Session], params
) -> None:
    hand_computed_data(session, cast)
    args = itertools.chain.from_iterable((f"--{k}", v) for k, v in params.items())
    result = run_cli(escalations_command, *args, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api(db, "/api/escalations/metrics", **params)


def test_escalations_prints_a_readable_table(
    run_cli: Any, session: Session, cast: dict[str, Any]
) -> None:
    hand_computed_data(session, cast)
    result = run_cli(escalations_command, "--now", "2026-03-03T12:00:00Z")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Escalations, all time"
    overall = next(line for line in lines if line.startswith("overall"))
    assert overall.split() == [
        "overall", "5", "3", "3", "30", "min", "4", "h", "00", "2/4", "50%", "2", "1/2", "50%",
    ]  # fmt: skip
    rows = [
        line for line in lines if line.split()[:1] in (["overall"], ["detractor"], ["needs_answer"])
    ]
    assert len(rows) == 3 and len({len(row) for row in rows}) == 1  # aligned


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (
            ["--since", "2026-03-01", "--until", "2026-03-02"],
            "2026-03-01 to 2026-03-02 (inclusive)",
        ),
        (["--since", "2026-03-01T12:00:00Z"], "2026-03-01T12:00:00+00:00 to now"),
        (
            ["--until", "2026-03-01T12:00:00Z"],
            "the beginning to 2026-03-01T12:00:00+00:00 (exclusive)",
        ),
    ],
)
def test_escalations_names_its_window(run_cli: Any, args: list[str], title: str) -> None:
    result = run_cli(escalations_command, *args)
    assert result.output.splitlines()[0] == f"Escalations, {title}"


def test_escalations_on_an_empty_database(run_cli: Any) -> None:
    result = run_cli(escalations_command)
    assert result.exit_code == 0, result.output
    assert "No escalations were opened in this window." in result.output
    assert json.loads(run_cli(escalations_command, "--json").output)["escalations"] == 0


def test_a_bad_window_is_a_usage_error(run_cli: Any) -> None:
    result = run_cli(escalations_command, "--since", "2026-03-05", "--until", "2026-03-01")
    assert result.exit_code == 2 and "window is empty" in result.output


def test_the_metrics_api_needs_the_token_and_checks_its_parameters(
    db: sessionmaker[Session],
) -> None:
    with TestClient(create_app(db, Settings(api_token="secret"))) as client:
        assert client.get("/api/escalations/metrics").status_code == 401
        bad = client.get(
            "/api/escalations/metrics",
            params={"since": "soon"},
            headers={"Authorization": "Bearer secret"},
        )
    assert bad.status_code == 422 and "since" in bad.text


# -- contact mix over the API: reports.mix, the same document as `bot.py mix --json` ---


def sent_checkin(session: Session, customer: Customer, kind: str, sent: str) -> None:
    session.add(
        CheckIn(
            customer_id=customer.id,
            kind=kind,
            dedupe_key=f"m{next(_keys)}",
            due_at=at(sent),
            status="sent",
            sent_at=at(sent),
        )
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"by": "month"}, {"since": "2026-03-01", "until": "2026-03-31"}, {"by": "rep"}],
)
def test_mix_api_is_the_mix_command_document(
    run_cli: Any, session: Session, cast: dict[str, Any], db: sessionmaker[Session], params
) -> None:
    for customer, kind, sent in [
        (cast["en"], "post_delivery", "2026-03-02 10:00"),
        (cast["en"], "delay_notice", "2026-03-03 10:00"),
        (cast["pl"], "periodic", "2026-04-01 10:00"),
        (cast["uk"], "recovery", "2026-03-09 10:00"),
    ]:
        sent_checkin(session, customer, kind, sent)
    cast["uk"].rep_id = None
    args = itertools.chain.from_iterable((f"--{k}", v) for k, v in params.items())
    result = run_cli(mix_command, *args, "--json")
    assert result.exit_code == 0, result.output
    document = api(db, "/api/mix", **params)
    assert json.loads(result.output) == document
    assert document["overall"]["total"] == (4 if "since" not in params else 3)


def test_mix_api_refuses_an_unknown_grouping(db: sessionmaker[Session]) -> None:
    with TestClient(create_app(db, Settings(api_token="secret"))) as client:
        answer = client.get(
            "/api/mix", params={"by": "product"}, headers={"Authorization": "Bearer secret"}
        )
    assert answer.status_code == 422
