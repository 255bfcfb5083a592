"""The engine's machinery: configuration, commands, idempotency, the outbox.

Every mutating engine call is a *command*: it runs inside one unit of work, under an
idempotency key, and either commits everything it changed (records, the idempotency
record, the outbox events) or nothing.

* **Replays**: a key seen before returns the stored first result, whatever the state
  is now; the same key with another operation or any argument changed raises
  :class:`~o2c.errors.IdempotencyConflictError` naming the first differing field. A
  call that raised stored nothing, so its key can be used again (Stripe's rule for
  requests that failed validation).
* **Outside effects** (gateway charges, carrier labels) are made *before* the unit of
  work commits, under keys derived from the command's key. If storing then fails, a
  retry under the same key reaches the gateway or carrier with the same derived key
  and gets the first answer back instead of a second charge or label.
* **Events** go to the outbox in the same unit of work and are delivered to the
  ``o2c_handle_event`` hook after commit, at least once, in outbox order. A subscriber
  that raises stops delivery at that entry; it stays pending for
  :meth:`EngineCore.dispatch_events`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Generic, TypeVar

import attrs

from o2c.clock import Clock, SystemClock
from o2c.errors import (
    ConfigurationError,
    IdempotencyConflictError,
    InvalidIdempotencyKeyError,
    NotFoundError,
    UnknownAdapterError,
)
from o2c.events import DomainEvent
from o2c.money import Money
from o2c.payments import DEFAULT_RECONCILIATION_SCHEDULE
from o2c.ports import (
    Carrier,
    FulfilmentProvider,
    IdempotencyRecord,
    Inventory,
    Notification,
    Notifier,
    PaymentGateway,
    Storage,
    TaxProvider,
    UnitOfWork,
)
from o2c.rates import Quote
from o2c.terms import PaymentTerms, end_of_month, net, two_ten_net_thirty

__all__ = ["EngineConfig", "EngineCore", "Tx", "default_terms"]

log = logging.getLogger("o2c.engine")

R = TypeVar("R")
T = TypeVar("T")

MAX_KEY_LENGTH = 255


def default_terms() -> dict[str, PaymentTerms]:
    """The payment terms a customer's ``payment_terms`` code can name by default."""
    return {
        "DUE": net(0, code="DUE", name="Due on receipt"),
        "NET14": net(14, code="NET14"),
        "NET30": net(30, code="NET30"),
        "NET60": net(60, code="NET60"),
        "EOM": end_of_month(code="EOM"),
        "2/10NET30": two_ten_net_thirty(),
    }


def _to_schedule(value: object) -> tuple[timedelta, ...]:
    steps = tuple(value) if isinstance(value, list | tuple) else ()
    if not steps or not all(isinstance(s, timedelta) and s > timedelta(0) for s in steps):
        raise ConfigurationError(
            "reconciliation_schedule is a sequence of one or more positive timedeltas",
            setting="reconciliation_schedule",
            value=value,
        )
    return steps


def _check_max_attempts(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(
            "reconciliation_max_attempts is an int of at least 1",
            setting="reconciliation_max_attempts",
            value=value,
        )


@attrs.frozen(kw_only=True)
class EngineConfig:
    """How the engine numbers, reserves and bills.

    Attributes:
        invoice_series: Numbering series of invoices.
        credit_note_series: Numbering series of credit notes.
        number_format: How a series number is written (``series`` and ``number``).
        reservation_ttl: How long stock stays reserved for an unshipped order; None
            keeps reservations until shipped, released or cancelled.
        payment_terms: Terms by code (a customer's ``payment_terms`` names one).
        default_terms: Code used when a customer names none.
        credit_authorities: Roles allowed to override credit decisions (None: any).
        default_weight_grams: Weight of one unit of a SKU not in ``weights``.
        weights: Unit weight in grams per SKU, for carrier rates.
        dispute_response_days: Days to answer a deduction before it lapses.
        reconciliation_schedule: How long the payment reconciler waits before asking
            the gateway again about a transaction in flight, after each answer; the
            last delay repeats (default 5 minutes, 1 hour, then daily).
        reconciliation_max_attempts: Answers recorded for a transaction (its first
            answer included) after which the reconciler stops asking and flags the
            payment for a person (default 8: the first answer and seven asks, about
            five days with the default schedule).
        webhook_secrets: Signing secrets per gateway name, for
            :meth:`~o2c.engine.O2C.receive_webhook`; several while one is rotated.
        webhook_tolerance: How far a webhook's signed timestamp may lie from now,
            in either direction (default 300 s).
        webhook_max_body_bytes: Larger webhook bodies are refused unread (default 1 MiB).
        rate_rule: How ``ship`` chooses among carriers' quotes: ``"cheapest"``,
            ``"fastest"``, or a callable given the quotes (cheapest first) returning
            one (None: cheapest); an ``o2c_choose_rate`` plugin is asked first
            (docs/shipping.md).
        hand_over_on_ship: ``ship`` records the hand-over at once (default); False
            leaves a labelled shipment waiting for the carrier's pick-up scan or
            ``hand_over_shipment``, so its label can still be voided.
        label_key_prefix: Starts every label key o2c gives carriers; give each o2c
            store sharing a carrier account its own.
        fulfilment_sla: How long a fulfilment provider has to ship what it was sent
            before the fulfilment order is overdue (default 2 days).
    """

    invoice_series: str = "INV"
    credit_note_series: str = "CN"
    number_format: str = "{series}-{number:06d}"
    reservation_ttl: timedelta | None = None
    payment_terms: Mapping[str, PaymentTerms] = attrs.field(factory=default_terms)
    default_terms: str = "NET30"
    credit_authorities: frozenset[str] | None = None
    default_weight_grams: int = 500
    weights: Mapping[str, int] = attrs.field(factory=dict)
    dispute_response_days: int = 14
    reconciliation_schedule: tuple[timedelta, ...] = attrs.field(
        default=DEFAULT_RECONCILIATION_SCHEDULE, converter=_to_schedule
    )
    reconciliation_max_attempts: int = attrs.field(default=8, validator=_check_max_attempts)
    # issue 4, inbound webhooks (o2c.engine.inbound, docs/webhooks.md)
    webhook_secrets: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    webhook_tolerance: timedelta = timedelta(seconds=300)
    webhook_max_body_bytes: int = 1 << 20
    # issue 4, carriers and fulfilment providers (o2c.engine.logistics, docs/shipping.md)
    rate_rule: str | Callable[[Sequence[Quote]], Quote | None] = "cheapest"
    hand_over_on_ship: bool = True
    label_key_prefix: str = "o2c"
    fulfilment_sla: timedelta = timedelta(days=2)

    def terms_for(self, code: str | None) -> PaymentTerms:
        """The terms a code names (the default code when None)."""
        wanted = code or self.default_terms
        try:
            return self.payment_terms[wanted]
        except KeyError:
            raise ConfigurationError(
                f"no payment terms with code {wanted!r}",
                setting="payment_terms",
                value=wanted,
            ) from None


def _canonical(value: object) -> str:
    # A stable text for a command argument, equal for equal values however they were
    # written: mappings and sets sorted, numbers normalised (2, 2.0 and Decimal("2.00")
    # are one quantity; Money("20") is Money("20.00")), attrs values field by field.
    if isinstance(value, Money):
        return f"Money({_number(value.amount)}, {value.currency})"
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return _number(Decimal(value))
    if isinstance(value, str):
        return repr(str(value))  # a StrEnum member is its value
    if isinstance(value, Mapping):
        items = sorted((_canonical(k), _canonical(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_canonical(v) for v in value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_canonical(v) for v in value) + "]"
    names = _attrs_names(type(value))
    if names is not None:
        inner = ", ".join([f"{n}={_canonical(getattr(value, n))}" for n in names])
        return f"{type(value).__name__}({inner})"
    return repr(value)


_NAMES: dict[type, tuple[str, ...] | None] = {}


def _attrs_names(cls: type) -> tuple[str, ...] | None:
    # Field names of an attrs class (None for any other class), looked up once.
    try:
        return _NAMES[cls]
    except KeyError:
        found = getattr(cls, "__attrs_attrs__", None)
        names = tuple(a.name for a in found) if found is not None else None
        _NAMES[cls] = names
        return names


def _number(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def fingerprint(fields: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """One ``(name, canonical text)`` pair per argument."""
    return tuple((name, _canonical(value)) for name, value in fields.items())


def check_key(key: object) -> str:
    """Validate an idempotency key: 1-255 printable ASCII, no surrounding spaces."""
    if (
        not isinstance(key, str)
        or not 1 <= len(key) <= MAX_KEY_LENGTH
        or key != key.strip()
        or not all(" " <= ch <= "~" for ch in key)
    ):
        raise InvalidIdempotencyKeyError(key=repr(key)[:80])
    return key


def derive_key(key: str, suffix: str) -> str:
    """A key for an outside call made by the command under ``key``.

    Retrying the command derives the same key, so the gateway or carrier answers
    the retry with its first answer.
    """
    derived = f"{key}|{suffix}"
    if len(derived) <= MAX_KEY_LENGTH:
        return derived
    return "o2c-" + hashlib.sha256(derived.encode()).hexdigest()


class Repo(Generic[T]):
    """A typed view of one kind of record inside a unit of work (ports.Repository)."""

    __slots__ = ("_index", "_kind", "_uow")

    def __init__(self, uow: UnitOfWork, kind: str, index: Callable[[T], Mapping[str, str]]) -> None:
        self._uow = uow
        self._kind = kind
        self._index = index

    def get(self, record_id: str) -> T | None:
        """The record or None."""
        return self._uow.get(self._kind, record_id)  # type: ignore[return-value]

    def require(self, record_id: str) -> T:
        """The record, or NotFoundError."""
        found = self._uow.get(self._kind, record_id)
        if found is None:
            raise NotFoundError(f"no {self._kind} {record_id!r}", kind=self._kind, id=record_id)
        return found  # type: ignore[return-value]

    def put(self, record: T) -> None:
        """Insert or replace (by the record's ``id``)."""
        self._uow.put(self._kind, record.id, record, self._index(record))  # type: ignore[attr-defined]

    def find(self, field: str, value: str) -> list[T]:
        """Records whose index field equals ``value``."""
        return self._uow.find(self._kind, field, value)  # type: ignore[return-value]

    def all(self) -> list[T]:
        """Every record of the kind."""
        return self._uow.all(self._kind)  # type: ignore[return-value]


class Tx:
    """One command's working state: its unit of work, instant and events."""

    __slots__ = ("events", "key", "notifications", "notifying", "now", "released", "uow")

    def __init__(
        self, uow: UnitOfWork, now: datetime, key: str, *, notifying: bool = False
    ) -> None:
        self.uow = uow
        self.now = now
        self.key = key
        #: True when a notifier listens; callers skip composing text otherwise.
        self.notifying = notifying
        self.events: list[DomainEvent] = []
        self.notifications: list[Notification] = []
        #: Disputes opened in this unit from webhooks parked until a payment fit them.
        self.released: list[str] = []

    def emit(self, events: Sequence[DomainEvent]) -> None:
        """Record events caused by this command."""
        self.events.extend(events)

    def notify(
        self, kind: str, customer_id: str, *, subject: str, body: str, locale: str, related_id: str
    ) -> None:
        """Queue a notification; it is sent only after this command commits."""
        self.notifications.append(
            Notification(
                kind=kind,
                customer_id=customer_id,
                subject=subject,
                body=body,
                locale=locale,
                related_id=related_id,
            )
        )

    def number(self, series: str, fmt: str = "{series}-{number:06d}") -> str:
        """The next gap-free number of ``series``, formatted."""
        return fmt.format(series=series, number=self.uow.next_number(series))


class EngineCore:
    """Adapters, configuration and the command runner shared by every engine part."""

    storage: Storage
    clock: Clock
    config: EngineConfig
    inventory: Inventory
    gateways: dict[str, PaymentGateway]
    carriers: dict[str, Carrier]
    fulfilment_providers: dict[str, FulfilmentProvider]
    tax: TaxProvider | None
    notifier: Notifier | None

    def _init_core(
        self,
        *,
        storage: Storage,
        clock: Clock | None,
        config: EngineConfig | None,
        inventory: Inventory,
        gateways: Mapping[str, PaymentGateway],
        carriers: Mapping[str, Carrier],
        fulfilment_providers: Mapping[str, FulfilmentProvider] | None = None,
        tax: TaxProvider | None,
        notifier: Notifier | None,
        deliver_event: Callable[[DomainEvent, int], None] | None,
    ) -> None:
        self.storage = storage
        self.clock = clock or SystemClock()
        self.config = config or EngineConfig()
        self.inventory = inventory
        self.gateways = dict(gateways)
        self.carriers = dict(carriers)
        self.fulfilment_providers = dict(fulfilment_providers or {})
        self.tax = tax
        self.notifier = notifier
        self._deliver_event = deliver_event
        self.delivery_failures = 0

    # -- adapters -------------------------------------------------------------------

    def gateway(self, name: str | None) -> tuple[str, PaymentGateway]:
        """The named gateway (the only one when ``name`` is None)."""
        return _pick("gateway", self.gateways, name)

    def carrier(self, name: str | None) -> tuple[str, Carrier]:
        """The named carrier (the only one when ``name`` is None)."""
        return _pick("carrier", self.carriers, name)

    # -- commands -------------------------------------------------------------------

    def _command(
        self,
        operation: str,
        key: str,
        fields: Mapping[str, object],
        body: Callable[[Tx], R],
    ) -> R:
        check_key(key)
        fp = fingerprint(fields)
        with self.storage.begin() as uow:
            stored = uow.get_idempotency(key)
            if stored is not None:
                return self._replay(stored, operation, fp)  # type: ignore[return-value]
            tx = Tx(uow, self.clock.now(), key, notifying=self.notifier is not None)
            result = body(tx)
            uow.put_idempotency(
                IdempotencyRecord(
                    key=key, operation=operation, fingerprint=fp, result=result, created_at=tx.now
                )
            )
            if tx.events:
                uow.append_events(tx.events)
            uow.commit()
        self._after_commit(tx)
        return result

    @staticmethod
    def _replay(
        stored: IdempotencyRecord, operation: str, fp: tuple[tuple[str, str], ...]
    ) -> object:
        # Results are immutable values (frozen records, tuples), so the stored object
        # itself is returned; a call returning a list must store a tuple and copy.
        if stored.operation != operation:
            raise IdempotencyConflictError(
                f"key {stored.key!r} was used for {stored.operation}",
                key=stored.key,
                field="operation",
            )
        if stored.fingerprint != fp:
            before = dict(stored.fingerprint)
            now = dict(fp)
            changed = next(
                (name for name in (*before, *now) if before.get(name) != now.get(name)), "?"
            )
            raise IdempotencyConflictError(
                f"key {stored.key!r} was used with another {changed}",
                key=stored.key,
                field=changed,
            )
        return stored.result

    def _after_commit(self, tx: Tx) -> None:
        if self.notifier is not None:
            for note in tx.notifications:
                try:
                    self.notifier.send(note)
                except Exception:  # a notification never undoes a committed change
                    log.exception("notifier failed for %s", note.kind)
        if tx.events:
            self.dispatch_events()

    def dispatch_events(self, limit: int = 1000) -> int:
        """Deliver committed events to the event hook, oldest first.

        Returns:
            How many were delivered. Delivery stops at the first subscriber that
            raises; that event and the ones after it stay pending.
        """
        delivered: list[int] = []
        try:
            for entry in self.storage.pending_events(limit):
                if self._deliver_event is not None:
                    try:
                        self._deliver_event(entry.event, entry.seq)
                    except Exception:
                        self.delivery_failures += 1
                        log.exception("event subscriber failed at outbox entry %d", entry.seq)
                        break
                delivered.append(entry.seq)
        finally:
            if delivered:
                self.storage.mark_delivered(delivered)
        return len(delivered)

    def _read(self, body: Callable[[UnitOfWork], R]) -> R:
        with self.storage.begin() as uow:
            return body(uow)


def _pick(role: str, adapters: Mapping[str, T], name: str | None) -> tuple[str, T]:
    if name is None:
        if len(adapters) == 1:
            return next(iter(adapters.items()))
        raise UnknownAdapterError(
            f"name the {role}: {len(adapters)} configured",
            role=role,
            name=None,
            available=tuple(sorted(adapters)),
        )
    try:
        return name, adapters[name]
    except KeyError:
        raise UnknownAdapterError(
            f"no {role} named {name!r}", role=role, name=name, available=tuple(sorted(adapters))
        ) from None
