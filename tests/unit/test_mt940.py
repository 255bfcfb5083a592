"""The MT940 reader: what it reads, every tolerated bank quirk, and what it refuses.

Statements are written inline (or rendered from random values by :func:`render`, the
test-side MT940 writer) and read back; the shared sample files are covered by
tests/integration/test_mt940_csv_samples.py.
"""

from __future__ import annotations

import string
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import mt940
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mt940.models import Transactions

from o2c.adapters.statements import _mt940_details
from o2c.adapters.statements.mt940 import MAX_DETAILS_LENGTH, MAX_LINE_LENGTH, read_mt940
from o2c.errors import (
    DuplicateStatementLineError,
    StatementBalanceError,
    StatementEncodingError,
    StatementFormatError,
    StatementStructureError,
    StatementTooLargeError,
    StatementValueError,
    UnsupportedStatementError,
)
from o2c.money import Money
from o2c.statements import Balance, BalanceKind, Statement, StatementEntry

IBAN = "DE89370400440532013000"
PAYER_IBAN = "DE44500105175407324931"


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def mt(*lines: str, end: str = "-") -> bytes:
    """One statement's lines, LF-separated, with an end line."""
    return ("\n".join(lines) + ("\n" + end if end else "")).encode()


HEAD = (":20:STMT1", f":25:{IBAN}", ":28C:7/1", ":60F:C260301EUR100,00")


def one(*body: str, closing: str = ":62F:C260302EUR119,99", head: Sequence[str] = HEAD) -> bytes:
    return mt(*head, *body, closing)


def read_one(data: bytes, **kwargs: object) -> Statement:
    (statement,) = read_mt940(data, **kwargs)  # type: ignore[arg-type]
    return statement


# -- what is read ----------------------------------------------------------------------


def test_a_german_structured_entry_is_read_field_by_field() -> None:
    data = one(
        ":61:2603020302C19,99NTRFNONREF//BANKREF1",
        ":86:166?00GUTSCHRIFT?109310?20EREF+E2E-77?21SVWZ+Invoice INV-1?22 and INV-2",
        f"?30DEUTDEFF?31{PAYER_IBAN}?32Ada?33 Lovelace",
    )
    statement = read_one(data)
    assert statement == Statement(
        statement_id="STMT1/7/1@2026-03-02",
        account=IBAN,
        currency="EUR",
        entries=(
            StatementEntry(
                line_id="BANKREF1",
                booking_date=date(2026, 3, 2),
                value_date=date(2026, 3, 2),
                amount=eur("19.99"),
                counterparty_name="Ada Lovelace",
                counterparty_iban=PAYER_IBAN,
                remittance="Invoice INV-1 and INV-2",
                end_to_end_id="E2E-77",
                bank_code="NTRF",
            ),
        ),
        balances=(
            Balance(BalanceKind.OPENING, eur("100.00"), date(2026, 3, 1), "60F"),
            Balance(BalanceKind.CLOSING, eur("119.99"), date(2026, 3, 2), "62F"),
        ),
        source_format="mt940",
    )
    assert statement.reconciles is True


def test_swift_code_details_are_read() -> None:
    data = one(
        ":61:2603020302C19,99NTRFEREF//00000001",
        ":86:/EREF/E2E-1//CNTP/" + PAYER_IBAN + "/INGBNL2A/ADA LOVELACE/LONDON",
        "///REMI/USTD//Invoice INV-1/",
    )
    entry = read_one(data).entries[0]
    assert (entry.end_to_end_id, entry.counterparty_iban, entry.counterparty_name) == (
        "E2E-1",
        PAYER_IBAN,
        "ADA LOVELACE",
    )
    assert entry.remittance == "Invoice INV-1"


def test_a_structured_remittance_and_a_creditor_reference_are_kept() -> None:
    data = one(
        ":61:2603020302C9,99NTRF//R1",
        ":86:/REMI/STRD/CUR/RF18539007547034/",
        ":61:2603020302C10,00NTRF//R2",
        ":86:166?00GUTSCHRIFT?20SVWZ+RF18 5390 0754 7034",
    )
    first, second = read_one(data).entries
    assert first.structured_reference == "RF18539007547034"
    assert second.structured_reference == "RF18539007547034"
    assert second.remittance == "RF18 5390 0754 7034"


def test_a_wrong_creditor_reference_check_is_plain_text() -> None:
    data = one(":61:2603020302C19,99NTRF//R1", ":86:166?20SVWZ+RF19 5390 0754 7034")
    entry = read_one(data).entries[0]
    assert (entry.structured_reference, entry.remittance) == ("", "RF19 5390 0754 7034")


def test_named_parties_swift_layout_and_bare_iban_code() -> None:
    data = one(
        ":61:2603020302C19,99NTRF//R1",
        f":86:/ORDP//NAME/Ada Lovelace/ADDR/London/IBAN/{PAYER_IBAN}/REMI/paid",
    )
    entry = read_one(data).entries[0]
    assert (entry.counterparty_name, entry.counterparty_iban, entry.remittance) == (
        "Ada Lovelace",
        PAYER_IBAN,
        "paid",
    )


def test_swift_codes_without_remi_keep_the_whole_text() -> None:
    data = one(":61:2603020302C19,99NMSC//R1", ":86:/BENM/300000000000133", "/Paid invoice 747")
    entry = read_one(data).entries[0]
    assert entry.remittance == "/BENM/300000000000133 /Paid invoice 747"


def test_free_text_details_are_the_remittance() -> None:
    data = one(":61:2603020302C19,99NMSC//R1", ":86:BEA   NR:XXX1234", "  21.05.11  KATWIJK")
    assert read_one(data).entries[0].remittance == "BEA NR:XXX1234 21.05.11 KATWIJK"


def test_triodos_writes_gt_for_the_question_mark() -> None:
    data = one(
        ":61:2603020302C19,99NIT NONREF//R1",
        ":86:000>100555555555",
        ">20INVOICE 4711>21 PAID",
        ">310666666666",
        ">32ACME",
    )
    entry = read_one(data).entries[0]
    assert (entry.remittance, entry.counterparty_iban, entry.counterparty_name) == (
        "INVOICE 4711 PAID",
        "0666666666",
        "ACME",
    )


def test_reversals_are_signed_as_the_movement_they_are() -> None:
    data = one(
        ":61:2603020302RC10,00NRTI//R1",
        ":61:2603020302RD29,99NRTI//R2",
    )
    first, second = read_one(data).entries
    assert (first.amount, first.reversal) == (eur("-10.00"), True)
    assert (second.amount, second.reversal) == (eur("29.99"), True)


def test_debits_are_negative_and_funds_codes_are_skipped() -> None:
    data = one(":61:2603020302DR10,00NTRF//R1", ":61:2603020302CR29,99NTRF//R2")
    assert [e.amount for e in read_one(data).entries] == [eur("-10.00"), eur("29.99")]


def test_the_entry_date_is_the_booking_date_and_may_fall_in_the_year_before() -> None:
    data = mt(
        ":20:S",
        f":25:{IBAN}",
        ":28C:1",
        ":60F:C251231EUR0,00",
        ":61:2601021231C5,00NTRF//R1",
        ":61:2512310102C5,00NTRF//R2",
        ":61:260105C5,00NTRF//R3",
        ":62F:C260105EUR15,00",
    )
    first, second, third = read_one(data).entries
    assert (first.value_date, first.booking_date) == (date(2026, 1, 2), date(2025, 12, 31))
    assert (second.value_date, second.booking_date) == (date(2025, 12, 31), date(2026, 1, 2))
    assert third.booking_date == third.value_date == date(2026, 1, 5)


def test_a_30_february_is_the_last_day_of_february() -> None:
    data = mt(
        ":20:S",
        f":25:{IBAN}",
        ":28C:1",
        ":60F:C240228EUR0,00",
        ":61:2402300230C5,00NTRF//R1",
        ":61:2502300230C5,00NTRF//R2",
        ":62F:C240229EUR10,00",
    )
    first, second = read_one(data).entries
    assert (first.value_date, first.booking_date) == (date(2024, 2, 29), date(2024, 2, 29))
    assert (second.value_date, second.booking_date) == (date(2025, 2, 28), date(2025, 2, 28))


def test_years_before_70_are_this_century_and_after_the_last() -> None:
    data = mt(
        ":20:S",
        f":25:{IBAN}",
        ":28C:1",
        ":60F:C991230EUR0,00",
        ":61:9912311231C5,00NTRF//R1",
        ":62F:C991231EUR5,00",
    )
    statement = read_one(data)
    assert statement.entries[0].booking_date == date(1999, 12, 31)
    assert statement.statement_id == "S/1@1999-12-31"


def test_bank_references_are_line_ids_when_each_entry_has_its_own() -> None:
    data = one(":61:2603020302C9,99NTRF//A", ":61:2603020302C10,00NTRF//B")
    assert [e.line_id for e in read_one(data).entries] == ["A", "B"]


@pytest.mark.parametrize(
    "references",
    [("A", "A"), ("A", ""), ("NONREF", "B"), ("", "")],
    ids=["repeated", "missing", "nonref", "none"],
)
def test_otherwise_line_ids_are_positions_in_the_statement(references: tuple[str, str]) -> None:
    lines = [
        f":61:2603020302C{a}NTRFNONREF" + (f"//{r}" if r else "")
        for a, r in zip(("9,99", "10,00"), references, strict=True)
    ]
    statement = read_one(one(*lines))
    assert [e.line_id for e in statement.entries] == [
        "STMT1/7/1@2026-03-02:1",
        "STMT1/7/1@2026-03-02:2",
    ]


def test_the_same_reference_in_two_statements_of_one_account_is_refused() -> None:
    first = one(":61:2603020302C19,99NTRF//R1")
    second = mt(
        ":20:STMT2",
        f":25:{IBAN}",
        ":28C:8/1",
        ":60F:C260302EUR119,99",
        ":61:2603030303C1,00NTRF//R1",
        ":62F:C260303EUR120,99",
    )
    with pytest.raises(DuplicateStatementLineError) as refused:
        read_mt940(first + b"\n" + second)
    assert refused.value.line_id == "R1"
    assert refused.value.position == "line 8"


@pytest.mark.parametrize(
    ("written", "account"),
    [
        (IBAN, IBAN),
        ("DE89 3704 0044 0532 0130 00", IBAN),
        (f"{IBAN} EUR", IBAN),
        (f"{IBAN}EUR", IBAN),
        (f"COBADEFFXXX/{IBAN}", IBAN),
        ("12345678/1020304050", "12345678/1020304050"),
        ("DE89370400440532013001", "DE89370400440532013001"),  # wrong check digits
    ],
)
def test_the_account_is_an_iban_when_it_holds_one(written: str, account: str) -> None:
    head = (":20:S", f":25:{written}", ":28C:1", ":60F:C260301EUR0,00")
    assert read_one(mt(*head, ":62F:C260301EUR0,00")).account == account


def test_intermediate_and_available_balances_are_kept() -> None:
    data = mt(
        ":20:S",
        f":25:{IBAN}",
        ":28C:1/2",
        ":60M:D260301EUR10,00",
        ":61:2603020302C15,00NTRF//R1",
        ":62M:C260302EUR5,00",
        ":64:C260302EUR5,00",
        ":65:C260303EUR5,00",
        ":65:C260304EUR5,00",
    )
    statement = read_one(data)
    assert [(b.kind, b.code, b.amount) for b in statement.balances] == [
        (BalanceKind.OPENING, "60M", eur("-10.00")),
        (BalanceKind.CLOSING, "62M", eur("5.00")),
        (BalanceKind.CLOSING_AVAILABLE, "64", eur("5.00")),
        (BalanceKind.OTHER, "65", eur("5.00")),
        (BalanceKind.OTHER, "65", eur("5.00")),
    ]


def test_several_statements_are_read_in_file_order() -> None:
    second = mt(
        ":20:STMT2",
        ":25:NL91ABNA0417164300",
        ":28C:8/1",
        ":60F:C260302EUR0,00",
        ":62F:C260302EUR0,00",
    )
    first, other = read_mt940(one(":61:2603020302C19,99NTRF//R1") + b"\n" + second)
    assert (first.account, other.account, other.entries) == (IBAN, "NL91ABNA0417164300", ())


# -- tolerated quirks ------------------------------------------------------------------


BASE = one(":61:2603020302C19,99NTRF//R1", ":86:166?20SVWZ+Invoice 1")


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(BASE.replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(BASE.replace(b"\n", b"\r"), id="cr"),
        pytest.param(BASE.removesuffix(b"\n-"), id="no-final-dash"),
        pytest.param(b"\n\n" + BASE.replace(b"\n", b"\n\n") + b"\n\n", id="blank-lines"),
        pytest.param(b"ABNANL2A\n940\nABNANL2A\n" + BASE, id="bank-header"),
        pytest.param(b":940:\n" + BASE, id="rabobank-header"),
        pytest.param(
            b"{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{3:{108:REF}}{4:\n"
            + BASE.removesuffix(b"-")
            + b"-}{5:{MAC:00000000}{CHK:000000000000}}",
            id="envelope",
        ),
        pytest.param(
            b"{1:F01BANKDEFFXXXX0000000000}\n{2:I940BANKDEFFXXXXN}\n{4:\n"
            + BASE.removesuffix(b"-")
            + b"-}",
            id="envelope-on-lines",
        ),
        pytest.param(b"\x01" + BASE + b"\x03\n\x1a", id="soh-etx-ctrl-z"),
        pytest.param(b"\xef\xbb\xbf" + BASE, id="utf8-bom"),
        pytest.param(BASE.replace(b"\n-", b"\n:86:statement information\n-"), id="final-86"),
        pytest.param(BASE.replace(b":28C:7/1", b":NS:22ignored\n:28C:7/1"), id="ns-field"),
        pytest.param(BASE.replace(b"\n-", b"  \n-   "), id="trailing-spaces"),
    ],
)
def test_bank_quirks_read_like_the_plain_file(variant: bytes) -> None:
    assert read_mt940(variant) == read_mt940(BASE)


def test_two_enveloped_messages_back_to_back() -> None:
    envelope = b"{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:\n"
    second = BASE.replace(b"STMT1", b"STMT2").replace(b"//R1", b"//R2").removesuffix(b"-")
    data = (
        b"\x01" + envelope + BASE.removesuffix(b"-") + b"-}\x03\x01" + envelope + second + b"-}\x03"
    )
    assert [s.statement_id for s in read_mt940(data)] == [
        "STMT1/7/1@2026-03-02",
        "STMT2/7/1@2026-03-02",
    ]


def test_a_wrapped_or_missing_statement_number_is_tolerated() -> None:
    wrapped = BASE.replace(b":28C:7/1", b":28C:000\n07")
    blank = BASE.replace(b":28C:7/1", b":28C: /1")
    missing = BASE.replace(b":28C:7/1\n", b"")
    assert read_one(wrapped).statement_id == "STMT1/00007@2026-03-02"
    assert read_one(blank).statement_id == "STMT1//1@2026-03-02"
    assert read_one(missing).statement_id == "STMT1@2026-03-02"


def test_old_rabobank_amounts_with_a_dot_and_leading_zeros() -> None:
    data = mt(
        ":20:940A030107",
        ":25:1017.490.554EUR",
        ":28:00000/00",
        ":60F:C030107EUR000000020000.00",
        ":61:030109C000000000300.00NMSC170059286",
        ":86:Demo gebruiker",
        ":86:Spaarpot kantine",
        ":62F:C030108EUR000000020300.00",
    )
    statement = read_one(data)
    entry = statement.entries[0]
    assert (entry.amount, entry.bank_code, entry.remittance) == (
        eur("300.00"),
        "NMSC",
        "Demo gebruiker Spaarpot kantine",
    )
    assert statement.reconciles is True


def test_amount_forms_swift_allows() -> None:
    data = one(
        ":61:2603020302C19,NTRF//R1",
        ":61:2603020302C0,9NTRF//R2",
        ":61:2603020302C0,090NTRF//R3",
        closing=":62F:C260302EUR119,99",
    )
    assert [e.amount for e in read_one(data).entries] == [eur("19"), eur("0.9"), eur("0.09")]


def test_a_statement_line_without_type_or_with_a_long_reference() -> None:
    data = one(
        ":61:2603020302CN9,99//19239782213",
        ":61:2603020302D10,00NOVBNL49RABO0166416932",
        "gerrits glas en schilderwerk",
        closing=":62F:C260302EUR99,99",
    )
    first, second = read_one(data).entries
    assert (first.bank_code, first.amount) == ("", eur("9.99"))
    assert (second.bank_code, second.remittance) == ("NOVB", "gerrits glas en schilderwerk")


def test_a_dash_line_or_a_tag_like_line_inside_details_is_text() -> None:
    data = one(
        ":61:2603020302C19,99NTRF//R1",
        ":86:/EREF/E2E-1//MARF/MND",
        "-",
        "EV01//REMI/USTD//at 16",
        ":26:37 paid/",
    )
    entry = read_one(data).entries[0]
    assert entry.remittance == "at 16:26:37 paid"


def test_entries_spaces_in_the_entry_date() -> None:
    data = one(":61:260302    C19,99NTRF//R1")
    assert read_one(data).entries[0].booking_date == date(2026, 3, 2)


UMLAUT = b"\xfc"  # ü in Windows-1252 and Latin-1, not UTF-8


def test_text_that_is_not_utf8_falls_back_to_windows_1252_unless_declared() -> None:
    latin = one(":61:2603020302C19,99NTRF//R1", ":86:Zahlung MXller").replace(b"X", UMLAUT)
    assert read_one(latin).entries[0].remittance == "Zahlung Müller"
    with pytest.raises(StatementEncodingError) as refused:
        read_mt940(latin, encoding="utf-8")
    assert refused.value.position == f"byte {latin.index(UMLAUT)}"
    assert read_one(latin, encoding="latin-1").entries[0].remittance == "Zahlung Müller"


def test_a_utf8_bom_declares_utf8() -> None:
    latin = "Zahlung Müller".encode("cp1252")
    data = b"\xef\xbb\xbf" + one(":61:2603020302C19,99NTRF//R1", ":86:X").replace(b"X", latin)
    with pytest.raises(StatementEncodingError) as refused:
        read_mt940(data)
    assert refused.value.position == f"byte {data.index(UMLAUT)}"


def test_utf16_is_refused_and_unknown_encodings_are_named() -> None:
    with pytest.raises(StatementEncodingError, match="UTF-16"):
        read_mt940(b"\xff\xfe" + BASE.decode().encode("utf-16-le"))
    with pytest.raises(StatementEncodingError, match="unknown encoding"):
        read_mt940(BASE, encoding="no-such-codec")


def test_bytes_neither_utf8_nor_windows_1252() -> None:
    data = BASE.replace(b"STMT1", b"ST\x81T1")
    with pytest.raises(StatementEncodingError) as refused:
        read_mt940(data)
    assert refused.value.position == "byte 6"


# -- what is refused ---------------------------------------------------------------------


def test_a_statement_that_does_not_reconcile_is_refused_saying_by_how_much() -> None:
    data = one(":61:2603020302C19,98NTRF//R1")
    with pytest.raises(StatementBalanceError) as refused:
        read_mt940(data)
    error = refused.value
    assert (error.difference, error.opening, error.movements, error.closing) == (
        eur("0.01"),
        eur("100.00"),
        eur("19.98"),
        eur("119.99"),
    )
    assert error.position == "line 1"
    assert "0.01" in str(error)
    inspected = read_one(data, check_balances=False)
    assert inspected.reconciles is False


@pytest.mark.parametrize(
    ("data", "error", "position", "tag"),
    [
        (mt(*HEAD, ":61:2603020302C19,99NTRF//R1"), StatementStructureError, "line 5", ":62F:"),
        (
            mt(":20:S", ":28C:1", ":60F:C260301EUR0,", ":62F:C260301EUR0,"),
            StatementStructureError,
            "line 2",
            ":25:",
        ),
        (
            mt(":20:S", f":25:{IBAN}", ":62F:C260301EUR0,"),
            StatementStructureError,
            "line 3",
            ":60F:",
        ),
        (
            one(":61:2603020302C19,99NTRF//R1", f":25:{IBAN}"),
            StatementStructureError,
            "line 6",
            ":25:",
        ),
        (mt(":61:2603020302C19,99NTRF//R1"), StatementStructureError, "line 1", ":61:"),
        (
            mt(*HEAD[:2], ":86:early", *HEAD[2:], ":62F:C260301EUR100,00"),
            StatementStructureError,
            "line 3",
            ":60F:",
        ),
        (
            mt(*HEAD, ":86:before any entry", ":62F:C260301EUR100,00"),
            StatementStructureError,
            "line 5",
            ":86:",
        ),
        (
            one(":61:2603020302C19,99NTRF//R1") + b"\n:61:2603020302C1,00NTRF//R2",
            StatementStructureError,
            "line 8",
            ":61:",
        ),
        (
            mt(
                ":20:S", f":25:{IBAN}", ":28C:1", ":28C:2", ":60F:C260301EUR0,", ":62F:C260301EUR0,"
            ),
            StatementStructureError,
            "line 4",
            ":28C:",
        ),
        (
            mt(*HEAD, ":62F:C260301EUR100,00", ":61:2603020302C1,00NTRF//R2"),
            StatementStructureError,
            "line 6",
            ":61:",
        ),
        (mt(*HEAD, ":99:what", ":62F:C260301EUR100,00"), StatementStructureError, "line 5", ":99:"),
    ],
    ids=[
        "no-closing",
        "no-account",
        "no-opening",
        "account-among-entries",
        "entry-before-20",
        "86-in-header",
        "86-before-entries",
        "entry-after-the-end",
        "28C-twice",
        "entry-after-closing",
        "unknown-tag",
    ],
)
def test_structure_errors_name_the_tag_and_the_line(
    data: bytes, error: type[StatementFormatError], position: str, tag: str
) -> None:
    with pytest.raises(error) as refused:
        read_mt940(data)
    assert refused.value.position == position
    assert refused.value.tag == tag
    assert refused.value.format == "mt940"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (":60F:C260301EURO0,00", ":60F:"),
        (":60F:X260301EUR0,00", ":60F:"),
        (":60F:C261301EUR0,00", ":60F:"),
        (":60F:C260301QQQ0,00", ":60F:"),
        (":60F:C260301EUR1.000,00", ":60F:"),
        (":60F:C260301EUR0,001", ":60F:"),
        (":60F:C260301EUR1234567890123456,00", ":60F:"),
        (":60F:C260301EUR0,00\nmore", ":60F:"),
    ],
)
def test_malformed_opening_balances_name_the_field(line: str, field: str) -> None:
    data = mt(":20:S", f":25:{IBAN}", ":28C:1", line, ":62F:C260301EUR0,00")
    with pytest.raises(StatementValueError) as refused:
        read_mt940(data)
    assert (refused.value.field, refused.value.position) == (field, "line 4")


@pytest.mark.parametrize(
    "line",
    [
        ":61:2603020302C1e3NTRF//R1",
        ":61:2603020302CNaNNTRF//R1",
        ":61:2603020302C1,000.00NTRF//R1",
        ":61:2603020302C1,0,0NTRF//R1",
        ":61:2603020302C-5,00NTRF//R1",
        ":61:2613020302C5,00NTRF//R1",
        ":61:2603021332C5,00NTRF//R1",
        ":61:2604310431C5,00NTRF//R1",
        ":61:2603020302X5,00NTRF//R1",
        ":61:2603020302C5,001NTRF//R1",
        ":61:26030",
    ],
)
def test_malformed_statement_lines_are_refused_with_their_line(line: str) -> None:
    with pytest.raises(StatementValueError) as refused:
        read_mt940(one(line))
    assert refused.value.position == "line 5"
    assert refused.value.field == ":61:"


def test_balances_in_another_currency_are_refused() -> None:
    with pytest.raises(StatementValueError) as refused:
        read_mt940(mt(*HEAD, ":62F:C260301USD100,00"))
    assert (refused.value.field, refused.value.position) == (":62F:", "line 5")


def test_one_line_fields_must_be_one_line() -> None:
    with pytest.raises(StatementValueError) as refused:
        read_mt940(BASE.replace(b":20:STMT1", b":20:STMT1\nSTMT2"))
    assert (refused.value.field, refused.value.position) == (":20:", "line 1")
    with pytest.raises(StatementValueError):
        read_mt940(BASE.replace(b":28C:7/1", b":28C:7/1/2"))
    with pytest.raises(StatementValueError):
        read_mt940(BASE.replace(b":28C:7/1", b":28C:7/1\n/3"))


def test_mt942_interim_reports_are_refused() -> None:
    data = mt(":20:S", f":25:{IBAN}", ":28C:1", ":34F:EURD0,", ":13D:2603021200+0100")
    with pytest.raises(UnsupportedStatementError) as refused:
        read_mt940(data)
    assert refused.value.position == "line 4"
    assert "MT942" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", UnsupportedStatementError),
        (b"hello\n", UnsupportedStatementError),
        (b"1\n2\n3\n4\n5\n", StatementStructureError),
        (b"x" * 41 + b"\n", StatementStructureError),
        (b"-\n-\n", UnsupportedStatementError),
        (b":25:DE89370400440532013000\n:61:2603020302C5,00NTRF\n", StatementStructureError),
    ],
    ids=["empty", "text", "five-header-lines", "long-header-line", "dashes", "fragment"],
)
def test_files_without_a_statement_are_an_error_not_nothing(
    data: bytes, error: type[StatementFormatError]
) -> None:
    with pytest.raises(error):
        read_mt940(data)


def test_what_other_readers_parse_into_nothing_is_an_error_here() -> None:
    # The mt-940 package, as other libraries, returns no statement and no error for
    # a file whose :61: lines come before any :20: (wolph/mt940 issues).
    fragment = b":60F:C260301EUR0,00\n:61:2603020302C5,00NTRFNONREF\n:62F:C260302EUR5,00\n"
    assert mt940.parse_statements(fragment) == []
    with pytest.raises(StatementStructureError, match="before any ':20:'"):
        read_mt940(fragment)


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (BASE.replace(b"STMT1", b"ST\x00T1"), "line 1, column 7"),
        (BASE.replace(b"Invoice", b"Inv\x07ice"), "line 6, column 19"),
        (BASE.replace(b"\n", b"\r\n").replace(b"Invoice", b"\x7fnvoice"), "line 6, column 16"),
        (b"\x01" + BASE.replace(b"Invoice", b"In\x01voice"), "line 6, column 18"),
    ],
)
def test_control_characters_are_refused_with_their_position(data: bytes, position: str) -> None:
    with pytest.raises(StatementFormatError) as refused:
        read_mt940(data)
    assert refused.value.position == position


def test_limits() -> None:
    with pytest.raises(StatementTooLargeError) as too_large:
        read_mt940(BASE, max_bytes=len(BASE) - 1)
    assert (too_large.value.size, too_large.value.limit) == (len(BASE), len(BASE) - 1)
    long_line = BASE.replace(b"Invoice", b"I" * MAX_LINE_LENGTH)
    with pytest.raises(StatementFormatError) as refused:
        read_mt940(long_line)
    assert refused.value.position == f"line 6, column {MAX_LINE_LENGTH + 1}"
    with pytest.raises(StatementFormatError, match="from bytes"):
        read_mt940(BASE.decode())  # type: ignore[arg-type]
    assert read_mt940(bytearray(BASE)) == read_mt940(BASE)


@pytest.mark.parametrize(
    "envelope",
    [
        b"{1:F01BANK}{2:I940}\nnot a block\n{4:\n",
        b"{1:F01BANK{{{{x}}}}}{4:\n",
        b"{1:F01BANK\n",
        b"{x}{4:\n",
        b"{1:F01}{2:I940}junk{4:\n",
    ],
)
def test_broken_envelopes_are_refused(envelope: bytes) -> None:
    with pytest.raises(StatementStructureError) as refused:
        read_mt940(envelope + BASE)
    assert refused.value.tag == "{"


def test_details_the_package_reads_otherwise_are_refused() -> None:
    # A ':' line followed by '61:...' inside :86: is text to o2c but a new :61: to
    # the mt-940 package; the disagreement is an error, never a silent shift.
    data = one(":61:2603020302C19,99NTRF//R1", ":86:166?20paid", ":", "61:2603020302C1,00NTRF")
    with pytest.raises(StatementFormatError, match="could not be read"):
        read_mt940(data)


# -- the mt-940 package is left as it was ---------------------------------------------


def _package_state() -> tuple[object, ...]:
    return (
        dict(mt940.tags.TAG_BY_ID),
        {k: tuple(v) for k, v in Transactions.DEFAULT_PROCESSORS.items()},
        mt940.processors.DETAIL_KEYS.copy(),
        mt940.processors.GVC_KEYS.copy(),
    )


def test_reading_never_changes_the_package_or_its_defaults() -> None:
    reversal = (
        b":20:S\n:25:X\n:28C:1\n:60F:C260301EUR10,00\n:61:2603020302RC1,00NTRFNONREF\n"
        b":86:166?00X?31DE44500105175407324931?32NAME\n:62F:C260302EUR9,00\n"
    )
    before, default_before = _package_state(), mt940.parse(reversal)
    read_mt940(BASE)
    read_mt940(reversal.replace(b":25:X", f":25:{IBAN}".encode()))
    after = mt940.parse(reversal)
    assert _package_state() == before
    # Without options the package still signs RC positive and prepends ?31 to the
    # name, as 5.0.0 did: o2c's options (reversal_sign, applicant_iban) did not leak.
    assert after[0].data["amount"] == default_before[0].data["amount"]
    assert after[0].data["amount"].amount == Decimal("1.00")
    assert "applicant_iban" not in after[0].data
    assert _mt940_details.MT940_OPTIONS.reversal_sign


# -- properties: random statements, written as MT940 and read back ------------------------


def _iban(bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + "DE00")
    return f"DE{98 - int(digits) % 97:02d}{bban}"


# No "f": a text can then never be a creditor reference ("RF..."), which is kept apart.
ALNUM = "".join(c for c in string.ascii_letters + string.digits if c not in "fF")
WORDS = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(ALNUM),
    st.text(ALNUM + ".,()'-", max_size=8),
)
TEXT = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
NAME = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)  # fits ?32 + ?33
REFERENCE = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=16)


@dataclass
class Drawn:
    value_date: date
    booking_date: date
    mark: str
    amount: Decimal
    reference: str
    name: str
    iban: str
    remittance: str
    e2e: str
    layout: str


@dataclass
class DrawnStatement:
    reference: str
    number: int
    account: str
    opening: Decimal
    start: date
    entries: list[Drawn] = field(default_factory=list)


@st.composite
def drawn_entries(draw: st.DrawFn, start: date) -> Drawn:
    value_date = start + timedelta(days=draw(st.integers(0, 40)))
    return Drawn(
        value_date=value_date,
        booking_date=value_date + timedelta(days=draw(st.integers(-3, 3))),
        mark=draw(st.sampled_from(["C", "D", "RC", "RD"])),
        amount=Decimal(draw(st.integers(1, 10**9))).scaleb(-2),
        reference=draw(REFERENCE),
        name=draw(NAME),
        iban=_iban(draw(st.text("0123456789", min_size=18, max_size=18))),
        remittance=draw(TEXT),
        e2e=draw(REFERENCE),
        layout=draw(st.sampled_from(["german", "swift", "text"])),
    )


@st.composite
def drawn_statements(draw: st.DrawFn) -> DrawnStatement:
    start = draw(st.dates(date(2001, 1, 10), date(2068, 11, 30)))
    drawn = DrawnStatement(
        reference=draw(REFERENCE),
        number=draw(st.integers(0, 99999)),
        account=_iban(draw(st.text("0123456789", min_size=18, max_size=18))),
        opening=Decimal(draw(st.integers(-(10**10), 10**10))).scaleb(-2),
        start=start,
    )
    drawn.entries = draw(st.lists(drawn_entries(start), max_size=8))
    return drawn


def _chunks(text: str, size: int) -> list[str]:
    """Pieces of at most ``size`` characters that never end with a space (a line's
    trailing spaces do not survive), the spaces going first in the next piece."""
    pieces: list[str] = []
    while text:
        cut = min(size, len(text))
        while cut > 1 and text[cut - 1] == " ":
            cut -= 1
        pieces.append(text[:cut])
        text = text[cut:]
    return pieces


def _signed(entry: Drawn) -> Decimal:
    return -entry.amount if entry.mark in ("D", "RC") else entry.amount


def _amount(value: Decimal) -> str:
    return format(abs(value), "f").replace(".", ",")


def _details(entry: Drawn) -> list[str]:
    if entry.layout == "german":
        purpose = [f"EREF+{entry.e2e}", *_chunks("SVWZ+" + entry.remittance, 27)]
        names = _chunks(entry.name, 27)[:2]
        lines = ["166?00GUTSCHRIFT?109310"]
        lines += [f"?{20 + i}{p}" for i, p in enumerate(purpose[:10])]
        lines += [f"?30DEUTDEFF?31{entry.iban}"]
        lines += [f"?{32 + i}{n}" for i, n in enumerate(names)]
        return lines
    if entry.layout == "swift":
        return [
            f"/EREF/{entry.e2e}//CNTP/{entry.iban}/DEUTDEFF/{entry.name}/CITY///"
            f"REMI/USTD//{entry.remittance}/"
        ]
    return textwrap.wrap(entry.remittance, 65)


def render(drawn: DrawnStatement, *, crlf: bool, envelope: bool) -> bytes:
    """The statement as an MT940 file."""
    closing = drawn.opening + sum((_signed(e) for e in drawn.entries), Decimal(0))
    last = max((e.value_date for e in drawn.entries), default=drawn.start)
    lines = [f":20:{drawn.reference}", f":25:{drawn.account}", f":28C:{drawn.number}/1"]
    lines.append(
        f":60F:{'D' if drawn.opening < 0 else 'C'}{drawn.start:%y%m%d}EUR{_amount(drawn.opening)}"
    )
    for entry in drawn.entries:
        lines.append(
            f":61:{entry.value_date:%y%m%d}{entry.booking_date:%m%d}{entry.mark}"
            f"{_amount(entry.amount)}NTRFNONREF//{entry.reference}"
        )
        details = _details(entry)
        lines.append(":86:" + details[0])
        lines.extend(details[1:])
    lines.append(f":62F:{'D' if closing < 0 else 'C'}{last:%y%m%d}EUR{_amount(closing)}")
    text = "\n".join(lines) + "\n-"
    if envelope:
        text = "{1:F01BANKDEFFXXXX0000000000}{2:I940BANKDEFFXXXXN}{4:\n" + text + "}"
    return text.replace("\n", "\r\n" if crlf else "\n").encode()


def expected(drawn: DrawnStatement) -> Statement:
    """What reading :func:`render`'s file must give."""
    closing = drawn.opening + sum((_signed(e) for e in drawn.entries), Decimal(0))
    last = max((e.value_date for e in drawn.entries), default=drawn.start)
    statement_id = f"{drawn.reference}/{drawn.number}/1@{last.isoformat()}"
    references = [e.reference for e in drawn.entries]
    by_bank = len(set(references)) == len(references)
    entries = []
    for index, e in enumerate(drawn.entries, 1):
        text = e.layout == "text"
        entries.append(
            StatementEntry(
                line_id=e.reference if by_bank else f"{statement_id}:{index}",
                booking_date=e.booking_date,
                value_date=e.value_date,
                amount=eur(str(_signed(e))),
                reversal=e.mark.startswith("R"),
                counterparty_name="" if text else e.name,
                counterparty_iban="" if text else e.iban,
                remittance=e.remittance,
                end_to_end_id="" if text else e.e2e,
                bank_code="NTRF",
            )
        )
    return Statement(
        statement_id=statement_id,
        account=drawn.account,
        currency="EUR",
        entries=tuple(entries),
        balances=(
            Balance(BalanceKind.OPENING, eur(str(drawn.opening)), drawn.start, "60F"),
            Balance(BalanceKind.CLOSING, eur(str(closing)), last, "62F"),
        ),
        source_format="mt940",
    )


@given(drawn=drawn_statements(), crlf=st.booleans(), envelope=st.booleans())
def test_a_random_statement_written_as_mt940_reads_back_equal(
    drawn: DrawnStatement, crlf: bool, envelope: bool
) -> None:
    assert read_mt940(render(drawn, crlf=crlf, envelope=envelope)) == (expected(drawn),)


@settings(max_examples=50)  # heavy: up to four statements per example
@given(statements=st.lists(drawn_statements(), min_size=2, max_size=4), crlf=st.booleans())
def test_several_random_statements_in_one_file_read_back_in_order(
    statements: list[DrawnStatement], crlf: bool
) -> None:
    for index, drawn in enumerate(statements):
        drawn.account = f"NL{index}"  # one account each: line ids never collide
    data = b"\n".join(render(d, crlf=crlf, envelope=i % 2 == 0) for i, d in enumerate(statements))
    read = read_mt940(data)
    assert [s.entries for s in read] == [expected(d).entries for d in statements]


@given(drawn=drawn_statements(), cut=st.integers(1, 10**6))
def test_a_random_statement_cut_short_is_refused_or_read_complete(
    drawn: DrawnStatement, cut: int
) -> None:
    data = render(drawn, crlf=False, envelope=False)
    cut = cut % len(data)
    try:
        read = read_mt940(data[:cut])
    except StatementFormatError as refused:
        assert refused.position
    else:
        # Only the final "-" (or the last characters of the last :86: text, which
        # no balance covers) can go without the statement changing its money.
        assert [e.amount for e in read[0].entries] == [e.amount for e in expected(drawn).entries]
        assert read[0].balances == expected(drawn).balances


def test_an_envelope_may_carry_the_first_tag_on_its_line() -> None:
    data = b"{1:F01BANKDEFFXXXX0000000000}{4::20:STMT1\n" + BASE.split(b"\n", 1)[1]
    assert read_mt940(data) == read_mt940(BASE)
    with pytest.raises(StatementStructureError, match="before any ':20:'"):
        read_mt940(b"{1:F01BANKDEFFXXXX0000000000}{4::25:X\n" + BASE)


def test_german_details_in_a_currency_without_decimals() -> None:
    data = mt(
        ":20:S",
        ":25:HU12345",
        ":28C:1",
        ":60F:C260301JPY100,",
        ":61:2603020302C5,NTRF//R1",
        ":86:166?00GUTSCHRIFT?20SVWZ+Rechnung 7?32Ada",
        ":62F:C260302JPY105,",
    )
    entry = read_one(data).entries[0]
    assert (entry.amount, entry.remittance, entry.counterparty_name) == (
        Money(5, "JPY"),
        "Rechnung 7",
        "Ada",
    )


def test_an_entrys_information_is_bounded() -> None:
    lines = ["x" * 1024, "x" * 1023, "x" * 1023, "x" * 1023]  # 4096 with the line breaks
    longest = one(":61:2603020302C19,99NTRF//R1", ":86:" + lines[0], *lines[1:])
    assert len(read_one(longest).entries[0].remittance) == MAX_DETAILS_LENGTH
    with pytest.raises(StatementValueError) as refused:
        read_mt940(longest.replace(b":86:x", b":86:xx"))
    assert (refused.value.field, refused.value.position) == (":86:", "line 6")
