"""The storage contract for MemoryStorage (and the fault wrapper around it), plus the
memory adapter's own promises: serialised units, snapshots, gap-free outbox seqs."""

from __future__ import annotations

import threading
import time

import pytest

from o2c.adapters.faults import FaultInjectingStorage
from o2c.adapters.memory import MemorySnapshot, MemoryStorage
from o2c.errors import StorageUsageError, UnitOfWorkClosedError
from o2c.ports import Kind, Storage
from o2c.testing import StorageContract
from o2c.testing.storage_contract import Item, answer, item_event, store


class TestMemoryStorage(StorageContract):
    """MemoryStorage passes the contract."""

    @pytest.fixture
    def storage(self) -> Storage:
        return MemoryStorage()


class TestDisarmedFaultInjectingStorage(StorageContract):
    """The fault wrapper, disarmed, changes nothing about the contract."""

    @pytest.fixture
    def storage(self) -> Storage:
        return FaultInjectingStorage(MemoryStorage())


def test_records_are_stored_as_given() -> None:
    storage = MemoryStorage()
    item = Item("I-1")
    store(storage, item)
    with storage.begin() as uow:
        assert uow.get(Kind.ORDER, "I-1") is item
        assert uow.find(Kind.ORDER, "owner", "ann")[0] is item


def test_index_mapping_is_copied() -> None:
    storage = MemoryStorage()
    index = {"owner": "ann"}
    with storage.begin() as uow:
        uow.put(Kind.ORDER, "I-1", Item("I-1"), index)
        index["owner"] = "bob"
        uow.commit()
    with storage.begin() as uow:
        assert uow.find(Kind.ORDER, "owner", "ann") == [Item("I-1")]
        assert uow.find(Kind.ORDER, "owner", "bob") == []


def test_outbox_seqs_are_gap_free_from_one() -> None:
    storage = MemoryStorage()
    with storage.begin() as uow:
        uow.append_events([item_event(1), item_event(2)])
        uow.commit()
    with storage.begin() as uow:
        uow.append_events([item_event(3)])
        uow.rollback()
    with storage.begin() as uow:
        uow.append_events(iter([item_event(4)]))  # type: ignore[arg-type]
        uow.commit()
    assert [(e.seq, e.event.n) for e in storage.pending_events()] == [(1, 1), (2, 2), (3, 4)]  # type: ignore[attr-defined]


def test_snapshot_is_unchanged_by_rollback_and_refused_calls() -> None:
    storage = MemoryStorage()
    store(storage, Item("I-1"), Item("I-2", owner="bob"))
    with storage.begin() as uow:
        uow.next_number("invoice")
        uow.put_idempotency(answer("k-1"))
        uow.append_events([item_event(1)])
        uow.commit()
    before = storage.snapshot()
    with storage.begin() as uow:
        uow.put(Kind.ORDER, "I-1", Item("I-1", owner="cy"), {"owner": "cy"})
        uow.put(Kind.ORDER, "I-3", Item("I-3"))
        uow.next_number("invoice")
        uow.append_events([item_event(2)])
        uow.rollback()
    with pytest.raises(StorageUsageError):
        storage.mark_delivered([99])
    assert storage.snapshot() == before


def test_snapshot_shows_every_part_of_the_state() -> None:
    storage = MemoryStorage()
    store(storage, Item("I-1"))
    with storage.begin() as uow:
        uow.put(Kind.ORDER, "I-1", Item("I-1", owner="bob", version=2), {"owner": "bob"})
        assert uow.next_number("invoice") == 1
        uow.put_idempotency(answer("k-1"))
        uow.append_events([item_event(1), item_event(2)])
        uow.commit()
    storage.mark_delivered([1])
    assert storage.snapshot() == MemorySnapshot(
        records=((Kind.ORDER, "I-1", Item("I-1", owner="bob", version=2), (("owner", "bob"),)),),
        indexes=(((Kind.ORDER, "owner", "bob"), ("I-1",)),),
        numbers=(("invoice", 1),),
        idempotency=(("k-1", answer("k-1")),),
        outbox=((1, item_event(1), True), (2, item_event(2), False)),
        next_seq=3,
    )


def test_reindexed_old_record_keeps_bucket_in_insertion_order() -> None:
    storage = MemoryStorage()
    store(storage, *(Item(f"I-{n}", owner="ann" if n else "bob") for n in range(4)))
    store(storage, Item("I-0", owner="ann", version=2))
    with storage.begin() as uow:
        found = uow.find(Kind.ORDER, "owner", "ann")
    assert [i.id for i in found] == ["I-0", "I-1", "I-2", "I-3"]  # type: ignore[attr-defined]
    buckets = dict(storage.snapshot().indexes)
    assert buckets[Kind.ORDER, "owner", "ann"] == ("I-0", "I-1", "I-2", "I-3")
    assert (Kind.ORDER, "owner", "bob") not in buckets  # emptied buckets go away


def test_second_unit_in_the_same_thread_is_refused() -> None:
    storage = MemoryStorage()
    with storage.begin() as uow:
        with pytest.raises(StorageUsageError) as caught:
            storage.begin()
        assert caught.value.operation == "begin"
        # Storage-level calls still work while this thread holds the unit.
        assert storage.pending_events() == []
        uow.commit()
    with storage.begin() as uow:
        uow.commit()


def test_units_of_other_threads_wait_for_commit() -> None:
    storage = MemoryStorage()
    seen: list[object] = []
    started = threading.Event()

    def reader() -> None:
        started.set()
        with storage.begin() as other:
            seen.append(other.get(Kind.ORDER, "I-1"))

    with storage.begin() as uow:
        uow.put(Kind.ORDER, "I-1", Item("I-1"))
        thread = threading.Thread(target=reader)
        thread.start()
        started.wait(5)
        time.sleep(0.05)  # give the reader a chance to (wrongly) read early
        assert seen == []
        uow.commit()
    thread.join(5)
    assert seen == [Item("I-1")]


def test_failed_commit_rolls_back_and_releases_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = MemoryStorage()

    def broken(**_: object) -> object:
        raise MemoryError

    monkeypatch.setattr("o2c.adapters.memory.OutboxEntry", broken)
    before = storage.snapshot()
    uow = storage.begin()
    uow.put(Kind.ORDER, "I-1", Item("I-1"))
    uow.append_events([item_event(1)])
    with pytest.raises(MemoryError):
        uow.commit()
    assert storage.snapshot() == before
    with pytest.raises(UnitOfWorkClosedError) as caught:
        uow.get(Kind.ORDER, "I-1")
    assert caught.value.state == "rolled back"
    uow.rollback()  # harmless
    monkeypatch.undo()
    store(storage, Item("I-2"))
    assert storage.snapshot().records[0][1] == "I-2"


@pytest.mark.parametrize(
    "call",
    [
        lambda uow: uow.get(1, "I-1"),
        lambda uow: uow.find(Kind.ORDER, "owner", 1),
        lambda uow: uow.all(None),
        lambda uow: uow.get_idempotency(1),
        lambda uow: uow.put(Kind.ORDER, "I-1", Item("I-1"), {"": "x"}),
    ],
)
def test_memory_refuses_non_string_reads(call: object) -> None:
    storage = MemoryStorage()
    with storage.begin() as uow, pytest.raises(StorageUsageError):
        call(uow)  # type: ignore[operator]


@pytest.mark.parametrize("limit", [True, 1.5, "3"])
def test_pending_events_refuses_non_int_limit(limit: object) -> None:
    with pytest.raises(StorageUsageError):
        MemoryStorage().pending_events(limit)  # type: ignore[arg-type]
