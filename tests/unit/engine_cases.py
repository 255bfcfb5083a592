"""The table of mutating engine calls shared by the idempotency and atomicity tests.

Each :class:`Case` names one public mutating method of :class:`o2c.engine.O2C` and
says how to bring a fresh engine to a state where the call is valid (``setup``), the
call's arguments, an alternative value for every argument that can change, and
(where the operation can fail on its own input) arguments that make it raise a
domain error.

Everything is deterministic: the clock is a :class:`~o2c.clock.FixedClock`, the
gateway and carrier are fakes, and the engine numbers records gap-free, so two
worlds that ran the same steps hold equal records (``SO-1``, ``PAY-000001`` ...).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs

from o2c.adapters.fake_3pl import FakeThreePL
from o2c.adapters.fake_carrier import FakeCarrier
from o2c.adapters.fake_gateway import PENDING_TOKEN, FakeGateway, SideEffect
from o2c.adapters.faults import FaultInjectingStorage
from o2c.adapters.memory import MemorySnapshot, MemoryStorage
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C, EngineConfig
from o2c.engine.core import derive_key
from o2c.errors import (
    AllocationExceedsOpenAmountError,
    CustomerMismatchError,
    EngineStateError,
    InsufficientUnappliedCashError,
    InvalidEvidenceError,
    InvalidOrderQuantityError,
    NotFoundError,
    NothingToDoError,
    O2CError,
    ReturnError,
    StockNotReservedError,
)
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.payments import Succeeded
from o2c.ports import GatewayEvent
from o2c.pricing import TaxRate

__all__ = [
    "CASES",
    "CASES_BY_NAME",
    "Case",
    "Lazy",
    "World",
    "engine_mutating_methods",
    "new_world",
]

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
OFFICE = Address(name="Ada Lovelace", lines=("9 Side St",), city="Hamburg", country="DE")
ADA = Customer(
    id="ada",
    name="Ada",
    currency="EUR",
    billing_address=HOME,
    shipping_addresses=(HOME,),
    payment_terms="NET30",
    credit_limit=Money("500.00", "EUR"),
)
# No credit limit: the default credit policy holds Bob's orders for review.
BOB = attrs.evolve(ADA, id="bob", name="Bob", credit_limit=None)
VAT = (TaxRate("DE-19", Decimal(19)),)
CARD = "tok_visa"


def eur(amount: str) -> Money:
    """Euros."""
    return Money(amount, "EUR")


def mugs(quantity: int) -> OrderLine:
    """One order line of ``quantity`` mugs at 50.00 EUR + 19 % VAT."""
    return OrderLine(
        line_id="1",
        sku="MUG",
        description="Mug",
        quantity=Decimal(quantity),
        unit_price=eur("50.00"),
        tax_rates=VAT,
    )


# Record ids are deterministic: the setup names the order, the engine numbers the rest.
ORDER = "SO-1"
PAYMENT = "PAY-000001"
SHIPMENT = "SH-000001"
INVOICE = "INV-000001"
RECEIPT = "RC-000001"
RETURN = "RMA-000001"
DISPUTE = "DSP-000001"


@dataclass
class World:
    """A fresh engine on fault-injecting memory storage, with its fakes and clock.

    Attributes:
        engine: The engine under test.
        storage: Its storage (disarmed unless a test arms it).
        clock: The fixed clock every part reads.
        gateway: The only gateway (``"card"``).
        carrier: The only carrier (``"dhl"``).
        made: Values a setup produced that the call needs (e.g. a webhook event).
        provider: The only fulfilment provider (``"3pl"``), if any.
    """

    engine: O2C
    storage: FaultInjectingStorage[MemoryStorage]
    clock: FixedClock
    gateway: FakeGateway
    carrier: FakeCarrier
    made: dict[str, object] = field(default_factory=dict)
    provider: FakeThreePL | None = None

    def snapshot(self) -> MemorySnapshot:
        """The committed state of the storage."""
        return self.storage.inner.snapshot()

    def effects(self) -> tuple[tuple[SideEffect, ...], int, int]:
        """The outside effects so far: gateway money movements, carrier labels and
        fulfilment requests."""
        sent = self.provider.submissions if self.provider is not None else 0
        return tuple(self.gateway.side_effects), self.carrier.labels_bought, sent


def new_world(config: EngineConfig | None = None) -> World:
    """A fresh world (nothing stored, clock at :data:`START`)."""
    clock = FixedClock(START)
    gateway = FakeGateway()
    carrier = FakeCarrier(clock=clock, name="dhl")
    storage = FaultInjectingStorage(MemoryStorage())
    provider = FakeThreePL(clock=clock)
    engine = O2C(
        storage,
        clock=clock,
        gateways={"card": gateway},
        carriers={"dhl": carrier},
        fulfilment_providers={"3pl": provider},
        config=config,
    )
    return World(engine, storage, clock, gateway, carrier, provider=provider)


@dataclass(frozen=True)
class Lazy:
    """An argument value known only once the setup ran (read from the world)."""

    get: Callable[[World], object]


def resolve(values: Mapping[str, object], world: World) -> dict[str, object]:
    """The values with every :class:`Lazy` read from ``world``."""
    return {k: v.get(world) if isinstance(v, Lazy) else v for k, v in values.items()}


@dataclass(frozen=True)
class Case:
    """One mutating engine call.

    Attributes:
        name: The engine method.
        setup: Brings a fresh world to a state where the call is valid.
        args: The call's arguments (all passed by keyword, after the key).
        alternatives: For every argument that can change, another value; a replay
            with it must raise IdempotencyConflictError naming the argument.
        bad: Argument overrides that make the call raise ``bad_error`` (a domain
            error); None when no argument of the call can make it fail.
        bad_error: The error ``bad`` raises.
        config: Engine configuration the case needs.
        key_of: For a call without a key parameter, the key it derives from its
            arguments (None: the first positional argument is the key).
        fixed: Arguments with no alternative because they are part of the derived
            key (changing them is another key, not a conflict).
    """

    name: str
    setup: Callable[[World], None]
    args: Mapping[str, object]
    alternatives: Mapping[str, object] = field(default_factory=dict)
    bad: Mapping[str, object] | None = None
    bad_error: type[O2CError] = NotFoundError
    config: EngineConfig | None = None
    key_of: Callable[[Mapping[str, object]], str] | None = None
    fixed: frozenset[str] = frozenset()

    def __str__(self) -> str:
        return self.name

    def world(self) -> World:
        """A fresh world after the setup."""
        world = new_world(self.config)
        self.setup(world)
        return world

    def key(self, world: World, key: str) -> str:
        """The idempotency key the call is stored under when called with ``key``."""
        if self.key_of is None:
            return key
        return self.key_of(resolve(self.args, world))

    def call(self, world: World, key: str, **overrides: object) -> object:
        """Make the call (``overrides`` replace arguments; ``key`` is ignored by a
        call that derives its key)."""
        kwargs = resolve(self.args, world) | resolve(overrides, world)
        method = getattr(world.engine, self.name)
        if self.key_of is not None:
            return method(**kwargs)
        return method(key, **kwargs)


# -- setups ---------------------------------------------------------------------------
# Each step uses its own key; composite setups call the smaller ones.


def nothing(_w: World) -> None:
    """No setup."""


def customer(w: World) -> None:
    """Ada is a customer."""
    w.engine.add_customer("setup-customer", ADA)


def stocked(w: World) -> None:
    """Ada, and 10 mugs in stock."""
    customer(w)
    w.engine.receive_stock("setup-stock", "MUG", 10)


def confirmed(w: World) -> None:
    """Ada's order SO-1 for 2 mugs is confirmed and its stock reserved."""
    stocked(w)
    w.engine.place_order("setup-order", customer_id="ada", lines=[mugs(2)], order_id=ORDER)


def held(w: World) -> None:
    """Bob's order SO-1 is on credit hold (Bob has no credit limit)."""
    stocked(w)
    w.engine.add_customer("setup-bob", BOB)
    w.engine.place_order("setup-order", customer_id="bob", lines=[mugs(2)], order_id=ORDER)


def backordered(w: World) -> None:
    """SO-1 holds 1 mug and waits for 1 more; 5 mugs arrived since."""
    customer(w)
    w.engine.receive_stock("setup-stock", "MUG", 1)
    w.engine.place_order("setup-order", customer_id="ada", lines=[mugs(2)], order_id=ORDER)
    w.engine.receive_stock("setup-restock", "MUG", 5)


def reservation_expired(w: World) -> None:
    """SO-1's reservation (1 day TTL, see the case's config) is 2 days old."""
    confirmed(w)
    w.clock.advance(days=2)


def authorized(w: World) -> None:
    """SO-1 is confirmed and its total authorized on a card (PAY-000001)."""
    confirmed(w)
    w.engine.authorize_payment("setup-authorize", ORDER, token=CARD)


def pending_settled(w: World) -> None:
    """PAY-000001's authorization was pending; the gateway has since sent its webhook."""
    confirmed(w)
    payment = w.engine.authorize_payment("setup-authorize", ORDER, token=PENDING_TOKEN)
    request_key = payment.transactions[-1].idempotency_key
    w.clock.advance(minutes=5)
    w.made["event"] = w.gateway.settle(request_key, now=w.clock.now())


def shipped(w: World) -> None:
    """SO-1 is shipped by DHL (SH-000001)."""
    confirmed(w)
    w.engine.ship("setup-ship", ORDER)


def in_transit(w: World) -> None:
    """SH-000001 left five days ago: the carrier has delivered it, o2c does not know."""
    shipped(w)
    w.clock.advance(days=5)


def delivered(w: World) -> None:
    """SO-1 is shipped and delivered."""
    in_transit(w)
    w.engine.track_shipment("setup-track", SHIPMENT)


def invoiced(w: World) -> None:
    """SO-1 is invoiced in full (INV-000001, 119.00 EUR) before shipping."""
    confirmed(w)
    w.engine.invoice_order("setup-invoice", ORDER, "ordered")


def captured(w: World) -> None:
    """SO-1 is invoiced and paid by card: PAY-000001 captured, RC-000001 applied."""
    authorized(w)
    w.engine.invoice_order("setup-invoice", ORDER, "ordered")
    w.engine.capture_payment("setup-capture", PAYMENT)


def wired(w: World) -> None:
    """200.00 EUR from Ada arrived by bank transfer (RC-000001), unapplied."""
    customer(w)
    w.engine.receive_payment(
        "setup-wire", amount=eur("200.00"), customer_id="ada", reference="wire-1"
    )


def invoiced_and_wired(w: World) -> None:
    """INV-000001 is open and RC-000001 (200.00 EUR) unapplied."""
    invoiced(w)
    w.engine.receive_payment(
        "setup-wire", amount=eur("200.00"), customer_id="ada", reference="wire-1"
    )


def fulfilled(w: World) -> None:
    """SO-1 is shipped, delivered and invoiced in full."""
    delivered(w)
    w.engine.invoice_order("setup-invoice", ORDER)


def return_requested(w: World) -> None:
    """Ada asked to return one delivered mug (RMA-000001)."""
    delivered(w)
    w.engine.request_return("setup-return", ORDER, {"1": 1}, "chipped")


def return_authorized(w: World) -> None:
    """RMA-000001 is authorized."""
    return_requested(w)
    w.engine.authorize_return("setup-authorize-return", RETURN)


def return_received(w: World) -> None:
    """Both mugs of SO-1 came back (RMA-000001 received). They went in two parcels,
    each invoiced on its own, and one card capture paid both invoices: closing the
    return refunds that payment twice in one call."""
    authorized(w)
    for n in (1, 2):
        w.engine.ship(f"setup-ship-{n}", ORDER, {"1": 1})
        w.engine.invoice_order(f"setup-invoice-{n}", ORDER)
    w.engine.capture_payment("setup-capture", PAYMENT)
    w.clock.advance(days=5)
    for n in (1, 2):
        w.engine.track_shipment(f"setup-track-{n}", f"SH-00000{n}")
    w.engine.request_return("setup-return", ORDER, {"1": 2}, "chipped")
    w.engine.authorize_return("setup-authorize-return", RETURN)
    w.engine.receive_return("setup-receive-return", RETURN)


def charged_back(w: World) -> None:
    """The card payment of SO-1 is disputed by the bank (DSP-000001)."""
    captured(w)
    w.engine.open_chargeback("setup-chargeback", PAYMENT, reason="fraudulent")


# -- the table --------------------------------------------------------------------------

_CORE_CASES: tuple[Case, ...] = (
    Case(
        "add_customer",
        nothing,
        {"customer": ADA},
        {"customer": attrs.evolve(ADA, name="Ada L.")},
    ),
    Case(
        "receive_stock",
        nothing,
        {"sku": "MUG", "quantity": 5},
        {"sku": "PLATE", "quantity": 6},
        bad={"quantity": 0},
        bad_error=InvalidOrderQuantityError,
    ),
    Case(
        "place_order",
        stocked,
        {
            "customer_id": "ada",
            "lines": [mugs(2)],
            "order_id": ORDER,
            "shipping_address": None,
            "expires_at": None,
            "notes": "",
        },
        {
            "customer_id": "bob",
            "lines": [mugs(3)],
            "order_id": "SO-2",
            "shipping_address": OFFICE,
            "expires_at": START + timedelta(days=7),
            "notes": "ring twice",
        },
        bad={"customer_id": "nobody"},
    ),
    Case(
        "release_hold",
        held,
        {"order_id": ORDER},
        {"order_id": "SO-2"},
        bad={"order_id": "SO-404"},
    ),
    Case(
        "override_credit",
        held,
        {"order_id": ORDER, "by": "cfo", "reason": "known customer", "authority": "cfo"},
        {"order_id": "SO-2", "by": "ceo", "reason": "big deal", "authority": "ceo"},
        bad={"order_id": "SO-404"},
    ),
    Case(
        "cancel_order",
        confirmed,
        {"order_id": ORDER, "reason": "changed mind"},
        {"order_id": "SO-2", "reason": "duplicate"},
        bad={"order_id": "SO-404"},
    ),
    Case(
        "allocate_backorders",
        backordered,
        {"sku": "MUG"},
        {"sku": None},
    ),
    Case(
        "expire_reservations",
        reservation_expired,
        {},
        config=EngineConfig(reservation_ttl=timedelta(days=1)),
    ),
    Case(
        "ship",
        confirmed,
        {
            "order_id": ORDER,
            "quantities": None,
            "carrier": None,
            "service": None,
            "cod_amount": None,
        },
        {
            "order_id": "SO-2",
            "quantities": {"1": 1},
            "carrier": "dhl",
            "service": "express",
            "cod_amount": eur("119.00"),
        },
        bad={"quantities": {"1": 5}},
        bad_error=StockNotReservedError,
    ),
    Case(
        "track_shipment",
        in_transit,
        {"shipment_id": SHIPMENT},
        {"shipment_id": "SH-000002"},
        bad={"shipment_id": "SH-404"},
    ),
    Case(
        "confirm_delivery",
        shipped,
        {"shipment_id": SHIPMENT},
        {"shipment_id": "SH-000002"},
        bad={"shipment_id": "SH-404"},
    ),
    Case(
        "invoice_order",
        confirmed,
        {"order_id": ORDER, "basis": "ordered"},
        {"order_id": "SO-2", "basis": "shipped"},
        bad={"basis": "shipped"},  # nothing is shipped yet
        bad_error=NothingToDoError,
    ),
    Case(
        "authorize_payment",
        confirmed,
        {"order_id": ORDER, "token": CARD, "gateway": None, "amount": None, "method": "card"},
        {
            "order_id": "SO-2",
            "token": "tok_mastercard",
            "gateway": "card",
            "amount": eur("50.00"),
            "method": "wallet",
        },
        bad={"order_id": "SO-404"},
    ),
    Case(
        "capture_payment",
        authorized,
        {"payment_id": PAYMENT, "amount": None},
        {"payment_id": "PAY-000002", "amount": eur("50.00")},
        bad={"amount": eur("0.00")},
        bad_error=NothingToDoError,
    ),
    Case(
        "void_payment",
        authorized,
        {"payment_id": PAYMENT},
        {"payment_id": "PAY-000002"},
        bad={"payment_id": "PAY-404"},
    ),
    Case(
        "refund_payment",
        captured,
        {"payment_id": PAYMENT, "amount": eur("19.00")},
        {"payment_id": "PAY-000002", "amount": eur("20.00")},
        bad={"amount": eur("0.00")},
        bad_error=NothingToDoError,
    ),
    Case(
        "pay_invoices",
        invoiced,
        {"customer_id": "ada", "invoice_ids": [INVOICE], "token": CARD, "gateway": None},
        {
            "customer_id": "bob",
            "invoice_ids": [INVOICE, "INV-000002"],
            "token": "tok_mastercard",
            "gateway": "card",
        },
        bad={"invoice_ids": ["INV-404"]},
        bad_error=CustomerMismatchError,
    ),
    Case(
        "handle_gateway_event",
        pending_settled,
        {"gateway": "card", "event": Lazy(lambda w: w.made["event"])},
        # The same event id with another payload (the key is derived from the id).
        {"event": Lazy(lambda w: attrs.evolve(_event(w), outcome=Succeeded("fg_other")))},
        bad={"event": Lazy(lambda w: attrs.evolve(_event(w), idempotency_key="unknown"))},
        bad_error=EngineStateError,
        key_of=lambda args: derive_key(f"gateway:{args['gateway']}", _event_id(args)),
        fixed=frozenset({"gateway"}),
    ),
    Case(
        "receive_payment",
        customer,
        {
            "amount": eur("200.00"),
            "method": "bank_transfer",
            "customer_id": "ada",
            "reference": "wire-1",
            "payer_name": None,
            "payer_iban": None,
        },
        {
            "amount": eur("201.00"),
            "method": "other",
            "customer_id": "bob",
            "reference": "wire-2",
            "payer_name": "Ada Lovelace",
            "payer_iban": "DE89370400440532013000",
        },
        bad={"customer_id": "nobody"},
    ),
    Case(
        "apply_cash",
        invoiced_and_wired,
        {"receipt_id": RECEIPT, "allocations": {INVOICE: eur("100.00")}},
        {"receipt_id": "RC-000002", "allocations": {INVOICE: eur("119.00")}},
        bad={"allocations": {INVOICE: eur("150.00")}},  # more than the invoice's 119.00
        bad_error=AllocationExceedsOpenAmountError,
    ),
    Case(
        "refund_unapplied",
        wired,
        {"receipt_id": RECEIPT, "amount": eur("20.00"), "reference": "paid back"},
        {"receipt_id": "RC-000002", "amount": eur("21.00"), "reference": "wire back"},
        bad={"amount": eur("250.00")},
        bad_error=InsufficientUnappliedCashError,
    ),
    Case(
        "close_order",
        fulfilled,
        {"order_id": ORDER},
        {"order_id": "SO-2"},
        bad={"order_id": "SO-404"},
    ),
    Case(
        "request_return",
        delivered,
        {"order_id": ORDER, "quantities": {"1": 1}, "reason": "chipped"},
        {"order_id": "SO-2", "quantities": {"1": 2}, "reason": "wrong colour"},
        bad={"quantities": {"1": 9}},
        bad_error=ReturnError,
    ),
    Case(
        "authorize_return",
        return_requested,
        {"return_id": RETURN},
        {"return_id": "RMA-000002"},
        bad={"return_id": "RMA-404"},
    ),
    Case(
        "reject_return",
        return_requested,
        {"return_id": RETURN, "reason": "used"},
        {"return_id": "RMA-000002", "reason": "too late"},
        bad={"return_id": "RMA-404"},
    ),
    Case(
        "receive_return",
        return_authorized,
        {"return_id": RETURN, "quantities": None, "restock": True},
        {"return_id": "RMA-000002", "quantities": {"1": 1}, "restock": False},
        bad={"quantities": {"1": 5}},
        bad_error=ReturnError,
    ),
    Case(
        "close_return",
        return_received,
        {"return_id": RETURN},
        {"return_id": "RMA-000002"},
        bad={"return_id": "RMA-404"},
    ),
    Case(
        "open_chargeback",
        captured,
        {
            "payment_id": PAYMENT,
            "reason": "fraudulent",
            "amount": None,
            "respond_by": None,
            "provider_id": None,
        },
        {
            "payment_id": "PAY-000002",
            "reason": "duplicate",
            "amount": eur("50.00"),
            "respond_by": START + timedelta(days=30),
            "provider_id": "dp_1",
        },
        bad={"payment_id": "PAY-404"},
    ),
    Case(
        "open_deduction",
        invoiced,
        {"invoice_id": INVOICE, "amount": eur("19.00"), "reason": "pricing_error", "note": None},
        {
            "invoice_id": "INV-000002",
            "amount": eur("20.00"),
            "reason": "damaged_goods",
            "note": "two chipped",
        },
        bad={"amount": eur("500.00")},  # more than is open on the invoice
        bad_error=EngineStateError,
    ),
    Case(
        "submit_dispute_evidence",
        charged_back,
        {"dispute_id": DISPUTE, "texts": {"explanation": "signed for"}, "documents": ()},
        {
            "dispute_id": "DSP-000002",
            "texts": {"explanation": "signed by Ada"},
            "documents": ("pod-1",),
        },
        bad={"texts": {"explanation": " "}},
        bad_error=InvalidEvidenceError,
    ),
    Case(
        "settle_dispute",
        charged_back,
        {"dispute_id": DISPUTE, "outcome": "lost", "resolution": None, "note": ""},
        {
            "dispute_id": "DSP-000002",
            "outcome": "won",
            "resolution": "credit_note",
            "note": "bank decided",
        },
        bad={"outcome": "drawn"},
        bad_error=EngineStateError,
    ),
)


def _area_cases() -> tuple[Case, ...]:
    """Cases other areas add: every ``tests/unit/engine_cases_<area>.py`` defines a
    ``CASES`` tuple (imported here, after :class:`Case` and the helpers exist)."""
    found: list[Case] = []
    for path in sorted(Path(__file__).parent.glob("engine_cases_*.py")):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        found.extend(module.CASES)
    return tuple(found)


CASES: tuple[Case, ...] = (*_CORE_CASES, *_area_cases())
CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}


def _event(w: World) -> GatewayEvent:
    event = w.made["event"]
    assert isinstance(event, GatewayEvent)
    return event


def _event_id(args: Mapping[str, object]) -> str:
    event = args["event"]
    assert isinstance(event, GatewayEvent)
    return event.event_id


def engine_mutating_methods() -> set[str]:
    """The engine's public mutating methods: those taking an idempotency ``key`` first,
    and those running a command under a key they derive (``handle_gateway_event``)."""
    found: set[str] = set()
    for name, member in inspect.getmembers(O2C, inspect.isfunction):
        if name.startswith("_"):
            continue
        params = list(inspect.signature(member).parameters)
        source = inspect.getsource(member)
        runs_command = "self._command(" in source or "self._flagging_contradictions(" in source
        if (len(params) > 1 and params[1] == "key") or runs_command:
            found.add(name)
    return found
