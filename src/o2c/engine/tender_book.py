"""An order's tenders, read from the records inside a unit of work (no commands here).

Every way an order is paid is found from records that exist anyway: gateway payments
(``order_id``), tender records (store credit redeemed, bank transfers awaited) and
cash-on-delivery shipments. Their amounts are derived from the payments' transactions
and the receipts' ledgers, never stored beside them.

* :func:`order_tenders`: each tender with its view (what it holds, took, gave back) and
  what a refund may take from it, oldest first.
* :func:`tender_room`: what the order may still collect through a new tender:
  ``total - credited, written off or discounted on its invoices - the live tenders``.
* :func:`check_gateway_tender`: the split-tender check of a new gateway payment
  (:meth:`~o2c.engine.O2C.authorize_payment` calls it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

import attrs

from o2c.cash import Receipt
from o2c.engine.records import (
    invoices_of,
    payments_of,
    receipts_of,
    shipments_of,
    tenders_of,
)
from o2c.errors import (
    CurrencyMismatchError,
    InvalidAmountError,
    NothingToDoError,
    TenderExceedsOrderTotalError,
)
from o2c.fulfilment import Shipment
from o2c.lifecycles import (
    PAYMENT_WORKFLOW,
    InvoiceState,
    PaymentEvent,
    PaymentState,
    ShipmentState,
    TransactionState,
)
from o2c.money import Money, money_sum
from o2c.orders import Order
from o2c.payments import Payment, PaymentMethod, TransactionKind
from o2c.ports import UnitOfWork
from o2c.tenders import GATEWAY_METHODS, RefundSource, Tender, TenderView, method_in

__all__ = [
    "OrderTender",
    "check_gateway_tender",
    "check_tender_amount",
    "gateway_refundable",
    "new_transaction",
    "open_authorizations",
    "order_tenders",
    "receipt_takeable",
    "tender_room",
]

# Invoices cash can be taken back from (Invoice.unapply_payment refuses the others).
_UNAPPLIABLE = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.PAID})
_NOT_COLLECTED = frozenset(
    {ShipmentState.LOST, ShipmentState.RETURNED_TO_SENDER, ShipmentState.CANCELLED}
)


@attrs.frozen
class OrderTender:
    """One tender of an order, as a refund needs it.

    Attributes:
        view: What the order shows.
        source: What a refund may take from it, split by where the money sits.
        payment: The gateway payment (card, wallet), or None.
        receipts: The receipts holding its money (for a gateway payment: its captures).
    """

    view: TenderView
    source: RefundSource
    payment: Payment | None
    receipts: tuple[Receipt, ...]


def receipt_takeable(
    uow: UnitOfWork, receipts: Sequence[Receipt], currency: str
) -> tuple[Money, Money]:
    """``(unapplied, applied)``: what the receipts hold that a refund can take: unapplied
    cash, and cash applied to invoices it can be taken back from (not written off)."""
    unapplied = money_sum((r.unapplied for r in receipts), currency)
    applied = Money.zero(currency)
    for receipt in receipts:
        for invoice_id in receipt.invoice_ids:
            invoice = invoices_of(uow).get(invoice_id)
            if invoice is not None and invoice.state in _UNAPPLIABLE:
                applied = applied + receipt.applied_to(invoice_id)
    return unapplied, applied


def gateway_refundable(uow: UnitOfWork, payment: Payment) -> tuple[Money, Money]:
    """``(unapplied, applied)`` a gateway refund of ``payment`` may take now: no more
    than its receipts hold, than it captured and did not refund, less refunds still in
    flight; nothing while its state takes no refund."""
    zero = Money.zero(payment.currency)
    if not PAYMENT_WORKFLOW.can(payment.state, PaymentEvent.REFUND_PARTIALLY):
        return zero, zero
    receipts = receipts_of(uow).find("reference", payment.id)
    unapplied, applied = receipt_takeable(uow, receipts, payment.currency)
    in_flight = money_sum(
        (t.amount for t in payment.in_flight if t.kind is TransactionKind.REFUND),
        payment.currency,
    )
    cap = (payment.refundable - in_flight).max(zero).min(unapplied + applied)
    first = unapplied.min(cap)
    return first, cap - first


def _payment_tender(uow: UnitOfWork, payment: Payment) -> OrderTender:
    zero = Money.zero(payment.currency)
    if payment.state in (PaymentState.DECLINED, PaymentState.VOIDED):
        held = zero
    elif payment.state is PaymentState.NEW:
        held = payment.amount  # its authorization (or sale) awaits the gateway's answer
    else:
        held = payment.capturable
    unapplied, applied = gateway_refundable(uow, payment)
    view = TenderView(
        tender_id=payment.id,
        method=payment.method,
        state=payment.state.value,
        amount=payment.amount,
        held=held,
        taken=payment.captured,
        refunded=payment.refunded,
        refundable=unapplied + applied,
        created_at=payment.created_at,
        reference=payment.gateway,
    )
    source = RefundSource(
        tender_id=payment.id,
        method=payment.method,
        created_at=payment.created_at,
        unapplied=unapplied,
        applied=applied,
    )
    receipts = tuple(receipts_of(uow).find("reference", payment.id))
    return OrderTender(view=view, source=source, payment=payment, receipts=receipts)


def _receipts_tender(
    uow: UnitOfWork,
    *,
    tender_id: str,
    method: PaymentMethod,
    amount: Money,
    created_at: datetime,
    receipts: Sequence[Receipt],
    state: str,
    held: Money,
    reference: str | None,
) -> OrderTender:
    currency = amount.currency
    unapplied, applied = receipt_takeable(uow, receipts, currency)
    view = TenderView(
        tender_id=tender_id,
        method=method,
        state=state,
        amount=amount,
        held=held,
        taken=money_sum((r.amount for r in receipts), currency),
        refunded=money_sum((r.refunded for r in receipts), currency),
        refundable=unapplied + applied,
        created_at=created_at,
        reference=reference,
    )
    source = RefundSource(
        tender_id=tender_id,
        method=method,
        created_at=view.created_at,
        unapplied=unapplied,
        applied=applied,
    )
    return OrderTender(view=view, source=source, payment=None, receipts=tuple(receipts))


def _recorded_tender(uow: UnitOfWork, tender: Tender) -> OrderTender:
    receipts = receipts_of(uow).find("tender_id", tender.id)
    zero = Money.zero(tender.currency)
    received = money_sum((r.amount for r in receipts), tender.currency)
    held = zero
    if tender.method is PaymentMethod.STORE_CREDIT:
        refunded = money_sum((r.refunded for r in receipts), tender.currency)
        state = "redeemed" if refunded.is_zero() else "partially_refunded"
        if refunded == received:
            state = "refunded"
    elif tender.is_cancelled:
        state = "cancelled"
    else:
        held = (tender.amount - received).max(zero)
        state = "awaiting" if received.is_zero() else "received"
        if held.is_positive() and received.is_positive():
            state = "partially_received"
    return _receipts_tender(
        uow,
        tender_id=tender.id,
        method=tender.method,
        amount=tender.amount,
        created_at=tender.created_at,
        receipts=receipts,
        state=state,
        held=held,
        reference=tender.reference,
    )


def _cod_tender(uow: UnitOfWork, shipment: Shipment, cod: Money) -> OrderTender:
    receipts = [
        r
        for r in receipts_of(uow).find("reference", shipment.id)
        if r.customer_id == shipment.customer_id
    ]
    zero = Money.zero(cod.currency)
    held = zero
    if receipts:
        state = "collected"
    elif shipment.state in _NOT_COLLECTED:
        state = "not_collected"
    else:
        state = "awaiting_delivery"
        held = cod
    return _receipts_tender(
        uow,
        tender_id=shipment.id,
        method=PaymentMethod.CASH_ON_DELIVERY,
        amount=cod,
        created_at=shipment.created_at,
        receipts=receipts,
        state=state,
        held=held,
        reference=shipment.carrier,
    )


def order_tenders(uow: UnitOfWork, order: Order) -> list[OrderTender]:
    """Every tender of ``order`` in its currency, oldest first (gateway payments, then
    tender records, then cash-on-delivery shipments, when opened at the same instant)."""
    found: list[OrderTender] = [
        _payment_tender(uow, p)
        for p in payments_of(uow).find("order_id", order.id)
        if p.currency == order.currency
    ]
    found += [
        _recorded_tender(uow, t)
        for t in tenders_of(uow).find("order_id", order.id)
        if t.currency == order.currency
    ]
    found += [
        _cod_tender(uow, s, s.cod_amount)
        for s in shipments_of(uow).find("order_id", order.id)
        if s.cod_amount is not None and s.cod_amount.currency == order.currency
    ]
    # sorted() is stable: ties keep the order above.
    return sorted(found, key=lambda t: t.view.created_at)


def tender_room(uow: UnitOfWork, order: Order) -> Money:
    """What a new tender of ``order`` may still take (never negative): the order total,
    less what its invoices settled other than by cash (credit notes, write-offs,
    early-payment discounts), less what its live tenders count."""
    currency = order.currency
    zero = Money.zero(currency)
    settled = zero
    for invoice in invoices_of(uow).find("order_id", order.id):
        settled = settled + invoice.credited + invoice.written_off + invoice.discount_taken
    counted = money_sum((t.view.counted for t in order_tenders(uow, order)), currency)
    return (order.totals.total - settled - counted).max(zero)


def check_tender_amount(uow: UnitOfWork, order: Order, amount: Money | None) -> Money:
    """The amount of a new tender of ``order``: ``amount``, or (None) all the room left.

    Raises:
        TenderExceedsOrderTotalError: ``amount`` exceeds the room left.
        NothingToDoError: no amount given and nothing is left to pay.
        CurrencyMismatchError: ``amount`` is not in the order's currency.
    """
    room = tender_room(uow, order)
    if amount is None:
        if not room.is_positive():
            raise NothingToDoError(
                subject=f"order {order.id}", reason="its tenders cover its total already"
            )
        return room
    if not isinstance(cast(object, amount), Money):
        raise InvalidAmountError(value=amount, reason="amount must be Money")
    if amount.currency != order.currency:
        raise CurrencyMismatchError(left=order.currency, right=amount.currency)
    if amount > room:
        raise TenderExceedsOrderTotalError(
            f"a tender of {amount} exceeds the {room} order {order.id} has left to pay "
            f"by {amount - room}",
            order_id=order.id,
            requested=amount,
            available=room,
            excess=amount - room,
            total=order.totals.total,
        )
    return amount


def check_gateway_tender(
    uow: UnitOfWork, order: Order, amount: Money | None, method: PaymentMethod | str
) -> Money:
    """The amount of a new gateway payment of ``order`` (split tender: default, what the
    other tenders leave), after checking its method and that it fits.

    Raises:
        TenderMethodError: not a gateway method (card, wallet, direct debit, other).
        (and what :func:`check_tender_amount` raises)
    """
    method_in(
        method,
        GATEWAY_METHODS,
        "not a gateway method: use pay_with_store_credit, expect_bank_transfer "
        "or ship(cod_amount=...)",
    )
    return check_tender_amount(uow, order, amount)


def open_authorizations(tenders: Sequence[OrderTender]) -> list[Payment]:
    """Gateway payments holding an authorization with nothing captured, and nothing in
    flight: what a full refund voids instead of refunding."""
    return [
        t.payment
        for t in tenders
        if t.payment is not None
        and t.payment.capturable.is_positive()
        and t.payment.captured.is_zero()
        and not t.payment.in_flight
    ]


def new_transaction(payment: Payment, before: Payment) -> tuple[str, TransactionState]:
    """``(id, state)`` of the transaction ``payment`` got since ``before``."""
    known = {t.id for t in before.transactions}
    new = [t for t in payment.transactions if t.id not in known] or [payment.transactions[-1]]
    return new[-1].id, new[-1].state
