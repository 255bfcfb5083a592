"""Carrier tracking converges: any arrival order of a scripted scan stream, with
duplicates, ends where the sorted, de-duplicated stream ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from o2c.customers import Address, Customer
from o2c.errors import (
    InvalidTransitionError,
    ReturnLineNotFoundError,
    ReturnQuantityExceededError,
    ReturnReceiptExceededError,
)
from o2c.events import (
    DomainEvent,
    ReturnClosed,
    ReturnReceived,
    ShipmentDelivered,
    ShipmentHandedOver,
)
from o2c.fulfilment import (
    Shipment,
    ShipmentLine,
    apply_tracking,
    attach_label,
    create_shipment,
    hand_over,
    scan_target,
)
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.money import Money
from o2c.orders import (
    Order,
    OrderLine,
    approve,
    new_order,
    place,
    record_delivery,
    record_return,
    record_shipment,
)
from o2c.ports import Label, TrackingEvent
from o2c.returns import (
    ReturnAuthorization,
    authorize,
    close,
    open_quantities,
    receive,
    received_quantities,
    reject,
    request_return,
)
from o2c.returns import cancel as cancel_return

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TN = "TRACK-1"
ADDR = Address(name="ACME", lines=("Hauptstr. 1",), city="Berlin", country="DE")
LABEL = Label(
    label_id="L1", carrier="ups", service="ground", tracking_number=TN, cost=Money("7", "EUR")
)
_NOT_SCANNED = {ShipmentEvent.CANCEL, ShipmentEvent.VOID_LABEL}  # label events


def start(*, handed_over: bool) -> Shipment:
    shipment, _ = create_shipment(
        shipment_id="S1",
        order_id="O1",
        customer_id="C1",
        lines=(ShipmentLine("A", "SKU-A", Decimal(3)),),
        ship_to=ADDR,
        now=T0,
    )
    shipment, _ = attach_label(shipment, LABEL, T0)
    if handed_over:
        shipment, _ = hand_over(shipment, T0)
    return shipment


@st.composite
def scripts(draw: st.DrawFn) -> list[TrackingEvent]:
    """A carrier's stream in time order: a legal walk through the shipment table
    from *label created*, with "nothing new" scans (hub scans, repeated
    exceptions) mixed in, at strictly increasing times."""
    state = ShipmentState.LABEL_CREATED
    statuses: list[ShipmentEvent] = []
    for _ in range(draw(st.integers(0, 12))):
        moves = [
            row.event
            for row in SHIPMENT_WORKFLOW.transitions
            if row.source is state and row.event not in _NOT_SCANNED
        ]
        if not moves:
            break  # final
        stays = [e for e in ShipmentEvent if e not in _NOT_SCANNED and scan_target(e) is state]
        status = draw(st.sampled_from(moves + stays))
        statuses.append(status)
        state = scan_target(status)
    gaps = draw(st.lists(st.integers(1, 600), min_size=len(statuses), max_size=len(statuses)))
    scans: list[TrackingEvent] = []
    when = T0
    for i, (status, gap) in enumerate(zip(statuses, gaps, strict=True)):
        when += timedelta(minutes=gap)
        scans.append(
            TrackingEvent(event_id=f"E{i}", tracking_number=TN, occurred_at=when, status=status)
        )
    return scans


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[TrackingEvent], list[TrackingEvent]]:
    """A script, and the same scans in any order with any number of duplicates."""
    script = draw(scripts())
    if not script:
        return script, []
    extra = draw(st.lists(st.sampled_from(script), max_size=len(script) * 2))
    arrival = draw(st.permutations(script + extra))
    return script, list(arrival)


def run(shipment: Shipment, scans: list[TrackingEvent]) -> tuple[Shipment, list[DomainEvent]]:
    events: list[DomainEvent] = []
    for scan in scans:
        shipment, more = apply_tracking(shipment, scan)
        events.extend(more)
    return shipment, events


@given(deliveries(), st.booleans())
def test_any_arrival_order_ends_where_the_sorted_stream_ends(
    case: tuple[list[TrackingEvent], list[TrackingEvent]], handed_over: bool
) -> None:
    script, arrival = case
    origin = start(handed_over=handed_over)
    expected, _ = run(origin, sorted(script, key=lambda s: s.occurred_at))
    got, events = run(origin, arrival)
    assert got.state is expected.state
    assert got.delivered_at == expected.delivered_at
    assert got.last_scan_at == expected.last_scan_at
    # Goods leave once and arrive at most once, whatever the order.
    left = sum(isinstance(e, ShipmentHandedOver) for e in events)
    assert left == (1 if not handed_over and got.state is not ShipmentState.LABEL_CREATED else 0)
    assert sum(isinstance(e, ShipmentDelivered) for e in events) == (
        1 if got.state is ShipmentState.DELIVERED else 0
    )
    # Replaying everything once more is a no-op.
    again, more = run(got, arrival)
    assert (again, more) == (got, [])


@given(scripts())
def test_the_sorted_stream_follows_the_script(script: list[TrackingEvent]) -> None:
    got, _ = run(start(handed_over=False), script)
    expected = scan_target(script[-1].status) if script else ShipmentState.LABEL_CREATED
    assert got.state is expected
    # Every scan of a legal stream in time order is recorded, none is ignored.
    assert got.tracking == tuple(script)


# --------------------------------------------------------------------------- RMA quantities

QTY = st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2), Decimal(3), Decimal(6)])
LINES = st.sampled_from(["A", "B"])
OPS = st.one_of(
    st.tuples(st.just("request"), LINES, QTY),
    st.tuples(st.just("request2"), QTY, QTY),
    st.tuples(st.sampled_from(["cancel", "reject", "authorize", "close"]), st.integers(0, 99)),
    st.tuples(st.just("receive"), st.integers(0, 99), LINES, QTY, st.booleans()),
)


def returnable_order(delivered_a: int, delivered_b: int) -> Order:
    customer = Customer(
        id="C1",
        name="ACME",
        currency="EUR",
        billing_address=ADDR,
        shipping_addresses=(ADDR,),
        payment_terms="NET30",
    )
    lines = [
        OrderLine(line_id="A", sku="SKU-A", quantity=5, unit_price=Money("10.00", "EUR")),
        OrderLine(line_id="B", sku="SKU-B", quantity=3, unit_price=Money("4.00", "EUR")),
    ]
    order, _ = new_order(
        order_id="O1", customer=customer, lines=lines, shipping_address=ADDR, now=T0
    )
    order, _ = approve(place(order, T0)[0], T0)
    delivered = {k: v for k, v in (("A", delivered_a), ("B", delivered_b)) if v}
    if delivered:
        order, _ = record_shipment(order, delivered, T0)
        order, _ = record_delivery(order, delivered, T0)
    return order


def _holds(order: Order, rmas: list[ReturnAuthorization]) -> None:
    held = open_quantities(rmas)
    for line in order.lines:
        assert line.returned + held.get(line.line_id, Decimal(0)) <= line.delivered
    for rma in rmas:
        for rline in rma.lines:
            assert Decimal(0) <= rline.restocked <= rline.received <= rline.quantity


def _request(
    order: Order, rmas: list[ReturnAuthorization], asked: dict[str, Decimal]
) -> ReturnAuthorization | None:
    held = open_quantities(rmas)
    fits = all(
        qty <= order.line(k).delivered - order.line(k).returned - held.get(k, Decimal(0))
        for k, qty in asked.items()
    )
    try:
        rma, _ = request_return(
            return_id=f"R{len(rmas)}",
            order=order,
            quantities=asked,
            reason="changed mind",
            now=T0,
            already_requested=held,
        )
    except ReturnQuantityExceededError:
        assert not fits
        return None
    assert fits
    return rma


@given(st.integers(0, 5), st.integers(0, 3), st.lists(OPS, max_size=30))
def test_returns_never_exceed_delivered_minus_returned(
    delivered_a: int, delivered_b: int, ops: list[tuple[Any, ...]]
) -> None:
    order = returnable_order(delivered_a, delivered_b)
    rmas: list[ReturnAuthorization] = []
    for op in ops:
        kind = op[0]
        if kind in ("request", "request2"):
            asked = {op[1]: op[2]} if kind == "request" else {"A": op[1], "B": op[2]}
            rma = _request(order, rmas, asked)
            if rma is not None:
                rmas.append(rma)
        elif rmas:
            i = op[1] % len(rmas)
            try:
                if kind == "cancel":
                    rmas[i], _ = cancel_return(rmas[i], "withdrawn", T0)
                elif kind == "reject":
                    rmas[i], _ = reject(rmas[i], "refused", T0)
                elif kind == "authorize":
                    rmas[i], _ = authorize(rmas[i], T0)
                elif kind == "receive":
                    rmas[i], _ = receive(rmas[i], {op[2]: op[3]}, T0, restock=op[4])
                else:
                    rmas[i], events = close(rmas[i], credit_note_id=None, refund_ids=(), now=T0)
                    closed = events[0]
                    assert isinstance(closed, ReturnClosed)
                    # The engine's part: record what came back on the order at close.
                    back = {item.line_id: item.quantity for item in closed.received}
                    order, _ = record_return(order, back, T0)
            except (InvalidTransitionError, ReturnLineNotFoundError, ReturnReceiptExceededError):
                pass
        _holds(order, rmas)


@given(st.lists(st.tuples(LINES, QTY), max_size=12))
def test_receive_never_exceeds_the_authorized_quantity(
    parcels: list[tuple[str, Decimal]],
) -> None:
    order = returnable_order(5, 3)
    rma, _ = request_return(
        return_id="R1",
        order=order,
        quantities={"A": Decimal(4), "B": Decimal("2.5")},
        reason="wrong colour",
        now=T0,
    )
    rma, _ = authorize(rma, T0)
    accepted = {"A": Decimal(0), "B": Decimal(0)}
    for line_id, qty in parcels:
        outstanding = rma.line(line_id).outstanding
        try:
            rma, events = receive(rma, {line_id: qty}, T0)
        except ReturnReceiptExceededError as exc:
            assert qty > outstanding
            assert exc.outstanding == str(outstanding)
            continue
        assert qty <= outstanding
        accepted[line_id] += qty
        received = events[0]
        assert isinstance(received, ReturnReceived)
        assert received.complete == rma.is_fully_received
    for rline in rma.lines:
        assert rline.received == accepted[rline.line_id] <= rline.quantity
    assert received_quantities(rma) == {k: v for k, v in accepted.items() if v}
