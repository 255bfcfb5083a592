"""Invoices and credit notes.

An :class:`Invoice` is priced through :func:`o2c.pricing.compute_totals` (so orders and
invoices round the same way), takes its number and due schedule when issued, and then
only changes through settlements. Every operation returns ``(new_invoice, events)``.

Money rules (checked on every instance, not hoped for):

* ``open_amount = total - applied - credited - written_off - discount_taken`` and it is
  never negative: an operation that would make it negative raises instead.
* The state *follows* the open amount through :data:`o2c.lifecycles.INVOICE_WORKFLOW`:
  zero open is *paid* (``settle``), less than the total is *partially paid*
  (``settle_partially``/``reopen_partially``), the whole total is *issued* again
  (``reopen``). Writing off the whole rest ends the invoice in *written off*
  (``write_off``); a partial write-off settles partially. No state is set by hand.
* Applied cash is kept per payment reference (:class:`Application`), so a reversal
  can never unapply more than that payment brought.
* All amounts that enter an invoice are positive whole numbers of minor units.

Credit notes (the model chosen): a :class:`CreditNote` carries its own *lines*, priced
like an invoice with the invoice's currency; its total (tax included) is what it
credits, and its tax breakdown is exact per rate. A full credit copies the invoice's
lines (:func:`full_credit_note`). What may be credited is the *creditable amount*:
``total - credited - written_off - discount_taken`` (the discount is excluded because
the customer never paid it). Applied cash does **not** reduce it: a credit note larger
than the open amount is accepted, and the excess of cash becomes unapplied customer
credit. :func:`credit_invoice` unapplies that excess itself, latest payment first (the
oldest cash stays applied), reports it in :attr:`CreditNoteResult.released` and in
:class:`~o2c.events.InvoicePaymentUnapplied` events, so the cash module can hold or
refund it.

Overdue: see :mod:`o2c.terms`; an invoice is overdue when its first unpaid instalment
is, settlements covering instalments oldest first.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import attrs

from o2c import terms as _terms
from o2c._evolve import evolved
from o2c.clock import require_aware
from o2c.errors import (
    CreditExceedsInvoiceError,
    CreditNoteMismatchError,
    DiscountExceedsOfferError,
    DiscountNotAvailableError,
    InvalidAmountError,
    InvalidInvoiceError,
    InvoiceStateError,
    NotFoundError,
    OverApplicationError,
    OverInvoicingError,
    UnapplyExceedsAppliedError,
    VoidNotAllowedError,
)
from o2c.events import (
    DomainEvent,
    InvoiceCredited,
    InvoiceDiscountTaken,
    InvoiceIssued,
    InvoicePaymentApplied,
    InvoicePaymentUnapplied,
    InvoiceStateChanged,
    InvoiceVoided,
    InvoiceWrittenOff,
)
from o2c.lifecycles import INVOICE_WORKFLOW, InvoiceEvent, InvoiceState
from o2c.money import Money, money_sum, to_decimal
from o2c.pricing import (
    Chargeable,
    RoundingPolicy,
    TaxBreakdown,
    TaxRate,
    Totals,
    compute_totals,
)
from o2c.terms import EarlyPaymentDiscount, Instalment, PaymentTerms
from o2c.validation import Issue

__all__ = [
    "Application",
    "AppliedCredit",
    "BillableOrderLine",
    "CreditNote",
    "CreditNoteResult",
    "Invoice",
    "InvoiceLine",
    "InvoicingBasis",
    "credit_invoice",
    "days_overdue",
    "full_credit_note",
    "invoice_lines_from_order",
    "is_overdue",
    "next_due",
]

Events = tuple[DomainEvent, ...]

# States in which settlements (payments, credits, discounts, write-offs) may move.
_OPEN_STATES = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID})

# Which workflow event moves the invoice from one settlement state to another.
_FOLLOW: dict[tuple[InvoiceState, InvoiceState], InvoiceEvent] = {
    (InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID): InvoiceEvent.SETTLE_PARTIALLY,
    (InvoiceState.ISSUED, InvoiceState.PAID): InvoiceEvent.SETTLE,
    (InvoiceState.PARTIALLY_PAID, InvoiceState.PAID): InvoiceEvent.SETTLE,
    (InvoiceState.PARTIALLY_PAID, InvoiceState.ISSUED): InvoiceEvent.REOPEN,
    (InvoiceState.PAID, InvoiceState.ISSUED): InvoiceEvent.REOPEN,
    (InvoiceState.PAID, InvoiceState.PARTIALLY_PAID): InvoiceEvent.REOPEN_PARTIALLY,
}


def _invalid(code: str, field: str, message: str) -> InvalidInvoiceError:
    issue = Issue(code=code, field=field, message=message)
    return InvalidInvoiceError(f"invoice is not valid: {issue}", issues=(issue,))


def _quantity(value: object) -> Decimal:
    return to_decimal(value, what="quantity")


def _percent(value: object) -> Decimal:
    return to_decimal(value, what="percent")


def _rates(value: Iterable[TaxRate]) -> tuple[TaxRate, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


# --------------------------------------------------------------------------- lines


@attrs.frozen(kw_only=True)
class InvoiceLine:
    """One billed line; attribute names match :class:`o2c.pricing.Chargeable`.

    Args:
        line_id: Unique within the document.
        sku: Article code.
        description: Text printed on the document.
        quantity: Units billed, above zero.
        unit_price: Price of one unit before discount and tax, zero or more.
        discount_percent: Line discount in percent, 0 to 100.
        discount_amount: Fixed discount on the whole line, after the percentage.
        tax_rates: Taxes on the line's net amount.
        order_line_id: The order line it bills, if any.

    Raises:
        InvalidInvoiceError: a quantity, price or discount is out of range.
        InvalidAmountError: a number is not exact (floats are refused).
    """

    line_id: str
    sku: str
    description: str
    quantity: Decimal = attrs.field(converter=_quantity)
    unit_price: Money
    discount_percent: Decimal = attrs.field(default=Decimal(0), converter=_percent)
    discount_amount: Money | None = None
    tax_rates: tuple[TaxRate, ...] = attrs.field(default=(), converter=_rates)
    order_line_id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.line_id:
            raise _invalid("invoice.line.id_empty", "line_id", "a line needs an id")
        if self.quantity <= 0:
            raise _invalid(
                "invoice.line.quantity_not_positive",
                f"lines[{self.line_id}].quantity",
                f"the quantity must be above zero, not {self.quantity}",
            )
        if self.unit_price.is_negative():
            raise _invalid(
                "invoice.line.price_negative",
                f"lines[{self.line_id}].unit_price",
                f"the unit price must not be negative, not {self.unit_price}",
            )
        if not 0 <= self.discount_percent <= 100:
            raise _invalid(
                "invoice.line.discount_out_of_range",
                f"lines[{self.line_id}].discount_percent",
                f"the discount must lie between 0 and 100, not {self.discount_percent}",
            )
        if self.discount_amount is not None and (
            self.discount_amount.is_negative()
            or self.discount_amount.currency != self.unit_price.currency
        ):
            raise _invalid(
                "invoice.line.discount_amount_invalid",
                f"lines[{self.line_id}].discount_amount",
                "a fixed discount is zero or more, in the unit price's currency",
            )


def _lines(value: Iterable[InvoiceLine]) -> tuple[InvoiceLine, ...]:
    return tuple(value)


class InvoicingBasis(StrEnum):
    """What an order line may be billed up to."""

    ORDERED = "ordered"
    SHIPPED = "shipped"


class BillableOrderLine(Chargeable, Protocol):
    """What :func:`invoice_lines_from_order` needs from an order line: the priced
    attributes of :class:`o2c.pricing.Chargeable` plus identity and progress.

    The order module's ``OrderLine`` has these attributes; any object with them works.
    """

    @property
    def line_id(self) -> str:
        """Id of the order line."""

    @property
    def sku(self) -> str:
        """Article code."""

    @property
    def description(self) -> str:
        """Line text."""

    @property
    def shipped(self) -> Decimal:
        """Quantity shipped so far."""

    @property
    def invoiced(self) -> Decimal:
        """Quantity invoiced so far."""

    @property
    def cancelled(self) -> Decimal:
        """Quantity cancelled (never billed)."""


_PRORATE = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


def _prorated_discount(
    discount: Money, quantity: Decimal, upto: Decimal, policy: RoundingPolicy
) -> Money:
    # The fixed discount covered up to `upto` units, rounded; billing the difference
    # of two cumulative shares makes successive partial invoices sum to the discount.
    share = _PRORATE.divide(_PRORATE.multiply(discount.amount, min(upto, quantity)), quantity)
    unit = Decimal(1).scaleb(-discount.minor_units)
    return Money(share.quantize(unit, rounding=policy.mode.value), discount.currency)


def invoice_lines_from_order(
    order_lines: Iterable[BillableOrderLine],
    basis: InvoicingBasis,
    *,
    quantities: Mapping[str, Decimal | int | str] | None = None,
    rounding: RoundingPolicy | None = None,
) -> tuple[InvoiceLine, ...]:
    """Invoice lines for what the order lines may still bill.

    A line may bill ``(quantity - cancelled if basis is ORDERED else shipped) -
    invoiced``; lines with nothing to bill are skipped. Each invoice line reuses the
    order line's id as its ``line_id`` and ``order_line_id``. A fixed
    ``discount_amount`` is prorated over ``quantity - cancelled`` from cumulative
    rounded shares, so that the invoices of one line together carry exactly the
    discount (a cancellation between two partial invoices changes the base, and the
    last invoice then absorbs at most the rounding of the earlier shares).

    Args:
        order_lines: Objects with the :class:`BillableOrderLine` attributes.
        basis: Bill what was ordered or only what was shipped.
        quantities: Bill only these quantities, by order line id (partial billing);
            zero skips the line.
        rounding: The mode used to round prorated fixed discounts.

    Raises:
        OverInvoicingError: a requested quantity exceeds what the basis allows.
        NotFoundError: ``quantities`` names a line that is not among ``order_lines``.
        InvalidAmountError: a requested quantity is negative or not exact.
    """
    policy = rounding or RoundingPolicy()
    lines = list(order_lines)
    known = {line.line_id for line in lines}
    requested: dict[str, Decimal] = {}
    for line_id, value in (quantities or {}).items():
        if line_id not in known:
            raise NotFoundError(f"no order line {line_id!r}", kind="order_line", id=line_id)
        q = to_decimal(value, what="quantity")
        if q < 0:
            raise InvalidAmountError(value=q, reason="a quantity to invoice is not negative")
        requested[line_id] = q
    result = []
    for line in lines:
        due = line.quantity - line.cancelled
        limit = due if basis is InvoicingBasis.ORDERED else line.shipped
        billable = limit - line.invoiced
        bill = billable if quantities is None else requested.get(line.line_id, Decimal(0))
        if bill > billable and bill > 0:
            raise OverInvoicingError(
                line_id=line.line_id, requested=str(bill), billable=str(max(billable, 0))
            )
        if bill <= 0:
            continue
        discount = line.discount_amount
        if discount is not None:
            # Never a zero base, even for lines whose progress is inconsistent.
            base = max(due, line.invoiced + bill)
            before = _prorated_discount(discount, base, line.invoiced, policy)
            after = _prorated_discount(discount, base, line.invoiced + bill, policy)
            discount = after - before
        result.append(
            InvoiceLine(
                line_id=line.line_id,
                order_line_id=line.line_id,
                sku=line.sku,
                description=line.description,
                quantity=bill,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                discount_amount=discount,
                tax_rates=line.tax_rates,
            )
        )
    return tuple(result)


# --------------------------------------------------------------------------- ledgers


@attrs.frozen
class Application:
    """Cash applied to an invoice under one payment reference (net of reversals)."""

    payment_ref: str
    amount: Money


@attrs.frozen
class AppliedCredit:
    """A credit note applied to an invoice."""

    credit_note_id: str
    amount: Money


def _applications(value: Iterable[Application]) -> tuple[Application, ...]:
    return tuple(value)


def _credits(value: Iterable[AppliedCredit]) -> tuple[AppliedCredit, ...]:
    return tuple(value)


def _zero_in_currency(instance: Any) -> Money:
    return Money.zero(instance.currency)


def _instalments(value: Iterable[Instalment]) -> tuple[Instalment, ...]:
    return tuple(value)


# --------------------------------------------------------------------------- invoice


@attrs.frozen(kw_only=True)
class Invoice:
    """An invoice: lines priced through :mod:`o2c.pricing`, settled through operations.

    Build a draft with just ``id``, ``customer_id``, ``currency``, ``lines`` and
    ``terms``; :meth:`issue` gives it a number, an issue date and a schedule. Fields
    after ``state`` are settlement ledgers that only operations change.

    Args:
        id: Caller-made id.
        customer_id: Who is billed.
        currency: ISO 4217 code; every line is priced in it.
        lines: The billed lines.
        terms: The payment terms; the schedule is computed from them at issue.
        rounding: Where tax is rounded and how.
        series: Numbering series (the storage hands out numbers per series).
        order_id: The order billed, if any.
        references: External references payers quote (PO number, order number...).
        number: None while draft.
        issue_date: None while draft.
        schedule: The due instalments, set at issue.
        state: Follows INVOICE_WORKFLOW.
        applications: Cash applied per payment reference.
        credits: Credit notes applied.
        written_off: Amount written off.
        discount_taken: Early-payment discount granted.

    Raises:
        InvalidInvoiceError: duplicate line ids, a negative ledger, or an open amount
            that would be negative.
        CurrencyMismatchError: a line or amount is in another currency.
        UnknownCurrencyError: the currency is not ISO 4217.
    """

    id: str
    customer_id: str
    currency: str
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    terms: PaymentTerms
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    series: str = ""
    order_id: str | None = None
    references: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    number: str | None = None
    issue_date: date | None = None
    schedule: tuple[Instalment, ...] = attrs.field(default=(), converter=_instalments)
    state: InvoiceState = InvoiceState.DRAFT
    applications: tuple[Application, ...] = attrs.field(default=(), converter=_applications)
    credits: tuple[AppliedCredit, ...] = attrs.field(default=(), converter=_credits)
    written_off: Money = attrs.field(default=attrs.Factory(_zero_in_currency, takes_self=True))
    discount_taken: Money = attrs.field(default=attrs.Factory(_zero_in_currency, takes_self=True))
    _totals: Totals = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self, "_totals", compute_totals(self.lines, self.currency, self.rounding)
        )
        ids = [line.line_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise _invalid("invoice.duplicate_line_id", "lines", "line ids must be unique")
        ledgers = [a.amount for a in self.applications] + [c.amount for c in self.credits]
        ledgers += [self.written_off, self.discount_taken]
        if any(m.currency != self.currency for m in ledgers):
            raise _invalid(
                "invoice.ledger_currency", "ledgers", f"ledgers must be in {self.currency}"
            )
        if any(m.is_negative() for m in ledgers):
            raise _invalid("invoice.ledger_negative", "ledgers", "ledgers are never negative")
        if self.open_amount.is_negative():
            raise _invalid(
                "invoice.open_negative",
                "open_amount",
                f"settlements exceed the total ({self.open_amount} open)",
            )

    # -- amounts ------------------------------------------------------------------

    @property
    def totals(self) -> Totals:
        """The priced totals (lines, net, tax, total, breakdown, rounding difference)."""
        return self._totals

    @property
    def net(self) -> Money:
        """Sum of the lines' net amounts."""
        return self._totals.net

    @property
    def tax(self) -> Money:
        """Tax under the rounding policy."""
        return self._totals.tax

    @property
    def total(self) -> Money:
        """Net plus tax."""
        return self._totals.total

    @property
    def tax_breakdown(self) -> tuple[TaxBreakdown, ...]:
        """Base and tax per tax rate."""
        return self._totals.breakdown

    @property
    def applied(self) -> Money:
        """Cash applied, net of reversals."""
        return money_sum((a.amount for a in self.applications), self.currency)

    @property
    def credited(self) -> Money:
        """Sum of the credit notes applied."""
        return money_sum((c.amount for c in self.credits), self.currency)

    @property
    def settled(self) -> Money:
        """Everything that reduced the open amount."""
        return self.applied + self.credited + self.written_off + self.discount_taken

    @property
    def open_amount(self) -> Money:
        """``total - applied - credited - written_off - discount_taken`` (never negative)."""
        return self.total - self.settled

    @property
    def creditable_amount(self) -> Money:
        """What credit notes may still credit: ``total - credited - written_off - discount``."""
        return self.total - self.credited - self.written_off - self.discount_taken

    @property
    def due_date(self) -> date | None:
        """The last instalment's due date (None while draft)."""
        return self.schedule[-1].due_date if self.schedule else None

    def applied_by(self, payment_ref: str) -> Money:
        """Cash applied under ``payment_ref``."""
        return money_sum(
            (a.amount for a in self.applications if a.payment_ref == payment_ref), self.currency
        )

    def discount_offer(self, payment_date: date) -> EarlyPaymentDiscount | None:
        """The early-payment discount a payment on ``payment_date`` earns (issued only)."""
        if self.issue_date is None:
            return None
        return self.terms.discount_for(
            self.total, self.issue_date, payment_date, net=self.net, mode=self.rounding.mode
        )

    # -- helpers ------------------------------------------------------------------

    def _require_open(self, operation: str) -> None:
        if self.state not in _OPEN_STATES:
            raise InvoiceStateError(
                f"cannot {operation} an invoice in state {self.state.value!r}",
                invoice_id=self.id,
                state=self.state.value,
                operation=operation,
            )

    def _amount(self, amount: Money, what: str) -> Money:
        if amount.currency != self.currency:
            # Mixing currencies would raise later anyway; say which amount is wrong.
            raise InvalidAmountError(
                value=str(amount), reason=f"the {what} must be in {self.currency}"
            )
        if not amount.is_positive() or not amount.is_rounded():
            raise InvalidAmountError(
                value=str(amount),
                reason=f"the {what} must be above zero, in whole minor units",
            )
        return amount.round(self.rounding.mode)

    def _over(self, operation: str, amount: Money) -> OverApplicationError:
        return OverApplicationError(
            invoice_id=self.id,
            operation=operation,
            amount=str(amount),
            open_amount=str(self.open_amount),
        )

    def _follow(self, now: datetime, *, write_off: bool = False) -> tuple[Invoice, Events]:
        """Move the state to where the open amount says, through the workflow."""
        if self.open_amount.is_zero():
            target = InvoiceState.WRITTEN_OFF if write_off else InvoiceState.PAID
        elif self.open_amount == self.total:
            target = InvoiceState.ISSUED
        else:
            target = InvoiceState.PARTIALLY_PAID
        if target is self.state:
            return self, ()
        event = (
            InvoiceEvent.WRITE_OFF
            if target is InvoiceState.WRITTEN_OFF
            else _FOLLOW[(self.state, target)]
        )
        new_state = INVOICE_WORKFLOW.apply(self.state, event)
        changed = InvoiceStateChanged(
            aggregate_id=self.id,
            occurred_at=now,
            previous=self.state.value,
            current=new_state.value,
            trigger=event.value,
        )
        return evolved(self, state=new_state), (changed,)

    # -- operations ---------------------------------------------------------------

    def issue(self, number: str, issue_date: date, now: datetime) -> tuple[Invoice, Events]:
        """Give the draft its number, issue date and due schedule.

        Gap-free numbering is the storage's job; the caller passes the number in. An
        invoice whose total is zero is settled at once.

        Raises:
            InvalidInvoiceError: the number is empty or there are no lines.
            InvalidTransitionError: the invoice is not a draft.
        """
        require_aware(now)
        if not number or not number.strip():
            raise _invalid("invoice.number_empty", "number", "issuing needs a number")
        if not self.lines:
            raise _invalid("invoice.no_lines", "lines", "an invoice needs at least one line")
        state = INVOICE_WORKFLOW.apply(self.state, InvoiceEvent.ISSUE)
        schedule = self.terms.schedule(self.total, issue_date)
        issued = attrs.evolve(
            self, number=number, issue_date=issue_date, schedule=schedule, state=state
        )
        events: list[DomainEvent] = [
            InvoiceIssued(
                aggregate_id=self.id,
                occurred_at=now,
                number=number,
                series=self.series,
                customer_id=self.customer_id,
                total=self.total,
                issue_date=issue_date,
                due_date=schedule[-1].due_date,
            ),
            InvoiceStateChanged(
                aggregate_id=self.id,
                occurred_at=now,
                previous=self.state.value,
                current=state.value,
                trigger=InvoiceEvent.ISSUE.value,
            ),
        ]
        issued, follow = issued._follow(now)
        return issued, (*events, *follow)

    def apply_payment(
        self, amount: Money, payment_ref: str, now: datetime
    ) -> tuple[Invoice, Events]:
        """Apply cash received under ``payment_ref``.

        Raises:
            OverApplicationError: ``amount`` exceeds the open amount (keep the excess
                as unapplied cash instead).
            InvoiceStateError: the invoice is not issued (draft, void, written off).
            InvalidAmountError: ``amount`` is not positive, rounded, in the currency.
            InvalidInvoiceError: ``payment_ref`` is empty.
        """
        require_aware(now)
        self._require_open("apply a payment to")
        amount = self._amount(amount, "payment")
        if not payment_ref:
            raise _invalid("invoice.payment_ref_empty", "payment_ref", "name the payment")
        if amount > self.open_amount:
            raise self._over("payment", amount)
        applications = _add(self.applications, payment_ref, amount)
        inv = evolved(self, applications=applications)
        event = InvoicePaymentApplied(
            aggregate_id=self.id,
            occurred_at=now,
            payment_ref=payment_ref,
            amount=amount,
            open_amount=inv.open_amount,
        )
        inv, follow = inv._follow(now)
        return inv, (event, *follow)

    def unapply_payment(
        self, amount: Money, payment_ref: str, now: datetime, *, reason: str = ""
    ) -> tuple[Invoice, Events]:
        """Take cash back off the invoice (a bounced transfer, a lost chargeback...).

        The invoice reopens wholly or partly. A discount granted with the payment is
        not reversed here.

        Raises:
            UnapplyExceedsAppliedError: more than ``payment_ref`` has applied.
            InvoiceStateError: the invoice is not issued (a written-off invoice is final).
            InvalidAmountError: ``amount`` is not positive, rounded, in the currency.
        """
        require_aware(now)
        self._require_open("unapply a payment from")
        amount = self._amount(amount, "reversal")
        applied = self.applied_by(payment_ref)
        if amount > applied:
            raise UnapplyExceedsAppliedError(
                invoice_id=self.id,
                payment_ref=payment_ref,
                amount=str(amount),
                applied=str(applied),
            )
        inv = evolved(self, applications=_add(self.applications, payment_ref, -amount))
        event = InvoicePaymentUnapplied(
            aggregate_id=self.id,
            occurred_at=now,
            payment_ref=payment_ref,
            amount=amount,
            open_amount=inv.open_amount,
            reason=reason,
        )
        inv, follow = inv._follow(now)
        return inv, (event, *follow)

    def take_discount(
        self, amount: Money, payment_date: date, now: datetime
    ) -> tuple[Invoice, Events]:
        """Grant the early-payment discount valid on ``payment_date``.

        All discounts granted on the invoice together never exceed the offer of the
        tier valid on ``payment_date`` (a partial payment does not earn a fresh full
        discount each time), nor the open amount.

        Raises:
            DiscountNotAvailableError: no tier is valid on ``payment_date``.
            DiscountExceedsOfferError: the discounts would exceed the offer.
            OverApplicationError: ``amount`` exceeds the open amount.
            InvoiceStateError: the invoice is not issued.
            InvalidAmountError: ``amount`` is not positive, rounded, in the currency.
        """
        require_aware(now)
        self._require_open("take a discount on")
        amount = self._amount(amount, "discount")
        offer = self.discount_offer(payment_date)
        if offer is None:
            raise DiscountNotAvailableError(
                invoice_id=self.id, payment_date=payment_date.isoformat()
            )
        if self.discount_taken + amount > offer.amount:
            raise DiscountExceedsOfferError(
                invoice_id=self.id,
                amount=str(amount),
                offered=str(offer.amount),
                already_taken=str(self.discount_taken),
            )
        if amount > self.open_amount:
            raise self._over("discount", amount)
        inv = attrs.evolve(self, discount_taken=self.discount_taken + amount)
        event = InvoiceDiscountTaken(
            aggregate_id=self.id,
            occurred_at=now,
            amount=amount,
            percent=offer.percent,
            payment_date=payment_date,
            open_amount=inv.open_amount,
        )
        inv, follow = inv._follow(now)
        return inv, (event, *follow)

    def write_off(self, amount: Money, reason: str, now: datetime) -> tuple[Invoice, Events]:
        """Write off part or all of the open amount.

        Writing off the whole rest ends the invoice (*written off*, final); a partial
        write-off (a short-payment residual, say) settles it partially.

        Raises:
            OverApplicationError: ``amount`` exceeds the open amount.
            InvoiceStateError: the invoice is not issued.
            InvalidAmountError: ``amount`` is not positive, rounded, in the currency.
            InvalidInvoiceError: no reason is given.
        """
        require_aware(now)
        self._require_open("write off")
        amount = self._amount(amount, "write-off")
        if not reason.strip():
            raise _invalid("invoice.write_off_reason_empty", "reason", "say why")
        if amount > self.open_amount:
            raise self._over("write_off", amount)
        inv = attrs.evolve(self, written_off=self.written_off + amount)
        event = InvoiceWrittenOff(
            aggregate_id=self.id,
            occurred_at=now,
            amount=amount,
            reason=reason,
            open_amount=inv.open_amount,
        )
        inv, follow = inv._follow(now, write_off=True)
        return inv, (event, *follow)

    def credit(self, note: CreditNote, now: datetime) -> tuple[Invoice, Events]:
        """Apply a credit note (see :func:`credit_invoice`, which also returns the cash
        released)."""
        outcome = credit_invoice(self, note, now)
        return outcome.invoice, outcome.events

    def void(self, now: datetime) -> tuple[Invoice, Events]:
        """Void a draft or an issued invoice with nothing settled (it keeps its number).

        Raises:
            VoidNotAllowedError: something is applied, credited, written off or discounted.
            InvalidTransitionError: the state does not allow voiding.
        """
        require_aware(now)
        if not self.settled.is_zero():
            raise VoidNotAllowedError(
                invoice_id=self.id,
                applied=str(self.applied),
                credited=str(self.credited),
                written_off=str(self.written_off),
                discount_taken=str(self.discount_taken),
            )
        state = INVOICE_WORKFLOW.apply(self.state, InvoiceEvent.VOID)
        events = (
            InvoiceVoided(aggregate_id=self.id, occurred_at=now, number=self.number),
            InvoiceStateChanged(
                aggregate_id=self.id,
                occurred_at=now,
                previous=self.state.value,
                current=state.value,
                trigger=InvoiceEvent.VOID.value,
            ),
        )
        return attrs.evolve(self, state=state), events


def _add(
    applications: tuple[Application, ...], payment_ref: str, amount: Money
) -> tuple[Application, ...]:
    """The ledger with ``amount`` added under ``payment_ref`` (entries of zero dropped)."""
    result = []
    found = False
    for app in applications:
        entry = app
        if app.payment_ref == payment_ref:
            found = True
            entry = Application(payment_ref, app.amount + amount)
        if not entry.amount.is_zero():
            result.append(entry)
    if not found:
        result.append(Application(payment_ref, amount))
    return tuple(result)


# --------------------------------------------------------------------------- credit notes


@attrs.frozen(kw_only=True)
class CreditNote:
    """A credit note: its own lines, priced like an invoice, crediting one invoice.

    Args:
        id: Caller-made id.
        number: Its number (from the storage's credit-note series).
        invoice_id: The invoice it credits.
        currency: Must be the invoice's.
        lines: What is credited; the total (tax included) is the credited amount.
        reason: Why (return, price adjustment, dispute lost...).
        issue_date: Its date.
        rounding: Should be the invoice's, so a full credit matches to the cent.

    Raises:
        InvalidInvoiceError: no number, no lines, no reason, or a total of zero.
    """

    id: str
    number: str
    invoice_id: str
    currency: str
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_lines)
    reason: str
    issue_date: date
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    _totals: Totals = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(
            self, "_totals", compute_totals(self.lines, self.currency, self.rounding)
        )
        if not self.number.strip():
            raise _invalid("credit_note.number_empty", "number", "a credit note needs a number")
        if not self.reason.strip():
            raise _invalid("credit_note.reason_empty", "reason", "say why the note credits")
        if not self._totals.total.is_positive():
            raise _invalid(
                "credit_note.total_not_positive", "lines", "a credit note credits something"
            )

    @property
    def totals(self) -> Totals:
        """The priced totals."""
        return self._totals

    @property
    def total(self) -> Money:
        """The credited amount, tax included."""
        return self._totals.total

    @property
    def tax_breakdown(self) -> tuple[TaxBreakdown, ...]:
        """Base and tax credited per rate."""
        return self._totals.breakdown


def full_credit_note(
    invoice: Invoice, *, id: str, number: str, reason: str, issue_date: date
) -> CreditNote:
    """A credit note for the whole invoice: same lines, currency and rounding."""
    return CreditNote(
        id=id,
        number=number,
        invoice_id=invoice.id,
        currency=invoice.currency,
        lines=invoice.lines,
        reason=reason,
        issue_date=issue_date,
        rounding=invoice.rounding,
    )


@attrs.frozen
class CreditNoteResult:
    """What applying a credit note did.

    Attributes:
        invoice: The invoice after the credit.
        events: What happened, in order.
        released: Cash unapplied because the note exceeded the open amount, per
            payment reference (latest first); it is now unapplied customer credit.
    """

    invoice: Invoice
    events: Events
    released: tuple[Application, ...]

    @property
    def released_total(self) -> Money:
        """The sum of the released cash."""
        return money_sum((r.amount for r in self.released), self.invoice.currency)


def credit_invoice(invoice: Invoice, note: CreditNote, now: datetime) -> CreditNoteResult:
    """Apply ``note`` to ``invoice``, releasing applied cash if it must (module doc).

    Raises:
        CreditExceedsInvoiceError: the note exceeds the invoice's creditable amount.
        CreditNoteMismatchError: the note is for another invoice or currency, or it
            was applied already.
        InvoiceStateError: the invoice is a draft, void or written off.
    """
    require_aware(now)
    invoice._require_open("credit")
    mismatch = ""
    if note.invoice_id != invoice.id:
        mismatch = f"the note credits invoice {note.invoice_id!r}"
    elif note.currency != invoice.currency:
        mismatch = f"the note is in {note.currency}, the invoice in {invoice.currency}"
    elif any(c.credit_note_id == note.id for c in invoice.credits):
        mismatch = "the note was applied already"
    if mismatch:
        raise CreditNoteMismatchError(
            invoice_id=invoice.id, credit_note_id=note.id, reason=mismatch
        )
    amount = note.total
    if amount > invoice.creditable_amount:
        raise CreditExceedsInvoiceError(
            invoice_id=invoice.id, amount=str(amount), creditable=str(invoice.creditable_amount)
        )
    excess = amount - invoice.open_amount
    released: list[Application] = []
    applications = invoice.applications
    # Latest cash first, so the oldest payments stay applied.
    for app in reversed(invoice.applications):
        if not excess.is_positive():
            break
        take = app.amount.min(excess)
        released.append(Application(app.payment_ref, take))
        applications = _add(applications, app.payment_ref, -take)
        excess = excess - take
    inv = attrs.evolve(
        invoice,
        applications=applications,
        credits=(*invoice.credits, AppliedCredit(note.id, amount)),
    )
    events: list[DomainEvent] = [
        InvoicePaymentUnapplied(
            aggregate_id=invoice.id,
            occurred_at=now,
            payment_ref=r.payment_ref,
            amount=r.amount,
            open_amount=inv.open_amount,
            reason=f"credit note {note.number} exceeds the open amount",
        )
        for r in released
    ]
    events.append(
        InvoiceCredited(
            aggregate_id=invoice.id,
            occurred_at=now,
            credit_note_id=note.id,
            credit_note_number=note.number,
            amount=amount,
            released=money_sum((r.amount for r in released), invoice.currency),
            open_amount=inv.open_amount,
        )
    )
    inv, follow = inv._follow(now)
    return CreditNoteResult(invoice=inv, events=(*events, *follow), released=tuple(released))


# --------------------------------------------------------------------------- overdue

_UNPAID_STATES = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID})


def next_due(invoice: Invoice) -> Instalment | None:
    """The first unpaid instalment with what remains of it (None when nothing is owed)."""
    if invoice.state not in _UNPAID_STATES:
        return None
    return _terms.first_unpaid(invoice.schedule, invoice.settled)


def is_overdue(invoice: Invoice, today: date) -> bool:
    """True when the first unpaid instalment's due date has passed (from the day after)."""
    first = next_due(invoice)
    return first is not None and first.is_overdue(today)


def days_overdue(invoice: Invoice, today: date) -> int:
    """Days since the first unpaid instalment fell due; 0 when not overdue."""
    first = next_due(invoice)
    if first is None:
        return 0
    return max(0, (today - first.due_date).days)
