"""Shipments: one parcel or consignment of an order, from packing to the doorstep.

A :class:`Shipment` is an immutable aggregate moved only through
:data:`o2c.lifecycles.SHIPMENT_WORKFLOW`. Every operation returns
``(shipment, events)``; a refused operation raises a typed error and changes
nothing.

Carrier tracking (:func:`apply_tracking`) is fed by webhooks and polling, so it
sees duplicates, scans out of order and scans the carrier never sent (a parcel
delivered without an acceptance scan). It therefore never raises for a surprise,
only for a scan of another parcel (:class:`~o2c.errors.TrackingNumberMismatchError`).
The rules, in order:

1. **Duplicates**: a scan whose ``event_id`` was already recorded is ignored.
2. **Stale scans**: a scan older than the latest recorded scan is ignored. The
   newest scan is the carrier's current word; an older one arriving late (an
   exception from before the parcel resumed) must not move the shipment back.
   A scan *as old as* the latest one still counts, since carriers stamp scans to
   the minute; scans of the same instant therefore apply in arrival order.
3. **Skipped scans**: each scan status names a target state (the table's target
   for that event). The shipment follows the shortest path of table transitions
   to it, so a delivery scan on a labelled parcel first applies the implied
   hand-over, and a return to sender straight from transit applies the implied
   exception. Every step goes through ``SHIPMENT_WORKFLOW.apply``.
4. **Unreachable targets** (anything after a final state, a "label created" scan
   once the parcel moved, a carrier "cancelled" scan) are ignored: label scans
   never move a shipment, because cancelling is o2c's own decision
   (:func:`cancel`, which also voids the label and frees the stock).
5. A scan whose target is the current state (a hub scan while in transit) is
   recorded as tracking history without a transition.

Because only a scan at least as new as every recorded one is applied, and a
legal stream's newest scan is reachable from the state of any older one, any
arrival order of a carrier's stream (with duplicates) ends in the state its
newest scan names, the same as the sorted stream.

Ignored scans are not recorded: replaying them is ignored again (the watermark
only grows, and what is unreachable stays unreachable), so they need no memory.
"""

from __future__ import annotations

from collections import deque
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
    TrackingNumberMismatchError,
)
from o2c.events import (
    DomainEvent,
    ItemQuantity,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentDelivered,
    ShipmentException,
    ShipmentHandedOver,
    ShipmentLabelled,
    ShipmentLost,
    ShipmentReturnedToSender,
    ShipmentTracked,
)
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.money import Money, to_decimal
from o2c.payments import check_free_text
from o2c.ports import Label, TrackingEvent

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "Shipment",
    "ShipmentLine",
    "apply_tracking",
    "attach_label",
    "cancel",
    "create_shipment",
    "deliver",
    "delivered_quantities",
    "hand_over",
    "scan_target",
]

#: Longest id (shipment, order, line, label, tracking number, scan id) accepted.
MAX_ID_LENGTH: Final = 255
#: Longest free text (a reason, a carrier's description) accepted.
MAX_TEXT_LENGTH: Final = 1_000

_S, _SE = ShipmentState, ShipmentEvent

#: What each table event leads to. The shipment table gives every event a single
#: target, so a carrier scan can be read as "the parcel is now in state X".
_TARGETS: Final = MappingProxyType({t.event: t.target for t in SHIPMENT_WORKFLOW.transitions})
#: Events a scan can never apply, not even as the last step: they concern the label.
_LABEL_EVENTS: Final = frozenset({_SE.BUY_LABEL, _SE.CANCEL})

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
        tracking: Carrier scans recorded, in the order applied (times never decrease).

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


def attach_label(shipment: Shipment, label: Label, now: datetime) -> Result:
    """Record a bought carrier label: PENDING -> LABEL_CREATED.

    Args:
        shipment: The shipment.
        label: The label the carrier sold (:meth:`o2c.ports.Carrier.buy_label`).
        now: When.

    Returns:
        The shipment and ``(ShipmentLabelled,)``.

    Raises:
        InvalidTransitionError: the shipment is not pending (already labelled,
            handed over or cancelled).
        ShipmentFieldError: the label is malformed.
    """
    _aware(now, "now")
    checked = _check_label(label)
    state = SHIPMENT_WORKFLOW.apply(shipment.state, _SE.BUY_LABEL)
    new = attrs.evolve(
        shipment,
        state=state,
        carrier=checked.carrier,
        service=checked.service,
        tracking_number=checked.tracking_number,
        label_id=checked.label_id,
        shipping_cost=checked.cost,
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


# --------------------------------------------------------------------------- tracking


def scan_target(status: ShipmentEvent) -> ShipmentState:
    """The state a carrier scan of ``status`` says the parcel is in.

    >>> scan_target(ShipmentEvent.RESUME)
    <ShipmentState.IN_TRANSIT: 'in_transit'>
    """
    return _TARGETS[status]


def _path(source: ShipmentState, target: ShipmentState) -> tuple[ShipmentEvent, ...] | None:
    """The shortest run of table events from ``source`` to ``target`` (label events
    excluded), breadth first in table order so the answer is deterministic; None
    when ``target`` cannot be reached."""
    if source is target:
        return ()
    back: dict[ShipmentState, tuple[ShipmentState, ShipmentEvent]] = {}
    queue = deque([source])
    while queue:
        state = queue.popleft()
        for row in SHIPMENT_WORKFLOW.transitions:
            if row.source is not state or row.event in _LABEL_EVENTS:
                continue
            if row.target is source or row.target in back:
                continue
            back[row.target] = (state, row.event)
            if row.target is target:
                steps: list[ShipmentEvent] = []
                at = target
                while at is not source:
                    at, event = back[at]
                    steps.append(event)
                return tuple(reversed(steps))
            queue.append(row.target)
    return None


def _check_scan(scan: object) -> TrackingEvent:
    if not isinstance(scan, TrackingEvent):
        raise ShipmentFieldError("a ports.TrackingEvent is required", field="event", reason="type")
    _id(scan.event_id, "event.event_id")
    _id(scan.tracking_number, "event.tracking_number")
    _aware(scan.occurred_at, "event.occurred_at")
    _text(scan.description, "event.description", empty=True)
    _text(scan.location, "event.location", limit=MAX_ID_LENGTH, empty=True)
    status: object = scan.status
    if not isinstance(status, ShipmentEvent):
        try:
            status = ShipmentEvent(str(status))
        except ValueError:
            raise ShipmentFieldError(
                "unknown scan status", field="event.status", reason=f"{str(status)[:40]!r}"
            ) from None
        # An adapter passed the plain string; keep the enum so comparisons hold.
        scan = attrs.evolve(scan, status=status)
    return scan


def apply_tracking(shipment: Shipment, event: TrackingEvent) -> Result:
    """Apply one carrier scan, idempotently and in any arrival order.

    See the module notes for the rules. Ignored scans (duplicate, stale,
    unreachable) return the shipment unchanged and no events.

    Args:
        shipment: The shipment.
        event: The scan, as the carrier adapter normalised it.

    Returns:
        The shipment and, for a recorded scan, ``ShipmentTracked`` followed by the
        events of each state entered: ``ShipmentHandedOver``, ``ShipmentException``,
        ``ShipmentDelivered`` (``delivered_at`` is the scan's time), ``ShipmentLost``
        or ``ShipmentReturnedToSender``. Events carry the scan's time.

    Raises:
        TrackingNumberMismatchError: the scan is for another tracking number, or
            the shipment has no label.
        ShipmentFieldError: the scan is malformed (unknown status, blank id...).
        NaiveDatetimeError: the scan's time has no timezone.
    """
    scan = _check_scan(event)
    if shipment.tracking_number is None or scan.tracking_number != shipment.tracking_number:
        raise TrackingNumberMismatchError(
            shipment_id=shipment.id,
            expected=shipment.tracking_number,
            received=scan.tracking_number,
        )
    if scan.event_id in shipment.seen_event_ids:
        return shipment, ()
    latest = shipment.last_scan_at
    if latest is not None and scan.occurred_at < latest:
        return shipment, ()
    path = _path(shipment.state, scan_target(scan.status))
    if path is None:
        return shipment, ()
    current = shipment
    moved: list[DomainEvent] = []
    for step in path:
        current, more = _step(
            current,
            step,
            scan.occurred_at,
            via_tracking=True,
            description=scan.description,
            location=scan.location,
            implied=step is not scan.status,
        )
        moved.extend(more)
    current = attrs.evolve(current, tracking=(*current.tracking, scan))
    tracked = ShipmentTracked(
        aggregate_id=shipment.id,
        occurred_at=scan.occurred_at,
        order_id=shipment.order_id,
        event_id=scan.event_id,
        tracking_number=scan.tracking_number,
        status=scan.status.value,
        description=scan.description,
        location=scan.location,
        state=current.state.value,
        implied=tuple(step.value for step in path if step is not scan.status),
    )
    return current, (tracked, *moved)


def delivered_quantities(shipment: Shipment) -> dict[str, Decimal]:
    """Units delivered per order line: every line's quantity once the shipment is
    delivered, else an empty dict (ready for :func:`o2c.orders.record_delivery`)."""
    if shipment.state is not _S.DELIVERED:
        return {}
    return {line.line_id: line.quantity for line in shipment.lines}
