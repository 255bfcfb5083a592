"""OPEN_ITEMS.csv in, MATCHES.csv out, and the optional memory and group files."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from o2c.errors import MatchFileError
from o2c.matching.csvio import (
    MATCHES_COLUMNS,
    OPEN_ITEMS_COLUMNS,
    match_rows,
    neutralise,
    read_groups,
    read_memory,
    read_open_items,
    write_matches,
)
from o2c.matching.model import Allocation, LineResult, MatchStatus, Proposal, Signal
from o2c.money import Money

HEADER = ",".join(OPEN_ITEMS_COLUMNS)
ROW = (
    "INV-1,C1,Acme GmbH,de89 3704 0044 0532 0130 00,EUR,1190.00,2026-02-01,2026-03-03,2,2026-02-11"
)


def read(*rows: str, header: str = HEADER) -> list:  # type: ignore[type-arg]
    return read_open_items(io.StringIO("\n".join([header, *rows]) + "\n"))


def test_open_items_are_read_and_checked() -> None:
    (item,) = read(ROW)
    assert item.invoice_number == "INV-1"
    assert item.customer_iban == "DE89370400440532013000"
    assert item.amount_open == Money("1190.00", "EUR")
    assert item.due_date == date(2026, 3, 3)
    assert item.discount_percent == Decimal(2)
    assert item.discount_until == date(2026, 2, 11)


def test_columns_in_any_order_extra_columns_and_blank_lines_are_fine() -> None:
    header = "note," + ",".join(reversed(OPEN_ITEMS_COLUMNS))
    row = "x," + ",".join(reversed(ROW.split(",")))
    (item,) = read(row, "", header=header)
    assert item.invoice_number == "INV-1"


def test_an_item_without_discount_leaves_both_cells_empty() -> None:
    (item,) = read("INV-2,C1,,,EUR,5.00,2026-02-01,2026-03-03,,")
    assert item.discount_percent is None
    assert item.discount_until is None
    assert item.customer_iban == ""


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("INV-1,C1,A,,EUR,1.000.00,2026-02-01,2026-03-03,,", "amount_open", "unexpected"),
        ("INV-1,C1,A,,EUR,1e3,2026-02-01,2026-03-03,,", "amount_open", "unexpected"),
        ("INV-1,C1,A,,EUR,NaN,2026-02-01,2026-03-03,,", "amount_open", "digit"),
        ("INV-1,C1,A,,EURO,1.00,2026-02-01,2026-03-03,,", "currency", "ISO 4217"),
        ("INV-1,C1,A,,EUR,1.00,01.02.2026,2026-03-03,,", "invoice_date", "ISO date"),
        ("INV-1,C1,A,,EUR,1.00,2026-02-30,2026-03-03,,", "invoice_date", "no such date"),
        ("INV-1,C1,A,,EUR,1.00,2026-02-01,2026-03-03,2,", "discount_until", "both"),
        ("INV-1,C1,A,,EUR,1.00,2026-02-01,2026-03-03,,2026-02-11", "discount_percent", "both"),
        (
            "INV-1,C1,A,,EUR,1.00,2026-02-01,2026-03-03,100,2026-02-11",
            "discount_percent",
            "[0, 100)",
        ),
        (",C1,A,,EUR,1.00,2026-02-01,2026-03-03,,", "invoice_number", "empty"),
        ("INV-1,C1,A,,EUR,1.00,2026-02-01,2026-03-03,,,", "", "cells"),
        ("INV-1,C1,A\x07,,EUR,1.00,2026-02-01,2026-03-03,,", "customer_name", "control"),
    ],
)
def test_a_bad_cell_names_its_row_and_column(row: str, column: str, reason: str) -> None:
    with pytest.raises(MatchFileError) as caught:
        read(ROW, row)
    assert caught.value.row == 3
    assert caught.value.column == column
    assert reason in caught.value.reason


def test_a_file_without_rows_or_columns_is_refused() -> None:
    with pytest.raises(MatchFileError, match="empty"):
        read_open_items(io.StringIO(""))
    with pytest.raises(MatchFileError) as caught:
        read(ROW, header=HEADER.replace("amount_open", "amount"))
    assert caught.value.column == "amount_open"
    with pytest.raises(MatchFileError, match="CSV"):
        read('INV-1,"C1,A', header=HEADER)


def test_memory_and_group_files() -> None:
    memory = read_memory(io.StringIO("account,name,customer_id\nDE89 3704,,C1\n,Acme,C1\n"))
    assert dict(memory.for_account("DE893704")) == {"C1": 1}
    assert dict(memory.for_name("ACME")) == {"C1": 1}
    groups = read_groups(io.StringIO("parent_id,customer_id\nP,C1\nP,C2\n"))
    assert groups == {"P": ["C1", "C2"]}
    with pytest.raises(MatchFileError, match="customer_id"):
        read_memory(io.StringIO("account,name,customer_id\nX,,\n"))
    with pytest.raises(MatchFileError, match="no account or name"):
        read_memory(io.StringIO("account,name,customer_id\n,,C1\n"))
    with pytest.raises(MatchFileError, match="parent_id"):
        read_groups(io.StringIO("parent_id,customer_id\n,C1\n"))


# --------------------------------------------------------------------------- output


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+49 30", "'+49 30"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("INV-1", "INV-1"),
        ("", ""),
    ],
)
def test_formula_cells_are_neutralised(cell: str, written: str) -> None:
    assert neutralise(cell) == written


def eur(value: str) -> Money:
    return Money(value, "EUR")


def proposal(*allocations: Allocation, unapplied: Money | None = None) -> Proposal:
    return Proposal(
        allocations=allocations,
        confidence=0.925,
        signals=(Signal("reference", 0.85, "the remittance quotes =HYPERLINK(1)"),),
        unapplied=unapplied,
    )


RESULTS = [
    LineResult(
        "L1",
        MatchStatus.AUTO,
        (
            proposal(
                Allocation("INV-1", eur("980.00"), discount=eur("20.00")),
                Allocation("-INV-2", eur("10.00"), written_off=eur("1.00")),
                unapplied=eur("5.00"),
            ),
        ),
        "confidence 0.925",
    ),
    LineResult("L2", MatchStatus.SUGGESTED, (proposal(Allocation("INV-3", eur("7.00"))),), "why"),
    LineResult("=L3", MatchStatus.UNMATCHED, (), "outgoing"),
]


def test_one_row_per_allocation_and_one_per_unmatched_line() -> None:
    rows = list(match_rows(RESULTS))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("L1", "INV-1", "980.00", "auto"),
        ("L1", "-INV-2", "10.00", "auto"),
        ("L2", "INV-3", "7.00", "suggested"),
        ("=L3", "", "0", "unmatched"),
    ]
    assert "5.00 EUR stays unapplied" in rows[0][5]
    assert rows[2][5].endswith("| not applied: why")
    assert rows[3][5] == "outgoing"


def test_the_matches_file_neutralises_text_but_not_numbers() -> None:
    out = io.StringIO()
    count = write_matches(
        [*RESULTS, LineResult("L4", MatchStatus.UNMATCHED, (), "card 4111 1111 1111 1111")], out
    )
    assert count == 5
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == MATCHES_COLUMNS
    assert rows[2][1] == "'-INV-2"  # an invoice number is text
    assert rows[4][0] == "'=L3"  # so is a line id
    assert rows[1][2] == "980.00"  # an amount is a number: never touched
    assert rows[1][4] == "0.9250"
    assert "=HYPERLINK" in rows[1][5]
    assert "1111 1111 1111" not in rows[5][5]  # card numbers are masked


def test_a_negative_amount_is_written_as_a_number() -> None:
    # o2c never applies negative cash, but a number is never turned into text.
    out = io.StringIO()
    write_matches(
        [LineResult("L9", MatchStatus.AUTO, (proposal(Allocation("INV-9", eur("-5.00"))),))], out
    )
    assert list(csv.reader(io.StringIO(out.getvalue())))[1][2] == "-5.00"


def test_a_file_with_too_many_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from o2c.matching import csvio

    monkeypatch.setattr(csvio, "MAX_ROWS", 2)
    with pytest.raises(MatchFileError, match="too many rows"):
        read(ROW, ROW.replace("INV-1", "INV-2"))
