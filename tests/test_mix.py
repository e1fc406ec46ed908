"""reports.mix and `bot.py mix`: what kinds of contact went out, per rep and month, on both backends."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from cli.mix import mix_command
from models import KINDS, CheckIn, Customer, Rep
from reports.mix import MixRow, contact_mix
from tests.conftest import at

_keys = itertools.count(1)


def contact(
    session: Session,
    customer: Customer,
    kind: str,
    sent_at: datetime | None,
    status: str = "sent",
) -> CheckIn:
    checkin = CheckIn(
        customer_id=customer.id,
        kind=kind,
        dedupe_key=f"mix-{next(_keys)}",
        due_at=sent_at or at("2026-03-01 09:00"),
        status=status if sent_at else "suppressed",
        sent_at=sent_at,
    )
    session.add(checkin)
    session.flush()
    return checkin


@pytest.fixture
def contacts(session: Session, cast: dict[str, object]) -> dict[str, object]:
    """Anna's customers (en, pl) and an unassigned one, with contacts in March and April 2026."""
    rep = cast["rep"]
    assert isinstance(rep, Rep)
    en, pl, uk = cast["en"], cast["pl"], cast["uk"]
    assert isinstance(en, Customer) and isinstance(pl, Customer) and isinstance(uk, Customer)
    uk.rep_id = None
    contact(session, en, "post_delivery", at("2026-03-02 10:00"), "answered")
    contact(session, en, "delay_notice", at("2026-03-05 10:00"))
    contact(session, pl, "post_delivery", at("2026-03-10 10:00"), "expired")
    contact(session, pl, "service", at("2026-04-01 10:00"))
    contact(session, uk, "periodic", at("2026-04-03 10:00"))
    # Never sent: suppressed and still scheduled check-ins are not contacts.
    contact(session, en, "periodic", None)
    session.add(
        CheckIn(
            customer_id=pl.id,
            kind="recovery",
            dedupe_key="mix-waiting",
            due_at=at("2026-03-20 10:00"),
            status="scheduled",
        )
    )
    session.commit()
    return cast


def as_counts(row: MixRow) -> dict[str, int]:
    return {kind: n for kind, n in row.counts.items() if n}


def test_it_counts_sent_checkins_per_rep_by_kind(session: Session, contacts: dict) -> None:
    rows = contact_mix(session)
    assert [(row.key, row.label) for row in rows] == [
        ("rep-1", "Anna Kowalska"),
        ("unassigned", "unassigned"),
    ]
    anna, nobody = rows
    assert as_counts(anna) == {"post_delivery": 2, "delay_notice": 1, "service": 1}
    assert anna.total == 4
    assert as_counts(nobody) == {"periodic": 1}
    assert set(anna.counts) == set(KINDS)  # zeros included, in every row


def test_proportions_are_each_kinds_share_of_the_reps_contacts(
    session: Session, contacts: dict
) -> None:
    anna = contact_mix(session)[0]
    assert anna.proportions == {
        "post_delivery": 50.0,
        "periodic": 0.0,
        "service": 25.0,
        "delay_notice": 25.0,
        "recovery": 0.0,
    }
    assert anna.share("service") == 0.25
    assert sum(anna.proportions.values()) == pytest.approx(100)


def test_the_window_is_half_open_with_whole_days(session: Session, contacts: dict) -> None:
    march = contact_mix(session, date(2026, 3, 1), date(2026, 3, 31))
    assert [(row.key, row.total) for row in march] == [("rep-1", 3)]
    instant = contact_mix(session, at("2026-03-05 10:00"), at("2026-04-01 10:00"))
    assert as_counts(instant[0]) == {"delay_notice": 1, "post_delivery": 1}


def test_by_month_groups_by_the_utc_month_of_sending(session: Session, contacts: dict) -> None:
    rows = contact_mix(session, by="month")
    assert [(row.key, row.total) for row in rows] == [("2026-03", 3), ("2026-04", 2)]
    assert as_counts(rows[1]) == {"service": 1, "periodic": 1}


def test_overall_is_one_row_even_without_contacts(session: Session, cast: dict) -> None:
    (row,) = contact_mix(session, by=None)
    assert row.key == "" and row.total == 0 and row.share("service") == 0.0
    assert contact_mix(session) == []


def test_it_refuses_unknown_groups_and_empty_windows(session: Session) -> None:
    with pytest.raises(ValueError, match="rep or month"):
        contact_mix(session, by="channel")
    with pytest.raises(ValueError, match="empty"):
        contact_mix(session, date(2026, 4, 1), date(2026, 3, 1))


def test_mix_command_prints_the_json_document(
    db: sessionmaker[Session], database_url: str, contacts: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import settings as settings_module

    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings_module.reset_settings()
    result = CliRunner().invoke(mix_command, ["--json", "--since", "2026-03-01"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["kinds"] == list(KINDS)
    assert document["since"] == "2026-03-01T00:00:00+00:00"
    assert document["overall"]["total"] == 5
    groups = {group["key"]: group for group in document["groups"]}
    assert groups["rep-1"]["counts"]["post_delivery"] == 2
    assert groups["rep-1"]["proportions"]["post_delivery"] == 50.0


def test_mix_command_table_names_each_rep_and_kind(
    database_url: str, contacts: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    import settings as settings_module

    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings_module.reset_settings()
    result = CliRunner().invoke(mix_command, [])
    assert result.exit_code == 0, result.output
    assert "Anna Kowalska" in result.output and "delay_notice" in result.output
    assert " 50%" in result.output
    bad = CliRunner().invoke(mix_command, ["--since", "2026-04-01", "--until", "2026-03-01"])
    assert bad.exit_code == 2 and "empty" in bad.output
