"""Gateway and carrier events together: delivered 1-5 times each, in any order, they
end in the state that in-order single delivery gives.

One engine takes both kinds of pushed events at once: Stripe webhooks answering
payments left pending or unknown (and opening and moving disputes), and DHL-like
tracking scans of the parcels it shipped. The streams come from the generators of
``test_webhook_delivery`` and ``test_tracking_props``; here they are mixed into one
random arrival order, each event repeated one to five times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from hypothesis import given, note, settings
from hypothesis import strategies as st
from tests.properties.test_tracking_props import parcel_scans
from tests.properties.test_webhook_delivery import (
    CONFIG,
    GATEWAY,
    PLUGINS,
    START,
    EventSpec,
    SlowGateway,
    business_state,
    gateway_stream,
    plans,
    redelivered,
    setup,
    slots,
)

from o2c.adapters.fake_carrier import FakeCarrier
from o2c.clock import FixedClock
from o2c.engine import O2C
from o2c.lifecycles import ShipmentState
from o2c.ports import CarrierScan, Kind, TrackingStatus
from o2c.tracking import DHL_LIKE

LOGISTICS = frozenset({Kind.SHIPMENT.value, Kind.ORDER.value, Kind.STOCK.value})
LOGISTICS |= {Kind.RESERVATION.value}


def new_engine() -> O2C:
    """A slow Stripe gateway (answers by webhook) and a carrier speaking DHL codes."""
    clock = FixedClock(START)
    return O2C(
        clock=clock,
        gateways={GATEWAY: SlowGateway()},
        carriers={"dhl": FakeCarrier(clock=clock, name="dhl", dialect=DHL_LIKE)},
        config=attrs.evolve(CONFIG, hand_over_on_ship=True),
        plugins=PLUGINS,
    )


def prepare(engine: O2C, plan: Sequence[tuple[bool, str, int]], parcels: int) -> list[Any]:
    """Payments left waiting (see ``test_webhook_delivery.setup``) and the first
    ``parcels`` orders shipped (labels DHL000001 ...)."""
    handles = setup(engine, plan)
    for n in range(parcels):
        engine.ship(f"setup-ship-{n}", f"SO-{n + 1:06d}")
    return handles


def logistics_state(engine: O2C) -> dict[tuple[str, str], object]:
    """Shipments, orders, stock and reservations by (kind, id)."""
    snapshot = engine.storage.snapshot()  # type: ignore[attr-defined]
    return {(k, rid): rec for k, rid, rec, _ in snapshot.records if k in LOGISTICS}


def apply(engine: O2C, item: EventSpec | CarrierScan, handles: list[Any]) -> None:
    """Deliver one event: a webhook, or one tracking scan pushed by the carrier."""
    if isinstance(item, CarrierScan):
        engine.receive_tracking("dhl", item.tracking_number, [item])
    else:
        item.bind(handles).apply(engine)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[tuple[bool, str, int]], int, list[Any]]:
    """A setup plan, how many of its orders ship, and every event in the order sent."""
    plan = draw(plans)
    parcels = draw(st.integers(0, len(plan)))
    events: list[Any] = list(draw(gateway_stream(slots(plan))))
    for n in range(parcels):
        events += draw(parcel_scans(f"DHL{n + 1:06d}", max_scans=4))
    return plan, parcels, events


# Two engines and a few dozen engine calls per example: capped so it stays a few
# seconds under the ci profile; each stream alone runs at more examples in its module.
@settings(max_examples=60 if settings().max_examples <= 200 else settings().max_examples // 4)
@given(data=st.data(), drawn=streams())
def test_mixed_redelivered_events_end_in_the_in_order_state(
    data: st.DataObject, drawn: tuple[list[tuple[bool, str, int]], int, list[Any]]
) -> None:
    plan, parcels, events = drawn
    arrivals = data.draw(redelivered(events), label="arrivals")
    note(f"{len(events)} events, {len(arrivals)} deliveries, {parcels} parcels")
    calm, wild = new_engine(), new_engine()
    handles = prepare(calm, plan, parcels)
    assert prepare(wild, plan, parcels) == handles

    for item in events:
        apply(calm, item, handles)
    for item in arrivals:
        apply(wild, item, handles)

    assert business_state(wild) == business_state(calm)
    expected, got = logistics_state(calm), logistics_state(wild)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == expected[name], name
    assert wild.parked_webhooks() == calm.parked_webhooks() == ()


def test_the_mixed_comparison_sees_a_scan_and_a_webhook() -> None:
    # Either half of the comparison must notice one more event of its kind.
    plan = [(True, "tok_pending", 1)]
    one, other = new_engine(), new_engine()
    handles = prepare(one, plan, 1)
    prepare(other, plan, 1)
    assert logistics_state(one) == logistics_state(other)
    scan = CarrierScan(
        event_id="s1",
        tracking_number="DHL000001",
        occurred_at=START,
        code=DHL_LIKE.code_for(TrackingStatus.DELIVERED),
        description="delivered",
    )
    apply(one, scan, handles)
    assert one.shipment("SH-000001").state is ShipmentState.DELIVERED
    assert logistics_state(one) != logistics_state(other)
    assert business_state(one) == business_state(other)
