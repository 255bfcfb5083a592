"""Payment methods, split tender, refunds to the original methods and COD remittances.

Engine tests drive a fresh engine (memory storage, fixed clock, fake gateway "card",
fake carrier "dhl"); events are read from an ``o2c_handle_event`` subscriber. The pure
parts (creditor references, tender records, the refund plan, remittance checks) are
tested at the end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from o2c import hookimpl
from o2c.adapters.fake_carrier import FakeCarrier, Scenario
from o2c.adapters.fake_gateway import DECLINE_TOKEN, FakeGateway
from o2c.adapters.faulty_gateway import Fault
from o2c.adapters.memory import MemoryStorage
from o2c.cash import Receipt
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C
from o2c.errors import (
    CardDataRefusedError,
    CurrencyMismatchError,
    EngineStateError,
    InsufficientStoreCreditError,
    InvalidAmountError,
    NotFoundError,
    NothingToDoError,
    ReceiptAlreadyLinkedError,
    RefundExceedsRefundableError,
    RemittanceAlreadyRecordedError,
    RemittanceFieldError,
    TenderExceedsOrderTotalError,
    TenderFieldError,
    TenderMethodError,
    UnknownAdapterError,
    UnknownTransferReferenceError,
)
from o2c.events import DomainEvent, RefundPart, RefundPayoutRequested
from o2c.money import Money
from o2c.orders import Order, OrderLine
from o2c.payments import PaymentMethod, TransactionKind
from o2c.pricing import TaxRate
from o2c.remittance import (
    MAX_LINES,
    CodCollection,
    CodFacts,
    CodRemittance,
    CodStatus,
    position,
    reconcile,
)
from o2c.tenders import (
    OrderRefund,
    RefundSource,
    Tender,
    TenderView,
    cancel_tender,
    creditor_reference,
    find_creditor_references,
    format_creditor_reference,
    is_creditor_reference,
    open_tender,
    plan_refund,
)

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
VAT19 = (TaxRate("DE-19", Decimal(19)),)
CARD = "tok_visa"


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def customer(cid: str, currency: str = "EUR") -> Customer:
    return Customer(
        id=cid,
        name=cid.title(),
        currency=currency,
        billing_address=HOME,
        shipping_addresses=(HOME,),
        payment_terms="NET30",
        credit_limit=Money("5000.00", currency),
    )


def mugs(qty: int, currency: str = "EUR") -> list[OrderLine]:
    """``qty`` mugs at 50.00 + 19 % VAT: 59.50 each, 119.00 for two."""
    return [
        OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=Decimal(qty),
            unit_price=Money("50.00", currency),
            tax_rates=VAT19,
        )
    ]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[DomainEvent] = []

    @hookimpl
    def o2c_handle_event(self, event: DomainEvent, seq: int) -> None:
        self.seen.append(event)


class World:
    """Customers ada, bob (EUR) and yank (USD); 50 mugs in stock."""

    def __init__(self) -> None:
        from o2c.plugins import Plugins

        self.clock = FixedClock(START)
        self.storage = MemoryStorage()
        self.gateway = FakeGateway()
        self.carrier = FakeCarrier(clock=self.clock, name="dhl")
        self.recorder = Recorder()
        pm = Plugins()
        pm.register(self.recorder, name="recorder")
        self.engine = O2C(
            self.storage,
            clock=self.clock,
            gateways={"card": self.gateway},
            carriers={"dhl": self.carrier},
            plugins=pm,
        )
        self._keys = count(1)
        for cid, currency in (("ada", "EUR"), ("bob", "EUR"), ("yank", "USD")):
            self.engine.add_customer(self.key(), customer(cid, currency))
        self.engine.receive_stock(self.key(), "MUG", 50)
        self._since = len(self.recorder.seen)

    def key(self) -> str:
        return f"key-{next(self._keys)}"

    def mark(self) -> None:
        self._since = len(self.recorder.seen)

    def events(self) -> list[DomainEvent]:
        return self.recorder.seen[self._since :]

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events()]

    def order(self, qty: int = 2, cid: str = "ada") -> Order:
        currency = "USD" if cid == "yank" else "EUR"
        return self.engine.place_order(self.key(), customer_id=cid, lines=mugs(qty, currency))

    def grant(self, amount: str, cid: str = "ada") -> None:
        self.engine.grant_store_credit(self.key(), cid, eur(amount), reason="goodwill")

    def card(self, order: Order, amount: str | None = None, **kw: Any) -> str:
        money = eur(amount) if amount is not None else None
        return self.engine.authorize_payment(
            self.key(), order.id, token=CARD, amount=money, **kw
        ).id

    def capture(self, payment_id: str, amount: str | None = None) -> None:
        money = eur(amount) if amount is not None else None
        self.engine.capture_payment(self.key(), payment_id, money)

    def invoice(self, order: Order) -> str:
        return self.engine.invoice_order(self.key(), order.id, "ordered").id

    def deliver(self, order: Order, cod: str | None = None) -> str:
        cod_amount = eur(cod) if cod is not None else None
        shipment = self.engine.ship(self.key(), order.id, cod_amount=cod_amount)
        self.clock.advance(days=5)
        self.engine.track_shipment(self.key(), shipment.id)
        return shipment.id

    def wire(self, amount: str, text: str, cid: str | None = None) -> Receipt:
        return self.engine.receive_payment(
            self.key(), amount=eur(amount), customer_id=cid, reference=text
        )

    def tenders(self, order: Order) -> dict[str, TenderView]:
        return {t.tender_id: t for t in self.engine.order_tenders(order.id)}


@pytest.fixture
def w() -> World:
    return World()


def parts(refund: OrderRefund) -> list[tuple[str, str, Money]]:
    return [(p.tender_id, p.outcome, p.amount) for p in refund.parts]


# --------------------------------------------------------------------------- wallets, split tender


def test_a_wallet_payment_takes_the_card_path_and_records_its_method(w: World) -> None:
    order = w.order()
    payment_id = w.card(order, method="wallet")
    w.capture(payment_id)
    payment = w.engine.payment(payment_id)
    assert (payment.method, payment.captured) == (PaymentMethod.WALLET, eur("119.00"))
    assert w.engine.receipt("RC-000001").method is PaymentMethod.WALLET
    assert [e.kind for e in w.gateway.side_effects] == [
        TransactionKind.AUTHORIZE,
        TransactionKind.CAPTURE,
    ]
    assert w.tenders(order)[payment_id].method is PaymentMethod.WALLET


def test_authorize_defaults_to_what_the_other_tenders_leave(w: World) -> None:
    order = w.order()
    w.grant("50.00")
    w.engine.pay_with_store_credit(w.key(), order.id)
    payment_id = w.card(order)
    assert w.engine.payment(payment_id).amount == eur("69.00")
    views = w.tenders(order)
    assert sum((v.counted for v in views.values()), eur("0")) == eur("119.00")


def test_two_cards_split_one_order_and_both_pay_its_invoice(w: World) -> None:
    order = w.order()
    first = w.card(order, "60.00")
    second = w.card(order)  # the 59.00 left
    invoice_id = w.invoice(order)
    w.capture(first)
    w.capture(second)
    invoice = w.engine.invoice(invoice_id)
    assert (invoice.state.value, invoice.applied) == ("paid", eur("119.00"))
    assert [a.amount for a in invoice.applications] == [eur("60.00"), eur("59.00")]
    views = w.tenders(order)
    assert [(v.taken, v.state) for v in views.values()] == [
        (eur("60.00"), "captured"),
        (eur("59.00"), "captured"),
    ]


def test_a_tender_beyond_the_order_total_is_refused_naming_the_excess(w: World) -> None:
    order = w.order()
    w.card(order, "100.00")
    before, moved = w.storage.snapshot(), list(w.gateway.side_effects)
    with pytest.raises(TenderExceedsOrderTotalError) as refused:
        w.card(order, "20.00")
    error = refused.value
    assert (error.excess, error.available, error.requested) == (
        eur("1.00"),
        eur("19.00"),
        eur("20.00"),
    )
    assert (error.order_id, error.total) == (order.id, eur("119.00"))
    assert "by 1.00 EUR" in str(error)
    assert w.storage.snapshot() == before
    assert w.gateway.side_effects == moved


def test_a_fully_tendered_order_takes_no_default_tender(w: World) -> None:
    order = w.order()
    w.card(order)
    with pytest.raises(NothingToDoError, match="cover its total"):
        w.card(order)
    with pytest.raises(NothingToDoError):
        w.engine.expect_bank_transfer(w.key(), order.id)


def test_declined_and_voided_tenders_free_their_room(w: World) -> None:
    order = w.order()
    declined = w.engine.authorize_payment(w.key(), order.id, token=DECLINE_TOKEN)
    assert declined.state.value == "declined"
    voided = w.card(order)
    w.engine.void_payment(w.key(), voided)
    assert not w.tenders(order)[voided].live
    assert w.engine.payment(w.card(order)).amount == eur("119.00")


def test_a_partial_capture_releases_the_rest_of_its_room(w: World) -> None:
    order = w.order()
    payment_id = w.card(order)
    w.capture(payment_id, "100.00")  # the gateway releases the other 19.00
    view = w.tenders(order)[payment_id]
    assert (view.held, view.taken, view.counted) == (eur("0.00"), eur("100.00"), eur("100.00"))
    assert w.engine.payment(w.card(order)).amount == eur("19.00")


def test_cash_on_delivery_counts_with_the_other_tenders(w: World) -> None:
    order = w.order()  # 119.00
    w.card(order, "100.00")
    before = w.storage.snapshot()
    with pytest.raises(TenderExceedsOrderTotalError) as refused:
        w.engine.ship(w.key(), order.id, cod_amount=eur("19.01"))
    assert refused.value.excess == eur("0.01")
    assert w.storage.snapshot() == before  # nothing shipped, no label bought
    shipment = w.engine.ship(w.key(), order.id, cod_amount=eur("19.00"))
    assert shipment.cod_amount == eur("19.00")


@pytest.mark.parametrize("method", ["store_credit", "bank_transfer", "cash_on_delivery", "cash"])
def test_authorize_takes_gateway_methods_only(w: World, method: str) -> None:
    with pytest.raises(TenderMethodError) as refused:
        w.card(w.order(), method=method)
    assert refused.value.method == method


def test_a_tender_in_another_currency_is_refused(w: World) -> None:
    order = w.order()
    with pytest.raises(CurrencyMismatchError):
        w.engine.authorize_payment(w.key(), order.id, token=CARD, amount=Money("5.00", "USD"))
    with pytest.raises(InvalidAmountError):
        w.engine.expect_bank_transfer(w.key(), order.id, "5.00")  # type: ignore[arg-type]


def test_credit_notes_lower_what_the_order_can_collect(w: World) -> None:
    order = w.order()
    w.deliver(order)
    w.invoice(order)
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "chipped")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    w.engine.close_return(w.key(), rma.id)  # unpaid: the note lowers what is owed
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    assert tender.amount == eur("59.50")


# --------------------------------------------------------------------------- store credit


def test_grant_and_revoke_store_credit(w: World) -> None:
    account = w.engine.grant_store_credit(w.key(), "ada", eur("30.00"), reason="late parcel")
    assert (account.id, account.balance) == ("ada/EUR", eur("30.00"))
    account = w.engine.revoke_store_credit(w.key(), "ada", eur("10.00"), reason="expired")
    assert (account.reversed, account.balance) == (eur("10.00"), eur("20.00"))
    assert w.names() == ["StoreCreditGranted", "StoreCreditReversed"]
    assert w.engine.store_credit("ada") == account
    assert w.engine.store_credit("ada", "USD").balance == Money("0.00", "USD")
    with pytest.raises(InsufficientStoreCreditError):
        w.engine.revoke_store_credit(w.key(), "ada", eur("20.01"), reason="expired")
    with pytest.raises(NotFoundError):
        w.engine.grant_store_credit(w.key(), "nobody", eur("1.00"), reason="x")
    with pytest.raises(InvalidAmountError):
        w.engine.grant_store_credit(w.key(), "ada", "1.00", reason="x")  # type: ignore[arg-type]


def test_store_credit_pays_an_invoiced_order_without_a_gateway(w: World) -> None:
    order = w.order()
    invoice_id = w.invoice(order)
    w.grant("200.00")
    w.mark()
    tender = w.engine.pay_with_store_credit(w.key(), order.id)  # default: all that fits
    assert (tender.method, tender.amount) == (PaymentMethod.STORE_CREDIT, eur("119.00"))
    assert tender.reference == "SC-000002"
    assert w.engine.invoice(invoice_id).state.value == "paid"
    receipt = w.engine.receipt("RC-000001")
    assert (receipt.method, receipt.reference, receipt.tender_id) == (
        PaymentMethod.STORE_CREDIT,
        tender.id,
        tender.id,
    )
    assert w.engine.store_credit("ada").balance == eur("81.00")
    assert w.gateway.side_effects == []
    assert w.names()[:3] == ["StoreCreditRedeemed", "TenderOpened", "CashReceived"]
    assert "InvoicePaymentApplied" in w.names()


def test_store_credit_redeemed_before_invoicing_is_applied_at_issue(w: World) -> None:
    order = w.order()
    w.grant("50.00")
    w.engine.pay_with_store_credit(w.key(), order.id, eur("20.00"))
    assert w.engine.receipt("RC-000001").unapplied == eur("20.00")
    invoice = w.engine.invoice(w.invoice(order))
    assert (invoice.applied, invoice.open_amount) == (eur("20.00"), eur("99.00"))
    assert w.engine.balance("ada") == eur("99.00")


def test_store_credit_refusals(w: World) -> None:
    order = w.order()
    with pytest.raises(NothingToDoError, match="no store credit"):
        w.engine.pay_with_store_credit(w.key(), order.id)
    w.grant("10.00")
    with pytest.raises(InsufficientStoreCreditError):
        w.engine.pay_with_store_credit(w.key(), order.id, eur("10.01"))
    w.grant("500.00")
    with pytest.raises(TenderExceedsOrderTotalError):
        w.engine.pay_with_store_credit(w.key(), order.id, eur("119.01"))
    w.engine.cancel_order(w.key(), order.id, "changed mind")
    with pytest.raises(EngineStateError, match="cancelled"):
        w.engine.pay_with_store_credit(w.key(), order.id)
    assert w.engine.store_credit("ada").balance == eur("510.00")


# --------------------------------------------------------------------------- bank transfers


def test_a_bank_transfer_is_expected_under_a_creditor_reference(w: World) -> None:
    order = w.order()
    w.mark()
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    assert (tender.id, tender.amount, tender.reference) == (
        "TND-000001",
        eur("119.00"),
        "RF93TND000001",
    )
    assert is_creditor_reference(tender.reference)
    assert w.names() == ["TenderOpened"]
    assert w.tenders(order)[tender.id].state == "awaiting"


def test_a_transfer_quoting_the_reference_pays_the_order(w: World) -> None:
    order = w.order()
    invoice_id = w.invoice(order)
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    receipt = w.wire("119.00", "ORDER SO-1 " + format_creditor_reference(tender.reference).lower())
    assert receipt.customer_id is None
    w.mark()
    matched = w.engine.apply_bank_transfer(w.key(), receipt.id)
    assert (matched.customer_id, matched.tender_id, matched.unapplied) == (
        "ada",
        tender.id,
        eur("0.00"),
    )
    assert w.engine.invoice(invoice_id).state.value == "paid"
    assert w.names()[:2] == ["ReceiptCustomerAssigned", "ReceiptTenderLinked"]
    assert w.tenders(order)[tender.id].state == "received"
    with pytest.raises(NothingToDoError, match="already"):
        w.engine.apply_bank_transfer(w.key(), receipt.id)


def test_a_transfer_before_invoicing_is_applied_at_issue(w: World) -> None:
    order = w.order()
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    receipt = w.wire("119.00", tender.reference, cid="ada")
    w.engine.apply_bank_transfer(w.key(), receipt.id)
    invoice = w.engine.invoice(w.invoice(order))
    assert invoice.state.value == "paid"


def test_a_short_transfer_leaves_the_rest_awaited(w: World) -> None:
    order = w.order()
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    w.engine.apply_bank_transfer(w.key(), w.wire("100.00", "payment").id, tender.reference)
    view = w.tenders(order)[tender.id]
    assert (view.state, view.taken, view.held) == (
        "partially_received",
        eur("100.00"),
        eur("19.00"),
    )
    second = w.wire("19.00", f"rest {tender.reference}")
    w.engine.apply_bank_transfer(w.key(), second.id)
    assert w.tenders(order)[tender.id].state == "received"


def test_bank_transfer_matching_refusals(w: World) -> None:
    order = w.order()
    first = w.engine.expect_bank_transfer(w.key(), order.id, eur("60.00"))
    second = w.engine.expect_bank_transfer(w.key(), order.id)
    with pytest.raises(UnknownTransferReferenceError) as unknown:
        w.engine.apply_bank_transfer(w.key(), w.wire("1.00", "no reference").id)
    assert unknown.value.reference == "no reference"
    both = w.wire("1.00", f"{first.reference} {second.reference}")
    with pytest.raises(UnknownTransferReferenceError, match="2 awaited"):
        w.engine.apply_bank_transfer(w.key(), both.id)
    linked = w.wire("60.00", first.reference)
    w.engine.apply_bank_transfer(w.key(), linked.id)
    with pytest.raises(ReceiptAlreadyLinkedError) as again:
        w.engine.apply_bank_transfer(w.key(), linked.id, second.reference)
    assert (again.value.tender_id, again.value.requested) == (first.id, second.id)
    bobs = w.wire("1.00", second.reference, cid="bob")
    with pytest.raises(EngineStateError, match="from bob"):
        w.engine.apply_bank_transfer(w.key(), bobs.id)
    used = w.wire("5.00", second.reference, cid="ada")
    w.engine.refund_unapplied(w.key(), used.id, eur("1.00"), "paid back")
    with pytest.raises(EngineStateError, match="applied or refunded"):
        w.engine.apply_bank_transfer(w.key(), used.id)
    with pytest.raises(TenderFieldError):
        w.engine.apply_bank_transfer(w.key(), bobs.id, 42)  # type: ignore[arg-type]
    with pytest.raises(CardDataRefusedError):
        w.engine.apply_bank_transfer(w.key(), bobs.id, "card 4111 1111 1111 1111")
    dollars = w.engine.receive_payment(
        w.key(), amount=Money("5.00", "USD"), reference=second.reference
    )
    with pytest.raises(CurrencyMismatchError):
        w.engine.apply_bank_transfer(w.key(), dollars.id)


def test_cancelling_an_awaited_transfer_frees_its_room(w: World) -> None:
    order = w.order()
    tender = w.engine.expect_bank_transfer(w.key(), order.id)
    w.mark()
    cancelled = w.engine.cancel_bank_transfer(w.key(), tender.id)
    assert cancelled.is_cancelled
    assert w.names() == ["TenderCancelled"]
    assert w.tenders(order)[tender.id].state == "cancelled"
    assert w.engine.payment(w.card(order)).amount == eur("119.00")
    with pytest.raises(TenderFieldError, match="cancelled already"):
        w.engine.cancel_bank_transfer(w.key(), tender.id)
    # Money quoting a cancelled transfer is still the customer's: it is matched.
    late = w.engine.apply_bank_transfer(w.key(), w.wire("10.00", tender.reference).id)
    assert late.tender_id == tender.id


def test_only_a_bank_transfer_can_be_cancelled(w: World) -> None:
    order = w.order()
    w.grant("10.00")
    tender = w.engine.pay_with_store_credit(w.key(), order.id)
    with pytest.raises(TenderMethodError):
        w.engine.cancel_bank_transfer(w.key(), tender.id)


# --------------------------------------------------------------------------- the order's view


def test_order_tenders_show_every_method(w: World) -> None:
    order = w.order(4)  # 238.00
    w.grant("20.00")
    credit = w.engine.pay_with_store_credit(w.key(), order.id)
    payment_id = w.card(order, "100.00")
    transfer = w.engine.expect_bank_transfer(w.key(), order.id, eur("50.00"))
    shipment = w.engine.ship(w.key(), order.id, {"1": 1}, cod_amount=eur("68.00"))
    views = w.tenders(order)
    assert {k: (v.method.value, v.state, v.counted) for k, v in views.items()} == {
        payment_id: ("card", "authorized", eur("100.00")),
        credit.id: ("store_credit", "redeemed", eur("20.00")),
        transfer.id: ("bank_transfer", "awaiting", eur("50.00")),
        shipment.id: ("cash_on_delivery", "awaiting_delivery", eur("68.00")),
    }
    assert views[transfer.id].reference == transfer.reference
    assert views[shipment.id].reference == "dhl"
    assert views[payment_id].refundable == eur("0.00")  # nothing captured yet
    w.clock.advance(days=5)
    w.engine.track_shipment(w.key(), shipment.id)
    collected = w.tenders(order)[shipment.id]
    assert (collected.state, collected.taken, collected.held) == (
        "collected",
        eur("68.00"),
        eur("0.00"),
    )


def test_cash_on_a_lost_parcel_is_not_collected(w: World) -> None:
    order = w.order()
    w.carrier.plan_next(Scenario.LOST)
    shipment = w.engine.ship(w.key(), order.id, cod_amount=eur("119.00"))
    w.clock.advance(days=9)
    w.engine.track_shipment(w.key(), shipment.id)
    view = w.tenders(order)[shipment.id]
    assert (view.state, view.live) == ("not_collected", False)


# --------------------------------------------------------------------------- refunds


def _split_prepaid(w: World) -> tuple[Order, str, str]:
    """SO paid 50.00 store credit (first) and 69.00 card (captured), nothing invoiced."""
    order = w.order()
    w.grant("50.00")
    tender = w.engine.pay_with_store_credit(w.key(), order.id)
    payment_id = w.card(order)
    w.capture(payment_id)
    return order, tender.id, payment_id


def test_a_refund_goes_back_to_each_tender_store_credit_first(w: World) -> None:
    order, credit, card = _split_prepaid(w)
    w.mark()
    refund = w.engine.refund_order(w.key(), order.id, eur("60.00"))
    assert parts(refund) == [
        (credit, "store_credit", eur("50.00")),
        (card, "refunded", eur("10.00")),
    ]
    assert (refund.requested, refund.refunded) == (eur("60.00"), eur("60.00"))
    assert refund.parts[0].reference == "SC-000003"
    assert refund.parts[1].reference == f"{card}/T3"
    assert w.engine.store_credit("ada").balance == eur("50.00")
    assert w.engine.payment(card).refunded == eur("10.00")
    assert w.names()[-1] == "OrderRefunded"
    views = w.tenders(order)
    assert (views[credit].state, views[credit].refundable) == ("refunded", eur("0.00"))
    assert views[card].refundable == eur("59.00")


def test_a_full_refund_of_a_cancelled_prepaid_order(w: World) -> None:
    order, credit, card = _split_prepaid(w)
    w.engine.cancel_order(w.key(), order.id, "changed mind")
    refund = w.engine.refund_order(w.key(), order.id)
    assert sorted(parts(refund)) == sorted(
        [(credit, "store_credit", eur("50.00")), (card, "refunded", eur("69.00"))]
    )
    assert w.engine.store_credit("ada").balance == eur("50.00")
    assert all(not v.live for v in w.engine.order_tenders(order.id))
    with pytest.raises(NothingToDoError, match="nothing to refund"):
        w.engine.refund_order(w.key(), order.id)


def test_money_on_account_is_refunded_before_money_applied_to_invoices(w: World) -> None:
    order = w.order()
    card = w.card(order, "60.00")
    invoice_id = w.invoice(order)
    w.capture(card)  # applied to the invoice
    w.grant("59.00")
    w.engine.pay_with_store_credit(w.key(), order.id)  # applied too
    w.engine.receive_payment(w.key(), amount=eur("1.00"), customer_id="ada")
    transfer = w.engine.expect_bank_transfer(w.key(), w.order(1).id)
    extra = w.wire("80.00", transfer.reference)
    w.engine.apply_bank_transfer(w.key(), extra.id)  # the other order's, unapplied
    refund = w.engine.refund_order(w.key(), order.id, eur("10.00"))
    # Store credit first (rank), and the invoice reopens by what was taken from it.
    assert parts(refund) == [("TND-000001", "store_credit", eur("10.00"))]
    assert w.engine.invoice(invoice_id).open_amount == eur("10.00")


def test_on_account_money_of_a_card_goes_before_applied_store_credit(w: World) -> None:
    order = w.order()
    w.engine.ship(w.key(), order.id, {"1": 1})
    invoice_id = w.engine.invoice_order(w.key(), order.id).id  # 59.50 of the 119.00
    w.grant("50.00")
    w.engine.pay_with_store_credit(w.key(), order.id)  # applied: 9.50 left open
    card = w.card(order)  # the 69.00 left
    w.capture(card)  # 9.50 applied, 59.50 on account for the next invoice
    refund = w.engine.refund_order(w.key(), order.id, eur("20.00"))
    assert parts(refund) == [(card, "refunded", eur("20.00"))]
    assert w.engine.invoice(invoice_id).state.value == "paid"


def test_refund_after_a_partial_capture_takes_only_what_was_captured(w: World) -> None:
    order = w.order()
    card = w.card(order)
    w.capture(card, "40.00")
    with pytest.raises(RefundExceedsRefundableError) as refused:
        w.engine.refund_order(w.key(), order.id, eur("40.01"))
    assert (refused.value.refundable, refused.value.excess) == (eur("40.00"), eur("0.01"))
    refund = w.engine.refund_order(w.key(), order.id, eur("40.00"))
    assert parts(refund) == [(card, "refunded", eur("40.00"))]
    assert w.engine.payment(card).state.value == "refunded"


def test_a_full_refund_voids_an_uncaptured_authorization(w: World) -> None:
    order = w.order()
    captured = w.card(order, "19.00")
    w.capture(captured)
    open_auth = w.card(order)  # 100.00, never captured
    with pytest.raises(RefundExceedsRefundableError):
        w.engine.refund_order(w.key(), order.id, eur("20.00"))
    refund = w.engine.refund_order(w.key(), order.id)
    assert parts(refund) == [
        (captured, "refunded", eur("19.00")),
        (open_auth, "voided", eur("100.00")),
    ]
    assert (refund.refunded, refund.voided) == (eur("19.00"), eur("100.00"))
    assert w.engine.payment(open_auth).state.value == "voided"
    assert [e.kind for e in w.gateway.side_effects][-2:] == [
        TransactionKind.REFUND,
        TransactionKind.VOID,
    ]
    only_auth = w.order()
    auth = w.card(only_auth)
    voided = w.engine.refund_order(w.key(), only_auth.id)
    assert (voided.requested, parts(voided)) == (eur("0.00"), [(auth, "voided", eur("119.00"))])


def test_a_void_the_gateway_answers_later_is_reported_pending(w: World) -> None:
    order = w.order()
    auth = w.card(order)
    w.gateway.inject("void", Fault.PENDING)
    refund = w.engine.refund_order(w.key(), order.id)
    assert parts(refund) == [(auth, "void_pending", eur("119.00"))]
    assert (refund.voided, refund.refunded) == (eur("0.00"), eur("0.00"))


def test_bank_transfer_and_cod_money_is_paid_out_with_a_reference(w: World) -> None:
    order = w.order(1)
    transfer = w.engine.expect_bank_transfer(w.key(), order.id)
    receipt = w.wire("59.50", transfer.reference)
    w.engine.apply_bank_transfer(w.key(), receipt.id)
    w.mark()
    refund = w.engine.refund_order(w.key(), order.id, eur("9.50"))
    payout = f"{receipt.id}/refund1"
    assert parts(refund) == [(transfer.id, "payout", eur("9.50"))]
    assert refund.parts[0].reference == payout
    requested = [e for e in w.events() if isinstance(e, RefundPayoutRequested)]
    assert [(e.aggregate_id, e.amount, e.method) for e in requested] == [
        (payout, eur("9.50"), "bank_transfer")
    ]
    assert w.engine.receipt(receipt.id).refunds[0].reference == payout
    cod_order = w.order(1)
    shipment_id = w.deliver(cod_order, cod="59.50")
    refund = w.engine.refund_order(w.key(), cod_order.id, eur("59.50"))
    assert parts(refund) == [(shipment_id, "payout", eur("59.50"))]


def test_a_card_refund_the_gateway_refuses_becomes_a_payout(w: World) -> None:
    order = w.order()
    card = w.card(order)
    w.capture(card)
    w.gateway.inject("refund", Fault.DECLINE)
    refund = w.engine.refund_order(w.key(), order.id, eur("19.00"))
    [part] = refund.parts
    assert (part.outcome, part.amount, part.reference) == (
        "payout",
        eur("19.00"),
        "RC-000001/refund1",
    )
    assert "refused" in part.note
    payment = w.engine.payment(card)
    assert (payment.refunded, payment.transactions[-1].state.value) == (eur("0.00"), "failed")
    assert w.tenders(order)[card].refundable == eur("100.00")


def test_a_card_refund_the_gateway_answers_later_is_pending(w: World) -> None:
    order = w.order()
    card = w.card(order)
    w.capture(card)
    w.gateway.inject("refund", Fault.PENDING)
    refund = w.engine.refund_order(w.key(), order.id, eur("19.00"))
    assert parts(refund) == [(card, "pending", eur("19.00"))]
    assert refund.refunded == eur("19.00")
    # The money leaves the receipt when the gateway confirms; until then it is reserved.
    assert w.engine.receipt("RC-000001").refunded == eur("0.00")
    assert w.tenders(order)[card].refundable == eur("100.00")


def test_a_return_while_the_cards_refund_is_in_flight_is_paid_out(w: World) -> None:
    order = w.order()
    card = w.card(order)
    w.deliver(order)
    w.invoice(order)
    w.capture(card)
    w.gateway.inject("refund", Fault.PENDING)
    w.engine.refund_payment(w.key(), card)  # all 119.00, still in flight
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "broken")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    closed = w.engine.close_return(w.key(), rma.id)
    assert closed.refund_ids == ("RC-000001/refund1",)
    assert w.engine.payment(card).transactions[-1].kind is TransactionKind.REFUND
    assert len(w.engine.payment(card).transactions) == 3  # no second gateway refund


def test_cash_on_a_written_off_invoice_cannot_be_refunded(w: World) -> None:
    order = w.order()
    invoice_id = w.invoice(order)
    w.grant("100.00")
    credit = w.engine.pay_with_store_credit(w.key(), order.id)
    dispute = w.engine.open_deduction(w.key(), invoice_id, eur("19.00"))
    w.engine.settle_dispute(w.key(), dispute.id, "lost")
    assert w.engine.invoice(invoice_id).state.value == "written_off"
    assert w.tenders(order)[credit.id].refundable == eur("0.00")
    with pytest.raises(NothingToDoError):
        w.engine.refund_order(w.key(), order.id)


def test_a_refund_with_no_money_behind_it_is_refused_loudly(w: World) -> None:
    from o2c.engine.core import Tx

    with w.storage.begin() as uow:
        tx = Tx(uow, START, "k")
        with pytest.raises(EngineStateError, match="no money"):
            w.engine._take_back_receipts(tx, [], eur("1.00"), lambda _r, _m: None)  # type: ignore[arg-type,return-value]


def test_refund_amount_refusals(w: World) -> None:
    order, _, _ = _split_prepaid(w)
    with pytest.raises(NothingToDoError):
        w.engine.refund_order(w.key(), order.id, eur("0.00"))
    with pytest.raises(CurrencyMismatchError):
        w.engine.refund_order(w.key(), order.id, Money("1.00", "USD"))
    with pytest.raises(InvalidAmountError):
        w.engine.refund_order(w.key(), order.id, eur("0.001"))
    with pytest.raises(InvalidAmountError):
        w.engine.refund_order(w.key(), order.id, "1.00")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        w.engine.refund_order(w.key(), "SO-404")


def test_a_return_of_a_split_tender_order_refunds_each_method(w: World) -> None:
    order = w.order()
    w.grant("50.00")
    credit = w.engine.pay_with_store_credit(w.key(), order.id)
    card = w.card(order)
    w.deliver(order)
    w.invoice(order)  # the store credit is applied first, then the card
    w.capture(card)
    rma = w.engine.request_return(w.key(), order.id, {"1": 2}, "broken")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    closed = w.engine.close_return(w.key(), rma.id)
    # The cash applied last (the card's) goes back first, then the store credit.
    assert closed.refund_ids == (f"{card}/T3", "SC-000003")
    assert w.engine.store_credit("ada").balance == eur("50.00")
    assert w.engine.payment(card).refunded == eur("69.00")
    views = w.tenders(order)
    assert views[credit.id].state == "refunded"
    assert w.engine.balance("ada") == eur("0.00")


def test_a_return_of_a_cod_order_is_paid_out(w: World) -> None:
    order = w.order()
    shipment_id = w.deliver(order, cod="119.00")
    w.invoice(order)
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "broken")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    closed = w.engine.close_return(w.key(), rma.id)
    assert closed.refund_ids == ("RC-000001/refund1",)
    assert w.tenders(order)[shipment_id].refunded == eur("59.50")


# --------------------------------------------------------------------------- COD remittances


def test_an_exact_remittance_settles_and_books_the_fee(w: World) -> None:
    shipment_id = w.deliver(w.order(), cod="119.00")
    before = w.engine.cod_position("dhl", "EUR")
    assert [(i.shipment_id, i.status, i.open) for i in before.items] == [
        (shipment_id, "awaiting_remittance", eur("119.00"))
    ]
    assert before.owed_by_carrier == eur("119.00")
    w.mark()
    recorded = w.engine.record_cod_remittance(
        w.key(), "dhl", "R-1", [(shipment_id, eur("119.00"))], fee=eur("2.50")
    )
    assert (recorded.gross, recorded.fee, recorded.net) == (
        eur("119.00"),
        eur("2.50"),
        eur("116.50"),
    )
    assert recorded.discrepancies == ()
    assert w.names() == ["CodRemittanceRecorded", "CarrierFeeBooked"]
    after = w.engine.cod_position("dhl", "EUR")
    assert (after.items, after.unmatched, after.fees) == ((), (), eur("2.50"))
    assert w.engine.cod_remittance("dhl", "R-1") == recorded


def test_a_remittance_reports_every_discrepancy(w: World) -> None:
    short = w.deliver(w.order(1), cod="59.50")
    over = w.deliver(w.order(1), cod="59.50")
    on_way = w.engine.ship(w.key(), w.order(1).id, cod_amount=eur("59.50")).id
    not_cod = w.deliver(w.order(1))
    never_paid = w.deliver(w.order(1), cod="59.50")
    w.mark()
    recorded = w.engine.record_cod_remittance(
        w.key(),
        "dhl",
        "R-1",
        [
            (short, eur("50.00")),
            (over, eur("60.00")),
            (on_way, eur("59.50")),
            (not_cod, eur("1.00")),
            ("SH-999999", eur("3.00")),
        ],
    )
    assert [(ln.shipment_id, ln.status, ln.expected, ln.difference) for ln in recorded.lines] == [
        (short, CodStatus.SHORT, eur("59.50"), eur("-9.50")),
        (over, CodStatus.OVER, eur("59.50"), eur("0.50")),
        (on_way, CodStatus.NOT_DELIVERED, eur("0.00"), eur("59.50")),
        (not_cod, CodStatus.UNKNOWN, eur("0.00"), eur("1.00")),
        ("SH-999999", CodStatus.UNKNOWN, eur("0.00"), eur("3.00")),
    ]
    assert recorded.fee == eur("0.00")
    assert w.names().count("CodDiscrepancyFound") == 5
    assert "CarrierFeeBooked" not in w.names()
    open_items = w.engine.cod_position("dhl", "EUR")
    assert {i.shipment_id: (i.status, i.open) for i in open_items.items} == {
        short: ("short", eur("9.50")),
        over: ("over", eur("-0.50")),
        on_way: ("remitted_before_delivery", eur("-59.50")),
        never_paid: ("awaiting_remittance", eur("59.50")),
    }
    assert [ln.shipment_id for _, ln in open_items.unmatched] == [not_cod, "SH-999999"]
    assert open_items.owed_by_carrier == eur("69.00")
    assert open_items.owed_to_carrier == eur("64.00")
    # The parcel on its way arrives: its early remittance now balances it.
    w.clock.advance(days=5)
    w.engine.track_shipment(w.key(), on_way)
    assert on_way not in {i.shipment_id for i in w.engine.cod_position("dhl", "EUR").items}
    # A later remittance settles the short one.
    later = w.engine.record_cod_remittance(w.key(), "dhl", "R-2", [(short, eur("9.50"))])
    assert later.lines[0].status is CodStatus.SETTLED
    assert short not in {i.shipment_id for i in w.engine.cod_position("dhl", "EUR").items}


def test_a_remittance_line_may_name_the_tracking_number(w: World) -> None:
    shipment_id = w.deliver(w.order(), cod="119.00")
    tracking = w.engine.shipment(shipment_id).tracking_number
    assert tracking is not None
    recorded = w.engine.record_cod_remittance(w.key(), "dhl", "R-1", [(tracking, eur("119.00"))])
    assert (recorded.lines[0].shipment_id, recorded.lines[0].status) == (
        shipment_id,
        CodStatus.SETTLED,
    )


def test_a_remittance_is_booked_once(w: World) -> None:
    shipment_id = w.deliver(w.order(), cod="119.00")
    items = [(shipment_id, eur("119.00"))]
    first = w.engine.record_cod_remittance("remit-1", "dhl", "R-1", items, fee=eur("1.00"))
    state = w.storage.snapshot()
    assert w.engine.record_cod_remittance("remit-1", "dhl", "R-1", items, fee=eur("1.00")) == first
    with pytest.raises(RemittanceAlreadyRecordedError) as again:
        w.engine.record_cod_remittance("remit-2", "dhl", "R-1", items, fee=eur("1.00"))
    assert (again.value.carrier, again.value.remittance_id) == ("dhl", "R-1")
    assert w.storage.snapshot() == state
    position_now = w.engine.cod_position("dhl", "EUR")
    assert position_now.fees == eur("1.00")


def test_remittance_refusals_book_nothing(w: World) -> None:
    shipment_id = w.deliver(w.order(), cod="119.00")
    state = w.storage.snapshot()
    with pytest.raises(UnknownAdapterError):
        w.engine.record_cod_remittance(w.key(), "ups", "R-1", [(shipment_id, eur("1.00"))])
    with pytest.raises(RemittanceFieldError, match="fee"):
        w.engine.record_cod_remittance(
            w.key(), "dhl", "R-1", [(shipment_id, eur("1.00"))], fee=eur("1.01")
        )
    with pytest.raises(CurrencyMismatchError):
        w.engine.record_cod_remittance(
            w.key(), "dhl", "R-1", [(shipment_id, eur("1.00")), ("X", Money("1.00", "USD"))]
        )
    assert w.storage.snapshot() == state


def test_a_cod_shipment_in_another_currency_is_unknown_to_a_remittance(w: World) -> None:
    order = w.order(1, cid="yank")
    shipment = w.engine.ship(w.key(), order.id, cod_amount=Money("59.50", "USD"))
    recorded = w.engine.record_cod_remittance(w.key(), "dhl", "R-1", [(shipment.id, eur("1.00"))])
    assert recorded.lines[0].note == f"shipment {shipment.id} collects USD"
    assert w.engine.cod_position("dhl", "EUR").items == ()
    usd = w.engine.cod_position("dhl", "USD")
    assert [i.status for i in usd.items] == []  # not delivered, nothing remitted in USD


# --------------------------------------------------------------------------- creditor references


def test_creditor_references_follow_iso_11649() -> None:
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert is_creditor_reference("RF18 5390 0754 7034")
    assert not is_creditor_reference("RF19 5390 0754 7034")
    assert not is_creditor_reference("RF18")
    assert not is_creditor_reference("XX18539007547034")
    assert format_creditor_reference("rf18539007547034") == "RF18 5390 0754 7034"
    for body in ("", "A" * 22, "TND-1"):
        with pytest.raises(TenderFieldError):
            creditor_reference(body)


def test_references_are_found_in_statement_text() -> None:
    ref = creditor_reference("TND000042")
    assert find_creditor_references(f"Inv 7, {format_creditor_reference(ref).lower()}!") == (ref,)
    assert find_creditor_references("nothing here, RF12 either") == ()
    # Glued to more text, the prefix that passes the check is found.
    assert ref in find_creditor_references(f"{ref}THANKS")
    two = creditor_reference("B2")
    assert find_creditor_references(f"{ref} / {two}") == (ref, two)


# --------------------------------------------------------------------------- tender records


def test_tender_records_hold_store_credit_and_bank_transfers_only() -> None:
    tender, events = open_tender(
        tender_id="TND-1",
        order_id="SO-1",
        customer_id="ada",
        method="bank_transfer",
        amount=eur("5.00"),
        now=START,
        reference="RF18539007547034",
    )
    assert (tender.currency, tender.is_cancelled, events[0].method) == (
        "EUR",
        False,
        "bank_transfer",
    )
    cancelled, _ = cancel_tender(tender, START)
    assert cancelled.cancelled_at == START
    with pytest.raises(TenderFieldError, match="now"):
        cancel_tender(tender, datetime(2026, 3, 2))
    for method in ("card", "cash_on_delivery", "bitcoin"):
        with pytest.raises(TenderMethodError):
            Tender(
                id="TND-1",
                order_id="SO-1",
                customer_id="ada",
                method=method,  # type: ignore[arg-type]
                amount=eur("5.00"),
                created_at=START,
            )
    with pytest.raises(InvalidAmountError):
        Tender(
            id="TND-1",
            order_id="SO-1",
            customer_id="ada",
            method="store_credit",  # type: ignore[arg-type]
            amount=eur("0.00"),
            created_at=START,
        )
    with pytest.raises(InvalidAmountError):
        attrs_evolve_amount(tender, "5.00")
    with pytest.raises(TenderFieldError, match="created_at"):
        Tender(
            id="TND-1",
            order_id="SO-1",
            customer_id="ada",
            method="store_credit",  # type: ignore[arg-type]
            amount=eur("1.00"),
            created_at=datetime(2026, 3, 2),
        )


def attrs_evolve_amount(tender: Tender, amount: object) -> Tender:
    import attrs

    return attrs.evolve(tender, amount=amount)


def test_views_and_results_add_up() -> None:
    view = TenderView(
        tender_id="PAY-1",
        method=PaymentMethod.CARD,
        state="captured",
        amount=eur("10.00"),
        held=eur("2.00"),
        taken=eur("8.00"),
        refunded=eur("8.00"),
        refundable=eur("0.00"),
        created_at=START,
    )
    assert (view.counted, view.live) == (eur("2.00"), True)
    refund = OrderRefund(
        order_id="SO-1",
        requested=eur("3.00"),
        parts=(
            RefundPart(
                tender_id="a", method="card", amount=eur("3.00"), reference="x", outcome="payout"
            ),
            RefundPart(
                tender_id="b", method="card", amount=eur("9.00"), reference="y", outcome="voided"
            ),
        ),
    )
    assert (refund.refunded, refund.voided) == (eur("3.00"), eur("9.00"))


# --------------------------------------------------------------------------- refund plan


def source(tid: str, method: str, minutes: int, unapplied: str, applied: str) -> RefundSource:
    return RefundSource(
        tender_id=tid,
        method=PaymentMethod(method),
        created_at=START + timedelta(minutes=minutes),
        unapplied=eur(unapplied),
        applied=eur(applied),
    )


def test_the_refund_plan_order() -> None:
    sources = [
        source("bank", "bank_transfer", 0, "5.00", "5.00"),
        source("card-old", "card", 1, "0.00", "10.00"),
        source("credit", "store_credit", 2, "0.00", "10.00"),
        source("card-new", "wallet", 3, "2.00", "10.00"),
    ]
    # On account first: the wallet's 2.00, the transfer's 5.00; then applied money:
    # store credit 10.00, the newest card 10.00, the older card the last 3.00.
    assert plan_refund("SO-1", eur("30.00"), sources) == (
        ("card-new", eur("12.00")),
        ("bank", eur("5.00")),
        ("credit", eur("10.00")),
        ("card-old", eur("3.00")),
    )
    assert plan_refund("SO-1", eur("7.00"), sources) == (
        ("card-new", eur("2.00")),
        ("bank", eur("5.00")),
    )
    with pytest.raises(RefundExceedsRefundableError) as refused:
        plan_refund("SO-1", eur("42.01"), sources)
    assert refused.value.excess == eur("0.01")
    with pytest.raises(InvalidAmountError):
        plan_refund("SO-1", eur("0.00"), sources)


# --------------------------------------------------------------------------- remittance checks


def _facts(known: dict[str, CodFacts]) -> Any:
    return lambda item_id: known.get(item_id, CodFacts(shipment_id=None))


def test_reconcile_refuses_malformed_remittances() -> None:
    facts = _facts({})
    bad: list[tuple[object, object, type]] = [
        ([], None, RemittanceFieldError),
        ("SH-1", None, RemittanceFieldError),
        ([("SH-1",)], None, RemittanceFieldError),
        ([("SH-1", eur("0.00"))], None, InvalidAmountError),
        ([("SH-1", "1.00")], None, InvalidAmountError),
        ([("SH-1", eur("0.001"))], None, InvalidAmountError),
        ([("", eur("1.00"))], None, RemittanceFieldError),
        ([("SH-1", eur("1.00"))], eur("-0.01"), InvalidAmountError),
        ([("SH-1", eur("1.00"))], Money("0.50", "USD"), CurrencyMismatchError),
        ([("SH-1", eur("1.00"))] * (MAX_LINES + 1), None, RemittanceFieldError),
    ]
    for items, fee, error in bad:
        with pytest.raises(error):
            reconcile(
                carrier="dhl",
                remittance_id="R-1",
                items=items,  # type: ignore[arg-type]
                fee=fee,  # type: ignore[arg-type]
                facts=facts,
                now=START,
            )
    with pytest.raises(RemittanceFieldError, match="now"):
        reconcile(
            carrier="dhl",
            remittance_id="R-1",
            items=[("SH-1", eur("1.00"))],
            fee=None,
            facts=facts,
            now=datetime(2026, 3, 2),
        )


def test_reconcile_checks_each_line_against_what_is_left() -> None:
    cod = eur("10.00")
    known = {
        "SH-1": CodFacts(shipment_id="SH-1", carrier="dhl", cod_amount=cod, delivered=True),
        "SH-2": CodFacts(
            shipment_id="SH-2", carrier="ups", cod_amount=cod, delivered=True, remitted=None
        ),
        "SH-3": CodFacts(shipment_id="SH-3", carrier=None, cod_amount=cod, delivered=True),
        "SH-4": CodFacts(
            shipment_id="SH-4", carrier="dhl", cod_amount=cod, delivered=True, remitted=cod
        ),
    }
    remittance, _ = reconcile(
        carrier="dhl",
        remittance_id="R-1",
        items=[
            ("SH-1", eur("10.00")),
            ("SH-1", eur("10.00")),  # named twice: the second is over
            ("SH-2", eur("1.00")),
            ("SH-3", eur("1.00")),
            ("SH-4", eur("1.00")),  # remitted in full before
            ("card 4111 1111 1111 1111", eur("1.00")),
        ],
        fee=eur("0.00"),
        facts=_facts(known),
        now=START,
    )
    assert [(ln.status, ln.note) for ln in remittance.lines] == [
        (CodStatus.SETTLED, ""),
        (CodStatus.OVER, "10.00 EUR more than owed"),
        (CodStatus.UNKNOWN, "shipment SH-2 went by ups"),
        (CodStatus.UNKNOWN, "shipment SH-3 went by own fleet"),
        (CodStatus.OVER, "1.00 EUR more than owed"),
        (CodStatus.UNKNOWN, "no such shipment"),
    ]
    assert remittance.lines[-1].shipment_id == "card ****-****-****-1111".replace("-", " ")
    assert len(remittance.settled) == 1
    assert isinstance(remittance, CodRemittance)


def test_position_skips_other_currencies_and_balanced_shipments() -> None:
    cod = eur("10.00")
    ledger = CodCollection(shipment_id="SH-1", carrier="dhl", cod_amount=cod).add("R-1", cod)
    result = position(
        carrier="dhl",
        currency="EUR",
        shipments=[("SH-1", cod, True), ("SH-2", Money("5.00", "USD"), True), ("SH-3", cod, False)],
        collections={"SH-1": ledger},
        remittances=[],
    )
    assert (result.items, result.owed_by_carrier, result.owed_to_carrier) == (
        (),
        eur("0.00"),
        eur("0.00"),
    )
    assert ledger.id == "SH-1"


def test_a_receipt_links_to_one_tender() -> None:
    from o2c.cash import receive_cash

    receipt, _ = receive_cash(
        receipt_id="RC-1", amount=eur("5.00"), method="bank_transfer", received_at=START
    )
    linked, events = receipt.link_tender("TND-1", START)
    assert (linked.tender_id, events[0].tender_id, events[0].amount) == (
        "TND-1",
        "TND-1",
        eur("5.00"),
    )
    assert linked.link_tender("TND-1", START) == (linked, ())
    with pytest.raises(ReceiptAlreadyLinkedError):
        linked.link_tender("TND-2", START)
