"""The O2C engine, one behaviour per test: sales, shipping, billing, after-sales, plugins.

Every test drives a fresh engine on a MemoryStorage with a FixedClock, a FakeGateway
("card") and, unless told otherwise, a FakeCarrier ("dhl"). Events are read from an
``o2c_handle_event`` subscriber, so they are what a host would receive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from o2c import hookimpl
from o2c.adapters.fake_carrier import FakeCarrier, Scenario
from o2c.adapters.fake_gateway import PENDING_TOKEN, FakeGateway
from o2c.adapters.memory import MemoryStorage
from o2c.clock import FixedClock
from o2c.credit import CreditOutcome, CreditPolicy, CreditRequest, RuleOutcome
from o2c.customers import Address, Customer
from o2c.engine import O2C, EngineConfig
from o2c.errors import (
    AllocationExceedsOpenAmountError,
    CustomerMismatchError,
    EngineStateError,
    IdempotencyConflictError,
    InsufficientUnappliedCashError,
    InvalidOrderQuantityError,
    InvalidTransitionError,
    NoCarrierRateError,
    NotFoundError,
    NothingToDoError,
    OrderNotFulfilledError,
    OverrideNotAuthorisedError,
    ReturnQuantityExceededError,
    StockNotReservedError,
    UnknownAdapterError,
    ValidationError,
)
from o2c.events import DomainEvent
from o2c.hookspecs import CarrierRecord, GatewayRecord, StorageRecord
from o2c.invoices import Invoice
from o2c.money import Money
from o2c.orders import Order, OrderLine
from o2c.payments import DeclineReason, Payment, PaymentMethod, TransactionKind
from o2c.plugins import Plugins
from o2c.ports import Kind, TaxQuery
from o2c.pricing import TaxRate

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
VAT19 = (TaxRate("DE-19", Decimal(19)),)
CARD = "tok_visa"  # FakeGateway: any token but the decline and pending ones succeeds


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def customer(cid: str = "ada", limit: str | None = "1000.00", **extra: Any) -> Customer:
    return Customer(
        id=cid,
        name=cid.title(),
        currency="EUR",
        billing_address=HOME,
        shipping_addresses=(HOME,),
        payment_terms="NET30",
        credit_limit=None if limit is None else eur(limit),
        **extra,
    )


def line(qty: int, sku: str = "MUG", price: str = "50.00", line_id: str = "1") -> OrderLine:
    """One unit is ``price`` + 19 % VAT: a 50.00 mug is 59.50 gross."""
    return OrderLine(
        line_id=line_id,
        sku=sku,
        description=sku.title(),
        quantity=Decimal(qty),
        unit_price=eur(price),
        tax_rates=VAT19,
    )


class Recorder:
    """An event subscriber that keeps what it is given, in delivery order."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, DomainEvent]] = []

    @hookimpl
    def o2c_handle_event(self, event: DomainEvent, seq: int) -> None:
        self.seen.append((seq, event))


class World:
    """An engine with customers ``ada`` and ``bob`` (limit 1000.00) and 10 MUG in stock."""

    def __init__(
        self,
        *,
        carriers: bool = True,
        noisy: bool = False,
        config: EngineConfig | None = None,
        tax: Any = None,
        plugins: Plugins | None = None,
    ) -> None:
        self.clock = FixedClock(START)
        self.storage = MemoryStorage()
        self.gateway = FakeGateway()
        self.carrier = FakeCarrier(clock=self.clock, name="dhl", noisy=noisy, seed=7)
        self.recorder = Recorder()
        pm = plugins if plugins is not None else Plugins()
        pm.register(self.recorder, name="recorder")
        self.engine = O2C(
            self.storage,
            clock=self.clock,
            gateways={"card": self.gateway},
            carriers={"dhl": self.carrier} if carriers else None,
            config=config,
            tax=tax,
            plugins=pm,
        )
        self._keys = count(1)
        self.engine.add_customer(self.key(), customer("ada"))
        self.engine.add_customer(self.key(), customer("bob"))
        self.engine.receive_stock(self.key(), "MUG", 10)
        self.mark()

    def key(self) -> str:
        return f"key-{next(self._keys)}"

    def mark(self) -> None:
        """Start a new window for :meth:`names`."""
        self._since = len(self.recorder.seen)

    def events(self) -> list[DomainEvent]:
        return [event for _, event in self.recorder.seen[self._since :]]

    def names(self) -> list[str]:
        # type().__name__, not event.name: CustomerRegistered has a field "name".
        return [type(event).__name__ for event in self.events()]

    def order(self, qty: int = 2, cid: str = "ada", **kw: Any) -> Order:
        return self.engine.place_order(self.key(), customer_id=cid, lines=[line(qty, **kw)])

    def shipped(self, qty: int = 2, cid: str = "ada") -> tuple[Order, str]:
        order = self.order(qty, cid)
        return order, self.engine.ship(self.key(), order.id).id

    def invoiced(self, qty: int = 2, cid: str = "ada") -> tuple[Order, Invoice]:
        order, _ = self.shipped(qty, cid)
        return order, self.engine.invoice_order(self.key(), order.id)

    def delivered_invoiced(self, qty: int = 2) -> tuple[Order, Invoice]:
        order, shipment_id = self.shipped(qty)
        self.engine.confirm_delivery(self.key(), shipment_id)
        return order, self.engine.invoice_order(self.key(), order.id)

    def card_paid(self, qty: int = 2) -> tuple[Order, Invoice, Payment]:
        order, invoice = self.delivered_invoiced(qty)
        payment = self.engine.authorize_payment(self.key(), order.id, token=CARD)
        payment = self.engine.capture_payment(self.key(), payment.id)
        return order, invoice, payment

    def stored(self, kind: Kind, record_id: str) -> object:
        with self.storage.begin() as uow:
            return uow.get(kind, record_id)


@pytest.fixture
def w() -> World:
    return World()


# --------------------------------------------------------------------------- customers, stock


def test_add_customer_stores_it_and_emits_registered(w: World) -> None:
    carol = customer("carol", limit="50.00")
    assert w.engine.add_customer(w.key(), carol) == carol
    assert w.stored(Kind.CUSTOMER, "carol") == carol
    assert w.names() == ["CustomerRegistered"]
    assert w.events()[0].aggregate_id == "carol"


def test_add_customer_with_a_known_id_replaces_the_master_data(w: World) -> None:
    w.engine.add_customer(w.key(), customer("ada", limit="5.00"))
    stored = w.stored(Kind.CUSTOMER, "ada")
    assert isinstance(stored, Customer)
    assert stored.credit_limit == eur("5.00")


def test_receive_stock_adds_on_hand(w: World) -> None:
    level = w.engine.receive_stock(w.key(), "MUG", "2.5")
    assert level.on_hand == Decimal("12.5")
    assert w.engine.stock("MUG").available == Decimal("12.5")
    (event,) = w.events()
    assert (type(event).__name__, event.quantity, event.on_hand) == (  # type: ignore[attr-defined]
        "StockReceived",
        Decimal("2.5"),
        Decimal("12.5"),
    )


@pytest.mark.parametrize("bad", [0, -1, "abc", 1.5, True])
def test_receive_stock_refuses_a_bad_quantity(w: World, bad: object) -> None:
    with pytest.raises(InvalidOrderQuantityError):
        w.engine.receive_stock(w.key(), "MUG", bad)  # type: ignore[arg-type]
    assert w.engine.stock("MUG").on_hand == 10


# --------------------------------------------------------------------------- place_order


def test_place_order_approves_and_reserves(w: World) -> None:
    order = w.order(2)
    assert order.state.value == "confirmed"
    assert order.id == "SO-000001"
    assert order.totals.total == eur("119.00")
    (res,) = w.engine.reservations(order.id)
    assert (res.reserved, res.backordered) == (2, 0)
    assert w.engine.stock("MUG").reserved == 2
    assert w.names() == [
        "OrderCreated",
        "OrderPlaced",
        "CreditChecked",
        "OrderApproved",
        "StockReserved",
    ]
    assert w.engine.credit_decision(order.id).approved


def test_place_order_backorders_what_is_short(w: World) -> None:
    order = w.order(12)
    assert order.state.value == "confirmed"
    (res,) = w.engine.reservations(order.id)
    assert (res.requested, res.reserved, res.backordered) == (12, 10, 2)
    reserved = w.events()[-1]
    assert reserved.backordered == 2  # type: ignore[attr-defined]


def test_place_order_holds_an_order_over_the_credit_limit(w: World) -> None:
    order = w.order(17)  # 17 x 59.50 = 1011.50 > 1000.00
    assert order.state.value == "on_hold"
    assert [h.kind.value for h in order.active_holds] == ["credit"]
    assert w.engine.reservations(order.id) == []
    assert w.engine.stock("MUG").reserved == 0
    decision = w.engine.credit_decision(order.id)
    assert decision.deciding_rule == "credit_limit"
    assert decision.reasons == ("credit.limit_exceeded",)
    assert decision.headroom == eur("-11.50")
    assert w.names()[-1] == "OrderHeld"


def test_place_order_counts_the_customers_other_open_orders(w: World) -> None:
    w.order(8)  # 476.00 unbilled
    held = w.order(9)  # 476.00 + 535.50 = 1011.50
    assert held.state.value == "on_hold"
    decision = w.engine.credit_decision(held.id)
    assert decision.exposure.total == eur("476.00")
    assert decision.exposure.component("unbilled_orders") == eur("476.00")


def test_place_order_refuses_a_blocked_customer_and_stores_nothing(w: World) -> None:
    w.engine.add_customer(w.key(), customer("eve", blocked=True, blocked_reason="fraud"))
    w.mark()
    with pytest.raises(ValidationError) as caught:
        w.engine.place_order("blocked", customer_id="eve", lines=[line(1)])
    assert [i.code for i in caught.value.issues] == ["order.customer_blocked"]
    assert w.names() == []
    assert w.stored(Kind.ORDER, "SO-000001") is None
    assert w.engine.stock("MUG").reserved == 0


def test_place_order_lets_the_tax_provider_choose_rates() -> None:
    class BooksAtSeven:
        def rates_for(self, query: TaxQuery) -> tuple[TaxRate, ...] | None:
            return (TaxRate("DE-7", Decimal(7)),) if query.sku == "BOOK" else None

    w = World(tax=BooksAtSeven())
    w.engine.receive_stock(w.key(), "BOOK", 5)
    order = w.engine.place_order(
        w.key(),
        customer_id="ada",
        lines=[line(1), line(1, sku="BOOK", price="20.00", line_id="2")],
    )
    assert [r.code for ln in order.lines for r in ln.tax_rates] == ["DE-19", "DE-7"]
    assert order.totals.total == eur("80.90")  # 59.50 + 21.40


def test_place_order_for_an_unknown_customer_is_not_found(w: World) -> None:
    with pytest.raises(NotFoundError) as caught:
        w.engine.place_order(w.key(), customer_id="nobody", lines=[line(1)])
    assert (caught.value.kind, caught.value.id) == ("customer", "nobody")
    assert w.names() == []


def test_place_order_refuses_an_order_id_in_use(w: World) -> None:
    w.engine.place_order(w.key(), customer_id="ada", lines=[line(1)], order_id="PO-1")
    with pytest.raises(EngineStateError, match="taken"):
        w.engine.place_order(w.key(), customer_id="bob", lines=[line(1)], order_id="PO-1")
    assert w.engine.order("PO-1").customer_id == "ada"


def test_place_order_replayed_under_its_key_returns_the_first_result(w: World) -> None:
    first = w.engine.place_order("same", customer_id="ada", lines=[line(1)])
    w.mark()
    assert w.engine.place_order("same", customer_id="ada", lines=[line(1)]) == first
    assert w.names() == []
    with pytest.raises(IdempotencyConflictError) as caught:
        w.engine.place_order("same", customer_id="ada", lines=[line(2)])
    assert caught.value.field == "lines"


# --------------------------------------------------------------------------- credit


def test_release_hold_checks_credit_again_and_holds_again(w: World) -> None:
    order = w.order(17)
    w.mark()
    order = w.engine.release_hold(w.key(), order.id)
    assert order.state.value == "on_hold"
    assert [h.active for h in order.holds] == [False, True]
    assert w.names() == ["OrderReleased", "CreditChecked", "OrderHeld"]


def test_release_hold_approves_once_the_limit_allows(w: World) -> None:
    order = w.order(17)
    w.engine.add_customer(w.key(), customer("ada", limit="2000.00"))
    order = w.engine.release_hold(w.key(), order.id)
    assert order.state.value == "confirmed"
    assert w.engine.reservations(order.id)[0].reserved == 10
    assert w.engine.credit_decision(order.id).limit == eur("2000.00")


def test_override_credit_confirms_reserves_and_is_audited(w: World) -> None:
    order = w.order(17)
    w.mark()
    order = w.engine.override_credit(
        w.key(), order.id, by="cfo", reason="long-standing customer", authority="controller"
    )
    assert order.state.value == "confirmed"
    assert order.overrides[0].by == "cfo"
    assert w.engine.reservations(order.id)[0].reserved == 10
    assert w.names() == ["CreditOverridden", "OrderOverridden", "StockReserved"]
    decision = w.engine.credit_decision(order.id)
    assert decision.overridden
    assert decision.policy_outcome is CreditOutcome.HOLD
    text = decision.explain()
    assert text[0].startswith("Credit APPROVE by override for order SO-000001")
    assert text[-1].startswith("Overridden by cfo (controller)")
    assert "long-standing customer; the policy had decided HOLD" in text[-1]


def test_override_credit_refuses_a_role_without_authority() -> None:
    w = World(config=EngineConfig(credit_authorities=frozenset({"controller"})))
    order = w.order(17)
    with pytest.raises(OverrideNotAuthorisedError):
        w.engine.override_credit(w.key(), order.id, by="rep", reason="please", authority="sales")
    assert w.engine.order(order.id).state.value == "on_hold"
    assert not w.engine.credit_decision(order.id).overridden


def test_credit_decision_of_an_unknown_order_is_not_found(w: World) -> None:
    with pytest.raises(NotFoundError):
        w.engine.credit_decision("SO-404")


# --------------------------------------------------------------------------- cancel, backorders


def test_cancel_order_releases_its_stock(w: World) -> None:
    order = w.order(3)
    w.mark()
    order = w.engine.cancel_order(w.key(), order.id, "customer changed mind")
    assert order.state.value == "cancelled"
    assert order.cancellation_reason == "customer changed mind"
    assert w.engine.stock("MUG").reserved == 0
    assert all(r.released for r in w.engine.reservations(order.id))
    assert w.names() == ["OrderCancelled", "StockReleased"]
    assert w.events()[1].quantity == 3  # type: ignore[attr-defined]


def test_cancel_order_on_a_partly_shipped_order_cancels_the_rest(w: World) -> None:
    order = w.order(4)
    w.engine.ship(w.key(), order.id, {"1": 1})
    w.mark()
    order = w.engine.cancel_order(w.key(), order.id, "rest not wanted")
    assert order.state.value == "confirmed"
    assert (order.lines[0].shipped, order.lines[0].cancelled) == (1, 3)
    assert w.engine.stock("MUG").reserved == 0
    assert w.engine.stock("MUG").on_hand == 9
    assert w.names() == ["OrderLinesCancelled", "StockReleased"]
    w.engine.invoice_order(w.key(), order.id)
    assert w.engine.close_order(w.key(), order.id).state.value == "completed"


def test_cancel_order_of_a_held_order_has_no_stock_to_release(w: World) -> None:
    order = w.order(17)
    w.mark()
    assert w.engine.cancel_order(w.key(), order.id, "no").state.value == "cancelled"
    assert w.names() == ["OrderCancelled"]


def test_allocate_backorders_fills_the_oldest_order_first(w: World) -> None:
    first, second = w.order(12), w.order(3)
    w.engine.receive_stock(w.key(), "MUG", 3)
    w.mark()
    filled = w.engine.allocate_backorders(w.key())
    assert [(r.order_id, r.reserved, r.backordered) for r in filled] == [
        (first.id, 12, 0),
        (second.id, 1, 2),
    ]
    assert w.engine.stock("MUG").available == 0
    assert w.names() == ["StockReserved", "StockReserved"]


def test_allocate_backorders_for_one_sku_leaves_the_others(w: World) -> None:
    order = w.engine.place_order(
        w.key(),
        customer_id="ada",
        lines=[line(11), line(1, sku="PEN", price="1.00", line_id="2")],
    )
    w.engine.receive_stock(w.key(), "PEN", 5)
    w.engine.receive_stock(w.key(), "MUG", 5)
    filled = w.engine.allocate_backorders(w.key(), sku="PEN")
    assert [(r.sku, r.reserved) for r in filled] == [("PEN", 1)]
    assert w.engine.reservations(order.id)[0].backordered == 1


def test_allocate_backorders_with_nothing_to_fill_returns_nothing(w: World) -> None:
    w.order(12)  # all 10 held, 2 short; no new stock
    w.mark()
    assert w.engine.allocate_backorders(w.key()) == []
    assert w.names() == []


def test_expire_reservations_releases_after_the_ttl() -> None:
    w = World(config=EngineConfig(reservation_ttl=timedelta(hours=2)))
    order = w.order(3)
    assert w.engine.reservations(order.id)[0].expires_at == START + timedelta(hours=2)
    w.clock.advance(hours=1, minutes=59)
    assert w.engine.expire_reservations(w.key()) == []
    w.clock.advance(minutes=1)
    w.mark()
    (expired,) = w.engine.expire_reservations(w.key())
    assert expired.released
    assert w.engine.stock("MUG").reserved == 0
    (event,) = w.events()
    assert (type(event).__name__, event.quantity, event.reason) == (  # type: ignore[attr-defined]
        "StockReleased",
        3,
        "expired",
    )


def test_an_expired_line_is_a_backorder_that_allocation_reserves_again() -> None:
    w = World(config=EngineConfig(reservation_ttl=timedelta(hours=1)))
    order = w.order(3)
    w.clock.advance(hours=1)
    w.engine.expire_reservations(w.key())
    with pytest.raises(StockNotReservedError):
        w.engine.ship(w.key(), order.id)
    (again,) = w.engine.allocate_backorders(w.key())
    assert (again.id, again.reserved) == (f"{order.id}/1/2", 3)
    assert again.expires_at == w.clock.now() + timedelta(hours=1)
    assert w.engine.ship(w.key(), order.id).lines[0].quantity == 3


# --------------------------------------------------------------------------- ship


def test_ship_part_of_an_order_buys_the_cheapest_label(w: World) -> None:
    order = w.order(4)
    w.mark()
    shipment = w.engine.ship(w.key(), order.id, {"1": 1})
    assert shipment.id == "SH-000001"
    assert [(s.line_id, s.quantity) for s in shipment.lines] == [("1", 1)]
    assert shipment.state.value == "in_transit"
    assert (shipment.carrier, shipment.service, shipment.tracking_number) == (
        "dhl",
        "standard",
        "DHL000001",
    )
    assert shipment.shipping_cost == eur("4.90")
    assert w.engine.order(order.id).lines[0].shipped == 1
    (res,) = w.engine.reservations(order.id)
    assert (res.reserved, res.consumed) == (3, 1)
    assert (w.engine.stock("MUG").on_hand, w.engine.stock("MUG").reserved) == (9, 3)
    assert w.names() == [
        "OrderLinesShipped",
        "ShipmentCreated",
        "ShipmentLabelled",
        "ShipmentHandedOver",
    ]


def test_ship_without_quantities_ships_everything_reserved(w: World) -> None:
    order = w.order(12)  # 10 reserved, 2 backordered
    shipment = w.engine.ship(w.key(), order.id)
    assert shipment.lines[0].quantity == 10
    assert w.engine.order(order.id).lines[0].to_ship == 2


def test_ship_more_than_reserved_is_refused_and_changes_nothing(w: World) -> None:
    order = w.order(12)
    w.mark()
    with pytest.raises(StockNotReservedError) as caught:
        w.engine.ship(w.key(), order.id, {"1": 11})
    assert (caught.value.line_id, caught.value.requested, caught.value.reserved) == (
        "1",
        "11",
        "10",
    )
    assert w.names() == []
    assert w.carrier.labels_bought == 0
    assert w.engine.shipments(order.id) == []


def test_ship_with_nothing_reserved_is_refused(w: World) -> None:
    w.engine.ship(w.key(), w.order(10).id)
    with pytest.raises(StockNotReservedError, match="nothing is reserved"):
        w.engine.ship(w.key(), w.order(1).id)


def test_ship_a_held_order_is_refused(w: World) -> None:
    with pytest.raises(EngineStateError, match="on_hold"):
        w.engine.ship(w.key(), w.order(17).id)


def test_ship_without_carriers_hands_over_to_the_own_fleet() -> None:
    w = World(carriers=False)
    order = w.order(2)
    w.mark()
    shipment = w.engine.ship(w.key(), order.id)
    assert shipment.state.value == "in_transit"
    assert (shipment.carrier, shipment.tracking_number) == (None, None)
    assert w.names() == ["OrderLinesShipped", "ShipmentCreated", "ShipmentHandedOver"]
    with pytest.raises(EngineStateError, match="no carrier tracking"):
        w.engine.track_shipment(w.key(), shipment.id)


def test_ship_with_a_named_service_buys_that_service(w: World) -> None:
    shipment = w.engine.ship(w.key(), w.order(2).id, carrier="dhl", service="express")
    assert (shipment.service, shipment.shipping_cost) == ("express", eur("9.90"))


def test_ship_with_an_unknown_service_has_no_rate_and_uses_no_number(w: World) -> None:
    order = w.order(2)
    with pytest.raises(NoCarrierRateError, match="teleport"):
        w.engine.ship(w.key(), order.id, service="teleport")
    assert w.carrier.labels_bought == 0
    assert w.engine.reservations(order.id)[0].reserved == 2
    assert w.engine.ship(w.key(), order.id).id == "SH-000001"


def test_ship_with_an_unknown_carrier_is_refused(w: World) -> None:
    with pytest.raises(UnknownAdapterError) as caught:
        w.engine.ship(w.key(), w.order(1).id, carrier="ups")
    assert caught.value.available == ("dhl",)


def test_ship_cash_on_delivery_applies_the_cash_when_delivered(w: World) -> None:
    order = w.order(1)
    shipment = w.engine.ship(w.key(), order.id, cod_amount=eur("59.50"))
    invoice = w.engine.invoice_order(w.key(), order.id)
    w.clock.advance(days=4)
    w.mark()
    w.engine.track_shipment(w.key(), shipment.id)
    assert "CashReceived" in w.names()
    assert w.engine.invoice(invoice.id).state.value == "paid"
    receipt = w.engine.receipt("RC-000001")
    assert (receipt.method.value, receipt.reference) == ("cash_on_delivery", shipment.id)
    assert w.engine.balance("ada").is_zero()


def test_cash_on_delivery_collected_before_invoicing_is_applied_at_issue(w: World) -> None:
    order = w.order(1)
    shipment = w.engine.ship(w.key(), order.id, cod_amount=eur("59.50"))
    w.clock.advance(days=4)
    w.engine.track_shipment(w.key(), shipment.id)
    invoice = w.engine.invoice_order(w.key(), order.id)
    assert (invoice.state.value, invoice.open_amount) == ("paid", eur("0.00"))
    assert w.engine.receipt("RC-000001").unapplied.is_zero()


# --------------------------------------------------------------------------- tracking, delivery


def test_track_shipment_follows_the_carrier_to_delivery(w: World) -> None:
    order, shipment_id = w.shipped(2)
    assert w.engine.track_shipment(w.key(), shipment_id).state.value == "in_transit"
    w.clock.advance(days=3, hours=4)
    w.mark()
    shipment = w.engine.track_shipment(w.key(), shipment_id)
    assert shipment.state.value == "delivered"
    assert shipment.delivered_at == START + timedelta(days=3, hours=4)
    assert w.engine.order(order.id).lines[0].delivered == 2
    assert w.names() == [
        *["ShipmentTracked"] * 3,  # picked up, out for delivery, delivered
        "ShipmentDelivered",
        "OrderLinesDelivered",
    ]


def test_track_shipment_ignores_noisy_duplicate_scans() -> None:
    w = World(noisy=True)
    order, shipment_id = w.shipped(2)
    w.clock.advance(days=5)
    tracking_number = w.engine.shipment(shipment_id).tracking_number
    assert tracking_number is not None
    assert len(w.carrier.track(tracking_number)) > 3  # the carrier repeats itself
    shipment = w.engine.track_shipment(w.key(), shipment_id)
    assert shipment.state.value == "delivered"
    assert len({scan.event_id for scan in shipment.tracking}) == len(shipment.tracking) == 3
    w.mark()
    assert w.engine.track_shipment(w.key(), shipment_id) == shipment
    assert w.names() == []
    assert w.engine.order(order.id).lines[0].delivered == 2


def test_track_shipment_through_an_exception_to_delivery(w: World) -> None:
    w.carrier.plan_next(Scenario.EXCEPTION)
    order, shipment_id = w.shipped(2)
    w.clock.advance(days=3, hours=5)
    w.mark()
    assert w.engine.track_shipment(w.key(), shipment_id).state.value == "exception"
    assert "ShipmentException" in w.names()
    assert w.engine.order(order.id).lines[0].delivered == 0
    w.clock.advance(days=1)
    assert w.engine.track_shipment(w.key(), shipment_id).state.value == "delivered"
    assert w.engine.order(order.id).lines[0].delivered == 2


def test_track_shipment_of_a_lost_parcel(w: World) -> None:
    w.carrier.plan_next(Scenario.LOST)
    order, shipment_id = w.shipped(2)
    w.clock.advance(days=9)
    w.mark()
    assert w.engine.track_shipment(w.key(), shipment_id).state.value == "lost"
    assert "ShipmentLost" in w.names()
    assert w.engine.order(order.id).lines[0].delivered == 0
    # The lost units may ship again (issue 4; docs/shipping.md).
    assert w.engine.order(order.id).lines[0].to_ship == 2


def test_confirm_delivery_records_a_hand_delivered_shipment() -> None:
    w = World(carriers=False)
    order, shipment_id = w.shipped(2)
    w.mark()
    shipment = w.engine.confirm_delivery(w.key(), shipment_id)
    assert (shipment.state.value, shipment.delivered_at) == ("delivered", START)
    assert w.engine.order(order.id).lines[0].delivered == 2
    assert w.names() == ["ShipmentDelivered", "OrderLinesDelivered"]
    with pytest.raises(InvalidTransitionError):
        w.engine.confirm_delivery(w.key(), shipment_id)


# --------------------------------------------------------------------------- invoicing


def test_invoice_order_bills_what_was_shipped(w: World) -> None:
    order = w.order(4)
    w.engine.ship(w.key(), order.id, {"1": 1})
    w.mark()
    invoice = w.engine.invoice_order(w.key(), order.id)
    assert (invoice.id, invoice.number) == ("INV-000001", "INV-000001")
    assert (invoice.state.value, invoice.total) == ("issued", eur("59.50"))
    assert invoice.issue_date == START.date()
    assert invoice.due_date == (START + timedelta(days=30)).date()
    assert w.engine.order(order.id).lines[0].invoiced == 1
    assert w.names() == ["InvoiceIssued", "InvoiceStateChanged", "OrderLinesInvoiced"]


def test_invoice_order_on_ordered_basis_bills_before_shipping(w: World) -> None:
    order = w.order(3)
    invoice = w.engine.invoice_order(w.key(), order.id, basis="ordered")
    assert invoice.total == eur("178.50")
    assert w.engine.order(order.id).lines[0].shipped == 0


def test_invoice_numbers_have_no_gaps_across_invoices(w: World) -> None:
    order = w.order(2)
    w.engine.ship(w.key(), order.id, {"1": 1})
    first = w.engine.invoice_order(w.key(), order.id)
    with pytest.raises(NothingToDoError):
        w.engine.invoice_order(w.key(), order.id)
    w.engine.ship(w.key(), order.id)
    second = w.engine.invoice_order(w.key(), order.id)
    _, third = w.invoiced(1, cid="bob")
    assert [first.number, second.number, third.number] == [
        "INV-000001",
        "INV-000002",
        "INV-000003",
    ]


def test_invoice_order_with_nothing_shipped_has_nothing_to_do(w: World) -> None:
    order = w.order(2)
    w.mark()
    with pytest.raises(NothingToDoError, match="nothing to invoice"):
        w.engine.invoice_order(w.key(), order.id)
    assert w.names() == []


def test_invoice_order_of_a_held_order_is_refused(w: World) -> None:
    with pytest.raises(EngineStateError, match="on_hold"):
        w.engine.invoice_order(w.key(), w.order(17).id, basis="ordered")


def test_card_captured_before_invoicing_is_applied_at_issue(w: World) -> None:
    order = w.order(2)
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    w.engine.capture_payment(w.key(), payment.id)
    receipt = w.engine.receipt("RC-000001")
    assert receipt.unapplied == eur("119.00")
    w.engine.ship(w.key(), order.id)
    invoice = w.engine.invoice_order(w.key(), order.id)
    assert (invoice.state.value, invoice.open_amount) == ("paid", eur("0.00"))
    assert w.engine.receipt("RC-000001").applied_to(invoice.id) == eur("119.00")


def test_close_order_completes_a_shipped_and_invoiced_order(w: World) -> None:
    order, _ = w.invoiced(2)
    w.mark()
    assert w.engine.close_order(w.key(), order.id).state.value == "completed"
    assert w.names() == ["OrderCompleted"]


def test_close_order_refuses_an_order_not_fully_invoiced(w: World) -> None:
    order, _ = w.shipped(2)
    with pytest.raises(OrderNotFulfilledError):
        w.engine.close_order(w.key(), order.id)


# --------------------------------------------------------------------------- gateway payments


def test_authorize_payment_holds_the_order_total(w: World) -> None:
    order = w.order(2)
    w.mark()
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    assert (payment.state.value, payment.authorized) == ("authorized", eur("119.00"))
    assert (payment.gateway, payment.customer_id) == ("card", "ada")
    assert [(s.kind, s.amount) for s in w.gateway.side_effects] == [
        (TransactionKind.AUTHORIZE, eur("119.00"))
    ]
    assert w.names() == [
        "PaymentCreated",
        "PaymentRequested",
        "PaymentTransactionSucceeded",
        "PaymentAuthorized",
    ]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_decline", DeclineReason.CARD_DECLINED),
        ("tok_decline_insufficient_funds", DeclineReason.INSUFFICIENT_FUNDS),
    ],
)
def test_authorize_payment_with_a_declined_card(
    w: World, token: str, reason: DeclineReason
) -> None:
    payment = w.engine.authorize_payment(w.key(), w.order(1).id, token=token)
    assert payment.state.value == "declined"
    assert payment.transactions[-1].decline_reason is reason
    assert w.gateway.side_effects == []
    assert w.names()[-1] == "PaymentDeclined"


def test_capture_payment_applies_the_cash_to_the_orders_invoice(w: World) -> None:
    order, invoice = w.invoiced(2)
    payment = w.engine.authorize_payment(w.key(), order.id, token=CARD)
    w.mark()
    payment = w.engine.capture_payment(w.key(), payment.id, eur("50.00"))
    assert (payment.state.value, payment.captured) == ("captured", eur("50.00"))
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.open_amount) == ("partially_paid", eur("69.00"))
    assert "CashReceived" in w.names()
    assert "InvoicePaymentApplied" in w.names()


def test_void_payment_releases_the_authorization(w: World) -> None:
    payment = w.engine.authorize_payment(w.key(), w.order(1).id, token=CARD)
    w.mark()
    payment = w.engine.void_payment(w.key(), payment.id)
    assert (payment.state.value, payment.voided) == ("voided", eur("59.50"))
    assert w.names()[-1] == "PaymentVoided"
    with pytest.raises(NothingToDoError):
        w.engine.void_payment(w.key(), payment.id)


def test_refund_payment_reopens_the_invoice_it_paid(w: World) -> None:
    _, invoice, payment = w.card_paid(2)
    w.mark()
    payment = w.engine.refund_payment(w.key(), payment.id, eur("20.00"))
    assert (payment.state.value, payment.refunded) == ("partially_refunded", eur("20.00"))
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.open_amount) == ("partially_paid", eur("20.00"))
    receipt = w.engine.receipt("RC-000001")
    assert [r.amount for r in receipt.refunds] == [eur("20.00")]
    assert w.gateway.side_effects[-1][::2] == (TransactionKind.REFUND, eur("20.00"))
    assert "InvoicePaymentUnapplied" in w.names()


def test_a_pending_payment_is_settled_by_the_gateway_event_once(w: World) -> None:
    payment = w.engine.authorize_payment(w.key(), w.order(1).id, token=PENDING_TOKEN)
    assert (payment.state.value, payment.transactions[-1].state.value) == ("new", "pending")
    event = w.gateway.settle(payment.transactions[-1].idempotency_key, now=w.clock.now())
    w.mark()
    settled = w.engine.handle_gateway_event("card", event)
    assert settled.state.value == "authorized"
    assert w.names() == ["PaymentTransactionSucceeded", "PaymentAuthorized"]
    w.mark()
    assert w.engine.handle_gateway_event("card", event) == settled
    assert w.names() == []
    assert w.engine.payment(payment.id).authorized == eur("59.50")


def test_a_gateway_event_for_no_known_request_is_refused(w: World) -> None:
    payment = w.engine.authorize_payment(w.key(), w.order(1).id, token=PENDING_TOKEN)
    event = w.gateway.settle(payment.transactions[-1].idempotency_key, now=w.clock.now())
    stray = type(event)(
        event_id="evt-x", idempotency_key="nobody", outcome=event.outcome, occurred_at=START
    )
    with pytest.raises(EngineStateError, match="no request"):
        w.engine.handle_gateway_event("card", stray)


def test_pay_invoices_charges_two_invoices_at_once(w: World) -> None:
    _, first = w.invoiced(1)
    _, second = w.invoiced(2)
    w.mark()
    payment = w.engine.pay_invoices(w.key(), "ada", [first.id, second.id], token=CARD)
    assert (payment.state.value, payment.captured) == ("captured", eur("178.50"))
    assert payment.order_id is None
    assert [w.engine.invoice(i.id).state.value for i in (first, second)] == ["paid", "paid"]
    assert w.names().count("InvoicePaymentApplied") == 2
    assert [s.kind for s in w.gateway.side_effects] == [TransactionKind.SALE]


def test_pay_invoices_refuses_another_customers_invoice(w: World) -> None:
    _, own = w.invoiced(1)
    _, other = w.invoiced(1, cid="bob")
    with pytest.raises(CustomerMismatchError) as caught:
        w.engine.pay_invoices(w.key(), "ada", [own.id, other.id], token=CARD)
    assert caught.value.id == other.id
    assert w.gateway.side_effects == []
    assert w.engine.invoice(own.id).state.value == "issued"


def test_pay_invoices_with_nothing_open_has_nothing_to_do(w: World) -> None:
    _, invoice, _ = w.card_paid(1)
    with pytest.raises(NothingToDoError):
        w.engine.pay_invoices(w.key(), "ada", [invoice.id], token=CARD)


# --------------------------------------------------------------------------- cash


def test_receive_payment_stays_unapplied(w: World) -> None:
    receipt = w.engine.receive_payment(w.key(), amount=eur("30.00"), reference="TRF 1")
    assert (receipt.method, receipt.customer_id) == (PaymentMethod.BANK_TRANSFER, None)
    assert (receipt.unapplied, receipt.reference) == (eur("30.00"), "TRF 1")
    assert w.names() == ["CashReceived"]


def test_receive_payment_for_an_unknown_customer_is_not_found(w: World) -> None:
    with pytest.raises(NotFoundError):
        w.engine.receive_payment(w.key(), amount=eur("1.00"), customer_id="nobody")


def test_apply_cash_partly_pays_an_invoice_and_assigns_the_customer(w: World) -> None:
    _, invoice = w.invoiced(2)
    receipt = w.engine.receive_payment(w.key(), amount=eur("100.00"))
    w.mark()
    receipt = w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("60.00")})
    assert (receipt.customer_id, receipt.unapplied) == ("ada", eur("40.00"))
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.open_amount) == ("partially_paid", eur("59.00"))
    assert w.names()[:2] == ["ReceiptCustomerAssigned", "CashAllocated"]
    assert w.engine.balance("ada") == eur("19.00")  # 59.00 open - 40.00 unapplied


def test_apply_cash_over_the_open_amount_is_refused(w: World) -> None:
    _, invoice = w.invoiced(1)
    receipt = w.engine.receive_payment(w.key(), amount=eur("100.00"), customer_id="ada")
    with pytest.raises(AllocationExceedsOpenAmountError):
        w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("59.51")})
    assert w.engine.invoice(invoice.id).open_amount == eur("59.50")
    assert w.engine.receipt(receipt.id).unapplied == eur("100.00")


def test_apply_cash_over_the_unapplied_cash_is_refused(w: World) -> None:
    _, invoice = w.invoiced(1)
    receipt = w.engine.receive_payment(w.key(), amount=eur("10.00"), customer_id="ada")
    with pytest.raises(InsufficientUnappliedCashError):
        w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("20.00")})


def test_apply_cash_refuses_another_customers_invoice(w: World) -> None:
    _, invoice = w.invoiced(1, cid="bob")
    receipt = w.engine.receive_payment(w.key(), amount=eur("10.00"), customer_id="ada")
    with pytest.raises(EngineStateError, match="another customer"):
        w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("10.00")})


def test_apply_cash_with_no_allocations_has_nothing_to_do(w: World) -> None:
    receipt = w.engine.receive_payment(w.key(), amount=eur("10.00"))
    with pytest.raises(NothingToDoError):
        w.engine.apply_cash(w.key(), receipt.id, {})


def test_refund_unapplied_pays_cash_back(w: World) -> None:
    receipt = w.engine.receive_payment(w.key(), amount=eur("30.00"), customer_id="ada")
    assert w.engine.balance("ada") == eur("-30.00")
    w.mark()
    receipt = w.engine.refund_unapplied(w.key(), receipt.id, eur("25.00"), "paid back")
    assert receipt.unapplied == eur("5.00")
    assert [(r.amount, r.reference) for r in receipt.refunds] == [(eur("25.00"), "paid back")]
    assert w.engine.balance("ada") == eur("-5.00")
    assert w.names() == ["UnappliedCashRefunded"]
    with pytest.raises(InsufficientUnappliedCashError):
        w.engine.refund_unapplied(w.key(), receipt.id, eur("5.01"), "too much")


# --------------------------------------------------------------------------- RMAs


def _returned(w: World, order: Order, qty: int = 1) -> str:
    rma = w.engine.request_return(w.key(), order.id, {"1": qty}, "chipped")
    w.engine.authorize_return(w.key(), rma.id)
    w.engine.receive_return(w.key(), rma.id)
    return rma.id


def test_request_and_authorize_a_return(w: World) -> None:
    order, _ = w.delivered_invoiced(2)
    w.mark()
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "chipped")
    assert (rma.id, rma.state.value, rma.order_id) == ("RMA-000001", "requested", order.id)
    assert [(ln.line_id, ln.quantity) for ln in rma.lines] == [("1", 1)]
    rma = w.engine.authorize_return(w.key(), rma.id)
    assert rma.state.value == "authorized"
    assert w.engine.return_(rma.id) == rma
    assert w.names() == ["ReturnRequested", "ReturnAuthorized"]


def test_close_return_credits_and_refunds_the_card(w: World) -> None:
    order, invoice, payment = w.card_paid(2)
    rma_id = _returned(w, order)
    assert w.engine.stock("MUG").on_hand == 9
    w.mark()
    rma = w.engine.close_return(w.key(), rma_id)
    assert (rma.state.value, rma.credit_note_id) == ("closed", "CN-000001")
    assert rma.refund_ids == (f"{payment.id}/T3",)
    refunded = w.engine.payment(payment.id)
    assert (refunded.state.value, refunded.refunded) == ("partially_refunded", eur("59.50"))
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.credited, inv.open_amount) == ("paid", eur("59.50"), eur("0"))
    assert w.gateway.side_effects[-1][::2] == (TransactionKind.REFUND, eur("59.50"))
    assert w.names()[-1] == "ReturnClosed"
    assert w.engine.balance("ada").is_zero()


def test_close_return_of_a_bank_paid_invoice_refunds_the_receipt(w: World) -> None:
    order, invoice = w.delivered_invoiced(2)
    receipt = w.engine.receive_payment(w.key(), amount=eur("119.00"), customer_id="ada")
    w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("119.00")})
    rma = w.engine.close_return(w.key(), _returned(w, order))
    assert rma.refund_ids == (f"{receipt.id}/refund1",)
    paid_back = w.engine.receipt(receipt.id)
    assert ([r.amount for r in paid_back.refunds], paid_back.unapplied) == (
        [eur("59.50")],
        eur("0.00"),
    )
    assert w.gateway.side_effects == []
    assert w.engine.invoice(invoice.id).state.value == "paid"


def test_close_return_of_an_unpaid_invoice_only_credits_it(w: World) -> None:
    order, invoice = w.delivered_invoiced(2)
    rma = w.engine.close_return(w.key(), _returned(w, order))
    assert (rma.credit_note_id, rma.refund_ids) == ("CN-000001", ())
    assert w.engine.invoice(invoice.id).open_amount == eur("59.50")
    assert w.engine.balance("ada") == eur("59.50")


def test_receive_return_without_restock_leaves_stock_alone(w: World) -> None:
    order, _ = w.delivered_invoiced(2)
    rma = w.engine.request_return(w.key(), order.id, {"1": 2}, "broken")
    w.engine.authorize_return(w.key(), rma.id)
    w.mark()
    rma = w.engine.receive_return(w.key(), rma.id, restock=False)
    assert rma.state.value == "received"
    assert w.engine.stock("MUG").on_hand == 8
    assert w.engine.order(order.id).lines[0].returned == 2
    assert "StockReceived" not in w.names()


def test_reject_return_ends_it(w: World) -> None:
    order, _ = w.delivered_invoiced(2)
    rma = w.engine.request_return(w.key(), order.id, {"1": 1}, "changed mind")
    assert w.engine.reject_return(w.key(), rma.id, "past the window").state.value == "rejected"
    with pytest.raises(InvalidTransitionError):
        w.engine.receive_return(w.key(), rma.id)


def test_request_return_of_more_than_delivered_is_refused(w: World) -> None:
    order, _ = w.delivered_invoiced(2)
    with pytest.raises(ReturnQuantityExceededError):
        w.engine.request_return(w.key(), order.id, {"1": 3}, "all of them")


# --------------------------------------------------------------------------- disputes


def test_lost_chargeback_takes_the_money_and_writes_the_invoice_off(w: World) -> None:
    _, invoice, payment = w.card_paid(2)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    assert (dispute.state.value, dispute.amount, dispute.invoice_id) == (
        "needs_response",
        eur("119.00"),
        invoice.id,
    )
    w.mark()
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "lost")
    assert dispute.state.value == "lost"
    assert dispute.resolution is not None
    assert dispute.resolution.resolution.value == "write_off"
    receipt = w.engine.receipt("RC-000001")
    assert [(r.amount, r.reference) for r in receipt.refunds] == [
        (eur("119.00"), f"chargeback {dispute.id}")
    ]
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.written_off) == ("written_off", eur("119.00"))
    assert w.engine.balance("ada").is_zero()
    assert w.names()[0] == "DisputeClosed"
    assert w.names()[-1] == "DisputeResolved"


def test_lost_chargeback_on_a_payment_for_two_invoices_settles_both(w: World) -> None:
    _, first = w.invoiced(1)
    _, second = w.invoiced(2)
    payment = w.engine.pay_invoices(w.key(), "ada", [first.id, second.id], token=CARD)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "lost")
    written = [w.engine.invoice(i.id) for i in (first, second)]
    assert [(i.state.value, i.written_off) for i in written] == [
        ("written_off", eur("59.50")),
        ("written_off", eur("119.00")),
    ]
    assert w.engine.balance("ada").is_zero()


def test_lost_chargeback_resolved_by_credit_notes_names_them(w: World) -> None:
    _, first = w.invoiced(1)
    _, second = w.invoiced(2)
    payment = w.engine.pay_invoices(w.key(), "ada", [first.id, second.id], token=CARD)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "lost", resolution="credit_note")
    assert dispute.resolution is not None
    assert dispute.resolution.reference == "CN-000001, CN-000002"
    assert [w.engine.invoice(i.id).credited for i in (first, second)] == [
        eur("59.50"),
        eur("119.00"),
    ]
    assert w.engine.balance("ada").is_zero()
    assert w.engine.receipt("RC-000001").refunded == eur("178.50")  # the bank's, not ours
    assert [s.kind for s in w.gateway.side_effects] == [TransactionKind.SALE]


def test_won_chargeback_moves_nothing(w: World) -> None:
    _, invoice, payment = w.card_paid(2)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    w.mark()
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "won")
    assert dispute.resolution is not None
    assert (dispute.resolution.resolution.value, dispute.resolution.amount) == (
        "none",
        eur("0.00"),
    )
    assert w.engine.invoice(invoice.id).state.value == "paid"
    assert w.engine.receipt("RC-000001").refunds == ()
    assert w.names() == ["DisputeClosed", "DisputeResolved"]


def _short_paid(w: World) -> Invoice:
    _, invoice = w.invoiced(2)
    receipt = w.engine.receive_payment(w.key(), amount=eur("109.00"), customer_id="ada")
    w.engine.apply_cash(w.key(), receipt.id, {invoice.id: eur("109.00")})
    return invoice


def test_accepted_deduction_writes_the_short_amount_off(w: World) -> None:
    invoice = _short_paid(w)
    dispute = w.engine.open_deduction(w.key(), invoice.id, eur("10.00"), reason="damaged_goods")
    assert (dispute.kind.value, dispute.respond_by) == ("deduction", START + timedelta(days=14))
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "accepted")
    assert dispute.resolution is not None
    assert dispute.resolution.resolution.value == "write_off"
    inv = w.engine.invoice(invoice.id)
    assert (inv.written_off, inv.open_amount) == (eur("10.00"), eur("0.00"))
    assert w.engine.balance("ada").is_zero()


def test_accepted_deduction_resolved_by_a_credit_note(w: World) -> None:
    invoice = _short_paid(w)
    dispute = w.engine.open_deduction(w.key(), invoice.id, eur("10.00"))
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "accepted", resolution="credit_note")
    assert dispute.resolution is not None
    assert dispute.resolution.reference == "CN-000001"
    inv = w.engine.invoice(invoice.id)
    assert (inv.state.value, inv.credited, inv.open_amount) == ("paid", eur("10.00"), eur("0"))


def test_won_deduction_keeps_the_amount_to_collect(w: World) -> None:
    invoice = _short_paid(w)
    dispute = w.engine.open_deduction(w.key(), invoice.id, eur("10.00"))
    dispute = w.engine.settle_dispute(w.key(), dispute.id, "won")
    assert dispute.resolution is not None
    assert dispute.resolution.resolution.value == "collect"
    assert w.engine.invoice(invoice.id).open_amount == eur("10.00")


def test_open_deduction_over_the_open_amount_is_refused(w: World) -> None:
    invoice = _short_paid(w)
    with pytest.raises(EngineStateError):
        w.engine.open_deduction(w.key(), invoice.id, eur("10.01"))


def test_submit_dispute_evidence_puts_it_under_review(w: World) -> None:
    _, _, payment = w.card_paid(1)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="product_not_received")
    w.mark()
    dispute = w.engine.submit_dispute_evidence(
        w.key(), dispute.id, {"tracking": "DHL000001"}, ("pod.pdf",)
    )
    assert dispute.state.value == "under_review"
    assert dispute.evidence is not None
    assert dispute.evidence.texts == (("tracking", "DHL000001"),)
    assert dispute.evidence.documents == ("pod.pdf",)
    assert w.names() == ["DisputeEvidenceSubmitted"]


def test_settle_dispute_with_an_unknown_outcome_is_refused(w: World) -> None:
    _, _, payment = w.card_paid(1)
    dispute = w.engine.open_chargeback(w.key(), payment.id, reason="fraudulent")
    with pytest.raises(EngineStateError, match="outcome must be one of"):
        w.engine.settle_dispute(w.key(), dispute.id, "draw")
    assert w.engine.dispute(dispute.id).is_open


# --------------------------------------------------------------------------- plugins


class Adapters:
    """A plugin that offers a gateway, a carrier and a storage by name."""

    def __init__(self, clock: FixedClock) -> None:
        self.gateway = FakeGateway(prefix="acme")
        self.carrier = FakeCarrier(clock=clock, name="post")
        self.storage = MemoryStorage()
        self.urls: list[str | None] = []

    @hookimpl
    def o2c_register_gateways(self) -> list[GatewayRecord]:
        return [GatewayRecord("acme", factory=lambda: self.gateway)]

    @hookimpl
    def o2c_register_carriers(self) -> list[CarrierRecord]:
        return [CarrierRecord("post", factory=lambda: self.carrier)]

    @hookimpl
    def o2c_register_storage(self) -> list[StorageRecord]:
        def open_storage(url: str | None) -> MemoryStorage:
            self.urls.append(url)
            return self.storage

        return [StorageRecord("vault", factory=open_storage)]


def test_plugins_register_a_gateway_a_carrier_and_a_storage_by_name() -> None:
    clock = FixedClock(START)
    plugin = Adapters(clock)
    pm = Plugins()
    pm.register(plugin, name="adapters")
    engine = O2C("vault", storage_url="vault://x", clock=clock, plugins=pm)
    assert plugin.urls == ["vault://x"]
    assert engine.storage is plugin.storage
    engine.add_customer("c", customer("ada"))
    engine.receive_stock("s", "MUG", 1)
    order = engine.place_order("o", customer_id="ada", lines=[line(1)])
    payment = engine.authorize_payment("p", order.id, token=CARD, gateway="acme")
    assert payment.gateway == "acme"
    assert plugin.gateway.side_effects[0].amount == eur("59.50")
    shipment = engine.ship("sh", order.id)
    assert (shipment.carrier, plugin.carrier.labels_bought) == ("post", 1)


class Lenient:
    """Approves customers without a credit limit (the default policy holds them)."""

    @hookimpl
    def o2c_credit_policy(self, customer_id: str, rules: tuple[Any, ...]) -> CreditPolicy | None:
        if customer_id != "vip":
            return None
        base = CreditPolicy.default(no_limit=CreditOutcome.APPROVE)
        return CreditPolicy(base.rules + rules, name="vip")


def test_a_credit_policy_plugin_decides_for_its_customers() -> None:
    pm = Plugins()
    pm.register(Lenient(), name="lenient")
    w = World(plugins=pm)
    w.engine.add_customer(w.key(), customer("vip", limit=None))
    w.engine.add_customer(w.key(), customer("new", limit=None))
    assert w.order(1, cid="vip").state.value == "confirmed"
    assert w.engine.credit_decision("SO-000001").policy_name == "vip"
    assert w.order(1, cid="new").state.value == "on_hold"
    assert w.engine.credit_decision("SO-000002").deciding_rule == "no_limit"


class NoBigOrders:
    name = "no_big_orders"

    def evaluate(self, request: CreditRequest) -> RuleOutcome | None:
        if request.amount > eur("100.00"):
            return RuleOutcome.reject("orders above 100.00 are refused", "acme.too_big")
        return None


class BigOrderRule:
    @hookimpl
    def o2c_credit_rules(self, customer_id: str) -> list[NoBigOrders]:
        return [NoBigOrders()]


def test_a_credit_rule_plugin_can_reject_an_order() -> None:
    pm = Plugins()
    pm.register(BigOrderRule(), name="big")
    w = World(plugins=pm)
    order = w.order(2)
    assert order.state.value == "rejected"
    assert order.rejection_reason == "credit policy rejected the order"
    assert w.engine.reservations(order.id) == []
    decision = w.engine.credit_decision(order.id)
    assert (decision.deciding_rule, decision.reasons) == ("no_big_orders", ("acme.too_big",))
    assert w.names()[-1] == "OrderRejected"
    assert w.order(1).state.value == "confirmed"


def test_subscribers_get_events_in_outbox_order_after_commit() -> None:
    seen_orders: list[Order] = []

    class Reader:
        engine: O2C

        @hookimpl
        def o2c_handle_event(self, event: DomainEvent, seq: int) -> None:
            if type(event).__name__ == "OrderPlaced":
                # Committed: a fresh unit of work sees the order.
                seen_orders.append(self.engine.order(event.aggregate_id))

    reader = Reader()
    pm = Plugins()
    pm.register(reader, name="reader")
    w = World(plugins=pm)
    reader.engine = w.engine
    w.order(1)
    seqs = [seq for seq, _ in w.recorder.seen]
    assert seqs == list(range(1, len(seqs) + 1))
    outbox = [(seq, event) for seq, event, _ in w.storage.snapshot().outbox]
    assert outbox == w.recorder.seen
    assert [o.state.value for o in seen_orders] == ["confirmed"]
    assert w.storage.pending_events() == []


def test_a_failing_subscriber_undoes_nothing_and_gets_the_events_later() -> None:
    class Flaky:
        down = False

        @hookimpl
        def o2c_handle_event(self, event: DomainEvent, seq: int) -> None:
            if self.down:
                raise RuntimeError("queue unavailable")

    flaky = Flaky()
    pm = Plugins()
    pm.register(flaky, name="flaky")
    w = World(plugins=pm)  # the recorder runs before flaky (pluggy: last registered first)
    flaky.down = True
    order = w.order(1)
    assert w.engine.order(order.id).state.value == "confirmed"
    assert w.engine.delivery_failures == 1
    pending = [type(e.event).__name__ for e in w.storage.pending_events()]
    assert pending == [
        "OrderCreated",
        "OrderPlaced",
        "CreditChecked",
        "OrderApproved",
        "StockReserved",
    ]
    flaky.down = False
    assert w.engine.dispatch_events() == 5
    assert w.storage.pending_events() == []
    assert w.names()[-1] == "StockReserved"


def test_an_unknown_storage_name_is_refused() -> None:
    with pytest.raises(UnknownAdapterError) as caught:
        O2C(storage="nope")
    assert (caught.value.role, caught.value.name) == ("storage", "nope")
    assert caught.value.available == ("memory",)


def test_the_memory_storage_is_available_by_name() -> None:
    assert isinstance(O2C(storage="memory").storage, MemoryStorage)


def test_every_event_is_named_by_its_type(w: World) -> None:
    w.engine.add_customer(w.key(), customer("carol"))
    assert [e.name for e in w.events()] == ["CustomerRegistered"]
