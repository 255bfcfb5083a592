"""FaultInjectingStorage: a failure at any write position leaves no trace, and a retry works."""

from __future__ import annotations

import pickle

import pytest

from o2c.adapters.faults import FaultInjectingStorage
from o2c.adapters.memory import MemorySnapshot, MemoryStorage
from o2c.errors import AdapterError, InjectedFaultError, StorageUsageError, UnitOfWorkClosedError
from o2c.ports import Kind, Storage
from o2c.testing.storage_contract import Item, answer, item_event, store


def seeded() -> MemoryStorage:
    """A storage that already holds records, a number, an answer and events."""
    storage = MemoryStorage()
    store(storage, Item("O-1", owner="ann"), Item("O-2", owner="bob"))
    with storage.begin() as uow:
        assert uow.next_number("invoice") == 1
        uow.put_idempotency(answer("old"))
        uow.append_events([item_event(1), item_event(2)])
        uow.commit()
    storage.mark_delivered([1])
    return storage


def scenario(storage: Storage) -> None:
    """A scripted engine-like unit of work: read, update, number, answer, events."""
    with storage.begin() as uow:
        order = uow.get(Kind.ORDER, "O-1")
        assert isinstance(order, Item)
        uow.put(Kind.ORDER, order.id, Item(order.id, owner="cy", version=2), {"owner": "cy"})
        number = uow.next_number("invoice")
        invoice = Item(f"INV-{number}", owner="cy")
        uow.put(Kind.INVOICE, invoice.id, invoice, invoice.index)
        assert uow.get_idempotency("new") is None
        uow.put_idempotency(answer("new", result=invoice))
        uow.append_events([item_event(3)])
        uow.append_events([item_event(4)])
        uow.commit()


def _clean_run() -> tuple[list[str], MemorySnapshot]:
    faulty = FaultInjectingStorage(seeded())
    scenario(faulty)
    return faulty.write_log, faulty.inner.snapshot()


WRITE_LOG, AFTER = _clean_run()


def test_every_write_kind_is_counted_once() -> None:
    assert WRITE_LOG == [
        "put",
        "next_number",
        "put",
        "put_idempotency",
        "append_events",
        "append_events",
        "commit",
    ]


@pytest.mark.parametrize("position", range(len(WRITE_LOG)))
def test_fault_at_any_position_changes_nothing_and_retry_succeeds(position: int) -> None:
    faulty = FaultInjectingStorage(seeded(), fail_at=position)
    before = faulty.inner.snapshot()
    with pytest.raises(InjectedFaultError) as caught:
        scenario(faulty)
    assert caught.value.operation == WRITE_LOG[position]
    assert caught.value.position == position
    assert caught.value.retryable is True
    assert faulty.write_log == WRITE_LOG[: position + 1]  # it failed before going on
    assert faulty.inner.snapshot() == before
    faulty.disarm()
    scenario(faulty)
    assert faulty.inner.snapshot() == AFTER


@pytest.mark.parametrize("position", range(len(WRITE_LOG)))
def test_arm_counts_positions_from_now(position: int) -> None:
    faulty = FaultInjectingStorage(seeded())
    store(faulty, Item("X-1"))  # writes before arming do not shift positions
    before = faulty.inner.snapshot()
    faulty.arm(position)
    assert (faulty.writes, faulty.write_log) == (0, [])
    with pytest.raises(InjectedFaultError):
        scenario(faulty)
    assert faulty.inner.snapshot() == before


def test_a_fault_fires_once_and_counting_goes_on() -> None:
    faulty = FaultInjectingStorage(MemoryStorage(), fail_at=1)
    with faulty.begin() as uow:
        uow.put(Kind.ORDER, "I-1", Item("I-1"))
        with pytest.raises(InjectedFaultError):
            uow.put(Kind.ORDER, "I-2", Item("I-2"))
        uow.put(Kind.ORDER, "I-3", Item("I-3"))
        uow.commit()
    assert faulty.writes == 4
    assert faulty.write_log == ["put", "put", "put", "commit"]
    with faulty.begin() as uow:
        assert uow.all(Kind.ORDER) == [Item("I-1"), Item("I-3")]


def test_position_beyond_the_writes_never_fires() -> None:
    faulty = FaultInjectingStorage(seeded(), fail_at=len(WRITE_LOG))
    scenario(faulty)
    assert faulty.inner.snapshot() == AFTER


def test_reads_rollback_and_outbox_calls_are_not_counted() -> None:
    faulty = FaultInjectingStorage(seeded(), fail_at=0)
    with faulty.begin() as uow:
        assert uow.get(Kind.ORDER, "O-1") == Item("O-1", owner="ann")
        assert uow.find(Kind.ORDER, "owner", "bob") == [Item("O-2", owner="bob")]
        assert len(uow.all(Kind.ORDER)) == 2
        assert uow.get_idempotency("old") == answer("old")
        uow.rollback()
    (pending,) = faulty.pending_events()
    faulty.mark_delivered([pending.seq])
    assert faulty.pending_events() == []
    assert (faulty.writes, faulty.write_log) == (0, [])


def test_commit_fault_rolls_back_and_frees_the_storage() -> None:
    faulty = FaultInjectingStorage(MemoryStorage(), fail_at=1)
    uow = faulty.begin()  # no with block: nothing else would release the unit
    uow.put(Kind.ORDER, "I-1", Item("I-1"))
    with pytest.raises(InjectedFaultError):
        uow.commit()
    uow.rollback()  # harmless after the failed commit
    with faulty.begin() as fresh:
        assert fresh.all(Kind.ORDER) == []


def test_calls_on_a_closed_unit_are_refused_not_counted() -> None:
    faulty = FaultInjectingStorage(MemoryStorage())
    with faulty.begin() as uow:
        uow.commit()
    faulty.arm(0)
    with pytest.raises(UnitOfWorkClosedError):
        uow.put(Kind.ORDER, "I-1", Item("I-1"))
    with pytest.raises(UnitOfWorkClosedError):
        uow.commit()
    assert faulty.writes == 0


@pytest.mark.parametrize("fail_at", [-1, True, 1.0, "0"])
def test_bad_positions_are_refused(fail_at: object) -> None:
    with pytest.raises(StorageUsageError):
        FaultInjectingStorage(MemoryStorage(), fail_at=fail_at)  # type: ignore[arg-type]
    faulty = FaultInjectingStorage(MemoryStorage())
    with pytest.raises(StorageUsageError):
        faulty.arm(fail_at)  # type: ignore[arg-type]
    with pytest.raises(StorageUsageError):
        faulty.arm(None)  # type: ignore[arg-type]
    assert faulty.fail_at is None


def test_injected_fault_is_a_retryable_adapter_error_that_pickles() -> None:
    error = InjectedFaultError(operation="put", position=3)
    assert isinstance(error, AdapterError)
    assert error.retryable is True
    assert error.code == "storage.injected_fault"
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (type(copy), copy.operation, copy.position, copy.retryable) == (
        InjectedFaultError,
        "put",
        3,
        True,
    )
    assert "position=3" in str(copy)
