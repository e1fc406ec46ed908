"""The SLA: nobody took the unhappy customer in time, so the rep's manager hears, once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cadence.rules import CadenceRules, save_rules
from escalation.sla import check_slas, escalate_to_manager
from messaging.channels import ConsoleChannel, console_only
from messaging.compose import TemplateBook
from models import Escalation, EscalationEvent, Message, Rep
from scheduler.tick import preview, tick
from settings import Settings
from tests.conftest import at
from tests.conversation_support import sent_survey

JOHN = "+14155550101"
ANNA = "+48600000002"  # John's rep
MAREK = "+48600000001"  # her manager
SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")


@pytest.fixture
def escalated(session, cast, phone) -> Escalation:
    """John scored 3 at 16:00 (SLA: 18:00); Anna was alerted by SMS."""
    sent_survey(session, cast["en"])
    phone.say(JOHN, "3 the paint is scratched", "2026-03-02 16:00")
    return state(session)


def state(session: Session) -> Escalation:
    session.expire_all()
    [escalation] = session.scalars(select(Escalation)).all()
    return escalation


def run_tick(db, console: ConsoleChannel, when: str):
    return tick(db, at(when), console_only(console), SETTINGS)


def events(session: Session) -> list[tuple[str, str]]:
    session.expire_all()
    rows = session.scalars(
        select(EscalationEvent)
        .where(EscalationEvent.action.in_(("escalated", "sla_breached")))
        .order_by(EscalationEvent.id)
    )
    return [(e.action, e.detail) for e in rows]


def test_past_the_sla_the_manager_gets_the_alert_with_the_same_context(
    db, session, cast, phone, console, escalated
) -> None:
    report = run_tick(db, console, "2026-03-02 18:01")

    assert report.escalated == 1 and "escalated to managers: 1" in report.summary()
    [alert] = console.to(MAREK)
    assert alert.startswith(
        "Marek, escalation #1 has not been acknowledged within 120 minutes by Anna Kowalska."
    )
    for expected in (
        "John Smith scored 3/10",
        'Comment: "the paint is scratched"',
        f"Phone: {JOHN} | Language: English",
        "- John: 3 the paint is scratched",
        "Reply ACK 1 to take it over",
    ):
        assert expected in alert
    escalation = state(session)
    assert (
        escalation.status,
        escalation.escalated_to_manager_at,
        escalation.manager_id,
        escalation.reminders_sent,
    ) == ("open", at("2026-03-02 18:01"), cast["manager"].id, 1)
    assert events(session) == [("escalated", "to Marek Nowak (mgr-1) by sms, reminder 1 of 1")]


def test_the_manager_hears_once(db, session, cast, phone, console, escalated) -> None:
    for when in ("2026-03-02 18:01", "2026-03-02 18:02", "2026-03-02 21:00", "2026-03-05 09:00"):
        run_tick(db, console, when)
    assert len(console.to(MAREK)) == 1
    assert len(events(session)) == 1


def test_nothing_before_the_sla_runs_out(db, session, cast, phone, console, escalated) -> None:
    assert run_tick(db, console, "2026-03-02 17:59").escalated == 0
    assert console.to(MAREK) == [] and state(session).escalated_to_manager_at is None


def test_no_manager_alert_once_the_rep_acknowledged(
    db, session, cast, phone, console, escalated
) -> None:
    phone.say(ANNA, "ACK 1", "2026-03-02 17:30")
    for when in ("2026-03-02 18:01", "2026-03-02 22:00"):
        run_tick(db, console, when)
    assert console.to(MAREK) == []
    assert state(session).escalated_to_manager_at is None and events(session) == []


def test_an_acknowledgement_after_the_sla_but_before_the_pass_still_counts(
    db, session, cast, phone, console, escalated
) -> None:
    phone.say(ANNA, "ACK 1", "2026-03-02 18:05")
    run_tick(db, console, "2026-03-02 18:06")
    assert console.to(MAREK) == []


def test_reminders_are_spaced_by_the_sla_and_capped(
    db, session, cast, phone, console, escalated
) -> None:
    save_rules(session, CadenceRules(max_manager_reminders=2))
    session.commit()
    sent = {
        when: run_tick(db, console, when).escalated
        for when in (
            "2026-03-02 18:00",  # the SLA: first alert
            "2026-03-02 19:59",  # not yet another
            "2026-03-02 20:00",  # one SLA later: the second
            "2026-03-02 22:00",
            "2026-03-03 09:00",  # never a third
        )
    }
    assert list(sent.values()) == [1, 0, 1, 0, 0]
    assert len(console.to(MAREK)) == 2
    escalation = state(session)
    assert (escalation.reminders_sent, escalation.escalated_to_manager_at) == (
        2,
        at("2026-03-02 18:00"),
    )
    assert [detail for _, detail in events(session)] == [
        "to Marek Nowak (mgr-1) by sms, reminder 1 of 2",
        "to Marek Nowak (mgr-1) by sms, reminder 2 of 2",
    ]


def test_a_manager_on_telegram_gets_buttons(db, session, cast, phone, console, escalated) -> None:
    cast["manager"].telegram_chat_id = 900100
    session.commit()
    run_tick(db, console, "2026-03-02 18:01")
    [sent] = [m for m in console.sent if m.to == "900100"]
    assert "Use the buttons below to take it over" in sent.text
    assert [b.data for row in sent.buttons or [] for b in row] == ["ack:1", "resolve:1"]


def test_the_manager_alerted_may_act_on_it(db, session, cast, phone, console, escalated) -> None:
    boss = Rep(external_id="boss", name="Zofia Lis", phone="+48600000009", role="manager")
    session.add(boss)
    session.flush()
    cast["rep"].manager_id = boss.id
    session.commit()
    run_tick(db, console, "2026-03-02 18:01")
    assert len(console.to("+48600000009")) == 1
    assert phone.say("+48600000009", "ACK 1", "2026-03-02 18:05").detail == "acknowledged"


def test_two_passes_racing_send_one_manager_alert(
    db, session, cast, phone, console, escalated
) -> None:
    rules, book, now = CadenceRules(), TemplateBook(), at("2026-03-02 18:01")
    with db() as slow:
        stale = slow.get_one(Escalation, escalated.id)  # read before the other pass claimed it
        with db.begin() as fast:
            assert check_slas(fast, now, rules, SETTINGS, book) == 1
        assert escalate_to_manager(slow, now, stale, rules, SETTINGS, book) == 0
        slow.commit()
    session.expire_all()
    alerts = session.scalars(select(Message).where(Message.purpose == "manager_alert")).all()
    assert len(alerts) == 1


def test_a_rep_without_a_manager_goes_to_another_manager(db, session, cast, phone, console) -> None:
    cast["en"].rep_id = None  # so the escalation goes to the first manager, Marek
    deputy = Rep(external_id="mgr-2", name="Ewa Duda", phone="+48600000008", role="manager")
    session.add(deputy)
    session.commit()
    sent_survey(session, cast["en"])
    phone.say(JOHN, "2", "2026-03-02 16:00")
    assert state(session).rep_id == cast["manager"].id

    run_tick(db, console, "2026-03-02 18:01")
    [alert] = console.to("+48600000008")
    assert "by Marek Nowak" in alert


def test_with_no_manager_to_tell_the_breach_is_recorded_once(
    db, session, cast, phone, console, escalated
) -> None:
    cast["rep"].manager_id = None
    cast["manager"].role = "rep"
    session.commit()
    for when in ("2026-03-02 18:01", "2026-03-02 23:00"):
        assert run_tick(db, console, when).escalated == 0
    assert events(session) == [("sla_breached", "not escalated: no manager (1 of 1)")]
    assert state(session).escalated_to_manager_at is None


def test_a_message_for_a_human_has_no_manager_sla(db, session, cast, phone, console) -> None:
    phone.say(JOHN, "Do you sell winter tyres?", "2026-03-02 16:00")
    assert state(session).kind == "needs_answer"
    run_tick(db, console, "2026-03-03 16:00")
    assert console.to(MAREK) == []


def test_plan_shows_the_escalation_without_sending_or_changing_anything(
    db, session, cast, phone, console, escalated
) -> None:
    report = preview(db, at("2026-03-02 18:01"), SETTINGS)
    assert report.escalated == 1
    assert console.to(MAREK) == []
    escalation = state(session)
    assert (escalation.reminders_sent, escalation.escalated_to_manager_at) == (0, None)


def test_no_reminders_at_all_when_switched_off(
    db, session, cast, phone, console, escalated
) -> None:
    save_rules(session, CadenceRules(max_manager_reminders=0))
    session.commit()
    assert run_tick(db, console, "2026-03-02 18:01").escalated == 0
    assert console.to(MAREK) == []


def test_escalations_waiting_for_a_later_reminder_never_starve_a_due_one(
    db, session, cast, phone, console, escalated, monkeypatch
) -> None:
    # Two older escalations had their first manager alert at 17:00 and wait for the
    # second (due 19:00). In a batch of 2 they came first, and before, the due one
    # behind them (John's, SLA 18:00) was never seen.
    from escalation import sla

    monkeypatch.setattr(sla, "BATCH", 2)
    save_rules(session, CadenceRules(max_manager_reminders=2))
    session.add_all(
        Escalation(
            customer_id=cast["pl"].id,
            rep_id=cast["rep"].id,
            sla_due_at=at("2026-03-02 17:00"),
            reminders_sent=1,
            created_at=at("2026-03-02 15:00"),
        )
        for _ in range(2)
    )
    session.commit()
    assert run_tick(db, console, "2026-03-02 18:00").escalated == 1
    session.expire_all()
    assert session.get(Escalation, escalated.id).reminders_sent == 1
