"""Domain events: frozen, past-tense facts that a domain operation caused.

Domain operations return ``(new_state, events)``; nothing is drained from a mutable
list later. The engine writes the events to an outbox in the same unit of work and
delivers them after commit. Every event names its aggregate and when it happened.

Each domain module's events live in its own section below.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import attrs

from o2c.money import Money

__all__ = ["DomainEvent"]


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every event.

    Attributes:
        aggregate_id: Id of the aggregate that changed.
        occurred_at: When, timezone-aware (from the injected clock).
    """

    aggregate: ClassVar[str] = ""
    aggregate_id: str
    occurred_at: datetime

    @property
    def name(self) -> str:
        """The event's type name, e.g. ``"OrderPlaced"``."""
        return type(self).__name__


# --------------------------------------------------------------------------- orders & customers


@attrs.frozen(kw_only=True)
class LineQuantity:
    """A quantity of one order line moved by an operation, with its net value.

    Attributes:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: How many units the operation moved.
        net_value: The line's net amount allocated to ``quantity`` (largest remainder
            over the ordered quantity, excluding tax).
    """

    line_id: str
    sku: str
    quantity: Decimal
    net_value: Money


@attrs.frozen(kw_only=True)
class CustomerBlocked(DomainEvent):
    """A customer was blocked: new orders for it fail validation."""

    aggregate: ClassVar[str] = "customer"
    reason: str


@attrs.frozen(kw_only=True)
class CustomerUnblocked(DomainEvent):
    """A customer's block was lifted."""

    aggregate: ClassVar[str] = "customer"


@attrs.frozen(kw_only=True)
class OrderCreated(DomainEvent):
    """An order was captured as a draft.

    Attributes:
        customer_id: The customer.
        total: The order's gross total.
        warnings: Codes of the non-blocking validation issues found at capture.
    """

    aggregate: ClassVar[str] = "order"
    customer_id: str
    total: Money
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class OrderDiscountApplied(DomainEvent):
    """A document-level discount was spread over a draft order's lines."""

    aggregate: ClassVar[str] = "order"
    discount: Money
    total: Money


@attrs.frozen(kw_only=True)
class OrderPlaced(DomainEvent):
    """The customer committed to the order; credit policy decides next."""

    aggregate: ClassVar[str] = "order"
    customer_id: str
    net: Money
    tax: Money
    total: Money


@attrs.frozen(kw_only=True)
class OrderApproved(DomainEvent):
    """The order passed its checks and is confirmed."""

    aggregate: ClassVar[str] = "order"
    customer_id: str
    total: Money


@attrs.frozen(kw_only=True)
class OrderHeld(DomainEvent):
    """The order was put on hold (kind is credit, manual, fraud, dunning or payment)."""

    aggregate: ClassVar[str] = "order"
    kind: str
    reason: str
    placed_by: str


@attrs.frozen(kw_only=True)
class OrderReleased(DomainEvent):
    """The order's holds were released; it is placed again so credit is re-checked."""

    aggregate: ClassVar[str] = "order"
    kinds: tuple[str, ...]
    released_by: str


@attrs.frozen(kw_only=True)
class OrderOverridden(DomainEvent):
    """A person confirmed a held order despite its holds (audited)."""

    aggregate: ClassVar[str] = "order"
    by: str
    reason: str
    reference: str
    kinds: tuple[str, ...]
    total: Money


@attrs.frozen(kw_only=True)
class OrderRejected(DomainEvent):
    """The order was refused (e.g. a credit decision)."""

    aggregate: ClassVar[str] = "order"
    reason: str
    total: Money


@attrs.frozen(kw_only=True)
class OrderCancelled(DomainEvent):
    """The whole order was cancelled before anything was shipped or invoiced."""

    aggregate: ClassVar[str] = "order"
    reason: str
    total: Money


@attrs.frozen(kw_only=True)
class OrderExpired(DomainEvent):
    """The order reached its expiry without being confirmed."""

    aggregate: ClassVar[str] = "order"
    expires_at: datetime
    total: Money


@attrs.frozen(kw_only=True)
class OrderCompleted(DomainEvent):
    """Every line is fully shipped and invoiced (net of cancelled quantities)."""

    aggregate: ClassVar[str] = "order"
    total: Money


@attrs.frozen(kw_only=True)
class OrderLinesEvent(DomainEvent):
    """Base of the events that move line quantities of an order."""

    aggregate: ClassVar[str] = "order"
    lines: tuple[LineQuantity, ...]


@attrs.frozen(kw_only=True)
class OrderLinesShipped(OrderLinesEvent):
    """Quantities left the warehouse."""


@attrs.frozen(kw_only=True)
class OrderLinesDelivered(OrderLinesEvent):
    """Shipped quantities reached the customer."""


@attrs.frozen(kw_only=True)
class OrderLinesInvoiced(OrderLinesEvent):
    """Quantities were invoiced."""


@attrs.frozen(kw_only=True)
class OrderLinesReturned(OrderLinesEvent):
    """Delivered quantities came back."""


@attrs.frozen(kw_only=True)
class OrderLinesCancelled(OrderLinesEvent):
    """Open (unshipped, uninvoiced) quantities of a confirmed order were cancelled."""

    reason: str


# --------------------------------------------------------------------------- credit


@attrs.frozen(kw_only=True)
class CreditChecked(DomainEvent):
    """A credit policy decided on an order (approve, hold or reject), with its reasons.

    Attributes:
        customer_id: The customer whose credit was checked.
        outcome: ``"approve"``, ``"hold"`` or ``"reject"``.
        deciding_rule: Name of the rule that decided (None when no rule had an opinion).
        reasons: Reason codes of every rule that held or rejected, in policy order.
        order_amount: The amount checked.
        exposure_total: The customer's exposure before this order.
        limit: The customer's own limit (None when none is configured).
        headroom: ``limit - exposure - order`` (None without a limit; may be negative).
        policy_name: The policy that decided.
        policy_version: Its version, so a decision can be traced to the rules in force.
    """

    aggregate: ClassVar[str] = "order"
    customer_id: str
    outcome: str
    deciding_rule: str | None
    reasons: tuple[str, ...]
    order_amount: Money
    exposure_total: Money
    limit: Money | None
    headroom: Money | None
    policy_name: str
    policy_version: str


@attrs.frozen(kw_only=True)
class CreditOverridden(DomainEvent):
    """An authorised person approved an order the credit policy held or rejected.

    ``occurred_at`` is when the override was given.

    Attributes:
        customer_id: The customer of the order.
        by: Who overrode (a user id).
        authority: The role they acted under, e.g. ``"credit_controller"``.
        reason: Why, in their words.
        policy_outcome: What the policy had decided (``"hold"`` or ``"reject"``).
        deciding_rule: The rule that had decided.
        order_amount: The amount approved.
        max_amount: The override's ceiling, if it carried one.
        allow_blocked: Whether the override lifted a blocked customer's rejection.
    """

    aggregate: ClassVar[str] = "order"
    customer_id: str
    by: str
    authority: str
    reason: str
    policy_outcome: str
    deciding_rule: str | None
    order_amount: Money
    max_amount: Money | None
    allow_blocked: bool


# --------------------------------------------------------------------------- terms & invoices


@attrs.frozen(kw_only=True)
class InvoiceIssued(DomainEvent):
    """An invoice took its number and its due schedule.

    Attributes:
        number: The number the storage handed out.
        series: The numbering series.
        customer_id: Who is billed.
        total: The invoice total, tax included.
        issue_date: The invoice date the terms count from.
        due_date: The last instalment's due date.
    """

    aggregate: ClassVar[str] = "invoice"
    number: str
    series: str
    customer_id: str
    total: Money
    issue_date: date
    due_date: date


@attrs.frozen(kw_only=True)
class InvoicePaymentApplied(DomainEvent):
    """Cash under a payment reference was applied to an invoice."""

    aggregate: ClassVar[str] = "invoice"
    payment_ref: str
    amount: Money
    open_amount: Money


@attrs.frozen(kw_only=True)
class InvoicePaymentUnapplied(DomainEvent):
    """Applied cash was taken back off an invoice (bounced transfer, over-credit...)."""

    aggregate: ClassVar[str] = "invoice"
    payment_ref: str
    amount: Money
    open_amount: Money
    reason: str


@attrs.frozen(kw_only=True)
class InvoiceDiscountTaken(DomainEvent):
    """An early-payment discount was granted on an invoice."""

    aggregate: ClassVar[str] = "invoice"
    amount: Money
    percent: Decimal
    payment_date: date
    open_amount: Money


@attrs.frozen(kw_only=True)
class InvoiceCredited(DomainEvent):
    """A credit note reduced an invoice.

    Attributes:
        released: Cash that had to be unapplied because the note exceeded the open
            amount; it is now unapplied customer credit.
    """

    aggregate: ClassVar[str] = "invoice"
    credit_note_id: str
    credit_note_number: str
    amount: Money
    released: Money
    open_amount: Money


@attrs.frozen(kw_only=True)
class InvoiceWrittenOff(DomainEvent):
    """Part or all of an invoice's open amount was written off."""

    aggregate: ClassVar[str] = "invoice"
    amount: Money
    reason: str
    open_amount: Money


@attrs.frozen(kw_only=True)
class InvoiceVoided(DomainEvent):
    """An invoice was voided: a draft discarded, or an issued one cancelled (keeps its number)."""

    aggregate: ClassVar[str] = "invoice"
    number: str | None


@attrs.frozen(kw_only=True)
class InvoiceStateChanged(DomainEvent):
    """An invoice moved through INVOICE_WORKFLOW.

    Attributes:
        previous: The state before.
        current: The state after.
        trigger: The workflow event that moved it (e.g. ``"settle"``).
    """

    aggregate: ClassVar[str] = "invoice"
    previous: str
    current: str
    trigger: str


# --------------------------------------------------------------------------- payments & cash


@attrs.frozen(kw_only=True)
class PaymentCreated(DomainEvent):
    """A payment through one method was opened for an order or a customer.

    Attributes:
        order_id: The order paid, if any.
        customer_id: The paying customer, if known.
        method: The payment method (a ``PaymentMethod`` value).
        amount: The amount the payment is meant to collect.
    """

    aggregate: ClassVar[str] = "payment"
    order_id: str | None
    customer_id: str | None
    method: str
    amount: Money


@attrs.frozen(kw_only=True)
class PaymentTransactionEvent(DomainEvent):
    """Base of the events about one gateway transaction of a payment.

    Attributes:
        transaction_id: The transaction.
        kind: Its kind (a ``TransactionKind`` value: authorize, capture, sale, void, refund).
        amount: Its amount.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    kind: str
    amount: Money


@attrs.frozen(kw_only=True)
class PaymentRequested(PaymentTransactionEvent):
    """A gateway transaction was requested under an idempotency key (not yet answered).

    Attributes:
        idempotency_key: The key every call and re-ask for it must carry.
    """

    idempotency_key: str


@attrs.frozen(kw_only=True)
class PaymentTransactionSucceeded(PaymentTransactionEvent):
    """The gateway confirmed a transaction.

    Attributes:
        gateway_reference: The gateway's reference for it, if it gave one.
    """

    gateway_reference: str | None


@attrs.frozen(kw_only=True)
class PaymentTransactionFailed(PaymentTransactionEvent):
    """The gateway definitively refused a transaction.

    Attributes:
        reason: The normalised decline reason (a ``DeclineReason`` value).
    """

    reason: str


@attrs.frozen(kw_only=True)
class PaymentTransactionPending(PaymentTransactionEvent):
    """The gateway accepted a transaction but will answer later (e.g. a bank transfer)."""


@attrs.frozen(kw_only=True)
class PaymentTransactionUnknown(PaymentTransactionEvent):
    """No readable answer (timeout): the money may have moved; the reconciler will ask."""


@attrs.frozen(kw_only=True)
class PaymentAuthorized(DomainEvent):
    """Funds were reserved on the payer's account.

    Attributes:
        transaction_id: The authorizing transaction.
        amount: The amount authorized.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    amount: Money


@attrs.frozen(kw_only=True)
class PaymentCaptured(DomainEvent):
    """Money was taken (a capture of an authorization, or a sale).

    Attributes:
        transaction_id: The capturing transaction.
        amount: The amount captured by it.
        captured_total: Everything captured on the payment so far.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    amount: Money
    captured_total: Money


@attrs.frozen(kw_only=True)
class PaymentVoided(DomainEvent):
    """An authorization was released before anything was captured.

    Attributes:
        transaction_id: The voiding transaction.
        amount: The authorization released.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    amount: Money


@attrs.frozen(kw_only=True)
class PaymentRefunded(DomainEvent):
    """Captured money was given back, partly or wholly.

    Attributes:
        transaction_id: The refunding transaction.
        amount: The amount refunded by it.
        refunded_total: Everything refunded on the payment so far.
        fully_refunded: True when nothing captured is left to refund.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    amount: Money
    refunded_total: Money
    fully_refunded: bool


@attrs.frozen(kw_only=True)
class PaymentDeclined(DomainEvent):
    """The authorization or sale was definitively refused; the payment is over.

    Attributes:
        transaction_id: The refused transaction.
        reason: The normalised decline reason (a ``DeclineReason`` value).
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    reason: str


@attrs.frozen(kw_only=True)
class CashReceived(DomainEvent):
    """Money arrived (bank transfer, card settlement, cash...) and was recorded as a receipt.

    Attributes:
        customer_id: The payer's customer, or None while the payer is not identified.
        amount: The amount received.
        method: The payment method (a ``PaymentMethod`` value).
        reference: The bank or payment reference.
    """

    aggregate: ClassVar[str] = "receipt"
    customer_id: str | None
    amount: Money
    method: str
    reference: str


@attrs.frozen(kw_only=True)
class CashAllocated(DomainEvent):
    """Part of a receipt was applied to an invoice.

    Attributes:
        invoice_id: The invoice.
        amount: The amount applied.
        unapplied: The receipt's unapplied cash afterwards.
    """

    aggregate: ClassVar[str] = "receipt"
    invoice_id: str
    amount: Money
    unapplied: Money


@attrs.frozen(kw_only=True)
class CashUnallocated(DomainEvent):
    """Cash applied to an invoice was taken back to the receipt (e.g. the invoice was credited).

    Attributes:
        invoice_id: The invoice.
        amount: The amount taken back.
        unapplied: The receipt's unapplied cash afterwards.
    """

    aggregate: ClassVar[str] = "receipt"
    invoice_id: str
    amount: Money
    unapplied: Money


@attrs.frozen(kw_only=True)
class UnappliedCashRefunded(DomainEvent):
    """Unapplied cash was paid back to the payer, with no invoice involved.

    Attributes:
        amount: The amount refunded.
        reference: The refund's reference (bank transfer, gateway refund...).
        unapplied: The receipt's unapplied cash afterwards.
    """

    aggregate: ClassVar[str] = "receipt"
    amount: Money
    reference: str
    unapplied: Money


@attrs.frozen(kw_only=True)
class ReceiptCustomerAssigned(DomainEvent):
    """Cash from a payer not identified before was assigned to a customer.

    Attributes:
        customer_id: The customer.
    """

    aggregate: ClassVar[str] = "receipt"
    customer_id: str


# --------------------------------------------------------------------------- disputes


@attrs.frozen(kw_only=True)
class DisputeOpened(DomainEvent):
    """A chargeback, an inquiry or a B2B deduction was opened; dunning pauses for it.

    Attributes:
        kind: ``"chargeback"`` or ``"deduction"``.
        state: The state it opened in (``"inquiry"``, ``"needs_response"``, ...).
        customer_id: The customer who disputes.
        amount: The disputed amount.
        reason: The normalised reason (a ``DisputeReason`` value).
        raw_reason: The reason as the provider or the remittance advice spelt it.
        invoice_id: The invoice disputed, if known.
        payment_id: The payment disputed, if known.
        respond_by: The deadline for a response (None when unknown).
        provider: Where the dispute came from, e.g. ``"stripe"`` or ``"manual"``.
        provider_id: The provider's id of the dispute.
    """

    aggregate: ClassVar[str] = "dispute"
    kind: str
    state: str
    customer_id: str
    amount: Money
    reason: str
    raw_reason: str
    invoice_id: str | None
    payment_id: str | None
    respond_by: datetime | None
    provider: str
    provider_id: str | None


@attrs.frozen(kw_only=True)
class DisputeEvidenceSubmitted(DomainEvent):
    """Evidence was submitted (once per stage), by us or as reported by the provider.

    Attributes:
        stage: ``"inquiry"`` or ``"response"``.
        via_provider: True when the provider reported the submission (no texts known).
        texts: Names of the text fields submitted.
        documents: Ids of the documents submitted.
    """

    aggregate: ClassVar[str] = "dispute"
    stage: str
    via_provider: bool
    texts: tuple[str, ...]
    documents: tuple[str, ...]


@attrs.frozen(kw_only=True)
class DisputeEscalated(DomainEvent):
    """An inquiry became a formal chargeback that needs a response.

    Attributes:
        respond_by: The new deadline (None when unknown; the inquiry's does not carry over).
    """

    aggregate: ClassVar[str] = "dispute"
    respond_by: datetime | None


@attrs.frozen(kw_only=True)
class DisputeFlaggedForReview(DomainEvent):
    """The dispute went to manual review (a provider surprise, a passed deadline, a person).

    Attributes:
        reason: Why, in words.
        previous_state: The state it left.
        provider_status: The raw provider status that caused it, if any.
    """

    aggregate: ClassVar[str] = "dispute"
    reason: str
    previous_state: str
    provider_status: str | None


@attrs.frozen(kw_only=True)
class DisputeResumed(DomainEvent):
    """A person moved a dispute out of manual review into an open state.

    Attributes:
        state: The state it resumed in.
        note: Why, in words.
    """

    aggregate: ClassVar[str] = "dispute"
    state: str
    note: str


@attrs.frozen(kw_only=True)
class DisputeClosed(DomainEvent):
    """The dispute reached its outcome; dunning may resume for its amount.

    Attributes:
        outcome: ``"won"``, ``"lost"``, ``"accepted"``, ``"withdrawn"`` or ``"inquiry_closed"``.
        amount: The disputed amount.
        by_provider: True when a provider status decided it.
        expired: True when it was lost because the deadline passed without evidence.
        note: Why, in words.
    """

    aggregate: ClassVar[str] = "dispute"
    outcome: str
    amount: Money
    by_provider: bool
    expired: bool
    note: str


@attrs.frozen(kw_only=True)
class DisputeResolved(DomainEvent):
    """The closed dispute's money consequence was decided (recorded once).

    Attributes:
        resolution: ``"credit_note"``, ``"write_off"``, ``"collect"`` or ``"none"``.
        amount: The amount credited, written off or to collect (zero for none).
        outcome: The final state it resolves.
        invoice_id: The invoice concerned, if any.
        reference: The document that carries it (a credit note id, ...), if given.
    """

    aggregate: ClassVar[str] = "dispute"
    resolution: str
    amount: Money
    outcome: str
    invoice_id: str | None
    reference: str | None


@attrs.frozen(kw_only=True)
class DisputeProviderStatusIgnored(DomainEvent):
    """A provider status was recorded but did not move the dispute (late, stale or final).

    Attributes:
        provider_status: The raw status received.
        state: The dispute's state, unchanged.
        why: Why it was ignored.
    """

    aggregate: ClassVar[str] = "dispute"
    provider_status: str
    state: str
    why: str


# ------------------------------------------------------------ shipments and return authorisations


@attrs.frozen(kw_only=True)
class ItemQuantity:
    """A quantity of one order line in a parcel or a return (no value attached).

    Attributes:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: How many units.
    """

    line_id: str
    sku: str
    quantity: Decimal


@attrs.frozen(kw_only=True)
class ShipmentCreated(DomainEvent):
    """A shipment (one parcel or consignment) was picked and packed for an order.

    Attributes:
        order_id: The order it ships.
        customer_id: The customer.
        lines: What it holds.
        cod_amount: Cash the carrier is to collect on delivery, if any.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    customer_id: str
    lines: tuple[ItemQuantity, ...]
    cod_amount: Money | None


@attrs.frozen(kw_only=True)
class ShipmentLabelled(DomainEvent):
    """A carrier label was bought for the shipment.

    Attributes:
        order_id: The order.
        label_id: The carrier's label id (void it if the shipment is cancelled).
        carrier: Carrier name.
        service: Service bought.
        tracking_number: The parcel's tracking number.
        cost: What the label cost.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    label_id: str
    carrier: str
    service: str
    tracking_number: str
    cost: Money


@attrs.frozen(kw_only=True)
class ShipmentHandedOver(DomainEvent):
    """The goods left: handed to the carrier (or the own fleet).

    Attributes:
        order_id: The order.
        lines: What left (record it as shipped on the order).
        carrier: Carrier name (None for the own fleet).
        tracking_number: Tracking number, if labelled.
        via_tracking: True when a carrier scan said so (possibly implied by a later
            scan), False when recorded by hand.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    lines: tuple[ItemQuantity, ...]
    carrier: str | None
    tracking_number: str | None
    via_tracking: bool


@attrs.frozen(kw_only=True)
class ShipmentTracked(DomainEvent):
    """A carrier scan was recorded (``occurred_at`` is the carrier's time of the scan).

    Attributes:
        order_id: The order.
        event_id: The carrier's id of the scan.
        tracking_number: The parcel.
        status: The scan, as a shipment-table event value.
        description: The carrier's words.
        location: Where, if known.
        state: The shipment's state after the scan.
        implied: Table events applied to get there, in order, when the scan was
            not itself allowed (the carrier skipped scans); () when none was needed.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    event_id: str
    tracking_number: str
    status: str
    description: str
    location: str
    state: str
    implied: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class ShipmentDelivered(DomainEvent):
    """The shipment reached the customer.

    Attributes:
        order_id: The order.
        lines: What was delivered (record it as delivered on the order).
        delivered_at: When (the carrier's time for a scan, else the proof's time).
        cod_amount: Cash the carrier collected on delivery, if any.
        via_tracking: True for a carrier scan, False for a manual proof of delivery.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    lines: tuple[ItemQuantity, ...]
    delivered_at: datetime
    cod_amount: Money | None
    via_tracking: bool


@attrs.frozen(kw_only=True)
class ShipmentException(DomainEvent):
    """The carrier reported a problem (delay, address, damage, failed attempt).

    Attributes:
        order_id: The order.
        description: The carrier's words.
        location: Where, if known.
        implied: True when no exception scan came but a later scan implies one
            (e.g. returned to sender straight from transit).
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    description: str
    location: str
    implied: bool = False


@attrs.frozen(kw_only=True)
class ShipmentLost(DomainEvent):
    """The carrier declared the shipment lost.

    Attributes:
        order_id: The order.
        lines: What was in it.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    lines: tuple[ItemQuantity, ...]


@attrs.frozen(kw_only=True)
class ShipmentReturnedToSender(DomainEvent):
    """The carrier brought the shipment back undelivered.

    Attributes:
        order_id: The order.
        lines: What came back.
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    lines: tuple[ItemQuantity, ...]


@attrs.frozen(kw_only=True)
class ShipmentCancelled(DomainEvent):
    """A shipment that had not left was cancelled.

    Attributes:
        order_id: The order.
        reason: Why.
        label_id: The label to void with the carrier (None when none was bought).
        lines: What it held (back to the shelf).
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    reason: str
    label_id: str | None
    lines: tuple[ItemQuantity, ...]


@attrs.frozen(kw_only=True)
class ReturnRequested(DomainEvent):
    """A customer asked to return goods of an order (an RMA was opened).

    Attributes:
        order_id: The order.
        customer_id: The customer.
        lines: What is to come back.
        reason: The customer's reason.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    customer_id: str
    lines: tuple[ItemQuantity, ...]
    reason: str


@attrs.frozen(kw_only=True)
class ReturnAuthorized(DomainEvent):
    """The return was authorised: the customer may send the goods.

    Attributes:
        order_id: The order.
        lines: What may come back.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    lines: tuple[ItemQuantity, ...]


@attrs.frozen(kw_only=True)
class ReturnRejected(DomainEvent):
    """The return was refused.

    Attributes:
        order_id: The order.
        reason: Why.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    reason: str


@attrs.frozen(kw_only=True)
class ReturnCancelled(DomainEvent):
    """The return was withdrawn before any goods came back.

    Attributes:
        order_id: The order.
        reason: Why.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    reason: str


@attrs.frozen(kw_only=True)
class ReturnReceived(DomainEvent):
    """A parcel of returned goods arrived.

    Attributes:
        order_id: The order.
        received: Units received in this parcel, per line.
        restocked: Of those, units put back into stock (the rest is scrapped);
            only lines with a positive quantity.
        complete: True once every line of the return is fully received.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    received: tuple[ItemQuantity, ...]
    restocked: tuple[ItemQuantity, ...]
    complete: bool


@attrs.frozen(kw_only=True)
class ReturnClosed(DomainEvent):
    """The return was settled; it credits what was received.

    Attributes:
        order_id: The order.
        customer_id: The customer.
        received: Units received in all, per line (record them as returned on the
            order and credit them).
        short: Units authorised but never received, per line (not credited).
        credit_note_id: The credit note issued, if any.
        refund_ids: The refunds made, if any.
    """

    aggregate: ClassVar[str] = "return"
    order_id: str
    customer_id: str
    received: tuple[ItemQuantity, ...]
    short: tuple[ItemQuantity, ...]
    credit_note_id: str | None
    refund_ids: tuple[str, ...]


# --------------------------------------------------------------------------- engine


@attrs.frozen(kw_only=True)
class CustomerRegistered(DomainEvent):
    """A customer was added or its master data replaced."""

    aggregate: ClassVar[str] = "customer"
    customer_name: str
    currency: str


@attrs.frozen(kw_only=True)
class StockReceived(DomainEvent):
    """Units were added to stock (goods in, or restocked from a return). Aggregate: the SKU."""

    aggregate: ClassVar[str] = "stock"
    quantity: Decimal
    on_hand: Decimal
    reason: str


@attrs.frozen(kw_only=True)
class StockReserved(DomainEvent):
    """Stock was held for an order line; what could not be held is backordered.

    The aggregate is the order.
    """

    aggregate: ClassVar[str] = "order"
    reservation_id: str
    line_id: str
    sku: str
    reserved: Decimal
    backordered: Decimal
    expires_at: datetime | None


@attrs.frozen(kw_only=True)
class StockReleased(DomainEvent):
    """A reservation gave its stock back (cancellation, expiry). The aggregate is the order."""

    aggregate: ClassVar[str] = "order"
    reservation_id: str
    line_id: str
    sku: str
    quantity: Decimal
    reason: str


# --- issue 4: gateway faults, unknown outcomes and the payment reconciler ---


@attrs.frozen(kw_only=True)
class PaymentFlagged(DomainEvent):
    """A payment needs a person; the reconciler stops asking the gateway about it.

    Attributes:
        transaction_id: The transaction concerned.
        reason: Why (an ``AttentionReason`` value: ``gave_up``, ``contradiction``,
            ``amount_mismatch``, ``booking_failed``).
        detail: What was seen, in words (never card data).
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    reason: str
    detail: str


@attrs.frozen(kw_only=True)
class PaymentFlagCleared(DomainEvent):
    """A person looked at a flagged payment and closed the flag.

    Attributes:
        transaction_id: The transaction the flag was about.
        reason: The flag's reason (an ``AttentionReason`` value).
        by: Who closed it.
        note: What they found or did.
        outcome: The outcome they recorded for the transaction (``succeeded`` or
            ``failed``), or None when they recorded none.
    """

    aggregate: ClassVar[str] = "payment"
    transaction_id: str
    reason: str
    by: str
    note: str
    outcome: str | None


# --- issue 4: inbound webhooks ---


@attrs.frozen(kw_only=True)
class WebhookProcessed(DomainEvent):
    """A verified webhook was processed once (its redeliveries change nothing).

    The aggregate id is ``"<gateway>:<event id>"``.

    Attributes:
        gateway: The gateway that sent it.
        event_id: The gateway's event id.
        event_type: The gateway's event type, e.g. ``"charge.dispute.created"``.
        status: ``"applied"``, ``"parked"`` (kept until its payment is known) or
            ``"ignored"`` (nothing o2c acts on).
        reason: Why it was parked or ignored (empty when applied).
        payment_ids: The o2c payments it moved.
        dispute_id: The o2c dispute it opened or moved, if any.
    """

    aggregate: ClassVar[str] = "webhook"
    gateway: str
    event_id: str
    event_type: str
    status: str
    reason: str
    payment_ids: tuple[str, ...]
    dispute_id: str | None


# --- issue 4: payment methods (store credit, bank transfer, split tender, refunds, COD) ---


@attrs.frozen(kw_only=True)
class StoreCreditGranted(DomainEvent):
    """Store credit was added to a customer's balance (goodwill, or a refund to it).

    The aggregate is the customer's account in one currency (``customer/currency``).
    """

    aggregate: ClassVar[str] = "store_credit"
    customer_id: str
    entry_id: str
    amount: Money
    balance: Money
    reason: str
    reference: str


@attrs.frozen(kw_only=True)
class StoreCreditRedeemed(DomainEvent):
    """Store credit paid (part of) an order: ``reference`` names the tender."""

    aggregate: ClassVar[str] = "store_credit"
    customer_id: str
    entry_id: str
    amount: Money
    balance: Money
    reference: str


@attrs.frozen(kw_only=True)
class StoreCreditReversed(DomainEvent):
    """Store credit was taken away (expired or revoked)."""

    aggregate: ClassVar[str] = "store_credit"
    customer_id: str
    entry_id: str
    amount: Money
    balance: Money
    reason: str


@attrs.frozen(kw_only=True)
class TenderOpened(DomainEvent):
    """An order got a tender outside any gateway: store credit redeemed for it, or a
    bank transfer it awaits (``reference`` is what the customer must quote)."""

    aggregate: ClassVar[str] = "tender"
    order_id: str
    customer_id: str
    method: str
    amount: Money
    reference: str


@attrs.frozen(kw_only=True)
class TenderCancelled(DomainEvent):
    """An awaited bank transfer is no longer expected (money already matched stays)."""

    aggregate: ClassVar[str] = "tender"
    order_id: str
    reference: str


@attrs.frozen(kw_only=True)
class ReceiptTenderLinked(DomainEvent):
    """A receipt was matched to the tender it pays (a bank transfer quoting its reference)."""

    aggregate: ClassVar[str] = "receipt"
    tender_id: str
    amount: Money


@attrs.frozen(kw_only=True)
class RefundPart:
    """Where one part of a refund went.

    Attributes:
        tender_id: The tender refunded (a payment, a tender or a COD shipment id).
        method: Its payment method.
        amount: How much (for ``voided``: the authorization released).
        reference: The gateway transaction (``PAY-.../T3``), the store-credit entry
            (``SC-...``) or the payout to make (``RC-.../refund1``).
        outcome: ``refunded`` (through the gateway), ``pending`` (the gateway answers
            later), ``store_credit`` (back to the balance), ``payout`` (to pay out by
            hand: bank transfer, cash on delivery, or a card the gateway refused to
            refund) or ``voided`` (an uncaptured authorization released).
        note: Why, when it is not the obvious way.
    """

    tender_id: str
    method: str
    amount: Money
    reference: str
    outcome: str
    note: str = ""


@attrs.frozen(kw_only=True)
class RefundPayoutRequested(DomainEvent):
    """Money must be paid back by hand (bank transfer, cash): the host pays it out and
    quotes ``aggregate_id`` (the payout reference)."""

    aggregate: ClassVar[str] = "payout"
    receipt_id: str
    customer_id: str | None
    amount: Money
    method: str
    reason: str


@attrs.frozen(kw_only=True)
class OrderRefunded(DomainEvent):
    """Money went back to an order's tenders; ``parts`` says where."""

    aggregate: ClassVar[str] = "order"
    requested: Money
    refunded: Money
    parts: tuple[RefundPart, ...]


@attrs.frozen(kw_only=True)
class CodRemittanceRecorded(DomainEvent):
    """A carrier paid over cash it collected on delivery. The aggregate is
    ``carrier/remittance_id``; ``net == gross - fee``."""

    aggregate: ClassVar[str] = "cod_remittance"
    carrier: str
    remittance_id: str
    gross: Money
    fee: Money
    net: Money
    settled: int
    discrepancies: int


@attrs.frozen(kw_only=True)
class CodDiscrepancyFound(DomainEvent):
    """A remittance line did not match what the carrier owes for the shipment."""

    aggregate: ClassVar[str] = "cod_remittance"
    shipment_id: str
    status: str
    expected: Money
    remitted: Money
    note: str


@attrs.frozen(kw_only=True)
class CarrierFeeBooked(DomainEvent):
    """The carrier kept a fee out of a remittance (an expense, booked explicitly)."""

    aggregate: ClassVar[str] = "cod_remittance"
    carrier: str
    amount: Money


# --- issue 4: carriers and fulfilment providers ---


@attrs.frozen(kw_only=True)
class ShipmentLabelVoided(DomainEvent):
    """A shipment's label was voided before it left; the shipment is pending again.

    Attributes:
        order_id: The order.
        label_id: The voided label.
        carrier: Its carrier.
        tracking_number: Its tracking number (no longer in use).
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    label_id: str
    carrier: str
    tracking_number: str


@attrs.frozen(kw_only=True)
class ShipmentGoodsReleased(DomainEvent):
    """What a shipment held that will not reach the customer was dealt with: put back
    on hand (``restocked``) and/or given back to the order to ship again (``reopened``).

    Attributes:
        order_id: The order.
        lines: What the shipment held.
        restocked: True when the goods went back on hand (cancelled before leaving,
            returned to sender); False for a lost parcel.
        reopened: True when the order may ship the quantities again (False when the
            order was already closed).
        reason: Why (``"cancelled"``, ``"lost"``, ``"returned_to_sender"``).
    """

    aggregate: ClassVar[str] = "shipment"
    order_id: str
    lines: tuple[ItemQuantity, ...]
    restocked: bool
    reopened: bool
    reason: str


@attrs.frozen(kw_only=True)
class OrderLinesUnshipped(DomainEvent):
    """Quantities recorded as shipped will not arrive and may ship again.

    Attributes:
        lines: Quantities taken off ``shipped``, with their net value.
        shipment_id: The shipment that did not arrive (or was cancelled).
        reason: Why.
    """

    aggregate: ClassVar[str] = "order"
    lines: tuple[LineQuantity, ...]
    shipment_id: str
    reason: str


@attrs.frozen(kw_only=True)
class FulfilmentRequested(DomainEvent):
    """Lines of an order were sent to a fulfilment provider (3PL) to pick, pack, ship.

    Attributes:
        order_id: The order.
        provider: The provider's name in the engine.
        reference: The provider's id for the request.
        lines: What was sent.
        due_by: When it is overdue if not shipped in full.
    """

    aggregate: ClassVar[str] = "fulfilment"
    order_id: str
    provider: str
    reference: str
    lines: tuple[ItemQuantity, ...]
    due_by: datetime


@attrs.frozen(kw_only=True)
class FulfilmentReported(DomainEvent):
    """A provider reported parcels shipped (each one becomes a shipment).

    Attributes:
        order_id: The order.
        provider: The provider.
        report_id: Its report.
        shipment_ids: The shipments made of the new parcels (none: nothing new).
        complete: True once everything sent has shipped.
    """

    aggregate: ClassVar[str] = "fulfilment"
    order_id: str
    provider: str
    report_id: str
    shipment_ids: tuple[str, ...]
    complete: bool


# --- issue 5: statement import and bank lines ---


@attrs.frozen(kw_only=True)
class StatementImported(DomainEvent):
    """A bank statement was imported: its new lines were stored, lines already stored
    were left as they were.

    Attributes:
        statement_id: The statement.
        new_lines: The bank lines stored (``BL-...``), in statement order.
        known_lines: How many of its lines were stored before.
        money_in: Sum of the new lines' money in.
        money_out: Sum of the new lines' money out (zero or negative).
    """

    aggregate: ClassVar[str] = "bank_account"
    statement_id: str
    new_lines: tuple[str, ...]
    known_lines: int
    money_in: Money
    money_out: Money


@attrs.frozen(kw_only=True)
class BankLineReceived(DomainEvent):
    """An incoming bank line became a receipt, ready to be applied.

    Attributes:
        receipt_id: The receipt.
        amount: The line's amount.
        customer_id: The paying customer, if known.
    """

    aggregate: ClassVar[str] = "bank_line"
    receipt_id: str
    amount: Money
    customer_id: str | None = None
