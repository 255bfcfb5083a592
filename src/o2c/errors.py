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
