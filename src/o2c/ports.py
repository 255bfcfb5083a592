"""Ports: the typed Protocols that adapters implement, and the values that cross them.

The engine (:mod:`o2c.engine`) talks to the outside world only through these roles:

* **storage**: :class:`Storage` opens a :class:`UnitOfWork`, a transaction over
  *records* of a few kinds (orders, invoices, ...), the idempotency table, invoice
  number series and the event outbox. :class:`Repository` is the typed view of one
  kind that the engine builds on top of it.
* **inventory**: :class:`Inventory` keeps stock and reservations. It is handed the
  unit of work, so an inventory kept in the same store commits with the rest; one kept
  elsewhere (a WMS) must make its calls idempotent under the keys it is given.
* **payment gateway**: :class:`PaymentGateway` (authorize, capture, void, refund,
  status); business outcomes are values (:data:`o2c.payments.Outcome`), never
  exceptions.
* **carrier**: :class:`Carrier` (rates, labels, tracking), tracking normalised to
  :class:`TrackingStatus`; :class:`TrackingDialect` for carriers with their own codes.
* **fulfilment provider**: :class:`FulfilmentProvider`, a 3PL that picks, packs and
  ships, and reports parcels back (:class:`FulfilmentReport`).
* **tax**: :class:`TaxProvider` picks the tax rates of a line.
* **notification**: :class:`Notifier` sends what the engine wants a person to read.
* **statement reader**: :class:`StatementReader` turns a bank statement file into
  :class:`StatementLine` values (readers arrive with cash application).

Only :class:`~o2c.money.Money` crosses a port for amounts: never a float, never an
amount apart from its currency. Every call that has an effect outside o2c carries an
idempotency key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from o2c.customers import Address
from o2c.events import DomainEvent
from o2c.lifecycles import ShipmentEvent
from o2c.money import Money
from o2c.payments import Outcome
from o2c.pricing import TaxRate

__all__ = [
    "Carrier",
    "CarrierScan",
    "FulfilmentAck",
    "FulfilmentLine",
    "FulfilmentProvider",
    "FulfilmentReport",
    "FulfilmentRequest",
    "GatewayEvent",
    "GatewayRequest",
    "IdempotencyRecord",
    "Inventory",
    "Kind",
    "Label",
    "Notification",
    "Notifier",
    "OutboxEntry",
    "PaymentGateway",
    "Rate",
    "ReportedParcel",
    "Repository",
    "Reservation",
    "ReservationRequest",
    "ShipmentRequest",
    "StatementLine",
    "StatementReader",
    "StockLevel",
    "Storage",
    "TaxProvider",
    "TaxQuery",
    "TrackingDialect",
    "TrackingEvent",
    "TrackingStatus",
    "UnitOfWork",
    "as_tracking_status",
]

T = TypeVar("T")


# --------------------------------------------------------------------------- storage


class Kind(StrEnum):
    """The kinds of record the engine stores. Adapters may use them as table names."""

    CUSTOMER = "customer"
    ORDER = "order"
    SHIPMENT = "shipment"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    RECEIPT = "receipt"
    RETURN = "return"
    DISPUTE = "dispute"
    STOCK = "stock"
    RESERVATION = "reservation"
    CREDIT_DECISION = "credit_decision"
    GATEWAY_KEY = "gateway_key"
    FULFILMENT = "fulfilment"
    # issue 4, payment methods (o2c.engine.tender)
    STORE_CREDIT = "store_credit"
    TENDER = "tender"
    COD_REMITTANCE = "cod_remittance"
    COD_COLLECTION = "cod_collection"
    # issue 4, inbound webhooks (o2c.engine.inbound): events parked until their payment is known
    WEBHOOK = "webhook"
    # issue 5, statement import (o2c.engine.cashapp): bank lines, stored once per account + id
    BANK_LINE = "bank_line"


@attrs.frozen(kw_only=True)
class IdempotencyRecord:
    """The stored first answer to a mutating engine call.

    Attributes:
        key: The caller's idempotency key (1-255 printable ASCII characters).
        operation: The engine method called, e.g. ``"place_order"``.
        fingerprint: One ``(field, canonical text)`` pair per argument, in call order;
            a replay whose pairs differ names the first differing field.
        result: What the call returned; replays return this very value.
        created_at: When the first call committed.
    """

    key: str
    operation: str
    fingerprint: tuple[tuple[str, str], ...]
    result: object
    created_at: datetime


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """An event written in the same unit of work as the change that caused it.

    Attributes:
        seq: Position in the outbox, strictly increasing in commit order.
        event: The domain event.
    """

    seq: int
    event: DomainEvent


class UnitOfWork(Protocol):
    """One transaction: every change made through it commits together or not at all.

    Records are stored by ``(kind, id)``; ``index`` names the fields a record can be
    found by (``customer_id``, ``order_id`` ...). Reads see this unit's own writes.
    Nothing written is visible to other units of work before :meth:`commit`, and
    nothing at all after :meth:`rollback` or an exception inside the ``with`` block.
    """

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None: ...

    def get(self, kind: str, record_id: str) -> object | None:
        """The record, or None."""
        ...

    def put(
        self, kind: str, record_id: str, record: object, index: Mapping[str, str] | None = None
    ) -> None:
        """Insert or replace a record (a write)."""
        ...

    def find(self, kind: str, field: str, value: str) -> list[object]:
        """Records of ``kind`` whose ``index[field] == value``, in insertion order."""
        ...

    def all(self, kind: str) -> list[object]:
        """Every record of ``kind``, in insertion order."""
        ...

    def next_number(self, series: str) -> int:
        """The next number of a gap-free series (1, 2, ...); taken only if this commits."""
        ...

    def get_idempotency(self, key: str) -> IdempotencyRecord | None:
        """The stored answer under ``key``, or None."""
        ...

    def put_idempotency(self, record: IdempotencyRecord) -> None:
        """Store an answer (a write). A second record under the same key is refused."""
        ...

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add events to the outbox (a write); they get ``seq`` numbers at commit."""
        ...

    def commit(self) -> None:
        """Make every write visible at once."""
        ...

    def rollback(self) -> None:
        """Discard every write."""
        ...


class Storage(Protocol):
    """Where o2c keeps its records."""

    def begin(self) -> UnitOfWork:
        """Open a unit of work (use it as a context manager)."""
        ...

    def pending_events(self, limit: int = 1000) -> list[OutboxEntry]:
        """Committed events not yet marked delivered, oldest first."""
        ...

    def mark_delivered(self, seqs: Sequence[int]) -> None:
        """Record that these outbox entries reached every subscriber."""
        ...


class Repository(Protocol[T]):
    """A typed view of one kind of record inside a unit of work."""

    def get(self, record_id: str) -> T | None:
        """The record or None."""
        ...

    def require(self, record_id: str) -> T:
        """The record, or :class:`~o2c.errors.NotFoundError`."""
        ...

    def put(self, record: T) -> None:
        """Insert or replace."""
        ...

    def find(self, field: str, value: str) -> list[T]:
        """Records whose index field equals ``value``."""
        ...


# --------------------------------------------------------------------------- inventory


@attrs.frozen(kw_only=True)
class ReservationRequest:
    """Ask for stock for one order line.

    Attributes:
        reservation_id: Id for the reservation (the engine derives it from the order).
        order_id: The order.
        line_id: The order line.
        sku: What to reserve.
        quantity: How many units are wanted (positive).
        expires_at: When an unshipped reservation lapses (None: never).
    """

    reservation_id: str
    order_id: str
    line_id: str
    sku: str
    quantity: Decimal
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class Reservation:
    """Stock held for one order line.

    Attributes:
        id: Reservation id.
        order_id: The order.
        line_id: The order line.
        sku: The stock-keeping unit.
        requested: Units asked for.
        reserved: Units held now (less than requested when stock was short: the rest
            is backordered).
        consumed: Units shipped out of it.
        released: True once released or expired (it then holds nothing).
        expires_at: When it lapses if not shipped (None: never).
    """

    id: str
    order_id: str
    line_id: str
    sku: str
    requested: Decimal
    reserved: Decimal
    consumed: Decimal = Decimal(0)
    released: bool = False
    expires_at: datetime | None = None

    @property
    def backordered(self) -> Decimal:
        """Units asked for and neither held nor shipped."""
        if self.released:
            return Decimal(0)
        return self.requested - self.reserved - self.consumed


@attrs.frozen(kw_only=True)
class StockLevel:
    """Stock of one SKU.

    Attributes:
        sku: The stock-keeping unit.
        on_hand: Units in the warehouse (reserved ones included).
        reserved: Units held for orders; never more than ``on_hand``.
    """

    sku: str
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        """Units that can still be reserved."""
        return self.on_hand - self.reserved


class Inventory(Protocol):
    """Stock and reservations. Every method gets the caller's unit of work."""

    def level(self, uow: UnitOfWork, sku: str) -> StockLevel:
        """Current stock of ``sku`` (zero for an unknown SKU)."""
        ...

    def receive(self, uow: UnitOfWork, sku: str, quantity: Decimal, now: datetime) -> StockLevel:
        """Add units to stock (goods received, or restocked from a return)."""
        ...

    def reserve(self, uow: UnitOfWork, request: ReservationRequest, now: datetime) -> Reservation:
        """Hold up to ``request.quantity`` available units; the rest is backordered.

        Reserving an id that exists tops it up towards its requested quantity
        (backorder allocation) instead of creating a second reservation.
        """
        ...

    def consume(
        self, uow: UnitOfWork, reservation_id: str, quantity: Decimal, now: datetime
    ) -> Reservation:
        """Ship ``quantity`` units out of a reservation (they leave ``on_hand``)."""
        ...

    def release(self, uow: UnitOfWork, reservation_id: str, now: datetime) -> Reservation:
        """Give back what a reservation holds; its backorder is dropped."""
        ...

    def reservations_for(self, uow: UnitOfWork, order_id: str) -> list[Reservation]:
        """Every reservation of an order."""
        ...

    def expire(self, uow: UnitOfWork, now: datetime) -> list[Reservation]:
        """Release every reservation whose ``expires_at`` is at or before ``now``."""
        ...


# --------------------------------------------------------------------------- payment gateway


@attrs.frozen(kw_only=True)
class GatewayRequest:
    """One call to a payment gateway.

    Attributes:
        idempotency_key: Reaches the gateway; a repeat executes nothing twice.
        payment_id: o2c's payment.
        transaction_id: o2c's transaction.
        amount: What to move.
        token: The payer's instrument token (authorize and sale).
        reference: The gateway's reference of the authorization or charge that a
            capture, void or refund acts on.
    """

    idempotency_key: str
    payment_id: str
    transaction_id: str
    amount: Money
    token: str | None = None
    reference: str | None = None


@attrs.frozen(kw_only=True)
class GatewayEvent:
    """A gateway's later word on a transaction (a webhook, once verified and parsed).

    Attributes:
        event_id: The gateway's event id; the same event delivered twice shares it.
        idempotency_key: The key of the request it answers (o2c sent it).
        outcome: What became of the request.
        occurred_at: When the gateway says it happened.
    """

    event_id: str
    idempotency_key: str
    outcome: Outcome
    occurred_at: datetime


class PaymentGateway(Protocol):
    """A payment service provider (docs/payments.md; ``o2c.testing.GatewayContract``
    checks an adapter against this).

    * **Idempotency**: send ``request.idempotency_key`` as the provider's idempotency
      key. The same request under the same key returns the first answer and moves no
      money again; the key reused with another payload raises
      :class:`~o2c.errors.IdempotencyConflictError` and moves nothing.
    * **Outcomes are values**: :class:`~o2c.payments.Succeeded`,
      :class:`~o2c.payments.Failed` (with a normalised
      :class:`~o2c.payments.DeclineReason`), :class:`~o2c.payments.Pending` or
      :class:`~o2c.payments.Unknown`, never None. A decline or an amount over the
      limit is ``Failed``, never an exception. ``Succeeded.amount``, if given, is the
      amount that moved; o2c books nothing for another amount than requested.
    * **Unknown** means "the money may or may not have moved". Raise an
      :class:`~o2c.errors.AdapterError` (``GatewayTimeoutError``,
      ``GatewayUnavailableError``) only when the provider could not be reached or did
      not answer; o2c treats any exception as unknown, commits the transaction in
      flight and asks :meth:`status` later under the same key, never charging again
      under a new one.
    """

    def authorize(self, request: GatewayRequest) -> Outcome:
        """Hold ``request.amount`` on the instrument ``request.token``."""
        ...

    def sale(self, request: GatewayRequest) -> Outcome:
        """Authorize and capture ``request.amount`` at once."""
        ...

    def capture(self, request: GatewayRequest) -> Outcome:
        """Take (part of) the authorization ``request.reference``; never more than is
        left of it (``Failed`` otherwise)."""
        ...

    def void(self, request: GatewayRequest) -> Outcome:
        """Release the uncaptured rest of the authorization ``request.reference``."""
        ...

    def refund(self, request: GatewayRequest) -> Outcome:
        """Give back (part of) what ``request.reference`` captured; never more than was
        captured and not yet refunded (``Failed`` otherwise)."""
        ...

    def status(self, request: GatewayRequest) -> Outcome:
        """What became of the request under ``request.idempotency_key`` (the rest of
        ``request`` is the original request). For a key never seen: ``Failed`` only
        if a request under it can never execute afterwards, else ``Unknown``; never
        a success. The payment reconciler calls it for transactions in flight."""
        ...


# --------------------------------------------------------------------------- carrier


@attrs.frozen(kw_only=True)
class ShipmentRequest:
    """What a carrier needs to quote and label a parcel.

    Attributes:
        shipment_id: o2c's shipment.
        ship_to: Destination.
        weight_grams: Total weight (positive).
        parcels: Number of parcels.
        declared_value: Value of the goods.
        cod_amount: Amount the carrier collects on delivery, if any.
    """

    shipment_id: str
    ship_to: Address
    weight_grams: int
    parcels: int = 1
    declared_value: Money | None = None
    cod_amount: Money | None = None


@attrs.frozen(kw_only=True)
class Rate:
    """A carrier's price for a service.

    Attributes:
        carrier: Carrier name.
        service: Service code, e.g. ``"standard"``.
        amount: Price.
        transit_days: Promised days in transit.
        promised_by: The delivery date the carrier promises, as the instant by which
            it is due (None: o2c derives it from ``transit_days``, see
            :func:`o2c.rates.promise`).
    """

    carrier: str
    service: str
    amount: Money
    transit_days: int
    promised_by: datetime | None = None


@attrs.frozen(kw_only=True)
class Label:
    """A bought shipping label.

    Attributes:
        label_id: The carrier's label id.
        carrier: Carrier name.
        service: Service bought.
        tracking_number: Tracking number.
        cost: What it cost.
        document: The label itself (PDF, ZPL...), opaque to o2c.
    """

    label_id: str
    carrier: str
    service: str
    tracking_number: str
    cost: Money
    document: bytes = b""


class TrackingStatus(StrEnum):
    """The one vocabulary every carrier's tracking is normalised to.

    Each carrier adapter maps its own codes to these (see :class:`o2c.tracking.StatusMap`);
    a code it does not know becomes :attr:`EXCEPTION` with the carrier's words kept.
    """

    LABEL_CREATED = "label_created"
    """The carrier knows the parcel (pre-transit); it has not moved."""
    IN_TRANSIT = "in_transit"
    """Picked up, or moving through the network (also: moving again after a problem)."""
    OUT_FOR_DELIVERY = "out_for_delivery"
    """On the last vehicle, or waiting at a pickup point."""
    FAILED_ATTEMPT = "failed_attempt"
    """A delivery was tried and failed (recipient absent); another try usually follows."""
    EXCEPTION = "exception"
    """A problem: delay, damage, address, customs, or a code o2c does not know."""
    DELIVERED = "delivered"
    """Handed to the recipient. Final."""
    RETURNED = "returned"
    """Given up and sent back to the sender. Final."""
    LOST = "lost"
    """The carrier declared the parcel lost. Final."""
    CANCELLED = "cancelled"
    """The carrier says the label was cancelled; recorded, never moves a shipment
    (cancelling is o2c's decision)."""


_FROM_TABLE_EVENT = {
    ShipmentEvent.BUY_LABEL: TrackingStatus.LABEL_CREATED,
    ShipmentEvent.HAND_OVER: TrackingStatus.IN_TRANSIT,
    ShipmentEvent.RESUME: TrackingStatus.IN_TRANSIT,
    ShipmentEvent.GO_OUT_FOR_DELIVERY: TrackingStatus.OUT_FOR_DELIVERY,
    ShipmentEvent.REPORT_EXCEPTION: TrackingStatus.EXCEPTION,
    ShipmentEvent.DELIVER: TrackingStatus.DELIVERED,
    ShipmentEvent.RETURN_TO_SENDER: TrackingStatus.RETURNED,
    ShipmentEvent.DECLARE_LOST: TrackingStatus.LOST,
    ShipmentEvent.CANCEL: TrackingStatus.CANCELLED,
    ShipmentEvent.VOID_LABEL: TrackingStatus.CANCELLED,
}


def as_tracking_status(value: object) -> TrackingStatus | None:
    """The :class:`TrackingStatus` ``value`` names, or None.

    Accepts a status, its text (``"in_transit"``), and, for adapters written before
    the vocabulary existed, a shipment-table event (``ShipmentEvent.HAND_OVER`` or
    ``"hand_over"`` is ``in_transit``).
    """
    if isinstance(value, TrackingStatus):
        return value
    if isinstance(value, ShipmentEvent):
        return _FROM_TABLE_EVENT[value]
    if isinstance(value, str):
        if value in TrackingStatus.__members__.values():
            return TrackingStatus(value)
        if value in ShipmentEvent.__members__.values():
            return _FROM_TABLE_EVENT[ShipmentEvent(value)]
    return None


@attrs.frozen(kw_only=True)
class TrackingEvent:
    """One carrier scan, normalised.

    Attributes:
        event_id: The carrier's id for the scan (duplicates share it).
        tracking_number: The parcel.
        occurred_at: When the carrier saw it (timezone-aware).
        status: What it means, in o2c's vocabulary. A status o2c does not know (any
            other text or value) becomes :attr:`TrackingStatus.EXCEPTION` and the
            text is kept in ``raw_status``: an unknown word never crashes tracking.
        description: The carrier's own words.
        location: Where, if known.
        raw_status: The carrier's own code for the scan ("" when not given).
    """

    event_id: str
    tracking_number: str
    occurred_at: datetime
    status: TrackingStatus
    description: str = ""
    location: str = ""
    raw_status: str = ""

    def __attrs_post_init__(self) -> None:
        status = as_tracking_status(self.status)
        if status is self.status:
            return
        # Normalised in place (frozen): a legacy table event or text, or an unknown word.
        raw = self.raw_status or str(self.status)[:64]
        object.__setattr__(self, "status", status or TrackingStatus.EXCEPTION)
        if status is None:
            object.__setattr__(self, "raw_status", raw)


@attrs.frozen(kw_only=True)
class CarrierScan:
    """One scan as a carrier's webhook or API sends it, before normalisation.

    :meth:`o2c.engine.O2C.receive_tracking` takes these and normalises them through
    the carrier's :class:`~o2c.tracking.StatusMap`.

    Attributes:
        event_id: The carrier's id for the scan.
        tracking_number: The parcel.
        occurred_at: When the carrier saw it (timezone-aware).
        code: The carrier's status code, in its own dialect.
        description: The carrier's words.
        location: Where, if known.
    """

    event_id: str
    tracking_number: str
    occurred_at: datetime
    code: str
    description: str = ""
    location: str = ""


class Carrier(Protocol):
    """A parcel carrier."""

    def rates(self, request: ShipmentRequest) -> list[Rate]:
        """Quotes for every service that can take the parcel (may be empty).

        A carrier that cannot quote raises; rate shopping skips it and reports why.
        """
        ...

    def buy_label(self, request: ShipmentRequest, rate: Rate, idempotency_key: str) -> Label:
        """Buy a label; the same key returns the same label (never a second purchase).

        o2c derives the key from the shipment (see :doc:`shipping </shipping>`).
        """
        ...

    def void_label(self, label_id: str) -> None:
        """Cancel an unused label (voiding twice changes nothing)."""
        ...

    def track(self, tracking_number: str) -> list[TrackingEvent]:
        """Every scan so far, in the carrier's order (may repeat or be out of order)."""
        ...


@runtime_checkable
class TrackingDialect(Protocol):
    """A carrier that speaks its own tracking codes says how to read them.

    :meth:`o2c.engine.O2C.receive_tracking` uses it for :class:`CarrierScan` values; a
    carrier without it is read with :data:`o2c.tracking.STANDARD` (o2c's own words).
    """

    def normalise(self, scan: CarrierScan) -> TrackingEvent:
        """The scan in o2c's vocabulary (an unknown code is an exception, never an error)."""
        ...


# --------------------------------------------------------------------------- fulfilment provider


@attrs.frozen(kw_only=True)
class FulfilmentLine:
    """Units of one order line, in a request to a 3PL or in its report.

    Attributes:
        line_id: The order line.
        sku: Its stock-keeping unit.
        quantity: Units (above zero).
    """

    line_id: str
    sku: str
    quantity: Decimal


@attrs.frozen(kw_only=True)
class FulfilmentRequest:
    """Pick, pack and ship these lines (what o2c sends a fulfilment provider).

    Attributes:
        request_id: o2c's id for the fulfilment order; reports name it.
        order_id: The sales order.
        ship_to: Destination.
        lines: What to ship.
        cod_amount: Cash to collect on delivery, if any.
    """

    request_id: str
    order_id: str
    ship_to: Address
    lines: tuple[FulfilmentLine, ...]
    cod_amount: Money | None = None


@attrs.frozen(kw_only=True)
class FulfilmentAck:
    """A provider's acknowledgement of a request.

    Attributes:
        request_id: o2c's id of the request.
        reference: The provider's own id for it.
        accepted_at: When it accepted the request.
    """

    request_id: str
    reference: str
    accepted_at: datetime


@attrs.frozen(kw_only=True)
class ReportedParcel:
    """One parcel a provider says it shipped.

    Attributes:
        parcel_id: The provider's id for the parcel (applied once, however often
            reported).
        shipped_at: When it left (timezone-aware).
        lines: What is in it.
        carrier: The carrier it went with (None: the provider's own delivery).
        tracking_number: The carrier's tracking number, if any.
        service: The carrier's service, if known.
    """

    parcel_id: str
    shipped_at: datetime
    lines: tuple[FulfilmentLine, ...]
    carrier: str | None = None
    tracking_number: str | None = None
    service: str | None = None


@attrs.frozen(kw_only=True)
class FulfilmentReport:
    """A provider's report on a request: parcels shipped so far (all, or only new ones).

    Attributes:
        report_id: The provider's id for the report (applied once).
        request_id: o2c's id of the request.
        reported_at: When the provider reported.
        parcels: Parcels shipped; a parcel already recorded is skipped.
    """

    report_id: str
    request_id: str
    reported_at: datetime
    parcels: tuple[ReportedParcel, ...] = ()


class FulfilmentProvider(Protocol):
    """A third-party logistics provider (3PL) that picks, packs and ships for o2c."""

    def submit(self, request: FulfilmentRequest, idempotency_key: str) -> FulfilmentAck:
        """Accept a request; the same key returns the same acknowledgement."""
        ...

    def reports(self, request_id: str) -> list[FulfilmentReport]:
        """Every report on a request so far (for polling; webhooks push the same values)."""
        ...


# --------------------------------------------------------------------------- tax, notification


@attrs.frozen(kw_only=True)
class TaxQuery:
    """What a tax provider decides from.

    Attributes:
        customer_id: The buyer.
        ship_to: Where the goods go.
        sku: What is sold.
        currency: The order's currency.
    """

    customer_id: str
    ship_to: Address
    sku: str
    currency: str


class TaxProvider(Protocol):
    """Chooses the tax rates of an order line."""

    def rates_for(self, query: TaxQuery) -> tuple[TaxRate, ...] | None:
        """The rates, or None to keep the rates the caller gave."""
        ...


@attrs.frozen(kw_only=True)
class Notification:
    """Something a person should read.

    Attributes:
        kind: What it is about, e.g. ``"order.held"`` or ``"invoice.issued"``.
        customer_id: Whom it concerns.
        subject: One line.
        body: Plain text.
        locale: The reader's locale.
        related_id: The order, invoice ... it is about.
    """

    kind: str
    customer_id: str
    subject: str
    body: str
    locale: str = "en_US"
    related_id: str = ""


class Notifier(Protocol):
    """Delivers notifications (mail, chat, a ticket ...)."""

    def send(self, notification: Notification) -> None:
        """Send it; called after the unit of work committed."""
        ...


# --------------------------------------------------------------------------- statements


@attrs.frozen(kw_only=True)
class StatementLine:
    """One booked movement on a bank account.

    Attributes:
        line_id: Unique within the statement file (bank reference or position).
        account: The statement's account (IBAN or number).
        booking_date: Booking date.
        value_date: Value date.
        amount: Signed: positive money in, negative money out.
        payer_name: Counterparty name.
        payer_account: Counterparty IBAN or number.
        remittance: Free-text or structured remittance information.
        end_to_end_id: End-to-end reference, if any.
    """

    line_id: str
    account: str
    booking_date: date
    value_date: date
    amount: Money
    payer_name: str = ""
    payer_account: str = ""
    remittance: str = ""
    end_to_end_id: str = ""


@runtime_checkable
class StatementReader(Protocol):
    """Reads one bank statement format."""

    def read(self, data: bytes) -> Iterator[StatementLine]:
        """The lines of a statement file; a malformed file raises a typed error."""
        ...
