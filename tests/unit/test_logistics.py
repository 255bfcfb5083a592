"""Carriers and fulfilment providers through the engine: rate shopping, labels,
cancellation, carrier webhooks, promised vs actual delivery, parcels that do not
arrive, and 3PL fulfilment. One behaviour per test."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import attrs
import pytest

from o2c.adapters.fake_3pl import FakeThreePL, Plan
from o2c.adapters.fake_carrier import FakeCarrier, Scenario, ServiceLevel, WeightBand
from o2c.adapters.faults import FaultInjectingStorage
from o2c.adapters.memory import MemoryStorage
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C, EngineConfig
from o2c.errors import (
    EngineStateError,
    FulfilmentReportError,
    FulfilmentRequestError,
    HookResultError,
    InjectedFaultError,
    NoCarrierQuotedError,
    NotFoundError,
    OrderNotConfirmedError,
    OrderQuantityExceededError,
    PluginHookError,
    RateChoiceError,
    RateCurrencyMismatchError,
    ShipmentAlreadyLeftError,
    StockNotReservedError,
    UnknownAdapterError,
)
from o2c.fulfilment import Shipment
from o2c.hookspecs import hookimpl
from o2c.lifecycles import ShipmentState
from o2c.money import Money
from o2c.orders import Order, OrderLine
from o2c.plugins import Plugins
from o2c.ports import (
    CarrierScan,
    FulfilmentLine,
    FulfilmentReport,
    ReportedParcel,
    TrackingEvent,
    TrackingStatus,
)
from o2c.rates import Quote, QuoteFailure, RateRule, choose, promise
from o2c.reshipment import unship
from o2c.threepl import FulfilmentStatus
from o2c.tracking import DHL_LIKE, on_time

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
S = ShipmentState


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def cheap_ups(clock: FixedClock, currency: str = "EUR") -> FakeCarrier:
    """A carrier cheaper than DHL's standard but slower (5 days)."""
    band = (WeightBand(max_grams=31_500, price=Money("3.50", currency)),)
    return FakeCarrier(
        clock=clock,
        name="ups",
        currency=currency,
        services=(ServiceLevel(code="standard", transit_days=5, bands=band),),
    )


class World:
    """An engine with Ada, 20 mugs, DHL (speaking DHL-like codes) and more carriers."""

    def __init__(
        self,
        *,
        more: dict[str, FakeCarrier] | None = None,
        config: EngineConfig | None = None,
        plugins: Plugins | None = None,
        fail_at: int | None = None,
    ) -> None:
        self.clock = FixedClock(START)
        self.dhl = FakeCarrier(clock=self.clock, name="dhl", dialect=DHL_LIKE)
        self.tpl = FakeThreePL(clock=self.clock, carrier="dhl")
        self.storage = FaultInjectingStorage(MemoryStorage(), fail_at)
        self.carriers = {"dhl": self.dhl, **(more or {})}
        self.engine = O2C(
            self.storage,
            clock=self.clock,
            carriers=self.carriers,
            fulfilment_providers={"3pl": self.tpl},
            config=config,
            plugins=plugins,
        )
        self._keys = count(1)
        self.engine.add_customer(
            self.key(),
            Customer(
                id="ada",
                name="Ada",
                currency="EUR",
                billing_address=HOME,
                shipping_addresses=(HOME,),
                payment_terms="NET30",
                credit_limit=eur("5000.00"),
            ),
        )
        self.engine.receive_stock(self.key(), "MUG", 20)

    def key(self) -> str:
        return f"k-{next(self._keys)}"

    def order(self, qty: int = 2) -> Order:
        line = OrderLine(line_id="1", sku="MUG", quantity=Decimal(qty), unit_price=eur("50.00"))
        return self.engine.place_order(self.key(), customer_id="ada", lines=[line])

    def ship(self, qty: int = 2, **kw: Any) -> Shipment:
        return self.engine.ship(self.key(), self.order(qty).id, **kw)


# --------------------------------------------------------------------------- rate shopping


def test_shopping_chooses_the_cheapest_quote_and_says_why() -> None:
    w = World(more={"ups": cheap_ups(FixedClock(START))})
    shipment = w.ship()
    assert (shipment.carrier, shipment.service, shipment.shipping_cost) == (
        "ups",
        "standard",
        eur("3.50"),
    )
    choice = shipment.rate_choice
    assert choice is not None
    assert choice.rule == "cheapest"
    assert [(q.carrier, q.service) for q in choice.quotes] == [
        ("ups", "standard"),
        ("dhl", "standard"),
        ("dhl", "express"),
    ]
    assert choice.chosen == choice.quotes[0]
    assert shipment.promised_by == datetime(2026, 3, 7, 23, 59, 59, 999999, tzinfo=UTC)
    text = choice.explain()
    assert (
        text.splitlines()[0]
        == "lowest price: ups standard 3.50 EUR, by 2026-03-07 (rule: cheapest)."
    )
    assert "* ups standard" in text
    assert "- dhl express" in text


def test_fastest_rule_chooses_the_earliest_promise() -> None:
    w = World(more={"ups": cheap_ups(FixedClock(START))}, config=EngineConfig(rate_rule="fastest"))
    shipment = w.ship()
    assert (shipment.carrier, shipment.service) == ("dhl", "express")
    assert shipment.rate_choice is not None
    assert shipment.rate_choice.reason.startswith("earliest promised delivery")


def test_equal_quotes_are_broken_by_carrier_name() -> None:
    clock = FixedClock(START)
    w = World(more={"aaa": FakeCarrier(clock=clock, name="aaa")})
    assert w.ship().carrier == "aaa"  # same price and promise as dhl: alphabetical


def test_a_carrier_that_fails_to_quote_is_skipped_and_reported() -> None:
    w = World(more={"ups": cheap_ups(FixedClock(START))})
    w.carriers["ups"].set_outage()
    shipment = w.ship()
    assert shipment.carrier == "dhl"
    assert shipment.rate_choice is not None
    assert shipment.rate_choice.failures == (
        QuoteFailure(
            carrier="ups",
            error="carrier.unavailable",
            message=shipment.rate_choice.failures[0].message,
        ),
    )
    assert "! ups did not quote: carrier.unavailable" in shipment.rate_choice.explain()


def test_when_no_carrier_quotes_the_shipment_fails_and_names_why() -> None:
    w = World()
    w.dhl.set_outage()
    order = w.order()
    with pytest.raises(NoCarrierQuotedError) as info:
        w.engine.ship(w.key(), order.id)
    assert info.value.failures == ("dhl: carrier.unavailable",)
    assert w.engine.shipments(order.id) == []
    assert w.engine.order(order.id).lines[0].shipped == 0


def test_carrier_subset_limits_the_shopping() -> None:
    w = World(more={"ups": cheap_ups(FixedClock(START))})
    shipment = w.ship(carrier=["dhl"])
    assert shipment.carrier == "dhl"
    assert shipment.rate_choice is not None
    assert {q.carrier for q in shipment.rate_choice.quotes} == {"dhl"}
    with pytest.raises(UnknownAdapterError):
        w.ship(carrier=["dhl", "fedex"])
    with pytest.raises(UnknownAdapterError):
        w.ship(carrier=[])


def test_a_host_rule_decides_and_none_falls_back_to_cheapest() -> None:
    def express(quotes: Sequence[Quote]) -> Quote | None:
        return next((q for q in quotes if q.service == "express"), None)

    w = World(more={"ups": cheap_ups(FixedClock(START))}, config=EngineConfig(rate_rule=express))
    shipment = w.ship()
    assert (shipment.service, shipment.rate_choice and shipment.rate_choice.rule) == (
        "express",
        "host",
    )
    only_ups = w.ship(carrier="ups")
    assert only_ups.rate_choice is not None
    assert only_ups.rate_choice.rule == "cheapest"


def test_a_host_rule_answering_a_foreign_quote_is_refused() -> None:
    def foreign(quotes: Sequence[Quote]) -> Quote | None:
        return attrs.evolve(quotes[0], carrier="nobody")

    w = World(config=EngineConfig(rate_rule=foreign))
    order = w.order()
    with pytest.raises(RateChoiceError) as info:
        w.engine.ship(w.key(), order.id)
    assert info.value.rule == "host"
    assert w.dhl.labels_bought == 0


class Green:
    @hookimpl
    def o2c_choose_rate(self, request: Any, quotes: tuple[Quote, ...]) -> Quote | None:
        return next((q for q in quotes if q.service == "express"), None)


class Broken:
    @hookimpl
    def o2c_choose_rate(self, request: Any, quotes: tuple[Quote, ...]) -> object:
        return "dhl"


def test_a_plugin_chooses_first() -> None:
    pm = Plugins()
    pm.register(Green(), name="green")
    w = World(plugins=pm)
    shipment = w.ship()
    assert shipment.service == "express"
    assert shipment.rate_choice is not None
    assert shipment.rate_choice.rule == "plugin:green"


def test_a_plugin_answering_nonsense_is_a_hook_error() -> None:
    pm = Plugins()
    pm.register(Broken(), name="broken")
    w = World(plugins=pm)
    with pytest.raises(HookResultError):
        w.ship()


def test_cheapest_refuses_to_compare_currencies() -> None:
    w = World(more={"usps": cheap_ups(FixedClock(START), currency="USD")})
    with pytest.raises(RateCurrencyMismatchError) as info:
        w.ship()
    assert info.value.currencies == ("EUR", "USD")


def test_choose_refuses_no_quotes_and_unknown_rules() -> None:
    with pytest.raises(RateChoiceError):
        choose([], RateRule.CHEAPEST)
    rate = FakeCarrier(clock=FixedClock(START)).rates(attrs.evolve(_request(), weight_grams=100))[0]
    quote = Quote(carrier="fake", rate=rate, promised_by=promise(rate, START))
    with pytest.raises(RateChoiceError):
        choose([quote], "slowest")
    with pytest.raises(RateChoiceError):
        choose([quote], RateRule.CHEAPEST, decided=("p", attrs.evolve(quote, carrier="x")))


def test_promise_prefers_the_carriers_date() -> None:
    rate = FakeCarrier(clock=FixedClock(START)).rates(_request())[0]
    assert promise(attrs.evolve(rate, promised_by=START), START) == START


def _request() -> Any:
    from o2c.ports import ShipmentRequest

    return ShipmentRequest(shipment_id="SH-1", ship_to=HOME, weight_grams=500)


# --------------------------------------------------------------------------- labels


WAIT = EngineConfig(hand_over_on_ship=False)


def test_a_label_can_wait_for_pick_up_then_be_handed_over() -> None:
    w = World(config=WAIT)
    shipment = w.ship()
    assert shipment.state is S.LABEL_CREATED
    left = w.engine.hand_over_shipment(w.key(), shipment.id)
    assert (left.state, left.handed_over_at) == (S.IN_TRANSIT, START)
    with pytest.raises(ShipmentAlreadyLeftError):
        w.engine.hand_over_shipment(w.key(), shipment.id)


def test_carrier_pick_up_scan_hands_a_waiting_label_over() -> None:
    w = World(config=WAIT)
    shipment = w.ship()
    w.clock.advance(hours=3)
    tracked = w.engine.track_shipment(w.key(), shipment.id)
    assert (tracked.state, tracked.handed_over_at) == (S.IN_TRANSIT, START + timedelta(hours=2))


def test_void_then_relabel_buys_a_second_label_once() -> None:
    w = World(config=WAIT)
    shipment = w.ship()
    first = shipment.label_id
    assert first is not None
    pending = w.engine.void_label(w.key(), shipment.id)
    assert pending.state is S.PENDING
    assert (pending.label_id, pending.tracking_number, pending.voided_labels) == (
        None,
        None,
        (first,),
    )
    assert w.dhl.is_void(first)
    relabelled = w.engine.relabel(w.key(), shipment.id, service="express")
    assert (relabelled.state, relabelled.service) == (S.LABEL_CREATED, "express")
    assert w.dhl.labels_bought == 2
    with pytest.raises(EngineStateError, match="void the label first"):
        w.engine.relabel(w.key(), shipment.id)


def test_void_without_a_label_is_refused() -> None:
    w = World(config=WAIT)
    shipment = w.ship()
    w.engine.void_label(w.key(), shipment.id)
    with pytest.raises(EngineStateError, match="no label"):
        w.engine.void_label(w.key(), shipment.id)


def test_a_retried_ship_after_a_storage_failure_buys_one_label() -> None:
    probe = World()
    probe_order = probe.order()
    probe.storage.arm(10**6)  # counts the writes of a clean ship
    probe.engine.ship("probe", probe_order.id)
    w = World()
    order = w.order()
    w.storage.arm(probe.storage.writes - 1)  # the last write (the commit) fails
    with pytest.raises(InjectedFaultError):
        w.engine.ship("ship-1", order.id)
    assert w.dhl.labels_bought == 1  # the label was bought before the write failed
    w.storage.disarm()
    shipment = w.engine.ship("ship-2", order.id)  # another key, the same shipment
    assert w.dhl.labels_bought == 1
    assert shipment.tracking_number == "DHL000001"


def test_cancel_before_hand_over_voids_restocks_and_reopens() -> None:
    w = World(config=WAIT)
    shipment = w.ship(3)
    assert w.engine.stock("MUG").on_hand == 17
    cancelled = w.engine.cancel_shipment(w.key(), shipment.id, "wrong address")
    assert cancelled.state is S.CANCELLED
    assert (cancelled.restocked, cancelled.reopened) == (True, True)
    assert cancelled.label_id is not None
    assert w.dhl.is_void(cancelled.label_id)
    assert w.engine.stock("MUG").on_hand == 20
    assert w.engine.order(shipment.order_id).lines[0].to_ship == 3
    again = w.engine.ship(w.key(), shipment.order_id)  # ships from the fresh reservation
    assert again.lines[0].quantity == 3
    assert w.engine.stock("MUG").on_hand == 17


def test_cancelling_a_parcel_in_transit_is_refused() -> None:
    w = World()
    shipment = w.ship()
    with pytest.raises(ShipmentAlreadyLeftError) as info:
        w.engine.cancel_shipment(w.key(), shipment.id, "too late")
    assert (info.value.state, info.value.action) == ("in_transit", "cancel")
    with pytest.raises(ShipmentAlreadyLeftError):
        w.engine.void_label(w.key(), shipment.id)
    assert w.engine.shipment(shipment.id).state is S.IN_TRANSIT


def test_a_cancelled_shipment_cannot_be_cancelled_again() -> None:
    w = World(config=WAIT)
    shipment = w.ship()
    w.engine.cancel_shipment(w.key(), shipment.id, "changed mind")
    with pytest.raises(EngineStateError, match="cancelled"):
        w.engine.cancel_shipment(w.key(), shipment.id, "again")


# --------------------------------------------------------------------------- carrier webhooks


def test_a_webhook_in_the_carriers_codes_delivers() -> None:
    w = World()
    shipment = w.ship()
    w.clock.advance(days=5)
    assert shipment.tracking_number is not None
    raw = w.dhl.webhook(shipment.tracking_number)
    done = w.engine.receive_tracking("dhl", shipment.tracking_number, raw)
    assert done.state is S.DELIVERED
    assert [s.raw_status for s in done.tracking] == ["PU", "WC", "OK"]
    assert w.engine.order(shipment.order_id).lines[0].delivered == 2
    # The same webhook again is a replay; the shipment id works as a reference too.
    assert w.engine.receive_tracking("dhl", shipment.tracking_number, raw) == done
    again = w.engine.receive_tracking("dhl", shipment.id, raw[::-1])
    assert again == done


def test_webhook_scans_out_of_order_end_like_in_order() -> None:
    w = World()
    first = w.ship()
    second = w.ship()
    w.clock.advance(days=5)
    assert first.tracking_number
    assert second.tracking_number
    a = w.dhl.webhook(first.tracking_number)
    b = w.dhl.webhook(second.tracking_number)
    w.engine.receive_tracking("dhl", first.tracking_number, a)
    for scan in (b[2], b[0], b[2], b[1]):
        w.engine.receive_tracking("dhl", second.tracking_number, [scan])
    one, two = w.engine.shipment(first.id), w.engine.shipment(second.id)
    assert (two.state, two.delivered_at, two.handed_over_at) == (
        one.state,
        one.delivered_at,
        one.handed_over_at,
    )
    assert [s.raw_status for s in two.tracking] == [s.raw_status for s in one.tracking]


def test_an_unknown_code_is_an_exception_never_a_crash() -> None:
    w = World()
    shipment = w.ship()
    assert shipment.tracking_number is not None
    odd = CarrierScan(
        event_id="odd-1",
        tracking_number=shipment.tracking_number,
        occurred_at=START + timedelta(hours=3),
        code="QQ",
        description="customs hold",
    )
    got = w.engine.receive_tracking("dhl", shipment.tracking_number, [odd])
    assert got.state is S.EXCEPTION
    assert got.tracking[-1].description == "unknown dhl-like status 'QQ': customs hold"


def test_a_late_in_transit_never_reopens_a_delivered_parcel() -> None:
    w = World()
    shipment = w.ship()
    w.clock.advance(days=5)
    assert shipment.tracking_number is not None
    done = w.engine.track_shipment(w.key(), shipment.id)
    late = TrackingEvent(
        event_id="late-1",
        tracking_number=shipment.tracking_number,
        occurred_at=START + timedelta(days=6),
        status="in_transit",  # type: ignore[arg-type]
    )
    after = w.engine.receive_tracking("dhl", shipment.id, [late])
    assert (after.state, after.delivered_at) == (S.DELIVERED, done.delivered_at)
    assert w.engine.order(shipment.order_id).lines[0].delivered == 2


def test_webhook_refusals() -> None:
    w = World(more={"ups": cheap_ups(FixedClock(START))})
    shipment = w.ship(carrier="dhl")
    with pytest.raises(NotFoundError):
        w.engine.receive_tracking("dhl", "NOPE", [])
    with pytest.raises(EngineStateError, match="goes with dhl"):
        w.engine.receive_tracking("ups", shipment.id, [])
    with pytest.raises(Exception, match="TrackingEvent or CarrierScan"):
        w.engine.receive_tracking("dhl", shipment.id, ["delivered"])  # type: ignore[list-item]


# --------------------------------------------------------------------------- promised vs actual


def test_on_time_compares_delivery_with_the_promise() -> None:
    w = World()
    fast = w.ship()
    w.dhl.plan_next(Scenario.DELAYED)
    slow = w.ship()
    w.dhl.plan_next(Scenario.LOST)
    lost = w.ship()
    assert on_time(w.engine.shipment(fast.id)) is None  # on its way
    w.clock.advance(days=10)
    for s in (fast, slow, lost):
        w.engine.track_shipment(w.key(), s.id)
    assert on_time(w.engine.shipment(fast.id)) is True
    assert on_time(w.engine.shipment(slow.id)) is False
    assert on_time(w.engine.shipment(lost.id)) is False


# ------------------------------------------------------------------- parcels that do not arrive


def test_a_returned_parcel_restocks_and_may_ship_again() -> None:
    w = World()
    w.dhl.plan_next(Scenario.RETURNED)
    shipment = w.ship(2)
    w.clock.advance(days=10)
    back = w.engine.track_shipment(w.key(), shipment.id)
    assert back.state is S.RETURNED_TO_SENDER
    assert (back.restocked, back.reopened) == (True, True)
    assert w.engine.stock("MUG").on_hand == 20
    reserved = [r for r in w.engine.reservations(shipment.order_id) if r.reserved > 0]
    assert [(r.id, r.reserved) for r in reserved] == [(f"SO-000001/1/{shipment.id}", 2)]
    assert w.engine.ship(w.key(), shipment.order_id).lines[0].quantity == 2


def test_a_lost_parcel_ships_again_from_stock_without_restocking() -> None:
    w = World()
    w.dhl.plan_next(Scenario.LOST)
    shipment = w.ship(2)
    w.clock.advance(days=10)
    lost = w.engine.track_shipment(w.key(), shipment.id)
    assert (lost.restocked, lost.reopened) == (False, True)
    assert (w.engine.stock("MUG").on_hand, w.engine.stock("MUG").reserved) == (18, 2)


def test_a_lost_parcel_of_a_closed_order_reopens_nothing() -> None:
    w = World()
    w.dhl.plan_next(Scenario.LOST)
    shipment = w.ship(2)
    w.engine.invoice_order(w.key(), shipment.order_id)
    w.engine.close_order(w.key(), shipment.order_id)
    w.clock.advance(days=10)
    lost = w.engine.track_shipment(w.key(), shipment.id)
    assert (lost.state, lost.restocked, lost.reopened) == (S.LOST, False, False)
    assert w.engine.order(shipment.order_id).lines[0].shipped == 2


def test_unship_refuses_delivered_units() -> None:
    w = World()
    shipment = w.ship(2)
    w.engine.confirm_delivery(w.key(), shipment.id)
    order = w.engine.order(shipment.order_id)
    with pytest.raises(OrderQuantityExceededError):
        unship(order, {"1": Decimal(1)}, START, shipment_id=shipment.id, reason="lost")


# --------------------------------------------------------------------------- fulfilment providers


def test_send_to_3pl_then_report_makes_a_tracked_shipment() -> None:
    w = World()
    order = w.order(4)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    assert (fo.id, fo.provider, fo.reference, fo.status) == (
        "FO-000001",
        "3pl",
        "3PL-000001",
        FulfilmentStatus.OPEN,
    )
    with pytest.raises(StockNotReservedError):  # the units are at the 3PL now
        w.engine.ship(w.key(), order.id)
    w.clock.advance(hours=5)
    done = w.engine.poll_fulfilment(w.key(), fo.id)
    assert done.status is FulfilmentStatus.SHIPPED
    (shipment,) = w.engine.shipments(order.id)
    assert (shipment.id, shipment.state, shipment.fulfilment_id) == (
        "FO-000001/P0001-1",
        S.IN_TRANSIT,
        "FO-000001",
    )
    assert (shipment.carrier, shipment.tracking_number) == ("dhl", "3PL0001-1")
    assert w.engine.order(order.id).lines[0].shipped == 4
    assert w.engine.stock("MUG").on_hand == 16
    # Polling again (the same reports) changes nothing.
    assert w.engine.poll_fulfilment(w.key(), fo.id) == done


def test_partial_reports_ship_in_parts_and_overdue_lists_the_rest() -> None:
    w = World()
    w.tpl.plan_next(Plan.PARTIAL_NEVER)
    order = w.order(4)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    w.clock.advance(hours=5)
    part = w.engine.poll_fulfilment(w.key(), fo.id)
    assert (part.status, part.outstanding) == (FulfilmentStatus.PARTIAL, {"1": Decimal(2)})
    assert w.engine.overdue_fulfilments() == []
    w.clock.advance(days=2)
    assert [f.id for f in w.engine.overdue_fulfilments()] == [fo.id]
    assert w.engine.fulfilments(order.id) == [part]
    assert w.engine.fulfilment(fo.id) == part


def test_reports_pushed_twice_or_out_of_order_apply_once() -> None:
    w = World()
    w.tpl.plan_next(Plan.PARTIAL)
    order = w.order(4)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    w.clock.advance(days=2)
    first, second = w.tpl.reports(fo.id)
    for report in (second, first, second):
        w.engine.record_fulfilment_report(w.key(), "3pl", report)
    got = w.engine.fulfilment(fo.id)
    assert got.status is FulfilmentStatus.SHIPPED
    assert got.report_ids == (first.report_id, second.report_id)
    assert len(w.engine.shipments(order.id)) == 2
    assert w.engine.order(order.id).lines[0].shipped == 4


def test_a_report_shipping_more_than_sent_is_refused_whole() -> None:
    w = World()
    order = w.order(2)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    parcel = ReportedParcel(
        parcel_id="X1",
        shipped_at=START,
        lines=(FulfilmentLine(line_id="1", sku="MUG", quantity=Decimal(3)),),
    )
    report = FulfilmentReport(
        report_id="R1", request_id=fo.id, reported_at=START, parcels=(parcel,)
    )
    with pytest.raises(FulfilmentReportError, match="more than"):
        w.engine.record_fulfilment_report(w.key(), "3pl", report)
    with pytest.raises(EngineStateError, match="sent to 3pl"):
        w.engine.record_fulfilment_report(w.key(), "other", report)
    assert w.engine.shipments(order.id) == []


def test_an_untracked_parcel_is_handed_over_without_a_label() -> None:
    w = World()
    order = w.order(1)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    parcel = ReportedParcel(
        parcel_id="V1",
        shipped_at=START,
        lines=(FulfilmentLine(line_id="1", sku="MUG", quantity=Decimal(1)),),
    )
    w.engine.record_fulfilment_report(
        w.key(),
        "3pl",
        FulfilmentReport(report_id="R1", request_id=fo.id, reported_at=START, parcels=(parcel,)),
    )
    (shipment,) = w.engine.shipments(order.id)
    assert (shipment.state, shipment.carrier) == (S.IN_TRANSIT, None)


def test_unknown_provider_is_refused() -> None:
    w = World()
    with pytest.raises(UnknownAdapterError):
        w.engine.send_to_fulfilment(w.key(), w.order().id, "shipbob")


def test_a_plugin_fulfilment_provider_is_registered() -> None:
    from o2c.hookspecs import FulfilmentProviderRecord

    clock = FixedClock(START)

    class Offer:
        @hookimpl
        def o2c_register_fulfilment_providers(self) -> list[FulfilmentProviderRecord]:
            return [FulfilmentProviderRecord("acme", factory=lambda: FakeThreePL(clock=clock))]

    pm = Plugins()
    pm.register(Offer(), name="offer")
    engine = O2C(clock=clock, plugins=pm)
    assert set(engine.fulfilment_providers) == {"acme"}
    assert engine.fulfilment_provider(None)[0] == "acme"


def test_rate_hook_errors_name_the_plugin() -> None:
    class Raises:
        @hookimpl
        def o2c_choose_rate(self, request: Any, quotes: tuple[Quote, ...]) -> Quote | None:
            raise RuntimeError("boom")

    pm = Plugins()
    pm.register(Raises(), name="raises")
    w = World(plugins=pm)
    with pytest.raises(PluginHookError) as info:
        w.ship()
    assert info.value.plugin == "raises"


# --------------------------------------------------------------------------- edges


class Sloppy(FakeCarrier):
    """A carrier whose quotes include a malformed rate (a negative transit time)."""

    def rates(self, request: Any) -> list[Any]:
        good = super().rates(request)
        return [attrs.evolve(good[0], transit_days=-1), *good[1:]]


def test_a_malformed_rate_is_reported_not_used() -> None:
    w = World(more={"aaa": Sloppy(clock=FixedClock(START), name="aaa")})
    shipment = w.ship()
    assert shipment.rate_choice is not None
    assert [f.error for f in shipment.rate_choice.failures] == ["invalid_rate"]
    assert (shipment.carrier, shipment.service) == ("dhl", "standard")


def test_relabel_without_carriers_is_refused() -> None:
    clock = FixedClock(START)
    engine = O2C(clock=clock, config=WAIT)
    with pytest.raises(UnknownAdapterError, match="no carrier"):
        engine._carrier_names(None)


def test_expired_reservations_refuse_a_late_3pl_report() -> None:
    w = World(config=EngineConfig(reservation_ttl=timedelta(days=1)))
    order = w.order(2)
    fo = w.engine.send_to_fulfilment(w.key(), order.id)
    w.clock.advance(days=2)
    w.engine.expire_reservations(w.key())
    with pytest.raises(StockNotReservedError, match="lacks"):
        w.engine.poll_fulfilment(w.key(), fo.id)
    assert w.engine.fulfilment(fo.id).status is FulfilmentStatus.OPEN


class Confused(FakeThreePL):
    def submit(self, request: Any, idempotency_key: str) -> Any:
        ack = super().submit(request, idempotency_key)
        return attrs.evolve(ack, request_id="FO-999")


def test_an_acknowledgement_of_another_request_is_refused() -> None:
    clock = FixedClock(START)
    w = World()
    engine = O2C(w.storage, clock=clock, fulfilment_providers={"x": Confused(clock=clock)})
    with pytest.raises(FulfilmentRequestError, match="acknowledges"):
        engine.send_to_fulfilment("k", w.order().id)


def test_a_report_that_is_not_a_report_is_refused() -> None:
    w = World()
    with pytest.raises(FulfilmentReportError):
        w.engine.record_fulfilment_report(w.key(), "3pl", "R1")  # type: ignore[arg-type]


def test_unship_needs_a_confirmed_order() -> None:
    w = World()
    shipment = w.ship(2)
    w.engine.invoice_order(w.key(), shipment.order_id)
    closed = w.engine.close_order(w.key(), shipment.order_id)
    with pytest.raises(OrderNotConfirmedError):
        unship(closed, {"1": Decimal(1)}, START, shipment_id=shipment.id, reason="lost")


def test_a_dialect_without_a_word_says_so() -> None:
    from o2c.tracking import StatusMap

    with pytest.raises(KeyError):
        StatusMap(name="tiny", codes={"A": "delivered"}).code_for(TrackingStatus.LOST)
