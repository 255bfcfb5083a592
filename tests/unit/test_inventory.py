"""StockInventory: stock levels and reservations kept in the caller's unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from o2c.adapters.inventory import StockInventory
from o2c.errors import (
    InvalidStockQuantityError,
    InventoryFieldError,
    InventoryRecordError,
    NaiveDatetimeError,
    NotFoundError,
    ReservationClosedError,
    ReservationConflictError,
    ReservationExceededError,
    ReservationNotFoundError,
)
from o2c.ports import Kind, Reservation, ReservationRequest, StockLevel

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


class DictUow:
    """The smallest UnitOfWork the inventory needs: get/put/find/all over dicts."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, object]] = {}
        self.indexes: dict[tuple[str, str], Mapping[str, str]] = {}
        self.puts = 0

    def get(self, kind: str, record_id: str) -> object | None:
        return self.records.get(kind, {}).get(record_id)

    def put(
        self, kind: str, record_id: str, record: object, index: Mapping[str, str] | None = None
    ) -> None:
        self.puts += 1
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

    def copy(self) -> DictUow:
        """A snapshot (what a rolled-back unit of work leaves behind)."""
        clone = DictUow()
        clone.records = {kind: dict(rows) for kind, rows in self.records.items()}
        clone.indexes = dict(self.indexes)
        return clone


def request(
    rid: str = "R1",
    qty: object = D(5),
    *,
    order: str = "O1",
    line: str = "L1",
    sku: str = "SKU-1",
    expires_at: datetime | None = None,
) -> ReservationRequest:
    return ReservationRequest(
        reservation_id=rid,
        order_id=order,
        line_id=line,
        sku=sku,
        quantity=qty,  # type: ignore[arg-type]
        expires_at=expires_at,
    )


@pytest.fixture
def inv() -> StockInventory:
    return StockInventory()


@pytest.fixture
def uow() -> DictUow:
    return DictUow()


# --------------------------------------------------------------------------- levels


def test_unknown_sku_has_zero_stock_and_nothing_is_written(inv: StockInventory, uow: DictUow):
    assert inv.level(uow, "NEW") == StockLevel(sku="NEW", on_hand=D(0), reserved=D(0))
    assert uow.puts == 0


def test_receive_adds_stock_and_stores_the_level_under_stock_kind(inv, uow):
    inv.receive(uow, "SKU-1", D(3), T0)
    level = inv.receive(uow, "SKU-1", D("2.5"), T0)
    assert level == StockLevel(sku="SKU-1", on_hand=D("5.5"), reserved=D(0))
    assert uow.get(Kind.STOCK, "SKU-1") == level
    assert inv.level(uow, "SKU-1").available == D("5.5")


def test_int_quantities_are_accepted_as_exact(inv, uow):
    assert inv.receive(uow, "SKU-1", 4, T0).on_hand == D(4)


@pytest.mark.parametrize(
    "bad", [D(0), D(-1), 1.5, D("NaN"), D("Infinity"), True, "3", None, D("1e-30"), D("1e19")]
)
def test_receive_refuses_bad_quantities(inv, uow, bad: object):
    with pytest.raises(InvalidStockQuantityError) as err:
        inv.receive(uow, "SKU-1", bad, T0)  # type: ignore[arg-type]
    assert err.value.sku == "SKU-1"
    assert uow.puts == 0


@pytest.mark.parametrize("sku", ["", " SKU", "SKU\n", 7, "x" * 256])
def test_bad_skus_are_refused(inv, uow, sku: object):
    with pytest.raises(InventoryFieldError) as err:
        inv.receive(uow, sku, D(1), T0)  # type: ignore[arg-type]
    assert err.value.field == "sku"


def test_naive_or_missing_now_is_refused(inv, uow):
    with pytest.raises(NaiveDatetimeError):
        inv.receive(uow, "SKU-1", D(1), datetime(2026, 1, 1))
    with pytest.raises(InventoryFieldError):
        inv.receive(uow, "SKU-1", D(1), "2026-01-01")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- reserve


def test_reserve_holds_what_is_available_and_backorders_the_rest(inv, uow):
    inv.receive(uow, "SKU-1", D(3), T0)
    r = inv.reserve(uow, request(qty=D(5)), T0)
    assert (r.requested, r.reserved, r.backordered, r.consumed) == (D(5), D(3), D(2), D(0))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D(3), reserved=D(3))
    assert uow.get(Kind.RESERVATION, "R1") == r
    assert uow.indexes[(Kind.RESERVATION, "R1")] == {"order_id": "O1"}


def test_reserve_with_no_stock_records_a_full_backorder(inv, uow):
    r = inv.reserve(uow, request(qty=D(2)), T0)
    assert (r.reserved, r.backordered) == (D(0), D(2))
    assert inv.level(uow, "SKU-1").reserved == D(0)


def test_reserve_within_stock_backorders_nothing(inv, uow):
    inv.receive(uow, "SKU-1", D(10), T0)
    r = inv.reserve(uow, request(qty=D(4)), T0)
    assert (r.reserved, r.backordered) == (D(4), D(0))
    assert inv.level(uow, "SKU-1").available == D(6)


def test_reserving_the_same_request_again_changes_nothing_without_new_stock(inv, uow):
    inv.receive(uow, "SKU-1", D(3), T0)
    first = inv.reserve(uow, request(qty=D(5)), T0)
    puts = uow.puts
    again = inv.reserve(uow, request(qty=D(5)), T0)
    assert again == first
    assert uow.puts == puts
    assert len(uow.all(Kind.RESERVATION)) == 1
    assert inv.level(uow, "SKU-1").reserved == D(3)


def test_reserving_again_after_receipt_tops_up_the_backorder(inv, uow):
    inv.receive(uow, "SKU-1", D(3), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    inv.receive(uow, "SKU-1", D(1), T0)
    r = inv.reserve(uow, request(qty=D(5)), T0)
    assert (r.reserved, r.backordered) == (D(4), D(1))
    inv.receive(uow, "SKU-1", D(10), T0)
    r = inv.reserve(uow, request(qty=D(5)), T0)
    assert (r.reserved, r.backordered) == (D(5), D(0))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D(14), reserved=D(5))
    assert len(uow.all(Kind.RESERVATION)) == 1


def test_top_up_counts_consumed_units(inv, uow):
    inv.receive(uow, "SKU-1", D(2), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    inv.consume(uow, "R1", D(2), T0)
    inv.receive(uow, "SKU-1", D(10), T0)
    r = inv.reserve(uow, request(qty=D(5)), T0)
    assert (r.consumed, r.reserved, r.backordered) == (D(2), D(3), D(0))


def test_top_up_keeps_the_recorded_expiry(inv, uow):
    first = inv.reserve(uow, request(expires_at=T0 + timedelta(hours=1)), T0)
    inv.receive(uow, "SKU-1", D(5), T0)
    again = inv.reserve(uow, request(expires_at=T0 + timedelta(days=9)), T0)
    assert again.expires_at == first.expires_at
    assert again.reserved == D(5)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order": "O2"}, "order_id"),
        ({"line": "L2"}, "line_id"),
        ({"sku": "SKU-2"}, "sku"),
        ({"qty": D(6)}, "quantity"),
    ],
)
def test_reusing_an_id_for_another_request_is_a_conflict(inv, uow, changes, field: str):
    inv.reserve(uow, request(), T0)
    with pytest.raises(ReservationConflictError) as err:
        inv.reserve(uow, request(**changes), T0)
    assert (err.value.reservation_id, err.value.field) == ("R1", field)


def test_a_released_reservation_cannot_be_topped_up(inv, uow):
    inv.reserve(uow, request(), T0)
    inv.release(uow, "R1", T0)
    inv.receive(uow, "SKU-1", D(9), T0)
    with pytest.raises(ReservationClosedError) as err:
        inv.reserve(uow, request(), T0)
    assert err.value.action == "reserve"
    assert inv.level(uow, "SKU-1").reserved == D(0)


@pytest.mark.parametrize(
    ("bad", "error", "field"),
    [
        (request(rid=""), InventoryFieldError, "reservation_id"),
        (request(order=""), InventoryFieldError, "order_id"),
        (request(line=" L"), InventoryFieldError, "line_id"),
        (request(sku=""), InventoryFieldError, "sku"),
        (request(qty=D(0)), InvalidStockQuantityError, None),
        (request(qty=2.0), InvalidStockQuantityError, None),
        (request(qty=D("-3")), InvalidStockQuantityError, None),
        ("R1", InventoryFieldError, "request"),
    ],
)
def test_malformed_requests_are_refused(inv, uow, bad: object, error: type, field: str | None):
    with pytest.raises(error) as err:
        inv.reserve(uow, bad, T0)  # type: ignore[arg-type]
    if field is not None:
        assert err.value.field == field
    assert uow.puts == 0


def test_naive_expiry_is_refused(inv, uow):
    with pytest.raises(NaiveDatetimeError):
        inv.reserve(uow, request(expires_at=datetime(2026, 1, 1)), T0)
    bad = attrs.evolve(request(), expires_at="tomorrow")
    with pytest.raises(InventoryFieldError) as err:
        inv.reserve(uow, bad, T0)
    assert err.value.field == "expires_at"


# --------------------------------------------------------------------------- consume


def test_consume_ships_units_out_of_the_reservation_and_stock(inv, uow):
    inv.receive(uow, "SKU-1", D(10), T0)
    inv.reserve(uow, request(qty=D(4)), T0)
    r = inv.consume(uow, "R1", D("1.5"), T0)
    assert (r.reserved, r.consumed, r.backordered) == (D("2.5"), D("1.5"), D(0))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D("8.5"), reserved=D("2.5"))
    r = inv.consume(uow, "R1", D("2.5"), T0)
    assert (r.reserved, r.consumed) == (D(0), D(4))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D(6), reserved=D(0))


def test_consume_more_than_reserved_is_refused_and_changes_nothing(inv, uow):
    inv.receive(uow, "SKU-1", D(2), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    before = uow.copy()
    with pytest.raises(ReservationExceededError) as err:
        inv.consume(uow, "R1", D(3), T0)
    assert (err.value.requested, err.value.reserved) == ("3", "2")
    assert uow.records == before.records


def test_consume_of_a_released_reservation_is_refused(inv, uow):
    inv.receive(uow, "SKU-1", D(2), T0)
    inv.reserve(uow, request(qty=D(2)), T0)
    inv.release(uow, "R1", T0)
    with pytest.raises(ReservationClosedError) as err:
        inv.consume(uow, "R1", D(1), T0)
    assert err.value.action == "consume"


def test_consume_refuses_bad_quantities(inv, uow):
    inv.receive(uow, "SKU-1", D(2), T0)
    inv.reserve(uow, request(qty=D(2)), T0)
    with pytest.raises(InvalidStockQuantityError):
        inv.consume(uow, "R1", D(0), T0)
    with pytest.raises(InvalidStockQuantityError):
        inv.consume(uow, "R1", 0.5, T0)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", ["consume", "release", "reservation"])
def test_unknown_reservation_ids_are_not_found(inv, uow, method: str):
    args = {"consume": ("NOPE", D(1), T0), "release": ("NOPE", T0), "reservation": ("NOPE",)}
    with pytest.raises(ReservationNotFoundError) as err:
        getattr(inv, method)(uow, *args[method])
    assert isinstance(err.value, NotFoundError)
    assert (err.value.kind, err.value.id) == ("reservation", "NOPE")


# --------------------------------------------------------------------------- release & expire


def test_release_gives_back_what_it_holds_and_drops_the_backorder(inv, uow):
    inv.receive(uow, "SKU-1", D(3), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    r = inv.release(uow, "R1", T0)
    assert (r.released, r.reserved, r.backordered, r.requested) == (True, D(0), D(0), D(5))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D(3), reserved=D(0))
    assert inv.release(uow, "R1", T0) == r  # idempotent


def test_release_after_partial_consume_keeps_what_shipped(inv, uow):
    inv.receive(uow, "SKU-1", D(5), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    inv.consume(uow, "R1", D(2), T0)
    r = inv.release(uow, "R1", T0)
    assert (r.consumed, r.reserved) == (D(2), D(0))
    assert inv.level(uow, "SKU-1") == StockLevel(sku="SKU-1", on_hand=D(3), reserved=D(0))


def test_expire_releases_due_reservations_only(inv, uow):
    inv.receive(uow, "SKU-1", D(10), T0)
    inv.reserve(uow, request("due", D(2), expires_at=T0 + timedelta(hours=1)), T0)
    inv.reserve(uow, request("exact", D(2), line="L2", expires_at=T0 + timedelta(hours=2)), T0)
    inv.reserve(uow, request("later", D(2), line="L3", expires_at=T0 + timedelta(hours=3)), T0)
    inv.reserve(uow, request("never", D(2), line="L4"), T0)
    inv.reserve(uow, request("gone", D(2), line="L5", expires_at=T0), T0)
    inv.release(uow, "gone", T0)
    expired = inv.expire(uow, T0 + timedelta(hours=2))
    assert [r.id for r in expired] == ["due", "exact"]
    assert all(r.released and r.reserved == 0 for r in expired)
    assert inv.level(uow, "SKU-1").reserved == D(4)
    assert inv.expire(uow, T0 + timedelta(hours=2)) == []


def test_expire_releases_pure_backorders_but_not_fully_consumed_reservations(inv, uow):
    inv.receive(uow, "SKU-1", D(2), T0)
    soon = T0 + timedelta(minutes=5)
    inv.reserve(uow, request("shipped", D(2), expires_at=soon), T0)
    inv.consume(uow, "shipped", D(2), T0)
    inv.reserve(uow, request("waiting", D(3), line="L2", expires_at=soon), T0)
    expired = inv.expire(uow, soon)
    assert [r.id for r in expired] == ["waiting"]
    assert inv.reservation(uow, "shipped").released is False
    assert inv.reservation(uow, "waiting").backordered == D(0)


def test_reservations_for_lists_an_orders_reservations(inv, uow):
    inv.receive(uow, "SKU-1", D(10), T0)
    inv.reserve(uow, request("A", D(1), line="L1"), T0)
    inv.reserve(uow, request("B", D(1), order="O2"), T0)
    inv.reserve(uow, request("C", D(1), line="L2"), T0)
    inv.release(uow, "C", T0)
    assert [r.id for r in inv.reservations_for(uow, "O1")] == ["A", "C"]
    assert inv.reservations_for(uow, "O9") == []


# --------------------------------------------------------------------------- storage


def test_state_lives_only_in_the_unit_of_work(inv, uow):
    inv.receive(uow, "SKU-1", D(5), T0)
    committed = uow.copy()
    inv.reserve(uow, request(qty=D(5)), T0)  # then "rolled back": we drop uow
    again = StockInventory()
    assert again.level(committed, "SKU-1").reserved == D(0)
    assert committed.get(Kind.RESERVATION, "R1") is None
    assert inv.level(uow, "SKU-1").reserved == D(5)


def test_foreign_records_are_reported_as_corrupt(inv, uow):
    uow.put(Kind.STOCK, "SKU-1", {"on_hand": 3})
    with pytest.raises(InventoryRecordError) as err:
        inv.level(uow, "SKU-1")
    assert (err.value.kind, err.value.id, err.value.retryable) == ("stock", "SKU-1", False)


def test_a_level_that_disagrees_with_a_reservation_is_reported(inv, uow):
    inv.receive(uow, "SKU-1", D(5), T0)
    inv.reserve(uow, request(qty=D(5)), T0)
    uow.put(Kind.STOCK, "SKU-1", StockLevel(sku="SKU-1", on_hand=D(5), reserved=D(1)))
    with pytest.raises(InventoryRecordError):
        inv.consume(uow, "R1", D(5), T0)
    with pytest.raises(InventoryRecordError):
        inv.release(uow, "R1", T0)


def test_records_are_the_port_values(inv, uow):
    inv.receive(uow, "SKU-1", D(1), T0)
    inv.reserve(uow, request(qty=D(1)), T0)
    assert isinstance(uow.get(Kind.RESERVATION, "R1"), Reservation)
    assert isinstance(uow.get(Kind.STOCK, "SKU-1"), StockLevel)


def test_a_level_with_more_reserved_than_on_hand_is_reported(inv, uow):
    uow.put(Kind.STOCK, "SKU-1", StockLevel(sku="SKU-1", on_hand=D(1), reserved=D(3)))
    with pytest.raises(InventoryRecordError) as err:
        inv.reserve(uow, request(qty=D(1)), T0)
    assert err.value.reason == "reserved outside 0..on_hand"
    assert uow.get(Kind.RESERVATION, "R1") is None
