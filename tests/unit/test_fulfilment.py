"""Shipments: packing, labels, hand-over, carrier tracking, delivery and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from o2c.customers import Address
from o2c.errors import (
    CardDataRefusedError,
    InvalidAmountError,
    InvalidTransitionError,
    NaiveDatetimeError,
    ShipmentFieldError,
    ShipmentLineError,
    TrackingNumberMismatchError,
)
from o2c.events import (
    ItemQuantity,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentException,
    ShipmentGoodsReleased,
    ShipmentHandedOver,
    ShipmentLabelled,
    ShipmentLabelVoided,
    ShipmentLost,
    ShipmentReturnedToSender,
    ShipmentTracked,
)
from o2c.fulfilment import (
    Shipment,
    ShipmentLine,
    apply_tracking,
    attach_label,
    cancel,
    create_shipment,
    deliver,
    delivered_quantities,
    hand_over,
    release_goods,
    scan_target,
    void_label,
)
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.money import Money
from o2c.ports import Label, TrackingEvent, TrackingStatus
from o2c.tracking import on_time, order_key

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TN = "1Z999AA10123456784"
ADDR = Address(
    name="ACME", lines=("Hauptstr. 1",), city="Berlin", postal_code="10115", country="DE"
)
LABEL = Label(
    label_id="LBL-1",
    carrier="dhl",
    service="standard",
    tracking_number=TN,
    cost=Money("5.90", "EUR"),
)
S, SE = ShipmentState, ShipmentEvent


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def packed(**changes: Any) -> Shipment:
    fields: dict[str, Any] = {
        "shipment_id": "S1",
        "order_id": "O1",
        "customer_id": "C1",
        "lines": (ShipmentLine("A", "SKU-A", Decimal(2)), ShipmentLine("B", "SKU-B", 1)),
        "ship_to": ADDR,
        "now": T0,
    }
    fields.update(changes)
    shipment, _ = create_shipment(**fields)
    return shipment


def labelled(**changes: Any) -> Shipment:
    shipment, _ = attach_label(packed(**changes), LABEL, at(1))
    return shipment


def scan(event_id: str, status: ShipmentEvent | str, minutes: int, **changes: Any) -> TrackingEvent:
    fields: dict[str, Any] = {
        "event_id": event_id,
        "tracking_number": TN,
        "occurred_at": at(minutes),
        "status": status,
        "description": f"scan {event_id}",
        "location": "Leipzig",
    }
    fields.update(changes)
    return TrackingEvent(**fields)


def feed(shipment: Shipment, *scans: TrackingEvent) -> tuple[Shipment, list[Any]]:
    events: list[Any] = []
    for s in scans:
        shipment, more = apply_tracking(shipment, s)
        events.extend(more)
    return shipment, events


ITEMS = (
    ItemQuantity(line_id="A", sku="SKU-A", quantity=Decimal(2)),
    ItemQuantity(line_id="B", sku="SKU-B", quantity=Decimal(1)),
)


# --------------------------------------------------------------------------- lines and packing


def test_shipment_line_needs_a_positive_exact_quantity() -> None:
    assert ShipmentLine("A", "SKU-A", "1.5").quantity == Decimal("1.5")
    with pytest.raises(ShipmentLineError) as info:
        ShipmentLine("A", "SKU-A", 0)
    assert (info.value.line_id, info.value.code) == ("A", "shipment.bad_line")
    with pytest.raises(ShipmentLineError):
        ShipmentLine("A", "SKU-A", -1)
    with pytest.raises(InvalidAmountError):
        ShipmentLine("A", "SKU-A", 1.0)  # type: ignore[arg-type]
    with pytest.raises(ShipmentLineError, match="line_id"):
        ShipmentLine(" ", "SKU-A", 1)
    with pytest.raises(ShipmentLineError, match="sku"):
        ShipmentLine("A", "", 1)


def test_create_shipment() -> None:
    cod = Money("49.00", "EUR")
    shipment, events = create_shipment(
        shipment_id="S1",
        order_id="O1",
        customer_id="C1",
        lines=[ShipmentLine("A", "SKU-A", 2), ShipmentLine("B", "SKU-B", 1)],
        ship_to=ADDR,
        now=T0,
        cod_amount=cod,
    )
    assert shipment.state is S.PENDING
    assert shipment.tracking_number is None
    assert shipment.cod_amount == cod
    assert shipment.line("B") == ShipmentLine("B", "SKU-B", 1)
    assert shipment.line("Z") is None
    assert events == (
        ShipmentCreated(
            aggregate_id="S1",
            occurred_at=T0,
            order_id="O1",
            customer_id="C1",
            lines=ITEMS,
            cod_amount=cod,
        ),
    )


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"lines": ()}, ShipmentLineError, None),
        (
            {"lines": (ShipmentLine("A", "X", 1), ShipmentLine("A", "Y", 1))},
            ShipmentLineError,
            None,
        ),
        ({"lines": ("A",)}, ShipmentLineError, None),
        ({"lines": "A"}, ShipmentLineError, None),
        ({"shipment_id": " "}, ShipmentFieldError, "id"),
        ({"order_id": 7}, ShipmentFieldError, "order_id"),
        ({"ship_to": "Berlin"}, ShipmentFieldError, "ship_to"),
        ({"cod_amount": Money("0.00", "EUR")}, ShipmentFieldError, "cod_amount"),
        ({"cod_amount": Money("-1.00", "EUR")}, ShipmentFieldError, "cod_amount"),
        ({"cod_amount": "49.00"}, ShipmentFieldError, "cod_amount"),
        ({"now": "2026-03-02"}, ShipmentFieldError, "created_at"),
    ],
)
def test_create_shipment_refuses_bad_input(
    changes: dict[str, Any], error: type[Exception], field: str | None
) -> None:
    with pytest.raises(error) as info:
        packed(**changes)
    if field is not None:
        assert getattr(info.value, "field", None) == field


def test_duplicate_line_error_names_the_line() -> None:
    with pytest.raises(ShipmentLineError) as info:
        packed(lines=(ShipmentLine("A", "X", 1), ShipmentLine("A", "Y", 1)))
    assert (info.value.shipment_id, info.value.line_id) == ("S1", "A")


def test_naive_time_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        packed(now=datetime(2026, 3, 2))
    with pytest.raises(NaiveDatetimeError):
        hand_over(packed(), datetime(2026, 3, 2))


# --------------------------------------------------------------------------- label and hand-over


def test_attach_label() -> None:
    shipment, events = attach_label(packed(), LABEL, at(1))
    assert shipment.state is S.LABEL_CREATED
    assert (shipment.carrier, shipment.service, shipment.tracking_number, shipment.label_id) == (
        "dhl",
        "standard",
        TN,
        "LBL-1",
    )
    assert shipment.shipping_cost == Money("5.90", "EUR")
    assert events == (
        ShipmentLabelled(
            aggregate_id="S1",
            occurred_at=at(1),
            order_id="O1",
            label_id="LBL-1",
            carrier="dhl",
            service="standard",
            tracking_number=TN,
            cost=Money("5.90", "EUR"),
        ),
    )
    with pytest.raises(InvalidTransitionError) as info:
        attach_label(shipment, LABEL, at(2))
    assert info.value.state == "label_created"


def test_attach_label_refuses_a_bad_label() -> None:
    with pytest.raises(ShipmentFieldError) as info:
        attach_label(packed(), "LBL-1", at(1))  # type: ignore[arg-type]
    assert info.value.field == "label"
    with pytest.raises(ShipmentFieldError) as info:
        attach_label(packed(), attrs.evolve(LABEL, tracking_number=""), at(1))
    assert info.value.field == "label.tracking_number"
    with pytest.raises(ShipmentFieldError) as info:
        attach_label(packed(), attrs.evolve(LABEL, cost=Money("-1.00", "EUR")), at(1))
    assert info.value.field == "label.cost"


def test_free_labels_are_fine() -> None:
    shipment, _ = attach_label(packed(), attrs.evolve(LABEL, cost=Money.zero("EUR")), at(1))
    assert shipment.shipping_cost == Money.zero("EUR")


def test_hand_over_labelled_and_own_fleet() -> None:
    shipment, events = hand_over(labelled(), at(5))
    assert shipment.state is S.IN_TRANSIT
    assert shipment.handed_over_at == at(5)
    assert events == (
        ShipmentHandedOver(
            aggregate_id="S1",
            occurred_at=at(5),
            order_id="O1",
            lines=ITEMS,
            carrier="dhl",
            tracking_number=TN,
            via_tracking=False,
        ),
    )
    own, events = hand_over(packed(), at(5))
    assert own.state is S.IN_TRANSIT
    assert isinstance(events[0], ShipmentHandedOver)
    assert (events[0].carrier, events[0].tracking_number) == (None, None)
    with pytest.raises(InvalidTransitionError):
        hand_over(shipment, at(6))


# --------------------------------------------------------------------------- tracking


def test_tracking_happy_path() -> None:
    shipment, events = feed(
        labelled(cod_amount=Money("49.00", "EUR")),
        scan("E1", SE.HAND_OVER, 10),
        scan("E2", SE.GO_OUT_FOR_DELIVERY, 20),
        scan("E3", SE.DELIVER, 30),
    )
    assert shipment.state is S.DELIVERED
    assert shipment.delivered_at == at(30)
    assert shipment.handed_over_at == at(10)
    assert shipment.seen_event_ids == {"E1", "E2", "E3"}
    assert shipment.last_scan_at == at(30)
    assert [type(e) for e in events] == [
        ShipmentTracked,
        ShipmentHandedOver,
        ShipmentTracked,
        ShipmentTracked,
        ShipmentDelivered,
    ]
    assert events[2] == ShipmentTracked(
        aggregate_id="S1",
        occurred_at=at(20),
        order_id="O1",
        event_id="E2",
        tracking_number=TN,
        status="out_for_delivery",
        description="scan E2",
        location="Leipzig",
        state="out_for_delivery",
    )
    assert events[4] == ShipmentDelivered(
        aggregate_id="S1",
        occurred_at=at(30),
        order_id="O1",
        lines=ITEMS,
        delivered_at=at(30),
        cod_amount=Money("49.00", "EUR"),
        via_tracking=True,
    )
    assert delivered_quantities(shipment) == {"A": Decimal(2), "B": Decimal(1)}


def test_duplicate_scan_changes_nothing() -> None:
    shipment, _ = feed(labelled(), scan("E1", SE.HAND_OVER, 10))
    again, events = apply_tracking(shipment, scan("E1", SE.HAND_OVER, 10))
    assert again is shipment
    assert events == ()
    # A duplicate id is ignored even if the carrier re-sent it with other content.
    again, events = apply_tracking(shipment, scan("E1", SE.DELIVER, 40))
    assert (again, events) == (shipment, ())


def test_scan_of_another_parcel_is_refused() -> None:
    shipment = labelled()
    with pytest.raises(TrackingNumberMismatchError) as info:
        apply_tracking(shipment, scan("E1", SE.HAND_OVER, 10, tracking_number="OTHER"))
    assert (info.value.expected, info.value.received) == (TN, "OTHER")
    assert info.value.code == "shipment.tracking_mismatch"
    with pytest.raises(TrackingNumberMismatchError) as info:
        apply_tracking(packed(), scan("E1", SE.HAND_OVER, 10))
    assert info.value.expected is None


def test_late_scans_after_delivery_are_history_only() -> None:
    shipment, _ = feed(labelled(), scan("E1", SE.HAND_OVER, 10), scan("E3", SE.DELIVER, 30))
    for late in (scan("E2", SE.HAND_OVER, 20), scan("E4", SE.HAND_OVER, 40)):
        # Older than the latest scan, or newer: the shipment is final, nothing moves.
        again, events = apply_tracking(shipment, late)
        assert (again.state, again.delivered_at) == (S.DELIVERED, at(30))
        assert again.tracking == tuple(sorted((*shipment.tracking, late), key=order_key))
        assert [type(e) for e in events] == [ShipmentTracked]
        assert apply_tracking(again, late) == (again, ())


def test_older_exception_after_resume_is_recorded_but_does_not_move() -> None:
    shipment, _ = feed(labelled(), scan("E1", SE.HAND_OVER, 10), scan("E3", SE.RESUME, 30))
    assert shipment.state is S.IN_TRANSIT
    # The exception happened before the resume: the table would allow it, time does not.
    again, events = apply_tracking(shipment, scan("E2", SE.REPORT_EXCEPTION, 20))
    assert again.state is S.IN_TRANSIT
    assert [s.event_id for s in again.tracking] == ["E1", "E2", "E3"]
    assert [type(e) for e in events] == [ShipmentTracked]


def test_hand_over_scan_while_in_transit_is_only_history() -> None:
    shipment, _ = hand_over(labelled(), at(5))
    again, events = apply_tracking(shipment, scan("E1", SE.HAND_OVER, 10))
    assert again.state is S.IN_TRANSIT
    assert again.handed_over_at == at(5)
    assert [type(e) for e in events] == [ShipmentTracked]
    assert again.tracking == (scan("E1", SE.HAND_OVER, 10),)


def test_delivery_without_acceptance_scan_implies_the_hand_over() -> None:
    shipment, events = apply_tracking(labelled(), scan("E9", SE.DELIVER, 30))
    assert shipment.state is S.DELIVERED
    assert shipment.handed_over_at == at(30)
    assert [type(e) for e in events] == [ShipmentTracked, ShipmentHandedOver, ShipmentDelivered]
    tracked, handed, delivered = events
    assert isinstance(tracked, ShipmentTracked)
    assert tracked.implied == ("hand_over",)
    assert isinstance(handed, ShipmentHandedOver)
    assert handed.via_tracking
    assert isinstance(delivered, ShipmentDelivered)
    assert delivered.delivered_at == at(30)


def test_exception_resume_and_loss() -> None:
    shipment, events = feed(
        labelled(),
        scan("E1", SE.HAND_OVER, 10),
        scan("E2", SE.REPORT_EXCEPTION, 20, description="address unknown"),
        scan("E3", SE.RESUME, 30),
        scan("E4", SE.REPORT_EXCEPTION, 40),
        scan("E5", SE.DECLARE_LOST, 50),
    )
    assert shipment.state is S.LOST
    exceptions = [e for e in events if isinstance(e, ShipmentException)]
    assert [(e.description, e.implied) for e in exceptions] == [
        ("address unknown", False),
        ("scan E4", False),
    ]
    assert exceptions[0].location == "Leipzig"
    assert events[-1] == ShipmentLost(
        aggregate_id="S1", occurred_at=at(50), order_id="O1", lines=ITEMS
    )
    assert delivered_quantities(shipment) == {}


def test_return_to_sender_straight_from_transit_implies_an_exception() -> None:
    shipment, events = feed(
        labelled(), scan("E1", SE.HAND_OVER, 10), scan("E2", SE.RETURN_TO_SENDER, 20)
    )
    assert shipment.state is S.RETURNED_TO_SENDER
    assert [type(e) for e in events[2:]] == [
        ShipmentTracked,
        ShipmentException,
        ShipmentReturnedToSender,
    ]
    tracked, exception = events[2], events[3]
    assert isinstance(tracked, ShipmentTracked)
    assert tracked.implied == ("report_exception",)
    assert isinstance(exception, ShipmentException)
    assert exception.implied


def test_out_for_delivery_without_acceptance_scan() -> None:
    shipment, events = apply_tracking(labelled(), scan("E2", SE.GO_OUT_FOR_DELIVERY, 20))
    assert shipment.state is S.OUT_FOR_DELIVERY
    assert isinstance(events[0], ShipmentTracked)
    assert events[0].implied == ("hand_over",)
    # The skipped acceptance scan arriving late dates the hand-over; the state stays.
    again, events = apply_tracking(shipment, scan("E1", SE.HAND_OVER, 10))
    assert (again.state, again.handed_over_at) == (S.OUT_FOR_DELIVERY, at(10))
    assert [type(e) for e in events] == [ShipmentTracked]


def test_label_scans_never_move_a_shipment() -> None:
    shipment = labelled()
    pre, events = apply_tracking(shipment, scan("E0", SE.BUY_LABEL, 5))
    assert pre.state is S.LABEL_CREATED
    assert [type(e) for e in events] == [ShipmentTracked]
    cancelled, _ = apply_tracking(pre, scan("E1", SE.CANCEL, 6))
    assert cancelled.state is S.LABEL_CREATED  # a carrier's "cancelled" is only history
    assert cancelled.tracking[-1].status is TrackingStatus.CANCELLED
    moving, _ = apply_tracking(cancelled, scan("E2", SE.HAND_OVER, 10))
    late, _ = apply_tracking(moving, scan("E3", SE.BUY_LABEL, 11))
    assert late.state is S.IN_TRANSIT


def test_scans_of_the_same_minute_apply_in_a_parcel_life_order() -> None:
    scans = (
        scan("E1", SE.HAND_OVER, 10),
        scan("E3", SE.DELIVER, 20),
        scan("E2", SE.GO_OUT_FOR_DELIVERY, 20),
    )
    for arrival in (scans, scans[::-1]):
        shipment, _ = feed(labelled(), *arrival)
        assert shipment.state is S.DELIVERED
        assert [s.event_id for s in shipment.tracking] == ["E1", "E2", "E3"]


def test_status_given_as_text_is_normalised() -> None:
    shipment, events = apply_tracking(labelled(), scan("E1", "hand_over", 10))
    assert shipment.state is S.IN_TRANSIT
    assert shipment.tracking[0].status is TrackingStatus.IN_TRANSIT
    assert isinstance(events[0], ShipmentTracked)
    assert events[0].status == "in_transit"


def test_unknown_status_is_an_exception_with_the_carrier_words() -> None:
    moving, _ = apply_tracking(labelled(), scan("E1", SE.HAND_OVER, 10))
    shipment, events = apply_tracking(moving, scan("E2", "teleported", 20))
    assert shipment.state is S.EXCEPTION
    assert shipment.tracking[-1].raw_status == "teleported"
    assert shipment.tracking[-1].status is TrackingStatus.EXCEPTION
    assert [type(e) for e in events] == [ShipmentTracked, ShipmentException]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"raw_status": "x" * 300}, "event.raw_status"),
        ({"event_id": ""}, "event.event_id"),
        ({"description": "x" * 1001}, "event.description"),
        ({"location": "bad\x00place"}, "event.location"),
        ({"occurred_at": "today"}, "event.occurred_at"),
    ],
)
def test_malformed_scans_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ShipmentFieldError) as info:
        apply_tracking(labelled(), attrs.evolve(scan("E1", SE.HAND_OVER, 10), **changes))
    assert info.value.field == field


def test_malformed_scan_types_are_refused() -> None:
    with pytest.raises(ShipmentFieldError) as info:
        apply_tracking(labelled(), {"event_id": "E1"})  # type: ignore[arg-type]
    assert info.value.field == "event"
    with pytest.raises(NaiveDatetimeError):
        apply_tracking(labelled(), scan("E1", SE.HAND_OVER, 10, occurred_at=datetime(2026, 3, 2)))


def test_every_scan_status_has_one_target() -> None:
    for row in SHIPMENT_WORKFLOW.transitions:
        assert scan_target(row.event) is row.target
    assert {scan_target(e) for e in ShipmentEvent} >= {S.IN_TRANSIT, S.DELIVERED, S.LOST}


# ----------------------------------------------------------------------- manual delivery, cancel


def test_manual_proof_of_delivery() -> None:
    shipment, _ = hand_over(labelled(), at(5))
    done, events = deliver(shipment, at(60))
    assert done.state is S.DELIVERED
    assert done.delivered_at == at(60)
    assert events == (
        ShipmentDelivered(
            aggregate_id="S1",
            occurred_at=at(60),
            order_id="O1",
            lines=ITEMS,
            delivered_at=at(60),
            cod_amount=None,
            via_tracking=False,
        ),
    )
    with pytest.raises(InvalidTransitionError):
        deliver(done, at(61))
    # Later carrier scans cannot move a delivered shipment (they are history).
    later, _ = apply_tracking(done, scan("E1", SE.REPORT_EXCEPTION, 70))
    assert (later.state, later.delivered_at, len(later.tracking)) == (S.DELIVERED, at(60), 1)


def test_manual_delivery_of_a_shipment_never_handed_over() -> None:
    done, events = deliver(packed(), at(60))
    assert done.state is S.DELIVERED
    assert [type(e) for e in events] == [ShipmentHandedOver, ShipmentDelivered]
    assert done.handed_over_at == at(60)


def test_cancel_before_it_leaves() -> None:
    gone, events = cancel(labelled(), "customer changed address", at(3))
    assert gone.state is S.CANCELLED
    assert (gone.cancelled_at, gone.cancellation_reason) == (at(3), "customer changed address")
    assert events == (
        ShipmentCancelled(
            aggregate_id="S1",
            occurred_at=at(3),
            order_id="O1",
            reason="customer changed address",
            label_id="LBL-1",
            lines=ITEMS,
        ),
    )
    unlabelled, events = cancel(packed(), "stock damaged", at(3))
    assert unlabelled.state is S.CANCELLED
    assert isinstance(events[0], ShipmentCancelled)
    assert events[0].label_id is None


def test_cancel_refusals() -> None:
    moving, _ = hand_over(labelled(), at(5))
    with pytest.raises(InvalidTransitionError) as info:
        cancel(moving, "too late", at(6))
    assert info.value.allowed == ("go_out_for_delivery", "deliver", "report_exception")
    with pytest.raises(ShipmentFieldError) as info_field:
        cancel(packed(), "   ", at(6))
    assert info_field.value.field == "reason"
    with pytest.raises(ShipmentFieldError):
        cancel(packed(), "", at(6))
    with pytest.raises(CardDataRefusedError):
        cancel(packed(), "card 4111 1111 1111 1111 declined", at(6))


# --------------------------------------------------------------------------- rebuilt shipments


def test_rebuilt_shipments_are_checked() -> None:
    shipment = labelled()
    with pytest.raises(ShipmentFieldError) as info:
        attrs.evolve(shipment, label_id=None)
    assert info.value.field == "label"
    with pytest.raises(ShipmentFieldError):
        attrs.evolve(shipment, state=S.PENDING)
    with pytest.raises(ShipmentFieldError):
        attrs.evolve(packed(), state=S.LABEL_CREATED)
    with pytest.raises(ShipmentFieldError) as info:
        attrs.evolve(shipment, state=S.DELIVERED)
    assert info.value.field == "delivered_at"
    with pytest.raises(ShipmentFieldError) as info:
        attrs.evolve(shipment, state="shipped")
    assert info.value.field == "state"
    with pytest.raises(ShipmentFieldError) as info:
        attrs.evolve(shipment, tracking=(scan("E1", SE.HAND_OVER, 1, tracking_number="X"),))
    assert info.value.field == "tracking"
    with pytest.raises(ShipmentFieldError):
        attrs.evolve(shipment, tracking=(scan("E1", SE.HAND_OVER, 1),) * 2)
    rebuilt = Shipment(**attrs.asdict(shipment, recurse=False))
    assert rebuilt == shipment
    assert not rebuilt.is_final


# --------------------------------------------------------------------------- issue 4: labels, goods


def test_void_label_makes_the_shipment_pending_again() -> None:
    shipment = labelled()
    pending, events = void_label(shipment, at(5))
    assert pending.state is S.PENDING
    assert (pending.carrier, pending.tracking_number, pending.shipping_cost) == (None, None, None)
    assert pending.voided_labels == ("LBL-1",)
    (voided,) = events
    assert isinstance(voided, ShipmentLabelVoided)
    assert (voided.label_id, voided.tracking_number) == ("LBL-1", TN)
    with pytest.raises(InvalidTransitionError):
        void_label(pending, at(6))
    relabelled, _ = attach_label(pending, LABEL, at(7))
    assert relabelled.voided_labels == ("LBL-1",)


def test_release_goods_records_what_became_of_undelivered_goods() -> None:
    cancelled, _ = cancel(labelled(), "wrong address", at(5))
    released, events = release_goods(cancelled, at(6), restocked=True, reopened=True)
    assert (released.restocked, released.reopened) == (True, True)
    (event,) = events
    assert isinstance(event, ShipmentGoodsReleased)
    assert (event.reason, event.lines) == ("cancelled", ITEMS)
    with pytest.raises(ShipmentFieldError, match="already"):
        release_goods(released, at(7), restocked=True, reopened=False)
    assert release_goods(cancelled, at(6), restocked=False, reopened=False) == (cancelled, ())
    with pytest.raises(ShipmentFieldError, match="undelivered"):
        release_goods(labelled(), at(6), restocked=True, reopened=True)


def test_shipment_refuses_inconsistent_new_fields() -> None:
    moving, _ = hand_over(labelled(), at(5))
    assert moving.own_hand_over_at == at(5)
    with pytest.raises(ShipmentFieldError, match="own_hand_over_at"):
        attrs.evolve(moving, own_hand_over_at=at(6))
    with pytest.raises(ShipmentFieldError, match="undelivered"):
        attrs.evolve(moving, restocked=True)


def test_attach_label_keeps_the_promise() -> None:
    shipment, _ = attach_label(packed(), LABEL, at(1), promised_by=at(600))
    assert shipment.promised_by == at(600)
    with pytest.raises(NaiveDatetimeError):
        attach_label(packed(), LABEL, at(1), promised_by=datetime(2026, 3, 5))


def test_on_time_needs_a_promise_and_a_result() -> None:
    shipment, _ = attach_label(packed(), LABEL, at(1), promised_by=at(40))
    assert on_time(labelled()) is None
    assert on_time(shipment) is None
    early, _ = feed(shipment, scan("E1", SE.DELIVER, 30))
    late, _ = feed(shipment, scan("E1", SE.DELIVER, 50))
    lost, _ = feed(shipment, scan("E1", SE.DECLARE_LOST, 20))
    cancelled, _ = cancel(shipment, "no", at(2))
    assert (on_time(early), on_time(late), on_time(lost), on_time(cancelled)) == (
        True,
        False,
        False,
        None,
    )


def test_same_final_word_earlier_moves_the_delivery_time_only() -> None:
    moving, _ = feed(labelled(), scan("E1", SE.HAND_OVER, 10))
    done, _ = feed(moving, scan("E3", SE.DELIVER, 50))
    earlier, events = apply_tracking(done, scan("E2", SE.DELIVER, 40))
    assert (earlier.state, earlier.delivered_at) == (S.DELIVERED, at(40))
    assert [type(e) for e in events] == [ShipmentTracked]
    # A contradicting final word (lost, earlier) is history only: delivered stands.
    contra, _ = apply_tracking(earlier, scan("E0", SE.DECLARE_LOST, 30))
    assert (contra.state, contra.delivered_at) == (S.DELIVERED, at(40))


def test_scan_target_of_a_cancelled_word_is_none() -> None:
    assert scan_target(TrackingStatus.CANCELLED) is None
    assert scan_target(TrackingStatus.FAILED_ATTEMPT) is S.EXCEPTION
