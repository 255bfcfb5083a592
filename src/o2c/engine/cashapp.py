"""Engine part: bank statements imported once, and cash application on them.

* :meth:`CashAppMixin.import_statement` stores a statement's booked entries as bank
  lines (:class:`o2c.bank_lines.BankLine`), keyed by account and the bank's line id.
  A line stored before is *known* when its booking date and amount agree, and a
  *conflict* when they do not: then nothing of the statement is stored. So importing
  a statement twice, or statements that overlap, stores every line once.
* :meth:`CashAppMixin.receive_bank_line` turns an incoming line into a receipt
  (once), optionally naming the customer and applying it to invoices in the same unit
  of work. Receipts exist only for money identified as a customer's payment; bank
  lines are the account's facts (docs/statements.md, "Importing exactly once").
* :meth:`CashAppMixin.bank_lines` lists the lines, optionally only those cash
  application has not received yet.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

import attrs

from o2c.bank_lines import BankLine, StatementImport, bank_line, line_key
from o2c.cash import MAX_PAYER_NAME_LENGTH, MAX_REFERENCE_LENGTH, Receipt, normalise_iban
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.core import Tx, fingerprint
from o2c.engine.records import bank_lines_of, customers, invoices_of, receipts_of
from o2c.errors import (
    BankLineAlreadyReceivedError,
    CashFieldError,
    DuplicateStatementLineError,
    EngineStateError,
    StatementBalanceError,
    StatementLineConflictError,
    StatementValueError,
)
from o2c.events import BankLineReceived, StatementImported
from o2c.money import Money, money_sum
from o2c.payments import PaymentMethod, redact_card_numbers
from o2c.ports import UnitOfWork
from o2c.statements import BalanceKind, Statement, StatementEntry

__all__ = ["CashAppMixin"]

#: Longest bank line id accepted.
MAX_LINE_ID_LENGTH = 255


def _digest(statement: Statement) -> str:
    """The statement's idempotency fingerprint: a digest of every field (letters and
    digits 2-7 only, so stored keys never look like card numbers)."""
    text = repr(fingerprint({"statement": statement}))
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:52]


class CashAppMixin(AfterSalesMixin):
    """Bank statements imported once, and cash application on them."""

    def import_statement(self, key: str, statement: Statement) -> StatementImport:
        """Store a statement's booked entries as bank lines, each line once.

        A line is identified by the statement's account and the entry's line id. One
        stored before with the same booking date and amount is *known* and left as
        it is; with another date or amount it is a *conflict*. Entries the bank has
        not booked (camt ``PDNG``) are left out and counted.

        Returns:
            Which lines are new and which were known.

        Raises:
            StatementLineConflictError: lines contradict lines stored before (every
                conflict is listed); nothing was stored.
            StatementBalanceError: the statement does not reconcile (opening balance +
                booked entries != closing balance).
            DuplicateStatementLineError: two entries with one line id.
            StatementValueError: no account, an empty or overlong line id, or an
                entry in another currency than the statement's.
        """

        def run(tx: Tx) -> StatementImport:
            booked = _checked(statement)
            repo = bank_lines_of(tx.uow)
            new: list[BankLine] = []
            known: list[str] = []
            conflicts: list[str] = []
            for entry in booked:
                found = repo.find("key", line_key(statement.account, entry.line_id))
                if not found:
                    new.append(bank_line(tx.number("BL"), statement, entry, now=tx.now))
                    continue
                stored = found[0]
                differs = _differs(stored, entry)
                if differs:
                    conflicts.append(f"{redact_card_numbers(entry.line_id)}: {differs}")
                else:
                    known.append(stored.id)
            if conflicts:
                raise StatementLineConflictError(
                    f"{len(conflicts)} line(s) of statement "
                    f"{redact_card_numbers(statement.statement_id)} contradict stored lines",
                    account=redact_card_numbers(statement.account),
                    conflicts=tuple(conflicts),
                )
            for line in new:
                repo.put(line)
            account = redact_card_numbers(statement.account)
            result = StatementImport(
                account=account,
                statement_id=redact_card_numbers(statement.statement_id),
                new=tuple(line.id for line in new),
                known=tuple(known),
                pending=len(statement.entries) - len(booked),
            )
            currency = statement.currency
            tx.emit(
                (
                    StatementImported(
                        aggregate_id=account,
                        occurred_at=tx.now,
                        statement_id=result.statement_id,
                        new_lines=result.new,
                        known_lines=len(known),
                        money_in=money_sum(
                            (n.amount for n in new if n.direction == "in"), currency
                        ),
                        money_out=money_sum(
                            (n.amount for n in new if n.direction == "out"), currency
                        ),
                    ),
                )
            )
            return result

        return self._command("import_statement", key, {"statement": _digest(statement)}, run)

    def receive_bank_line(
        self,
        key: str,
        bank_line_id: str,
        customer_id: str | None = None,
        allocations: Mapping[str, Money] | None = None,
    ) -> Receipt:
        """Make an incoming bank line a receipt (each line once), and apply it.

        The receipt holds the line's whole amount, is a bank transfer referenced by
        the line's remittance, and carries the payer's name and IBAN. ``allocations``
        (amount per invoice id) are applied at once, as :meth:`apply_cash` would;
        what they leave stays unapplied on the receipt. An invoice names the customer
        when ``customer_id`` is None.

        Raises:
            NotFoundError: no such bank line, customer or invoice.
            BankLineAlreadyReceivedError: the line is a receipt already.
            EngineStateError: money out, a reversal, or an invoice of another customer.
            AllocationExceedsOpenAmountError: more than an invoice's open amount.
            InsufficientUnappliedCashError: more than the line's amount in all.
        """
        applied = dict(allocations or {})
        fields = {
            "bank_line_id": bank_line_id,
            "customer_id": customer_id,
            "allocations": applied,
        }

        def run(tx: Tx) -> Receipt:
            repo = bank_lines_of(tx.uow)
            line = repo.require(bank_line_id)
            if line.receipt_id is not None:
                raise BankLineAlreadyReceivedError(
                    f"bank line {bank_line_id} is receipt {line.receipt_id} already",
                    bank_line_id=bank_line_id,
                    receipt_id=line.receipt_id,
                )
            if not line.receivable:
                reason = "it is a reversal" if line.reversal else f"it is money {line.direction}"
                raise EngineStateError(subject=f"bank line {bank_line_id}", reason=reason)
            if customer_id is not None:
                customers(tx.uow).require(customer_id)
            receipt = self._receive(
                tx,
                amount=line.amount,
                method=PaymentMethod.BANK_TRANSFER.value,
                customer_id=customer_id,
                reference=_reference(line),
                payer_name=_payer_name(line.counterparty_name),
                payer_iban=_iban(line.counterparty_iban),
            )
            for invoice_id, amount in applied.items():
                invoice = invoices_of(tx.uow).require(invoice_id)
                if receipt.customer_id is None:
                    receipt, ev = receipt.assign_customer(invoice.customer_id, tx.now)
                    tx.emit(ev)
                elif receipt.customer_id != invoice.customer_id:
                    raise EngineStateError(
                        subject=f"bank line {bank_line_id}",
                        reason=f"invoice {invoice_id} belongs to another customer",
                    )
                receipt, _ = self._apply(tx, receipt, invoice, amount)
            receipts_of(tx.uow).put(receipt)
            repo.put(attrs.evolve(line, receipt_id=receipt.id))
            tx.emit(
                (
                    BankLineReceived(
                        aggregate_id=line.id,
                        occurred_at=tx.now,
                        receipt_id=receipt.id,
                        amount=line.amount,
                        customer_id=receipt.customer_id,
                    ),
                )
            )
            return receipt

        return self._command("receive_bank_line", key, fields, run)

    def bank_line(self, bank_line_id: str) -> BankLine:
        """A bank line."""
        return self._read(lambda uow: bank_lines_of(uow).require(bank_line_id))

    def bank_lines(
        self, account: str | None = None, unmatched_only: bool = False
    ) -> tuple[BankLine, ...]:
        """Imported bank lines in import order: all, one account's, or only the
        incoming ones cash application has not received yet (``unmatched_only``)."""

        def read(uow: UnitOfWork) -> tuple[BankLine, ...]:
            repo = bank_lines_of(uow)
            wanted = None if account is None else redact_card_numbers(account)
            if unmatched_only:
                found = (
                    repo.find("unmatched", "yes")
                    if wanted is None
                    else repo.find("unmatched_account", wanted)
                )
            else:
                found = repo.all() if wanted is None else repo.find("account", wanted)
            return tuple(sorted(found, key=lambda line: (len(line.id), line.id)))

        return self._read(read)


def _checked(statement: Statement) -> list[StatementEntry]:
    """The statement's booked entries, after the checks an import needs."""
    if not isinstance(statement, Statement):
        raise StatementValueError(
            "import_statement takes a Statement",
            format="statement",
            position="(argument)",
            reason=f"got {type(statement).__name__}",
            field="statement",
            value=type(statement).__name__,
        )
    where = {"format": statement.source_format or "statement"}
    if not statement.account.strip():
        raise StatementValueError(
            "the statement names no account",
            position=f"statement {statement.statement_id}",
            reason="bank lines are kept per account; give the statement's account "
            "(for CSV: CsvMapping.account)",
            field="account",
            value="",
            **where,
        )
    opening = statement.balance(BalanceKind.OPENING)
    closing = statement.balance(BalanceKind.CLOSING)
    if opening is not None and closing is not None and statement.reconciles is False:
        moved = money_sum((e.amount for e in statement.entries if e.booked), statement.currency)
        raise StatementBalanceError(
            f"statement {redact_card_numbers(statement.statement_id)} does not reconcile; "
            "it is not imported",
            position=f"statement {redact_card_numbers(statement.statement_id)}",
            reason=(
                f"opening {opening.amount} + booked entries {moved} = {opening.amount + moved}, "
                f"but the closing balance is {closing.amount}"
            ),
            statement_id=redact_card_numbers(statement.statement_id),
            opening=opening.amount,
            movements=moved,
            closing=closing.amount,
            difference=closing.amount - (opening.amount + moved),
            **where,
        )
    booked = [e for e in statement.entries if e.booked]
    seen: set[str] = set()
    for entry in booked:
        problem = ""
        if not entry.line_id or len(entry.line_id) > MAX_LINE_ID_LENGTH:
            problem = f"a line id is 1 to {MAX_LINE_ID_LENGTH} characters"
        elif entry.amount.currency != statement.currency:
            problem = f"an entry in {entry.amount.currency} on a {statement.currency} statement"
        elif entry.line_id in seen:
            raise DuplicateStatementLineError(
                f"line id {redact_card_numbers(entry.line_id)!r} appears twice",
                position=f"statement {statement.statement_id}",
                reason="each line of an account needs its own id",
                line_id=redact_card_numbers(entry.line_id),
                **where,
            )
        if problem:
            raise StatementValueError(
                "an entry cannot be imported",
                position=f"line {redact_card_numbers(entry.line_id)[:64]!r}",
                reason=problem,
                field="line_id" if "line id" in problem else "amount",
                value=redact_card_numbers(entry.line_id)[:64],
                **where,
            )
        seen.add(entry.line_id)
    return booked


def _differs(stored: BankLine, entry: StatementEntry) -> str:
    """How an entry contradicts the line stored under its id ("" if it does not)."""
    if stored.amount != entry.amount:
        return f"amount {stored.amount} stored, {entry.amount} now"
    if stored.booking_date != entry.booking_date:
        return f"booking date {stored.booking_date} stored, {entry.booking_date} now"
    return ""


def _reference(line: BankLine) -> str:
    """The receipt's reference: the structured reference and the remittance text (what
    apply_bank_transfer and people look for), cut to the receipt's limit."""
    parts = [line.remittance]
    if line.structured_reference and line.structured_reference not in line.remittance:
        parts.insert(0, line.structured_reference)
    text = _one_line(" ".join(p for p in parts if p) or line.end_to_end_id)
    return text[:MAX_REFERENCE_LENGTH].strip()


def _payer_name(name: str) -> str | None:
    return _one_line(name)[:MAX_PAYER_NAME_LENGTH].strip() or None


def _one_line(text: str) -> str:
    """White space (line breaks, tabs) made single spaces: receipts hold one line."""
    return " ".join(text.split())


def _iban(account: str) -> str | None:
    """The payer's IBAN when the line's account is one (receipts keep IBANs only)."""
    if not account or len(account) > 64:
        return None
    try:
        return normalise_iban(account)
    except CashFieldError:
        return None
