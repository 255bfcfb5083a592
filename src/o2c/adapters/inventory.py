"""A reference inventory that keeps stock and reservations in the caller's unit of work.

:class:`StockInventory` implements :class:`o2c.ports.Inventory` with no state of its
own: every :class:`~o2c.ports.StockLevel` is stored under
:attr:`Kind.STOCK <o2c.ports.Kind.STOCK>` keyed by SKU and every
:class:`~o2c.ports.Reservation` under :attr:`Kind.RESERVATION <o2c.ports.Kind.RESERVATION>`
keyed by its id (indexed by ``order_id``). A stock move therefore commits, or rolls
back, together with the order change that caused it.

Rules, checked on every call:

* ``0 <= reserved <= on_hand`` for every SKU; a reservation holds
  ``min(available, wanted)`` and the rest is backordered.
* Reserving an id again tops it up towards its requested quantity (backorder
  allocation) and never creates a second reservation; with nothing new available it
  changes nothing.
* ``consumed + reserved <= requested`` for every reservation; consuming takes units
  out of ``reserved`` and ``on_hand`` together.
* Quantities are positive, finite, exact numbers (``Decimal`` or ``int``); a float,
  zero, a negative number, NaN or infinity gets
  :class:`~o2c.errors.InvalidStockQuantityError`.

Example (``uow`` from :meth:`o2c.ports.Storage.begin`)::

    inventory = StockInventory()
    inventory.receive(uow, "SKU-1", Decimal(3), now)
    r = inventory.reserve(uow, ReservationRequest(
        reservation_id="R1", order_id="O1", line_id="L1", sku="SKU-1", quantity=Decimal(5)
    ), now)
    r.reserved, r.backordered          # (Decimal('3'), Decimal('2'))
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import attrs

from o2c.clock import require_aware
from o2c.errors import (
    InvalidAmountError,
    InvalidStockQuantityError,
    InventoryFieldError,
    InventoryRecordError,
    ReservationClosedError,
    ReservationConflictError,
    ReservationExceededError,
    ReservationNotFoundError,
)
from o2c.money import to_decimal
from o2c.ports import Kind, Reservation, ReservationRequest, StockLevel, UnitOfWork

__all__ = ["StockInventory"]

_R = TypeVar("_R")
_ZERO = Decimal(0)
_MAX_ID_LENGTH = 255


def _text(value: object, field: str) -> str:
    """An id or SKU: 1-255 characters of text without surrounding spaces."""
    if not isinstance(value, str) or not value or len(value) > _MAX_ID_LENGTH:
        raise InventoryFieldError(field=field, reason=f"must be 1..{_MAX_ID_LENGTH} characters")
    if value != value.strip() or not value.isprintable():
        raise InventoryFieldError(field=field, reason="has surrounding spaces or control chars")
    return value


def _quantity(value: object, sku: str) -> Decimal:
    """A positive, finite, exact quantity (floats and bools are refused by to_decimal)."""
    if isinstance(value, str):
        # Ports carry Decimal; text here means a caller skipped parsing.
        raise InvalidStockQuantityError(sku=sku, value=value, reason="text is not a quantity")
    try:
        quantity = to_decimal(value, what="quantity")
    except InvalidAmountError as exc:
        raise InvalidStockQuantityError(sku=sku, value=value, reason=exc.reason) from None
    if quantity <= _ZERO:
        raise InvalidStockQuantityError(sku=sku, value=value, reason="must be positive")
    return quantity


def _now(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InventoryFieldError(field="now", reason="must be a timezone-aware datetime")
    return require_aware(value)


def _check_request(request: object) -> ReservationRequest:
    if not isinstance(request, ReservationRequest):
        raise InventoryFieldError(field="request", reason="must be a ReservationRequest")
    _text(request.reservation_id, "reservation_id")
    _text(request.order_id, "order_id")
    _text(request.line_id, "line_id")
    sku = _text(request.sku, "sku")
    quantity = _quantity(request.quantity, sku)
    if request.expires_at is not None:
        if not isinstance(request.expires_at, datetime):
            raise InventoryFieldError(field="expires_at", reason="must be a datetime or None")
        require_aware(request.expires_at)
    return attrs.evolve(request, quantity=quantity)


class StockInventory:
    """Stock and reservations kept in the unit of work each call is handed.

    The class holds no state, so one instance serves every unit of work; what a call
    writes is visible only through the unit of work it was given, and disappears
    with it if that unit rolls back.
    """

    # -- reads ----------------------------------------------------------------------

    def level(self, uow: UnitOfWork, sku: str) -> StockLevel:
        """Current stock of ``sku`` (zero for an unknown SKU).

        Raises:
            InventoryFieldError: ``sku`` is not a valid SKU.
        """
        return self._level(uow, _text(sku, "sku"))

    def reservation(self, uow: UnitOfWork, reservation_id: str) -> Reservation:
        """The reservation with this id.

        Raises:
            ReservationNotFoundError: no reservation has this id.
        """
        return self._reservation(uow, _text(reservation_id, "reservation_id"))

    def reservations_for(self, uow: UnitOfWork, order_id: str) -> list[Reservation]:
        """Every reservation of an order (released ones included), oldest first."""
        found = uow.find(Kind.RESERVATION, "order_id", _text(order_id, "order_id"))
        return [self._typed(record, Reservation, Kind.RESERVATION, "?") for record in found]

    # -- writes ---------------------------------------------------------------------

    def receive(self, uow: UnitOfWork, sku: str, quantity: Decimal, now: datetime) -> StockLevel:
        """Add units to stock (goods received, or restocked from a return).

        Received units become available; backorders are not filled automatically:
        the caller tops them up by reserving their ids again.

        Raises:
            InventoryFieldError: bad SKU or ``now``.
            InvalidStockQuantityError: ``quantity`` is not positive, finite and exact.
        """
        sku = _text(sku, "sku")
        amount = _quantity(quantity, sku)
        _now(now)
        current = self._level(uow, sku)
        updated = attrs.evolve(current, on_hand=current.on_hand + amount)
        uow.put(Kind.STOCK, sku, updated)
        return updated

    def reserve(self, uow: UnitOfWork, request: ReservationRequest, now: datetime) -> Reservation:
        """Hold up to ``request.quantity`` available units; the rest is backordered.

        Reserving an id that exists tops it up towards its requested quantity; the
        request must then be the original one (``expires_at`` excepted: the recorded
        expiry is kept). A request whose backorder cannot grow changes nothing.

        Raises:
            InventoryFieldError: a malformed request or ``now``.
            InvalidStockQuantityError: the quantity is not positive, finite and exact.
            ReservationConflictError: the id is recorded with another order, line, SKU
                or quantity.
            ReservationClosedError: the id was released or expired.
        """
        request = _check_request(request)
        _now(now)
        existing = uow.get(Kind.RESERVATION, request.reservation_id)
        if existing is None:
            level = self._level(uow, request.sku)
            held = min(level.available, request.quantity)
            reservation = Reservation(
                id=request.reservation_id,
                order_id=request.order_id,
                line_id=request.line_id,
                sku=request.sku,
                requested=request.quantity,
                reserved=held,
                expires_at=request.expires_at,
            )
            return self._store(uow, reservation, level, held_delta=held)

        current = self._typed(existing, Reservation, Kind.RESERVATION, request.reservation_id)
        for field, recorded, asked in (
            ("order_id", current.order_id, request.order_id),
            ("line_id", current.line_id, request.line_id),
            ("sku", current.sku, request.sku),
            ("quantity", current.requested, request.quantity),
        ):
            if recorded != asked:
                raise ReservationConflictError(reservation_id=current.id, field=field)
        if current.released:
            raise ReservationClosedError(reservation_id=current.id, action="reserve")
        level = self._level(uow, current.sku)
        top_up = min(level.available, current.backordered)
        if top_up <= _ZERO:
            return current
        updated = attrs.evolve(current, reserved=current.reserved + top_up)
        return self._store(uow, updated, level, held_delta=top_up)

    def consume(
        self, uow: UnitOfWork, reservation_id: str, quantity: Decimal, now: datetime
    ) -> Reservation:
        """Ship ``quantity`` units out of a reservation (they leave ``on_hand``).

        Raises:
            ReservationNotFoundError: no reservation has this id.
            InvalidStockQuantityError: ``quantity`` is not positive, finite and exact.
            ReservationClosedError: the reservation was released or expired.
            ReservationExceededError: ``quantity`` exceeds what it holds.
        """
        current = self._reservation(uow, _text(reservation_id, "reservation_id"))
        amount = _quantity(quantity, current.sku)
        _now(now)
        if current.released:
            raise ReservationClosedError(reservation_id=current.id, action="consume")
        if amount > current.reserved:
            raise ReservationExceededError(
                reservation_id=current.id, requested=str(amount), reserved=str(current.reserved)
            )
        level = self._level(uow, current.sku)
        self._check_can_take(level, amount)
        level = attrs.evolve(
            level, on_hand=level.on_hand - amount, reserved=level.reserved - amount
        )
        updated = attrs.evolve(
            current, reserved=current.reserved - amount, consumed=current.consumed + amount
        )
        return self._store(uow, updated, level, held_delta=_ZERO)

    def release(self, uow: UnitOfWork, reservation_id: str, now: datetime) -> Reservation:
        """Give back what a reservation holds; its backorder is dropped.

        Releasing a released reservation changes nothing and returns it.

        Raises:
            ReservationNotFoundError: no reservation has this id.
        """
        current = self._reservation(uow, _text(reservation_id, "reservation_id"))
        _now(now)
        return self._release(uow, current)

    def expire(self, uow: UnitOfWork, now: datetime) -> list[Reservation]:
        """Release every reservation due at ``now`` that still holds or awaits units.

        A reservation is due when it is not released and its ``expires_at`` is at or
        before ``now``; one fully consumed (nothing held, nothing backordered) is left
        as it is. Returns the released reservations, oldest first.
        """
        instant = _now(now)
        # Scans every reservation: fine for the in-memory and test stores. A store
        # with many reservations needs an "open, by expiry" index (a port change).
        expired: list[Reservation] = []
        for record in uow.all(Kind.RESERVATION):
            current = self._typed(record, Reservation, Kind.RESERVATION, "?")
            if (
                not current.released
                and current.expires_at is not None
                and current.expires_at <= instant
                and (current.reserved > _ZERO or current.backordered > _ZERO)
            ):
                expired.append(self._release(uow, current))
        return expired

    # -- internals ------------------------------------------------------------------

    def _release(self, uow: UnitOfWork, current: Reservation) -> Reservation:
        if current.released:
            return current
        level = self._level(uow, current.sku)
        self._check_can_take(level, current.reserved)
        if current.reserved > _ZERO:
            level = attrs.evolve(level, reserved=level.reserved - current.reserved)
        updated = attrs.evolve(current, reserved=_ZERO, released=True)
        return self._store(uow, updated, level, held_delta=_ZERO)

    def _store(
        self, uow: UnitOfWork, reservation: Reservation, level: StockLevel, *, held_delta: Decimal
    ) -> Reservation:
        """Write the reservation and its SKU's level; ``held_delta`` more units are held."""
        if held_delta > _ZERO:
            level = attrs.evolve(level, reserved=level.reserved + held_delta)
        if not _ZERO <= level.reserved <= level.on_hand:
            # Unreachable through this class; a guard against foreign writes.
            raise InventoryRecordError(
                kind=str(Kind.STOCK), id=level.sku, reason="reserved outside 0..on_hand"
            )
        uow.put(Kind.STOCK, level.sku, level)
        uow.put(
            Kind.RESERVATION,
            reservation.id,
            reservation,
            index=_index(reservation),
        )
        return reservation

    @staticmethod
    def _check_can_take(level: StockLevel, amount: Decimal) -> None:
        if amount > level.reserved:
            raise InventoryRecordError(
                kind=str(Kind.STOCK),
                id=level.sku,
                reason=f"holds {level.reserved} reserved units, a reservation says {amount}",
            )

    def _level(self, uow: UnitOfWork, sku: str) -> StockLevel:
        record = uow.get(Kind.STOCK, sku)
        if record is None:
            return StockLevel(sku=sku, on_hand=_ZERO, reserved=_ZERO)
        return self._typed(record, StockLevel, Kind.STOCK, sku)

    def _reservation(self, uow: UnitOfWork, reservation_id: str) -> Reservation:
        record = uow.get(Kind.RESERVATION, reservation_id)
        if record is None:
            raise ReservationNotFoundError(kind=str(Kind.RESERVATION), id=reservation_id)
        return self._typed(record, Reservation, Kind.RESERVATION, reservation_id)

    @staticmethod
    def _typed(record: object, cls: type[_R], kind: Kind, record_id: str) -> _R:
        if not isinstance(record, cls):
            raise InventoryRecordError(
                kind=str(kind), id=record_id, reason=f"holds a {type(record).__name__}"
            )
        return record


def _index(reservation: Reservation) -> Mapping[str, str]:
    return {"order_id": reservation.order_id}
