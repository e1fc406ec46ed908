"""The all-or-nothing CSV import: every bad cell named by line and column, or every row upserted."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import settings
from cli.importing import import_group
from importing import ImportErrors, ImportReport, RowError, import_csv
from models import Customer, Purchase, Rep
from tests.conftest import at

DATA = Path(__file__).parent / "data" / "import"
NOW = at("2026-03-01 12:00")

CUSTOMER_HEADER = (
    "external_id,name,phone,telegram_chat_id,language,timezone,channel,rep_external_id,tags"
)
PURCHASE_HEADER = (
    "external_id,customer_external_id,product,category,purchased_at,"
    "promised_delivery_date,delivered_at,rep_external_id"
)


def csv_text(*lines: str) -> io.StringIO:
    """A file whose line N is `lines[N - 1]`: line numbers in tests read off the list."""
    return io.StringIO("\n".join(lines) + "\n")


def run(session: Session, kind: str, source, **options) -> ImportReport:  # type: ignore[no-untyped-def]
    options.setdefault("now", NOW)
    options.setdefault("default_tz", "UTC")
    return import_csv(session, kind, source, **options)


def errors_of(session: Session, kind: str, source) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportErrors) as caught:
        run(session, kind, source)
    return [(error.line, error.column, error.message) for error in caught.value.errors]


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def customer(session: Session, external_id: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.external_id == external_id)).one()


def purchase(session: Session, external_id: str) -> Purchase:
    return session.scalars(select(Purchase).where(Purchase.external_id == external_id)).one()


def rep(session: Session, external_id: str) -> Rep:
    return session.scalars(select(Rep).where(Rep.external_id == external_id)).one()


@pytest.fixture
def people(session: Session) -> Session:
    """The sample reps and customers from tests/data/import, imported."""
    run(session, "reps", DATA / "reps.csv")
    run(session, "customers", DATA / "customers.csv")
    session.commit()
    return session


# Happy paths


def test_it_imports_reps_whose_manager_comes_later_in_the_file(session: Session) -> None:
    report = run(session, "reps", DATA / "reps.csv")

    assert report.summary() == "reps: 4 created, 0 updated, 0 unchanged"
    anna = rep(session, "rep-anna")
    assert anna.phone == "+48600000002"
    assert anna.role == "rep"
    assert anna.manager is not None and anna.manager.external_id == "mgr-marek"
    assert anna.manager.manager is not None and anna.manager.manager.external_id == "adm-zofia"
    assert rep(session, "rep-olena").telegram_chat_id == 5550001
    assert rep(session, "rep-olena").role == "rep"  # empty role: the default
    assert rep(session, "adm-zofia").manager is None


def test_it_imports_customers_with_e164_phones_and_defaults(session: Session) -> None:
    run(session, "reps", DATA / "reps.csv")
    report = run(session, "customers", DATA / "customers.csv")

    assert report.summary() == "customers: 5 created, 0 updated, 0 unchanged"
    ola = customer(session, "cust-ola")
    assert ola.name == "Wiśniewska, Agnieszka"
    assert ola.phone == "+48601234567"  # from "+48 601-234-567"
    assert ola.channel == "sms"  # empty: the default
    assert ola.tags == []
    assert ola.rep is not None and ola.rep.external_id == "rep-anna"
    john = customer(session, "cust-john")
    assert (john.phone, john.language, john.timezone) == ("+14155550101", "en", "America/New_York")
    assert john.tags == ["vip", "car"]
    olena = customer(session, "cust-olena")
    assert (olena.channel, olena.telegram_chat_id, olena.phone) == ("telegram", 7001, None)
    assert olena.tags == ["dental", "vip"]
    somchai = customer(session, "cust-somchai")
    assert (somchai.channel, somchai.timezone) == (
        "telegram",
        None,
    )  # links later, by the deep link
    dmitry = customer(session, "cust-dmitry")
    assert (dmitry.language, dmitry.channel, dmitry.rep_id) == ("en", "sms", None)
    tokens = session.scalars(select(Customer.telegram_link_token)).all()
    assert len(set(tokens)) == 5 and all(tokens)


def test_it_imports_purchases_reading_times_without_a_zone_in_the_customers_zone(
    people: Session,
) -> None:
    report = run(people, "purchases", DATA / "purchases.csv")

    assert report.summary() == "purchases: 4 created, 0 updated, 0 unchanged"
    assert report.warnings == []
    car = purchase(people, "p-1")
    assert car.customer.external_id == "cust-john"
    assert car.product == "Škoda Octavia"
    assert car.category == "car"  # " Car " lower-cased and stripped
    assert car.purchased_at == at("2026-01-10 15:00")
    assert car.delivered_at == at("2026-02-01 17:00")  # noon in New York
    assert car.promised_delivery_date == date(2026, 2, 1)
    assert car.rep is not None and car.rep.external_id == "rep-anna"
    implant = purchase(people, "p-2")
    assert implant.purchased_at == at("2026-02-02 23:00")  # a bare date: midnight in Warsaw
    assert implant.delivered_at == at("2026-02-05 08:30")
    assert implant.rep_id is None
    mower = purchase(people, "p-3")
    assert (mower.delivered_at, mower.promised_delivery_date) == (None, date(2026, 3, 1))
    assert mower.purchased_at == at("2026-02-10 09:00")  # Kyiv
    assert purchase(people, "p-4").delivered_at == at("2026-02-20 08:00")


def test_a_time_without_a_zone_for_a_customer_without_one_uses_the_default_zone(
    people: Session,
) -> None:
    source = csv_text(
        "external_id,customer_external_id,product,delivered_at",
        "p-9,cust-dmitry,Kettle,2026-02-01 12:00",
    )
    run(people, "purchases", source, default_tz="Asia/Bangkok")

    assert purchase(people, "p-9").delivered_at == at("2026-02-01 05:00")


def test_purchase_times_may_be_rfc_3339_in_lower_case(people: Session) -> None:
    source = csv_text(
        "external_id,customer_external_id,product,purchased_at,delivered_at",
        "p-9,cust-dmitry,Kettle,2026-02-01t10:00:00z,2026-02-03t12:00:00+01:00",
    )
    run(people, "purchases", source)

    kettle = purchase(people, "p-9")
    assert (kettle.purchased_at, kettle.delivered_at) == (
        at("2026-02-01 10:00"),
        at("2026-02-03 11:00"),
    )


def test_times_without_a_zone_are_read_in_the_callers_default_zone(people: Session) -> None:
    # The CLI passes AFTERCARE_DEFAULT_TZ; the import itself reads no environment.
    source = csv_text(
        "external_id,customer_external_id,product,delivered_at",
        "p-9,cust-dmitry,Kettle,2026-02-01 12:00",
    )
    import_csv(people, "purchases", source, now=NOW, default_tz="Europe/Warsaw")

    assert purchase(people, "p-9").delivered_at == at("2026-02-01 11:00")


# Updating


def test_importing_the_same_file_again_changes_nothing(people: Session) -> None:
    run(people, "purchases", DATA / "purchases.csv")
    people.commit()

    assert run(people, "reps", DATA / "reps.csv").summary() == (
        "reps: 0 created, 0 updated, 4 unchanged"
    )
    assert run(people, "customers", DATA / "customers.csv").summary() == (
        "customers: 0 created, 0 updated, 5 unchanged"
    )
    assert run(people, "purchases", DATA / "purchases.csv").summary() == (
        "purchases: 0 created, 0 updated, 4 unchanged"
    )


def test_only_rows_that_differ_count_as_updated(people: Session) -> None:
    source = csv_text(
        "external_id,name,phone,rep_external_id",
        "cust-john,John Smith,+14155550101,rep-anna",
        "cust-ola,Agnieszka Wiśniewska,+48601234567,rep-anna",
        "cust-dmitry,Дмитрий Иванов,+79161234567,rep-olena",
        "cust-new,Nowy Klient,+48601234599,",
    )
    report = run(people, "customers", source)

    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    assert customer(people, "cust-ola").name == "Agnieszka Wiśniewska"
    assert customer(people, "cust-ola").language == "pl"  # column absent: kept
    dmitry = customer(people, "cust-dmitry")
    assert dmitry.rep is not None and dmitry.rep.external_id == "rep-olena"


def test_an_empty_cell_keeps_what_is_stored(people: Session) -> None:
    # The bot learns chat ids itself; a CRM export that does not know them must not erase them.
    source = csv_text(CUSTOMER_HEADER, "cust-olena,Олена Бондаренко,,,,,,,")
    report = run(people, "customers", source)

    assert report.unchanged == 1
    olena = customer(people, "cust-olena")
    assert (olena.telegram_chat_id, olena.language, olena.channel) == (7001, "uk", "telegram")
    assert olena.tags == ["dental", "vip"]


def test_a_rep_can_change_manager(people: Session) -> None:
    source = csv_text(
        "external_id,name,manager_external_id",
        "rep-anna,Anna Kowalska,mgr-new",
        "mgr-new,Nowy Kierownik,adm-zofia",
    )
    report = run(people, "reps", source)

    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    anna = rep(people, "rep-anna")
    assert anna.manager is not None and anna.manager.external_id == "mgr-new"


def test_two_customers_can_swap_telegram_chat_ids(people: Session) -> None:
    run(people, "customers", csv_text("external_id,name,telegram_chat_id", "cust-john,John,8001"))
    people.commit()
    source = csv_text(
        "external_id,name,telegram_chat_id",
        "cust-john,John,7001",
        "cust-olena,Олена,8001",
    )
    report = run(people, "customers", source)
    people.commit()

    assert report.updated == 2
    assert customer(people, "cust-john").telegram_chat_id == 7001
    assert customer(people, "cust-olena").telegram_chat_id == 8001


# What the scheduler relies on


def test_a_delivered_service_purchase_gets_its_first_service_check(people: Session) -> None:
    run(people, "purchases", DATA / "purchases.csv")

    assert purchase(people, "p-1").next_service_at == at("2026-02-01 17:00") + timedelta(days=182)
    assert purchase(people, "p-4").next_service_at == at("2026-08-21 08:00")  # garage
    assert purchase(people, "p-2").next_service_at is None  # dental: no service checks
    assert purchase(people, "p-3").next_service_at is None  # machinery, not delivered yet


def test_the_service_check_moves_only_when_the_delivery_does(people: Session) -> None:
    run(people, "purchases", DATA / "purchases.csv")
    planned_by_scheduler = at("2027-02-01 09:00")
    purchase(people, "p-1").next_service_at = planned_by_scheduler
    people.commit()

    run(people, "purchases", DATA / "purchases.csv")
    assert purchase(people, "p-1").next_service_at == planned_by_scheduler

    source = csv_text(
        "external_id,customer_external_id,product,category,delivered_at",
        "p-1,cust-john,Škoda Octavia,car,2026-02-03T10:00Z",
        "p-4,cust-somchai,Tyres,dental,",
    )
    run(people, "purchases", source)
    assert purchase(people, "p-1").next_service_at == at("2026-02-03 10:00") + timedelta(days=182)
    assert purchase(people, "p-4").next_service_at is None  # no longer a service category


def test_a_first_delivery_starts_the_customers_periodic_check_ins(people: Session) -> None:
    customer(people, "cust-ola").periodic_anchor_at = at("2025-12-01 00:00")
    people.commit()
    source = csv_text(
        "external_id,customer_external_id,product,delivered_at",
        "p-1,cust-john,Car,2026-02-10T10:00Z",
        "p-2,cust-john,Mats,2026-02-01T10:00Z",
        "p-3,cust-ola,Implant,2026-02-05T10:00Z",
        "p-4,cust-dmitry,Kettle,",
    )
    run(people, "purchases", source)

    assert customer(people, "cust-john").periodic_anchor_at == at("2026-02-01 10:00")
    assert customer(people, "cust-ola").periodic_anchor_at == at("2025-12-01 00:00")  # kept
    assert customer(people, "cust-dmitry").periodic_anchor_at is None


def test_a_delivery_in_the_future_is_imported_with_a_warning(people: Session) -> None:
    source = csv_text(
        "external_id,customer_external_id,product,delivered_at",
        "p-1,cust-john,Car,2026-03-05T10:00Z",
    )
    report = run(people, "purchases", source)

    assert report.created == 1
    assert [(w.line, w.column) for w in report.warnings] == [(2, "delivered_at")]
    assert "in the future" in report.warnings[0].message


# Errors: each named by line and column, nothing written


def test_every_bad_row_is_reported_with_its_own_line_even_after_a_multiline_field(
    people: Session,
) -> None:
    source = csv_text(
        CUSTOMER_HEADER,
        'c-1,"Jan',  # a quoted name over lines 2 and 3
        'Kowalski",+48601234501,,pl,,sms,rep-anna,',
        "c-2,Ewa,601234502,,pl,,sms,rep-anna,",
        "c-3,Piotr,+1 555 0100,,de,Europe/Warsow,fax,rep-nobody,",
        'c-4,"Multi',
        'line",+48601234504,abc,,europe/warsaw,,,',
    )
    assert errors_of(people, "customers", source) == [
        (4, "phone", "'601234502' is not in international format (+country code)"),
        (5, "phone", "'+1 555 0100' is not a valid phone number"),
        (5, "language", "'de' is not one of en, pl, uk, ru, th"),
        (5, "timezone", "'Europe/Warsow' is not a known time zone (IANA name like Europe/Warsaw)"),
        (5, "channel", "'fax' is not one of sms, telegram, email"),
        (5, "rep_external_id", "unknown rep 'rep-nobody' (import reps first)"),
        (6, "telegram_chat_id", "'abc' is not a whole number"),
        (6, "timezone", "'europe/warsaw' is not a known time zone (did you mean Europe/Warsaw?)"),
    ]


def test_a_file_with_one_bad_row_among_good_ones_imports_nothing(
    people: Session, db: sessionmaker[Session]
) -> None:
    before = (count(people, Rep), count(people, Customer))
    source = csv_text(
        CUSTOMER_HEADER,
        "c-1,Jan,+48601234501,,pl,,sms,rep-anna,",
        "cust-john,John Renamed,+14155550101,,,,,,",
        "c-2,Ewa,+48601234502,,pl,,sms,rep-anna,",
        "c-3,Bad Phone,12345,,pl,,sms,rep-anna,",
        "c-4,Ola,+48601234504,,pl,,sms,rep-anna,",
    )
    assert errors_of(people, "customers", source) == [
        (5, "phone", "'12345' is not in international format (+country code)")
    ]
    people.commit()

    with db() as fresh:
        assert (count(fresh, Rep), count(fresh, Customer)) == before
        assert customer(fresh, "cust-john").name == "John Smith"


def test_unknown_and_missing_columns_are_named(session: Session) -> None:
    source = csv_text("external_id,nmae,phone,e_mail", "c-1,Jan,+48601234501,jan@example.com")
    expected = f"{CUSTOMER_HEADER},email".replace(",", ", ")
    assert errors_of(session, "customers", source) == [
        (1, "nmae", f"unknown column (expected: {expected})"),
        (1, "e_mail", f"unknown column (expected: {expected})"),
        (1, "name", "missing required column"),
    ]


def test_header_names_ignore_case_and_spaces_but_not_repeats(session: Session) -> None:
    source = csv_text(" External_ID , Name,name", "c-1,Jan,Jan")
    assert errors_of(session, "customers", source) == [(1, "name", "appears twice in the header")]


def test_an_empty_file_is_a_clear_error(session: Session) -> None:
    [(line, column, message)] = errors_of(session, "reps", io.StringIO(""))
    assert (line, column) == (1, "")
    assert message.startswith("the file is empty; expected a header row: external_id,name,")


def test_a_file_without_a_header_row_is_a_clear_error(session: Session) -> None:
    source = csv_text("c-1,Jan,+48601234501", "c-2,Ewa,+48601234502")
    [(line, column, message)] = errors_of(session, "customers", source)
    assert (line, column) == (1, "")
    assert message.startswith("no header row: the first line must name the columns")


def test_a_row_with_too_many_or_too_few_fields_is_an_error(session: Session) -> None:
    source = csv_text("external_id,name", "r-1,Anna,extra", "", "r-2", "r-3,Ola")
    assert errors_of(session, "reps", source) == [
        (2, "", "expected 2 fields, as in the header; found 3"),
        (4, "", "expected 2 fields, as in the header; found 1"),
    ]


def test_an_unclosed_quote_is_an_error_at_the_line_it_opens(session: Session) -> None:
    source = csv_text("external_id,name", "r-1,Anna", 'r-2,"Ola', "r-3,Ewa")
    [(line, column, message)] = errors_of(session, "reps", source)
    assert (line, column) == (3, "")
    assert "unreadable CSV" in message


def test_a_file_that_is_not_utf8_is_an_error_naming_the_line(session: Session) -> None:
    source = io.BytesIO("external_id,name\nr-1,Anna\nr-2,Bo\u017cena\n".encode("cp1250"))
    [(line, _, message)] = errors_of(session, "reps", source)
    assert line == 3 and "not UTF-8" in message


def test_windows_line_endings_keep_line_numbers_right(session: Session) -> None:
    text = 'external_id,name,phone\r\nr-1,"Anna\r\nKowalska",+48601234501\r\nr-2,Ola,0601\r\n'
    assert errors_of(session, "reps", io.BytesIO(text.encode())) == [
        (4, "phone", "'0601' is not in international format (+country code)")
    ]


def test_a_utf8_bom_is_ignored(session: Session) -> None:
    source = io.BytesIO("\ufeffexternal_id,name\nr-1,Bożena\n".encode())
    assert run(session, "reps", source).created == 1
    assert rep(session, "r-1").name == "Bożena"


def test_required_cells_must_not_be_empty(session: Session) -> None:
    source = csv_text("external_id,name", ",Anna", "r-2,")
    assert errors_of(session, "reps", source) == [
        (2, "external_id", "is required"),
        (3, "name", "is required"),
    ]


def test_a_repeated_external_id_is_an_error_on_the_later_line(session: Session) -> None:
    source = csv_text("external_id,name", "r-1,Anna", "r-2,Ola", "r-1,Anna Again")
    assert errors_of(session, "reps", source) == [
        (4, "external_id", "'r-1' already appears on line 2")
    ]


def test_a_text_too_long_for_the_database_is_an_error(session: Session) -> None:
    source = csv_text("external_id,name", f"r-1,{'A' * 201}")
    assert errors_of(session, "reps", source) == [
        (2, "name", "is 201 characters long; at most 200 fit")
    ]


def test_each_channel_needs_a_way_to_reach_the_customer(people: Session) -> None:
    source = csv_text(
        "external_id,name,phone,telegram_chat_id,channel",
        "c-1,No Phone,,,sms",
        "c-2,Nothing At All,,,telegram",
        "c-3,Chat Only,,9001,telegram",
        "c-4,Phone Only,+48601234504,,telegram",
        "c-5,Default Channel,,,",
    )
    assert errors_of(people, "customers", source) == [
        (2, "phone", "channel sms needs a phone"),
        (3, "telegram_chat_id", "channel telegram needs a telegram_chat_id or a phone"),
        (6, "phone", "channel sms needs a phone"),
    ]


def test_a_phone_or_chat_id_belongs_to_one_customer(people: Session) -> None:
    source = csv_text(
        "external_id,name,phone,telegram_chat_id",
        "c-1,Jan,+48601234501,9001",
        "c-2,Ewa,+48 601 234 501,9001",
        "c-3,Ola,+1 415 555 0101,",
        "c-4,Ala,+48601234504,7001",
        "cust-dmitry,Дмитрий Иванов,+48601234505,",
        "c-6,Iga,+79161234567,",
    )
    assert errors_of(people, "customers", source) == [
        (3, "phone", "+48601234501 is also on line 2"),
        (3, "telegram_chat_id", "9001 is also on line 2"),
        (4, "phone", "+14155550101 already belongs to customer 'cust-john'"),
        (5, "telegram_chat_id", "7001 already belongs to customer 'cust-olena'"),
        # line 7 takes the phone cust-dmitry gives up on line 6: allowed
    ]


def test_a_customers_rep_must_exist(session: Session) -> None:
    source = csv_text("external_id,name,phone,rep_external_id", "c-1,Jan,+48601234501,rep-9")
    assert errors_of(session, "customers", source) == [
        (2, "rep_external_id", "unknown rep 'rep-9' (import reps first)")
    ]


def test_reps_managers_must_exist_and_not_loop(people: Session) -> None:
    source = csv_text(
        "external_id,name,role,manager_external_id",
        "r-1,Self,rep,r-1",
        "r-2,Orphan,rep,nobody",
        "r-3,Loop A,manager,r-4",
        "r-4,Loop B,manager,r-3",
        "adm-zofia,Zofia Zielińska,admin,rep-anna",
        "r-6,Boss,chief,",
    )
    assert errors_of(people, "reps", source) == [
        (2, "manager_external_id", "a rep cannot be their own manager"),
        (3, "manager_external_id", "unknown rep 'nobody' (not in this file nor in the database)"),
        (4, "manager_external_id", "management chain loops: r-3 -> r-4 -> r-3"),
        (5, "manager_external_id", "management chain loops: r-4 -> r-3 -> r-4"),
        (
            6,
            "manager_external_id",
            "management chain loops: adm-zofia -> rep-anna -> mgr-marek -> adm-zofia",
        ),
        (7, "role", "'chief' is not one of rep, manager, admin"),
    ]


def test_a_rep_without_phone_or_chat_id_is_imported_with_a_warning(session: Session) -> None:
    report = run(session, "reps", csv_text("external_id,name,role", "r-1,Anna,admin"))
    assert report.created == 1
    assert [(w.line, w.column) for w in report.warnings] == [(2, "phone")]


def test_a_purchases_customer_and_rep_must_exist(people: Session) -> None:
    source = csv_text(
        "external_id,customer_external_id,product,rep_external_id",
        "p-1,cust-nobody,Car,",
        "p-2,cust-john,Car,rep-nobody",
    )
    assert errors_of(people, "purchases", source) == [
        (2, "customer_external_id", "unknown customer 'cust-nobody' (import customers first)"),
        (3, "rep_external_id", "unknown rep 'rep-nobody' (import reps first)"),
    ]


def test_purchase_times_and_dates_must_be_iso_8601(people: Session) -> None:
    source = csv_text(
        PURCHASE_HEADER,
        "p-1,cust-john,Car,car,01/02/2026,,,",
        "p-2,cust-john,Car,car,,2026-03-01T10:00,,",
        "p-3,cust-john,Car,car,,2026-02-30,,",
        "p-4,cust-john,Car,car,,,0026-02-01,",
        "p-5,cust-nobody,Car,car,,,yesterday,",
    )
    assert errors_of(people, "purchases", source) == [
        (
            2,
            "purchased_at",
            "'01/02/2026' is not an ISO 8601 time (like 2026-03-01T14:30 or 2026-03-01T14:30+01:00)",
        ),
        (
            3,
            "promised_delivery_date",
            "'2026-03-01T10:00' has a time; expected a date alone (YYYY-MM-DD)",
        ),
        (4, "promised_delivery_date", "'2026-02-30' is not a date (YYYY-MM-DD)"),
        (5, "delivered_at", "'0026-02-01' has an implausible year"),
        (6, "customer_external_id", "unknown customer 'cust-nobody' (import customers first)"),
        (
            6,
            "delivered_at",
            "'yesterday' is not an ISO 8601 time (like 2026-03-01T14:30 or 2026-03-01T14:30+01:00)",
        ),
    ]


def test_the_summary_counts_errors_and_rows() -> None:
    errors = ImportErrors(
        [RowError(3, "phone", "x"), RowError(3, "name", "y"), RowError(5, "", "z")], 9
    )
    assert errors.summary() == "3 errors in 2 rows; nothing was imported"
    assert errors.lines("f.csv") == ["f.csv:3: phone: x", "f.csv:3: name: y", "f.csv:5: z"]


# Size, dry runs, progress


def test_thousands_of_rows_import_across_query_chunks(people: Session) -> None:
    lines = ["external_id,name,phone,telegram_chat_id"]
    lines += [f"c-{i},Customer {i},+4860{i:07d},{100000 + i}" for i in range(2500)]
    calls: list[tuple[int, int]] = []

    report = run(people, "customers", csv_text(*lines), progress=lambda *call: calls.append(call))
    people.commit()
    assert report.created == 2500
    assert calls[-1] == (2500, 2500)

    lines[1800] = "c-1799,Customer 1799,+14155550101,"  # cust-john's phone
    with pytest.raises(ImportErrors) as caught:
        run(people, "customers", csv_text(*lines))
    assert [(e.line, e.column) for e in caught.value.errors] == [(1801, "phone")]
    assert run(people, "customers", csv_text(*lines[:1800])).unchanged == 1799


def test_a_dry_run_reports_without_writing(session: Session) -> None:
    report = run(session, "reps", DATA / "reps.csv", dry_run=True)

    assert (
        report.summary() == "reps: 4 created, 0 updated, 0 unchanged (dry run: nothing was written)"
    )
    assert count(session, Rep) == 0


# Command line


@pytest.fixture
def bot(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Callable[..., Result]:
    monkeypatch.setenv("AFTERCARE_DATABASE_URL", database_url)
    settings.reset_settings()
    runner = CliRunner()
    return lambda *args: runner.invoke(import_group, [str(arg) for arg in args])


def test_the_command_imports_each_kind_and_prints_a_summary(
    bot: Callable[..., Result], db: sessionmaker[Session]
) -> None:
    for kind, summary in [
        ("reps", "reps: 4 created, 0 updated, 0 unchanged"),
        ("customers", "customers: 5 created, 0 updated, 0 unchanged"),
        ("purchases", "purchases: 4 created, 0 updated, 0 unchanged"),
    ]:
        result = bot(kind, DATA / f"{kind}.csv")
        assert result.exit_code == 0, result.output
        assert result.stdout == summary + "\n"
        assert "error" not in result.stderr
    with db() as session:
        assert (count(session, Rep), count(session, Customer), count(session, Purchase)) == (
            4,
            5,
            4,
        )


def test_the_command_reports_bad_rows_on_stderr_and_exits_1(
    bot: Callable[..., Result], db: sessionmaker[Session], tmp_path: Path
) -> None:
    assert bot("reps", DATA / "reps.csv").exit_code == 0
    (tmp_path / "customers.csv").write_bytes((DATA / "customers-with-errors.csv").read_bytes())

    result = bot("customers", "customers.csv")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "customers.csv:4: phone: '601 234 568' is not in international format (+country code)",
        "customers.csv:5: language: 'de' is not one of en, pl, uk, ru, th",
        "customers.csv:5: rep_external_id: unknown rep 'rep-nobody' (import reps first)",
        "3 errors in 2 rows; nothing was imported",
    ]
    with db() as session:
        assert count(session, Customer) == 0


def test_the_command_prints_warnings_on_stderr(bot: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text("external_id,name\nr-1,Anna\n", encoding="utf-8")
    result = bot("reps", "reps.csv")

    assert result.exit_code == 0
    assert result.stdout == "reps: 1 created, 0 updated, 0 unchanged\n"
    assert result.stderr.startswith("reps.csv:2: phone: warning: has neither phone nor")


def test_the_command_refuses_a_missing_file(bot: Callable[..., Result]) -> None:
    result = bot("reps", "no-such-file.csv")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_the_command_can_check_a_file_without_importing_it(
    bot: Callable[..., Result], db: sessionmaker[Session]
) -> None:
    result = bot("reps", DATA / "reps.csv", "--dry-run")

    assert result.exit_code == 0
    assert result.stdout.startswith("reps: 4 created, 0 updated, 0 unchanged (dry run")
    with db() as session:
        assert count(session, Rep) == 0


def test_an_unknown_kind_is_a_programming_error(session: Session) -> None:
    with pytest.raises(ValueError, match="unknown kind 'orders'"):
        run(session, "orders", io.StringIO("external_id\n"))


@pytest.mark.parametrize("args", [[], ["reps"], ["customers"], ["purchases"]])
def test_every_import_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(import_group, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "CSV" in result.stdout
