"""The cash ledger: money actually received, and where it went.

A :class:`Receipt` is money that arrived (a bank transfer, a card settlement, cash
at the door). Its history is append-only, as in TigerBeetle: an :class:`Allocation`
applies part of it to an invoice (a negative allocation takes part of that back,
e.g. after the invoice was credited) and a :class:`Refund` pays unapplied cash back
to the payer, with no dummy invoice or credit note (the complaint in
frappe/erpnext#12994). Everything else is derived:

    applied   = sum of allocations
    refunded  = sum of refunds
    unapplied = amount - applied - refunded     (never negative)

Operations return ``(receipt, events)`` and either succeed entirely or raise a typed
error and change nothing. :func:`summarize` adds receipts up per customer and
currency and :func:`assert_conserved` checks the conservation law
``received == applied + unapplied + refunded`` exactly, on any summary (including
one an adapter computed with SQL sums).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias

import attrs

from o2c._evolve import evolved
from o2c.errors import (
    AllocationExceedsOpenAmountError,
    CashConservationError,
    CashFieldError,
    CurrencyMismatchError,
    CustomerAlreadyAssignedError,
    InsufficientUnappliedCashError,
    InvalidAmountError,
    PayerUnknownError,
    ReceiptAlreadyLinkedError,
    UnallocationExceedsAppliedError,
)
from o2c.events import (
    CashAllocated,
    CashReceived,
    CashUnallocated,
    DomainEvent,
    ReceiptCustomerAssigned,
    ReceiptTenderLinked,
    UnappliedCashRefunded,
)
from o2c.money import Money, money_sum, require_amount
from o2c.payments import PaymentMethod, check_free_text

__all__ = [
    "Allocation",
    "CashSummary",
    "Receipt",
    "Refund",
    "assert_conserved",
    "normalise_iban",
    "receive_cash",
    "summarize",
]

#: Longest id accepted.
MAX_ID_LENGTH: Final = 255
#: Longest reference accepted (SEPA remittance information is 140 characters).
MAX_REFERENCE_LENGTH: Final = 140
#: Longest payer name accepted (SEPA allows 70; statements from elsewhere run longer).
MAX_PAYER_NAME_LENGTH: Final = 140

Events: TypeAlias = tuple[DomainEvent, ...]

_IBAN: Final = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


# --------------------------------------------------------------------------- field checks


def _text(value: object, field: str, max_length: int, *, allow_empty: bool = False) -> str:
    return check_free_text(
        value, field=field, max_length=max_length, error=CashFieldError, allow_empty=allow_empty
    )


def _id(value: object, field: str) -> str:
    # Ids are machine-issued; a numeric id may pass Luhn by chance, so no card scan.
    return check_free_text(
        value, field=field, max_length=MAX_ID_LENGTH, error=CashFieldError, scan_card_numbers=False
    )


def _check_id(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _id(value, attribute.name)


def _check_optional_id(
    _instance: object, attribute: attrs.Attribute[Any], value: str | None
) -> None:
    if value is not None:
        _id(value, attribute.name)


def _check_reference(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    _text(value, attribute.name, MAX_REFERENCE_LENGTH, allow_empty=True)


def _check_payer_name(
    _instance: object, attribute: attrs.Attribute[Any], value: str | None
) -> None:
    if value is not None:
        _text(value, attribute.name, MAX_PAYER_NAME_LENGTH)


def _check_aware(_instance: object, attribute: attrs.Attribute[Any], value: datetime) -> None:
    _aware(value, attribute.name)


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise CashFieldError(
            f"{field} must be a timezone-aware datetime",
            field=field,
            reason="naive or not a datetime",
        )
    return value


def _check_positive(_instance: object, attribute: attrs.Attribute[Any], value: Money) -> None:
    require_amount(value, attribute.name)


def _check_nonzero(_instance: object, attribute: attrs.Attribute[Any], value: Money) -> None:
    require_amount(value, attribute.name, allow="any")
    if value.is_zero():
        raise InvalidAmountError(value=value, reason=f"{attribute.name} must not be zero")


def normalise_iban(value: object) -> str:
    """An IBAN without spaces, upper-case, with its ISO 13616 mod-97 check verified.

    The IBAN itself never appears in the error (it is personal data).

    Raises:
        CashFieldError: not text, malformed, or a wrong check number.

    >>> normalise_iban("de89 3704 0044 0532 0130 00")
    'DE89370400440532013000'
    """
    if not isinstance(value, str) or len(value) > 64:
        raise CashFieldError("an IBAN is short text", field="payer_iban", reason="not an IBAN")
    iban = value.replace(" ", "").upper()
    if not _IBAN.fullmatch(iban):
        raise CashFieldError(
            "malformed IBAN", field="payer_iban", reason="not 2 letters, 2 digits, 11-30 more"
        )
    rearranged = iban[4:] + iban[:4]
    if int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 != 1:
        raise CashFieldError("IBAN check failed", field="payer_iban", reason="wrong check digits")
    return iban


def _iban_converter(value: str | None) -> str | None:
    return None if value is None else normalise_iban(value)


# --------------------------------------------------------------------------- entries


@attrs.frozen
class Allocation:
    """An entry applying part of a receipt to an invoice.

    Args:
        invoice_id: The invoice.
        amount: Positive to apply; negative to take back part of an earlier
            allocation to the same invoice (history is never rewritten).
        at: When, timezone-aware.
        ref: Why (a matching rule, a user note, a credit note number); may be empty.
    """

    invoice_id: str = attrs.field(validator=_check_id)
    amount: Money = attrs.field(validator=_check_nonzero)
    at: datetime = attrs.field(validator=_check_aware)
    ref: str = attrs.field(default="", validator=_check_reference)


@attrs.frozen
class Refund:
    """Unapplied cash paid back to the payer.

    Args:
        amount: Positive.
        at: When, timezone-aware.
        reference: The refund's reference (bank transfer, gateway refund id...).
    """

    amount: Money = attrs.field(validator=_check_positive)
    at: datetime = attrs.field(validator=_check_aware)
    reference: str = attrs.field(validator=_check_reference)


def _allocations(value: Iterable[Allocation]) -> tuple[Allocation, ...]:
    return tuple(value)


def _refunds(value: Iterable[Refund]) -> tuple[Refund, ...]:
    return tuple(value)


def _method(value: str) -> PaymentMethod:
    try:
        return PaymentMethod(value)
    except ValueError:
        raise CashFieldError(
            "unknown payment method", field="method", reason=f"{value!r} is not a method"
        ) from None


# --------------------------------------------------------------------------- receipt


@attrs.frozen
class Receipt:
    """Money received from one payer, and where it went.

    Build one with :func:`receive_cash`. Construction checks the ledger's
    invariants (one currency, nothing applied to an invoice below zero, unapplied
    never negative), so a receipt that breaks them cannot exist.

    Args:
        id: Caller-given id.
        amount: What arrived (positive, whole minor units).
        method: How it was paid.
        received_at: When it arrived, timezone-aware.
        reference: The bank reference or payment id (may be empty).
        customer_id: The paying customer, or None while the payer is not identified.
        payer_name: The payer's name as the bank reported it.
        payer_iban: The payer's IBAN (normalised and checked).
        allocations: Allocation entries, oldest first.
        refunds: Refund entries, oldest first.
        tender_id: The order tender this money pays, when it is not a gateway payment's
            (store credit redeemed, a bank transfer quoting the tender's reference);
            see :mod:`o2c.tenders`.

    Raises:
        CashConservationError: the entries break the ledger's invariants.
    """

    id: str = attrs.field(validator=_check_id)
    amount: Money = attrs.field(validator=_check_positive)
    method: PaymentMethod = attrs.field(converter=_method)
    received_at: datetime = attrs.field(validator=_check_aware)
    reference: str = attrs.field(default="", validator=_check_reference)
    customer_id: str | None = attrs.field(default=None, validator=_check_optional_id)
    payer_name: str | None = attrs.field(default=None, validator=_check_payer_name)
    payer_iban: str | None = attrs.field(default=None, converter=_iban_converter)
    allocations: tuple[Allocation, ...] = attrs.field(default=(), converter=_allocations)
    refunds: tuple[Refund, ...] = attrs.field(default=(), converter=_refunds)
    tender_id: str | None = attrs.field(default=None, validator=_check_optional_id)

    def __attrs_post_init__(self) -> None:
        for entry in (*self.allocations, *self.refunds):
            if not isinstance(entry, Allocation | Refund):
                raise CashFieldError(
                    "entries must be Allocation or Refund values",
                    field="allocations",
                    reason=type(entry).__name__,
                )
            if entry.amount.currency != self.currency:
                raise CurrencyMismatchError(left=self.currency, right=entry.amount.currency)
        for invoice_id in self.invoice_ids:
            if self.applied_to(invoice_id).is_negative():
                raise CashConservationError(
                    f"receipt {self.id!r} takes back more from {invoice_id!r} than it applied",
                    problem="negative allocation",
                    receipt_id=self.id,
                    invoice_id=invoice_id,
                )
        if self.unapplied.is_negative():
            raise CashConservationError(
                f"receipt {self.id!r} applies and refunds more than it received",
                problem="negative unapplied",
                receipt_id=self.id,
                unapplied=self.unapplied,
            )

    # -- derived ------------------------------------------------------------------

    @property
    def currency(self) -> str:
        """The receipt's currency."""
        return self.amount.currency

    @property
    def applied(self) -> Money:
        """Net amount applied to invoices."""
        return money_sum((a.amount for a in self.allocations), self.currency)

    @property
    def refunded(self) -> Money:
        """Amount paid back to the payer."""
        return money_sum((r.amount for r in self.refunds), self.currency)

    @property
    def unapplied(self) -> Money:
        """Received, not applied and not refunded: the customer's cash on account."""
        return self.amount - self.applied - self.refunded

    @property
    def invoice_ids(self) -> tuple[str, ...]:
        """Invoices this receipt has ever been allocated to, in first-allocation order."""
        return tuple(dict.fromkeys(a.invoice_id for a in self.allocations))

    def applied_to(self, invoice_id: str) -> Money:
        """Net amount this receipt applies to ``invoice_id`` (zero if none)."""
        return money_sum(
            (a.amount for a in self.allocations if a.invoice_id == invoice_id), self.currency
        )

    # -- operations ---------------------------------------------------------------

    def allocate(
        self, invoice_id: str, amount: Money, invoice_open: Money, now: datetime, *, ref: str = ""
    ) -> tuple[Receipt, Events]:
        """Apply ``amount`` of unapplied cash to an invoice.

        Args:
            invoice_id: The invoice.
            amount: Positive, whole minor units, in the receipt's currency.
            invoice_open: The invoice's open amount now (the engine reads it in the
                same unit of work).
            now: When, timezone-aware.
            ref: Why (matching rule, note); may be empty.

        Returns:
            ``(receipt, (CashAllocated,))``.

        Raises:
            PayerUnknownError: the receipt has no customer yet.
            InsufficientUnappliedCashError: more than the receipt's unapplied cash.
            AllocationExceedsOpenAmountError: more than the invoice's open amount.
            CurrencyMismatchError: an amount in another currency.
            InvalidAmountError: ``amount`` not positive, or ``invoice_open`` negative.
            CashFieldError: a malformed id, reference or time.
        """
        return self.allocate_many([(invoice_id, amount, invoice_open)], now, ref=ref)

    def allocate_many(
        self,
        items: Sequence[tuple[str, Money, Money]],
        now: datetime,
        *,
        ref: str = "",
    ) -> tuple[Receipt, Events]:
        """Apply cash to several invoices at once, all or nothing.

        Args:
            items: ``(invoice_id, amount, invoice_open)`` per invoice, each invoice once.
            now: When, timezone-aware.
            ref: Why, recorded on every allocation; may be empty.

        Returns:
            ``(receipt, events)`` with one :class:`~o2c.events.CashAllocated` per item.

        Raises:
            CashFieldError: no items, or an invoice named twice.
            (and everything :meth:`allocate` raises, for the first item at fault)
        """
        now = _aware(now, "now")
        _text(ref, "ref", MAX_REFERENCE_LENGTH, allow_empty=True)
        if self.customer_id is None:
            raise PayerUnknownError(
                f"receipt {self.id!r} has no customer; assign one first", receipt_id=self.id
            )
        if not items:
            raise CashFieldError("nothing to allocate", field="items", reason="empty")
        seen: set[str] = set()
        receipt = self
        events: list[DomainEvent] = []
        for invoice_id, amount, invoice_open in items:
            _id(invoice_id, "invoice_id")
            if invoice_id in seen:
                raise CashFieldError(
                    f"invoice {invoice_id!r} is named twice",
                    field="items",
                    reason="duplicate invoice",
                )
            seen.add(invoice_id)
            receipt, step = receipt._allocate_one(invoice_id, amount, invoice_open, now, ref)
            events.extend(step)
        return receipt, tuple(events)

    def _allocate_one(
        self, invoice_id: str, amount: Money, invoice_open: Money, now: datetime, ref: str
    ) -> tuple[Receipt, Events]:
        amount = self._same_currency(require_amount(amount, "amount"))
        invoice_open = self._same_currency(
            require_amount(invoice_open, "invoice_open", allow="any")
        )
        if invoice_open.is_negative():
            raise InvalidAmountError(value=invoice_open, reason="invoice_open must not be negative")
        if amount > self.unapplied:
            raise InsufficientUnappliedCashError(
                f"cannot allocate {amount} to {invoice_id!r}: {self.unapplied} unapplied",
                receipt_id=self.id,
                requested=amount,
                unapplied=self.unapplied,
            )
        if amount > invoice_open:
            raise AllocationExceedsOpenAmountError(
                f"cannot allocate {amount} to {invoice_id!r}: {invoice_open} open",
                receipt_id=self.id,
                invoice_id=invoice_id,
                requested=amount,
                open_amount=invoice_open,
            )
        entry = Allocation(invoice_id=invoice_id, amount=amount, at=now, ref=ref)
        receipt = evolved(self, allocations=(*self.allocations, entry))
        event = CashAllocated(
            aggregate_id=self.id,
            occurred_at=now,
            invoice_id=invoice_id,
            amount=amount,
            unapplied=receipt.unapplied,
        )
        return receipt, (event,)

    def unallocate(
        self, invoice_id: str, amount: Money, now: datetime, *, ref: str = ""
    ) -> tuple[Receipt, Events]:
        """Take cash back from an invoice to the receipt's unapplied amount.

        Used when an invoice is credited after it was paid, or an allocation was
        wrong. The history keeps both entries.

        Args:
            invoice_id: The invoice.
            amount: Positive, at most what the receipt applies to that invoice.
            now: When, timezone-aware.
            ref: Why (a credit note number, a note); may be empty.

        Returns:
            ``(receipt, (CashUnallocated,))``.

        Raises:
            UnallocationExceedsAppliedError: more than the receipt applies to the invoice.
            CurrencyMismatchError: an amount in another currency.
            InvalidAmountError: ``amount`` not positive.
            CashFieldError: a malformed id, reference or time.
        """
        now = _aware(now, "now")
        _id(invoice_id, "invoice_id")
        _text(ref, "ref", MAX_REFERENCE_LENGTH, allow_empty=True)
        amount = self._same_currency(require_amount(amount, "amount"))
        applied = self.applied_to(invoice_id)
        if amount > applied:
            raise UnallocationExceedsAppliedError(
                f"cannot take {amount} back from {invoice_id!r}: {applied} applied",
                receipt_id=self.id,
                invoice_id=invoice_id,
                requested=amount,
                applied=applied,
            )
        entry = Allocation(invoice_id=invoice_id, amount=-amount, at=now, ref=ref)
        receipt = evolved(self, allocations=(*self.allocations, entry))
        event = CashUnallocated(
            aggregate_id=self.id,
            occurred_at=now,
            invoice_id=invoice_id,
            amount=amount,
            unapplied=receipt.unapplied,
        )
        return receipt, (event,)

    def refund_unapplied(
        self, amount: Money, reference: str, now: datetime
    ) -> tuple[Receipt, Events]:
        """Pay unapplied cash back to the payer; no invoice or credit note involved.

        Works for a payer not yet identified too (money sent to us by mistake).

        Args:
            amount: Positive, at most the unapplied amount.
            reference: The refund's reference (may be empty; never a card number).
            now: When, timezone-aware.

        Returns:
            ``(receipt, (UnappliedCashRefunded,))``.

        Raises:
            InsufficientUnappliedCashError: more than the unapplied cash.
            CurrencyMismatchError: an amount in another currency.
            InvalidAmountError: ``amount`` not positive.
            CashFieldError: a malformed reference or time.
            CardDataRefusedError: the reference holds a card number.
        """
        now = _aware(now, "now")
        _text(reference, "reference", MAX_REFERENCE_LENGTH, allow_empty=True)
        amount = self._same_currency(require_amount(amount, "amount"))
        if amount > self.unapplied:
            raise InsufficientUnappliedCashError(
                f"cannot refund {amount}: {self.unapplied} unapplied",
                receipt_id=self.id,
                requested=amount,
                unapplied=self.unapplied,
            )
        entry = Refund(amount=amount, at=now, reference=reference)
        receipt = evolved(self, refunds=(*self.refunds, entry))
        event = UnappliedCashRefunded(
            aggregate_id=self.id,
            occurred_at=now,
            amount=amount,
            reference=reference,
            unapplied=receipt.unapplied,
        )
        return receipt, (event,)

    def assign_customer(self, customer_id: str, now: datetime) -> tuple[Receipt, Events]:
        """Assign cash from a payer not identified before to a customer.

        Assigning the customer already recorded changes nothing and emits nothing.

        Returns:
            ``(receipt, (ReceiptCustomerAssigned,))``, or ``(receipt, ())`` if unchanged.

        Raises:
            CustomerAlreadyAssignedError: the receipt belongs to another customer.
            CashFieldError: a malformed id or time.
        """
        now = _aware(now, "now")
        _id(customer_id, "customer_id")
        if self.customer_id == customer_id:
            return self, ()
        if self.customer_id is not None:
            raise CustomerAlreadyAssignedError(
                f"receipt {self.id!r} belongs to {self.customer_id!r}",
                receipt_id=self.id,
                customer_id=self.customer_id,
                requested=customer_id,
            )
        receipt = attrs.evolve(self, customer_id=customer_id)
        event = ReceiptCustomerAssigned(
            aggregate_id=self.id, occurred_at=now, customer_id=customer_id
        )
        return receipt, (event,)

    def link_tender(self, tender_id: str, now: datetime) -> tuple[Receipt, Events]:
        """Record which order tender this money pays (a matched bank transfer).

        Returns:
            ``(receipt, (ReceiptTenderLinked,))``, or ``(receipt, ())`` when it is
            linked to that tender already.

        Raises:
            ReceiptAlreadyLinkedError: it pays another tender.
            CashFieldError: a malformed id or time.
        """
        now = _aware(now, "now")
        _id(tender_id, "tender_id")
        if self.tender_id == tender_id:
            return self, ()
        if self.tender_id is not None:
            raise ReceiptAlreadyLinkedError(
                f"receipt {self.id!r} pays tender {self.tender_id!r}",
                receipt_id=self.id,
                tender_id=self.tender_id,
                requested=tender_id,
            )
        receipt = attrs.evolve(self, tender_id=tender_id)
        event = ReceiptTenderLinked(
            aggregate_id=self.id, occurred_at=now, tender_id=tender_id, amount=self.amount
        )
        return receipt, (event,)

    def _same_currency(self, amount: Money) -> Money:
        if amount.currency != self.currency:
            raise CurrencyMismatchError(left=self.currency, right=amount.currency)
        return amount


def receive_cash(
    *,
    receipt_id: str,
    amount: Money,
    method: PaymentMethod | str,
    received_at: datetime,
    reference: str = "",
    customer_id: str | None = None,
    payer_name: str | None = None,
    payer_iban: str | None = None,
    tender_id: str | None = None,
) -> tuple[Receipt, Events]:
    """Record money that arrived.

    Args:
        receipt_id: Caller-given id.
        amount: Positive, whole minor units.
        method: How it was paid.
        received_at: When it arrived, timezone-aware.
        reference: The bank reference or payment id (never a card number).
        customer_id: The paying customer, or None while the payer is unknown.
        payer_name: The payer's name as reported.
        payer_iban: The payer's IBAN.
        tender_id: The order tender it pays, if it is not a gateway payment's.

    Returns:
        ``(receipt, (CashReceived,))``.

    Raises:
        InvalidAmountError: the amount is not positive Money in whole minor units.
        CashFieldError: a malformed id, text, IBAN, method or time.
        CardDataRefusedError: the reference or payer name holds a card number.
    """
    receipt = Receipt(
        id=receipt_id,
        amount=amount,
        method=method,
        received_at=received_at,
        reference=reference,
        customer_id=customer_id,
        payer_name=payer_name,
        payer_iban=payer_iban,
        tender_id=tender_id,
    )
    event = CashReceived(
        aggregate_id=receipt.id,
        occurred_at=receipt.received_at,
        customer_id=receipt.customer_id,
        amount=receipt.amount,
        method=receipt.method.value,
        reference=receipt.reference,
    )
    return receipt, (event,)


# --------------------------------------------------------------------------- ledger


@attrs.frozen
class CashSummary:
    """Cash of one customer in one currency.

    Args:
        customer_id: The customer, or None for payers not identified yet.
        currency: The currency of every amount.
        received: Everything received.
        applied: Net applied to invoices.
        unapplied: Cash on account.
        refunded: Paid back.
        receipts: How many receipts were added up.
    """

    customer_id: str | None
    currency: str
    received: Money
    applied: Money
    unapplied: Money
    refunded: Money
    receipts: int = 0


def summarize(receipts: Iterable[Receipt]) -> tuple[CashSummary, ...]:
    """Add receipts up per customer and currency, checking conservation on each.

    ``unapplied`` is summed from the receipts' own unapplied amounts, so the check
    compares two computations, not one with itself.

    Returns:
        One summary per (customer, currency), unidentified payers first, then by
        customer id and currency.

    Raises:
        CashConservationError: a summary breaks the law (see :func:`assert_conserved`).
    """
    groups: dict[tuple[str | None, str], list[Receipt]] = {}
    for receipt in receipts:
        groups.setdefault((receipt.customer_id, receipt.currency), []).append(receipt)
    summaries: list[CashSummary] = []
    for (customer_id, currency), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0] is not None, kv[0][0] or "", kv[0][1])
    ):
        summary = CashSummary(
            customer_id=customer_id,
            currency=currency,
            received=money_sum((r.amount for r in group), currency),
            applied=money_sum((a.amount for r in group for a in r.allocations), currency),
            unapplied=money_sum((r.unapplied for r in group), currency),
            refunded=money_sum((f.amount for r in group for f in r.refunds), currency),
            receipts=len(group),
        )
        assert_conserved(summary)
        summaries.append(summary)
    return tuple(summaries)


def assert_conserved(summary: CashSummary) -> None:
    """Check ``received == applied + unapplied + refunded`` exactly, and no part negative.

    Raises:
        CashConservationError: the law fails; ``problem`` says how.
    """
    parts = {
        "received": summary.received,
        "applied": summary.applied,
        "unapplied": summary.unapplied,
        "refunded": summary.refunded,
    }
    facts = {
        "customer_id": summary.customer_id,
        "currency": summary.currency,
        **{name: str(value) for name, value in parts.items()},
    }
    for name, value in parts.items():
        if not isinstance(value, Money) or value.currency != summary.currency:
            raise CashConservationError(
                f"{name} is not in {summary.currency}", problem=f"{name} currency", **facts
            )
        if value.is_negative():
            raise CashConservationError(f"{name} is negative", problem=f"negative {name}", **facts)
    if summary.received != summary.applied + summary.unapplied + summary.refunded:
        raise CashConservationError(
            "received != applied + unapplied + refunded",
            problem="received != applied + unapplied + refunded",
            **facts,
        )
