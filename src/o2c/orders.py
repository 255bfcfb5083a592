"""Sales orders: capture, validation, the commercial lifecycle and per-line progress.

An :class:`Order` is an immutable aggregate. Every operation is a pure function
returning ``(new_order, events)``; the state only ever changes through
:data:`o2c.lifecycles.ORDER_WORKFLOW`, and the domain rules that the table cannot
express (nothing shipped before a cancellation, expiry only when due, completion
only when fulfilled) are checked here, before anything changes.

Shipping and billing progress is kept as quantities on each line (shipped,
delivered, invoiced, returned, cancelled), and the shipment and billing statuses are
*derived* from them, as Tryton and Odoo do, so they can never disagree with the
facts. Per line, always::

    0 <= delivered <= shipped <= quantity - cancelled
    0 <= invoiced <= quantity - cancelled
    0 <= returned <= delivered

Totals are computed by :func:`o2c.pricing.compute_totals` from the ordered
quantities and are never stored. A document-level discount is spread over the
lines' ``discount_amount`` with :func:`o2c.pricing.spread_discount`, so it is taxed
correctly per rate.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, cast

import attrs

from o2c._evolve import evolved
from o2c.clock import require_aware
from o2c.customers import Address, Customer
from o2c.errors import (
    DomainError,
    InvalidAmountError,
    InvalidOrderQuantityError,
    NothingToCancelError,
    OrderDiscountError,
    OrderExpiredError,
    OrderExpiryNotDueError,
    OrderInProgressError,
    OrderLineNotFoundError,
    OrderNotConfirmedError,
    OrderNotFulfilledError,
    OrderQuantityExceededError,
)
from o2c.events import (
    DomainEvent,
    LineQuantity,
    OrderApproved,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderDiscountApplied,
    OrderExpired,
    OrderHeld,
    OrderLinesCancelled,
    OrderLinesDelivered,
    OrderLinesInvoiced,
    OrderLinesReturned,
    OrderLinesShipped,
    OrderOverridden,
    OrderPlaced,
    OrderRejected,
    OrderReleased,
)
from o2c.lifecycles import ORDER_WORKFLOW, OrderEvent, OrderState
from o2c.money import Money, is_currency, to_decimal
from o2c.pricing import (
    RoundingPolicy,
    TaxRate,
    Totals,
    compute_line,
    compute_totals,
    spread_discount,
)
from o2c.validation import Issue, Severity, ValidationResult

__all__ = [
    "BillingStatus",
    "Hold",
    "HoldKind",
    "Order",
    "OrderLine",
    "Override",
    "ShipmentStatus",
    "apply_document_discount",
    "approve",
    "billing_status",
    "cancel",
    "cancel_remaining",
    "complete",
    "expire",
    "expire_if_due",
    "hold",
    "is_due_to_expire",
    "new_order",
    "override",
    "place",
    "record_delivery",
    "record_invoiced",
    "record_return",
    "record_shipment",
    "reject",
    "release",
    "shipment_status",
    "validate_order_input",
]

_ZERO: Final = Decimal(0)
_HUNDRED: Final = Decimal(100)
# Quantities may carry up to 42 digits; the default context would round silently
# past 28. This one raises instead.
_EXACT: Final = decimal.Context(
    prec=100,
    traps=[decimal.InvalidOperation, decimal.Inexact, decimal.Rounded, decimal.Overflow],
)


def _add(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.add(a, b)


def _sub(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.subtract(a, b)


def _aware(instant: datetime) -> bool:
    return instant.tzinfo is not None and instant.utcoffset() is not None


def _quantity(value: object) -> Decimal:
    return to_decimal(value, what="quantity")


def _percent(value: object) -> Decimal:
    return to_decimal(value, what="percent")


def _tax_rates(value: Iterable[TaxRate]) -> tuple[TaxRate, ...]:
    return tuple(value)


def _order_lines(value: Iterable[OrderLine]) -> tuple[OrderLine, ...]:
    return tuple(value)


def _holds(value: Iterable[Hold]) -> tuple[Hold, ...]:
    return tuple(value)


def _overrides(value: Iterable[Override]) -> tuple[Override, ...]:
    return tuple(value)


# --------------------------------------------------------------------------- enums


class HoldKind(StrEnum):
    """Why an order is held."""

    CREDIT = "credit"
    MANUAL = "manual"
    FRAUD = "fraud"
    DUNNING = "dunning"
    PAYMENT = "payment"


class ShipmentStatus(StrEnum):
    """How far an order's goods have travelled (derived, never stored)."""

    NONE = "none"
    PARTIAL = "partial"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


class BillingStatus(StrEnum):
    """How much of an order has been invoiced (derived, never stored)."""

    NONE = "none"
    PARTIAL = "partial"
    INVOICED = "invoiced"


# --------------------------------------------------------------------------- records


@attrs.frozen(kw_only=True)
class Hold:
    """One hold placed on an order, and its release.

    Attributes:
        kind: Why (credit, manual, fraud, dunning, payment).
        reason: Explanation for people.
        placed_by: Who or which policy placed it.
        at: When it was placed.
        released_at: When it was released (None while active).
        released_by: Who released it.
        release_note: ``"released"`` (credit is re-checked) or ``"override"``.
    """

    kind: HoldKind = attrs.field(converter=HoldKind)
    reason: str
    placed_by: str
    at: datetime
    released_at: datetime | None = None
    released_by: str | None = None
    release_note: str = ""

    @property
    def active(self) -> bool:
        """True until the hold is released."""
        return self.released_at is None


@attrs.frozen(kw_only=True)
class Override:
    """An audited decision to confirm a held order without a fresh credit check.

    Attributes:
        by: Who decided (a person with the authority).
        reason: Why.
        at: When.
        reference: The credit decision or ticket it refers to ("" when none).
        holds: Kinds of the holds it overrode.
    """

    by: str
    reason: str
    at: datetime
    reference: str = ""
    holds: tuple[HoldKind, ...] = ()


# --------------------------------------------------------------------------- lines


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of an order, with its progress quantities.

    The attribute names ``quantity``, ``unit_price``, ``discount_percent``,
    ``discount_amount`` and ``tax_rates`` make it a :class:`o2c.pricing.Chargeable`.
    Business checks on the priced fields (positive quantity, currency, ...) are made
    by :func:`validate_order_input` and by :class:`Order`; the line itself only checks
    that its progress quantities are consistent.

    Args:
        line_id: Unique within the order.
        sku: Stock-keeping unit.
        description: Text for documents.
        quantity: Ordered quantity (> 0).
        unit_price: Price of one unit, before discount and tax.
        discount_percent: Line discount in percent.
        discount_amount: Fixed discount on the line, after the percentage.
        tax_rates: Taxes on the line's net amount.
        shipped: Quantity shipped.
        delivered: Quantity delivered (<= shipped).
        invoiced: Quantity invoiced (<= quantity - cancelled).
        returned: Quantity returned (<= delivered).
        cancelled: Quantity cancelled after confirmation.

    Raises:
        InvalidAmountError: a quantity is a float or not an exact bounded number.
        ValidationError: the progress quantities are inconsistent.
    """

    line_id: str
    sku: str
    description: str = ""
    quantity: Decimal = attrs.field(converter=_quantity)
    unit_price: Money
    discount_percent: Decimal = attrs.field(default=_ZERO, converter=_percent)
    discount_amount: Money | None = None
    tax_rates: tuple[TaxRate, ...] = attrs.field(default=(), converter=_tax_rates)
    shipped: Decimal = attrs.field(default=_ZERO, converter=_quantity)
    delivered: Decimal = attrs.field(default=_ZERO, converter=_quantity)
    invoiced: Decimal = attrs.field(default=_ZERO, converter=_quantity)
    returned: Decimal = attrs.field(default=_ZERO, converter=_quantity)
    cancelled: Decimal = attrs.field(default=_ZERO, converter=_quantity)

    def __attrs_post_init__(self) -> None:
        ValidationResult.of(self._progress_issues()).raise_if_invalid("order line")

    def _progress_issues(self) -> list[Issue]:
        progress = {
            "shipped": self.shipped,
            "delivered": self.delivered,
            "invoiced": self.invoiced,
            "returned": self.returned,
            "cancelled": self.cancelled,
        }
        if not any(progress.values()):
            return []
        code = "order.line.progress_inconsistent"
        issues = [
            Issue(code, name, f"{name} cannot be negative")
            for name, value in progress.items()
            if value < 0
        ]
        if issues:
            return issues
        if self.quantity <= 0:
            return [Issue(code, "quantity", "progress needs a positive quantity")]
        due = _sub(self.quantity, self.cancelled)
        checks = (
            ("cancelled", self.cancelled <= self.quantity, "cancelled exceeds quantity"),
            ("shipped", self.shipped <= due, "shipped exceeds quantity - cancelled"),
            ("invoiced", self.invoiced <= due, "invoiced exceeds quantity - cancelled"),
            ("delivered", self.delivered <= self.shipped, "delivered exceeds shipped"),
            ("returned", self.returned <= self.delivered, "returned exceeds delivered"),
        )
        return [Issue(code, name, message) for name, ok, message in checks if not ok]

    @property
    def due_quantity(self) -> Decimal:
        """What must still be shipped and invoiced in total: quantity - cancelled."""
        return _sub(self.quantity, self.cancelled)

    @property
    def to_ship(self) -> Decimal:
        """Quantity not yet shipped (and not cancelled)."""
        return _sub(self.due_quantity, self.shipped)

    @property
    def to_invoice(self) -> Decimal:
        """Quantity not yet invoiced (and not cancelled)."""
        return _sub(self.due_quantity, self.invoiced)

    @property
    def cancellable(self) -> Decimal:
        """Quantity neither shipped nor invoiced, which may still be cancelled."""
        return _sub(self.due_quantity, max(self.shipped, self.invoiced))

    @property
    def has_progress(self) -> bool:
        """True once anything was shipped or invoiced."""
        return bool(self.shipped or self.invoiced)

    @property
    def is_fulfilled(self) -> bool:
        """True when the due quantity is entirely shipped and invoiced."""
        due = self.due_quantity
        return self.shipped == due and self.invoiced == due


# --------------------------------------------------------------------------- validation


def _line_issues(index: int, line: object, currency: object) -> list[Issue]:
    at = f"lines[{index}]"
    if not isinstance(line, OrderLine):
        return [Issue("order.line.invalid", at, "an OrderLine is required")]
    issues: list[Issue] = []
    # Typed attributes are re-checked as plain objects: rebuilt or hand-made lines
    # reach this code without a type checker having seen them.
    line_id: object = line.line_id
    if not isinstance(line_id, str) or not line_id.strip():
        issues.append(Issue("order.line.id_missing", f"{at}.line_id", "a line id is required"))
    if line.quantity <= 0:
        issues.append(
            Issue("order.line.quantity_not_positive", f"{at}.quantity", "must be above zero")
        )
    price: object = line.unit_price
    if not isinstance(price, Money):
        issues.append(Issue("order.line.price_invalid", f"{at}.unit_price", "must be Money"))
        return issues
    if is_currency(currency) and price.currency != currency:
        issues.append(
            Issue(
                "order.line.currency_mismatch",
                f"{at}.unit_price",
                f"priced in {price.currency}, the order is in {currency}",
            )
        )
    if price.is_negative():
        issues.append(Issue("order.line.price_negative", f"{at}.unit_price", "cannot be negative"))
    elif price.is_zero():
        issues.append(
            Issue(
                "order.line.zero_price",
                f"{at}.unit_price",
                "the line is free of charge",
                Severity.WARNING,
            )
        )
    if not _ZERO <= line.discount_percent <= _HUNDRED:
        issues.append(
            Issue(
                "order.line.discount_percent_out_of_range",
                f"{at}.discount_percent",
                "must lie between 0 and 100",
            )
        )
    fixed: object = line.discount_amount
    if fixed is not None:
        if not isinstance(fixed, Money):
            issues.append(
                Issue("order.line.discount_invalid", f"{at}.discount_amount", "must be Money")
            )
        elif fixed.currency != price.currency:
            issues.append(
                Issue(
                    "order.line.currency_mismatch",
                    f"{at}.discount_amount",
                    f"in {fixed.currency}, the price in {price.currency}",
                )
            )
        elif fixed.is_negative():
            issues.append(
                Issue("order.line.discount_negative", f"{at}.discount_amount", "cannot be negative")
            )
    issues.extend(_tax_rate_issues(at, line.tax_rates))
    if not issues or all(i.severity is Severity.WARNING for i in issues):
        issues.extend(_discount_issues(at, line))
    return issues


def _tax_rate_issues(at: str, rates: Iterable[object]) -> list[Issue]:
    issues: list[Issue] = []
    codes: set[str] = set()
    for j, rate in enumerate(rates):
        if not isinstance(rate, TaxRate):
            issues.append(
                Issue("order.line.tax_rate_invalid", f"{at}.tax_rates[{j}]", "must be a TaxRate")
            )
        elif rate.code in codes:
            issues.append(
                Issue(
                    "order.line.tax_rate_duplicate",
                    f"{at}.tax_rates[{j}]",
                    f"tax {rate.code!r} is applied twice",
                )
            )
        else:
            codes.add(rate.code)
    return issues


def _discount_issues(at: str, line: OrderLine) -> list[Issue]:
    try:
        gross = line.unit_price * line.quantity
        discount = gross.percent(line.discount_percent)
        if line.discount_amount is not None:
            discount = discount + line.discount_amount
    except InvalidAmountError:
        return [
            Issue(
                "order.line.amount_out_of_range",
                f"{at}.quantity",
                "quantity x price is not exact within o2c's bounds",
            )
        ]
    if discount > gross:
        return [
            Issue(
                "order.line.discount_exceeds_gross",
                f"{at}.discount_amount",
                f"discount {discount} exceeds gross {gross}",
            )
        ]
    return []


def _structure_issues(
    *,
    order_id: object,
    customer_id: object,
    currency: object,
    lines: Sequence[object],
    shipping_address: object,
    billing_address: object,
) -> list[Issue]:
    issues: list[Issue] = []
    if not isinstance(order_id, str) or not order_id.strip():
        issues.append(Issue("order.id_missing", "id", "an order id is required"))
    if not isinstance(customer_id, str) or not customer_id.strip():
        issues.append(Issue("order.customer_missing", "customer_id", "a customer is required"))
    if not is_currency(currency):
        issues.append(Issue("order.currency_unknown", "currency", f"{currency!r} is not ISO 4217"))
    if not lines:
        issues.append(Issue("order.no_lines", "lines", "an order needs at least one line"))
    seen: set[str] = set()
    first_rate: dict[str, TaxRate] = {}
    for i, line in enumerate(lines):
        issues.extend(_line_issues(i, line, currency))
        if not isinstance(line, OrderLine):
            continue
        if line.line_id in seen:
            issues.append(
                Issue(
                    "order.line.duplicate_id",
                    f"lines[{i}].line_id",
                    f"line id {line.line_id!r} is used twice",
                )
            )
        seen.add(line.line_id)
        rates: tuple[object, ...] = line.tax_rates
        for j, rate in enumerate(rates):
            if not isinstance(rate, TaxRate):
                continue
            known = first_rate.setdefault(rate.code, rate)
            if known != rate:
                issues.append(
                    Issue(
                        "order.tax_code_conflict",
                        f"lines[{i}].tax_rates[{j}]",
                        f"tax code {rate.code!r} has two different definitions",
                    )
                )
    if not isinstance(shipping_address, Address):
        issues.append(
            Issue("order.shipping_address_missing", "shipping_address", "an Address is required")
        )
    if not isinstance(billing_address, Address):
        issues.append(
            Issue("order.billing_address_missing", "billing_address", "an Address is required")
        )
    return issues


def validate_order_input(
    *,
    order_id: str,
    customer: Customer,
    lines: Sequence[OrderLine],
    shipping_address: Address | None,
    now: datetime,
    billing_address: Address | None = None,
    currency: str | None = None,
    rounding: RoundingPolicy | None = None,
    expires_at: datetime | None = None,
    document_discount: Money | None = None,
) -> ValidationResult:
    """Every problem with an order about to be captured, errors and warnings.

    ``currency`` defaults to the customer's and ``billing_address`` to the customer's
    billing address; the shipping address must be given (pass
    ``customer.default_shipping_address`` for the usual one).

    Issue codes: ``order.currency_unknown``, ``order.line.currency_mismatch``,
    ``order.line.quantity_not_positive``, ``order.line.price_negative``,
    ``order.line.discount_exceeds_gross``, ``order.line.duplicate_id``,
    ``order.no_lines``, ``order.shipping_address_missing``, ``order.customer_blocked``,
    ``order.past_expiry``, ``order.discount_*``; warnings ``order.line.zero_price``
    and ``order.currency_differs_from_customer``; and a few more for malformed input.

    Raises:
        DomainError: ``now`` is naive.
    """
    require_aware(now)
    order_currency = customer.currency if currency is None else currency
    issues = _structure_issues(
        order_id=order_id,
        customer_id=customer.id,
        currency=order_currency,
        lines=lines,
        shipping_address=shipping_address,
        billing_address=customer.billing_address if billing_address is None else billing_address,
    )
    if customer.blocked:
        issues.append(
            Issue(
                "order.customer_blocked",
                "customer_id",
                f"customer {customer.id!r} is blocked: {customer.blocked_reason or 'no reason'}",
            )
        )
    if order_currency != customer.currency:
        issues.append(
            Issue(
                "order.currency_differs_from_customer",
                "currency",
                f"the customer is billed in {customer.currency}",
                Severity.WARNING,
            )
        )
    if expires_at is not None:
        if not _aware(expires_at):
            issues.append(Issue("order.expires_at_naive", "expires_at", "give it a timezone"))
        elif now >= expires_at:
            issues.append(
                Issue("order.past_expiry", "expires_at", f"the order expired at {expires_at}")
            )
    valid_so_far = not any(i.severity is Severity.ERROR for i in issues)
    if document_discount is not None and valid_so_far:
        policy = RoundingPolicy() if rounding is None else rounding
        issues.extend(_document_discount_issues(lines, order_currency, policy, document_discount))
    return ValidationResult.of(issues)


def _document_discount_issues(
    lines: Sequence[OrderLine], currency: str, policy: RoundingPolicy, discount: Money
) -> list[Issue]:
    field = "document_discount"
    value: object = discount
    if not isinstance(value, Money):
        return [Issue("order.discount_invalid", field, "must be Money")]
    if discount.currency != currency:
        return [
            Issue(
                "order.discount_currency_mismatch",
                field,
                f"in {discount.currency}, the order is in {currency}",
            )
        ]
    if discount.is_negative():
        return [Issue("order.discount_negative", field, "cannot be negative")]
    if not discount.is_rounded():
        return [Issue("order.discount_not_rounded", field, "round it to the minor unit")]
    net = compute_totals(lines, currency, policy).net
    if discount > net:
        return [Issue("order.discount_exceeds_net", field, f"{discount} exceeds net {net}")]
    return []


# --------------------------------------------------------------------------- the order


@attrs.frozen(kw_only=True)
class Order:
    """A sales order (the aggregate). Build with :func:`new_order`; change only
    through this module's operations.

    The constructor re-checks the structural rules (lines, currencies, addresses),
    so an ``Order`` value is always well formed, also when rebuilt from storage.

    Args:
        id: Caller-given identifier.
        customer_id: The buyer.
        currency: ISO 4217 code every line is priced in.
        lines: At least one line, unique line ids.
        billing_address: Where the invoice goes.
        shipping_address: Where the goods go.
        created_at: When it was captured.
        rounding: How totals are rounded.
        state: Lifecycle state (see :data:`~o2c.lifecycles.ORDER_WORKFLOW`).
        placed_at: When the customer committed.
        confirmed_at: When it was first confirmed (approved or overridden).
        closed_at: When it reached a final state.
        expires_at: When an unconfirmed order lapses (None: never).
        holds: Every hold ever placed, in order.
        overrides: Every override, in order.
        cancellation_reason: Why it was cancelled.
        rejection_reason: Why it was rejected.
        notes: Free text.

    Raises:
        ValidationError: a structural rule is broken.
    """

    id: str
    customer_id: str
    currency: str
    lines: tuple[OrderLine, ...] = attrs.field(converter=_order_lines)
    billing_address: Address
    shipping_address: Address
    created_at: datetime
    rounding: RoundingPolicy = attrs.field(factory=RoundingPolicy)
    state: OrderState = attrs.field(default=OrderState.DRAFT, converter=OrderState)
    placed_at: datetime | None = None
    confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    expires_at: datetime | None = None
    holds: tuple[Hold, ...] = attrs.field(default=(), converter=_holds)
    overrides: tuple[Override, ...] = attrs.field(default=(), converter=_overrides)
    cancellation_reason: str = ""
    rejection_reason: str = ""
    notes: str = ""

    def __attrs_post_init__(self) -> None:
        issues = _structure_issues(
            order_id=self.id,
            customer_id=self.customer_id,
            currency=self.currency,
            lines=self.lines,
            shipping_address=self.shipping_address,
            billing_address=self.billing_address,
        )
        if self.expires_at is not None and not _aware(self.expires_at):
            issues.append(Issue("order.expires_at_naive", "expires_at", "give it a timezone"))
        if self.confirmed_at is None and (
            self.state in {OrderState.CONFIRMED, OrderState.COMPLETED}
            or any(line.has_progress for line in self.lines)
        ):
            issues.append(
                Issue(
                    "order.confirmed_at_missing",
                    "confirmed_at",
                    "a confirmed order or one with progress has a confirmation time",
                )
            )
        ValidationResult.of(issues).raise_if_invalid("order")

    # -- queries ------------------------------------------------------------------

    @property
    def totals(self) -> Totals:
        """Net, tax, total and tax breakdown of the ordered quantities (computed)."""
        return compute_totals(self.lines, self.currency, self.rounding)

    @property
    def shipment_status(self) -> ShipmentStatus:
        """Derived shipment status (see :func:`shipment_status`)."""
        return shipment_status(self.lines)

    @property
    def billing_status(self) -> BillingStatus:
        """Derived billing status (see :func:`billing_status`)."""
        return billing_status(self.lines)

    @property
    def active_holds(self) -> tuple[Hold, ...]:
        """Holds not yet released."""
        return tuple(h for h in self.holds if h.active)

    @property
    def is_fulfilled(self) -> bool:
        """True when every line's due quantity is shipped and invoiced."""
        return all(line.is_fulfilled for line in self.lines)

    def line(self, line_id: str) -> OrderLine:
        """The line with ``line_id``.

        Raises:
            OrderLineNotFoundError: no such line.
        """
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise OrderLineNotFoundError(kind="order_line", id=line_id, order_id=self.id)


# --------------------------------------------------------------------------- derived statuses


def shipment_status(lines: Sequence[OrderLine]) -> ShipmentStatus:
    """NONE until something ships; PARTIAL while some due quantity is unshipped;
    SHIPPED once all is shipped; DELIVERED once all is delivered.

    Cancelled quantities are not due, so an order whose rest was cancelled is
    SHIPPED (or DELIVERED) as soon as what remains is.
    """
    if not any(line.shipped for line in lines):
        return ShipmentStatus.NONE
    if all(line.delivered == line.due_quantity for line in lines):
        return ShipmentStatus.DELIVERED
    if all(line.shipped == line.due_quantity for line in lines):
        return ShipmentStatus.SHIPPED
    return ShipmentStatus.PARTIAL


def billing_status(lines: Sequence[OrderLine]) -> BillingStatus:
    """NONE until something is invoiced; INVOICED once every due quantity is;
    PARTIAL in between."""
    if not any(line.invoiced for line in lines):
        return BillingStatus.NONE
    if all(line.invoiced == line.due_quantity for line in lines):
        return BillingStatus.INVOICED
    return BillingStatus.PARTIAL


# --------------------------------------------------------------------------- capture


def _spread(
    order_id: str,
    lines: Sequence[OrderLine],
    currency: str,
    rounding: RoundingPolicy,
    discount: Money,
) -> tuple[OrderLine, ...]:
    nets = [compute_line(line, rounding).net for line in lines]
    # Callers have checked the discount (currency, sign, rounding, within the net).
    parts = spread_discount(nets, discount)
    result = []
    for line, part in zip(lines, parts, strict=True):
        if part.is_zero():
            result.append(line)
            continue
        current = line.discount_amount or Money.zero(currency)
        new_line = attrs.evolve(line, discount_amount=current + part)
        try:
            compute_line(new_line, rounding)
        except DomainError as exc:
            # A sub-cent exact net rounded up can be smaller than its share.
            raise OrderDiscountError(
                order_id=order_id,
                discount=str(discount),
                reason=f"line {line.line_id!r} would become negative",
            ) from exc
        result.append(new_line)
    return tuple(result)


def new_order(
    *,
    order_id: str,
    customer: Customer,
    lines: Sequence[OrderLine],
    shipping_address: Address | None,
    now: datetime,
    billing_address: Address | None = None,
    currency: str | None = None,
    rounding: RoundingPolicy | None = None,
    expires_at: datetime | None = None,
    document_discount: Money | None = None,
    notes: str = "",
) -> tuple[Order, tuple[OrderCreated]]:
    """Capture a draft order after :func:`validate_order_input` finds no error.

    A ``document_discount`` is spread over the lines in proportion to their net
    amounts (largest remainder, so the parts sum to it exactly) and added to their
    ``discount_amount``.

    Raises:
        ValidationError: with every error issue (warnings travel in the event).
    """
    result = validate_order_input(
        order_id=order_id,
        customer=customer,
        lines=lines,
        shipping_address=shipping_address,
        now=now,
        billing_address=billing_address,
        currency=currency,
        rounding=rounding,
        expires_at=expires_at,
        document_discount=document_discount,
    )
    result.raise_if_invalid("order")
    # Validation refused a missing shipping address above.
    shipping = cast(Address, shipping_address)
    order_currency = customer.currency if currency is None else currency
    policy = RoundingPolicy() if rounding is None else rounding
    final_lines = tuple(lines)
    if document_discount is not None and document_discount.is_positive():
        final_lines = _spread(order_id, final_lines, order_currency, policy, document_discount)
    order = Order(
        id=order_id,
        customer_id=customer.id,
        currency=order_currency,
        lines=final_lines,
        billing_address=customer.billing_address if billing_address is None else billing_address,
        shipping_address=shipping,
        created_at=now,
        rounding=policy,
        expires_at=expires_at,
        notes=notes,
    )
    event = OrderCreated(
        aggregate_id=order.id,
        occurred_at=now,
        customer_id=customer.id,
        total=order.totals.total,
        warnings=tuple(i.code for i in result.warnings),
    )
    return order, (event,)


def apply_document_discount(
    order: Order, discount: Money, now: datetime
) -> tuple[Order, tuple[OrderDiscountApplied]]:
    """Spread a document-level discount over a draft order's lines.

    Raises:
        OrderDiscountError: the order is not a draft, or the discount is in another
            currency, not rounded to the minor unit, negative or above the net total.
    """
    require_aware(now)

    def refuse(reason: str) -> OrderDiscountError:
        return OrderDiscountError(order_id=order.id, discount=str(discount), reason=reason)

    if order.state is not OrderState.DRAFT:
        raise refuse(f"only draft orders take a document discount, this one is {order.state}")
    problems = _document_discount_issues(order.lines, order.currency, order.rounding, discount)
    if problems:
        raise refuse(problems[0].message)
    lines = _spread(order.id, order.lines, order.currency, order.rounding, discount)
    new = attrs.evolve(order, lines=lines)
    event = OrderDiscountApplied(
        aggregate_id=order.id, occurred_at=now, discount=discount, total=new.totals.total
    )
    return new, (event,)


# --------------------------------------------------------------------------- lifecycle


def _require_text(**values: str) -> None:
    ValidationResult.of(
        Issue(f"order.{name}_missing", name, f"{name} is required")
        for name, value in values.items()
        if not isinstance(value, str) or not value.strip()
    ).raise_if_invalid("order operation")


def _expiry_applies(order: Order) -> bool:
    # Only orders never confirmed lapse; a confirmed order is a commitment.
    return order.expires_at is not None and order.confirmed_at is None


def _refuse_if_expired(order: Order, now: datetime, action: str) -> None:
    if _expiry_applies(order) and order.expires_at is not None and now >= order.expires_at:
        raise OrderExpiredError(order_id=order.id, expires_at=order.expires_at, action=action)


def _refuse_if_in_progress(order: Order, action: str) -> None:
    started = tuple(line.line_id for line in order.lines if line.has_progress)
    if started:
        raise OrderInProgressError(order_id=order.id, action=action, lines=started)


def _release_all(
    holds: tuple[Hold, ...], by: str | None, now: datetime, note: str
) -> tuple[Hold, ...]:
    return tuple(
        attrs.evolve(h, released_at=now, released_by=by, release_note=note) if h.active else h
        for h in holds
    )


def place(order: Order, now: datetime) -> tuple[Order, tuple[OrderPlaced]]:
    """The customer commits: DRAFT -> PLACED. Credit policy decides next.

    Raises:
        InvalidTransitionError: not a draft.
        OrderExpiredError: the order is past its expiry.
    """
    require_aware(now)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.PLACE)
    _refuse_if_expired(order, now, "place")
    new = evolved(order, state=state, placed_at=now)
    totals = new.totals
    event = OrderPlaced(
        aggregate_id=order.id,
        occurred_at=now,
        customer_id=order.customer_id,
        net=totals.net,
        tax=totals.tax,
        total=totals.total,
    )
    return new, (event,)


def approve(order: Order, now: datetime) -> tuple[Order, tuple[OrderApproved]]:
    """Checks passed: PLACED -> CONFIRMED.

    Raises:
        InvalidTransitionError: not placed.
        OrderExpiredError: a never-confirmed order is past its expiry.
    """
    require_aware(now)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.APPROVE)
    _refuse_if_expired(order, now, "approve")
    new = evolved(order, state=state, confirmed_at=order.confirmed_at or now)
    event = OrderApproved(
        aggregate_id=order.id,
        occurred_at=now,
        customer_id=order.customer_id,
        total=new.totals.total,
    )
    return new, (event,)


def hold(
    order: Order, kind: HoldKind | str, reason: str, by: str, now: datetime
) -> tuple[Order, tuple[OrderHeld]]:
    """Put a placed or confirmed order on hold: -> ON_HOLD.

    Raises:
        InvalidTransitionError: the state does not allow a hold.
        ValidationError: unknown ``kind``, blank ``reason`` or ``by``.
    """
    require_aware(now)
    if not isinstance(kind, str) or kind not in {k.value for k in HoldKind}:
        ValidationResult(
            (Issue("order.hold.kind_unknown", "kind", f"{kind!r} is not a hold kind"),)
        ).raise_if_invalid("hold")
    hold_kind = HoldKind(kind)
    _require_text(reason=reason, by=by)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.HOLD)
    record = Hold(kind=hold_kind, reason=reason, placed_by=by, at=now)
    new = evolved(order, state=state, holds=(*order.holds, record))
    event = OrderHeld(
        aggregate_id=order.id,
        occurred_at=now,
        kind=hold_kind.value,
        reason=reason,
        placed_by=by,
    )
    return new, (event,)


def release(
    order: Order, now: datetime, *, by: str | None = None
) -> tuple[Order, tuple[OrderReleased]]:
    """Release every active hold: ON_HOLD -> PLACED, so credit is checked again.

    Raises:
        InvalidTransitionError: not on hold.
    """
    require_aware(now)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.RELEASE)
    kinds = tuple(h.kind.value for h in order.active_holds)
    new = evolved(order, state=state, holds=_release_all(order.holds, by, now, "released"))
    event = OrderReleased(aggregate_id=order.id, occurred_at=now, kinds=kinds, released_by=by or "")
    return new, (event,)


def override(
    order: Order, by: str, reason: str, now: datetime, *, reference: str = ""
) -> tuple[Order, tuple[OrderOverridden]]:
    """Confirm a held order on someone's authority: ON_HOLD -> CONFIRMED.

    Records who, why, when and the credit decision referred to; the decision itself
    is the credit module's.

    Raises:
        InvalidTransitionError: not on hold.
        ValidationError: blank ``by`` or ``reason``.
        OrderExpiredError: a never-confirmed order is past its expiry.
    """
    require_aware(now)
    _require_text(by=by, reason=reason)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.OVERRIDE)
    _refuse_if_expired(order, now, "override")
    kinds = tuple(h.kind for h in order.active_holds)
    record = Override(by=by, reason=reason, at=now, reference=reference, holds=kinds)
    new = attrs.evolve(
        order,
        state=state,
        holds=_release_all(order.holds, by, now, "override"),
        overrides=(*order.overrides, record),
        confirmed_at=order.confirmed_at or now,
    )
    event = OrderOverridden(
        aggregate_id=order.id,
        occurred_at=now,
        by=by,
        reason=reason,
        reference=reference,
        kinds=tuple(k.value for k in kinds),
        total=new.totals.total,
    )
    return new, (event,)


def reject(order: Order, reason: str, now: datetime) -> tuple[Order, tuple[OrderRejected]]:
    """Refuse a placed or held order: -> REJECTED.

    Raises:
        InvalidTransitionError: the state does not allow it.
        ValidationError: blank ``reason``.
        OrderInProgressError: goods were already shipped or invoiced.
    """
    require_aware(now)
    _require_text(reason=reason)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.REJECT)
    _refuse_if_in_progress(order, "reject")
    new = evolved(order, state=state, rejection_reason=reason, closed_at=now)
    event = OrderRejected(
        aggregate_id=order.id, occurred_at=now, reason=reason, total=order.totals.total
    )
    return new, (event,)


def cancel(order: Order, reason: str, now: datetime) -> tuple[Order, tuple[OrderCancelled]]:
    """Cancel the whole order (draft, placed, on hold, or confirmed with nothing
    shipped or invoiced): -> CANCELLED.

    Raises:
        InvalidTransitionError: the state does not allow it.
        ValidationError: blank ``reason``.
        OrderInProgressError: something was shipped or invoiced; cancel the
            remaining quantity instead (:func:`cancel_remaining`).
    """
    require_aware(now)
    _require_text(reason=reason)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.CANCEL)
    _refuse_if_in_progress(order, "cancel")
    new = evolved(order, state=state, cancellation_reason=reason, closed_at=now)
    event = OrderCancelled(
        aggregate_id=order.id, occurred_at=now, reason=reason, total=order.totals.total
    )
    return new, (event,)


def is_due_to_expire(order: Order, now: datetime) -> bool:
    """True when ``order`` may and must expire at ``now``: its state allows EXPIRE,
    it was never confirmed, and ``now >= expires_at``."""
    require_aware(now)
    return (
        ORDER_WORKFLOW.can(order.state, OrderEvent.EXPIRE)
        and _expiry_applies(order)
        and order.expires_at is not None
        and now >= order.expires_at
    )


def expire(order: Order, now: datetime) -> tuple[Order, tuple[OrderExpired]]:
    """Let an unconfirmed order lapse: DRAFT/PLACED/ON_HOLD -> EXPIRED.

    Raises:
        InvalidTransitionError: the state does not allow it.
        OrderExpiryNotDueError: no expiry, once confirmed, or not yet due.
    """
    require_aware(now)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.EXPIRE)

    def not_due(reason: str) -> OrderExpiryNotDueError:
        return OrderExpiryNotDueError(order_id=order.id, expires_at=order.expires_at, reason=reason)

    if order.expires_at is None:
        raise not_due("the order has no expiry")
    if order.confirmed_at is not None:
        raise not_due("the order was confirmed; confirmed orders do not expire")
    if now < order.expires_at:
        raise not_due(f"it expires at {order.expires_at.isoformat()}")
    new = evolved(order, state=state, closed_at=now)
    event = OrderExpired(
        aggregate_id=order.id,
        occurred_at=now,
        expires_at=order.expires_at,
        total=order.totals.total,
    )
    return new, (event,)


def expire_if_due(order: Order, now: datetime) -> tuple[Order, tuple[OrderExpired, ...]]:
    """Expire ``order`` when :func:`is_due_to_expire`; otherwise return it unchanged
    with no events (safe to call on every order in a sweep)."""
    if not is_due_to_expire(order, now):
        return order, ()
    return expire(order, now)


def complete(order: Order, now: datetime) -> tuple[Order, tuple[OrderCompleted]]:
    """Close a fulfilled order: CONFIRMED -> COMPLETED.

    Raises:
        InvalidTransitionError: not confirmed.
        OrderNotFulfilledError: naming the lines not fully shipped and invoiced.
    """
    require_aware(now)
    state = ORDER_WORKFLOW.apply(order.state, OrderEvent.COMPLETE)
    open_lines = tuple(line.line_id for line in order.lines if not line.is_fulfilled)
    if open_lines:
        raise OrderNotFulfilledError(order_id=order.id, lines=open_lines)
    new = evolved(order, state=state, closed_at=now)
    return new, (OrderCompleted(aggregate_id=order.id, occurred_at=now, total=order.totals.total),)


# --------------------------------------------------------------------------- progress


def _line_value(line: OrderLine, net: Money, quantity: Decimal) -> Money:
    # The share of the line's net for `quantity` units, by largest remainder, so the
    # shares of a fully shipped line sum to its net exactly.
    rest = _sub(line.quantity, quantity)
    if rest <= 0:
        return net
    return net.allocate([quantity, rest])[0]


def _moved(order: Order, amounts: Mapping[str, Decimal]) -> tuple[LineQuantity, ...]:
    return tuple(
        LineQuantity(
            line_id=line.line_id,
            sku=line.sku,
            quantity=amounts[line.line_id],
            net_value=_line_value(line, priced.net, amounts[line.line_id]),
        )
        for line, priced in zip(order.lines, order.totals.lines, strict=True)
        if line.line_id in amounts
    )


def _require_confirmed(order: Order, action: str) -> None:
    if order.state is not OrderState.CONFIRMED:
        raise OrderNotConfirmedError(order_id=order.id, state=order.state.value, action=action)


def _available(line: OrderLine, action: str) -> Decimal:
    if action == "ship":
        return line.to_ship
    if action == "deliver":
        return _sub(line.shipped, line.delivered)
    if action == "invoice":
        return line.to_invoice
    return _sub(line.delivered, line.returned)


def _bump(line: OrderLine, action: str, qty: Decimal) -> OrderLine:
    if action == "ship":
        return evolved(line, shipped=_add(line.shipped, qty))
    if action == "deliver":
        return evolved(line, delivered=_add(line.delivered, qty))
    if action == "invoice":
        return evolved(line, invoiced=_add(line.invoiced, qty))
    return evolved(line, returned=_add(line.returned, qty))


def _record(
    order: Order, quantities: Mapping[str, object], now: datetime, action: str
) -> tuple[Order, tuple[LineQuantity, ...]]:
    require_aware(now)
    # Goods come back after an order is closed too, and a parcel shipped and invoiced
    # before the order closed may arrive after: returns and deliveries accept COMPLETED.
    if not (action in {"return", "deliver"} and order.state is OrderState.COMPLETED):
        _require_confirmed(order, f"record_{action}")
    if not quantities:
        raise InvalidOrderQuantityError(
            order_id=order.id, line_id="", value={}, reason="no line quantities given"
        )
    amounts: dict[str, Decimal] = {}
    for line_id, raw in quantities.items():
        line = order.line(line_id)
        try:
            qty = to_decimal(raw, what="quantity")
        except InvalidAmountError as exc:
            raise InvalidOrderQuantityError(
                order_id=order.id,
                line_id=line_id,
                value=raw,
                reason=str(exc.fields.get("reason", exc.message)),
            ) from exc
        if qty <= 0:
            raise InvalidOrderQuantityError(
                order_id=order.id, line_id=line_id, value=raw, reason="must be above zero"
            )
        available = _available(line, action)
        if qty > available:
            raise OrderQuantityExceededError(
                order_id=order.id,
                line_id=line_id,
                action=action,
                requested=str(qty),
                available=str(available),
            )
        amounts[line_id] = qty
    lines = tuple(
        _bump(line, action, amounts[line.line_id]) if line.line_id in amounts else line
        for line in order.lines
    )
    return evolved(order, lines=lines), _moved(order, amounts)


def record_shipment(
    order: Order, quantities: Mapping[str, object], now: datetime
) -> tuple[Order, tuple[OrderLinesShipped]]:
    """Record quantities shipped, per line id (all or nothing).

    Raises:
        OrderNotConfirmedError: the order is not confirmed.
        OrderLineNotFoundError: an unknown line id.
        InvalidOrderQuantityError: nothing given, or a quantity not above zero.
        OrderQuantityExceededError: more than quantity - cancelled - shipped.
    """
    new, moved = _record(order, quantities, now, "ship")
    return new, (OrderLinesShipped(aggregate_id=order.id, occurred_at=now, lines=moved),)


def record_delivery(
    order: Order, quantities: Mapping[str, object], now: datetime
) -> tuple[Order, tuple[OrderLinesDelivered]]:
    """Record quantities delivered, per line id (at most what was shipped).

    Raises:
        OrderNotConfirmedError, OrderLineNotFoundError, InvalidOrderQuantityError,
        OrderQuantityExceededError: as for :func:`record_shipment`.
    """
    new, moved = _record(order, quantities, now, "deliver")
    return new, (OrderLinesDelivered(aggregate_id=order.id, occurred_at=now, lines=moved),)


def record_invoiced(
    order: Order, quantities: Mapping[str, object], now: datetime
) -> tuple[Order, tuple[OrderLinesInvoiced]]:
    """Record quantities invoiced, per line id (at most quantity - cancelled; may run
    ahead of shipping, for invoicing on order).

    Raises:
        OrderNotConfirmedError, OrderLineNotFoundError, InvalidOrderQuantityError,
        OrderQuantityExceededError: as for :func:`record_shipment`.
    """
    new, moved = _record(order, quantities, now, "invoice")
    return new, (OrderLinesInvoiced(aggregate_id=order.id, occurred_at=now, lines=moved),)


def record_return(
    order: Order, quantities: Mapping[str, object], now: datetime
) -> tuple[Order, tuple[OrderLinesReturned]]:
    """Record quantities returned, per line id (at most what was delivered minus what
    was already returned). A completed order takes returns too: goods come back
    after an order is closed, and the order stays completed.

    Raises:
        OrderNotConfirmedError: the order is neither confirmed nor completed.
        OrderLineNotFoundError, InvalidOrderQuantityError,
        OrderQuantityExceededError: as for :func:`record_shipment`.
    """
    new, moved = _record(order, quantities, now, "return")
    return new, (OrderLinesReturned(aggregate_id=order.id, occurred_at=now, lines=moved),)


def cancel_remaining(
    order: Order,
    now: datetime,
    line_ids: str | Sequence[str] | None = None,
    *,
    reason: str = "",
) -> tuple[Order, tuple[DomainEvent, ...]]:
    """Cancel what is neither shipped nor invoiced on a confirmed order (a backorder
    the customer no longer wants), on the lines named or on all lines.

    Afterwards, an order with nothing left at all is CANCELLED; one whose remaining
    quantities are all shipped and invoiced is COMPLETED (both through the table).

    Raises:
        OrderNotConfirmedError: the order is not confirmed.
        OrderLineNotFoundError: an unknown line id.
        NothingToCancelError: the lines named have nothing left to cancel.
    """
    require_aware(now)
    _require_confirmed(order, "cancel_remaining")
    if line_ids is None:
        targets = tuple(line.line_id for line in order.lines)
    elif isinstance(line_ids, str):
        targets = (line_ids,)
    else:
        targets = tuple(line_ids)
    amounts: dict[str, Decimal] = {}
    for line_id in targets:
        qty = order.line(line_id).cancellable
        if qty > 0:
            amounts[line_id] = qty
    if not amounts:
        raise NothingToCancelError(order_id=order.id, lines=targets)
    lines = tuple(
        attrs.evolve(line, cancelled=_add(line.cancelled, amounts[line.line_id]))
        if line.line_id in amounts
        else line
        for line in order.lines
    )
    new = attrs.evolve(order, lines=lines)
    text = reason or "remaining quantity cancelled"
    events: list[DomainEvent] = [
        OrderLinesCancelled(
            aggregate_id=order.id, occurred_at=now, lines=_moved(order, amounts), reason=text
        )
    ]
    if all(line.due_quantity == 0 for line in new.lines):
        state = ORDER_WORKFLOW.apply(new.state, OrderEvent.CANCEL)
        new = attrs.evolve(new, state=state, cancellation_reason=text, closed_at=now)
        events.append(
            OrderCancelled(
                aggregate_id=order.id, occurred_at=now, reason=text, total=order.totals.total
            )
        )
    elif new.is_fulfilled:
        state = ORDER_WORKFLOW.apply(new.state, OrderEvent.COMPLETE)
        new = attrs.evolve(new, state=state, closed_at=now)
        events.append(
            OrderCompleted(aggregate_id=order.id, occurred_at=now, total=order.totals.total)
        )
    return new, tuple(events)
