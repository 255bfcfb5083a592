"""Bank statements: one model for every format o2c reads (camt.05x, MT940, CSV).

The readers live in :mod:`o2c.adapters.statements` (they bring their own parsers as
optional extras); cash application (:mod:`o2c.matching`) and the engine's statement
import work on these values only.

A :class:`Statement` is one account's statement for one period: its balances, if the
file has them, and its :class:`StatementEntry` values in file order. An entry is one
booked movement; a batch booking keeps its :class:`EntryDetail` parts. Amounts are
signed: money in is positive, money out negative.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import attrs

from o2c.money import Money, money_sum

__all__ = ["Balance", "BalanceKind", "EntryDetail", "Statement", "StatementEntry"]


class BalanceKind(StrEnum):
    """Which balance a statement states (ISO 20022 codes; MT940 :60F:/:62F: map to
    opening and closing booked)."""

    OPENING = "opening"  # OPBD, :60F: / :60M:
    CLOSING = "closing"  # CLBD, :62F: / :62M:
    CLOSING_AVAILABLE = "closing_available"  # CLAV, :64:
    OTHER = "other"


@attrs.frozen
class Balance:
    """A balance the statement states.

    Attributes:
        kind: Which balance.
        amount: Signed (a debit balance is negative).
        on: The date it is stated for.
        code: The code in the file (``"OPBD"``, ``"60F"`` ...).
    """

    kind: BalanceKind
    amount: Money
    on: date
    code: str = ""


@attrs.frozen
class EntryDetail:
    """One transaction inside a (batch) entry.

    Attributes:
        amount: Signed, like the entry's.
        counterparty_name: Payer (money in) or payee (money out).
        counterparty_iban: Their account, normalised (no spaces, upper case) when an IBAN.
        remittance: Unstructured remittance information, lines joined by a space.
        structured_reference: A structured creditor reference (ISO 11649 ``RF...``, or
            a national one), as written.
        end_to_end_id: The end-to-end id (``NOTPROVIDED`` is kept as given).
    """

    amount: Money
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""


@attrs.frozen
class StatementEntry:
    """One booked movement on the account.

    Attributes:
        line_id: Unique within the account: the bank's reference (camt ``AcctSvcrRef``,
            else ``NtryRef``; MT940 the bank reference), else the file position.
        booking_date: Booking date.
        value_date: Value date, if given.
        amount: Signed amount of the whole entry.
        reversal: True for a reversal (camt ``RvslInd``; MT940 ``RC``/``RD``).
        counterparty_name: Payer or payee of a single-transaction entry.
        counterparty_iban: Their account.
        remittance: Unstructured remittance information.
        structured_reference: Structured creditor reference, if any.
        end_to_end_id: End-to-end id, if any.
        details: The transactions of a batch entry (empty or one for a single one).
        bank_code: The bank's transaction code (camt ``BkTxCd``; MT940 ``NTRF``...).
        booked: False for an entry the bank reports but has not booked (camt ``Sts``
            ``PDNG``/``INFO``/``FUTR``); such entries are not movements of the balance
            and are left out of :attr:`Statement.reconciles`. Readers leave them out
            unless asked (``read_camt(..., include_pending=True)``).
    """

    line_id: str
    booking_date: date
    amount: Money
    value_date: date | None = None
    reversal: bool = False
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    details: tuple[EntryDetail, ...] = ()
    bank_code: str = ""
    booked: bool = True

    @property
    def is_incoming(self) -> bool:
        """Money in."""
        return self.amount.is_positive()


@attrs.frozen
class Statement:
    """One account's statement.

    Attributes:
        statement_id: The file's id for it (camt ``Stmt/Id``; MT940 ``:20:``/``:28C:``).
        account: The account, IBAN normalised, or the number as given.
        currency: The account's currency.
        entries: In file order.
        balances: As stated in the file.
        source_format: ``"camt.053.001.02"``, ``"mt940"``, ``"csv"`` ...
    """

    statement_id: str
    account: str
    currency: str
    entries: tuple[StatementEntry, ...]
    balances: tuple[Balance, ...] = ()
    source_format: str = ""

    def balance(self, kind: BalanceKind) -> Balance | None:
        """The first stated balance of ``kind``."""
        return next((b for b in self.balances if b.kind is kind), None)

    @property
    def reconciles(self) -> bool | None:
        """opening + booked movements == closing; None when the file states neither."""
        opening = self.balance(BalanceKind.OPENING)
        closing = self.balance(BalanceKind.CLOSING)
        if opening is None or closing is None:
            return None
        moved = money_sum((e.amount for e in self.entries if e.booked), self.currency)
        return opening.amount + moved == closing.amount
