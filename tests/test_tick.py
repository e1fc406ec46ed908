"""A whole scheduler pass against a real database, through the console channel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cadence.rules import DEFAULT_RULES, load_rules, save_rules
from messaging.channels import ConsoleChannel, Transports, console_only
from messaging.compose import TemplateBook
from messaging.outbox import drain
from models import CheckIn, Customer, Escalation, Message, Purchase
from scheduler.reminders import send_reminders
from scheduler.tick import preview, tick
from settings import Settings
from tests.conftest import at

SETTINGS = Settings(business_name="Kowalski Motors", default_tz="UTC")


@pytest.fixture
def transports(console: ConsoleChannel) -> Transports:
    return console_only(console)


def deliver(
    session: Session,
    customer: Customer,
    *,
    product: str,
    category: str,
    delivered: str,
    **extra: object,
) -> Purchase:
    delivered_at = at(delivered)
    purchase = Purchase(
        external_id=f"ord-{customer.external_id}-{product}",
        customer=customer,
        product=product,
        category=category,
        delivered_at=delivered_at,
        **extra,
    )
    if category in ("car", "garage", "machinery"):
        purchase.next_service_at = delivered_at + timedelta(days=182)
    customer.periodic_anchor_at = customer.periodic_anchor_at or delivered_at
    session.add(purchase)
    session.commit()
    return purchase


def checkins(session: Session, customer: Customer) -> list[CheckIn]:
    session.expire_all()
    return list(
        session.scalars(
            select(CheckIn).where(CheckIn.customer_id == customer.id).order_by(CheckIn.id)
        )
    )


def test_a_car_buyer_is_asked_the_day_after_delivery_by_name(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")

    tick(db, at("2026-03-02 13:59:59"), transports, SETTINGS)
    assert console.sent == []

    report = tick(db, at("2026-03-02 14:00"), transports, SETTINGS)  # 09:00 in New York
    assert report.planned["post_delivery"] == 1
    [text] = console.to("+14155550101")
    assert "John" in text
    [checkin] = checkins(session, john)
    assert (checkin.kind, checkin.status, checkin.sent_at) == (
        "post_delivery",
        "sent",
        at("2026-03-02 14:00"),
    )


def test_the_same_pass_twice_sends_nothing_new(db, session, cast, transports, console) -> None:
    deliver(
        session, cast["pl"], product="Sofa Oslo", category="furniture", delivered="2026-03-01 08:00"
    )
    now = at("2026-03-03 10:00")
    first = tick(db, now, transports, SETTINGS)
    second = tick(db, now, transports, SETTINGS)
    assert first.planned.total() == 1 and second.planned.total() == 0
    assert len(console.sent) == 1
    assert session.scalar(select(func.count(CheckIn.id))) == 1


def test_a_survey_due_at_night_waits_for_the_morning_and_keeps_its_due_time(
    db, session, cast, transports, console
) -> None:
    somchai = cast["th"]  # Asia/Bangkok, UTC+7
    deliver(session, somchai, product="Honda City", category="car", delivered="2026-03-01 15:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)  # 22:00 in Bangkok
    assert console.sent == []
    [checkin] = checkins(session, somchai)
    assert checkin.status == "scheduled" and checkin.due_at == at("2026-03-02 15:00")
    assert checkin.reason == "quiet hours: waits until 2026-03-03 09:00 Asia/Bangkok"

    tick(db, at("2026-03-03 01:59"), transports, SETTINGS)
    assert console.sent == []
    tick(db, at("2026-03-03 02:00"), transports, SETTINGS)
    assert len(console.to("+66812345678")) == 1


def test_it_never_messages_a_customer_who_opted_out(db, session, cast, transports, console) -> None:
    olena = cast["uk"]
    olena.opted_out_at = at("2026-02-01 00:00")
    deliver(
        session,
        olena,
        product="Bosch Dishwasher",
        category="appliances",
        delivered="2026-03-01 08:00",
    )
    tick(db, at("2026-03-03 10:00"), transports, SETTINGS)
    assert console.sent == []
    [checkin] = checkins(session, olena)
    assert (checkin.status, checkin.reason) == ("suppressed", "customer opted out")


def test_a_second_survey_within_fourteen_days_is_suppressed_with_the_reason(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    deliver(session, john, product="Roof box", category="accessories", delivered="2026-03-05 14:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    tick(db, at("2026-03-07 15:00"), transports, SETTINGS)
    surveys = session.scalars(select(Message).where(Message.purpose == "survey")).all()
    assert len(surveys) == 1
    first, second = checkins(session, john)
    assert first.status == "sent"
    assert second.status == "suppressed" and second.reason and second.reason.startswith("throttled")


def test_an_overdue_delivery_gets_one_apology_naming_the_product(
    db, session, cast, transports, console
) -> None:
    agnieszka = cast["pl"]  # Europe/Warsaw
    session.add(
        Purchase(
            external_id="ord-9",
            customer=agnieszka,
            product="Sofa Oslo",
            category="furniture",
            promised_delivery_date=date(2026, 3, 10),
        )
    )
    session.commit()
    tick(db, at("2026-03-10 22:59"), transports, SETTINGS)  # still the 10th in Warsaw
    assert console.sent == []
    tick(db, at("2026-03-10 23:00"), transports, SETTINGS)  # midnight in Warsaw: quiet hours
    assert console.sent == []
    tick(db, at("2026-03-11 08:00"), transports, SETTINGS)  # 09:00 in Warsaw
    tick(db, at("2026-03-11 12:00"), transports, SETTINGS)
    [text] = console.to("+48601234567")
    assert "Sofa Oslo" in text and "Agnieszka" in text
    [checkin] = checkins(session, agnieszka)
    assert checkin.kind == "delay_notice" and checkin.status == "sent"


def test_a_new_promised_date_that_passes_gets_a_new_apology(
    db, session, cast, transports, console
) -> None:
    agnieszka = cast["pl"]
    purchase = Purchase(
        external_id="ord-9",
        customer=agnieszka,
        product="Sofa Oslo",
        category="furniture",
        promised_delivery_date=date(2026, 3, 10),
    )
    session.add(purchase)
    session.commit()
    tick(db, at("2026-03-11 10:00"), transports, SETTINGS)
    purchase.promised_delivery_date = date(2026, 3, 14)
    session.commit()
    tick(db, at("2026-03-12 10:00"), transports, SETTINGS)
    tick(db, at("2026-03-15 10:00"), transports, SETTINGS)
    assert len(console.to("+48601234567")) == 2


def test_surveys_are_held_while_a_delivery_is_overdue(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    session.add(
        Purchase(
            external_id="ord-late",
            customer=john,
            product="Winter tyres",
            category="parts",
            promised_delivery_date=date(2026, 2, 20),
        )
    )
    session.commit()
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    survey = next(c for c in checkins(session, john) if c.kind == "post_delivery")
    assert survey.status == "scheduled"
    assert survey.reason == "held: Winter tyres is overdue and not delivered yet"


def test_surveys_are_held_while_an_escalation_is_open_and_go_when_it_closes(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    escalation = Escalation(
        customer=john, rep=cast["rep"], sla_due_at=at("2026-03-01 16:00"), kind="needs_answer"
    )
    session.add(escalation)
    session.commit()
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    assert console.sent == []
    escalation.status, escalation.resolved_at = "resolved", at("2026-03-02 15:01")
    session.commit()
    tick(db, at("2026-03-02 15:02"), transports, SETTINGS)
    assert console.sent == []  # a held survey is looked at again a few minutes later
    tick(db, at("2026-03-02 15:05"), transports, SETTINGS)
    assert len(console.to("+14155550101")) == 1


def test_periodic_check_in_ninety_days_after_the_last_survey(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    tick(db, at("2026-05-31 14:59"), transports, SETTINGS)
    assert [c.kind for c in checkins(session, john)] == ["post_delivery"]
    tick(db, at("2026-05-31 15:00"), transports, SETTINGS)
    assert [c.kind for c in checkins(session, john)] == ["post_delivery", "periodic"]
    assert len(console.sent) == 2


def test_service_checks_every_182_days_for_cars(db, session, cast, transports, console) -> None:
    john = cast["en"]
    purchase = deliver(
        session, john, product="Skoda Octavia", category="car", delivered="2026-01-01 15:00"
    )
    john.periodic_anchor_at = None  # isolate the service rule
    session.commit()
    tick(db, at("2026-07-02 15:00"), transports, SETTINGS)
    tick(db, at("2026-12-31 15:00"), transports, SETTINGS)
    services = [c for c in checkins(session, john) if c.kind == "service"]
    assert [c.dedupe_key for c in services] == [f"p{purchase.id}:s1", f"p{purchase.id}:s2"]
    assert services[0].due_at == at("2026-07-02 15:00")


def test_one_reminder_after_three_days_then_expiry_after_seven(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    tick(db, at("2026-03-05 14:59"), transports, SETTINGS)
    assert len(console.sent) == 1
    tick(db, at("2026-03-05 15:00"), transports, SETTINGS)
    tick(db, at("2026-03-06 15:00"), transports, SETTINGS)
    assert len(console.sent) == 2
    tick(db, at("2026-03-09 15:00"), transports, SETTINGS)
    [checkin] = checkins(session, john)
    assert (checkin.status, checkin.closed_at) == ("expired", at("2026-03-09 15:00"))


def test_plan_preview_shows_what_would_happen_and_changes_nothing(
    db, session, cast, transports, console
) -> None:
    deliver(
        session, cast["en"], product="Skoda Octavia", category="car", delivered="2026-03-01 14:00"
    )
    deliver(session, cast["th"], product="Honda City", category="car", delivered="2026-03-01 14:00")
    report = preview(db, at("2026-03-02 15:00"), SETTINGS)
    assert console.sent == []
    assert session.scalar(select(func.count(CheckIn.id))) == 0
    assert session.scalar(select(func.count(Message.id))) == 0
    actions = {o.customer.split()[0]: (o.action, o.reason) for o in report.outcomes}
    assert actions["cust-en"][0] == "send"
    assert actions["cust-th"] == ("wait", "quiet hours: waits until 2026-03-03 09:00 Asia/Bangkok")


def test_a_customer_without_any_contact_is_suppressed_with_the_reason(
    db, session, cast, transports, console
) -> None:
    ghost = Customer(external_id="ghost", name="Ghost", language="en", channel="sms")
    session.add(ghost)
    session.commit()
    deliver(session, ghost, product="Desk", category="furniture", delivered="2026-03-01 08:00")
    tick(db, at("2026-03-03 10:00"), transports, SETTINGS)
    [checkin] = checkins(session, ghost)
    assert checkin.status == "suppressed" and "no way to reach" in (checkin.reason or "")


def test_old_deliveries_do_not_start_a_wave_of_surveys(
    db, session, cast, transports, console
) -> None:
    deliver(session, cast["en"], product="Old car", category="car", delivered="2025-01-01 14:00")
    report = tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    assert report.planned["post_delivery"] == 0


def test_every_language_gets_its_own_words(db, session, cast, transports, console) -> None:
    for language in ("en", "pl", "uk", "ru", "th"):
        deliver(
            session,
            cast[language],
            product="Skoda Octavia",
            category="car",
            delivered="2026-03-01 00:00",
        )
    tick(db, at("2026-03-02 12:00"), transports, SETTINGS)
    tick(db, at("2026-03-02 14:00"), transports, SETTINGS)  # 09:00 in New York
    bodies = {m.to: m.text for m in console.sent}
    assert len(bodies) == 5
    assert len(set(bodies.values())) == 5
    assert "Олена" in bodies["+380501234567"]
    assert "Дмитрий" in bodies["+79161234567"]


def test_an_old_car_gets_one_current_service_check_not_a_backlog(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    purchase = deliver(
        session, john, product="Old Skoda", category="car", delivered="2024-01-01 15:00"
    )
    john.periodic_anchor_at = None
    session.commit()
    # Occurrences fell on 2024-07-01, 2024-12-30, 2025-06-30, 2025-12-29, 2026-06-29.
    tick(db, at("2026-07-01 15:00"), transports, SETTINGS)
    tick(db, at("2026-07-01 15:01"), transports, SETTINGS)
    services = [c for c in checkins(session, john) if c.kind == "service"]
    assert [c.dedupe_key for c in services] == [f"p{purchase.id}:s5"]
    session.refresh(purchase)
    assert purchase.next_service_at == at("2026-12-28 15:00")


def test_a_long_missed_service_check_is_skipped_and_the_next_one_kept(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    purchase = deliver(
        session, john, product="Old Skoda", category="car", delivered="2024-01-01 15:00"
    )
    john.periodic_anchor_at = None
    session.commit()
    tick(db, at("2026-05-01 15:00"), transports, SETTINGS)  # the latest check was 2025-12-29: stale
    assert [c for c in checkins(session, john) if c.kind == "service"] == []
    session.refresh(purchase)
    assert purchase.next_service_at == at("2026-06-29 15:00")


def test_an_apology_held_for_the_night_is_dropped_when_the_order_arrives_first(
    db, session, cast, transports, console
) -> None:
    agnieszka = cast["pl"]  # Europe/Warsaw
    purchase = Purchase(
        external_id="ord-9",
        customer=agnieszka,
        product="Sofa Oslo",
        category="furniture",
        promised_delivery_date=date(2026, 3, 10),
    )
    session.add(purchase)
    session.commit()
    tick(db, at("2026-03-10 23:00"), transports, SETTINGS)  # midnight in Warsaw: waits
    purchase.delivered_at = at("2026-03-11 06:00")  # the sofa arrives at 07:00
    session.commit()
    tick(db, at("2026-03-11 08:00"), transports, SETTINGS)  # 09:00 in Warsaw
    assert console.sent == []
    [notice] = [c for c in checkins(session, agnieszka) if c.kind == "delay_notice"]
    assert notice.status == "suppressed"
    assert notice.reason == "Sofa Oslo was delivered before the apology went out"


def test_a_reminder_due_at_night_waits_without_holding_up_the_others(
    db, session, cast, transports, console
) -> None:
    somchai, john, olena = cast["th"], cast["en"], cast["uk"]
    # Each survey goes out in its customer's morning, Somchai's first, John's last.
    for customer, morning in ((somchai, "03:00"), (olena, "08:00"), (john, "15:00")):
        deliver(session, customer, product="Car", category="car", delivered="2026-03-01 00:00")
        tick(db, at(f"2026-03-02 {morning}"), transports, SETTINGS)
    assert len(console.sent) == 3
    olena.opted_out_at = at("2026-03-03 10:00")
    session.commit()
    console.sent.clear()
    # 22:00 in Bangkok, 10:00 in New York; passes that take one check-in at a time
    # must get past Somchai's waiting reminder (and Olena's, which never goes) to John's.
    for _ in range(3):
        send_reminders_limited(db, at("2026-03-05 15:00"), transports, limit=1)
    assert [m.to for m in console.sent] == ["+14155550101"]
    [waiting] = checkins(session, somchai)
    assert waiting.reason == "reminder waits for quiet hours to end (2026-03-06 09:00 Asia/Bangkok)"
    tick(db, at("2026-03-06 02:00"), transports, SETTINGS)  # 09:00 in Bangkok
    assert [m.to for m in console.sent] == ["+14155550101", "+66812345678"]


def send_reminders_limited(db, now, transports: Transports, *, limit: int) -> int:
    with db.begin() as session:
        count = send_reminders(
            session,
            now,
            DEFAULT_RULES,
            SETTINGS,
            TemplateBook.load(session),
            limit=limit,
        )
    drain(db, now, transports, settings=Settings())
    return count


def mixed_day(session: Session, cast: dict) -> None:
    """One due survey each: sendable, at night, opted out, held, throttled, no contact."""
    for language in ("en", "th", "uk", "ru", "pl"):
        deliver(
            session, cast[language], product="Car", category="car", delivered="2026-03-01 14:00"
        )
    cast["uk"].opted_out_at = at("2026-02-01 00:00")
    cast["pl"].last_survey_at = at("2026-02-25 10:00")
    session.add(Escalation(customer=cast["ru"], rep=cast["rep"], sla_due_at=at("2026-03-01 16:00")))
    session.commit()


def test_plan_shows_exactly_what_the_tick_then_does(db, session, cast, transports, console) -> None:
    mixed_day(session, cast)
    now = at("2026-03-02 15:00")  # 10:00 in New York, 22:00 in Bangkok
    planned = preview(db, now, SETTINGS)
    done = tick(db, now, transports, SETTINGS, keep_outcomes=True)
    # (PostgreSQL's sequences do not roll back, so the preview's ids differ.)
    assert sorted(str(replace(o, checkin_id=0)) for o in planned.outcomes) == sorted(
        str(replace(o, checkin_id=0)) for o in done.outcomes
    )
    assert {o.action for o in done.outcomes} == {"send", "wait", "suppress"}
    # Whatever did not go out says why.
    for checkin in session.scalars(select(CheckIn)):
        assert checkin.status == "sent" or checkin.reason, checkin.customer_id


def test_tick_now_is_the_time_everything_it_records_carries(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Car", category="car", delivered="2031-05-01 14:00")
    now = at("2031-05-02 15:00")  # years away from the real clock
    tick(db, now, transports, SETTINGS)
    [checkin] = checkins(session, john)
    assert (checkin.created_at, checkin.sent_at) == (now, now)
    [message] = session.scalars(select(Message)).all()
    assert (message.created_at, message.sent_at, message.next_attempt_at) == (now, now, now)
    session.refresh(john)
    assert john.last_survey_at == now and john.periodic_anchor_at == now
    tick(db, now + timedelta(days=3), transports, SETTINGS)
    tick(db, now + timedelta(days=7), transports, SETTINGS)
    [checkin] = checkins(session, john)
    assert (checkin.reminder_sent_at, checkin.closed_at) == (
        now + timedelta(days=3),
        now + timedelta(days=7),
    )
    reminder = session.scalars(select(Message).where(Message.purpose == "reminder")).one()
    assert reminder.created_at == reminder.sent_at == now + timedelta(days=3)


def test_a_customer_without_a_time_zone_keeps_to_the_default_zones_night(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    john.timezone = None
    deliver(session, john, product="Car", category="car", delivered="2026-03-01 14:00")
    in_bangkok = Settings(business_name="Kowalski Motors", default_tz="Asia/Bangkok")
    tick(db, at("2026-03-02 15:00"), transports, in_bangkok)  # 22:00 in Bangkok
    assert console.sent == []
    [checkin] = checkins(session, john)
    assert checkin.reason == "quiet hours: waits until 2026-03-03 09:00 Asia/Bangkok"
    tick(db, at("2026-03-03 02:00"), transports, in_bangkok)
    assert len(console.sent) == 1


@pytest.mark.parametrize(
    ("customer", "night", "morning"),
    [
        # New York falls back on 2026-11-01: 09:00 EST is 14:00 UTC, not 13:00.
        ("en", "2026-11-01 05:30", "2026-11-01 14:00"),
        # Warsaw springs forward on 2026-03-29: 09:00 CEST is 07:00 UTC, not 08:00.
        ("pl", "2026-03-29 01:30", "2026-03-29 07:00"),
    ],
)
def test_a_survey_due_on_a_dst_night_goes_at_nine_local(
    db, session, cast, transports, console, customer, night, morning
) -> None:
    person = cast[customer]
    delivered = (at(night) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    deliver(session, person, product="Car", category="car", delivered=delivered)
    tick(db, at(night), transports, SETTINGS)
    tick(db, at(morning) - timedelta(minutes=1), transports, SETTINGS)
    assert console.sent == []
    tick(db, at(morning), transports, SETTINGS)
    assert len(console.to(person.phone)) == 1


def test_a_reminder_to_a_customer_no_longer_reachable_is_not_sent_and_says_why(
    db, session, cast, transports, console
) -> None:
    # Surveyed on Telegram; then they unlinked the chat, and there is no phone.
    john = cast["en"]
    john.channel, john.phone, john.telegram_chat_id = "telegram", None, 4242
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    assert [m.to for m in console.sent] == ["4242"]
    john.telegram_chat_id = None
    session.commit()
    tick(db, at("2026-03-05 15:00"), transports, SETTINGS)
    assert len(console.sent) == 1  # never a message to the address "None"
    assert session.scalar(select(func.count(Message.id)).where(Message.address == "None")) == 0
    [checkin] = checkins(session, john)
    assert checkin.reason == "reminder not sent: no phone or Telegram chat to reach the customer"


def test_a_reminder_goes_where_the_customer_can_still_be_reached(
    db, session, cast, transports, console
) -> None:
    john = cast["en"]
    deliver(session, john, product="Skoda Octavia", category="car", delivered="2026-03-01 14:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)
    john.phone, john.telegram_chat_id = None, 4242  # the number is gone; the chat is linked
    session.commit()
    tick(db, at("2026-03-05 15:00"), transports, SETTINGS)
    assert [m.to for m in console.sent] == ["+14155550101", "4242"]
    reminder = session.scalars(select(Message).where(Message.purpose == "reminder")).one()
    assert reminder.address == "4242"


def test_why_a_customer_hears_nothing_is_the_schedulers_own_answer(db, session, cast) -> None:
    # 20:00 UTC on 2 March is 03:00 on 3 March in Bangkok: a delivery promised for
    # 2 March is overdue there, though not yet by the UTC date. The admin page asks
    # the scheduler, so it says what the scheduler does.
    from cadence.rules import DEFAULT_RULES
    from scheduler.why import survey_now

    somchai = cast["th"]
    session.add(
        Purchase(
            external_id="late-city",
            customer=somchai,
            product="Honda City",
            category="car",
            promised_delivery_date=date(2026, 3, 2),
        )
    )
    session.commit()
    decision = survey_now(session, somchai.id, at("2026-03-02 20:00"), DEFAULT_RULES, "UTC")
    assert decision.action == "wait"
    assert decision.reason == "held: Honda City is overdue and not delivered yet"
    earlier = survey_now(session, somchai.id, at("2026-03-02 16:00"), DEFAULT_RULES, "UTC")
    assert earlier.reason is None or "overdue" not in earlier.reason  # 23:00 on the 2nd there


def test_changing_quiet_hours_releases_check_ins_held_for_the_old_window(
    db, session, cast, transports, console
) -> None:
    somchai = cast["th"]  # Asia/Bangkok, UTC+7
    deliver(session, somchai, product="Honda City", category="car", delivered="2026-03-01 15:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)  # 22:00 in Bangkok: waits
    assert console.sent == []
    with db.begin() as admin:
        save_rules(admin, load_rules(admin).changed({"quiet_start": time(23, 0)}))
    [checkin] = checkins(session, somchai)
    assert checkin.not_before is None  # re-decided by the next pass, not by the old window

    tick(db, at("2026-03-02 15:05"), transports, SETTINGS)  # 22:05: inside the new window
    assert len(console.to("+66812345678")) == 1


def test_a_cadence_change_re_decides_waiting_check_ins_under_the_new_rules(
    db, session, cast, transports, console
) -> None:
    somchai = cast["th"]
    deliver(session, somchai, product="Honda City", category="car", delivered="2026-03-01 15:00")
    tick(db, at("2026-03-02 15:00"), transports, SETTINGS)  # 22:00 in Bangkok: waits
    with db.begin() as admin:  # a later morning: still night at 22:05, now until 10:00
        save_rules(admin, load_rules(admin).changed({"quiet_end": time(10, 0)}))
    tick(db, at("2026-03-02 15:05"), transports, SETTINGS)
    assert console.sent == []
    [checkin] = checkins(session, somchai)
    assert checkin.reason == "quiet hours: waits until 2026-03-03 10:00 Asia/Bangkok"
    tick(db, at("2026-03-03 02:30"), transports, SETTINGS)  # 09:30: no longer the start
    assert console.sent == []
    tick(db, at("2026-03-03 03:00"), transports, SETTINGS)
    assert len(console.to("+66812345678")) == 1
