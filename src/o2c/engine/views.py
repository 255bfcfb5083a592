"""Engine part: the customer self-service views (read-only, scoped to one customer).

Every view takes the customer's id and refuses another customer's record with
:class:`~o2c.errors.CustomerMismatchError`, a :class:`~o2c.errors.NotFoundError`, so a
portal built on them shows "not found" and leaks nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from o2c.disputes import Resolution
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.records import (
    credit_notes,
    customers,
    disputes_of,
    invoices_of,
    open_position,
    orders_of,
    receipts_of,
    shipments_of,
)
from o2c.errors import CustomerMismatchError
from o2c.invoices import Invoice
from o2c.money import Money
from o2c.ports import UnitOfWork

__all__ = [
    "InvoiceSummary",
    "OrderTracking",
    "ShipmentTracking",
    "Statement",
    "StatementEntry",
    "TrackedLine",
    "ViewsMixin",
]


@attrs.frozen(kw_only=True)
class TrackedLine:
    """One order line's progress."""

    line_id: str
    sku: str
    description: str
    ordered: Decimal
    shipped: Decimal
    delivered: Decimal
    returned: Decimal
    cancelled: Decimal


@attrs.frozen(kw_only=True)
class ShipmentTracking:
    """One shipment as the customer sees it."""

    shipment_id: str
    state: str
    carrier: str | None
    tracking_number: str | None
    last_scan: str
    delivered_at: datetime | None


@attrs.frozen(kw_only=True)
class InvoiceSummary:
    """One invoice as the customer sees it."""

    invoice_id: str
    number: str
    order_id: str | None
    issue_date: date | None
    due_date: date | None
    total: Money
    open_amount: Money
    state: str


@attrs.frozen(kw_only=True)
class OrderTracking:
    """An order's progress: lines, shipments with tracking, invoices."""

    order_id: str
    state: str
    placed_at: datetime | None
    total: Money
    shipment_status: str
    billing_status: str
    lines: tuple[TrackedLine, ...]
    shipments: tuple[ShipmentTracking, ...]
    invoices: tuple[InvoiceSummary, ...]


@attrs.frozen(kw_only=True)
class StatementEntry:
    """One movement on a statement of account."""

    on: date
    kind: str
    reference: str
    debit: Money
    credit: Money
    balance: Money


@attrs.frozen(kw_only=True)
class Statement:
    """A customer's statement of account for a period, in one currency.

    ``closing_balance == opening_balance + sum(debits) - sum(credits)``; a positive
    balance is owed by the customer.
    """

    customer_id: str
    currency: str
    start: date
    end: date
    opening_balance: Money
    entries: tuple[StatementEntry, ...]
    closing_balance: Money


def _summary(invoice: Invoice) -> InvoiceSummary:
    return InvoiceSummary(
        invoice_id=invoice.id,
        number=invoice.number or "",
        order_id=invoice.order_id,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        total=invoice.total,
        open_amount=invoice.open_amount,
        state=invoice.state.value,
    )


def _write_offs(uow: UnitOfWork, invoice: Invoice) -> list[tuple[date, Money]]:
    """When and how much of an invoice was written off.

    The invoice keeps only the total; the engine writes off when it settles a dispute
    that names the invoice or charged back a payment applied to it, so each such
    dispute resolved by a write-off dates its part (the resolution's amount, at most
    what is left). A rest no dispute explains is dated at the invoice's issue.
    """
    if not invoice.written_off.is_positive():
        return []
    rest = invoice.written_off
    parts: list[tuple[date, Money]] = []
    for dispute in disputes_of(uow).find("customer_id", invoice.customer_id):
        done = dispute.resolution
        if done is None or done.resolution is not Resolution.WRITE_OFF or not rest.is_positive():
            continue
        paid_by = (
            receipts_of(uow).find("reference", dispute.payment_id) if dispute.payment_id else []
        )
        if dispute.invoice_id != invoice.id and not any(
            invoice.id in r.invoice_ids for r in paid_by
        ):
            continue
        part = done.amount.min(rest)
        parts.append((done.at.date(), part))
        rest = rest - part
    if rest.is_positive() and invoice.issue_date is not None:
        parts.append((invoice.issue_date, rest))
    return parts


class ViewsMixin(AfterSalesMixin):
    """Self-service: track orders, list invoices, statement of account."""

    def track_order(self, customer_id: str, order_id: str) -> OrderTracking:
        """An order's progress, for its customer."""

        def read(uow: UnitOfWork) -> OrderTracking:
            order = orders_of(uow).get(order_id)
            if order is None or order.customer_id != customer_id:
                raise CustomerMismatchError(kind="order", id=order_id)
            ships = shipments_of(uow).find("order_id", order_id)
            return OrderTracking(
                order_id=order.id,
                state=order.state.value,
                placed_at=order.placed_at,
                total=order.totals.total,
                shipment_status=order.shipment_status.value,
                billing_status=order.billing_status.value,
                lines=tuple(
                    TrackedLine(
                        line_id=ln.line_id,
                        sku=ln.sku,
                        description=ln.description,
                        ordered=ln.quantity,
                        shipped=ln.shipped,
                        delivered=ln.delivered,
                        returned=ln.returned,
                        cancelled=ln.cancelled,
                    )
                    for ln in order.lines
                ),
                shipments=tuple(
                    ShipmentTracking(
                        shipment_id=s.id,
                        state=s.state.value,
                        carrier=s.carrier,
                        tracking_number=s.tracking_number,
                        last_scan=s.tracking[-1].description if s.tracking else "",
                        delivered_at=s.delivered_at,
                    )
                    for s in ships
                ),
                invoices=tuple(_summary(i) for i in invoices_of(uow).find("order_id", order_id)),
            )

        return self._read(read)

    def open_invoices(self, customer_id: str) -> list[InvoiceSummary]:
        """The customer's invoices with money still owed, oldest first."""

        def read(uow: UnitOfWork) -> list[InvoiceSummary]:
            customers(uow).require(customer_id)
            return [_summary(i) for i in invoices_of(uow).find("open_customer", customer_id)]

        return self._read(read)

    def customer_invoices(self, customer_id: str) -> list[InvoiceSummary]:
        """Every invoice of the customer, open and settled."""

        def read(uow: UnitOfWork) -> list[InvoiceSummary]:
            customers(uow).require(customer_id)
            return [_summary(i) for i in invoices_of(uow).find("customer_id", customer_id)]

        return self._read(read)

    def customer_invoice(self, customer_id: str, invoice_id: str) -> Invoice:
        """One invoice of the customer (for download)."""
        return self._read(lambda uow: self._own(uow, customer_id, invoice_id))

    @staticmethod
    def _own(uow: UnitOfWork, customer_id: str, invoice_id: str) -> Invoice:
        invoice = invoices_of(uow).get(invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            raise CustomerMismatchError(kind="invoice", id=invoice_id)
        return invoice

    def statement(self, customer_id: str, start: date, end: date) -> Statement:
        """The customer's statement of account from ``start`` to ``end`` (inclusive), in
        the customer's currency: invoices and refunds are debits; credit notes, cash
        received, write-offs and early-payment discounts are credits."""

        def read(uow: UnitOfWork) -> Statement:
            customer = customers(uow).require(customer_id)
            currency = customer.currency
            zero = Money.zero(currency)
            moves: list[tuple[date, int, str, str, Money, Money]] = []
            for inv in invoices_of(uow).find("customer_id", customer_id):
                if inv.currency != currency or inv.issue_date is None:
                    continue
                moves.append((inv.issue_date, 0, "invoice", inv.number or inv.id, inv.total, zero))
                for note in credit_notes(uow).find("invoice_id", inv.id):
                    moves.append((note.issue_date, 1, "credit_note", note.number, zero, note.total))
                for on, amount in _write_offs(uow, inv):
                    moves.append((on, 3, "write_off", inv.number or inv.id, zero, amount))
                if inv.discount_taken.is_positive():
                    moves.append(
                        (
                            inv.issue_date,
                            3,
                            "discount",
                            inv.number or inv.id,
                            zero,
                            inv.discount_taken,
                        )
                    )
            for rc in receipts_of(uow).find("customer_id", customer_id):
                if rc.currency != currency:
                    continue
                moves.append((rc.received_at.date(), 2, "payment", rc.id, zero, rc.amount))
                for refund in rc.refunds:
                    moves.append(
                        (
                            refund.at.date(),
                            2,
                            "refund",
                            refund.reference or rc.id,
                            refund.amount,
                            zero,
                        )
                    )
            moves.sort(key=lambda m: (m[0], m[1]))
            opening = zero
            entries: list[StatementEntry] = []
            for on, _, kind, ref, debit, credit in moves:
                if on < start:
                    opening = opening + debit - credit
                    continue
                if on > end:
                    continue
                balance = (entries[-1].balance if entries else opening) + debit - credit
                entries.append(
                    StatementEntry(
                        on=on, kind=kind, reference=ref, debit=debit, credit=credit, balance=balance
                    )
                )
            closing = entries[-1].balance if entries else opening
            return Statement(
                customer_id=customer_id,
                currency=currency,
                start=start,
                end=end,
                opening_balance=opening,
                entries=tuple(entries),
                closing_balance=closing,
            )

        return self._read(read)

    def balance(self, customer_id: str) -> Money:
        """What the customer owes now: open invoices less unapplied cash."""

        def read(uow: UnitOfWork) -> Money:
            customer = customers(uow).require(customer_id)
            return open_position(uow, customer_id, customer.currency).balance

        return self._read(read)
