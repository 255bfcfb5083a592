"""Engine edge cases found by the engine's state machine, pinned as examples."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.factories import customer, mugs

from o2c.adapters.fake_carrier import FakeCarrier
from o2c.adapters.fake_gateway import FakeGateway
from o2c.clock import FixedClock
from o2c.engine import O2C
from o2c.errors import PaymentLimitExceededError
from o2c.money import Money

CARD = "tok_visa"  # the fake gateway approves it


def paid_order() -> tuple[O2C, FixedClock, str, str, str]:
    """An order shipped, invoiced and paid by card; returns (engine, clock, order,
    shipment, payment)."""
    clock = FixedClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    o2c = O2C(
        clock=clock, gateways={"card": FakeGateway()}, carriers={"dhl": FakeCarrier(clock=clock)}
    )
    o2c.add_customer("c", customer())
    o2c.receive_stock("s", "MUG", 5)
    order = o2c.place_order("o", customer_id="ada", lines=mugs(2))
    payment = o2c.authorize_payment("a", order.id, token=CARD)
    parcel = o2c.ship("sh", order.id)
    o2c.invoice_order("i", order.id)
    o2c.capture_payment("cap", payment.id)
    return o2c, clock, order.id, parcel.id, payment.id


def test_a_parcel_arriving_after_the_order_closed_counts_as_delivered() -> None:
    o2c, clock, order_id, parcel_id, _ = paid_order()
    assert o2c.close_order("x", order_id).state.value == "completed"
    clock.advance(days=5)
    assert o2c.track_shipment("t", parcel_id).state.value == "delivered"
    tracked = o2c.track_order("ada", order_id)
    assert (tracked.state, tracked.lines[0].delivered) == ("completed", Decimal(2))


def test_a_chargeback_larger_than_the_payment_holds_is_refused() -> None:
    o2c, _, _, _, payment_id = paid_order()
    o2c.refund_payment("r", payment_id, Money("100.00", "EUR"))  # 19.00 of 119.00 left
    with pytest.raises(PaymentLimitExceededError) as info:
        o2c.open_chargeback("cb", payment_id, reason="fraudulent", amount=Money("50.00", "EUR"))
    assert info.value.available == Money("19.00", "EUR")
    dispute = o2c.open_chargeback("cb", payment_id, reason="fraudulent")  # the key is free
    assert dispute.amount == Money("19.00", "EUR")
