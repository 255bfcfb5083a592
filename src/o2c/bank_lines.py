"""Bank lines: statement entries as o2c keeps them once a statement is imported.

A :class:`BankLine` is one booked movement on one of the host's bank accounts, stored
once however many statements repeat it (see :meth:`o2c.engine.O2C.import_statement`).
It is identified by its account and the bank's line id; its booking date and amount
are its fingerprint: the same id with another date or amount is a conflict, never a
second line.

Bank lines are facts about the bank account, not cash of any customer yet: an
incoming line becomes a :class:`~o2c.cash.Receipt` when cash application receives it
(:meth:`o2c.engine.O2C.receive_bank_line`), so the cash ledger's law (received =
applied + unapplied + refunded) covers only money that was identified as a
customer's payment, and a card processor's payout or an owner's own transfer never
inflates it.

Text o2c stores passes :func:`o2c.payments.redact_card_numbers` (a card number typed
into a remittance is masked); the line's identity is kept as a digest of the text as
the bank wrote it, so masking never merges two lines.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime
from typing import Final

import attrs

from o2c.money import Money
from o2c.payments import redact_card_numbers
from o2c.statements import EntryDetail, Statement, StatementEntry

__all__ = ["BankLine", "StatementImport", "bank_line", "line_key"]

_KEY_LENGTH: Final = 32


def line_key(account: str, line_id: str) -> str:
    """The identity of a bank line: a digest of its account and the bank's line id as
    written (letters and the digits 2-7 only, so it never looks like a card number)."""
    digest = hashlib.sha256(f"{account}\x1f{line_id}".encode()).digest()
    return base64.b32encode(digest).decode()[:_KEY_LENGTH]


@attrs.frozen(kw_only=True)
class BankLine:
    """One booked movement on a bank account, imported from a statement.

    Attributes:
        id: o2c's id (``BL-000001``...).
        key: :func:`line_key` of the account and line id as the bank wrote them.
        account: The account (card-number runs masked, as every text here).
        line_id: The bank's id of the line.
        statement_id: The statement that first brought it.
        source_format: That statement's format (``"mt940"``, ``"camt.053.001.02"``...).
        booking_date: Booking date.
        amount: Signed: money in positive, money out negative.
        value_date: Value date, if given.
        reversal: A reversal of an earlier movement (MT940 ``RC``/``RD``).
        counterparty_name: Payer or payee.
        counterparty_iban: Their account.
        remittance: Remittance information.
        structured_reference: Structured creditor reference.
        end_to_end_id: End-to-end id.
        bank_code: The bank's transaction code.
        details: The transactions of a batch entry.
        imported_at: When it was stored.
        receipt_id: The receipt it became, once received (incoming lines only).
    """

    id: str
    key: str
    account: str
    line_id: str
    statement_id: str
    source_format: str
    booking_date: date
    amount: Money
    value_date: date | None = None
    reversal: bool = False
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    structured_reference: str = ""
    end_to_end_id: str = ""
    bank_code: str = ""
    details: tuple[EntryDetail, ...] = ()
    imported_at: datetime
    receipt_id: str | None = None

    @property
    def direction(self) -> str:
        """``"in"``, ``"out"`` or ``"zero"``."""
        if self.amount.is_positive():
            return "in"
        return "out" if self.amount.is_negative() else "zero"

    @property
    def receivable(self) -> bool:
        """Money in that is not a reversal: cash application may receive it."""
        return self.amount.is_positive() and not self.reversal

    @property
    def unmatched(self) -> bool:
        """Receivable and not received yet: work for cash application."""
        return self.receivable and self.receipt_id is None


@attrs.frozen(kw_only=True)
class StatementImport:
    """What importing a statement did.

    Attributes:
        account: The account (as stored).
        statement_id: The statement (as stored).
        new: Bank lines stored by this import, in statement order.
        known: Bank lines of the statement stored before (same line id, booking date
            and amount), in statement order.
        pending: Entries the bank has not booked (camt ``PDNG``...), left out.
    """

    account: str
    statement_id: str
    new: tuple[str, ...]
    known: tuple[str, ...]
    pending: int = 0


def _detail(detail: EntryDetail) -> EntryDetail:
    return attrs.evolve(
        detail,
        counterparty_name=redact_card_numbers(detail.counterparty_name),
        counterparty_iban=redact_card_numbers(detail.counterparty_iban),
        remittance=redact_card_numbers(detail.remittance),
        structured_reference=redact_card_numbers(detail.structured_reference),
        end_to_end_id=redact_card_numbers(detail.end_to_end_id),
    )


def bank_line(
    record_id: str, statement: Statement, entry: StatementEntry, *, now: datetime
) -> BankLine:
    """The bank line to store under ``record_id`` for ``entry`` of ``statement`` (texts
    masked)."""
    return BankLine(
        id=record_id,
        key=line_key(statement.account, entry.line_id),
        account=redact_card_numbers(statement.account),
        line_id=redact_card_numbers(entry.line_id),
        statement_id=redact_card_numbers(statement.statement_id),
        source_format=statement.source_format,
        booking_date=entry.booking_date,
        amount=entry.amount,
        value_date=entry.value_date,
        reversal=entry.reversal,
        counterparty_name=redact_card_numbers(entry.counterparty_name),
        counterparty_iban=redact_card_numbers(entry.counterparty_iban),
        remittance=redact_card_numbers(entry.remittance),
        structured_reference=redact_card_numbers(entry.structured_reference),
        end_to_end_id=redact_card_numbers(entry.end_to_end_id),
        bank_code=redact_card_numbers(entry.bank_code),
        details=tuple(_detail(d) for d in entry.details),
        imported_at=now,
    )
