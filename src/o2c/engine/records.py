"""Typed repositories over a unit of work, and what each kind of record is found by.

``open_customer`` indexes only records still open (orders not final, invoices with
money owed, receipts with unapplied cash, open disputes), so exposure, matching and
the self-service views touch the open items alone however long the history grows.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from o2c.bank_lines import BankLine
from o2c.cash import Receipt
from o2c.credit import CreditDecision
from o2c.customers import Customer
from o2c.disputes import Dispute
from o2c.engine.core import Repo
from o2c.fulfilment import Shipment
from o2c.invoices import CreditNote, Invoice
from o2c.lifecycles import InvoiceState, OrderState
from o2c.money import Money, money_sum
from o2c.orders import Order
from o2c.payments import Payment, TransactionKind
from o2c.ports import Kind, UnitOfWork
from o2c.remittance import CodCollection, CodRemittance
from o2c.returns import ReturnAuthorization
from o2c.store_credit import StoreCreditAccount
from o2c.tenders import Tender

__all__ = [
    "OpenPosition",
    "bank_lines_of",
    "cod_collections",
    "credit_notes",
    "customers",
    "decisions",
    "disputes_of",
    "invoices_of",
    "open_position",
    "order_tender_receipts",
    "orders_of",
    "payments_of",
    "receipts_of",
    "remittances_of",
    "returns_of",
    "shipments_of",
    "store_credits",
    "tenders_of",
]

_OPEN_ORDERS = frozenset({OrderState.PLACED, OrderState.ON_HOLD, OrderState.CONFIRMED})
_OPEN_INVOICES = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID})


def _no_index(_record: object) -> Mapping[str, str]:
    return {}


def _order_index(order: Order) -> Mapping[str, str]:
    index = {"customer_id": order.customer_id, "state": order.state.value}
    if order.state in _OPEN_ORDERS:
        index["open_customer"] = order.customer_id
    return index


def _invoice_index(invoice: Invoice) -> Mapping[str, str]:
    index = {"customer_id": invoice.customer_id}
    if invoice.order_id:
        index["order_id"] = invoice.order_id
    if invoice.number:
        index["number"] = invoice.number
    if invoice.state in _OPEN_INVOICES:
        index["open_customer"] = invoice.customer_id
    return index


def _by_invoice(note: CreditNote) -> Mapping[str, str]:
    return {"invoice_id": note.invoice_id}


def _payment_index(payment: Payment) -> Mapping[str, str]:
    index: dict[str, str] = {}
    if payment.order_id:
        index["order_id"] = payment.order_id
    if payment.customer_id:
        index["customer_id"] = payment.customer_id
    # The payment reconciler's work list and the people's list (o2c.engine.reconcile).
    if payment.in_flight:
        index["in_flight"] = "yes"
    if payment.attention is not None:
        index["attention"] = "yes"
    # Inbound webhooks find a disputed payment by the gateway's id of its charge.
    reference = _authorization_reference(payment)
    if reference is not None:
        index["gateway_reference"] = reference
    return index


def _authorization_reference(payment: Payment) -> str | None:
    """The gateway's reference of the payment's authorization or sale (its charge)."""
    for txn in payment.transactions:
        if txn.kind in (TransactionKind.AUTHORIZE, TransactionKind.SALE):
            return txn.gateway_reference
    return None


def _receipt_index(receipt: Receipt) -> Mapping[str, str]:
    index: dict[str, str] = {}
    if receipt.customer_id:
        index["customer_id"] = receipt.customer_id
        if receipt.unapplied.is_positive():
            index["unapplied_customer"] = receipt.customer_id
    if receipt.reference:
        index["reference"] = receipt.reference
    if receipt.tender_id:
        index["tender_id"] = receipt.tender_id
    return index


def _shipment_index(shipment: Shipment) -> Mapping[str, str]:
    index = {"order_id": shipment.order_id, "customer_id": shipment.customer_id}
    if shipment.tracking_number:
        index["tracking_number"] = shipment.tracking_number
    if shipment.cod_amount is not None and shipment.carrier:
        index["cod_carrier"] = shipment.carrier
    return index


def _return_index(rma: ReturnAuthorization) -> Mapping[str, str]:
    return {"order_id": rma.order_id, "customer_id": rma.customer_id}


def _dispute_index(dispute: Dispute) -> Mapping[str, str]:
    index = {"customer_id": dispute.customer_id}
    if dispute.invoice_id:
        index["invoice_id"] = dispute.invoice_id
    if dispute.payment_id:
        index["payment_id"] = dispute.payment_id
    if dispute.is_open:
        index["open_customer"] = dispute.customer_id
    return index


def _decision_index(_decision: CreditDecision) -> Mapping[str, str]:
    return {}


def _store_credit_index(account: StoreCreditAccount) -> Mapping[str, str]:
    return {"customer_id": account.customer_id}


def _tender_index(tender: Tender) -> Mapping[str, str]:
    index = {"order_id": tender.order_id, "customer_id": tender.customer_id}
    if tender.reference and tender.method.value == "bank_transfer":
        index["reference"] = tender.reference
    return index


def _by_carrier(record: CodRemittance | CodCollection) -> Mapping[str, str]:
    return {"carrier": record.carrier}


def _bank_line_index(line: BankLine) -> Mapping[str, str]:
    # ``key`` finds a line by account + bank line id (import once); ``unmatched``
    # lists incoming lines cash application has not received yet.
    index = {"key": line.key, "account": line.account}
    if line.unmatched:
        index["unmatched"] = "yes"
        index["unmatched_account"] = line.account
    return index


def customers(uow: UnitOfWork) -> Repo[Customer]:
    """Customers."""
    return Repo(uow, Kind.CUSTOMER.value, _no_index)


def orders_of(uow: UnitOfWork) -> Repo[Order]:
    """Orders."""
    return Repo(uow, Kind.ORDER.value, _order_index)


def invoices_of(uow: UnitOfWork) -> Repo[Invoice]:
    """Invoices."""
    return Repo(uow, Kind.INVOICE.value, _invoice_index)


def credit_notes(uow: UnitOfWork) -> Repo[CreditNote]:
    """Credit notes."""
    return Repo(uow, Kind.CREDIT_NOTE.value, _by_invoice)


def payments_of(uow: UnitOfWork) -> Repo[Payment]:
    """Payments."""
    return Repo(uow, Kind.PAYMENT.value, _payment_index)


def receipts_of(uow: UnitOfWork) -> Repo[Receipt]:
    """Receipts (cash received)."""
    return Repo(uow, Kind.RECEIPT.value, _receipt_index)


def shipments_of(uow: UnitOfWork) -> Repo[Shipment]:
    """Shipments."""
    return Repo(uow, Kind.SHIPMENT.value, _shipment_index)


def returns_of(uow: UnitOfWork) -> Repo[ReturnAuthorization]:
    """Returns (RMAs)."""
    return Repo(uow, Kind.RETURN.value, _return_index)


def disputes_of(uow: UnitOfWork) -> Repo[Dispute]:
    """Disputes."""
    return Repo(uow, Kind.DISPUTE.value, _dispute_index)


def store_credits(uow: UnitOfWork) -> Repo[StoreCreditAccount]:
    """Store-credit accounts (one per customer and currency, id ``customer/currency``)."""
    return Repo(uow, Kind.STORE_CREDIT.value, _store_credit_index)


def tenders_of(uow: UnitOfWork) -> Repo[Tender]:
    """Tenders outside any gateway (store credit redeemed, bank transfers awaited)."""
    return Repo(uow, Kind.TENDER.value, _tender_index)


def remittances_of(uow: UnitOfWork) -> Repo[CodRemittance]:
    """Carriers' cash-on-delivery remittances (id ``carrier/remittance_id``)."""
    return Repo(uow, Kind.COD_REMITTANCE.value, _by_carrier)


def cod_collections(uow: UnitOfWork) -> Repo[CodCollection]:
    """Per COD shipment, what its carrier remitted for it (id: the shipment's)."""
    return Repo(uow, Kind.COD_COLLECTION.value, _by_carrier)


def bank_lines_of(uow: UnitOfWork) -> Repo[BankLine]:
    """Bank lines imported from statements (issue 5, o2c.engine.cashapp)."""
    return Repo(uow, Kind.BANK_LINE.value, _bank_line_index)


def order_tender_receipts(uow: UnitOfWork, order_id: str) -> list[Receipt]:
    """Receipts paying an order's store-credit and bank-transfer tenders."""
    return [
        receipt
        for tender in tenders_of(uow).find("order_id", order_id)
        for receipt in receipts_of(uow).find("tender_id", tender.id)
    ]


@attrs.frozen
class OpenPosition:
    """A customer's open items in one currency.

    Attributes:
        invoices: Issued invoices with money owed, oldest first.
        receivable: What they owe.
        unapplied: Cash received from the customer and not yet applied.
    """

    invoices: tuple[Invoice, ...]
    receivable: Money
    unapplied: Money

    @property
    def balance(self) -> Money:
        """Owed less unapplied cash."""
        return self.receivable - self.unapplied


def open_position(uow: UnitOfWork, customer_id: str, currency: str) -> OpenPosition:
    """A customer's open invoices and unapplied cash in ``currency`` (open items only)."""
    found = tuple(
        inv
        for inv in invoices_of(uow).find("open_customer", customer_id)
        if inv.currency == currency
    )
    unapplied = money_sum(
        (
            r.unapplied
            for r in receipts_of(uow).find("unapplied_customer", customer_id)
            if r.currency == currency
        ),
        currency,
    )
    receivable = money_sum((inv.open_amount for inv in found), currency)
    return OpenPosition(invoices=found, receivable=receivable, unapplied=unapplied)


class _DecisionRepo(Repo[CreditDecision]):
    """Credit decisions are stored under their order's id."""

    __slots__ = ()

    def put(self, record: CreditDecision) -> None:
        self._uow.put(Kind.CREDIT_DECISION.value, record.order_id, record, {})


def decisions(uow: UnitOfWork) -> Repo[CreditDecision]:
    """The last credit decision per order."""
    return _DecisionRepo(uow, Kind.CREDIT_DECISION.value, _decision_index)
