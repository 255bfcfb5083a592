"""CSV statements through a declarative column mapping: the STATEMENT.csv contract,
other layouts, strict cells (with their line and column), and round trips of random
statements written as CSV."""

from __future__ import annotations

import csv
import io
import string
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.statements.csv_reader import (
    MAX_CELL_LENGTH,
    MAX_COLUMNS,
    MAX_LINE_LENGTH,
    STATEMENT_CSV,
    CsvMapping,
    read_csv,
)
from o2c.errors import (
    CsvMappingError,
    DuplicateStatementLineError,
    StatementBalanceError,
    StatementEncodingError,
    StatementFormatError,
    StatementStructureError,
    StatementTooLargeError,
    StatementValueError,
)
from o2c.money import Money
from o2c.statements import Balance, BalanceKind, Statement, StatementEntry

HEADER = (
    "line_id,booking_date,amount,currency,counterparty_name,counterparty_iban,"
    "remittance_info,end_to_end_id"
)
IBAN = "DE89370400440532013000"


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def contract(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def read_one(data: bytes, mapping: CsvMapping | None = None) -> Statement:
    (statement,) = read_csv(data, mapping)
    return statement


# -- the STATEMENT.csv contract -------------------------------------------------------


def test_the_contract_layout_is_read() -> None:
    data = contract(
        f"L1,2026-03-02,119.00,EUR,Ada Lovelace,{IBAN},INV-000001,E2E-1",
        "L2,2026-03-03,-30.5,EUR,Bank,,fees,",
    )
    statement = read_one(data)
    assert statement == Statement(
        statement_id="csv-20260302-20260303",
        account="",
        currency="EUR",
        entries=(
            StatementEntry(
                line_id="L1",
                booking_date=date(2026, 3, 2),
                amount=eur("119.00"),
                counterparty_name="Ada Lovelace",
                counterparty_iban=IBAN,
                remittance="INV-000001",
                end_to_end_id="E2E-1",
            ),
            StatementEntry(
                line_id="L2",
                booking_date=date(2026, 3, 3),
                amount=eur("-30.50"),
                counterparty_name="Bank",
                remittance="fees",
            ),
        ),
        source_format="csv",
    )
    assert statement.reconciles is None


def test_the_account_comes_from_the_mapping() -> None:
    mapping = attrs.evolve(STATEMENT_CSV, account=IBAN)
    assert read_one(contract("L1,2026-03-02,1.00,EUR,,,,"), mapping).account == IBAN


def test_ibans_are_normalised_and_checked_in_the_contract() -> None:
    spaced = read_one(contract("L1,2026-03-02,1.00,EUR,,de89 3704 0044 0532 0130 00,,"))
    assert spaced.entries[0].counterparty_iban == IBAN
    with pytest.raises(StatementValueError) as refused:
        read_one(contract("L1,2026-03-02,1.00,EUR,,DE00370400440532013000,,"))
    assert refused.value.position == "line 2, column 6 (counterparty_iban)"
    lenient = attrs.evolve(STATEMENT_CSV, strict_iban=False)
    kept = read_one(contract("L1,2026-03-02,1.00,EUR,,1234 5678,,"), lenient)
    assert kept.entries[0].counterparty_iban == "12345678"


def test_quoted_cells_may_hold_delimiters_quotes_and_line_breaks() -> None:
    data = contract('L1,2026-03-02,1.00,EUR,"Lovelace, Ada",,"paid ""INV-1""\nthanks",')
    entry = read_one(data).entries[0]
    assert (entry.counterparty_name, entry.remittance) == ("Lovelace, Ada", 'paid "INV-1" thanks')


def test_a_utf8_bom_blank_rows_and_crlf_are_fine() -> None:
    data = b"\xef\xbb\xbf" + contract("L1,2026-03-02,1.00,EUR,,,,", "", ",,,,,,,").replace(
        b"\n", b"\r\n"
    )
    assert [e.line_id for e in read_one(data).entries] == ["L1"]


# -- amounts ----------------------------------------------------------------------------


BAD_AMOUNTS = [
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1e3",
    "1E3",
    "1,000.00",
    "1.000,00",
    "1_000",
    "\u0661\u0662",
    "12.5.0",
    "+-1",
    "--1",
    ".5",
    "5.",
    "0x10",
    "1 000",
    "€12",
    "12€",
    "12.345",
    "(12.00)",
    "12-",
    "",
    "1" * 20,
    "- 5",
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_every_malformed_amount_is_refused_with_its_row_and_column(amount: str) -> None:
    with pytest.raises(StatementValueError) as refused:
        read_one(contract("L1,2026-03-02,1.00,EUR,,,,", f'L2,2026-03-02,"{amount}",EUR,,,,'))
    assert refused.value.position == "line 3, column 3 (amount)"
    assert (refused.value.line, refused.value.column, refused.value.field) == (
        3,
        "amount",
        "amount",
    )


@pytest.mark.parametrize(
    ("text", "amount"),
    [("12", "12.00"), ("+12.5", "12.50"), ("-0.01", "-0.01"), ("0.100", "0.10"), ("-0", "0.00")],
)
def test_plain_amounts(text: str, amount: str) -> None:
    assert read_one(contract(f"L1,2026-03-02,{text},EUR,,,,")).entries[0].amount == eur(amount)


@pytest.mark.parametrize(
    ("separator", "decimal", "text", "amount"),
    [
        (",", ".", "1,234.56", "1234.56"),
        (",", ".", "12,345,678.90", "12345678.90"),
        (",", ".", "1234.56", "1234.56"),
        (".", ",", "1.234,56", "1234.56"),
        (" ", ",", "1 234,56", "1234.56"),
        ("'", ".", "1'234.56", "1234.56"),
    ],
)
def test_thousands_separators_when_the_mapping_names_one(
    separator: str, decimal: str, text: str, amount: str
) -> None:
    mapping = attrs.evolve(
        STATEMENT_CSV, thousands_separator=separator, decimal_separator=decimal, delimiter=";"
    )
    data = contract(f"L1;2026-03-02;{text};EUR;;;;", header=HEADER.replace(",", ";"))
    assert read_one(data, mapping).entries[0].amount == eur(amount)


@pytest.mark.parametrize("text", ["1,23.00", "1234,567.00", ",123.00", "1,,234.00", "1.234,56"])
def test_thousands_groups_must_be_whole(text: str) -> None:
    mapping = attrs.evolve(STATEMENT_CSV, thousands_separator=",")
    with pytest.raises(StatementValueError):
        read_one(contract(f'L1,2026-03-02,"{text}",EUR,,,,'), mapping)


def test_more_decimals_than_the_currency_has() -> None:
    assert read_one(contract("L1,2026-03-02,5.000,JPY,,,,")).entries[0].amount == Money(5, "JPY")
    with pytest.raises(StatementValueError, match="JPY"):
        read_one(contract("L1,2026-03-02,5.5,JPY,,,,"))


# -- other layouts ------------------------------------------------------------------------

BANK = CsvMapping(
    booking_date="Buchungstag",
    value_date="Valuta",
    debit="Soll",
    credit="Haben",
    default_currency="EUR",
    counterparty_name="Name",
    remittance=("Zweck 1", "Zweck 2"),
    date_format="%d.%m.%Y",
    decimal_separator=",",
    thousands_separator=".",
    delimiter=";",
    account=IBAN,
)
BANK_HEADER = "Buchungstag;Valuta;Name;Zweck 1;Zweck 2;Soll;Haben"


def test_separate_debit_and_credit_columns() -> None:
    data = contract(
        "02.03.2026;03.03.2026;Ada;INV-1;thanks;;1.119,00",
        "04.03.2026;;Bank;fees;;30,50;",
        header=BANK_HEADER,
    )
    first, second = read_one(data, BANK).entries
    assert (first.amount, first.value_date, first.remittance) == (
        eur("1119.00"),
        date(2026, 3, 3),
        "INV-1 thanks",
    )
    assert (second.amount, second.value_date) == (eur("-30.50"), None)


@pytest.mark.parametrize(
    ("debit", "credit", "sign"),
    [
        ("1,00", "2,00", "positive"),
        ("", "", "positive"),
        ("0,00", "", "positive"),
        ("", "-2,00", "positive"),
        ("-1,00", "", "positive"),
        ("1,00", "", "negative"),
    ],
    ids=["both", "neither", "zero", "negative-credit", "negative-debit", "positive-debit"],
)
def test_debit_and_credit_cells_must_say_one_thing(debit: str, credit: str, sign: str) -> None:
    data = contract(f"02.03.2026;;Ada;x;;{debit};{credit}", header=BANK_HEADER)
    with pytest.raises(StatementValueError) as refused:
        read_one(data, attrs.evolve(BANK, debit_sign=sign))
    assert refused.value.line == 2


def test_debits_written_negative() -> None:
    data = contract("02.03.2026;;Ada;x;;-1,00;", header=BANK_HEADER)
    assert read_one(data, attrs.evolve(BANK, debit_sign="negative")).entries[0].amount == eur("-1")


INDICATED = CsvMapping(
    booking_date="date",
    amount="amount",
    indicator="dc",
    default_currency="EUR",
    debit_marks=("D", "S"),
    credit_marks=("C", "H"),
)


def test_an_indicator_column_signs_an_unsigned_amount() -> None:
    data = contract("2026-03-02,5.00,C", "2026-03-02,3.00,S", header="date,amount,dc")
    assert [e.amount for e in read_one(data, INDICATED).entries] == [eur("5.00"), eur("-3.00")]


@pytest.mark.parametrize(("amount", "mark"), [("-5.00", "C"), ("+5.00", "D"), ("5.00", "X")])
def test_an_indicator_with_a_signed_amount_or_an_unknown_mark_is_refused(
    amount: str, mark: str
) -> None:
    data = contract(f"2026-03-02,{amount},{mark}", header="date,amount,dc")
    with pytest.raises(StatementValueError):
        read_one(data, INDICATED)


def test_header_row_and_end_marker() -> None:
    mapping = attrs.evolve(BANK, header_row=3, end_marker="Saldo")
    data = contract(
        "Konto;DE89",
        BANK_HEADER,
        "02.03.2026;;Ada;x;;;1,00",
        "Saldo;;;;;;1,00",
        "anything;after;the;end",
        header="Umsatzliste",
    )
    assert len(read_one(data, mapping).entries) == 1


BALANCED = CsvMapping(
    booking_date="date", amount="amount", balance="balance", default_currency="EUR"
)


def test_a_running_balance_is_checked_and_gives_the_balances() -> None:
    data = contract(
        "2026-03-02,5.00,105.00", "2026-03-03,-10.00,95.00", header="date,amount,balance"
    )
    statement = read_one(data, BALANCED)
    assert statement.balances == (
        Balance(BalanceKind.OPENING, eur("100.00"), date(2026, 3, 2), "csv"),
        Balance(BalanceKind.CLOSING, eur("95.00"), date(2026, 3, 3), "csv"),
    )
    assert statement.reconciles is True


def test_a_running_balance_that_does_not_follow_is_refused() -> None:
    data = contract(
        "2026-03-02,5.00,105.00", "2026-03-03,-10.00,96.00", header="date,amount,balance"
    )
    with pytest.raises(StatementBalanceError) as refused:
        read_one(data, BALANCED)
    assert refused.value.position == "line 3, column 3 (balance)"
    assert refused.value.difference == eur("1.00")
    with pytest.raises(StatementValueError, match="balance is empty"):
        read_one(contract("2026-03-02,5.00,", header="date,amount,balance"), BALANCED)


def test_lines_without_ids_get_ids_from_their_content() -> None:
    mapping = CsvMapping(
        booking_date="date", amount="amount", remittance=("text",), default_currency="EUR"
    )
    week = contract(
        "2026-03-02,5.00,coffee",
        "2026-03-02,5.00,coffee",
        "2026-03-03,7.00,lunch",
        header="date,amount,text",
    )
    later = contract("2026-03-02,5.00,coffee", "2026-03-02,5.00,coffee", header="date,amount,text")
    ids = [e.line_id for e in read_one(week, mapping).entries]
    assert ids[1] == ids[0] + "-2"
    assert len(set(ids)) == 3
    assert [e.line_id for e in read_one(later, mapping).entries] == ids[:2]


# -- what is refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": None}, "amount"),
        ({"debit": "Soll"}, "amount"),
        ({"amount": None, "debit": "d"}, "amount"),
        ({"indicator": "dc", "amount": None, "debit": "d", "credit": "c"}, "indicator"),
        ({"debit_sign": "minus"}, "debit_sign"),
        ({"debit_marks": ("D",), "credit_marks": ("D",)}, "debit_marks"),
        ({"credit_marks": ()}, "debit_marks"),
        ({"decimal_separator": ";"}, "decimal_separator"),
        ({"thousands_separator": "."}, "thousands_separator"),
        ({"thousands_separator": "x"}, "thousands_separator"),
        ({"delimiter": ",,"}, "delimiter"),
        ({"delimiter": '"'}, "delimiter"),
        ({"quotechar": "\n"}, "quotechar"),
        ({"encoding": "klingon"}, "encoding"),
        ({"header_row": 0}, "header_row"),
        ({"header_row": True}, "header_row"),
        ({"currency": None}, "currency"),
        ({"currency": None, "default_currency": "EURO"}, "default_currency"),
        ({"date_format": "%Y-%m"}, "date_format"),
        ({"date_format": "%Q"}, "date_format"),
        ({"balance": "amount"}, "balance"),
        ({"booking_date": ""}, "booking_date"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_when_made(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(CsvMappingError) as refused:
        attrs.evolve(STATEMENT_CSV, **changes)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (contract("L1,02.03.2026,1.00,EUR,,,,"), "line 2, column 2 (booking_date)"),
        (contract("L1,2026-02-30,1.00,EUR,,,,"), "line 2, column 2 (booking_date)"),
        (contract("L1,2026-03-02,1.00,EURO,,,,"), "line 2, column 4 (currency)"),
        (
            contract("L1,2026-03-02,1.00,USD,,,,", "L2,2026-03-02,1.00,EUR,,,,"),
            "line 3, column 4 (currency)",
        ),
        (contract(",2026-03-02,1.00,EUR,,,,"), "line 2, column 1 (line_id)"),
        (
            contract("L1,2026-03-02,1.00,EUR,=HYPERLINK(1),,,"),
            "line 2, column 5 (counterparty_name)",
        ),
        (contract("L1,2026-03-02,1.00,EUR,,,@SUM(A1),"), "line 2, column 7 (remittance_info)"),
        (contract("L1,2026-03-02,1.00,EUR,,,+cmd,"), "line 2, column 7 (remittance_info)"),
        (contract("L1,2026-03-02,1.00,EUR,,,-2+3,"), "line 2, column 7 (remittance_info)"),
        (contract('L1,2026-03-02,1.00,EUR,,,"\tx",'), "line 2, column 7 (remittance_info)"),
        (contract("=L1,2026-03-02,1.00,EUR,,,,"), "line 2, column 1 (line_id)"),
    ],
)
def test_malformed_cells_name_their_line_and_column(data: bytes, position: str) -> None:
    with pytest.raises(StatementValueError) as refused:
        read_one(data)
    assert refused.value.position == position


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (b"", "line 1"),
        (contract(header="line_id,booking_date"), "line 1"),
        (contract(header=HEADER + ",amount"), "line 1, column 9"),
        (contract(), "line 2"),
        (contract("L1,2026-03-02,1.00,EUR,,,"), "line 2"),
        (contract("L1,2026-03-02,1.00,EUR,,,,,extra"), "line 2"),
        (contract('L1,2026-03-02,"1.00"x,EUR,,,,'), "line 2"),
        (contract('L1,2026-03-02,1.00,EUR,,,"open'), "line 2"),
        (contract(",".join(["x"] * (MAX_COLUMNS + 1))), f"line 2, column {MAX_COLUMNS + 1}"),
        (contract("x" * (MAX_LINE_LENGTH + 1)), f"line 2, column {MAX_LINE_LENGTH + 1}"),
    ],
    ids=[
        "empty",
        "columns-missing",
        "mapped-column-twice",
        "no-rows",
        "short-row",
        "long-row",
        "stray-quote",
        "open-quote",
        "column-bomb",
        "long-line",
    ],
)
def test_structure_errors_name_their_line(data: bytes, position: str) -> None:
    with pytest.raises(StatementStructureError) as refused:
        read_one(data)
    assert refused.value.position == position


def test_trailing_empty_cells_and_header_names_are_fine() -> None:
    data = contract("L1,2026-03-02,1.00,EUR,,,,,,", header=HEADER + ",,")
    assert len(read_one(data).entries) == 1


def test_a_header_row_beyond_the_file() -> None:
    with pytest.raises(StatementStructureError, match="no header"):
        read_one(contract(), attrs.evolve(STATEMENT_CSV, header_row=5))


def test_repeated_line_ids_are_refused_with_both_lines() -> None:
    with pytest.raises(DuplicateStatementLineError) as refused:
        read_one(
            contract(
                "L1,2026-03-02,1.00,EUR,,,,",
                "L2,2026-03-02,1.00,EUR,,,,",
                "L1,2026-03-03,2.00,EUR,,,,",
            )
        )
    assert (refused.value.line_id, refused.value.position) == ("L1", "line 4")
    assert "line 2" in refused.value.reason


def test_encodings_and_limits() -> None:
    data = contract("L1,2026-03-02,1.00,EUR,M\xfcller,,,".encode("latin-1").decode("latin-1"))
    latin = data.replace("Müller".encode(), "Müller".encode("cp1252"))
    with pytest.raises(StatementEncodingError) as refused:
        read_one(latin)
    assert refused.value.position == f"byte {latin.index(b'M') + 1}"
    cp1252 = attrs.evolve(STATEMENT_CSV, encoding="cp1252")
    assert read_one(latin, cp1252).entries[0].counterparty_name == "Müller"
    with pytest.raises(StatementTooLargeError):
        read_csv(data, max_bytes=10)
    with pytest.raises(StatementValueError, match="too long") as long_cell:
        read_one(contract("L1,2026-03-02,1.00,EUR,," + "x" * (MAX_CELL_LENGTH + 1) + ",,"))
    assert long_cell.value.position == "line 2, column 6"
    with pytest.raises(StatementFormatError, match="control character"):
        read_one(contract("L1,2026-03-02,1.00,EUR,A\x00da,,,"))


# -- properties: random statements written as CSV and read back -----------------------------------


def _iban(bban: str) -> str:
    digits = "".join(str(int(ch, 36)) for ch in bban + "DE00")
    return f"DE{98 - int(digits) % 97:02d}{bban}"


CELL = (
    st.text(string.ascii_letters + string.digits + " ,;.'\"()/:", max_size=30)
    .map(lambda t: " ".join(t.split()))
    .filter(lambda t: not t.startswith(("=", "+", "-", "@")))
)
LINE_ID = st.text(string.ascii_uppercase + string.digits + "-_/", min_size=1, max_size=20).filter(
    lambda t: not t.startswith("-")
)


@st.composite
def entries(draw: st.DrawFn) -> list[StatementEntry]:
    start = draw(st.dates(date(1990, 1, 1), date(2080, 1, 1)))
    ids = draw(st.lists(LINE_ID, min_size=1, max_size=10, unique=True))
    out = []
    for line_id in ids:
        amount = Decimal(draw(st.integers(-(10**12), 10**12).filter(bool))).scaleb(-2)
        iban = draw(
            st.one_of(st.just(""), st.text("0123456789", min_size=18, max_size=18).map(_iban))
        )
        out.append(
            StatementEntry(
                line_id=line_id,
                booking_date=start + timedelta(days=draw(st.integers(0, 60))),
                amount=eur(str(amount)),
                counterparty_name=draw(CELL),
                counterparty_iban=iban,
                remittance=draw(CELL),
                end_to_end_id=draw(CELL),
            )
        )
    return out


def write_contract(rows: Sequence[StatementEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER.split(","))
    for e in rows:
        writer.writerow(
            [
                e.line_id,
                e.booking_date.isoformat(),
                format(e.amount.amount, "f"),
                "EUR",
                e.counterparty_name,
                e.counterparty_iban,
                e.remittance,
                e.end_to_end_id,
            ]
        )
    return out.getvalue().encode()


@given(rows=entries())
def test_a_random_statement_written_as_statement_csv_reads_back_equal(
    rows: list[StatementEntry],
) -> None:
    (statement,) = read_csv(write_contract(rows))
    assert statement.entries == tuple(rows)
    assert statement.currency == "EUR"


LOCAL = CsvMapping(
    line_id="Ref",
    booking_date="Datum",
    debit="Soll",
    credit="Haben",
    balance="Saldo",
    default_currency="EUR",
    counterparty_name="Name",
    remittance=("Zweck",),
    date_format="%d.%m.%Y",
    decimal_separator=",",
    thousands_separator=".",
    delimiter=";",
)


def _local_number(value: Decimal) -> str:
    whole, _, fraction = format(abs(value), "f").partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return ("-" if value < 0 else "") + ".".join(groups) + "," + fraction


@given(rows=entries(), opening=st.integers(-(10**12), 10**12))
def test_a_random_statement_in_a_local_bank_layout_reads_back_equal(
    rows: list[StatementEntry], opening: int
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["Datum", "Ref", "Name", "Zweck", "Soll", "Haben", "Saldo"])
    balance = Decimal(opening).scaleb(-2)
    start = balance
    for e in rows:
        balance += e.amount.amount
        money_out = e.amount.is_negative()
        writer.writerow(
            [
                f"{e.booking_date:%d.%m.%Y}",
                e.line_id,
                e.counterparty_name,
                e.remittance,
                _local_number(-e.amount.amount) if money_out else "",
                "" if money_out else _local_number(e.amount.amount),
                _local_number(balance),
            ]
        )
    (statement,) = read_csv(out.getvalue().encode(), LOCAL)
    assert statement.entries == tuple(
        attrs.evolve(e, counterparty_iban="", end_to_end_id="") for e in rows
    )
    assert [b.amount for b in statement.balances] == [eur(str(start)), eur(str(balance))]


def test_unmapped_columns_may_share_a_name_and_the_last_line_may_lack_a_break() -> None:
    data = contract("L1,2026-03-02,1.00,EUR,,,,,x,y", header=HEADER + ",note,note").rstrip(b"\n")
    assert len(read_one(data).entries) == 1
    with pytest.raises(StatementStructureError) as refused:
        read_one(contract("L1,2026-03-02,1.00,EUR,,,,").rstrip(b"\n") + b"x" * MAX_LINE_LENGTH)
    assert refused.value.position == f"line 2, column {MAX_LINE_LENGTH + 1}"


def test_iban_or_none() -> None:
    from o2c.adapters.statements._text import iban_or_none

    assert iban_or_none("de89 3704 0044 0532 0130 00") == IBAN
    assert [iban_or_none(t) for t in ("", "D" * 65, "DE00370400440532013000")] == [None] * 3
