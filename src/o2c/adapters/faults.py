"""Fault injection for storage: make the n-th write fail, to prove nothing half-commits.

:class:`FaultInjectingStorage` wraps any :class:`o2c.ports.Storage`. It counts every
write call made through its units of work (``put``, ``next_number``,
``put_idempotency``, ``append_events`` and ``commit``, one each) and makes the call at
position ``fail_at`` (0-based) raise :class:`~o2c.errors.InjectedFaultError` *before*
the wrapped storage sees it. Reads, ``rollback`` and the storage-level outbox calls are
passed through untouched and not counted.

A test first runs a scenario disarmed to learn its write positions (``write_log``),
then arms each position in turn and checks that the failure left no trace::

    faulty = FaultInjectingStorage(MemoryStorage())
    run_scenario(faulty)
    for position in range(len(faulty.write_log)):
        before = faulty.inner.snapshot()
        faulty.arm(position)
        with pytest.raises(InjectedFaultError):
            run_scenario(faulty)
        assert faulty.inner.snapshot() == before

:meth:`FaultInjectingStorage.lock` simulates a row lock held by another worker: until
:meth:`~FaultInjectingStorage.unlock`, reading or writing that record through a unit
of work raises :class:`~o2c.errors.StorageBusyError` (retryable), as a
``SELECT ... FOR UPDATE NOWAIT`` or a busy SQLite database would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from o2c.errors import InjectedFaultError, StorageBusyError, StorageUsageError

if TYPE_CHECKING:
    from o2c.events import DomainEvent
    from o2c.ports import IdempotencyRecord, OutboxEntry, Storage, UnitOfWork

__all__ = ["FaultInjectingStorage", "FaultInjectingUnitOfWork"]

S = TypeVar("S", bound="Storage")


def _check_position(fail_at: object) -> int | None:
    if fail_at is None:
        return None
    if isinstance(fail_at, bool) or not isinstance(fail_at, int) or fail_at < 0:
        raise StorageUsageError(
            operation="arm", reason=f"fail_at must be None or an int >= 0, got {fail_at!r:.40}"
        )
    return fail_at


class FaultInjectingStorage(Generic[S]):
    """A :class:`o2c.ports.Storage` that fails one chosen write call on purpose.

    Args:
        inner: The storage to wrap; every call that is not failed reaches it.
        fail_at: 0-based position of the write call to fail (0 fails the first write);
            None (the default) fails nothing.

    Attributes:
        writes: Write calls counted since construction or the last :meth:`arm`.
        write_log: Their names, in call order (the failed call included).
        fail_at: The position that fails, or None when disarmed.

    Raises:
        StorageUsageError: ``fail_at`` is neither None nor an int >= 0.
    """

    def __init__(self, inner: S, fail_at: int | None = None) -> None:
        self._inner = inner
        self.fail_at = _check_position(fail_at)
        self.writes = 0
        self.write_log: list[str] = []
        self._lock = threading.Lock()  # units of other adapters may run concurrently
        self._locked: set[tuple[str, str]] = set()

    @property
    def inner(self) -> S:
        """The wrapped storage (e.g. to take a snapshot of it)."""
        return self._inner

    def arm(self, fail_at: int) -> None:
        """Fail the write call at position ``fail_at`` counted from now.

        Resets :attr:`writes` and :attr:`write_log`, so positions match a log taken
        by a disarmed run of the same scenario.

        Raises:
            StorageUsageError: ``fail_at`` is not an int >= 0.
        """
        position = _check_position(fail_at)
        if position is None:
            raise StorageUsageError(operation="arm", reason="fail_at must be an int >= 0")
        with self._lock:
            self.fail_at = position
            self.writes = 0
            self.write_log = []

    def disarm(self) -> None:
        """Stop failing; counting goes on."""
        with self._lock:
            self.fail_at = None

    def count_write(self, operation: str) -> None:
        """Count one write call and raise if it is the one to fail.

        Args:
            operation: The name of the write call.

        Raises:
            InjectedFaultError: This call is at position :attr:`fail_at`.
        """
        with self._lock:
            position = self.writes
            self.writes += 1
            self.write_log.append(operation)
            failing = position == self.fail_at
        if failing:
            raise InjectedFaultError(operation=operation, position=position)

    def lock(self, kind: str, record_id: str) -> None:
        """Hold a lock on a record, as another unit of work would: reading or writing
        it raises :class:`~o2c.errors.StorageBusyError` until :meth:`unlock`."""
        with self._lock:
            self._locked.add((str(kind), record_id))

    def unlock(self, kind: str, record_id: str) -> None:
        """Release a lock taken by :meth:`lock` (releasing a free record does nothing)."""
        with self._lock:
            self._locked.discard((str(kind), record_id))

    @property
    def locked(self) -> frozenset[tuple[str, str]]:
        """The ``(kind, record id)`` pairs locked now."""
        with self._lock:
            return frozenset(self._locked)

    def check_lock(self, operation: str, kind: str, record_id: str) -> None:
        """Raise if ``record_id`` of ``kind`` is locked (a read or write is refused).

        Raises:
            StorageBusyError: the record is locked.
        """
        with self._lock:
            busy = (str(kind), record_id) in self._locked
        if busy:
            raise StorageBusyError(
                f"{kind} {record_id} is locked by another unit of work",
                operation=operation,
                kind=str(kind),
                record_id=record_id,
            )

    def begin(self) -> FaultInjectingUnitOfWork:
        """Open a unit of work on the wrapped storage (not counted)."""
        return FaultInjectingUnitOfWork(self.count_write, self._inner.begin(), self.check_lock)

    def pending_events(self, limit: int = 1000) -> list[OutboxEntry]:
        """Delegated untouched."""
        return self._inner.pending_events(limit)

    def mark_delivered(self, seqs: Sequence[int]) -> None:
        """Delegated untouched (not counted: it is outside any unit of work)."""
        self._inner.mark_delivered(seqs)


class FaultInjectingUnitOfWork:
    """A unit of work whose write calls are counted by a :class:`FaultInjectingStorage`.

    An injected failure of ``commit`` rolls the wrapped unit back, as a failed commit
    aborts a database transaction. Calls on a closed unit are not counted, so they
    reach the wrapped unit and raise its :class:`~o2c.errors.UnitOfWorkClosedError`.

    Args:
        count_write: Counts a write call and raises if it is the one to fail
            (:meth:`FaultInjectingStorage.count_write`).
        inner: The wrapped storage's unit of work.
        check_lock: Raises for a locked record (:meth:`FaultInjectingStorage.check_lock`);
            None: nothing is locked.
    """

    __slots__ = ("_check_lock", "_closed", "_count_write", "_inner")

    def __init__(
        self,
        count_write: Callable[[str], None],
        inner: UnitOfWork,
        check_lock: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._count_write = count_write
        self._inner = inner
        self._check_lock = check_lock
        self._closed = False

    def __enter__(self) -> FaultInjectingUnitOfWork:
        """Use the unit as a context manager."""
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Leave the wrapped unit's ``with`` block (it rolls back unless committed)."""
        self._closed = True
        self._inner.__exit__(exc_type, exc, tb)

    def _count(self, operation: str) -> None:
        if not self._closed:
            self._count_write(operation)

    def _locked(self, operation: str, kind: str, record_id: str) -> None:
        if self._check_lock is not None and not self._closed:
            self._check_lock(operation, kind, record_id)

    def get(self, kind: str, record_id: str) -> object | None:
        """Delegated untouched, unless the record is locked (StorageBusyError)."""
        self._locked("get", kind, record_id)
        return self._inner.get(kind, record_id)

    def put(
        self, kind: str, record_id: str, record: object, index: Mapping[str, str] | None = None
    ) -> None:
        """Counted write, then delegated; a locked record raises StorageBusyError first
        (not counted)."""
        self._locked("put", kind, record_id)
        self._count("put")
        self._inner.put(kind, record_id, record, index)

    def find(self, kind: str, field: str, value: str) -> list[object]:
        """Delegated untouched."""
        return self._inner.find(kind, field, value)

    def all(self, kind: str) -> list[object]:
        """Delegated untouched."""
        return self._inner.all(kind)

    def next_number(self, series: str) -> int:
        """Counted write, then delegated."""
        self._count("next_number")
        return self._inner.next_number(series)

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """Delegated untouched."""
        return self._inner.get_idempotency(key)

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        """Counted write, then delegated."""
        self._count("put_idempotency")
        self._inner.put_idempotency(record)

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Counted write, then delegated."""
        self._count("append_events")
        self._inner.append_events(events)

    def commit(self) -> None:
        """Counted write, then delegated; an injected failure rolls the unit back."""
        try:
            self._count("commit")
        except InjectedFaultError:
            self.rollback()
            raise
        self._inner.commit()
        self._closed = True

    def rollback(self) -> None:
        """Delegated untouched (not counted)."""
        self._inner.rollback()
        self._closed = True


if TYPE_CHECKING:  # mypy proves the classes satisfy the ports

    def _is_storage(storage: FaultInjectingStorage[Storage]) -> Storage:
        return storage

    def _is_unit(uow: FaultInjectingUnitOfWork) -> UnitOfWork:
        return uow
