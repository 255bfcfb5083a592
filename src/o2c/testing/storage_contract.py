"""The storage contract: tests every :class:`o2c.ports.Storage` adapter must pass.

Subclass :class:`StorageContract` in a test module and provide a ``storage`` fixture
that returns a new, empty storage::

    class TestMemoryStorage(StorageContract):
        @pytest.fixture
        def storage(self) -> Storage:
            return MemoryStorage()

The tests use nothing but the :mod:`o2c.ports` Protocols and the typed errors of
:mod:`o2c.errors`, so any adapter can run them unchanged. They never hold two units of
work open at once (the memory storage serialises units in one lock), so "invisible
before commit" is shown through rollback and exceptions. Kinds are
:class:`~o2c.ports.Kind` values, so an adapter may map kinds to tables. Records and
events are the picklable frozen values :class:`Item` and :class:`ItemEvent`.

What the contract asks beyond the Protocol docstrings:

* ``put`` replaces a record's index with the one given (None: not findable).
* A refused call (bad argument, key taken) leaves the unit of work usable.
* ``rollback`` of a rolled-back unit does nothing; every other call on a closed unit
  raises :class:`~o2c.errors.UnitOfWorkClosedError`. Leaving the ``with`` block
  after ``commit`` keeps the commit, even on an exception.
* ``mark_delivered`` of an unknown seq raises :class:`~o2c.errors.StorageUsageError`
  and marks nothing; marking twice does nothing.
"""

# A test suite asserts:
# ruff: noqa: S101

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from o2c.errors import IdempotencyKeyTakenError, StorageUsageError, UnitOfWorkClosedError
from o2c.events import DomainEvent
from o2c.ports import IdempotencyRecord, Kind, Storage, UnitOfWork

__all__ = ["Item", "ItemEvent", "StorageContract", "StorageModelMachine"]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@attrs.frozen
class Item:
    """A record for the contract tests.

    Attributes:
        id: Record id.
        owner: Indexed as ``"owner"``.
        colour: Indexed as ``"colour"``.
        version: Tells a replacement from the original.
    """

    id: str
    owner: str = "ann"
    colour: str = "red"
    version: int = 1

    @property
    def index(self) -> dict[str, str]:
        """The index the contract stores it under."""
        return {"owner": self.owner, "colour": self.colour}


@attrs.frozen(kw_only=True)
class ItemEvent(DomainEvent):
    """An event for the contract tests.

    Attributes:
        n: Tells events apart.
    """

    aggregate: ClassVar[str] = "item"
    n: int


def item_event(n: int) -> ItemEvent:
    """An :class:`ItemEvent` numbered ``n``."""
    return ItemEvent(aggregate_id=f"I-{n}", occurred_at=T0, n=n)


def answer(key: str, result: object = "ok") -> IdempotencyRecord:
    """An idempotency record under ``key``."""
    return IdempotencyRecord(
        key=key,
        operation="contract_call",
        fingerprint=(("key", key),),
        result=result,
        created_at=T0,
    )


def store(storage: Storage, *items: Item, kind: str = Kind.ORDER) -> None:
    """Put ``items`` (with their index) in one committed unit of work."""
    with storage.begin() as uow:
        for item in items:
            uow.put(kind, item.id, item, item.index)
        uow.commit()


def read(storage: Storage, query: Callable[[UnitOfWork], object]) -> object:
    """Run ``query`` in a unit of work that is then rolled back."""
    with storage.begin() as uow:
        return query(uow)


class _BoomError(Exception):
    """Raised inside ``with`` blocks to show that an exception rolls back."""


def _raise_inside(storage: Storage, work: Callable[[UnitOfWork], object]) -> None:
    with storage.begin() as uow:
        work(uow)
        raise _BoomError


def _write_everything(uow: UnitOfWork) -> None:
    uow.put(Kind.ORDER, "I-1", Item("I-1"), Item("I-1").index)
    uow.next_number("invoice")
    uow.put_idempotency(answer("k-1"))
    uow.append_events([item_event(1)])


def _closed_unit(storage: Storage, how: str) -> UnitOfWork:
    uow = storage.begin()
    if how == "commit":
        uow.commit()
    elif how == "rollback":
        uow.rollback()
    else:
        uow.__exit__(None, None, None)
    return uow


def _bad(value: object) -> Any:
    """``value``, typed so that a wrongly typed argument can be passed on purpose."""
    return value


# Every call of a unit of work except rollback, as (name, call).
_UNIT_CALLS: list[tuple[str, Callable[[UnitOfWork], object]]] = [
    ("get", lambda uow: uow.get(Kind.ORDER, "I-1")),
    ("put", lambda uow: uow.put(Kind.ORDER, "I-1", Item("I-1"))),
    ("find", lambda uow: uow.find(Kind.ORDER, "owner", "ann")),
    ("all", lambda uow: uow.all(Kind.ORDER)),
    ("next_number", lambda uow: uow.next_number("invoice")),
    ("get_idempotency", lambda uow: uow.get_idempotency("k-1")),
    ("put_idempotency", lambda uow: uow.put_idempotency(answer("k-1"))),
    ("append_events", lambda uow: uow.append_events([item_event(1)])),
    ("commit", lambda uow: uow.commit()),
]

# Calls with bad arguments, as (name, call); each must raise StorageUsageError.
_BAD_CALLS: list[tuple[str, Callable[[UnitOfWork], object]]] = [
    ("empty id", lambda uow: uow.put(Kind.ORDER, "", Item("I-1"))),
    ("empty kind", lambda uow: uow.put("", "I-1", Item("I-1"))),
    ("None record", lambda uow: uow.put(Kind.ORDER, "I-1", None)),
    ("index value not str", lambda uow: uow.put(Kind.ORDER, "I-1", Item("I-1"), _bad({"n": 1}))),
    ("index not a mapping", lambda uow: uow.put(Kind.ORDER, "I-1", Item("I-1"), _bad(["x"]))),
    ("empty series", lambda uow: uow.next_number("")),
    ("not an answer", lambda uow: uow.put_idempotency(_bad("k-1"))),
    ("not an event", lambda uow: uow.append_events([_bad(object())])),
]


class StorageContract:
    """Tests of the :class:`o2c.ports.Storage` contract; subclasses give ``storage``."""

    # ------------------------------------------------------------------ records

    def test_get_of_unknown_record_is_none(self, storage: Storage) -> None:
        """Nothing stored: get is None, find and all are empty."""
        with storage.begin() as uow:
            assert uow.get(Kind.ORDER, "I-1") is None
            assert uow.find(Kind.ORDER, "owner", "ann") == []
            assert uow.all(Kind.ORDER) == []

    def test_unit_reads_its_own_writes(self, storage: Storage) -> None:
        """get, find and all see a put of the same unit before commit."""
        item = Item("I-1")
        with storage.begin() as uow:
            uow.put(Kind.ORDER, item.id, item, item.index)
            assert uow.get(Kind.ORDER, "I-1") == item
            assert uow.find(Kind.ORDER, "owner", "ann") == [item]
            assert uow.all(Kind.ORDER) == [item]

    def test_committed_record_is_visible_to_later_units(self, storage: Storage) -> None:
        """A committed record is read back equal, by id, index and kind."""
        item = Item("I-1", owner="bob", colour="blue", version=3)
        store(storage, item)
        assert read(storage, lambda uow: uow.get(Kind.ORDER, "I-1")) == item
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "colour", "blue")) == [item]
        assert read(storage, lambda uow: uow.all(Kind.ORDER)) == [item]

    def test_rolled_back_record_is_invisible(self, storage: Storage) -> None:
        """An explicit rollback discards the put."""
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-1", Item("I-1"), Item("I-1").index)
            uow.rollback()
        assert read(storage, lambda uow: uow.get(Kind.ORDER, "I-1")) is None
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "ann")) == []

    def test_exception_in_block_discards_writes(self, storage: Storage) -> None:
        """An exception leaving the with block rolls back, and propagates."""
        store(storage, Item("I-1"))
        with pytest.raises(_BoomError):
            _raise_inside(storage, _write_everything)
        assert read(storage, lambda uow: uow.all(Kind.ORDER)) == [Item("I-1")]
        assert read(storage, lambda uow: uow.get_idempotency("k-1")) is None
        assert storage.pending_events() == []

    def test_block_left_without_commit_discards_writes(self, storage: Storage) -> None:
        """Commit is explicit: a block that does not commit rolls back."""
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-1", Item("I-1"))
        assert read(storage, lambda uow: uow.all(Kind.ORDER)) == []

    def test_put_replaces_and_keeps_position(self, storage: Storage) -> None:
        """A re-put replaces the record where it stood in insertion order."""
        store(storage, Item("I-1"), Item("I-2"), Item("I-3"))
        store(storage, Item("I-2", version=2))
        expected = [Item("I-1"), Item("I-2", version=2), Item("I-3")]
        assert read(storage, lambda uow: uow.all(Kind.ORDER)) == expected
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-1", Item("I-1", version=5), Item("I-1").index)
            assert uow.all(Kind.ORDER) == [Item("I-1", version=5), *expected[1:]]
            assert uow.get(Kind.ORDER, "I-1") == Item("I-1", version=5)

    def test_all_lists_every_unit_in_insertion_order(self, storage: Storage) -> None:
        """Records of later units, and of the open unit, come after earlier ones."""
        store(storage, Item("I-b"), Item("I-a"))
        store(storage, Item("I-c"))
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-0", Item("I-0"))
            uow.put(Kind.ORDER, "I-a", Item("I-a", version=2))
            uow.put(Kind.ORDER, "I-z", Item("I-z"))
            assert [item.id for item in uow.all(Kind.ORDER)] == [  # type: ignore[attr-defined]
                "I-b",
                "I-a",
                "I-c",
                "I-0",
                "I-z",
            ]
            uow.commit()
        ids = read(storage, lambda uow: [item.id for item in uow.all(Kind.ORDER)])  # type: ignore[attr-defined]
        assert ids == ["I-b", "I-a", "I-c", "I-0", "I-z"]

    def test_kinds_are_separate(self, storage: Storage) -> None:
        """The same id in two kinds names two records."""
        store(storage, Item("X-1", version=1), kind=Kind.ORDER)
        store(storage, Item("X-1", version=2), kind=Kind.INVOICE)
        assert read(storage, lambda uow: uow.get(Kind.ORDER, "X-1")) == Item("X-1")
        assert read(storage, lambda uow: uow.get(Kind.INVOICE, "X-1")) == Item("X-1", version=2)
        assert read(storage, lambda uow: uow.all(Kind.SHIPMENT)) == []
        assert read(storage, lambda uow: uow.find(Kind.INVOICE, "owner", "ann")) == [
            Item("X-1", version=2)
        ]

    def test_find_by_each_index_field_in_insertion_order(self, storage: Storage) -> None:
        """find matches one field's value exactly, oldest record first."""
        a, b = Item("I-1", "ann", "red"), Item("I-2", "bob", "red")
        c, d = Item("I-3", "ann", "blue"), Item("I-4", "ann", "red")
        store(storage, a, b)
        store(storage, c, d)
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "ann")) == [a, c, d]
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "colour", "red")) == [a, b, d]
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "cy")) == []
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "size", "ann")) == []
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "Ann")) == []

    def test_find_follows_a_committed_reindex(self, storage: Storage) -> None:
        """A re-put under a new value moves the record, in insertion order."""
        a, b, c = Item("I-1", "ann"), Item("I-2", "bob"), Item("I-3", "bob")
        store(storage, a, b, c)
        moved = Item("I-1", "bob", version=2)
        store(storage, moved)
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "ann")) == []
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "bob")) == [moved, b, c]
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "colour", "red")) == [moved, b, c]

    def test_find_overlays_the_units_writes(self, storage: Storage) -> None:
        """Inside a unit, find sees staged moves in and out, in insertion order."""
        a, b, c = Item("I-1", "ann"), Item("I-2", "bob"), Item("I-3", "ann")
        store(storage, a, b, c)
        with storage.begin() as uow:
            b2 = Item("I-2", "ann", version=2)  # moves in
            c2 = Item("I-3", "bob", version=2)  # moves out
            d = Item("I-4", "ann")  # new
            for item in (d, c2, b2):
                uow.put(Kind.ORDER, item.id, item, item.index)
            assert uow.find(Kind.ORDER, "owner", "ann") == [a, b2, d]
            assert uow.find(Kind.ORDER, "owner", "bob") == [c2]
            c3 = Item("I-3", "ann", version=3)  # and back in
            uow.put(Kind.ORDER, c3.id, c3, c3.index)
            assert uow.find(Kind.ORDER, "owner", "ann") == [a, b2, c3, d]
            assert uow.find(Kind.ORDER, "owner", "bob") == []
            uow.commit()
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "ann")) == [a, b2, c3, d]

    def test_put_without_index_is_not_findable(self, storage: Storage) -> None:
        """The index given replaces the old one; None removes every entry."""
        store(storage, Item("I-1"))
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-1", Item("I-1", version=2))
            assert uow.find(Kind.ORDER, "owner", "ann") == []
            uow.put(Kind.ORDER, "I-2", Item("I-2"), {"owner": "ann"})
            assert uow.find(Kind.ORDER, "owner", "ann") == [Item("I-2")]
            assert uow.find(Kind.ORDER, "colour", "red") == []
            uow.commit()
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "owner", "ann")) == [Item("I-2")]
        assert read(storage, lambda uow: uow.find(Kind.ORDER, "colour", "red")) == []
        assert read(storage, lambda uow: uow.get(Kind.ORDER, "I-1")) == Item("I-1", version=2)

    # ------------------------------------------------------------------ numbers

    def test_next_number_counts_from_one_within_a_unit(self, storage: Storage) -> None:
        """Two calls in one unit give n and n + 1; series are independent."""
        with storage.begin() as uow:
            assert [uow.next_number("invoice") for _ in range(3)] == [1, 2, 3]
            assert uow.next_number("credit_note") == 1
            uow.commit()
        with storage.begin() as uow:
            assert uow.next_number("invoice") == 4
            assert uow.next_number("credit_note") == 2

    def test_numbers_are_gap_free_across_rollbacks(self, storage: Storage) -> None:
        """Numbers taken by a unit that does not commit are issued again."""
        with storage.begin() as uow:
            assert uow.next_number("invoice") == 1
            uow.commit()
        with storage.begin() as uow:
            assert uow.next_number("invoice") == 2
            uow.rollback()
        with pytest.raises(_BoomError):
            _raise_inside(storage, lambda uow: uow.next_number("invoice"))
        with storage.begin() as uow:
            assert uow.next_number("invoice") == 2
            uow.commit()
        assert read(storage, lambda uow: uow.next_number("invoice")) == 3

    # ------------------------------------------------------------------ idempotency

    def test_idempotency_round_trip(self, storage: Storage) -> None:
        """An answer is readable in its own unit and, once committed, in later ones."""
        record = answer("k-1", result=Item("I-1"))
        with storage.begin() as uow:
            assert uow.get_idempotency("k-1") is None
            uow.put_idempotency(record)
            assert uow.get_idempotency("k-1") == record
            uow.commit()
        assert read(storage, lambda uow: uow.get_idempotency("k-1")) == record
        assert read(storage, lambda uow: uow.get_idempotency("k-2")) is None

    def test_idempotency_key_taken_in_same_unit(self, storage: Storage) -> None:
        """A second answer under a key stored earlier in the unit is refused."""
        with storage.begin() as uow:
            uow.put_idempotency(answer("k-1"))
            with pytest.raises(IdempotencyKeyTakenError) as caught:
                uow.put_idempotency(answer("k-1", result="other"))
            assert caught.value.key == "k-1"
            assert uow.get_idempotency("k-1") == answer("k-1")
            uow.commit()
        assert read(storage, lambda uow: uow.get_idempotency("k-1")) == answer("k-1")

    def test_idempotency_key_taken_after_commit(self, storage: Storage) -> None:
        """A committed answer is never replaced; the refusal leaves the unit usable."""
        with storage.begin() as uow:
            uow.put_idempotency(answer("k-1"))
            uow.commit()
        with storage.begin() as uow:
            with pytest.raises(IdempotencyKeyTakenError):
                uow.put_idempotency(answer("k-1", result="other"))
            uow.put_idempotency(answer("k-2"))
            uow.commit()
        assert read(storage, lambda uow: uow.get_idempotency("k-1")) == answer("k-1")
        assert read(storage, lambda uow: uow.get_idempotency("k-2")) == answer("k-2")

    def test_rolled_back_key_is_free(self, storage: Storage) -> None:
        """An answer of a rolled-back unit is gone; the key can be used again."""
        with storage.begin() as uow:
            uow.put_idempotency(answer("k-1", result="lost"))
            uow.rollback()
        with storage.begin() as uow:
            assert uow.get_idempotency("k-1") is None
            uow.put_idempotency(answer("k-1"))
            uow.commit()
        assert read(storage, lambda uow: uow.get_idempotency("k-1")) == answer("k-1")

    # ------------------------------------------------------------------ outbox

    def test_events_get_increasing_seqs_in_commit_order(self, storage: Storage) -> None:
        """Committed events are pending, in commit order, with increasing seqs."""
        with storage.begin() as uow:
            uow.append_events([item_event(1), item_event(2)])
            uow.append_events([item_event(3)])
            uow.commit()
        with storage.begin() as uow:
            uow.append_events((item_event(4),))
            uow.commit()
        pending = storage.pending_events()
        assert [entry.event for entry in pending] == [item_event(n) for n in (1, 2, 3, 4)]
        seqs = [entry.seq for entry in pending]
        assert seqs == sorted(set(seqs))

    def test_uncommitted_events_never_become_pending(self, storage: Storage) -> None:
        """Events of rolled-back units are dropped; later events are unaffected."""
        with storage.begin() as uow:
            uow.append_events([item_event(1)])
            uow.rollback()
        with pytest.raises(_BoomError):
            _raise_inside(storage, lambda uow: uow.append_events([item_event(2)]))
        assert storage.pending_events() == []
        with storage.begin() as uow:
            uow.append_events([item_event(3)])
            uow.commit()
        assert [entry.event for entry in storage.pending_events()] == [item_event(3)]

    def test_pending_events_limit(self, storage: Storage) -> None:
        """``limit`` keeps the oldest entries; 0 gives none."""
        with storage.begin() as uow:
            uow.append_events([item_event(n) for n in range(5)])
            uow.commit()
        everything = storage.pending_events()
        assert len(everything) == 5
        assert storage.pending_events(limit=2) == everything[:2]
        assert storage.pending_events(limit=0) == []
        assert storage.pending_events(limit=50) == everything

    def test_mark_delivered(self, storage: Storage) -> None:
        """Delivered entries leave the pending list; the rest keep their order."""
        with storage.begin() as uow:
            uow.append_events([item_event(n) for n in range(4)])
            uow.commit()
        first, second, third, fourth = storage.pending_events()
        storage.mark_delivered([second.seq])
        assert storage.pending_events() == [first, third, fourth]
        storage.mark_delivered([second.seq, first.seq])  # marking twice does nothing
        assert storage.pending_events() == [third, fourth]
        assert storage.pending_events(limit=1) == [third]
        storage.mark_delivered([])
        storage.mark_delivered([third.seq, fourth.seq])
        assert storage.pending_events() == []

    def test_mark_delivered_refuses_unknown_seq(self, storage: Storage) -> None:
        """An unknown seq is refused and nothing is marked."""
        with storage.begin() as uow:
            uow.append_events([item_event(1)])
            uow.commit()
        (entry,) = storage.pending_events()
        with pytest.raises(StorageUsageError):
            storage.mark_delivered([entry.seq, entry.seq + 1000])
        assert storage.pending_events() == [entry]

    def test_pending_events_refuses_negative_limit(self, storage: Storage) -> None:
        """A negative limit is a typed error."""
        with pytest.raises(StorageUsageError):
            storage.pending_events(limit=-1)

    # ------------------------------------------------------------------ rollback

    def test_rollback_discards_everything(self, storage: Storage) -> None:
        """Records, numbers, answers and events of a rolled-back unit all vanish."""
        with storage.begin() as uow:
            _write_everything(uow)
            uow.rollback()
        with storage.begin() as uow:
            assert uow.get(Kind.ORDER, "I-1") is None
            assert uow.find(Kind.ORDER, "owner", "ann") == []
            assert uow.all(Kind.ORDER) == []
            assert uow.next_number("invoice") == 1
            assert uow.get_idempotency("k-1") is None
        assert storage.pending_events() == []

    def test_commit_makes_everything_visible(self, storage: Storage) -> None:
        """The same writes, committed, are all there."""
        with storage.begin() as uow:
            _write_everything(uow)
            uow.commit()
        with storage.begin() as uow:
            assert uow.get(Kind.ORDER, "I-1") == Item("I-1")
            assert uow.next_number("invoice") == 2
            assert uow.get_idempotency("k-1") == answer("k-1")
        assert [entry.event for entry in storage.pending_events()] == [item_event(1)]

    # ------------------------------------------------------------------ closed units

    @pytest.mark.parametrize("how", ["commit", "rollback", "exit"])
    @pytest.mark.parametrize(("name", "call"), _UNIT_CALLS, ids=[n for n, _ in _UNIT_CALLS])
    def test_closed_unit_refuses_use(
        self, storage: Storage, how: str, name: str, call: Callable[[UnitOfWork], object]
    ) -> None:
        """Every call but rollback on a committed or rolled-back unit is refused."""
        uow = _closed_unit(storage, how)
        with pytest.raises(UnitOfWorkClosedError) as caught:
            call(uow)
        assert caught.value.operation == name
        # The refusal changed nothing and left the storage usable.
        assert read(storage, lambda fresh: fresh.all(Kind.ORDER)) == []

    def test_rollback_twice_is_harmless(self, storage: Storage) -> None:
        """Cleanup code may roll back a unit that already rolled back."""
        uow = _closed_unit(storage, "rollback")
        uow.rollback()
        uow.__exit__(None, None, None)
        store(storage, Item("I-1"))
        assert read(storage, lambda fresh: fresh.get(Kind.ORDER, "I-1")) == Item("I-1")

    def test_rollback_after_commit_is_refused(self, storage: Storage) -> None:
        """A commit cannot be undone; trying it is a typed error and changes nothing."""
        with storage.begin() as uow:
            uow.put(Kind.ORDER, "I-1", Item("I-1"))
            uow.commit()
            with pytest.raises(UnitOfWorkClosedError):
                uow.rollback()
        assert read(storage, lambda fresh: fresh.get(Kind.ORDER, "I-1")) == Item("I-1")

    def test_exception_after_commit_keeps_the_commit(self, storage: Storage) -> None:
        """Leaving the block by an exception after commit does not undo it."""

        def commit_then_fail(uow: UnitOfWork) -> None:
            uow.put(Kind.ORDER, "I-1", Item("I-1"))
            uow.commit()

        with pytest.raises(_BoomError):
            _raise_inside(storage, commit_then_fail)
        assert read(storage, lambda fresh: fresh.get(Kind.ORDER, "I-1")) == Item("I-1")

    # ------------------------------------------------------------------ bad input

    @pytest.mark.parametrize(("name", "call"), _BAD_CALLS, ids=[n for n, _ in _BAD_CALLS])
    def test_bad_arguments_are_refused(
        self, storage: Storage, name: str, call: Callable[[UnitOfWork], object]
    ) -> None:
        """A bad argument is a typed error; the unit stays usable and nothing is stored."""
        with storage.begin() as uow:
            with pytest.raises(StorageUsageError):
                call(uow)
            uow.put(Kind.INVOICE, "ok", Item("ok"))
            uow.commit()
        with storage.begin() as uow:
            assert uow.all(Kind.ORDER) == [], name
            assert uow.all(Kind.INVOICE) == [Item("ok")]
            assert uow.next_number("invoice") == 1
            assert uow.get_idempotency("k-1") is None
        assert storage.pending_events() == []

    # ------------------------------------------------------------------ model

    def test_behaves_like_a_dict_model(self, storage: Storage) -> None:
        """Random sequences of calls agree with :class:`StorageModelMachine`'s model."""

        class Bound(StorageModelMachine):
            target = storage

        run_state_machine_as_test(Bound)


# --------------------------------------------------------------------------- model machine

_KINDS = (Kind.ORDER, Kind.INVOICE)
_IDS = ("a", "b", "c", "d")
_VALUES = ("x", "y", "z")
_SERIES = ("s", "t")
_KEYS = ("k", "l", "m")
_Row = tuple[Item, dict[str, str] | None]
# One put: (kind, id, owner, colour, which index fields).
_PUT = st.tuples(
    st.sampled_from(_KINDS),
    st.sampled_from(_IDS),
    st.sampled_from(_VALUES),
    st.sampled_from(_VALUES),
    st.sampled_from(("both", "owner", "none")),
)


@attrs.define
class _Model:
    """The expected state: plain dicts and lists."""

    records: dict[str, dict[str, _Row]] = attrs.field(factory=dict)
    numbers: dict[str, int] = attrs.field(factory=dict)
    answers: dict[str, IdempotencyRecord] = attrs.field(factory=dict)
    events: list[ItemEvent] = attrs.field(factory=list)  # committed, not delivered

    def copy(self) -> _Model:
        return _Model(
            records={kind: dict(rows) for kind, rows in self.records.items()},
            numbers=dict(self.numbers),
            answers=dict(self.answers),
            events=list(self.events),
        )


class StorageModelMachine(RuleBasedStateMachine):
    """Drives a storage and a dict model with the same random calls and compares them.

    Subclasses set ``target``. Every run works under its own id prefix and first marks
    every pending event delivered, so runs may share one storage. Calls that need a
    unit of work open one when none is open; after every step an open unit's
    ``all`` and ``find`` results are checked against the model.
    """

    target: ClassVar[Storage]
    _runs = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.storage = self.target
        self.prefix = f"m{next(self._runs)}-"
        self.uow: UnitOfWork | None = None
        self.committed = _Model()
        self.staged = _Model()
        self.event_numbers = itertools.count()
        while batch := self.storage.pending_events():
            self.storage.mark_delivered([entry.seq for entry in batch])

    def teardown(self) -> None:
        """Never leave a unit of work open (it would hold the storage's lock)."""
        if self.uow is not None:
            self.uow.rollback()

    def _unit(self) -> UnitOfWork:
        if self.uow is None:
            self.uow = self.storage.begin()
            self.staged = self.committed.copy()
        return self.uow

    def _close(self, *, committed: bool) -> None:
        if committed:
            self.committed = self.staged
        self.uow = None

    def _mine(self, records: list[object]) -> list[object]:
        return [r for r in records if isinstance(r, Item) and r.id.startswith(self.prefix)]

    def _put(self, kind: str, record_id: str, owner: str, colour: str, indexed: str) -> None:
        p = self.prefix
        item = Item(p + record_id, p + owner, p + colour, next(self.event_numbers))
        index = {"both": item.index, "owner": {"owner": item.owner}, "none": None}[indexed]
        self._unit().put(kind, item.id, item, index)
        self.staged.records.setdefault(kind, {})[item.id] = (item, index)

    @initialize(puts=st.lists(_PUT, max_size=6))
    def seed(self, puts: list[tuple[str, str, str, str, str]]) -> None:
        """Start from a few committed records."""
        for put in puts:
            self._put(*put)
        if self.uow is not None:
            self.commit()

    @rule(puts=st.lists(_PUT, min_size=1, max_size=3))
    def put(self, puts: list[tuple[str, str, str, str, str]]) -> None:
        """Put records with both, one or no index fields."""
        for put in puts:
            self._put(*put)

    @rule(kind=st.sampled_from(_KINDS), record_id=st.sampled_from(_IDS))
    def get(self, kind: str, record_id: str) -> None:
        """Read one record."""
        uow = self._unit()
        row = self.staged.records.get(kind, {}).get(self.prefix + record_id)
        expected = None if row is None else row[0]
        assert uow.get(kind, self.prefix + record_id) == expected

    @rule(
        kind=st.sampled_from(_KINDS),
        field=st.sampled_from(("owner", "colour")),
        value=st.sampled_from(_VALUES),
    )
    def find(self, kind: str, field: str, value: str) -> None:
        """Find by an index field."""
        uow = self._unit()
        wanted = self.prefix + value
        expected = [
            item
            for item, index in self.staged.records.get(kind, {}).values()
            if index is not None and index.get(field) == wanted
        ]
        assert uow.find(kind, field, wanted) == expected

    @invariant()
    def reads_agree(self) -> None:
        """In an open unit, ``all`` and ``find`` by owner agree with the model."""
        if self.uow is None:
            return
        for kind in _KINDS:
            rows = self.staged.records.get(kind, {})
            assert self._mine(self.uow.all(kind)) == [item for item, _ in rows.values()]
            for value in _VALUES:
                wanted = self.prefix + value
                expected = [
                    item
                    for item, index in rows.values()
                    if index is not None and index["owner"] == wanted
                ]
                assert self.uow.find(kind, "owner", wanted) == expected

    @rule(series=st.sampled_from(_SERIES))
    def next_number(self, series: str) -> None:
        """Take a number."""
        uow = self._unit()
        expected = self.staged.numbers.get(series, 0) + 1
        assert uow.next_number(self.prefix + series) == expected
        self.staged.numbers[series] = expected

    @rule(key=st.sampled_from(_KEYS), result=st.integers(0, 3))
    def put_idempotency(self, key: str, result: int) -> None:
        """Store an answer; a taken key is refused and changes nothing."""
        uow = self._unit()
        record = answer(self.prefix + key, result=result)
        if key in self.staged.answers:
            with pytest.raises(IdempotencyKeyTakenError):
                uow.put_idempotency(record)
        else:
            uow.put_idempotency(record)
            self.staged.answers[key] = record

    @rule(key=st.sampled_from(_KEYS))
    def get_idempotency(self, key: str) -> None:
        """Read an answer."""
        uow = self._unit()
        assert uow.get_idempotency(self.prefix + key) == self.staged.answers.get(key)

    @rule(count=st.integers(0, 3))
    def append_events(self, count: int) -> None:
        """Append events."""
        events = [item_event(next(self.event_numbers)) for _ in range(count)]
        self._unit().append_events(events)
        self.staged.events.extend(events)

    @precondition(lambda self: self.uow is not None)
    @rule()
    def commit(self) -> None:
        """Commit."""
        self._unit().commit()
        self._close(committed=True)

    @precondition(lambda self: self.uow is not None)
    @rule(how=st.sampled_from(("rollback", "exception", "no commit")))
    def abandon(self, how: str) -> None:
        """Roll back explicitly, or leave the with block by an exception or without commit."""
        uow = self._unit()
        if how == "rollback":
            uow.rollback()
        elif how == "exception":
            uow.__exit__(_BoomError, _BoomError(), None)
        else:
            uow.__exit__(None, None, None)
        self._close(committed=False)

    @precondition(lambda self: self.uow is None)
    @rule(limit=st.integers(0, 4))
    def deliver(self, limit: int) -> None:
        """Read and mark delivered the oldest pending events."""
        batch = self.storage.pending_events(limit=limit)
        assert [entry.event for entry in batch] == self.committed.events[:limit]
        seqs = [entry.seq for entry in batch]
        assert seqs == sorted(set(seqs))
        self.storage.mark_delivered(seqs)
        del self.committed.events[:limit]

    @precondition(lambda self: self.uow is None)
    @rule()
    def outbox_matches(self) -> None:
        """Every pending event is one the model expects, in order."""
        pending = self.storage.pending_events(limit=10_000)
        assert [entry.event for entry in pending] == self.committed.events
