"""Every lifecycle in o2c, declared as a transition table.

The tables are data: the domain modules call ``WORKFLOW.apply(state, event)`` and
never set a state by hand. ``docs/state-machines.md`` is generated from
:data:`ALL_WORKFLOWS` (``make docs``) and a test fails when it is stale.

Derived statuses (an order's shipment and billing status, a payment's captured or
refunded amount) are *not* tables: they are computed from quantities and ledgers
by pure functions, as the best ERPs do, so they can never disagree with the facts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from o2c.workflow import Transition, Workflow

__all__ = [
    "ALL_WORKFLOWS",
    "DISPUTE_WORKFLOW",
    "INVOICE_WORKFLOW",
    "ORDER_WORKFLOW",
    "PAYMENT_WORKFLOW",
    "RETURN_WORKFLOW",
    "SHIPMENT_WORKFLOW",
    "TRANSACTION_WORKFLOW",
    "DisputeEvent",
    "DisputeState",
    "InvoiceEvent",
    "InvoiceState",
    "OrderEvent",
    "OrderState",
    "PaymentEvent",
    "PaymentState",
    "ReturnEvent",
    "ReturnState",
    "ShipmentEvent",
    "ShipmentState",
    "TransactionEvent",
    "TransactionState",
]


# --------------------------------------------------------------------------- order


class OrderState(StrEnum):
    """Where an order stands commercially (shipping and billing are derived apart)."""

    DRAFT = "draft"
    PLACED = "placed"
    ON_HOLD = "on_hold"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class OrderEvent(StrEnum):
    """Events that move an order."""

    PLACE = "place"
    APPROVE = "approve"
    HOLD = "hold"
    RELEASE = "release"
    OVERRIDE = "override"
    REJECT = "reject"
    CANCEL = "cancel"
    EXPIRE = "expire"
    COMPLETE = "complete"


_O, _OE = OrderState, OrderEvent
ORDER_WORKFLOW: Workflow[OrderState, OrderEvent] = Workflow(
    name="order",
    states=OrderState,
    events=OrderEvent,
    initial=_O.DRAFT,
    finals=frozenset({_O.COMPLETED, _O.CANCELLED, _O.REJECTED, _O.EXPIRED}),
    description=(
        "An order is captured as a draft, placed, and then decided by credit policy. "
        "A released hold goes back to *placed*, never straight to *confirmed*, so credit "
        "is checked again on every resumption (the hole behind frappe/erpnext#33967); "
        "only an audited override skips the check. Orders never confirmed expire."
    ),
    transitions=(
        Transition(_O.DRAFT, _OE.PLACE, _O.PLACED),
        Transition(_O.DRAFT, _OE.CANCEL, _O.CANCELLED),
        Transition(_O.DRAFT, _OE.EXPIRE, _O.EXPIRED),
        Transition(_O.PLACED, _OE.APPROVE, _O.CONFIRMED),
        Transition(_O.PLACED, _OE.HOLD, _O.ON_HOLD),
        Transition(_O.PLACED, _OE.REJECT, _O.REJECTED),
        Transition(_O.PLACED, _OE.CANCEL, _O.CANCELLED),
        Transition(_O.PLACED, _OE.EXPIRE, _O.EXPIRED),
        Transition(_O.ON_HOLD, _OE.RELEASE, _O.PLACED, note="credit is checked again"),
        Transition(_O.ON_HOLD, _OE.OVERRIDE, _O.CONFIRMED, note="recorded who, why, when"),
        Transition(_O.ON_HOLD, _OE.REJECT, _O.REJECTED),
        Transition(_O.ON_HOLD, _OE.CANCEL, _O.CANCELLED),
        Transition(_O.ON_HOLD, _OE.EXPIRE, _O.EXPIRED),
        Transition(_O.CONFIRMED, _OE.HOLD, _O.ON_HOLD),
        Transition(_O.CONFIRMED, _OE.CANCEL, _O.CANCELLED, note="only if nothing shipped"),
        Transition(_O.CONFIRMED, _OE.COMPLETE, _O.COMPLETED),
    ),
)


# --------------------------------------------------------------------------- shipment


class ShipmentState(StrEnum):
    """A physical shipment (one parcel or consignment) on its way to the customer."""

    PENDING = "pending"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    LOST = "lost"
    CANCELLED = "cancelled"


class ShipmentEvent(StrEnum):
    """Events that move a shipment (carrier tracking is normalised to these)."""

    BUY_LABEL = "buy_label"
    HAND_OVER = "hand_over"
    GO_OUT_FOR_DELIVERY = "go_out_for_delivery"
    DELIVER = "deliver"
    REPORT_EXCEPTION = "report_exception"
    RESUME = "resume"
    RETURN_TO_SENDER = "return_to_sender"
    DECLARE_LOST = "declare_lost"
    CANCEL = "cancel"
    VOID_LABEL = "void_label"


_S, _SE = ShipmentState, ShipmentEvent
SHIPMENT_WORKFLOW: Workflow[ShipmentState, ShipmentEvent] = Workflow(
    name="shipment",
    states=ShipmentState,
    events=ShipmentEvent,
    initial=_S.PENDING,
    finals=frozenset({_S.DELIVERED, _S.RETURNED_TO_SENDER, _S.LOST, _S.CANCELLED}),
    description=(
        "A shipment is picked and packed (*pending*), labelled, handed to the carrier and "
        "delivered. Carrier exceptions can resume, end in a return to sender, or in a loss. "
        "Goods already delivered come back through a return (RMA), not through this table."
    ),
    transitions=(
        Transition(_S.PENDING, _SE.BUY_LABEL, _S.LABEL_CREATED),
        Transition(_S.PENDING, _SE.HAND_OVER, _S.IN_TRANSIT, note="own fleet, no label"),
        Transition(_S.PENDING, _SE.CANCEL, _S.CANCELLED),
        Transition(_S.LABEL_CREATED, _SE.HAND_OVER, _S.IN_TRANSIT),
        Transition(_S.LABEL_CREATED, _SE.CANCEL, _S.CANCELLED, note="the label is voided"),
        Transition(_S.LABEL_CREATED, _SE.VOID_LABEL, _S.PENDING, note="relabel it, or cancel it"),
        Transition(_S.IN_TRANSIT, _SE.GO_OUT_FOR_DELIVERY, _S.OUT_FOR_DELIVERY),
        Transition(_S.IN_TRANSIT, _SE.DELIVER, _S.DELIVERED),
        Transition(_S.IN_TRANSIT, _SE.REPORT_EXCEPTION, _S.EXCEPTION),
        Transition(_S.OUT_FOR_DELIVERY, _SE.DELIVER, _S.DELIVERED),
        Transition(_S.OUT_FOR_DELIVERY, _SE.REPORT_EXCEPTION, _S.EXCEPTION),
        Transition(_S.EXCEPTION, _SE.RESUME, _S.IN_TRANSIT),
        Transition(_S.EXCEPTION, _SE.DELIVER, _S.DELIVERED),
        Transition(_S.EXCEPTION, _SE.RETURN_TO_SENDER, _S.RETURNED_TO_SENDER),
        Transition(_S.EXCEPTION, _SE.DECLARE_LOST, _S.LOST),
    ),
)


# --------------------------------------------------------------------------- invoice


class InvoiceState(StrEnum):
    """An invoice's state; the paid states follow its open amount."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    WRITTEN_OFF = "written_off"


class InvoiceEvent(StrEnum):
    """Events that move an invoice."""

    ISSUE = "issue"
    SETTLE_PARTIALLY = "settle_partially"
    SETTLE = "settle"
    REOPEN = "reopen"
    REOPEN_PARTIALLY = "reopen_partially"
    VOID = "void"
    WRITE_OFF = "write_off"


_I, _IE = InvoiceState, InvoiceEvent
INVOICE_WORKFLOW: Workflow[InvoiceState, InvoiceEvent] = Workflow(
    name="invoice",
    states=InvoiceState,
    events=InvoiceEvent,
    initial=_I.DRAFT,
    finals=frozenset({_I.VOID, _I.WRITTEN_OFF}),
    description=(
        "A draft has no number; issuing takes the next gap-free number. Payments and credit "
        "notes settle an invoice partly or wholly; a reversed payment (bounced transfer, lost "
        "chargeback) reopens it. Only an invoice with nothing applied can be voided (it keeps "
        "its number). Writing off the open rest ends it."
    ),
    transitions=(
        Transition(_I.DRAFT, _IE.ISSUE, _I.ISSUED),
        Transition(_I.DRAFT, _IE.VOID, _I.VOID, note="a draft is discarded"),
        Transition(_I.ISSUED, _IE.SETTLE_PARTIALLY, _I.PARTIALLY_PAID),
        Transition(_I.ISSUED, _IE.SETTLE, _I.PAID),
        Transition(_I.ISSUED, _IE.VOID, _I.VOID, note="nothing applied yet"),
        Transition(_I.ISSUED, _IE.WRITE_OFF, _I.WRITTEN_OFF),
        Transition(_I.PARTIALLY_PAID, _IE.SETTLE_PARTIALLY, _I.PARTIALLY_PAID),
        Transition(_I.PARTIALLY_PAID, _IE.SETTLE, _I.PAID),
        Transition(_I.PARTIALLY_PAID, _IE.REOPEN, _I.ISSUED),
        Transition(_I.PARTIALLY_PAID, _IE.WRITE_OFF, _I.WRITTEN_OFF),
        Transition(_I.PAID, _IE.REOPEN, _I.ISSUED),
        Transition(_I.PAID, _IE.REOPEN_PARTIALLY, _I.PARTIALLY_PAID),
    ),
)


# --------------------------------------------------------------------------- payment


class PaymentState(StrEnum):
    """A payment through one method, moved only by *succeeded* gateway transactions."""

    NEW = "new"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    DECLINED = "declined"


class PaymentEvent(StrEnum):
    """Events that move a payment."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    VOID = "void"
    REFUND_PARTIALLY = "refund_partially"
    REFUND = "refund"
    DECLINE = "decline"


_P, _PE = PaymentState, PaymentEvent
PAYMENT_WORKFLOW: Workflow[PaymentState, PaymentEvent] = Workflow(
    name="payment",
    states=PaymentState,
    events=PaymentEvent,
    initial=_P.NEW,
    finals=frozenset({_P.REFUNDED, _P.VOIDED, _P.DECLINED}),
    description=(
        "A payment moves only when a gateway transaction has *succeeded* (or definitively "
        "failed, for *declined*). Pending and unknown outcomes live on the transaction, not "
        "here, so a payment never claims money the gateway has not confirmed. A sale is a "
        "capture straight from *new*."
    ),
    transitions=(
        Transition(_P.NEW, _PE.AUTHORIZE, _P.AUTHORIZED),
        Transition(_P.NEW, _PE.CAPTURE, _P.CAPTURED, note="sale: authorize and capture"),
        Transition(_P.NEW, _PE.DECLINE, _P.DECLINED),
        Transition(_P.AUTHORIZED, _PE.CAPTURE, _P.CAPTURED, note="full or partial"),
        Transition(_P.AUTHORIZED, _PE.VOID, _P.VOIDED),
        Transition(_P.CAPTURED, _PE.REFUND_PARTIALLY, _P.PARTIALLY_REFUNDED),
        Transition(_P.CAPTURED, _PE.REFUND, _P.REFUNDED),
        Transition(_P.PARTIALLY_REFUNDED, _PE.REFUND_PARTIALLY, _P.PARTIALLY_REFUNDED),
        Transition(_P.PARTIALLY_REFUNDED, _PE.REFUND, _P.REFUNDED),
    ),
)


class TransactionState(StrEnum):
    """The outcome of one gateway call (authorize, capture, void or refund)."""

    REQUESTED = "requested"
    PENDING = "pending"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TransactionEvent(StrEnum):
    """What the gateway (or the reconciler asking it) said."""

    SUCCEED = "succeed"
    FAIL = "fail"
    DEFER = "defer"
    TIME_OUT = "time_out"


_T, _TE = TransactionState, TransactionEvent
TRANSACTION_WORKFLOW: Workflow[TransactionState, TransactionEvent] = Workflow(
    name="transaction",
    states=TransactionState,
    events=TransactionEvent,
    initial=_T.REQUESTED,
    finals=frozenset({_T.SUCCEEDED, _T.FAILED}),
    description=(
        "A timeout or an unreadable answer is *unknown*, never *failed*: the charge may have "
        "happened. Unknown and pending are resolved by asking the gateway again under the "
        "same idempotency key, never by charging under a new one. Finals absorb nothing, so "
        "a late answer can never move a settled transaction back."
    ),
    transitions=(
        Transition(_T.REQUESTED, _TE.SUCCEED, _T.SUCCEEDED),
        Transition(_T.REQUESTED, _TE.FAIL, _T.FAILED),
        Transition(_T.REQUESTED, _TE.DEFER, _T.PENDING),
        Transition(_T.REQUESTED, _TE.TIME_OUT, _T.UNKNOWN),
        Transition(_T.PENDING, _TE.SUCCEED, _T.SUCCEEDED),
        Transition(_T.PENDING, _TE.FAIL, _T.FAILED),
        Transition(_T.UNKNOWN, _TE.SUCCEED, _T.SUCCEEDED),
        Transition(_T.UNKNOWN, _TE.FAIL, _T.FAILED),
        Transition(_T.UNKNOWN, _TE.DEFER, _T.PENDING),
    ),
)


# --------------------------------------------------------------------------- return (RMA)


class ReturnState(StrEnum):
    """A return merchandise authorisation."""

    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    RECEIVED = "received"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class ReturnEvent(StrEnum):
    """Events that move a return."""

    AUTHORIZE = "authorize"
    REJECT = "reject"
    RECEIVE = "receive"
    CLOSE = "close"
    CANCEL = "cancel"


_R, _RE = ReturnState, ReturnEvent
RETURN_WORKFLOW: Workflow[ReturnState, ReturnEvent] = Workflow(
    name="return",
    states=ReturnState,
    events=ReturnEvent,
    initial=_R.REQUESTED,
    finals=frozenset({_R.CLOSED, _R.REJECTED, _R.CANCELLED}),
    description=(
        "A customer asks to return goods; once authorised they are received (possibly in "
        "several parcels), restocked or scrapped, and the return is closed by a credit note "
        "and, where money was paid, a refund to the original method."
    ),
    transitions=(
        Transition(_R.REQUESTED, _RE.AUTHORIZE, _R.AUTHORIZED),
        Transition(_R.REQUESTED, _RE.REJECT, _R.REJECTED),
        Transition(_R.REQUESTED, _RE.CANCEL, _R.CANCELLED),
        Transition(_R.AUTHORIZED, _RE.RECEIVE, _R.RECEIVED),
        Transition(_R.AUTHORIZED, _RE.CANCEL, _R.CANCELLED),
        Transition(_R.RECEIVED, _RE.RECEIVE, _R.RECEIVED, note="a further parcel"),
        Transition(_R.RECEIVED, _RE.CLOSE, _R.CLOSED),
    ),
)


# --------------------------------------------------------------------------- dispute


class DisputeState(StrEnum):
    """One dispute machine for card chargebacks and B2B deductions (short payments)."""

    NEW = "new"
    INQUIRY = "inquiry"
    INQUIRY_UNDER_REVIEW = "inquiry_under_review"
    INQUIRY_CLOSED = "inquiry_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    MANUAL_REVIEW = "manual_review"
    WON = "won"
    LOST = "lost"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


class DisputeEvent(StrEnum):
    """Events that move a dispute."""

    OPEN_INQUIRY = "open_inquiry"
    OPEN = "open"
    FLAG = "flag"
    SUBMIT_EVIDENCE = "submit_evidence"
    ESCALATE = "escalate"
    CLOSE_INQUIRY = "close_inquiry"
    WIN = "win"
    LOSE = "lose"
    ACCEPT = "accept"
    WITHDRAW = "withdraw"
    RESUME_INQUIRY = "resume_inquiry"
    RESUME = "resume"
    RESUME_REVIEW = "resume_review"


_D, _DE = DisputeState, DisputeEvent
DISPUTE_WORKFLOW: Workflow[DisputeState, DisputeEvent] = Workflow(
    name="dispute",
    states=DisputeState,
    events=DisputeEvent,
    initial=_D.NEW,
    finals=frozenset({_D.WON, _D.LOST, _D.ACCEPTED, _D.WITHDRAWN, _D.INQUIRY_CLOSED}),
    description=(
        "A card chargeback opens in *needs_response* (or as an *inquiry*, Stripe's "
        "warning_* statuses); a B2B deduction opens in *needs_response* too. Evidence is "
        "submitted once per stage (inquiry, response). The outcome is won, lost, accepted "
        "(we concede) or withdrawn (the "
        "customer concedes); its resolution is a credit note, a write-off or collection. "
        "Anything o2c cannot place (an unknown provider status) goes to *manual_review*, "
        "from which a person moves it on."
    ),
    transitions=(
        Transition(_D.NEW, _DE.OPEN_INQUIRY, _D.INQUIRY),
        Transition(_D.NEW, _DE.OPEN, _D.NEEDS_RESPONSE),
        Transition(_D.NEW, _DE.FLAG, _D.MANUAL_REVIEW),
        Transition(_D.INQUIRY, _DE.SUBMIT_EVIDENCE, _D.INQUIRY_UNDER_REVIEW),
        Transition(_D.INQUIRY, _DE.ESCALATE, _D.NEEDS_RESPONSE),
        Transition(_D.INQUIRY, _DE.CLOSE_INQUIRY, _D.INQUIRY_CLOSED),
        Transition(_D.INQUIRY, _DE.ACCEPT, _D.ACCEPTED, note="refund to close the inquiry"),
        Transition(_D.INQUIRY, _DE.FLAG, _D.MANUAL_REVIEW),
        Transition(_D.INQUIRY_UNDER_REVIEW, _DE.ESCALATE, _D.NEEDS_RESPONSE),
        Transition(_D.INQUIRY_UNDER_REVIEW, _DE.CLOSE_INQUIRY, _D.INQUIRY_CLOSED),
        Transition(_D.INQUIRY_UNDER_REVIEW, _DE.FLAG, _D.MANUAL_REVIEW),
        Transition(_D.NEEDS_RESPONSE, _DE.SUBMIT_EVIDENCE, _D.UNDER_REVIEW),
        Transition(_D.NEEDS_RESPONSE, _DE.ACCEPT, _D.ACCEPTED),
        Transition(_D.NEEDS_RESPONSE, _DE.WITHDRAW, _D.WITHDRAWN),
        Transition(_D.NEEDS_RESPONSE, _DE.WIN, _D.WON, note="issuer reversed without evidence"),
        Transition(_D.NEEDS_RESPONSE, _DE.LOSE, _D.LOST, note="deadline passed"),
        Transition(_D.NEEDS_RESPONSE, _DE.FLAG, _D.MANUAL_REVIEW),
        Transition(_D.UNDER_REVIEW, _DE.WIN, _D.WON),
        Transition(_D.UNDER_REVIEW, _DE.LOSE, _D.LOST),
        Transition(_D.UNDER_REVIEW, _DE.WITHDRAW, _D.WITHDRAWN),
        Transition(_D.UNDER_REVIEW, _DE.FLAG, _D.MANUAL_REVIEW),
        Transition(_D.MANUAL_REVIEW, _DE.RESUME_INQUIRY, _D.INQUIRY),
        Transition(_D.MANUAL_REVIEW, _DE.RESUME, _D.NEEDS_RESPONSE),
        Transition(_D.MANUAL_REVIEW, _DE.RESUME_REVIEW, _D.UNDER_REVIEW),
        Transition(_D.MANUAL_REVIEW, _DE.CLOSE_INQUIRY, _D.INQUIRY_CLOSED),
        Transition(_D.MANUAL_REVIEW, _DE.WIN, _D.WON),
        Transition(_D.MANUAL_REVIEW, _DE.LOSE, _D.LOST),
        Transition(_D.MANUAL_REVIEW, _DE.ACCEPT, _D.ACCEPTED),
        Transition(_D.MANUAL_REVIEW, _DE.WITHDRAW, _D.WITHDRAWN),
    ),
)


#: Every table, in the order the docs present them.
ALL_WORKFLOWS: tuple[Workflow[Any, Any], ...] = (
    ORDER_WORKFLOW,
    SHIPMENT_WORKFLOW,
    INVOICE_WORKFLOW,
    PAYMENT_WORKFLOW,
    TRANSACTION_WORKFLOW,
    RETURN_WORKFLOW,
    DISPUTE_WORKFLOW,
)
