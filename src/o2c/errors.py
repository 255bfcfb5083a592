"""Every error o2c raises, in one hierarchy with one root.

Each error has a stable ``code`` (for hosts that map errors to responses without
matching strings), keyword fields that are also attributes, and a ``hint`` that
says what to do about it. ``str(error)`` is built from those three.

Families:

* :class:`DomainError`: the request breaks a business rule or the input is bad.
  Retrying the same request will fail again.
* :class:`ConflictError`: the request collides with something already recorded
  (an idempotency key reused with another payload, a stale version).
* :class:`AdapterError`: infrastructure (storage, gateway, carrier) failed;
  ``retryable`` says whether trying again may help.
* :class:`PluginError`: a plugin could not be loaded or registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "AdapterError",
    "AllocationError",
    "AmountParseError",
    "ConflictError",
    "CurrencyMismatchError",
    "DomainError",
    "GuardRejectedError",
    "IdempotencyConflictError",
    "InvalidAmountError",
    "InvalidTransitionError",
    "MoneyError",
    "NotFoundError",
    "O2CError",
    "PluginError",
    "UnknownCurrencyError",
    "ValidationError",
    "WorkflowDefinitionError",
]

_MAX_FIELD_REPR = 80


def _short(value: object) -> str:
    """Repr of a field, cut so that hostile input cannot flood a log line."""
    text = repr(value)
    if len(text) > _MAX_FIELD_REPR:
        return text[: _MAX_FIELD_REPR - 3] + "..."
    return text


class O2CError(Exception):
    """Root of every error o2c raises.

    Args:
        message: What went wrong, in one sentence. Defaults to the class's ``summary``.
        **fields: Facts about the failure; each becomes an attribute of the error.
    """

    code: ClassVar[str] = "o2c.error"
    summary: ClassVar[str] = "o2c failed"
    hint: ClassVar[str] = ""

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        self.message = message or self.summary
        self.fields: dict[str, Any] = dict(fields)
        for name, value in fields.items():
            setattr(self, name, value)
        super().__init__(self.message)

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.fields:
            text += " (" + ", ".join(f"{k}={_short(v)}" for k, v in self.fields.items()) + ")"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (workers); keep fields when pickled.
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[O2CError], message: str, fields: dict[str, Any]) -> O2CError:
    return cls(message, **fields)


# --------------------------------------------------------------------------- families


class DomainError(O2CError):
    """The request breaks a business rule or carries bad input; do not retry it unchanged."""

    code = "domain.error"
    summary = "the request breaks a business rule"


class ConflictError(O2CError):
    """The request collides with state already recorded."""

    code = "conflict"
    summary = "the request conflicts with recorded state"


class AdapterError(O2CError):
    """An adapter (storage, gateway, carrier, ...) failed.

    Attributes:
        retryable: True when the same call may succeed later (timeouts, locks).
    """

    code = "adapter.error"
    summary = "an adapter failed"
    retryable: bool

    def __init__(self, message: str = "", /, *, retryable: bool = False, **fields: Any) -> None:
        super().__init__(message, retryable=retryable, **fields)


class PluginError(O2CError):
    """A plugin could not be loaded, registered or used."""

    code = "plugin.error"
    summary = "a plugin failed"
    hint = "Check the plugin named in the error; disable it to isolate the problem"


class NotFoundError(DomainError):
    """An aggregate the request names does not exist."""

    code = "not_found"
    summary = "no such record"
    kind: str
    id: str


# --------------------------------------------------------------------------- validation


class ValidationError(DomainError):
    """Input failed validation. ``issues`` lists every problem, not just the first.

    Attributes:
        issues: The :class:`o2c.validation.Issue` values that failed.
    """

    code = "validation.failed"
    summary = "the input is not valid"
    hint = "Fix every issue listed and send the request again"
    issues: Sequence[Any]


# --------------------------------------------------------------------------- money


class MoneyError(DomainError):
    """Base for money problems."""

    code = "money.error"
    summary = "invalid money operation"


class UnknownCurrencyError(MoneyError):
    """The currency is not an ISO 4217 code known to the CLDR data babel ships."""

    code = "money.unknown_currency"
    summary = "unknown currency code"
    hint = "Use a three-letter upper-case ISO 4217 code such as 'EUR'"
    currency: object


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies were combined."""

    code = "money.currency_mismatch"
    summary = "amounts are in different currencies"
    hint = "Convert one amount explicitly before combining them"
    left: str
    right: str


class InvalidAmountError(MoneyError):
    """An amount is not an exact, finite, bounded decimal (floats are always refused)."""

    code = "money.invalid_amount"
    summary = "invalid amount"
    hint = "Pass a decimal.Decimal, an int or a plain decimal string such as '12.50'"
    value: object
    reason: str


class AmountParseError(InvalidAmountError):
    """A decimal string was refused by the strict parser.

    Attributes:
        text: The text (cut for display).
        position: Zero-based index of the first offending character.
        reason: Why it was refused.
    """

    code = "money.parse_error"
    summary = "not a plain decimal number"
    hint = "Write amounts as ASCII digits with an optional sign and one '.' (e.g. '-1234.50')"
    text: str
    position: int


class AllocationError(MoneyError):
    """An amount cannot be allocated by the ratios given."""

    code = "money.allocation"
    summary = "cannot allocate"
    hint = "Give at least one positive ratio and no negative ones"


# --------------------------------------------------------------------------- workflows


class WorkflowDefinitionError(O2CError):
    """A state-machine table is inconsistent; raised when the table is defined."""

    code = "workflow.definition"
    summary = "invalid workflow table"
    hint = "Fix the transition table; every problem is listed in 'problems'"
    workflow: str
    problems: tuple[str, ...]


class InvalidTransitionError(DomainError):
    """An event is not allowed in the aggregate's current state."""

    code = "workflow.invalid_transition"
    summary = "event not allowed in this state"
    hint = "Send one of the allowed events, or bring the aggregate to a state that allows it"
    workflow: str
    state: str
    event: str
    allowed: tuple[str, ...]


class GuardRejectedError(InvalidTransitionError):
    """The transition exists but its guard refused it."""

    code = "workflow.guard_rejected"
    summary = "the transition's guard refused the event"
    guard: str


class NaiveDatetimeError(DomainError):
    """A datetime without a timezone was given where an instant is needed."""

    code = "time.naive_datetime"
    summary = "a naive datetime is ambiguous"
    hint = "Give the datetime a timezone, e.g. datetime(..., tzinfo=UTC)"
    instant: object


# --------------------------------------------------------------------------- idempotency


class IdempotencyConflictError(ConflictError):
    """An idempotency key was reused with a different request."""

    code = "idempotency.conflict"
    summary = "idempotency key reused with a different request"
    hint = "Use a new key for a new request; replay only identical requests under a key"
    key: str
    field: str


# --------------------------------------------------------------------------- orders & customers
# (domain-specific errors are appended in the section of their module)


class CustomerHierarchyCycleError(DomainError):
    """Parent links between customers form a loop, so no group root exists.

    Attributes:
        cycle: The customer ids on the loop, in parent order, starting at the smallest id.
    """

    code = "customer.hierarchy_cycle"
    summary = "customer parent links form a cycle"
    hint = "Fix the parent_id of one customer on the cycle so the group has a root"
    cycle: tuple[str, ...]


class OrderLineNotFoundError(NotFoundError):
    """An operation names an order line the order does not have.

    Attributes:
        order_id: The order.
        kind: Always ``"order_line"``.
        id: The unknown line id.
    """

    code = "order.unknown_line"
    summary = "the order has no such line"
    hint = "Use one of the order's line ids"
    order_id: str


class OrderNotConfirmedError(DomainError):
    """Progress (shipment, delivery, invoice, return, cancellation of the rest) was
    recorded on an order that is not confirmed.

    Attributes:
        order_id: The order.
        state: Its current state.
        action: What was attempted, e.g. ``"record_shipment"``.
    """

    code = "order.not_confirmed"
    summary = "the order is not confirmed"
    hint = "Record progress only on confirmed orders; approve or release the order first"
    order_id: str
    state: str
    action: str


class OrderInProgressError(DomainError):
    """The whole order cannot be cancelled, rejected or expired: goods were already
    shipped or invoiced on some lines.

    Attributes:
        order_id: The order.
        action: What was attempted (``"cancel"``, ``"reject"``, ``"expire"``).
        lines: Ids of the lines with shipped or invoiced quantities.
    """

    code = "order.in_progress"
    summary = "goods were already shipped or invoiced"
    hint = "cancel the remaining quantity instead (cancel_remaining)"
    order_id: str
    action: str
    lines: tuple[str, ...]


class OrderNotFulfilledError(DomainError):
    """The order cannot complete: some lines are not fully shipped and invoiced.

    Attributes:
        order_id: The order.
        lines: Ids of the lines still open.
    """

    code = "order.not_fulfilled"
    summary = "some lines are not fully shipped and invoiced"
    hint = "Ship and invoice the open quantities, or cancel them with cancel_remaining"
    order_id: str
    lines: tuple[str, ...]


class OrderQuantityExceededError(DomainError):
    """Recording this quantity would exceed what the line allows.

    Attributes:
        order_id: The order.
        line_id: The line.
        action: ``"ship"``, ``"deliver"``, ``"invoice"`` or ``"return"``.
        requested: The quantity asked for (as text).
        available: The most that can still be recorded (as text).
    """

    code = "order.quantity_exceeded"
    summary = "the quantity exceeds what the line allows"
    hint = "Record at most the available quantity"
    order_id: str
    line_id: str
    action: str
    requested: str
    available: str


class InvalidOrderQuantityError(DomainError):
    """A progress quantity is not a positive exact number, or nothing was given.

    Attributes:
        order_id: The order.
        line_id: The line ("" when the request itself is empty).
        value: The refused value.
        reason: Why it was refused.
    """

    code = "order.invalid_quantity"
    summary = "invalid quantity"
    hint = "Give at least one line with a positive quantity (Decimal, int or plain string)"
    order_id: str
    line_id: str
    value: object
    reason: str


class OrderExpiredError(DomainError):
    """The order reached its expiry and can no longer be placed or confirmed.

    Attributes:
        order_id: The order.
        expires_at: When it expired.
        action: What was attempted.
    """

    code = "order.expired"
    summary = "the order has passed its expiry"
    hint = "Expire it with expire_if_due and capture a new order"
    order_id: str
    expires_at: object
    action: str


class OrderExpiryNotDueError(DomainError):
    """``expire`` was called on an order that is not due to expire.

    Attributes:
        order_id: The order.
        expires_at: Its expiry (None when it has none).
        reason: Why it is not due.
    """

    code = "order.expiry_not_due"
    summary = "the order is not due to expire"
    hint = "Call expire_if_due, which leaves orders that are not due unchanged"
    order_id: str
    expires_at: object
    reason: str


class NothingToCancelError(DomainError):
    """``cancel_remaining`` found no open quantity on the lines named.

    Attributes:
        order_id: The order.
        lines: The lines looked at.
    """

    code = "order.nothing_to_cancel"
    summary = "no remaining quantity to cancel"
    hint = "Quantities already shipped or invoiced cannot be cancelled; use a return instead"
    order_id: str
    lines: tuple[str, ...]


class OrderDiscountError(DomainError):
    """A document-level discount cannot be applied to the order.

    Attributes:
        order_id: The order.
        discount: The discount (as text).
        reason: Why it was refused.
    """

    code = "order.discount_invalid"
    summary = "the document discount cannot be applied"
    hint = "Give a discount in the order's currency, rounded to its minor unit, within the net"
    order_id: str
    discount: str
    reason: str


# --------------------------------------------------------------------------- credit


class CreditError(DomainError):
    """Base for credit-policy problems (bad facts, bad policies, refused overrides)."""

    code = "credit.error"
    summary = "credit check failed"


class InvalidCreditInputError(CreditError):
    """Facts, a request, a rule outcome, an override or a decision are inconsistent.

    The engine gathers the facts; this error means it handed over something that
    cannot be right (a negative limit, an exposure of another customer, ...).

    Attributes:
        what: The value at fault, e.g. ``"profile.limit"``.
        reason: Why it was refused.
    """

    code = "credit.invalid_input"
    summary = "inconsistent credit input"
    hint = "Fix the value named in 'what'; credit facts must describe one customer consistently"
    what: str
    reason: str


class CreditCurrencyError(CreditError, CurrencyMismatchError):
    """Credit amounts that must be compared are in different currencies (no FX in the core).

    Attributes:
        what: The value in the wrong currency, e.g. ``"group member 'C-2'"``.
        left: The currency expected.
        right: The currency found.
    """

    code = "credit.currency_mismatch"
    summary = "credit amounts are in different currencies"
    hint = (
        "Keep one credit currency per customer and group; convert exposures explicitly "
        "before consolidating or checking them"
    )
    what: str


class CreditPolicyError(CreditError):
    """A credit policy or one of its rules is unusable (no rules, duplicate names, bad result).

    Attributes:
        policy: The policy's name.
        reason: What is wrong with it.
    """

    code = "credit.invalid_policy"
    summary = "invalid credit policy"
    hint = "Give the policy at least one rule, unique rule names, and rules that return RuleOutcome"
    policy: str
    reason: str


class CreditNotApprovedError(CreditError):
    """An operation needed an approved credit decision and the decision held or rejected.

    Attributes:
        order_id: The order checked.
        outcome: ``"hold"`` or ``"reject"``.
        deciding_rule: The rule that decided.
        reasons: Reason codes of every objecting rule.
    """

    code = "credit.not_approved"
    summary = "credit was not approved"
    hint = "Release the hold after review, record an authorised override, or reduce the order"
    order_id: str
    outcome: str
    deciding_rule: str | None
    reasons: tuple[str, ...]


class CreditLimitExceededError(CreditNotApprovedError):
    """The decision that was not approved was decided by a customer or group credit limit."""

    code = "credit.limit_exceeded"
    summary = "the order exceeds the credit limit"
    hint = "Wait for payments, raise the limit, reduce the order, or record an authorised override"


class CreditOverrideRefusedError(CreditError):
    """An override cannot be applied to the decision.

    Attributes:
        order_id: The order whose decision was to be overridden.
        reason: Why the override was refused.
    """

    code = "credit.override_refused"
    summary = "the credit override was refused"
    hint = "Check the decision's outcome and the override's authority, amount and time"
    order_id: str
    reason: str


class BlockedCustomerOverrideError(CreditOverrideRefusedError):
    """The decision rejects a blocked customer and the override does not allow that."""

    code = "credit.override_blocked_customer"
    summary = "a blocked customer's rejection cannot be overridden"
    hint = "Unblock the customer, or record an override with allow_blocked=True by a senior role"


class OverrideAmountExceededError(CreditOverrideRefusedError):
    """The override's maximum amount is below the order amount.

    Attributes:
        max_amount: The most the override may approve.
        order_amount: The order amount of the decision.
    """

    code = "credit.override_amount_exceeded"
    summary = "the order is larger than the override may approve"
    hint = "Ask someone whose approval ceiling covers the order, or reduce the order"
    max_amount: object
    order_amount: object


class OverrideNotAuthorisedError(CreditOverrideRefusedError):
    """The override's authority (role) is not among those allowed to override.

    Attributes:
        authority: The role the override was made under.
        allowed: The roles allowed to override.
    """

    code = "credit.override_not_authorised"
    summary = "this role may not override credit decisions"
    hint = "Have a credit controller (one of 'allowed') record the override"
    authority: str
    allowed: tuple[str, ...]


# --------------------------------------------------------------------------- terms & invoices


class InvalidPaymentTermsError(ValidationError):
    """Payment terms, one of their lines, due rules or discount tiers are inconsistent.

    Attributes:
        issues: Every problem found, as :class:`o2c.validation.Issue` values.
    """

    code = "terms.invalid"
    summary = "invalid payment terms"
    hint = "Fix every issue listed: percentages, the balance line, due steps and discount tiers"


class DueDateOutOfRangeError(DomainError):
    """A due rule moves a date outside the calendar Python can represent."""

    code = "terms.due_date_out_of_range"
    summary = "the due date is out of range"
    hint = "Use a realistic invoice date and due rule"
    start: str
    rule: str


class InvalidInvoiceError(ValidationError):
    """An invoice, an invoice line or a credit note is not valid as built."""

    code = "invoice.invalid"
    summary = "invalid invoice"
    hint = "Fix every issue listed and build the document again"


class InvoiceStateError(DomainError):
    """The invoice's state does not allow the operation (e.g. a payment on a draft)."""

    code = "invoice.state"
    summary = "the operation is not allowed in the invoice's state"
    hint = "Issue the invoice first; void and written-off invoices take no further operations"
    invoice_id: str
    state: str
    operation: str


class OverApplicationError(DomainError):
    """A payment, discount or write-off exceeds the invoice's open amount."""

    code = "invoice.over_application"
    summary = "the amount exceeds the invoice's open amount"
    hint = "Apply at most the open amount; keep the excess as unapplied customer cash"
    invoice_id: str
    operation: str
    amount: str
    open_amount: str


class UnapplyExceedsAppliedError(DomainError):
    """A reversal asks to unapply more than the payment reference has applied."""

    code = "invoice.unapply_exceeds_applied"
    summary = "cannot unapply more than was applied under that payment reference"
    hint = "Unapply at most the amount applied under the payment reference"
    invoice_id: str
    payment_ref: str
    amount: str
    applied: str


class DiscountNotAvailableError(DomainError):
    """No early-payment discount tier is valid on the payment date."""

    code = "invoice.discount_not_available"
    summary = "no early-payment discount is valid on that date"
    hint = "Collect the full amount; the discount periods have passed or the terms offer none"
    invoice_id: str
    payment_date: str


class DiscountExceedsOfferError(DomainError):
    """The discount granted would exceed the early-payment discount valid on the date."""

    code = "invoice.discount_exceeds_offer"
    summary = "the discount exceeds the early-payment discount offered"
    hint = "Grant at most the discount of the tier valid on the payment date"
    invoice_id: str
    amount: str
    offered: str
    already_taken: str


class CreditExceedsInvoiceError(DomainError):
    """A credit note exceeds what can still be credited on its invoice."""

    code = "invoice.credit_exceeds_creditable"
    summary = "the credit note exceeds the invoice's creditable amount"
    hint = "Credit at most total - credited - written off - discount taken"
    invoice_id: str
    amount: str
    creditable: str


class CreditNoteMismatchError(DomainError):
    """A credit note belongs to another invoice or currency, or was applied already."""

    code = "invoice.credit_note_mismatch"
    summary = "the credit note does not fit this invoice"
    hint = "Apply each credit note once, to the invoice and currency it was issued for"
    invoice_id: str
    credit_note_id: str
    reason: str


class VoidNotAllowedError(DomainError):
    """Only an invoice with nothing applied, credited, discounted or written off is voided."""

    code = "invoice.void_not_allowed"
    summary = "an invoice with settlements cannot be voided"
    hint = "Issue a credit note instead, or unapply the payments first"
    invoice_id: str
    applied: str
    credited: str
    written_off: str
    discount_taken: str


class OverInvoicingError(DomainError):
    """An order line would be billed beyond what its invoicing basis allows."""

    code = "invoice.over_invoicing"
    summary = "the quantity exceeds what may still be invoiced"
    hint = "Invoice at most (ordered or shipped) minus already invoiced"
    line_id: str
    requested: str
    billable: str


# --------------------------------------------------------------------------- payments & cash


class CardDataRefusedError(DomainError):
    """A text field holds what looks like a card number (a 13-19 digit Luhn-valid run).

    o2c stores tokens and opaque references only, never card numbers (PCI DSS). The
    value itself is deliberately not part of the error, so it cannot reach a log.

    Attributes:
        field: Name of the offending field.
    """

    code = "payment.card_data_refused"
    summary = "card numbers are never stored"
    hint = "Store the gateway's token or a reference instead; redact_card_numbers() masks text"
    field: str


class PaymentFieldError(DomainError):
    """A payment or transaction field is malformed (empty id, bad key, bad schedule...).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "payment.invalid_field"
    summary = "invalid payment field"
    hint = "Fix the field named in the error and send the request again"
    field: str
    reason: str


class TransactionNotAllowedError(DomainError):
    """The payment's state does not allow this kind of gateway transaction.

    Attributes:
        payment_id: The payment.
        kind: The transaction kind requested (authorize, capture, sale, void, refund).
        state: The payment's state.
        reason: Why it is refused.
    """

    code = "payment.transaction_not_allowed"
    summary = "transaction not allowed in the payment's state"
    hint = "Check the payment's state and derived amounts before requesting this transaction"
    payment_id: str
    kind: str
    state: str
    reason: str


class PaymentLimitExceededError(DomainError):
    """A capture, void or refund asks for more than the payment allows.

    Attributes:
        payment_id: The payment.
        kind: The transaction kind requested.
        amount: The amount requested.
        limit: Which bound was exceeded: ``"capturable"`` or ``"refundable"``.
        available: What the bound allows now.
    """

    code = "payment.limit_exceeded"
    summary = "amount exceeds what the payment allows"
    hint = "Request at most the available amount named in the error"
    payment_id: str
    kind: str
    amount: object
    limit: str
    available: object


class TransactionInFlightError(ConflictError):
    """Another gateway transaction of this payment has no final answer yet.

    Attributes:
        payment_id: The payment.
        transaction_id: The transaction still in flight (requested, pending or unknown).
        kind: Its kind.
    """

    code = "payment.transaction_in_flight"
    summary = "another transaction of this payment is still in flight"
    hint = (
        "Wait for its outcome or reconcile it by asking the gateway under its own key; "
        "never retry it under a new key"
    )
    payment_id: str
    transaction_id: str
    kind: str


class DuplicateTransactionIdError(ConflictError):
    """A transaction id is already used by another request of the payment.

    Attributes:
        payment_id: The payment.
        transaction_id: The id given twice.
    """

    code = "payment.duplicate_transaction_id"
    summary = "transaction id already used"
    hint = "Give every new request a new transaction id; replays are matched by their key"
    payment_id: str
    transaction_id: str


class ContradictoryOutcomeError(ConflictError):
    """A late gateway answer contradicts a transaction's final state.

    A final transaction never changes; a success reported after a failure (or the
    reverse) needs a person: money may have moved that o2c believes did not.

    Attributes:
        transaction_id: The transaction.
        state: Its recorded final state.
        outcome: The contradicting outcome.
    """

    code = "payment.contradictory_outcome"
    summary = "gateway outcome contradicts the recorded final state"
    hint = "Investigate with the gateway; settle any difference with a new transaction"
    transaction_id: str
    state: str
    outcome: str


class CashError(DomainError):
    """Base for cash-ledger problems (receipts, allocations, refunds of unapplied cash)."""

    code = "cash.error"
    summary = "invalid cash operation"


class CashFieldError(CashError):
    """A receipt field is malformed (empty id, bad IBAN, duplicate invoice in one call...).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "cash.invalid_field"
    summary = "invalid receipt field"
    hint = "Fix the field named in the error and send the request again"
    field: str
    reason: str


class InsufficientUnappliedCashError(CashError):
    """An allocation or refund asks for more than the receipt's unapplied cash.

    Attributes:
        receipt_id: The receipt.
        requested: The amount asked for.
        unapplied: The receipt's unapplied cash.
    """

    code = "cash.insufficient_unapplied"
    summary = "amount exceeds the receipt's unapplied cash"
    hint = "Allocate or refund at most the unapplied amount; unallocate elsewhere first"
    receipt_id: str
    requested: object
    unapplied: object


class AllocationExceedsOpenAmountError(CashError):
    """An allocation asks for more than the invoice's open amount.

    Attributes:
        receipt_id: The receipt.
        invoice_id: The invoice.
        requested: The amount asked for.
        open_amount: The invoice's open amount.
    """

    code = "cash.exceeds_invoice_open"
    summary = "amount exceeds the invoice's open amount"
    hint = "Allocate at most the open amount; leave the rest unapplied or refund it"
    receipt_id: str
    invoice_id: str
    requested: object
    open_amount: object


class UnallocationExceedsAppliedError(CashError):
    """An unallocation asks for more than the receipt applied to that invoice.

    Attributes:
        receipt_id: The receipt.
        invoice_id: The invoice.
        requested: The amount asked for.
        applied: What the receipt currently applies to the invoice.
    """

    code = "cash.exceeds_applied"
    summary = "amount exceeds what the receipt applied to the invoice"
    hint = "Unallocate at most the amount applied to that invoice"
    receipt_id: str
    invoice_id: str
    requested: object
    applied: object


class PayerUnknownError(CashError):
    """Cash from a payer not yet identified cannot be applied to invoices.

    Attributes:
        receipt_id: The receipt.
    """

    code = "cash.payer_unknown"
    summary = "the receipt's customer is not known yet"
    hint = "Assign the customer first (assign_customer), or refund the cash to the payer"
    receipt_id: str


class CustomerAlreadyAssignedError(ConflictError):
    """The receipt already belongs to another customer.

    Attributes:
        receipt_id: The receipt.
        customer_id: The customer recorded.
        requested: The customer asked for.
    """

    code = "cash.customer_already_assigned"
    summary = "the receipt already belongs to another customer"
    hint = "Unallocate and refund the receipt if it was assigned to the wrong customer"
    receipt_id: str
    customer_id: str
    requested: str


class CashConservationError(O2CError):
    """Cash was created or destroyed: received != applied + unapplied + refunded.

    This is a broken invariant (a bug or corrupted data), not a bad request, so it
    sits outside the domain, conflict and adapter families.

    Attributes:
        problem: Which law failed.
    """

    code = "cash.conservation_violated"
    summary = "cash conservation law violated"
    hint = "Stop applying cash for this customer and investigate the ledger entries"
    problem: str


# --------------------------------------------------------------------------- disputes


class DisputeError(DomainError):
    """Base for dispute problems (bad input, evidence rules, resolution rules)."""

    code = "dispute.error"
    summary = "the dispute operation failed"


class InvalidDisputeError(DisputeError):
    """A dispute, or an argument of a dispute operation, is inconsistent.

    Attributes:
        field: The value at fault, e.g. ``"amount"``.
        reason: Why it was refused.
    """

    code = "dispute.invalid"
    summary = "invalid dispute input"
    hint = "Fix the value named in 'field'"
    field: str
    reason: str


class InvalidEvidenceError(DisputeError):
    """Evidence is empty, too large or malformed (texts by name, documents by id).

    Attributes:
        field: The evidence field at fault, e.g. ``"documents[2]"``.
        reason: Why it was refused.
    """

    code = "dispute.invalid_evidence"
    summary = "invalid dispute evidence"
    hint = "Give at least one text or document id; texts are strings, documents are ids"
    field: str
    reason: str


class EvidenceDeadlinePassedError(DisputeError):
    """Evidence arrived after the response deadline (``respond_by``) of the dispute.

    Attributes:
        dispute_id: The dispute.
        due_by: The deadline that passed (timezone-aware datetime).
        submitted_at: When the evidence was offered.
    """

    code = "dispute.evidence_deadline_passed"
    summary = "the deadline for evidence has passed"
    hint = "Evidence can no longer be submitted; accept the dispute or wait for its outcome"
    dispute_id: str
    due_by: Any
    submitted_at: Any


class EvidenceAlreadySubmittedError(ConflictError):
    """Evidence was already submitted for this stage of the dispute; it is submitted once.

    Attributes:
        dispute_id: The dispute.
        stage: ``"inquiry"`` or ``"response"``.
        submitted_at: When the recorded evidence was submitted.
    """

    code = "dispute.evidence_already_submitted"
    summary = "evidence was already submitted"
    hint = "Evidence is submitted once per stage; wait for the outcome"
    dispute_id: str
    stage: str
    submitted_at: Any


class DisputeNotClosedError(DisputeError):
    """The operation needs a closed (final) dispute, e.g. recording its resolution.

    Attributes:
        dispute_id: The dispute.
        state: Its current (open) state.
    """

    code = "dispute.not_closed"
    summary = "the dispute is still open"
    hint = "Resolve a dispute only once it is won, lost, accepted, withdrawn or closed"
    dispute_id: str
    state: str


class InvalidResolutionError(DisputeError):
    """The resolution or its amount does not fit the dispute's kind and outcome.

    Attributes:
        dispute_id: The dispute.
        state: Its final state.
        kind: ``"chargeback"`` or ``"deduction"``.
        resolution: The resolution asked for.
        allowed: The resolutions allowed for this outcome.
        reason: Why it was refused.
    """

    code = "dispute.invalid_resolution"
    summary = "the resolution does not fit the dispute"
    hint = "Use one of 'allowed', with an amount above zero and at most the disputed amount"
    dispute_id: str
    state: str
    kind: str
    resolution: str
    allowed: tuple[str, ...]
    reason: str


class DisputeAlreadyResolvedError(ConflictError):
    """The dispute's resolution is already recorded; it is recorded once.

    Attributes:
        dispute_id: The dispute.
        resolution: The recorded resolution.
    """

    code = "dispute.already_resolved"
    summary = "the dispute is already resolved"
    hint = "A resolution is recorded once; correct it with a new document, not a new resolution"
    dispute_id: str
    resolution: str


class InvalidStripeDisputeError(DisputeError):
    """A Stripe dispute object (outside input) lacks a field or carries a garbled one.

    Attributes:
        field: Dotted path of the field, e.g. ``"evidence_details.due_by"``.
        reason: Why it was refused.
    """

    code = "dispute.invalid_stripe_object"
    summary = "not a valid Stripe dispute object"
    hint = "Pass the 'data.object' of a charge.dispute.* event, or a dispute fetched from the API"
    field: str
    reason: str


# --------------------------------------------------------------------------- plugins & hooks


class InvalidRecordError(PluginError):
    """A registration record (``StorageRecord``, ``GatewayRecord`` ...) is malformed.

    Attributes:
        record: The record type, e.g. ``"GatewayRecord"``.
        field: The offending field, e.g. ``"name"`` or ``"currencies"``.
        value: The refused value (shortened when shown).
        reason: Why it was refused.
    """

    code = "plugin.invalid_record"
    summary = "invalid registration record"
    hint = (
        "Names are 1-64 characters: a lowercase letter, then lowercase letters, digits, "
        "'_' or '-'; factories must be callable"
    )
    record: str
    field: str
    value: object
    reason: str


class PluginRegistrationError(PluginError):
    """A plugin object cannot be registered (name taken, bad hook signature, wrapper).

    Attributes:
        plugin: The plugin's name (or its repr when it has none yet).
        reason: Why it was refused.
    """

    code = "plugin.registration_failed"
    summary = "the plugin cannot be registered"
    plugin: str
    reason: str


class PluginLoadError(PluginError):
    """An ``o2c`` entry point could not be imported or registered.

    Attributes:
        entry_point: The entry point's name.
        value: What it points at, e.g. ``"acme_o2c.plugin"``.
        distribution: The distribution that declares it ("" when unknown).
        reason: The underlying error, as ``Type: message``.
    """

    code = "plugin.load_failed"
    summary = "a plugin entry point failed to load"
    hint = (
        "Fix or uninstall the distribution named in the error, or pass its entry point "
        "name in Plugins(blocked=...)"
    )
    entry_point: str
    value: str
    distribution: str
    reason: str


class UnknownHookError(PluginError):
    """A plugin implements a hook o2c does not specify (usually a misspelt name).

    Attributes:
        plugin: The plugin's name.
        hook: The unknown hook name.
        suggestion: The closest specified hook name ("" when none is close).
    """

    code = "plugin.unknown_hook"
    summary = "a plugin implements an unknown hook"
    hint = "Rename the implementation to a hook listed in docs/hooks.md"
    plugin: str
    hook: str
    suggestion: str


class DuplicateAdapterError(PluginError):
    """Two registrations of one adapter role use the same name.

    Attributes:
        kind: The role, e.g. ``"storage"`` or ``"gateway"``.
        name: The name registered twice.
        plugins: The two plugins (first seen, second seen); equal when one plugin
            registered the name twice.
    """

    code = "plugin.duplicate_adapter"
    summary = "an adapter name is registered twice"
    hint = "Rename one of the adapters, or leave one of the plugins out"
    kind: str
    name: str
    plugins: tuple[str, str]


class PluginHookError(PluginError):
    """A plugin's hook implementation raised; the cause is chained (``__cause__``).

    Attributes:
        plugin: The plugin's name.
        hook: The hook, e.g. ``"o2c_register_storage"``.
        reason: The underlying error, as ``Type: message``.
    """

    code = "plugin.hook_failed"
    summary = "a plugin's hook implementation raised"
    plugin: str
    hook: str
    reason: str


class HookResultError(PluginError):
    """A hook implementation returned something the hook does not allow.

    Attributes:
        plugin: The plugin's name ("" when no implementation answered at all).
        hook: The hook.
        reason: What was wrong with the result.
    """

    code = "plugin.bad_result"
    summary = "a hook implementation returned an invalid result"
    hint = "Return what the hook's documentation says (docs/hooks.md)"
    plugin: str
    hook: str
    reason: str


class SubscriberError(PluginHookError):
    """An ``o2c_handle_event`` subscriber raised while an event was delivered.

    The change that caused the event is already committed and stays so; the outbox
    entry stays pending and is delivered again on the next dispatch.

    Attributes:
        plugin: The subscriber's plugin.
        hook: Always ``"o2c_handle_event"``.
        reason: The underlying error, as ``Type: message``.
        event: The event's type name, e.g. ``"OrderPlaced"``.
        aggregate_id: The event's aggregate.
        seq: The outbox position of the entry.
    """

    code = "plugin.subscriber_failed"
    summary = "an event subscriber raised"
    hint = (
        "Fix the subscriber; the entry stays pending and is redelivered on the next dispatch, "
        "so subscribers must be idempotent"
    )
    event: str
    aggregate_id: str
    seq: int


class InvalidHookArgumentError(DomainError):
    """A hook was called with a bad argument (caller's bug, not the plugin's).

    Attributes:
        hook: The hook.
        argument: The argument's name.
        reason: Why it was refused.
    """

    code = "plugin.invalid_argument"
    summary = "a hook was called with an invalid argument"
    hint = "Pass the argument described in the hook's documentation"
    hook: str
    argument: str
    reason: str


# --------------------------------------------------------------------------- storage


class StorageError(AdapterError):
    """Base for failures of a storage adapter (:class:`o2c.ports.Storage`)."""

    code = "storage.error"
    summary = "the storage failed"


class StorageUsageError(StorageError):
    """A storage was called wrongly (a bug in the caller); never retryable.

    Raised for bad arguments (an empty id, an index value that is not a string, a
    negative limit, an outbox ``seq`` that does not exist ...) and for misuse such as
    opening a second unit of work in a thread that already has one open.

    Attributes:
        operation: The storage method called, e.g. ``"put"``.
        reason: What is wrong with the call.
    """

    code = "storage.misuse"
    summary = "the storage was called wrongly"
    hint = "Fix the calling code; the storage and its data are unchanged"
    operation: str
    reason: str


class UnitOfWorkClosedError(StorageUsageError):
    """A unit of work was used after it committed or rolled back.

    Attributes:
        operation: The method called on the closed unit.
        state: ``"committed"`` or ``"rolled back"``.
    """

    code = "storage.unit_closed"
    summary = "the unit of work is closed"
    hint = "Open a new unit of work with Storage.begin() for further reads and writes"
    state: str


class IdempotencyKeyTakenError(ConflictError):
    """An idempotency record was stored under a key that already has one.

    Attributes:
        key: The idempotency key.
    """

    code = "storage.idempotency_key_taken"
    summary = "an answer is already stored under this idempotency key"
    hint = "Read the stored answer with get_idempotency and replay it instead of storing another"
    key: str


class InjectedFaultError(StorageError):
    """A failure injected on purpose by :class:`o2c.adapters.faults.FaultInjectingStorage`.

    It stands for a lost connection or a failed write, so it is retryable.

    Attributes:
        operation: The write call that failed (``"put"``, ``"commit"`` ...).
        position: Its 0-based position among the write calls counted since arming.
    """

    code = "storage.injected_fault"
    summary = "injected storage fault"
    hint = "This failure was injected by a test; retry the operation"
    operation: str
    position: int

    def __init__(self, message: str = "", /, *, retryable: bool = True, **fields: Any) -> None:
        super().__init__(message, retryable=retryable, **fields)


# ------------------------------------------------- reference adapters: inventory, carrier, gateway


class InventoryError(DomainError):
    """Base for stock and reservation problems raised by the reference inventory."""

    code = "inventory.error"
    summary = "invalid inventory operation"


class InvalidStockQuantityError(InventoryError):
    """A stock quantity is not a positive, finite, exact number (floats are refused).

    Attributes:
        sku: The stock-keeping unit ("" when not known yet).
        value: The refused value.
        reason: Why it was refused.
    """

    code = "inventory.invalid_quantity"
    summary = "invalid stock quantity"
    hint = "Pass a positive decimal.Decimal or int; floats, zero, NaN and infinity are refused"
    sku: str
    value: object
    reason: str


class InventoryFieldError(InventoryError):
    """A SKU, id, instant or request given to the inventory is malformed.

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "inventory.invalid_field"
    summary = "invalid inventory field"
    hint = "Fix the field named in the error and call again"
    field: str
    reason: str


class ReservationNotFoundError(NotFoundError):
    """No reservation has this id.

    Attributes:
        kind: Always ``"reservation"``.
        id: The unknown reservation id.
    """

    code = "inventory.reservation_not_found"
    summary = "no such reservation"
    hint = "Use the id of a reservation made with reserve()"


class ReservationConflictError(ConflictError):
    """A reservation id was reused with another order, line, SKU or quantity.

    Attributes:
        reservation_id: The reservation.
        field: The first field that differs from the recorded reservation.
    """

    code = "inventory.reservation_conflict"
    summary = "reservation id reused with a different request"
    hint = (
        "Re-reserve an id only with its original request (that tops up its backorder); "
        "release it and reserve under a new id to change it"
    )
    reservation_id: str
    field: str


class ReservationClosedError(ConflictError):
    """The reservation was released or expired; it can no longer be topped up or consumed.

    Attributes:
        reservation_id: The reservation.
        action: ``"reserve"`` or ``"consume"``.
    """

    code = "inventory.reservation_released"
    summary = "the reservation was released"
    hint = "Reserve again under a new reservation id"
    reservation_id: str
    action: str


class ReservationExceededError(InventoryError):
    """A consume asks for more units than the reservation holds.

    Attributes:
        reservation_id: The reservation.
        requested: The quantity asked for (as text).
        reserved: What the reservation holds now (as text).
    """

    code = "inventory.consume_exceeds_reserved"
    summary = "consuming more than the reservation holds"
    hint = "Consume at most the reserved quantity; top up the reservation first"
    reservation_id: str
    requested: str
    reserved: str


class InventoryRecordError(AdapterError):
    """A stored stock or reservation record is missing, of the wrong type or inconsistent.

    Attributes:
        kind: The record kind (``"stock"`` or ``"reservation"``).
        id: The record id.
        reason: What is wrong.
    """

    code = "inventory.corrupt_record"
    summary = "an inventory record in storage is corrupt"
    hint = "Inspect the named record; something other than the inventory wrote to it"
    kind: str
    id: str
    reason: str


class CarrierError(DomainError):
    """Base for problems raised by a reference carrier."""

    code = "carrier.error"
    summary = "invalid carrier operation"


class CarrierRequestError(CarrierError):
    """A shipment request, idempotency key or tracking query is malformed.

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "carrier.invalid_request"
    summary = "invalid carrier request"
    hint = "Give a ShipmentRequest with a shipment id, positive weight and parcel count"
    field: str
    reason: str


class CarrierRateError(CarrierError):
    """The rate given to buy_label is not one this carrier quotes for the request.

    Attributes:
        service: The rate's service.
        reason: Why it was refused (another carrier, unknown service, stale price...).
    """

    code = "carrier.invalid_rate"
    summary = "the rate is not a current quote of this carrier"
    hint = "Buy with a Rate returned by rates() for the same request"
    service: str
    reason: str


class CarrierConfigError(CarrierError):
    """A carrier's configuration (services, scenario, currency) is invalid.

    Attributes:
        field: The offending setting.
        reason: What is wrong with it.
    """

    code = "carrier.invalid_config"
    summary = "invalid carrier configuration"
    hint = "Fix the setting named in the error"
    field: str
    reason: str


class LabelIdempotencyConflictError(IdempotencyConflictError):
    """A label idempotency key was reused with another shipment request or rate.

    Attributes:
        key: The idempotency key.
        field: The first field that differs (``"request"`` or ``"rate"``).
    """

    code = "carrier.label_key_conflict"
    summary = "label idempotency key reused with a different request"


class LabelNotFoundError(NotFoundError):
    """The carrier has no label with this id.

    Attributes:
        kind: Always ``"label"``.
        id: The unknown label id.
    """

    code = "carrier.label_not_found"
    summary = "no such label"
    hint = "Use the label_id of a Label bought from this carrier"


class TrackingNumberNotFoundError(NotFoundError):
    """The carrier has no parcel with this tracking number.

    Attributes:
        kind: Always ``"tracking_number"``.
        id: The unknown tracking number.
    """

    code = "carrier.unknown_tracking_number"
    summary = "no such tracking number"
    hint = "Use the tracking_number of a Label bought from this carrier"


class LabelAlreadyUsedError(ConflictError):
    """The label cannot be voided: the carrier has already scanned the parcel.

    Attributes:
        label_id: The label.
        tracking_number: Its tracking number.
    """

    code = "carrier.label_in_use"
    summary = "the parcel was already handed over"
    hint = "A label in use cannot be voided; intercept or return the parcel instead"
    label_id: str
    tracking_number: str


class GatewayRequestError(DomainError):
    """A gateway request is malformed (no token for an authorization, no amount...).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "gateway.invalid_request"
    summary = "invalid gateway request"
    hint = "Fix the GatewayRequest field named in the error"
    field: str
    reason: str


class GatewayIdempotencyMismatchError(AdapterError, IdempotencyConflictError):
    """The gateway refused a key reused with another kind or payload (never retryable).

    It is an :class:`AdapterError` (the gateway refused the call) and an
    :class:`IdempotencyConflictError` (the caller reused a key), so either family
    catches it.

    Attributes:
        key: The idempotency key.
        field: The first field that differs from the first request under the key.
        retryable: Always False.
    """

    code = "gateway.idempotency_mismatch"
    summary = "gateway idempotency key reused with a different request"
    hint = "Replay only identical requests under a key; a new request needs a new key"


class GatewayKeyNotFoundError(NotFoundError):
    """The gateway never received a request under this idempotency key.

    Attributes:
        kind: Always ``"gateway_request"``.
        id: The unknown idempotency key.
    """

    code = "gateway.unknown_key"
    summary = "no gateway request under this key"
    hint = "Settle only keys whose request was answered Pending"


class GatewaySettleError(ConflictError):
    """A request cannot be settled: it was not pending, or was settled the other way.

    Attributes:
        key: The idempotency key.
        reason: Why it was refused.
    """

    code = "gateway.cannot_settle"
    summary = "the request cannot be settled"
    hint = "Settle a pending request once; settling it again the same way redelivers the event"
    key: str
    reason: str


class GatewayReferenceNotFoundError(NotFoundError):
    """The gateway has no authorization or charge with this reference.

    Attributes:
        kind: Always ``"gateway_reference"``.
        id: The unknown reference.
    """

    code = "gateway.unknown_reference"
    summary = "no such gateway reference"
    hint = "Use the gateway_reference of a succeeded authorization or sale"


# ------------------------------------------------------------ shipments and return authorisations


class ShipmentError(DomainError):
    """Base for shipment problems."""

    code = "shipment.error"
    summary = "invalid shipment operation"


class ShipmentFieldError(ShipmentError):
    """A shipment field, label or tracking event is malformed.

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "shipment.invalid_field"
    summary = "invalid shipment field"
    hint = "Fix the field named in the error and send the request again"
    field: str
    reason: str


class ShipmentLineError(ShipmentError):
    """A shipment line is invalid (quantity not above zero, a line id given twice...).

    Attributes:
        shipment_id: The shipment ("" when a line is built on its own).
        line_id: The line ("" when the line list itself is wrong).
        reason: What is wrong.
    """

    code = "shipment.bad_line"
    summary = "a shipment line is invalid"
    hint = "Give at least one line, each order line once, with a quantity above zero"
    shipment_id: str
    line_id: str
    reason: str


class TrackingNumberMismatchError(ShipmentError):
    """A carrier scan names another parcel than the shipment's (or it has no label).

    Attributes:
        shipment_id: The shipment.
        expected: Its tracking number (None while it has no label).
        received: The scan's tracking number.
    """

    code = "shipment.tracking_mismatch"
    summary = "the scan is for another tracking number"
    hint = "Route carrier scans by tracking number to the shipment that owns it"
    shipment_id: str
    expected: str | None
    received: str


class ReturnError(DomainError):
    """Base for return (RMA) problems."""

    code = "return.error"
    summary = "invalid return operation"


class ReturnFieldError(ReturnError):
    """A return field is malformed (blank id, over-long reason, bad restock flag...).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "return.invalid_field"
    summary = "invalid return field"
    hint = "Fix the field named in the error and send the request again"
    field: str
    reason: str


class ReturnNotAllowedError(ReturnError):
    """Goods of this order cannot be returned in its state.

    Attributes:
        order_id: The order.
        state: Its state.
    """

    code = "return.order_not_returnable"
    summary = "the order's goods cannot be returned in its state"
    hint = "Only confirmed or completed orders take returns"
    order_id: str
    state: str


class InvalidReturnQuantityError(ReturnError):
    """A return quantity is not a positive exact number, or none was given.

    Attributes:
        return_id: The return.
        line_id: The line ("" when the request itself is empty).
        value: The refused value.
        reason: Why it was refused.
    """

    code = "return.invalid_quantity"
    summary = "invalid return quantity"
    hint = "Give at least one line with a positive quantity (Decimal, int or plain string)"
    return_id: str
    line_id: str
    value: object
    reason: str


class ReturnQuantityExceededError(ReturnError):
    """More is asked back than the line allows: delivered - returned - already requested.

    Attributes:
        return_id: The return.
        order_id: The order.
        line_id: The order line.
        requested: The quantity asked for (as text).
        available: The most that can still be requested (as text).
        delivered: Delivered on the line (as text).
        returned: Already returned on the line (as text).
        already_requested: Held by other open returns of the order (as text).
    """

    code = "return.quantity_exceeded"
    summary = "the return quantity exceeds what can come back"
    hint = "Request at most the available quantity; close or cancel other open returns first"
    return_id: str
    order_id: str
    line_id: str
    requested: str
    available: str
    delivered: str
    returned: str
    already_requested: str


class ReturnLineNotFoundError(NotFoundError):
    """A receipt names a line the return does not have.

    Attributes:
        return_id: The return.
        kind: Always ``"return_line"``.
        id: The unknown line id.
    """

    code = "return.unknown_line"
    summary = "the return has no such line"
    hint = "Receive only lines of the return; open another return for other goods"
    return_id: str


class ReturnReceiptExceededError(ReturnError):
    """More units arrived for a line than are still awaited under the return.

    Attributes:
        return_id: The return.
        line_id: The line.
        requested: The quantity received (as text).
        outstanding: The quantity still awaited (as text).
    """

    code = "return.receipt_exceeded"
    summary = "more units received than the return authorises"
    hint = "Receive at most the outstanding quantity; open a new return for the surplus"
    return_id: str
    line_id: str
    requested: str
    outstanding: str


# --------------------------------------------------------------------------- engine


class ConfigurationError(O2CError):
    """The engine is configured inconsistently (a missing adapter or setting).

    Attributes:
        setting: Which setting.
        value: The value that does not fit.
    """

    code = "engine.configuration"
    summary = "the engine's configuration is inconsistent"
    hint = "Fix the O2C(...) arguments or EngineConfig"
    setting: str
    value: object


class UnknownAdapterError(ConfigurationError):
    """No adapter of that role and name is configured, or a name is needed.

    Attributes:
        role: ``"gateway"``, ``"carrier"``, ``"storage"`` ...
        name: The name asked for (None when none was given).
        available: The names configured.
    """

    code = "engine.unknown_adapter"
    summary = "no such adapter"
    hint = "Pass the adapter to O2C(...) or register it through a plugin, and name it"
    role: str
    name: str | None
    available: tuple[str, ...]

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        fields.setdefault("setting", fields.get("role", "adapter"))
        fields.setdefault("value", fields.get("name"))
        super().__init__(message, **fields)


class InvalidIdempotencyKeyError(DomainError):
    """An idempotency key is not 1-255 printable ASCII characters.

    Attributes:
        key: The key, shortened.
    """

    code = "engine.invalid_idempotency_key"
    summary = "not a valid idempotency key"
    hint = "Use 1-255 printable ASCII characters, e.g. a UUID made once per user action"
    key: str


class EngineStateError(DomainError):
    """The step cannot run in the current state of the records.

    Attributes:
        subject: The record concerned (e.g. ``"order SO-000001"``).
        reason: Why not.
    """

    code = "engine.not_now"
    summary = "this step cannot run now"
    hint = "Look at the record's state and do the missing step first"
    subject: str
    reason: str


class NothingToDoError(EngineStateError):
    """The step would move nothing (nothing to ship, invoice, refund ...)."""

    code = "engine.nothing_to_do"
    summary = "nothing to do"
    hint = "Check the quantities or amounts asked for"


class StockNotReservedError(EngineStateError):
    """A shipment asks for more than the order's reservations hold.

    Attributes:
        line_id: The order line.
        requested: Units asked to ship.
        reserved: Units reserved for the line.
    """

    code = "engine.stock_not_reserved"
    summary = "not enough reserved stock to ship"
    hint = "Receive stock and allocate backorders, or ship less"
    line_id: str
    requested: str
    reserved: str


class NoCarrierRateError(EngineStateError):
    """The carrier offered no rate (for the service asked for)."""

    code = "engine.no_carrier_rate"
    summary = "the carrier offered no rate"
    hint = "Pick another service or carrier"


class CustomerMismatchError(NotFoundError):
    """A customer asked about a record that is not theirs (self-service).

    Reported as not found to the customer, so it leaks nothing.

    Attributes:
        kind: The kind of record.
        id: Its id.
    """

    code = "engine.not_yours"
    summary = "no such record for this customer"
    hint = "Check the id"
    kind: str
    id: str


# --- issue 4: gateway faults, unknown outcomes and the payment reconciler ---


class StorageBusyError(StorageError):
    """A record is locked by another unit of work (a row lock, a busy SQLite database).

    Nothing was written; trying again later may succeed. The payment reconciler
    reschedules a payment it cannot lock instead of dropping it.

    Attributes:
        operation: The storage call refused (``"get"``, ``"put"`` ...).
        kind: The kind of record.
        record_id: The locked record.
        retryable: Always True.
    """

    code = "storage.busy"
    summary = "the record is locked by another unit of work"
    hint = "Retry later; nothing was written"
    operation: str
    kind: str
    record_id: str

    def __init__(self, message: str = "", /, *, retryable: bool = True, **fields: Any) -> None:
        super().__init__(message, retryable=retryable, **fields)


class GatewayUnavailableError(AdapterError):
    """A payment gateway failed before it answered (connection refused or reset).

    Whether the request executed is not known: the engine records the transaction
    as *unknown* and the reconciler asks the gateway later, under the same key.

    Attributes:
        operation: ``authorize``, ``sale``, ``capture``, ``void``, ``refund`` or ``status``.
        retryable: True unless the adapter says otherwise.
    """

    code = "gateway.unavailable"
    summary = "the payment gateway did not answer"
    hint = "Do not charge again under a new key; let the reconciler ask the gateway"
    operation: str

    def __init__(self, message: str = "", /, *, retryable: bool = True, **fields: Any) -> None:
        super().__init__(message, retryable=retryable, **fields)


class GatewayTimeoutError(GatewayUnavailableError):
    """A payment gateway did not answer within its timeout; the request may have executed.

    Attributes:
        operation: The gateway call that timed out.
        timeout_seconds: The timeout that passed.
    """

    code = "gateway.timeout"
    summary = "the payment gateway did not answer in time"
    timeout_seconds: float


class GatewayFaultPlanError(DomainError):
    """A fault was injected into the fake gateway in a way it cannot honour.

    Attributes:
        field: The argument of ``FakeGateway.inject`` at fault.
        reason: What is wrong with it.
    """

    code = "gateway.bad_fault_plan"
    summary = "invalid gateway fault plan"
    hint = "See o2c.adapters.faulty_gateway.Fault for which faults each call can have"
    field: str
    reason: str


class PaymentNeedsAttentionError(EngineStateError):
    """The payment is flagged for a person; nobody asks the gateway about it automatically.

    Attributes:
        subject: ``"payment <id>"``.
        reason: Why it was flagged (an ``AttentionReason`` value) and what about.
        payment_id: The payment.
        transaction_id: The transaction the flag is about.
    """

    code = "payment.needs_attention"
    summary = "the payment is flagged for a person"
    hint = (
        "Check the transaction with the gateway, then record what it shows with "
        "O2C.resolve_payment_flag"
    )
    payment_id: str
    transaction_id: str


# --- issue 4: inbound webhooks ---


class WebhookError(DomainError):
    """An inbound webhook was refused; nothing it carries was applied or stored."""

    code = "webhook.error"
    summary = "the webhook was refused"
    hint = "Answer the sender with a 4xx status; nothing was applied"


class WebhookSignatureError(WebhookError):
    """The webhook's signature could not be verified (its origin is not proven)."""

    code = "webhook.signature"
    summary = "the webhook signature could not be verified"
    hint = "Answer 400; check the endpoint's signing secret if genuine deliveries fail"


class MalformedSignatureHeaderError(WebhookSignatureError):
    """The signature header is not ``t=<unix>,v1=<hex>[,...]``.

    Attributes:
        reason: What is wrong with it.
    """

    code = "webhook.signature.malformed_header"
    summary = "the signature header is malformed"
    hint = "Pass the signature header exactly as received (e.g. Stripe-Signature)"
    reason: str


class MissingTimestampError(WebhookSignatureError):
    """The signature header has no ``t=`` timestamp, so a replay cannot be ruled out."""

    code = "webhook.signature.missing_timestamp"
    summary = "the signature header has no timestamp"
    hint = "Pass the whole signature header as received"


class NoV1SignatureError(WebhookSignatureError):
    """The signature header has no ``v1`` (HMAC-SHA256) signature.

    Attributes:
        schemes: The signature schemes the header does carry (e.g. ``("v0",)``).
    """

    code = "webhook.signature.no_v1"
    summary = "the signature header has no v1 signature"
    hint = "Only v1 (HMAC-SHA256) signatures are accepted; v0 is not"
    schemes: tuple[str, ...]


class TimestampOutsideToleranceError(WebhookSignatureError):
    """The signed timestamp is too old (a replay?) or too far in the future.

    Attributes:
        direction: ``"past"`` (too old) or ``"future"``.
        age_seconds: How old the timestamp is by our clock (negative: in the future).
        tolerance_seconds: The tolerance in either direction.
    """

    code = "webhook.signature.timestamp"
    summary = "the signature's timestamp is outside the tolerance"
    hint = "Check this host's clock (NTP); a genuine sender retries with a fresh timestamp"
    direction: str
    age_seconds: int
    tolerance_seconds: int


class SignatureMismatchError(WebhookSignatureError):
    """No ``v1`` signature matches the body under any configured secret.

    Attributes:
        signatures: How many v1 signatures the header carried.
        secrets: How many secrets were tried.
    """

    code = "webhook.signature.mismatch"
    summary = "no signature matches the body"
    hint = (
        "Verify the raw request body, byte for byte (not re-serialised JSON), with the "
        "endpoint's current signing secret"
    )
    signatures: int
    secrets: int


class WebhookSecretError(WebhookSignatureError, ConfigurationError):
    """No usable signing secret is configured for the gateway.

    Attributes:
        gateway: The gateway the webhook was received for.
        reason: What is wrong (none configured, empty, surrounding whitespace ...).
    """

    code = "webhook.secret"
    summary = "no usable webhook signing secret"
    hint = "Set EngineConfig.webhook_secrets[gateway] to the endpoint's signing secret(s)"
    gateway: str
    reason: str


class WebhookTooLargeError(WebhookSignatureError):
    """The body is larger than the configured limit; it was not read.

    Attributes:
        size: The body's size in bytes.
        limit: The limit (``EngineConfig.webhook_max_body_bytes``).
    """

    code = "webhook.too_large"
    summary = "the webhook body is too large"
    hint = "Raise EngineConfig.webhook_max_body_bytes if genuine events are this large"
    size: int
    limit: int


class WebhookPayloadError(WebhookError):
    """A verified webhook body is not an event o2c can read (bad JSON, a wrong shape).

    Attributes:
        path: Where: a dotted path such as ``"data.object.amount"``, or ``"(body)"``.
        reason: What is wrong there.
    """

    code = "webhook.payload"
    summary = "the webhook body is not a readable event"
    hint = "Nothing was applied; the event must be fixed at its source"
    path: str
    reason: str


# --- issue 4: payment methods (store credit, bank transfer, split tender, refunds, COD) ---


class TenderError(DomainError):
    """Base for problems with an order's tenders (the ways it is paid)."""

    code = "tender.error"
    summary = "invalid tender operation"


class TenderFieldError(TenderError):
    """A tender argument is malformed (an amount in another currency, a bad reference...).

    Attributes:
        field: Name of the offending argument.
        reason: What is wrong with it.
    """

    code = "tender.invalid_field"
    summary = "invalid tender field"
    hint = "Fix the argument named in the error and send the request again"
    field: str
    reason: str


class TenderMethodError(TenderError):
    """The call cannot take this payment method.

    Attributes:
        method: The method given.
        reason: Why it is refused, and which call takes it.
    """

    code = "tender.wrong_method"
    summary = "this call does not take that payment method"
    hint = (
        "Gateway payments are card, wallet, direct_debit or other; use pay_with_store_credit, "
        "expect_bank_transfer or ship(cod_amount=...) for the other methods"
    )
    method: str
    reason: str


class TenderExceedsOrderTotalError(TenderError):
    """The order's live tenders together would exceed what the order can collect.

    Attributes:
        order_id: The order.
        requested: The new tender's amount.
        available: What the order's other live tenders leave.
        excess: ``requested - available``.
        total: The order total.
    """

    code = "tender.exceeds_order_total"
    summary = "the tenders would exceed the order total"
    hint = "Tender at most the available amount, or void or refund another tender first"
    order_id: str
    requested: object
    available: object
    excess: object
    total: object


class RefundExceedsRefundableError(TenderError):
    """A refund asks for more than the order's tenders can give back.

    Attributes:
        order_id: The order.
        requested: The amount asked for.
        refundable: What the tenders can still give back.
        excess: ``requested - refundable``.
    """

    code = "tender.refund_exceeds_refundable"
    summary = "the refund exceeds what the order's tenders took and still hold"
    hint = (
        "Refund at most the refundable amount; an uncaptured authorization holds no money: "
        "void it instead"
    )
    order_id: str
    requested: object
    refundable: object
    excess: object


class UnknownTransferReferenceError(TenderError):
    """A bank receipt quotes no reference of an expected bank transfer.

    Attributes:
        receipt_id: The receipt.
        reference: The text searched (shortened).
    """

    code = "tender.unknown_transfer_reference"
    summary = "no expected bank transfer has that reference"
    hint = "Pass the reference the customer meant, or apply the cash by hand (apply_cash)"
    receipt_id: str
    reference: str


class ReceiptAlreadyLinkedError(ConflictError):
    """The receipt already pays another tender.

    Attributes:
        receipt_id: The receipt.
        tender_id: The tender it pays.
        requested: The tender asked for.
    """

    code = "tender.receipt_already_linked"
    summary = "the receipt already pays another tender"
    hint = "A receipt pays one tender; refund it with refund_unapplied if it was matched wrongly"
    receipt_id: str
    tender_id: str
    requested: str


class StoreCreditError(DomainError):
    """Base for store-credit problems."""

    code = "store_credit.error"
    summary = "invalid store-credit operation"


class StoreCreditFieldError(StoreCreditError):
    """A store-credit field is malformed (empty id, bad reason, an entry of another currency).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "store_credit.invalid_field"
    summary = "invalid store-credit field"
    hint = "Fix the field named in the error and send the request again"
    field: str
    reason: str


class InsufficientStoreCreditError(StoreCreditError):
    """A redemption or reversal asks for more than the customer's store-credit balance.

    Attributes:
        customer_id: The customer.
        currency: The account's currency.
        requested: The amount asked for.
        balance: The balance now.
    """

    code = "store_credit.insufficient"
    summary = "not enough store credit"
    hint = "Use at most the balance named in the error and pay the rest another way"
    customer_id: str
    currency: str
    requested: object
    balance: object


class RemittanceError(DomainError):
    """Base for cash-on-delivery remittance problems."""

    code = "remittance.error"
    summary = "invalid carrier remittance"


class RemittanceFieldError(RemittanceError):
    """A remittance is malformed (no items, a bad amount, several currencies, fee too high).

    Attributes:
        field: Name of the offending field.
        reason: What is wrong with it.
    """

    code = "remittance.invalid_field"
    summary = "invalid remittance field"
    hint = "Nothing was booked; fix the remittance named in the error and record it again"
    field: str
    reason: str


class RemittanceAlreadyRecordedError(ConflictError):
    """The carrier's remittance with this id was recorded before (under another key).

    Attributes:
        carrier: The carrier.
        remittance_id: The remittance id.
    """

    code = "remittance.already_recorded"
    summary = "this remittance was recorded already"
    hint = "Nothing was booked twice; read it with cod_remittance() instead"
    carrier: str
    remittance_id: str


# --- issue 4: carriers and fulfilment providers ---


class RateChoiceError(ConfigurationError):
    """A rate could not be chosen: an unknown rule, or a host rule (callable or
    ``o2c_choose_rate`` plugin) that answered something other than one of the quotes.

    Attributes:
        rule: The rule (``"cheapest"``, ``"host"``, ``"plugin:<name>"`` ...).
        reason: What went wrong.
    """

    code = "shipping.rate_choice"
    summary = "no rate could be chosen"
    hint = "Set EngineConfig.rate_rule to 'cheapest', 'fastest' or a callable returning one quote"
    rule: str
    reason: str

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        fields.setdefault("setting", "rate_rule")
        fields.setdefault("value", fields.get("rule"))
        super().__init__(message, **fields)


class RateCurrencyMismatchError(RateChoiceError):
    """``cheapest`` cannot compare prices in several currencies.

    Attributes:
        currencies: The currencies quoted.
    """

    code = "shipping.rate_currencies"
    summary = "carriers quoted in several currencies"
    hint = "Shop among carriers of one currency, or give a host rule that converts"
    currencies: tuple[str, ...]

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        fields.setdefault("rule", "cheapest")
        fields.setdefault("reason", f"prices in {', '.join(fields.get('currencies', ()))}")
        super().__init__(message, **fields)


class NoCarrierQuotedError(NoCarrierRateError):
    """No carrier asked offered a usable rate: every one failed or had no such service.

    Attributes:
        subject: The shipment.
        reason: Which service was wanted and from whom.
        failures: ``"carrier: error"`` for each carrier that failed to quote.
    """

    code = "shipping.no_quote"
    summary = "no carrier quoted"
    hint = "Look at the failures; pick another service or carrier, or retry later"
    failures: tuple[str, ...]


class ShipmentAlreadyLeftError(ShipmentError):
    """The shipment has left (or is final), so its label cannot be voided nor the
    shipment cancelled.

    Attributes:
        shipment_id: The shipment.
        state: Its state.
        action: What was refused (``"cancel"``, ``"void_label"``, ``"relabel"`` ...).
    """

    code = "shipment.already_left"
    summary = "the shipment has already left"
    hint = (
        "A parcel in transit cannot be cancelled: intercept it with the carrier, "
        "or take it back as a return"
    )
    shipment_id: str
    state: str
    action: str


class FulfilmentError(DomainError):
    """Base for problems with fulfilment providers (3PL) and their reports."""

    code = "fulfilment.error"
    summary = "invalid fulfilment operation"


class FulfilmentReportError(FulfilmentError):
    """A 3PL's report cannot be applied: it names an unknown line, ships more than
    was sent, or is malformed. Nothing of the report was recorded.

    Attributes:
        fulfilment_id: o2c's fulfilment order.
        report_id: The provider's report.
        parcel_id: The offending parcel ("" when the report itself is wrong).
        reason: What is wrong.
    """

    code = "fulfilment.bad_report"
    summary = "the fulfilment report cannot be applied"
    hint = "Ask the provider to correct the report; nothing of it was recorded"
    fulfilment_id: str
    report_id: str
    parcel_id: str
    reason: str


class FulfilmentRequestError(FulfilmentError):
    """A request to (or the configuration of) a fulfilment provider is malformed.

    Attributes:
        field: The offending field.
        reason: What is wrong with it.
    """

    code = "fulfilment.bad_request"
    summary = "invalid fulfilment request"
    hint = "Fix the field named in the error"
    field: str
    reason: str


class FulfilmentRequestNotFoundError(NotFoundError):
    """The provider has no request with this id.

    Attributes:
        kind: Always ``"fulfilment_request"``.
        id: The unknown id.
    """

    code = "fulfilment.unknown_request"
    summary = "no such fulfilment request"
    hint = "Use the request_id of a request submitted to this provider"


class CarrierUnavailableError(AdapterError):
    """A carrier could not be reached or answered with a failure (an outage).

    Attributes:
        carrier: The carrier.
        retryable: True: the same call may succeed later.
    """

    code = "carrier.unavailable"
    summary = "the carrier is unavailable"
    hint = "Retry later, or shop among the other carriers"
    carrier: str


# --- issue 5: statements ---


class StatementError(DomainError):
    """A bank statement file cannot be read; nothing of it was returned or applied."""

    code = "statement.error"
    summary = "the bank statement cannot be read"
    hint = "Nothing of the file was imported; fix or re-export it at the bank and import it again"


class StatementFormatError(StatementError):
    """A statement file is malformed, hostile or not of the expected format.

    Every reader (camt, MT940, CSV) raises this or a subclass, always with a position.

    Args:
        message: What is wrong, in one sentence (defaults to ``reason``).
        format: The format being read: ``"camt"``, ``"camt.053.001.08"``, ``"mt940"``,
            ``"csv"``...
        position: Where, for people: ``"line 12, column 5"``, ``"byte 1234"``, or an
            element path such as ``"Stmt[1]/Ntry[3]/Amt (line 40)"``. Never empty.
        reason: Why it was refused.
        **fields: Further facts (each becomes an attribute).

    Attributes:
        format: The format being read.
        position: Where the problem is.
        reason: Why it was refused.
    """

    code = "statement.format"
    summary = "the statement file is malformed"
    format: str
    position: str
    reason: str

    def __init__(
        self,
        message: str = "",
        /,
        *,
        format: str,
        position: str,
        reason: str,
        **fields: Any,
    ) -> None:
        super().__init__(
            message or reason,
            format=format,
            position=position or "(start)",
            reason=reason,
            **fields,
        )


class StatementTooLargeError(StatementFormatError):
    """The file is larger than the reader's limit; it was not parsed.

    Attributes:
        size: The file's size in bytes.
        limit: The limit (the reader's ``max_bytes``).
    """

    code = "statement.too_large"
    summary = "the statement file is too large"
    hint = "Split the file at the bank, or pass a larger max_bytes if it is genuine"
    size: int
    limit: int


class StatementEncodingError(StatementFormatError):
    """The file's bytes are not valid in its encoding (e.g. invalid UTF-8)."""

    code = "statement.encoding"
    summary = "the statement file is not validly encoded"
    hint = "Re-export the file from the bank; nothing of it was imported"


class UnsafeStatementError(StatementFormatError):
    """The file uses a feature refused for safety: a DTD, an entity, an external
    reference or an XInclude (billion laughs, XXE). It was not read further.

    Attributes:
        feature: What was refused (``"DTD"``, ``"entity"``, ``"external reference"``...).
    """

    code = "statement.unsafe"
    summary = "the statement file uses a forbidden XML feature"
    hint = "Bank statements never need DTDs or entities; treat the file as hostile"
    feature: str


class UnsupportedStatementError(StatementFormatError):
    """The file is well formed but is not a statement this reader supports (another
    root element, namespace, message or version)."""

    code = "statement.unsupported"
    summary = "the file is not a supported statement"
    hint = "Check the file type; the reader's documentation lists what it supports"


class StatementValueError(StatementFormatError):
    """A field of the statement is missing or holds an invalid value (an amount, a
    date, a currency, an indicator).

    Attributes:
        field: The element or field name (``"Amt"``, ``"BookgDt"``...).
        value: The offending text (cut for display; ``""`` when missing).
    """

    code = "statement.bad_value"
    summary = "a statement field is missing or invalid"
    field: str
    value: str


class StatementBalanceError(StatementFormatError):
    """The statement's stated balances do not agree with its entries: opening balance
    plus the booked entries is not the closing balance (a truncated, partial or
    tampered file). Nothing of it was returned.

    Attributes:
        statement_id: The statement.
        opening: The opening balance (:class:`o2c.money.Money`).
        movements: The sum of the booked entries (Money).
        closing: The stated closing balance (Money).
    """

    code = "statement.unbalanced"
    summary = "the statement's balances do not reconcile with its entries"
    hint = (
        "Ask the bank for the complete statement; pass check_balances=False only to "
        "inspect the file, never to import it"
    )
    statement_id: str
    opening: object
    movements: object
    closing: object


# --- issue 5: MT940 and CSV statements, statement import ---


class StatementStructureError(StatementFormatError):
    """A statement file's parts are missing, repeated or out of order (an MT940 tag
    where it may not be, a mandatory tag missing, text outside any statement, a CSV
    row of the wrong width).

    Attributes:
        tag: The tag or part concerned (``":62F:"``, ``"row"``...).
    """

    code = "statement.structure"
    summary = "the statement file's structure is broken"
    tag: str


class DuplicateStatementLineError(StatementFormatError):
    """Two entries of one file carry the same line id for one account, so they could
    not be told apart when the file is imported.

    Attributes:
        line_id: The repeated id.
    """

    code = "statement.duplicate_line"
    summary = "two statement lines have the same id"
    hint = "Each line id must be unique per account; check the file or the column mapping"
    line_id: str


class CsvMappingError(ConfigurationError):
    """A CSV column mapping cannot work (a column named twice, no amount column, an
    unknown date format...). Nothing was read.

    Attributes:
        field: The mapping's attribute at fault.
        reason: What is wrong with it.
    """

    code = "statement.csv_mapping"
    summary = "the CSV column mapping is not usable"
    hint = "Fix the CsvMapping named in the error"
    field: str
    reason: str


class StatementLineConflictError(ConflictError):
    """A statement names bank lines already imported with another amount or booking
    date. Nothing of the statement was stored.

    Attributes:
        account: The account.
        conflicts: One text per conflicting line: its id, the field, the stored and
            the new value.
    """

    code = "statement.line_conflict"
    summary = "statement lines contradict lines already imported"
    hint = (
        "The bank sent the same line id with other facts: ask the bank which is right; "
        "nothing of this statement was imported"
    )
    account: str
    conflicts: tuple[str, ...]


class BankLineAlreadyReceivedError(ConflictError):
    """The bank line was made a receipt already (each line is received once).

    Attributes:
        bank_line_id: The line.
        receipt_id: The receipt it became.
    """

    code = "bank_line.already_received"
    summary = "the bank line was received already"
    hint = "Apply the existing receipt with apply_cash"
    bank_line_id: str
    receipt_id: str


# --- issue 5: cash-application matching ---


class MatchingError(DomainError):
    """Base for problems with the input of cash application (o2c.matching)."""

    code = "matching.error"
    summary = "cash application cannot run on this input"


class OpenItemError(MatchingError):
    """An open item cannot be matched against: its amount or currency is unusable.

    Attributes:
        invoice_number: The item.
        field: The offending field.
        reason: What is wrong with it.
    """

    code = "matching.bad_open_item"
    summary = "an open item is not usable"
    hint = "Fix the open item named in the error; nothing was matched"
    invoice_number: str
    field: str
    reason: str


class DuplicateOpenItemError(MatchingError):
    """Two open items carry the same invoice number, so a reference could name either.

    Attributes:
        invoice_number: The number given twice.
    """

    code = "matching.duplicate_open_item"
    summary = "an invoice number is listed twice among the open items"
    hint = "List each invoice once, with its whole open amount; nothing was matched"
    invoice_number: str


class MatchFileError(MatchingError):
    """A cash-application CSV file (open items, payer memory, group map) is malformed.

    Attributes:
        file: Which file (``"OPEN_ITEMS.csv"``, ``"memory"``, ``"groups"``).
        row: The 1-based line of the file (1 is the header); 0 for the file itself.
        column: The column ("" when the whole row or file is wrong).
        reason: What is wrong.
    """

    code = "matching.bad_file"
    summary = "the cash-application file is malformed"
    hint = "Fix the cell named in the error; nothing was matched or written"
    file: str
    row: int
    column: str
    reason: str


class MatchPolicyError(ConfigurationError):
    """A cash-application policy setting is out of range or inconsistent.

    Attributes:
        setting: The setting.
        value: The value given.
        reason: What is wrong.
    """

    code = "matching.bad_policy"
    summary = "the match policy is not valid"
    hint = "Fix the MatchPolicy setting named in the error"
    reason: str
