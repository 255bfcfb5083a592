"""Shipments: one parcel or consignment of an order, from packing to the doorstep.

A :class:`Shipment` is an immutable aggregate moved only through
:data:`o2c.lifecycles.SHIPMENT_WORKFLOW`. Every operation returns
``(shipment, events)``; a refused operation raises a typed error and changes
nothing.

Carrier tracking (:func:`apply_tracking`, :func:`apply_scans`) is fed by webhooks
and polling, so it sees duplicates, scans out of order, scans the carrier never sent
(a parcel delivered without an acceptance scan) and words o2c does not know. It never
raises for a surprise, only for a scan of another parcel
(:class:`~o2c.errors.TrackingNumberMismatchError`). The rules:

1. **Duplicates**: a scan whose ``event_id`` was already recorded is ignored (the first
   copy stays).
2. **Every other scan is recorded**, in canonical order (time, then the status's place
   in a parcel's life, then event id; :func:`o2c.tracking.order_key`), late ones too.
3. **The state is a function of the recorded scans** (:func:`o2c.tracking.fold`): the
   shipment walks the table from where o2c left it (*label created*, or *in transit*
   when o2c recorded the hand-over) to each scan's target in that order, along the
   shortest path, skipping targets it cannot reach; the first final state ends the
   walk. ``handed_over_at`` and ``delivered_at`` come from the same walk. So any
   arrival order, with any duplicates, ends in the state and times the sorted stream
   gives.
4. **Final is final**: once a shipment is final (delivered, returned, lost, or cancelled
   by o2c), a new scan never changes its state, even one older than the final scan
   that would have decided otherwise (a carrier that contradicts itself: the first
   final word o2c recorded stands). Only an earlier copy of the same final word
   (another event id) moves its time, as the walk over all scans says.
5. Label scans never move a shipment: cancelling is o2c's own decision (:func:`cancel`,
   :func:`void_label`).

Promised and actual delivery are kept for on-time reporting (:func:`on_time`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Final, TypeAlias

import attrs

from o2c._fields import FieldChecks
from o2c.customers import Address
from o2c.errors import (
    ShipmentFieldError,
    ShipmentLineError,
)
from o2c.events import (
    DomainEvent,
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
)
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.money import Money, to_decimal
from o2c.payments import check_free_text
from o2c.ports import Label, TrackingEvent, TrackingStatus
from o2c.rates import RateChoice

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "Shipment",
    "ShipmentLine",
    "apply_tracking",
    "attach_label",
    "cancel",
    "check_scan",
    "create_shipment",
    "deliver",
    "delivered_quantities",
    "hand_over",
    "items",
    "release_goods",
    "scan_target",
    "void_label",
]

#: Longest id (shipment, order, line, label, tracking number, scan id) accepted.
MAX_ID_LENGTH: Final = 255
#: Longest free text (a reason, a carrier's description) accepted.
MAX_TEXT_LENGTH: Final = 1_000

_S, _SE = ShipmentState, ShipmentEvent

#: What each table event leads to. The shipment table gives every event a single
#: target, so a legacy scan (a table event) reads as "the parcel is now in state X".
_TARGETS: Final = MappingProxyType({t.event: t.target for t in SHIPMENT_WORKFLOW.transitions})
#: States that mean the goods will not reach the customer through this shipment.
_UNDELIVERED: Final = frozenset({_S.CANCELLED, _S.LOST, _S.RETURNED_TO_SENDER})

Events: TypeAlias = tuple[DomainEvent, ...]


# --------------------------------------------------------------------------- field checks


def _text(value: object, field: str, *, limit: int = MAX_TEXT_LENGTH, empty: bool = False) -> str:
    return check_free_text(
        value, field=field, max_length=limit, error=ShipmentFieldError, allow_empty=empty
    )


_FIELDS: Final = FieldChecks(ShipmentFieldError, max_id=MAX_ID_LENGTH, max_text=MAX_TEXT_LENGTH)
_id = _FIELDS.id
_aware = _FIELDS.aware
_check_id = FieldChecks.validator(_FIELDS.id)
_check_optional_id = FieldChecks.validator(_FIELDS.id, optional=True)
_check_aware = FieldChecks.validator(_FIELDS.aware)
_check_optional_aware = FieldChecks.validator(_FIELDS.aware, optional=True)


def _check_reason(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _text(value, attribute.name, empty=True)


def _money(value: object, field: str, *, zero_ok: bool) -> Money:
    if not isinstance(value, Money):
        raise ShipmentFieldError(f"{field} must be Money", field=field, reason="not Money")
    if value.is_negative() or (value.is_zero() and not zero_ok):
        above = "at or above" if zero_ok else "above"
        raise ShipmentFieldError(f"{field} out of range", field=field, reason=f"not {above} zero")
    return value


def _state(value: object) -> ShipmentState:
    try:
        return ShipmentState(str(value))
    except ValueError:
        raise ShipmentFieldError(
            "unknown shipment state", field="state", reason=f"{str(value)[:40]!r} is no state"
        ) from None


def _quantity(value: object) -> Decimal:
    return to_decimal(value, what="quantity")


# --------------------------------------------------------------------------- values


@attrs.frozen
class ShipmentLine:
    """Units of one order line packed into a shipment.

    Args:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: Units packed (above zero).

    Raises:
        ShipmentLineError: a blank id or sku, or a quantity not above zero.
        InvalidAmountError: the quantity is a float or not an exact bounded number.
    """

    line_id: str
    sku: str
    quantity: Decimal = attrs.field(converter=_quantity)

    def __attrs_post_init__(self) -> None:
        for name in ("line_id", "sku"):
            value: object = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
                raise ShipmentLineError(
                    shipment_id="",
                    line_id=self.line_id if isinstance(self.line_id, str) else "",
                    reason=f"{name} must be a non-blank string of at most {MAX_ID_LENGTH}",
                )
        if self.quantity <= 0:
            raise ShipmentLineError(
                shipment_id="", line_id=self.line_id, reason="quantity must be above zero"
            )


def _lines(value: object) -> tuple[ShipmentLine, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ShipmentLineError(shipment_id="", line_id="", reason="lines must be a sequence")
    return tuple(value)


def _scans(value: Iterable[TrackingEvent]) -> tuple[TrackingEvent, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Shipment:
    """One parcel or consignment of an order (the aggregate).

    Build one with :func:`create_shipment`; the constructor exists for storage
    adapters that rebuild a recorded shipment, and re-checks its consistency.

    Args:
        id: The shipment's id.
        order_id: The order it ships.
        customer_id: The customer.
        lines: What it holds: at least one line, each order line once.
        ship_to: Destination.
        created_at: When it was packed.
        state: Where it stands (see :data:`~o2c.lifecycles.SHIPMENT_WORKFLOW`).
        carrier: Carrier name, once labelled.
        service: Carrier service, once labelled.
        tracking_number: Tracking number, once labelled.
        label_id: The carrier's label id, once labelled.
        shipping_cost: What the label cost, once labelled.
        cod_amount: Cash the carrier collects on delivery (None: not cash on delivery).
        handed_over_at: When the goods left.
        delivered_at: When they arrived (set exactly when delivered).
        cancelled_at: When it was cancelled.
        cancellation_reason: Why it was cancelled.
        tracking: Carrier scans recorded, in canonical order (:func:`o2c.tracking.order_key`).
        own_hand_over_at: When o2c itself recorded the hand-over (None when only
            carrier scans say the goods left); tracking starts *in transit* then.
        promised_by: When the chosen rate promised delivery (None: no promise).
        rate_choice: How the carrier and service were chosen (rate shopping).
        voided_labels: Ids of labels voided before it left, oldest first.
        fulfilment_id: The fulfilment order (3PL) it was reported under, if any.
        restocked: True once its goods went back on hand (cancelled, returned).
        reopened: True once its quantities were given back to the order to ship again.

    Raises:
        ShipmentFieldError: a field is malformed or the label fields are inconsistent.
        ShipmentLineError: no lines, a line id twice, or not a ShipmentLine.
    """

    id: str = attrs.field(validator=_check_id)
    order_id: str = attrs.field(validator=_check_id)
    customer_id: str = attrs.field(validator=_check_id)
    lines: tuple[ShipmentLine, ...] = attrs.field(converter=_lines)
    ship_to: Address
    created_at: datetime = attrs.field(validator=_check_aware)
    state: ShipmentState = attrs.field(default=ShipmentState.PENDING, converter=_state)
    carrier: str | None = attrs.field(default=None, validator=_check_optional_id)
    service: str | None = attrs.field(default=None, validator=_check_optional_id)
    tracking_number: str | None = attrs.field(default=None, validator=_check_optional_id)
    label_id: str | None = attrs.field(default=None, validator=_check_optional_id)
    shipping_cost: Money | None = None
    cod_amount: Money | None = None
    handed_over_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    delivered_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    cancelled_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    cancellation_reason: str = attrs.field(default="", validator=_check_reason)
    tracking: tuple[TrackingEvent, ...] = attrs.field(default=(), converter=_scans)
    own_hand_over_at: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    promised_by: datetime | None = attrs.field(default=None, validator=_check_optional_aware)
    rate_choice: RateChoice | None = None
    voided_labels: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    fulfilment_id: str | None = attrs.field(default=None, validator=_check_optional_id)
    restocked: bool = False
    reopened: bool = False

    def __attrs_post_init__(self) -> None:
        self._check_lines()
        if not isinstance(self.ship_to, Address):
            raise ShipmentFieldError("ship_to must be an Address", field="ship_to", reason="type")
        if self.cod_amount is not None:
            _money(self.cod_amount, "cod_amount", zero_ok=False)
        label = (self.carrier, self.service, self.tracking_number, self.label_id)
        labelled = all(v is not None for v in (*label, self.shipping_cost))
        if not labelled and any(v is not None for v in (*label, self.shipping_cost)):
            raise ShipmentFieldError(
                "label fields are set together", field="label", reason="partly set"
            )
        if self.shipping_cost is not None:
            _money(self.shipping_cost, "shipping_cost", zero_ok=True)
        if (self.state is _S.PENDING and labelled) or (
            self.state is _S.LABEL_CREATED and not labelled
        ):
            raise ShipmentFieldError(
                "label and state disagree",
                field="label",
                reason=f"labelled={labelled} in state {self.state.value}",
            )
        if (self.delivered_at is not None) != (self.state is _S.DELIVERED):
            raise ShipmentFieldError(
                "delivered_at is set exactly when delivered", field="delivered_at", reason="state"
            )
        if self.own_hand_over_at is not None and self.handed_over_at != self.own_hand_over_at:
            raise ShipmentFieldError(
                "own_hand_over_at is the hand-over time", field="own_hand_over_at", reason="differs"
            )
        if (self.restocked or self.reopened) and self.state not in _UNDELIVERED:
            raise ShipmentFieldError(
                "only undelivered goods are released", field="restocked", reason=self.state.value
            )
        self._check_tracking()

    def _check_lines(self) -> None:
        if not self.lines:
            raise ShipmentLineError(shipment_id=self.id, line_id="", reason="no lines")
        seen: set[str] = set()
        for line in self.lines:
            if not isinstance(line, ShipmentLine):
                raise ShipmentLineError(
                    shipment_id=self.id, line_id="", reason="lines must be ShipmentLine values"
                )
            if line.line_id in seen:
                raise ShipmentLineError(
                    shipment_id=self.id, line_id=line.line_id, reason="line id given twice"
                )
            seen.add(line.line_id)

    def _check_tracking(self) -> None:
        ids: set[str] = set()
        for scan in self.tracking:
            if not isinstance(scan, TrackingEvent) or scan.tracking_number != self.tracking_number:
                raise ShipmentFieldError(
                    "tracking holds a foreign scan", field="tracking", reason="not this parcel"
                )
            if scan.event_id in ids:
                raise ShipmentFieldError(
                    "tracking holds a scan twice", field="tracking", reason="duplicate scan id"
                )
            ids.add(scan.event_id)

    # -- queries ------------------------------------------------------------------

    @property
    def seen_event_ids(self) -> frozenset[str]:
        """Ids of the carrier scans recorded (derived from :attr:`tracking`)."""
        return frozenset(scan.event_id for scan in self.tracking)

    @property
    def last_scan_at(self) -> datetime | None:
        """The carrier time of the newest recorded scan (None before the first)."""
        return max((scan.occurred_at for scan in self.tracking), default=None)

    @property
    def is_final(self) -> bool:
        """True once delivered, returned to sender, lost or cancelled."""
        return SHIPMENT_WORKFLOW.is_final(self.state)

    def line(self, line_id: str) -> ShipmentLine | None:
        """The line for ``line_id``, or None."""
        return next((line for line in self.lines if line.line_id == line_id), None)


#: What every operation returns: the new shipment and the events it caused.
Result: TypeAlias = tuple[Shipment, Events]


def _items(lines: Iterable[ShipmentLine]) -> tuple[ItemQuantity, ...]:
    return tuple(ItemQuantity(line_id=x.line_id, sku=x.sku, quantity=x.quantity) for x in lines)


# --------------------------------------------------------------------------- the one step


def _step(
    shipment: Shipment,
    event: ShipmentEvent,
    at: datetime,
    *,
    via_tracking: bool,
    description: str = "",
    location: str = "",
    implied: bool = False,
) -> tuple[Shipment, list[DomainEvent]]:
    """Apply one table event (anything but BUY_LABEL and CANCEL, which carry data)
    and emit the event of the state entered; the only place movement changes state."""
    source = shipment.state
    target = SHIPMENT_WORKFLOW.apply(source, event)
    changes: dict[str, Any] = {"state": target}
    base: dict[str, Any] = {
        "aggregate_id": shipment.id,
        "occurred_at": at,
        "order_id": shipment.order_id,
    }
    out: list[DomainEvent] = []
    if target is _S.IN_TRANSIT and source in (_S.PENDING, _S.LABEL_CREATED):
        changes["handed_over_at"] = at
        if not via_tracking:
            changes["own_hand_over_at"] = at
        out.append(
            ShipmentHandedOver(
                **base,
                lines=_items(shipment.lines),
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                via_tracking=via_tracking,
            )
        )
    elif target is _S.EXCEPTION:
        out.append(
            ShipmentException(**base, description=description, location=location, implied=implied)
        )
    elif target is _S.DELIVERED:
        changes["delivered_at"] = at
        out.append(
            ShipmentDelivered(
                **base,
                lines=_items(shipment.lines),
                delivered_at=at,
                cod_amount=shipment.cod_amount,
                via_tracking=via_tracking,
            )
        )
    elif target is _S.LOST:
        out.append(ShipmentLost(**base, lines=_items(shipment.lines)))
    elif target is _S.RETURNED_TO_SENDER:
        out.append(ShipmentReturnedToSender(**base, lines=_items(shipment.lines)))
    return attrs.evolve(shipment, **changes), out


# --------------------------------------------------------------------------- operations


def create_shipment(
    *,
    shipment_id: str,
    order_id: str,
    customer_id: str,
    lines: Iterable[ShipmentLine],
    ship_to: Address,
    now: datetime,
    cod_amount: Money | None = None,
    fulfilment_id: str | None = None,
) -> Result:
    """Pack a shipment for an order: a new PENDING shipment.

    Which order lines and quantities may ship is the order's business
    (:func:`o2c.orders.record_shipment`); this checks the shipment's own rules.

    Args:
        shipment_id: The new shipment's id.
        order_id: The order.
        customer_id: The customer.
        lines: What is packed (each order line once, quantities above zero).
        ship_to: Destination.
        now: When it was packed.
        cod_amount: Cash the carrier is to collect on delivery, if any (above zero).
        fulfilment_id: The fulfilment order (3PL) that shipped it, if any.

    Returns:
        The shipment and ``(ShipmentCreated,)``.

    Raises:
        ShipmentFieldError: a malformed id, address, time or amount.
        ShipmentLineError: no lines, a line twice, or a line that is not a ShipmentLine.
        NaiveDatetimeError: ``now`` has no timezone.
    """
    shipment = Shipment(
        id=shipment_id,
        order_id=order_id,
        customer_id=customer_id,
        lines=lines,
        ship_to=ship_to,
        created_at=now,
        cod_amount=cod_amount,
        fulfilment_id=fulfilment_id,
    )
    event = ShipmentCreated(
        aggregate_id=shipment.id,
        occurred_at=now,
        order_id=shipment.order_id,
        customer_id=shipment.customer_id,
        lines=_items(shipment.lines),
        cod_amount=shipment.cod_amount,
    )
    return shipment, (event,)


def _check_label(label: object) -> Label:
    if not isinstance(label, Label):
        raise ShipmentFieldError("a ports.Label is required", field="label", reason="type")
    for name in ("label_id", "carrier", "service", "tracking_number"):
        _id(getattr(label, name), f"label.{name}")
    _money(label.cost, "label.cost", zero_ok=True)
    return label


def attach_label(
    shipment: Shipment,
    label: Label,
    now: datetime,
    *,
    rate_choice: RateChoice | None = None,
    promised_by: datetime | None = None,
) -> Result:
    """Record a bought carrier label: PENDING -> LABEL_CREATED.

    Args:
        shipment: The shipment.
        label: The label the carrier sold (:meth:`o2c.ports.Carrier.buy_label`).
        now: When.
        rate_choice: How the rate was chosen (kept on the shipment).
        promised_by: When delivery is promised (kept for :func:`on_time`).

    Returns:
        The shipment and ``(ShipmentLabelled,)``.

    Raises:
        InvalidTransitionError: the shipment is not pending (already labelled,
            handed over or cancelled).
        ShipmentFieldError: the label is malformed.
    """
    _aware(now, "now")
    checked = _check_label(label)
    if promised_by is not None:
        _aware(promised_by, "promised_by")
    state = SHIPMENT_WORKFLOW.apply(shipment.state, _SE.BUY_LABEL)
    new = attrs.evolve(
        shipment,
        state=state,
        carrier=checked.carrier,
        service=checked.service,
        tracking_number=checked.tracking_number,
        label_id=checked.label_id,
        shipping_cost=checked.cost,
        rate_choice=rate_choice,
        promised_by=promised_by,
    )
    event = ShipmentLabelled(
        aggregate_id=shipment.id,
        occurred_at=now,
        order_id=shipment.order_id,
        label_id=checked.label_id,
        carrier=checked.carrier,
        service=checked.service,
        tracking_number=checked.tracking_number,
        cost=checked.cost,
    )
    return new, (event,)


def hand_over(shipment: Shipment, now: datetime) -> Result:
    """Record that the goods left, handed to the carrier or the own fleet:
    PENDING or LABEL_CREATED -> IN_TRANSIT.

    Returns:
        The shipment and ``(ShipmentHandedOver,)``.

    Raises:
        InvalidTransitionError: the shipment already left, or was cancelled.
        NaiveDatetimeError: ``now`` has no timezone.
    """
    _aware(now, "now")
    new, events = _step(shipment, _SE.HAND_OVER, now, via_tracking=False)
    return new, tuple(events)


def deliver(shipment: Shipment, now: datetime) -> Result:
    """Record a proof of delivery by hand (a signed delivery note, the own fleet).

    A shipment not yet handed over is handed over first (the goods cannot arrive
    without leaving), so the order's shipped quantity is never skipped.

    Returns:
        The shipment and ``([ShipmentHandedOver,] ShipmentDelivered)``.

    Raises:
        InvalidTransitionError: the shipment is already final (delivered,
            returned, lost or cancelled).
        NaiveDatetimeError: ``now`` has no timezone.
    """
    _aware(now, "now")
    events: list[DomainEvent] = []
    current = shipment
    if current.state in (_S.PENDING, _S.LABEL_CREATED):
        current, events = _step(current, _SE.HAND_OVER, now, via_tracking=False)
    new, more = _step(current, _SE.DELIVER, now, via_tracking=False)
    return new, (*events, *more)


def cancel(shipment: Shipment, reason: str, now: datetime) -> Result:
    """Cancel a shipment that has not left: PENDING or LABEL_CREATED -> CANCELLED.

    Args:
        shipment: The shipment.
        reason: Why (non-empty text, no card numbers).
        now: When.

    Returns:
        The shipment and ``(ShipmentCancelled,)``; its ``label_id`` names the
        label to void with the carrier.

    Raises:
        InvalidTransitionError: the goods already left, or it is final.
        ShipmentFieldError: blank or over-long reason.
        CardDataRefusedError: the reason holds a card number.
    """
    _aware(now, "now")
    text = _text(reason, "reason")
    if not text.strip():
        raise ShipmentFieldError("reason is blank", field="reason", reason="blank")
    state = SHIPMENT_WORKFLOW.apply(shipment.state, _SE.CANCEL)
    new = attrs.evolve(shipment, state=state, cancelled_at=now, cancellation_reason=text)
    event = ShipmentCancelled(
        aggregate_id=shipment.id,
        occurred_at=now,
        order_id=shipment.order_id,
        reason=text,
        label_id=shipment.label_id,
        lines=_items(shipment.lines),
    )
    return new, (event,)


def void_label(shipment: Shipment, now: datetime) -> Result:
    """Void the label of a shipment that has not left: LABEL_CREATED -> PENDING.

    The label fields (and any "label created" scans) are cleared and the label id is
    kept in ``voided_labels``; the shipment can be labelled again or cancelled.

    Returns:
        The shipment and ``(ShipmentLabelVoided,)``.

    Raises:
        InvalidTransitionError: the shipment is not labelled, or already left.
    """
    _aware(now, "now")
    state = SHIPMENT_WORKFLOW.apply(shipment.state, _SE.VOID_LABEL)
    # LABEL_CREATED means labelled (checked by Shipment), so the label fields are set.
    label_id = str(shipment.label_id)
    carrier = str(shipment.carrier)
    number = str(shipment.tracking_number)
    new = attrs.evolve(
        shipment,
        state=state,
        carrier=None,
        service=None,
        tracking_number=None,
        label_id=None,
        shipping_cost=None,
        rate_choice=None,
        promised_by=None,
        tracking=(),
        voided_labels=(*shipment.voided_labels, label_id),
    )
    event = ShipmentLabelVoided(
        aggregate_id=shipment.id,
        occurred_at=now,
        order_id=shipment.order_id,
        label_id=label_id,
        carrier=carrier,
        tracking_number=number,
    )
    return new, (event,)


def release_goods(shipment: Shipment, now: datetime, *, restocked: bool, reopened: bool) -> Result:
    """Record what became of the goods of a shipment that will not arrive (cancelled,
    lost, returned to sender): put back on hand and/or given back to the order.

    The engine does the stock and order moves; this records them, once.

    Returns:
        The shipment and ``(ShipmentGoodsReleased,)``; nothing when neither applies.

    Raises:
        ShipmentFieldError: the shipment is not cancelled, lost or returned, or its
            goods were released already.
    """
    _aware(now, "now")
    if shipment.state not in _UNDELIVERED:
        raise ShipmentFieldError(
            "only undelivered goods are released", field="state", reason=shipment.state.value
        )
    if shipment.restocked or shipment.reopened:
        raise ShipmentFieldError("goods released already", field="restocked", reason="twice")
    if not (restocked or reopened):
        return shipment, ()
    new = attrs.evolve(shipment, restocked=restocked, reopened=reopened)
    event = ShipmentGoodsReleased(
        aggregate_id=shipment.id,
        occurred_at=now,
        order_id=shipment.order_id,
        lines=_items(shipment.lines),
        restocked=restocked,
        reopened=reopened,
        reason=shipment.state.value,
    )
    return new, (event,)


# --------------------------------------------------------------------------- tracking


def scan_target(status: TrackingStatus | ShipmentEvent) -> ShipmentState | None:
    """The state a carrier scan of ``status`` says the parcel is in (None: a scan that
    never moves a shipment, such as a carrier's "cancelled").

    >>> scan_target(TrackingStatus.FAILED_ATTEMPT)
    <ShipmentState.EXCEPTION: 'exception'>
    >>> scan_target(ShipmentEvent.RESUME)
    <ShipmentState.IN_TRANSIT: 'in_transit'>
    """
    from o2c.tracking import TARGETS  # noqa: PLC0415 - o2c.tracking imports this module

    if isinstance(status, ShipmentEvent):
        return _TARGETS[status]
    return TARGETS[status]


def check_scan(scan: object) -> TrackingEvent:
    """A scan checked as tracking input (ids, times, text lengths).

    Raises:
        ShipmentFieldError: not a TrackingEvent, or a malformed field.
        NaiveDatetimeError: its time has no timezone.
    """
    if not isinstance(scan, TrackingEvent):
        raise ShipmentFieldError("a ports.TrackingEvent is required", field="event", reason="type")
    _id(scan.event_id, "event.event_id")
    _id(scan.tracking_number, "event.tracking_number")
    _aware(scan.occurred_at, "event.occurred_at")
    _text(scan.description, "event.description", empty=True)
    _text(scan.location, "event.location", limit=MAX_ID_LENGTH, empty=True)
    _text(scan.raw_status, "event.raw_status", limit=MAX_ID_LENGTH, empty=True)
    return scan


def apply_tracking(shipment: Shipment, event: TrackingEvent) -> Result:
    """Apply one carrier scan, idempotently and in any arrival order:
    :func:`o2c.tracking.apply_scans` with one scan."""
    from o2c.tracking import apply_scans  # noqa: PLC0415 - o2c.tracking imports this module

    return apply_scans(shipment, (event,))


def items(lines: Iterable[ShipmentLine]) -> tuple[ItemQuantity, ...]:
    """Event items for shipment lines."""
    return _items(lines)


def delivered_quantities(shipment: Shipment) -> dict[str, Decimal]:
    """Units delivered per order line: every line's quantity once the shipment is
    delivered, else an empty dict (ready for :func:`o2c.orders.record_delivery`)."""
    if shipment.state is not _S.DELIVERED:
        return {}
    return {line.line_id: line.quantity for line in shipment.lines}
