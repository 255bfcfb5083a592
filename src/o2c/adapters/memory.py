"""The in-memory reference storage: :class:`MemoryStorage` and its :class:`MemoryUnitOfWork`.

It implements :class:`o2c.ports.Storage` with plain dicts and is the yardstick the
other storage adapters are tested against (:mod:`o2c.testing.storage_contract`).

Concurrency: one lock is held from :meth:`MemoryStorage.begin` until the unit of work
commits, rolls back or leaves its ``with`` block, so units of work run one at a time
(serialisable). Another thread calling ``begin()`` waits; the thread that holds a unit
may not open a second one (:class:`~o2c.errors.StorageUsageError`): two units in one
thread would see each other's changes late and overwrite them silently. A unit must be
closed by the thread that opened it.

Transactions: writes are staged in the unit and applied by :meth:`MemoryUnitOfWork.commit`
in one step after everything that can fail has been checked, so an exception anywhere
leaves the committed state untouched. Leaving the ``with`` block without calling
``commit()`` rolls back: commits are always explicit::

    with storage.begin() as uow:
        uow.put(Kind.ORDER, order.id, order, {"customer_id": order.customer_id})
        uow.commit()

Records are kept as given (they are frozen values), never copied.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Final

import attrs

from o2c.errors import IdempotencyKeyTakenError, StorageUsageError, UnitOfWorkClosedError
from o2c.events import DomainEvent
from o2c.ports import IdempotencyRecord, OutboxEntry

if TYPE_CHECKING:
    from o2c.ports import Storage, UnitOfWork

__all__ = ["MemorySnapshot", "MemoryStorage", "MemoryUnitOfWork"]

# A stored row: (record, index or None, ordinal). The ordinal is the record's place in
# insertion order; it never changes, so a re-put keeps the record's position.
_Row = tuple[object, dict[str, str] | None, int]
_BucketKey = tuple[str, str, str]

_COMMITTED: Final = "committed"
_ROLLED_BACK: Final = "rolled back"
_first = itemgetter(0)
_second = itemgetter(1)


def _misuse(operation: str, reason: str) -> StorageUsageError:
    return StorageUsageError(operation=operation, reason=reason)


def _check_name(operation: str, what: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise _misuse(operation, f"{what} must be a non-empty string, got {value!r:.60}")


def _check_index(index: Mapping[str, str]) -> dict[str, str]:
    if type(index) is not dict and not isinstance(index, Mapping):
        raise _misuse("put", f"index must be a mapping, got {type(index).__name__}")
    copied = dict(index)  # the caller may mutate its own mapping later
    for field, value in copied.items():
        if not (isinstance(field, str) and field and isinstance(value, str)):
            raise _misuse("put", f"index {field!r:.40}: {value!r:.40} is not two strings")
    return copied


@attrs.frozen
class MemorySnapshot:
    """The whole committed state of a :class:`MemoryStorage`, as comparable values.

    Two snapshots are equal exactly when the storage holds the same data, so a test
    can assert that a failed operation changed nothing.

    Attributes:
        records: ``(kind, id, record, index items)`` per record; kinds sorted, records
            of a kind in insertion order.
        indexes: ``((kind, field, value), ids)`` per non-empty index bucket, sorted.
        numbers: ``(series, last number issued)``, sorted.
        idempotency: ``(key, record)``, sorted by key.
        outbox: ``(seq, event, delivered)`` in seq order.
        next_seq: The seq the next committed event will get.
    """

    records: tuple[tuple[str, str, object, tuple[tuple[str, str], ...]], ...]
    indexes: tuple[tuple[_BucketKey, tuple[str, ...]], ...]
    numbers: tuple[tuple[str, int], ...]
    idempotency: tuple[tuple[str, IdempotencyRecord], ...]
    outbox: tuple[tuple[int, DomainEvent, bool], ...]
    next_seq: int


class MemoryStorage:
    """A :class:`o2c.ports.Storage` in process memory (see the module docstring).

    >>> from o2c.ports import Kind
    >>> storage = MemoryStorage()
    >>> with storage.begin() as uow:
    ...     uow.put(Kind.ORDER, "O-1", "an order", {"customer_id": "C-1"})
    ...     uow.commit()
    >>> with storage.begin() as uow:
    ...     uow.find(Kind.ORDER, "customer_id", "C-1")
    ['an order']
    """

    __slots__ = (
        "_buckets",
        "_idempotency",
        "_lock",
        "_next_ordinal",
        "_numbers",
        "_outbox",
        "_owner",
        "_pending",
        "_rows",
    )

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._owner: int | None = None  # thread id holding the open unit
        self._rows: dict[str, dict[str, _Row]] = {}
        # (kind, field, value) -> {id: ordinal}, kept in ordinal order so that find()
        # costs O(matches) and needs no sort.
        self._buckets: dict[_BucketKey, dict[str, int]] = {}
        self._next_ordinal = 0
        self._numbers: dict[str, int] = {}
        self._idempotency: dict[str, IdempotencyRecord] = {}
        self._outbox: list[OutboxEntry] = []  # seq n at position n - 1
        self._pending: dict[int, OutboxEntry] = {}  # undelivered, in seq order

    def begin(self) -> MemoryUnitOfWork:
        """Open a unit of work, waiting while another thread has one open.

        Returns:
            The unit; use it as a context manager and call ``commit()`` inside.

        Raises:
            StorageUsageError: This thread already has a unit of work open.
        """
        me = threading.get_ident()
        if self._owner == me:
            raise _misuse("begin", "this thread already has a unit of work open")
        self._lock.acquire()
        self._owner = me
        return MemoryUnitOfWork(self)

    def _release(self) -> None:
        self._owner = None
        self._lock.release()

    def pending_events(self, limit: int = 1000) -> list[OutboxEntry]:
        """Committed events not yet marked delivered, oldest first.

        Args:
            limit: At most this many entries (0 or more).

        Returns:
            The entries in ``seq`` order.

        Raises:
            StorageUsageError: ``limit`` is not a non-negative int.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise _misuse("pending_events", f"limit must be an int >= 0, got {limit!r:.40}")
        with self._lock:
            return list(islice(self._pending.values(), limit))

    def mark_delivered(self, seqs: Sequence[int]) -> None:
        """Record that these outbox entries reached every subscriber.

        Marking an entry that is already delivered does nothing (delivery is at least
        once, so a relay may mark twice). All seqs are checked before any is marked.

        Args:
            seqs: The ``seq`` numbers of committed entries.

        Raises:
            StorageUsageError: A seq is not the seq of a committed entry.
        """
        with self._lock:
            last = len(self._outbox)
            for seq in seqs:
                if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= last:
                    raise _misuse("mark_delivered", f"no committed outbox entry {seq!r:.40}")
            pending = self._pending
            for seq in seqs:
                pending.pop(seq, None)

    def snapshot(self) -> MemorySnapshot:
        """The whole committed state as a comparable value (see :class:`MemorySnapshot`)."""
        with self._lock:
            records = tuple(
                (kind, record_id, row[0], tuple(sorted((row[1] or {}).items())))
                for kind in sorted(self._rows)
                for record_id, row in self._rows[kind].items()
            )
            indexes = tuple(sorted((key, tuple(ids)) for key, ids in self._buckets.items()))
            pending = self._pending
            return MemorySnapshot(
                records=records,
                indexes=indexes,
                numbers=tuple(sorted(self._numbers.items())),
                idempotency=tuple(sorted(self._idempotency.items(), key=_first)),
                outbox=tuple((e.seq, e.event, e.seq not in pending) for e in self._outbox),
                next_seq=len(self._outbox) + 1,
            )

    def _apply_rows(self, staged_rows: dict[str, dict[str, _Row]]) -> None:
        """Write staged rows and move their index entries (cannot fail)."""
        all_rows = self._rows
        buckets = self._buckets
        for kind, staged in staged_rows.items():
            rows = all_rows.get(kind)
            if rows is None:
                rows = all_rows[kind] = {}
            for record_id, row in staged.items():
                old = rows.get(record_id)
                rows[record_id] = row
                new_index = row[1]
                if old is None:
                    if new_index:
                        # A new record has the highest ordinal yet: appending keeps
                        # every bucket in ordinal order.
                        ordinal = row[2]
                        for field, value in new_index.items():
                            key = (kind, field, value)
                            bucket = buckets.get(key)
                            if bucket is None:
                                buckets[key] = {record_id: ordinal}
                            else:
                                bucket[record_id] = ordinal
                elif old[1] != new_index:
                    self._reindex(kind, record_id, row[2], old[1], new_index)

    def _reindex(
        self,
        kind: str,
        record_id: str,
        ordinal: int,
        old_index: dict[str, str] | None,
        new_index: dict[str, str] | None,
    ) -> None:
        """Move an existing record between index buckets, keeping ordinal order."""
        buckets = self._buckets
        if old_index:
            for field, value in old_index.items():
                if new_index is None or new_index.get(field) != value:
                    key = (kind, field, value)
                    old_bucket = buckets[key]
                    del old_bucket[record_id]
                    if not old_bucket:
                        del buckets[key]
        if new_index:
            for field, value in new_index.items():
                if old_index is None or old_index.get(field) != value:
                    key = (kind, field, value)
                    bucket = buckets.get(key)
                    if bucket is None:
                        buckets[key] = {record_id: ordinal}
                    else:
                        out_of_order = next(reversed(bucket.values())) > ordinal
                        bucket[record_id] = ordinal
                        if out_of_order:  # an older record joined: restore ordinal order
                            ordered = sorted(bucket.items(), key=_second)
                            bucket.clear()
                            bucket.update(ordered)


class MemoryUnitOfWork:
    """One transaction over a :class:`MemoryStorage` (see :class:`o2c.ports.UnitOfWork`).

    Holds the storage's lock while open. Every method raises
    :class:`~o2c.errors.UnitOfWorkClosedError` once the unit committed or rolled back,
    except that ``rollback()`` after a rollback does nothing (so cleanup code may call
    it again) and leaving the ``with`` block after a commit keeps the commit.
    If ``commit()`` raises, the unit is rolled back.
    """

    __slots__ = (
        "_events",
        "_idempotency",
        "_new_rows",
        "_numbers",
        "_rows",
        "_staged",
        "_state",
        "_storage",
    )

    def __init__(self, storage: MemoryStorage) -> None:
        self._storage = storage
        self._state: str | None = None  # None while open
        self._rows = storage._rows  # committed rows; read-only here
        self._staged: dict[str, dict[str, _Row]] = {}
        self._new_rows = 0  # records this unit inserts (they take the next ordinals)
        # Most units take no number, store no answer or event: create those lazily.
        self._numbers: dict[str, int] | None = None
        self._idempotency: dict[str, IdempotencyRecord] | None = None
        self._events: list[DomainEvent] | None = None

    def __enter__(self) -> MemoryUnitOfWork:
        """Use the unit as a context manager."""
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        """Roll back unless the unit was committed (on an exception or a missing commit)."""
        if self._state is None:
            self._close(_ROLLED_BACK)

    def _close(self, state: str) -> None:
        self._state = state
        self._storage._release()

    def _closed(self, operation: str) -> UnitOfWorkClosedError:
        state = self._state or ""
        return UnitOfWorkClosedError(operation=operation, state=state, reason=f"it was {state}")

    def get(self, kind: str, record_id: str) -> object | None:
        """The record (this unit's own write first), or None.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: ``kind`` or ``record_id`` is not a string.
        """
        if self._state is not None:
            raise self._closed("get")
        if not (isinstance(kind, str) and isinstance(record_id, str)):
            raise _misuse("get", "kind and record_id must be strings")
        staged = self._staged.get(kind)
        if staged is not None:
            row = staged.get(record_id)
            if row is not None:
                return row[0]
        rows = self._rows.get(kind)
        if rows is not None:
            row = rows.get(record_id)
            if row is not None:
                return row[0]
        return None

    def put(
        self, kind: str, record_id: str, record: object, index: Mapping[str, str] | None = None
    ) -> None:
        """Insert or replace a record; visible to others only after commit.

        Args:
            kind: The record's kind (e.g. a :class:`o2c.ports.Kind`).
            record_id: Its id within the kind.
            record: The record, stored as given (not None).
            index: ``field -> value`` pairs it can be found by. They replace the
                record's previous index; None means it cannot be found by any field.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: An empty kind or id, a None record or a bad index.
        """
        if self._state is not None:
            raise self._closed("put")
        if not (isinstance(kind, str) and kind and isinstance(record_id, str) and record_id):
            raise _misuse("put", "kind and record_id must be non-empty strings")
        if record is None:
            raise _misuse("put", "record must not be None")
        copied = _check_index(index) if index else None
        staged = self._staged.get(kind)
        if staged is None:
            staged = self._staged[kind] = {}
        previous = staged.get(record_id)
        if previous is None:
            rows = self._rows.get(kind)
            if rows is not None:
                previous = rows.get(record_id)
        if previous is not None:
            ordinal = previous[2]
        else:
            ordinal = self._storage._next_ordinal + self._new_rows
            self._new_rows += 1
        staged[record_id] = (record, copied, ordinal)

    def find(self, kind: str, field: str, value: str) -> list[object]:
        """Records of ``kind`` whose index has ``field == value``, in insertion order.

        Costs O(matches): it reads the index buckets, never scans the kind.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: An argument is not a string.
        """
        if self._state is not None:
            raise self._closed("find")
        if not (isinstance(kind, str) and isinstance(field, str) and isinstance(value, str)):
            raise _misuse("find", "kind, field and value must be strings")
        key = (kind, field, value)
        committed = self._storage._buckets.get(key)
        staged = self._staged.get(kind)
        if not staged:
            if not committed:
                return []
            rows = self._rows[kind]
            return [rows[record_id][0] for record_id in committed]
        # Overlay this unit's writes: cost O(committed matches + writes of this kind).
        hits: list[tuple[int, object]] = []
        if committed:
            rows = self._rows[kind]
            hits.extend(
                (ordinal, rows[record_id][0])
                for record_id, ordinal in committed.items()
                if record_id not in staged  # re-put rows are judged by their new index
            )
        for record, index, ordinal in staged.values():
            if index is not None and index.get(field) == value:
                hits.append((ordinal, record))
        hits.sort(key=_first)
        return [record for _, record in hits]

    def all(self, kind: str) -> list[object]:
        """Every record of ``kind`` (this unit's writes included), in insertion order.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: ``kind`` is not a string.
        """
        if self._state is not None:
            raise self._closed("all")
        if not isinstance(kind, str):
            raise _misuse("all", "kind must be a string")
        rows = self._rows.get(kind)
        staged = self._staged.get(kind)
        if not staged:
            return [] if rows is None else [row[0] for row in rows.values()]
        if rows is None:
            return [row[0] for row in staged.values()]
        get_staged = staged.get
        result = [get_staged(record_id, row)[0] for record_id, row in rows.items()]
        # Records new in this unit come last, in the order they were first put.
        result.extend(row[0] for record_id, row in staged.items() if record_id not in rows)
        return result

    def next_number(self, series: str) -> int:
        """The next number of a gap-free series (1, 2, ...); taken only if this commits.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: ``series`` is not a non-empty string.
        """
        if self._state is not None:
            raise self._closed("next_number")
        _check_name("next_number", "series", series)
        numbers = self._numbers
        if numbers is None:
            numbers = self._numbers = {}
        last = numbers.get(series)
        if last is None:
            last = self._storage._numbers.get(series, 0)
        numbers[series] = last + 1
        return last + 1

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The answer stored under ``key`` (this unit's own first), or None.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: ``key`` is not a string.
        """
        if self._state is not None:
            raise self._closed("get_idempotency")
        if not isinstance(key, str):
            raise _misuse("get_idempotency", "key must be a string")
        staged = self._idempotency
        found = None if staged is None else staged.get(key)
        return found if found is not None else self._storage._idempotency.get(key)

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        """Store an answer under ``record.key``.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: ``record`` is not an :class:`~o2c.ports.IdempotencyRecord`
                with a non-empty key.
            IdempotencyKeyTakenError: The key already has an answer (committed, or
                stored earlier in this unit).
        """
        if self._state is not None:
            raise self._closed("put_idempotency")
        if not isinstance(record, IdempotencyRecord):
            raise _misuse("put_idempotency", "record must be an IdempotencyRecord")
        key = record.key
        _check_name("put_idempotency", "key", key)
        staged = self._idempotency
        if staged is None:
            staged = self._idempotency = {}
        if key in staged or key in self._storage._idempotency:
            raise IdempotencyKeyTakenError(key=key)
        staged[key] = record

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add events to the outbox; they get ``seq`` numbers at commit.

        Raises:
            UnitOfWorkClosedError: The unit is closed.
            StorageUsageError: An item is not a :class:`~o2c.events.DomainEvent`.
        """
        if self._state is not None:
            raise self._closed("append_events")
        # A one-shot iterable would be used up by the check below: take a copy.
        batch = events if isinstance(events, list | tuple) else list(events)
        for event in batch:
            if not isinstance(event, DomainEvent):
                raise _misuse("append_events", f"not a DomainEvent: {type(event).__name__}")
        if self._events is None:
            self._events = []
        self._events.extend(batch)

    def commit(self) -> None:
        """Make every write visible at once and close the unit.

        Raises:
            UnitOfWorkClosedError: The unit is already closed.
        """
        if self._state is not None:
            raise self._closed("commit")
        storage = self._storage
        entries: list[OutboxEntry] | None = None
        if self._events:
            # Everything that allocates or can fail happens before the first change.
            try:
                first = len(storage._outbox) + 1
                entries = [
                    OutboxEntry(seq=seq, event=event)
                    for seq, event in enumerate(self._events, first)
                ]
            except BaseException:
                self._close(_ROLLED_BACK)
                raise
        if self._staged:
            storage._apply_rows(self._staged)
            storage._next_ordinal += self._new_rows
        if self._numbers:
            storage._numbers.update(self._numbers)
        if self._idempotency:
            storage._idempotency.update(self._idempotency)
        if entries:
            storage._outbox.extend(entries)
            storage._pending.update((entry.seq, entry) for entry in entries)
        self._close(_COMMITTED)

    def rollback(self) -> None:
        """Discard every write and close the unit (nothing if already rolled back).

        Raises:
            UnitOfWorkClosedError: The unit was committed.
        """
        if self._state is None:
            self._close(_ROLLED_BACK)
        elif self._state == _COMMITTED:
            raise self._closed("rollback")


if TYPE_CHECKING:  # mypy proves the classes satisfy the ports

    def _is_storage(storage: MemoryStorage) -> Storage:
        return storage

    def _is_unit(uow: MemoryUnitOfWork) -> UnitOfWork:
        return uow
