"""StockInventory under random receive / reserve / consume / release / expire sequences."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from o2c.adapters.inventory import StockInventory
from o2c.errors import ReservationClosedError, ReservationExceededError
from o2c.ports import Kind, Reservation, ReservationRequest, StockLevel

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SKUS = ("A", "B")
ZERO = Decimal(0)

quantities = st.decimals(min_value=Decimal("0.5"), max_value=Decimal(12), places=1)


class DictUow:
    """get/put/find/all over dicts (the part of UnitOfWork the inventory uses)."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, object]] = {}
        self.indexes: dict[tuple[str, str], Mapping[str, str]] = {}

    def get(self, kind: str, record_id: str) -> object | None:
        return self.records.get(kind, {}).get(record_id)

    def put(
        self, kind: str, record_id: str, record: object, index: Mapping[str, str] | None = None
    ) -> None:
        self.records.setdefault(kind, {})[record_id] = record
        self.indexes[(kind, record_id)] = dict(index or {})

    def find(self, kind: str, field: str, value: str) -> list[object]:
        return [
            record
            for record_id, record in self.records.get(kind, {}).items()
            if self.indexes[(kind, record_id)].get(field) == value
        ]

    def all(self, kind: str) -> list[object]:
        return list(self.records.get(kind, {}).values())


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.inv = StockInventory()
        self.uow = DictUow()
        self.now = T0
        self.requests: dict[str, ReservationRequest] = {}
        self.received = dict.fromkeys(SKUS, ZERO)
        self.consumed = dict.fromkeys(SKUS, ZERO)

    def reservations(self) -> list[Reservation]:
        found = self.uow.all(Kind.RESERVATION)
        assert all(isinstance(r, Reservation) for r in found)
        return found  # type: ignore[return-value]

    # -- rules ----------------------------------------------------------------------

    @rule(sku=st.sampled_from(SKUS), qty=quantities)
    def receive(self, sku: str, qty: Decimal) -> None:
        before = self.inv.level(self.uow, sku)
        after = self.inv.receive(self.uow, sku, qty, self.now)
        self.received[sku] += qty
        assert after.on_hand == before.on_hand + qty
        assert after.reserved == before.reserved

    @rule(
        sku=st.sampled_from(SKUS),
        qty=quantities,
        ttl_hours=st.none() | st.integers(min_value=0, max_value=6),
    )
    def reserve_new(self, sku: str, qty: Decimal, ttl_hours: int | None) -> None:
        rid = f"R{len(self.requests) + 1}"
        expires = None if ttl_hours is None else self.now + timedelta(hours=ttl_hours)
        req = ReservationRequest(
            reservation_id=rid,
            order_id="O1",
            line_id=rid,
            sku=sku,
            quantity=qty,
            expires_at=expires,
        )
        available = self.inv.level(self.uow, sku).available
        r = self.inv.reserve(self.uow, req, self.now)
        self.requests[rid] = req
        assert r.reserved == min(available, qty)
        assert r.backordered == qty - r.reserved

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def reserve_again(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.requests)))
        before = self.inv.reservation(self.uow, rid)
        available = self.inv.level(self.uow, before.sku).available
        if before.released:
            try:
                self.inv.reserve(self.uow, self.requests[rid], self.now)
            except ReservationClosedError:
                return
            raise AssertionError("a released reservation was topped up")
        after = self.inv.reserve(self.uow, self.requests[rid], self.now)
        assert after.reserved - before.reserved == min(available, before.backordered)
        assert after.consumed == before.consumed
        assert sum(1 for r in self.reservations() if r.id == rid) == 1

    @precondition(lambda self: self.requests)
    @rule(data=st.data(), fraction=st.sampled_from([Decimal("0.5"), Decimal(1), Decimal(2)]))
    def consume(self, data: st.DataObject, fraction: Decimal) -> None:
        rid = data.draw(st.sampled_from(sorted(self.requests)))
        before = self.inv.reservation(self.uow, rid)
        qty = (before.reserved * fraction).quantize(Decimal("0.01"))
        if qty <= 0:
            qty = Decimal("0.5")
        if before.released or qty > before.reserved:
            try:
                self.inv.consume(self.uow, rid, qty, self.now)
            except (ReservationClosedError, ReservationExceededError):
                assert self.inv.reservation(self.uow, rid) == before
                return
            raise AssertionError("consume beyond what is held was accepted")
        after = self.inv.consume(self.uow, rid, qty, self.now)
        self.consumed[before.sku] += qty
        assert after.consumed == before.consumed + qty
        assert after.reserved == before.reserved - qty

    @precondition(lambda self: self.requests)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(sorted(self.requests)))
        r = self.inv.release(self.uow, rid, self.now)
        assert r.released
        assert r.reserved == ZERO
        assert r.backordered == ZERO

    @rule(hours=st.integers(min_value=0, max_value=4))
    def expire(self, hours: int) -> None:
        self.now += timedelta(hours=hours)
        expired = self.inv.expire(self.uow, self.now)
        for r in expired:
            assert r.released
            assert r.expires_at is not None
            assert r.expires_at <= self.now
        for r in self.reservations():
            if r.expires_at is not None and r.expires_at <= self.now:
                assert r.released or (r.reserved == ZERO and r.backordered == ZERO)

    # -- invariants -----------------------------------------------------------------

    @invariant()
    def levels_are_consistent(self) -> None:
        for sku in SKUS:
            level = self.inv.level(self.uow, sku)
            assert isinstance(level, StockLevel)
            assert level.on_hand >= ZERO
            assert ZERO <= level.reserved <= level.on_hand
            assert level.on_hand == self.received[sku] - self.consumed[sku]
            held = sum(
                (r.reserved for r in self.reservations() if r.sku == sku and not r.released),
                ZERO,
            )
            assert held == level.reserved

    @invariant()
    def reservations_are_consistent(self) -> None:
        for r in self.reservations():
            assert r.reserved >= ZERO
            assert r.consumed >= ZERO
            assert r.consumed + r.reserved <= r.requested
            assert r.backordered >= ZERO
            if r.released:
                assert r.reserved == ZERO


TestInventoryMachine = InventoryMachine.TestCase
