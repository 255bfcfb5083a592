"""The engine's self-service views: order tracking, invoices, statement and balance.

Each view is scoped to one customer: another customer's record is reported as not
found (CustomerMismatchError), so a portal built on them leaks nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest

from o2c.adapters.fake_carrier import FakeCarrier
from o2c.adapters.fake_gateway import FakeGateway
from o2c.adapters.memory import MemoryStorage
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C, Statement
from o2c.errors import CustomerMismatchError, NotFoundError
from o2c.invoices import Invoice
from o2c.money import Money, money_sum
from o2c.orders import Order, OrderLine
from o2c.pricing import TaxRate

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
CARD = "tok_visa"  # FakeGateway: any token but the decline and pending ones succeeds


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


class World:
    """Customers ``ada`` and ``bob``, 20 MUG at 50.00 + 19 % VAT (59.50 gross each)."""

    def __init__(self) -> None:
        self.clock = FixedClock(START)
        self.carrier = FakeCarrier(clock=self.clock, name="dhl")
        self.engine = O2C(
            MemoryStorage(),
            clock=self.clock,
            gateways={"card": FakeGateway()},
            carriers={"dhl": self.carrier},
        )
        self._keys = count(1)
        for cid in ("ada", "bob"):
            self.engine.add_customer(
                self.key(),
                Customer(
                    id=cid,
                    name=cid.title(),
                    currency="EUR",
                    billing_address=HOME,
                    shipping_addresses=(HOME,),
                    payment_terms="NET30",
                    credit_limit=eur("5000.00"),
                ),
            )
        self.engine.receive_stock(self.key(), "MUG", 20)

    def key(self) -> str:
        return f"key-{next(self._keys)}"

    def order(self, qty: int = 2, cid: str = "ada") -> Order:
        mug = OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=Decimal(qty),
            unit_price=eur("50.00"),
            tax_rates=(TaxRate("DE-19", Decimal(19)),),
        )
        return self.engine.place_order(self.key(), customer_id=cid, lines=[mug])

    def invoiced(self, qty: int = 2, cid: str = "ada") -> tuple[Order, Invoice]:
        order = self.order(qty, cid)
        self.engine.ship(self.key(), order.id)
        return order, self.engine.invoice_order(self.key(), order.id)

    def pay(self, invoice: Invoice, amount: str) -> None:
        receipt = self.engine.receive_payment(
            self.key(), amount=eur(amount), customer_id=invoice.customer_id
        )
        self.engine.apply_cash(self.key(), receipt.id, {invoice.id: eur(amount)})


@pytest.fixture
def w() -> World:
    return World()


def balanced(statement: Statement) -> bool:
    """opening + debits - credits == closing, and every running balance adds up."""
    zero = Money.zero(statement.currency)
    debits = money_sum((e.debit for e in statement.entries), statement.currency)
    credits = money_sum((e.credit for e in statement.entries), statement.currency)
    running = statement.opening_balance
    for entry in statement.entries:
        running = running + entry.debit - entry.credit
        if entry.balance != running:
            return False
    return (
        statement.opening_balance + debits - credits == statement.closing_balance
        and running == statement.closing_balance
        and debits >= zero
    )


# --------------------------------------------------------------------------- track_order


def test_track_order_shows_lines_shipments_and_invoices(w: World) -> None:
    order = w.order(3)
    shipment = w.engine.ship(w.key(), order.id, {"1": 2})
    w.clock.advance(days=4)
    w.engine.track_shipment(w.key(), shipment.id)
    invoice = w.engine.invoice_order(w.key(), order.id)
    view = w.engine.track_order("ada", order.id)
    assert (view.order_id, view.state, view.total) == (order.id, "confirmed", eur("178.50"))
    assert (view.shipment_status, view.billing_status) == ("partial", "partial")
    (ln,) = view.lines
    assert (ln.ordered, ln.shipped, ln.delivered, ln.returned, ln.cancelled) == (3, 2, 2, 0, 0)
    (parcel,) = view.shipments
    assert (parcel.state, parcel.carrier, parcel.tracking_number) == (
        "delivered",
        "dhl",
        "DHL000001",
    )
    assert parcel.last_scan == "Delivered - handed to recipient"
    assert parcel.delivered_at == START + timedelta(days=3, hours=4)
    (summary,) = view.invoices
    assert (summary.number, summary.total, summary.open_amount, summary.state) == (
        invoice.number,
        eur("119.00"),
        eur("119.00"),
        "issued",
    )


def test_track_order_of_another_customers_order_is_not_found(w: World) -> None:
    order = w.order(1, cid="bob")
    with pytest.raises(CustomerMismatchError) as caught:
        w.engine.track_order("ada", order.id)
    assert isinstance(caught.value, NotFoundError)
    assert (caught.value.kind, caught.value.id) == ("order", order.id)
    assert "bob" not in str(caught.value)


def test_track_order_of_an_unknown_order_looks_the_same(w: World) -> None:
    with pytest.raises(CustomerMismatchError) as caught:
        w.engine.track_order("ada", "SO-999999")
    assert (caught.value.kind, caught.value.id) == ("order", "SO-999999")


# --------------------------------------------------------------------------- invoices


def test_open_invoices_lists_what_is_owed_oldest_first(w: World) -> None:
    _, paid = w.invoiced(1)
    _, partly = w.invoiced(2)
    _, fresh = w.invoiced(1)
    w.invoiced(1, cid="bob")
    w.pay(paid, "59.50")
    w.pay(partly, "19.00")
    listed = w.engine.open_invoices("ada")
    assert [(s.invoice_id, s.open_amount, s.state) for s in listed] == [
        (partly.id, eur("100.00"), "partially_paid"),
        (fresh.id, eur("59.50"), "issued"),
    ]
    assert listed[0].due_date == (START + timedelta(days=30)).date()


def test_customer_invoices_lists_settled_ones_too(w: World) -> None:
    _, paid = w.invoiced(1)
    _, open_ = w.invoiced(1)
    w.invoiced(1, cid="bob")
    w.pay(paid, "59.50")
    listed = w.engine.customer_invoices("ada")
    assert [(s.invoice_id, s.state) for s in listed] == [
        (paid.id, "paid"),
        (open_.id, "issued"),
    ]


@pytest.mark.parametrize("view", ["open_invoices", "customer_invoices", "balance"])
def test_views_of_an_unknown_customer_are_not_found(w: World, view: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        getattr(w.engine, view)("nobody")
    assert (caught.value.kind, caught.value.id) == ("customer", "nobody")


def test_customer_invoice_returns_the_customers_own_invoice(w: World) -> None:
    _, invoice = w.invoiced(2)
    assert w.engine.customer_invoice("ada", invoice.id) == invoice


def test_customer_invoice_of_another_customer_is_not_found(w: World) -> None:
    _, invoice = w.invoiced(1, cid="bob")
    with pytest.raises(CustomerMismatchError) as caught:
        w.engine.customer_invoice("ada", invoice.id)
    assert (caught.value.kind, caught.value.id) == ("invoice", invoice.id)
    with pytest.raises(CustomerMismatchError):
        w.engine.customer_invoice("ada", "INV-999999")


# --------------------------------------------------------------------------- statement


def test_statement_lists_invoices_and_payments_with_a_running_balance(w: World) -> None:
    _, invoice = w.invoiced(2)
    w.clock.advance(days=10)
    w.pay(invoice, "100.00")
    statement = w.engine.statement("ada", date(2026, 3, 1), date(2026, 3, 31))
    assert (statement.customer_id, statement.currency) == ("ada", "EUR")
    assert [
        (e.on, e.kind, e.reference, e.debit, e.credit, e.balance) for e in statement.entries
    ] == [
        (date(2026, 3, 2), "invoice", invoice.number, eur("119.00"), eur("0"), eur("119.00")),
        (date(2026, 3, 12), "payment", "RC-000001", eur("0"), eur("100.00"), eur("19.00")),
    ]
    assert (statement.opening_balance, statement.closing_balance) == (eur("0"), eur("19.00"))
    assert balanced(statement)


def test_statement_carries_earlier_movements_into_the_opening_balance(w: World) -> None:
    _, march = w.invoiced(2)
    w.clock.advance(days=10)
    w.pay(march, "100.00")
    w.clock.set(datetime(2026, 4, 5, 9, tzinfo=UTC))
    _, april = w.invoiced(1)
    statement = w.engine.statement("ada", date(2026, 4, 1), date(2026, 4, 30))
    assert statement.opening_balance == eur("19.00")
    assert [(e.reference, e.balance) for e in statement.entries] == [(april.number, eur("78.50"))]
    assert statement.closing_balance == eur("78.50") == w.engine.balance("ada")
    assert balanced(statement)


def test_statement_leaves_out_movements_after_its_end(w: World) -> None:
    _, invoice = w.invoiced(2)
    w.clock.advance(days=10)
    w.pay(invoice, "100.00")
    statement = w.engine.statement("ada", date(2026, 3, 3), date(2026, 3, 11))
    assert statement.entries == ()
    assert statement.opening_balance == statement.closing_balance == eur("119.00")


def test_statement_of_a_card_return_shows_credit_note_and_refund(w: World) -> None:
    order, _ = w.invoiced(2)
    shipment = w.engine.shipments(order.id)[0]
    w.engine.confirm_delivery(w.key(), shipment.id)
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    w.engine.capture_payment(w.key(), payment.id)
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "chipped")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    w.engine.close_return(w.key(), rma.id)
    statement = w.engine.statement("ada", date(2026, 3, 1), date(2026, 3, 31))
    assert [(e.kind, e.debit, e.credit) for e in statement.entries] == [
        ("invoice", eur("119.00"), eur("0")),
        ("credit_note", eur("0"), eur("59.50")),
        ("payment", eur("0"), eur("119.00")),
        ("refund", eur("59.50"), eur("0")),
    ]
    assert statement.entries[1].reference == "CN-000001"
    assert statement.closing_balance.is_zero()
    assert w.engine.balance("ada").is_zero()
    assert balanced(statement)


def test_statement_of_a_lost_chargeback_shows_refund_and_write_off(w: World) -> None:
    order, _ = w.invoiced(2)
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    w.engine.capture_payment(w.key(), payment.id)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    w.engine.settle_dispute(w.key(), dispute.id, "lost")
    statement = w.engine.statement("ada", date(2026, 3, 1), date(2026, 3, 31))
    assert sorted((e.kind, e.debit - e.credit) for e in statement.entries) == [
        ("invoice", eur("119.00")),
        ("payment", eur("-119.00")),
        ("refund", eur("119.00")),
        ("write_off", eur("-119.00")),
    ]
    assert statement.closing_balance.is_zero()
    assert balanced(statement)


def test_statement_dates_a_write_off_when_it_was_made(w: World) -> None:
    order, invoice = w.invoiced(2)
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    w.engine.capture_payment(w.key(), payment.id)
    w.clock.set(datetime(2026, 4, 20, 9, tzinfo=UTC))
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    w.engine.settle_dispute(w.key(), dispute.id, "lost")
    march = w.engine.statement("ada", date(2026, 3, 1), date(2026, 3, 31))
    assert [e.kind for e in march.entries] == ["invoice", "payment"]
    assert march.closing_balance.is_zero()  # nothing was written off in March
    april = w.engine.statement("ada", date(2026, 4, 1), date(2026, 4, 30))
    assert [(e.on, e.kind, e.reference, e.debit - e.credit) for e in april.entries] == [
        (date(2026, 4, 20), "refund", f"chargeback {dispute.id}", eur("119.00")),
        (date(2026, 4, 20), "write_off", invoice.number, eur("-119.00")),
    ]
    assert april.opening_balance.is_zero()
    assert april.closing_balance.is_zero()
    assert balanced(march)
    assert balanced(april)


def test_statement_dates_every_invoice_a_lost_chargeback_wrote_off(w: World) -> None:
    _, first = w.invoiced(1)
    _, second = w.invoiced(2)
    payment = w.engine.pay_invoices(w.key(), "ada", [first.id, second.id], token=CARD)
    w.clock.set(datetime(2026, 4, 20, 9, tzinfo=UTC))
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    w.engine.settle_dispute(w.key(), dispute.id, "lost")
    april = w.engine.statement("ada", date(2026, 4, 1), date(2026, 4, 30))
    assert sorted((e.kind, e.reference, e.debit - e.credit) for e in april.entries) == [
        ("refund", f"chargeback {dispute.id}", eur("178.50")),
        ("write_off", first.number, eur("-59.50")),
        ("write_off", second.number, eur("-119.00")),
    ]
    assert {e.on for e in april.entries} == {date(2026, 4, 20)}
    assert april.opening_balance.is_zero()
    assert april.closing_balance.is_zero()


def test_statement_leaves_out_other_customers(w: World) -> None:
    w.invoiced(1, cid="bob")
    statement = w.engine.statement("ada", date(2026, 1, 1), date(2026, 12, 31))
    assert statement.entries == ()
    assert statement.closing_balance.is_zero()


# --------------------------------------------------------------------------- balance


def test_balance_is_open_invoices_less_unapplied_cash(w: World) -> None:
    _, first = w.invoiced(2)
    w.invoiced(1)
    w.pay(first, "19.00")
    w.engine.receive_payment(w.key(), amount=eur("30.00"), customer_id="ada")
    w.engine.receive_payment(w.key(), amount=eur("500.00"))  # no customer yet: not counted
    assert w.engine.balance("ada") == eur("129.50")  # 100.00 + 59.50 - 30.00
    assert w.engine.balance("bob").is_zero()
