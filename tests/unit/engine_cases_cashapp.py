"""Engine cases of statement import and bank lines (collected by
tests/unit/engine_cases.py), and the statement builders the statement tests share.

Ids are deterministic: bank lines are ``BL-000001`` ... in import order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from tests.unit.engine_cases import INVOICE, Case, World, eur, invoiced

from o2c.errors import StatementBalanceError
from o2c.money import Money, money_sum
from o2c.statements import Balance, BalanceKind, Statement, StatementEntry

__all__ = ["ACCOUNT", "CASES", "FIRST_LINE", "entry", "statement"]

#: The host's bank account in these cases (a valid IBAN).
ACCOUNT = "DE89370400440532013000"
FIRST_LINE = "BL-000001"
DAY = date(2026, 3, 2)


def entry(line_id: str, amount: str, day: date = DAY, **fields: object) -> StatementEntry:
    """A booked EUR entry."""
    return StatementEntry(line_id=line_id, booking_date=day, amount=eur(amount), **fields)  # type: ignore[arg-type]


def statement(
    entries: Sequence[StatementEntry],
    *,
    statement_id: str = "S1",
    account: str = ACCOUNT,
    opening: str | None = "1000.00",
    closing: Money | None = None,
) -> Statement:
    """A EUR statement of ``entries`` whose closing balance follows from ``opening``
    (no balances when ``opening`` is None; ``closing`` overrides the computed one)."""
    balances: tuple[Balance, ...] = ()
    if opening is not None:
        start = eur(opening)
        end = closing or start + money_sum((e.amount for e in entries), "EUR")
        balances = (
            Balance(BalanceKind.OPENING, start, DAY, "60F"),
            Balance(BalanceKind.CLOSING, end, DAY, "62F"),
        )
    return Statement(
        statement_id=statement_id,
        account=account,
        currency="EUR",
        entries=tuple(entries),
        balances=balances,
        source_format="test",
    )


FIRST = statement(
    [
        entry("B1", "119.00", counterparty_name="Ada Lovelace", remittance="INV-000001"),
        entry("B2", "-30.00", remittance="bank fees"),
        entry("B3", "50.00", counterparty_iban="DE89370400440532013000", remittance="on account"),
    ]
)
SECOND = statement([entry("B4", "75.00", remittance="INV-000002")], statement_id="S2")
UNBALANCED = statement([entry("B9", "10.00")], closing=eur("1000.00"))


def statement_imported(w: World) -> None:
    """INV-000001 (119.00 EUR, Ada's) is open and statement S1 is imported: BL-000001
    119.00 in, BL-000002 30.00 out, BL-000003 50.00 in."""
    invoiced(w)
    w.engine.import_statement("setup-import", FIRST)


CASES: tuple[Case, ...] = (
    Case(
        "import_statement",
        invoiced,
        {"statement": FIRST},
        {"statement": SECOND},
        bad={"statement": UNBALANCED},
        bad_error=StatementBalanceError,
    ),
    Case(
        "receive_bank_line",
        statement_imported,
        {"bank_line_id": FIRST_LINE, "customer_id": "ada", "allocations": {INVOICE: eur("119.00")}},
        {
            "bank_line_id": "BL-000003",
            "customer_id": None,
            "allocations": {INVOICE: eur("100.00")},
        },
        bad={"bank_line_id": "BL-404"},
    ),
)
