"""Carrier tracking in one vocabulary, and the rule that makes it order-independent.

Carriers speak their own codes ("PU", "transit", "AA-02" ...). Each adapter maps them
through a :class:`StatusMap` to :class:`~o2c.ports.TrackingStatus`; a code the map does
not know becomes an *exception* whose description keeps the carrier's words, so an
unknown word never crashes tracking and is never silently dropped.

Every status names the shipment state it says the parcel is in (:data:`TARGETS`).
A shipment's tracking state is a **function of the set of scans it has seen**
(:func:`fold`): the scans, de-duplicated by the carrier's event id, are ordered by
occurrence time, then by :data:`RANK` (a parcel is picked up before it is out for
delivery before it is delivered), then by event id; the shipment then walks the
shipment table from its starting state to each scan's target in turn, along the
shortest path (a delivery scan on a labelled parcel implies the hand-over). A target
that cannot be reached (a "label created" scan once the parcel moved) is skipped, and
the first final state reached (delivered, returned, lost) ends the walk: a late
"in transit" never reopens a delivered parcel. So duplicated, late and out-of-order
scans end where the same scans delivered once, in order, end.

One case cannot be order-independent: a carrier that contradicts itself with two
*different* final words (lost, then delivered). The first final state o2c *records*
stands (the goods were restocked or the delivery booked); later scans are kept as
history only. See ``docs/shipping.md``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

import attrs

from o2c.errors import TrackingNumberMismatchError
from o2c.events import (
    DomainEvent,
    ShipmentDelivered,
    ShipmentException,
    ShipmentHandedOver,
    ShipmentLost,
    ShipmentReturnedToSender,
    ShipmentTracked,
)
from o2c.fulfilment import Result, Shipment, check_scan, items
from o2c.lifecycles import SHIPMENT_WORKFLOW, ShipmentEvent, ShipmentState
from o2c.ports import CarrierScan, TrackingEvent, TrackingStatus

__all__ = [
    "DHL_LIKE",
    "RANK",
    "STANDARD",
    "TARGETS",
    "Fold",
    "StatusMap",
    "apply_scans",
    "fold",
    "on_time",
    "order_key",
    "path",
]

_S, _T = ShipmentState, TrackingStatus

#: The shipment state each tracking status says the parcel is in (None: never moves it).
TARGETS: Final[Mapping[TrackingStatus, ShipmentState | None]] = MappingProxyType(
    {
        _T.LABEL_CREATED: _S.LABEL_CREATED,
        _T.IN_TRANSIT: _S.IN_TRANSIT,
        _T.OUT_FOR_DELIVERY: _S.OUT_FOR_DELIVERY,
        _T.FAILED_ATTEMPT: _S.EXCEPTION,
        _T.EXCEPTION: _S.EXCEPTION,
        _T.DELIVERED: _S.DELIVERED,
        _T.RETURNED: _S.RETURNED_TO_SENDER,
        _T.LOST: _S.LOST,
        _T.CANCELLED: None,
    }
)

#: Tie-break for scans stamped with the same instant: the order a parcel's life runs in.
RANK: Final[Mapping[TrackingStatus, int]] = MappingProxyType(
    {
        _T.CANCELLED: 0,
        _T.LABEL_CREATED: 0,
        _T.IN_TRANSIT: 1,
        _T.OUT_FOR_DELIVERY: 2,
        _T.FAILED_ATTEMPT: 3,
        _T.EXCEPTION: 3,
        _T.DELIVERED: 4,
        _T.RETURNED: 4,
        _T.LOST: 4,
    }
)

#: Table events a scan never applies, not even as a step of a path: they concern labels.
_LABEL_EVENTS: Final = frozenset(
    {ShipmentEvent.BUY_LABEL, ShipmentEvent.CANCEL, ShipmentEvent.VOID_LABEL}
)


def order_key(scan: TrackingEvent) -> tuple[datetime, int, str]:
    """The canonical order of scans: time, then :data:`RANK`, then event id."""
    return (scan.occurred_at, RANK[scan.status], scan.event_id)


def path(source: ShipmentState, target: ShipmentState) -> tuple[ShipmentEvent, ...] | None:
    """The shortest run of table events from ``source`` to ``target`` (label events
    excluded), breadth first in table order so the answer is deterministic; None when
    ``target`` cannot be reached; ``()`` when they are the same state."""
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


@attrs.frozen(kw_only=True)
class Fold:
    """Where a set of scans leaves a shipment.

    Attributes:
        state: The state reached.
        departed_at: Time of the scan that took the parcel past *label created*
            (None when no scan did).
        decided_by: The scan that led to ``state`` (None when no scan moved it).
        applied: Ids of the scans that moved the shipment, in order.
    """

    state: ShipmentState
    departed_at: datetime | None
    decided_by: TrackingEvent | None
    applied: tuple[str, ...]


def fold(start: ShipmentState, scans: Iterable[TrackingEvent]) -> Fold:
    """Walk the shipment table from ``start`` through ``scans`` in canonical order.

    Args:
        start: The state before any scan (*label created*, or *in transit* when o2c
            recorded the hand-over itself).
        scans: Distinct scans (by event id), in any order.

    Returns:
        The :class:`Fold`; a function of the set of scans alone.
    """
    state = start
    departed: datetime | None = None
    decided: TrackingEvent | None = None
    applied: list[str] = []
    for scan in sorted(scans, key=order_key):
        if SHIPMENT_WORKFLOW.is_final(state):
            break
        target = TARGETS[scan.status]
        steps = None if target is None else path(state, target)
        if not steps:
            continue
        for step in steps:
            nxt = SHIPMENT_WORKFLOW.apply(state, step)
            if departed is None and state in (_S.PENDING, _S.LABEL_CREATED):
                departed = scan.occurred_at
            state = nxt
        decided = scan
        applied.append(scan.event_id)
    return Fold(state=state, departed_at=departed, decided_by=decided, applied=tuple(applied))


# --------------------------------------------------------------------------- shipments


def _moved_events(before: Shipment, after: Shipment, decided: TrackingEvent) -> list[DomainEvent]:
    """Events of the states entered on the way from ``before.state`` to ``after.state``
    (always reachable, see :mod:`o2c.tracking`), stamped with the carrier's times."""
    out: list[DomainEvent] = []
    base: dict[str, Any] = {"aggregate_id": after.id, "order_id": after.order_id}
    state = before.state
    for step in path(before.state, after.state) or ():
        source, state = state, SHIPMENT_WORKFLOW.apply(state, step)
        at = decided.occurred_at
        if state is _S.IN_TRANSIT and source in (_S.PENDING, _S.LABEL_CREATED):
            out.append(
                ShipmentHandedOver(
                    **base,
                    occurred_at=after.handed_over_at or at,
                    lines=items(after.lines),
                    carrier=after.carrier,
                    tracking_number=after.tracking_number,
                    via_tracking=True,
                )
            )
        elif state is _S.EXCEPTION:
            out.append(
                ShipmentException(
                    **base,
                    occurred_at=at,
                    description=decided.description,
                    location=decided.location,
                    implied=state is not after.state,
                )
            )
        elif state is _S.DELIVERED:
            out.append(
                ShipmentDelivered(
                    **base,
                    occurred_at=at,
                    lines=items(after.lines),
                    delivered_at=at,
                    cod_amount=after.cod_amount,
                    via_tracking=True,
                )
            )
        elif state is _S.LOST:
            out.append(ShipmentLost(**base, occurred_at=at, lines=items(after.lines)))
        elif state is _S.RETURNED_TO_SENDER:
            out.append(ShipmentReturnedToSender(**base, occurred_at=at, lines=items(after.lines)))
    return out


def apply_scans(shipment: Shipment, scans: Iterable[TrackingEvent]) -> Result:
    """Record carrier scans and recompute the tracking state from every scan seen.

    See the module notes: duplicates are ignored, every new scan is recorded in
    canonical order, and the state (with ``handed_over_at`` and ``delivered_at``) is
    a function of the set of scans, unless the shipment is already final.

    Args:
        shipment: The shipment (labelled, so it has a tracking number).
        scans: Scans in any order, duplicates allowed.

    Returns:
        The shipment and, for the new scans, one ``ShipmentTracked`` each (in
        canonical order) followed by the events of the states entered
        (``ShipmentHandedOver``, ``ShipmentException``, ``ShipmentDelivered``,
        ``ShipmentLost``, ``ShipmentReturnedToSender``), stamped with carrier times.
        Nothing new: the shipment unchanged and ``()``.

    Raises:
        TrackingNumberMismatchError: a scan is for another tracking number, or the
            shipment has no label.
        ShipmentFieldError: a scan is malformed (blank id, over-long text...).
        NaiveDatetimeError: a scan's time has no timezone.
    """
    seen = shipment.seen_event_ids
    fresh: dict[str, TrackingEvent] = {}
    for raw in scans:
        scan = check_scan(raw)
        if shipment.tracking_number is None or scan.tracking_number != shipment.tracking_number:
            raise TrackingNumberMismatchError(
                shipment_id=shipment.id,
                expected=shipment.tracking_number,
                received=scan.tracking_number,
            )
        if scan.event_id not in seen:
            fresh.setdefault(scan.event_id, scan)
    if not fresh:
        return shipment, ()
    recorded = tuple(sorted((*shipment.tracking, *fresh.values()), key=order_key))
    after = attrs.evolve(shipment, tracking=recorded)
    start = _S.IN_TRANSIT if shipment.own_hand_over_at is not None else _S.LABEL_CREATED
    walked = fold(start, recorded)
    decided: TrackingEvent | None = None
    # Final is final: a final shipment takes the walk's times only when the walk ends
    # in the same state (an earlier copy of the same final word, with another id).
    if not shipment.is_final or walked.state is shipment.state:
        decided = walked.decided_by
        after = attrs.evolve(
            after,
            state=walked.state,
            handed_over_at=shipment.own_hand_over_at or walked.departed_at,
            delivered_at=(
                decided.occurred_at
                if walked.state is _S.DELIVERED and decided is not None
                else None
            ),
        )
    implied = tuple(step.value for step in (path(shipment.state, after.state) or ())[:-1])
    events: list[DomainEvent] = [
        ShipmentTracked(
            aggregate_id=shipment.id,
            occurred_at=scan.occurred_at,
            order_id=shipment.order_id,
            event_id=scan.event_id,
            tracking_number=scan.tracking_number,
            status=scan.status.value,
            description=scan.description,
            location=scan.location,
            state=after.state.value,
            implied=implied,
        )
        for scan in sorted(fresh.values(), key=order_key)
    ]
    if after.state is not shipment.state and decided is not None:
        events += _moved_events(shipment, after, decided)
    return after, tuple(events)


def on_time(shipment: Shipment) -> bool | None:
    """Was the shipment delivered by the promised time?

    Returns:
        True or False once delivered (``delivered_at <= promised_by``); False for a
        parcel lost or returned to sender (the promise was broken); None without a
        promise, while it is on its way, or when it was cancelled.
    """
    if shipment.promised_by is None:
        return None
    if shipment.state is _S.DELIVERED and shipment.delivered_at is not None:
        return shipment.delivered_at <= shipment.promised_by
    if shipment.state in (_S.LOST, _S.RETURNED_TO_SENDER):
        return False
    return None


# --------------------------------------------------------------------------- dialects


def _codes(value: Mapping[str, TrackingStatus]) -> Mapping[str, TrackingStatus]:
    return MappingProxyType(
        {str(k).strip().casefold(): TrackingStatus(v) for k, v in value.items()}
    )


@attrs.frozen(kw_only=True)
class StatusMap:
    """How one carrier's status codes read in o2c's vocabulary.

    Codes are matched without case and surrounding spaces. A code not in the map
    reads as :attr:`~o2c.ports.TrackingStatus.EXCEPTION`, with the code and the
    carrier's words in the description.

    Args:
        name: The dialect's name (for documentation and errors).
        codes: Carrier code -> status.

    >>> DHL_LIKE.status_of("pu"), DHL_LIKE.status_of("ZZ")
    (<TrackingStatus.IN_TRANSIT: 'in_transit'>, None)
    """

    name: str
    codes: Mapping[str, TrackingStatus] = attrs.field(converter=_codes)

    def status_of(self, code: str) -> TrackingStatus | None:
        """The status a code maps to, or None for a code the map does not know."""
        return self.codes.get(str(code).strip().casefold())

    def code_for(self, status: TrackingStatus) -> str:
        """The first code that maps to ``status`` (for fakes that speak the dialect).

        Raises:
            KeyError: no code maps to it.
        """
        for code, mapped in self.codes.items():
            if mapped is status:
                return code.upper()
        raise KeyError(status)

    def normalise(self, scan: CarrierScan) -> TrackingEvent:
        """The scan in o2c's vocabulary; ``raw_status`` keeps the carrier's code."""
        code = str(scan.code)[:64]
        status = self.status_of(code)
        description = scan.description
        if status is None:
            status = TrackingStatus.EXCEPTION
            words = f"unknown {self.name} status {code!r}"
            description = f"{words}: {description}" if description else words
        return TrackingEvent(
            event_id=scan.event_id,
            tracking_number=scan.tracking_number,
            occurred_at=scan.occurred_at,
            status=status,
            description=description,
            location=scan.location,
            raw_status=code,
        )


#: o2c's own words: a carrier (or a host) that sends ``"in_transit"``, ``"delivered"``
#: ... needs no mapping; the shipment-table event names are read too.
STANDARD: Final = StatusMap(
    name="o2c",
    codes={
        **{status.value: status for status in TrackingStatus},
        "hand_over": _T.IN_TRANSIT,
        "resume": _T.IN_TRANSIT,
        "go_out_for_delivery": _T.OUT_FOR_DELIVERY,
        "report_exception": _T.EXCEPTION,
        "deliver": _T.DELIVERED,
        "return_to_sender": _T.RETURNED,
        "returned_to_sender": _T.RETURNED,
        "declare_lost": _T.LOST,
    },
)

#: A DHL-like dialect of checkpoint codes (the fake carrier speaks it on request).
DHL_LIKE: Final = StatusMap(
    name="dhl-like",
    codes={
        "PRE": _T.LABEL_CREATED,  # shipment information received
        "PU": _T.IN_TRANSIT,  # picked up
        "PL": _T.IN_TRANSIT,  # processed at a hub
        "AF": _T.IN_TRANSIT,  # arrived at a facility
        "DF": _T.IN_TRANSIT,  # departed a facility
        "RD": _T.IN_TRANSIT,  # redelivery scheduled
        "WC": _T.OUT_FOR_DELIVERY,  # with delivery courier
        "PS": _T.OUT_FOR_DELIVERY,  # waiting at a parcel shop
        "NH": _T.FAILED_ATTEMPT,  # not home
        "CA": _T.EXCEPTION,  # closed on arrival
        "MS": _T.EXCEPTION,  # missed scan, delayed
        "OK": _T.DELIVERED,  # delivered
        "RT": _T.RETURNED,  # returned to shipper
        "LO": _T.LOST,  # lost
        "CX": _T.CANCELLED,  # label cancelled
    },
)
