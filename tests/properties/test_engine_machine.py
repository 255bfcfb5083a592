"""The whole O2C engine under random operations, with its ledgers checked after every step.

A hypothesis state machine drives one :class:`o2c.engine.O2C` (memory storage, stock
inventory, fake gateway and carrier, a fixed clock moved by a rule) through random
calls: stock, orders and credit holds, shipping and tracking, invoicing on both
bases, card payments (declined and pending tokens included, pending ones settled by
webhook), bank receipts and cash application, returns, chargebacks and deductions.

* Every call uses a fresh idempotency key. A call the engine refuses with a domain
  error (the random operation is not valid now) must leave the storage exactly as it
  was, and must not have moved money at the gateway or bought a label; any other
  exception fails the run.
* A rule replays an earlier key with its first arguments: the answer must equal the
  first one and nothing may change.
* After every step the invariants below read every record back through the storage.

The CI profile runs 200 examples of 50 steps (``stateful_step_count`` below, the
profile's ``max_examples``); see ``docs/testing.md`` for the long run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from o2c.adapters.fake_carrier import FakeCarrier, Scenario
from o2c.adapters.fake_gateway import DECLINE_TOKEN, PENDING_TOKEN, FakeGateway
from o2c.adapters.inventory import StockInventory
from o2c.adapters.memory import MemorySnapshot, MemoryStorage
from o2c.cash import CashSummary, Receipt, assert_conserved, summarize
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C, EngineConfig
from o2c.errors import (
    AdapterError,
    CarrierRequestError,
    ConflictError,
    DomainError,
    GatewayRequestError,
    IdempotencyConflictError,
    IdempotencyKeyTakenError,
    InvalidIdempotencyKeyError,
)
from o2c.fulfilment import Shipment
from o2c.invoices import CreditNote, Invoice
from o2c.lifecycles import (
    DISPUTE_WORKFLOW,
    INVOICE_WORKFLOW,
    ORDER_WORKFLOW,
    PAYMENT_WORKFLOW,
    RETURN_WORKFLOW,
    SHIPMENT_WORKFLOW,
    TRANSACTION_WORKFLOW,
    OrderState,
    ReturnState,
    ShipmentState,
    TransactionState,
)
from o2c.money import Money
from o2c.orders import Order, OrderLine
from o2c.payments import Payment, TransactionKind
from o2c.ports import Kind, Reservation, StockLevel
from o2c.pricing import TaxRate
from o2c.returns import ReturnAuthorization
from o2c.workflow import Workflow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZERO = Decimal(0)
SKUS = ("MUG", "TEE", "CAP")
HOME = Address(name="Ada Lovelace", lines=("1 Main St",), city="Berlin", country="DE")
VAT = {
    "none": (),
    "std": (TaxRate("DE-19", Decimal(19)),),
    "red": (TaxRate("DE-7", Decimal(7)),),
}


def _customer(cid: str, currency: str, limit: str | None, **extra: Any) -> Customer:
    return Customer(
        id=cid,
        name=cid.title(),
        currency=currency,
        billing_address=HOME,
        shipping_addresses=(HOME,),
        payment_terms=extra.pop("terms", "NET30"),
        credit_limit=None if limit is None else Money(limit, currency),
        **extra,
    )


CUSTOMERS = (
    _customer("big", "EUR", "100000.00"),
    _customer("big2", "EUR", "50000.00", terms="2/10NET30"),
    _customer("low", "EUR", "60.00", terms="DUE"),  # most orders wait on a credit hold
    _customer("nolimit", "EUR", None),  # the default policy holds customers without a limit
    _customer("blocked", "EUR", "1000.00", blocked=True, blocked_reason="fraud check"),
    _customer("yank", "USD", "100000.00"),
)
CURRENCY = {c.id: c.currency for c in CUSTOMERS}

# An amount drawn as a share of something: None leaves the engine's default.
SHARES = st.sampled_from([None, "0.01", "0.33", "0.5", "1", "1", "1.2"])
CARD = "tok_visa"  # the fake gateway accepts any other token
TOKENS = st.sampled_from([CARD, CARD, CARD, PENDING_TOKEN, DECLINE_TOKEN])

WORKFLOWS: dict[str, Workflow[Any, Any]] = {
    Kind.ORDER.value: ORDER_WORKFLOW,
    Kind.SHIPMENT.value: SHIPMENT_WORKFLOW,
    Kind.INVOICE.value: INVOICE_WORKFLOW,
    Kind.PAYMENT.value: PAYMENT_WORKFLOW,
    Kind.RETURN.value: RETURN_WORKFLOW,
    Kind.DISPUTE.value: DISPUTE_WORKFLOW,
    "transaction": TRANSACTION_WORKFLOW,
}


def _reachable(workflow: Workflow[Any, Any]) -> dict[Any, frozenset[Any]]:
    """State -> every state reachable from it (itself included) through the table."""
    edges: dict[Any, set[Any]] = defaultdict(set)
    for t in workflow.transitions:
        edges[t.source].add(t.target)
    out: dict[Any, frozenset[Any]] = {}
    for start in workflow.states:
        seen = {start}
        todo = [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        out[start] = frozenset(seen)
    return out


REACHABLE = {kind: _reachable(wf) for kind, wf in WORKFLOWS.items()}

# Exceptions that are never a valid refusal, even though some are DomainError or
# ConflictError subclasses: adapters' own failures, idempotency clashes under keys
# that are fresh, and malformed requests the engine itself built for an adapter.
NEVER_EXPECTED = (
    AdapterError,
    IdempotencyConflictError,
    IdempotencyKeyTakenError,
    InvalidIdempotencyKeyError,
    GatewayRequestError,
    CarrierRequestError,
)
REFUSED = object()

LineSpec = tuple[str, int, str, str, Decimal]
LINES = st.lists(
    st.tuples(
        st.sampled_from(SKUS),
        st.integers(1, 5),
        st.sampled_from(["0.99", "5.00", "12.50", "19.99", "49.00"]),
        st.sampled_from(sorted(VAT)),
        st.sampled_from([ZERO, ZERO, Decimal(10)]),
    ),
    min_size=1,
    max_size=3,
)
CUSTOMER_IDS = st.sampled_from(["big", "big", "big", "big2", "big2"] + [c.id for c in CUSTOMERS])
FINAL_SHIPMENT = SHIPMENT_WORKFLOW.finals

# A chargeback's course: (share of the captured amount, evidence submitted, outcome,
# resolution, the customer asks for a refund as well).
ChargebackPlan = tuple[str | None, bool, str, str | None, bool]
CHARGEBACKS = st.tuples(
    SHARES,
    st.booleans(),
    st.sampled_from(["won", "lost", "lost", "accepted", "withdrawn"]),
    st.sampled_from([None, None, "write_off", "credit_note"]),
    st.booleans(),
)


def share(amount: Money, fraction: str | None) -> Money | None:
    """``fraction`` of ``amount`` in whole minor units (None stays None)."""
    if fraction is None:
        return None
    units = int(Decimal(amount.in_minor_units()) * Decimal(fraction))
    return Money.from_minor_units(max(units, 1), amount.currency)


class EngineMachine(RuleBasedStateMachine):
    """Random engine calls; the storage's records must keep every ledger consistent."""

    orders = Bundle("orders")
    shipments = Bundle("shipments")
    invoices = Bundle("invoices")
    payments = Bundle("payments")
    receipts = Bundle("receipts")
    returns = Bundle("returns")
    disputes = Bundle("disputes")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(T0)
        self.storage = MemoryStorage()
        self.gateway = FakeGateway()
        # Noisy: scans repeat and arrive out of order, as real carrier APIs send them.
        self.carrier = FakeCarrier(clock=self.clock, name="dhl", noisy=True)
        self.engine = O2C(
            self.storage,
            clock=self.clock,
            inventory=StockInventory(),
            gateways={"card": self.gateway},
            carriers={"dhl": self.carrier},
        )
        self.keys = 0
        # Every call that succeeded: (method, args, kwargs, result), for replays.
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any], Any]] = []
        self.received_stock: dict[str, Decimal] = defaultdict(Decimal)
        self.ordered_basis: set[str] = set()  # orders invoiced on the ordered basis
        self.seen_states: dict[tuple[str, str], Any] = {}
        self.refusals: dict[str, int] = defaultdict(int)
        self.bank_refs = 0
        self.order_payments: dict[str, list[str]] = defaultdict(list)
        self.order_receipts: dict[str, list[str]] = defaultdict(list)
        self.order_returns: dict[str, list[str]] = defaultdict(list)
        self._snapshot: MemorySnapshot | None = None

    # -- calling the engine -----------------------------------------------------------

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call ``engine.method(fresh key, *args, **kwargs)``; REFUSED on a domain refusal."""
        return self._invoke(method, (self.key(), *args), kwargs)

    def snapshot(self) -> MemorySnapshot:
        """The storage's committed state; cached until a call succeeds (nothing else
        here writes to the storage)."""
        if self._snapshot is None:
            self._snapshot = self.storage.snapshot()
        return self._snapshot

    def _invoke(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        before = self.snapshot()
        moved = len(self.gateway.side_effects)
        labels = self.carrier.labels_bought
        try:
            result = getattr(self.engine, method)(*args, **kwargs)
        except (DomainError, ConflictError) as exc:
            if isinstance(exc, NEVER_EXPECTED):
                raise
            note(f"{method} refused: {type(exc).__name__}: {exc}")
            self.refusals[method] += 1
            assert self.storage.snapshot() == before, f"refused {method} changed the storage"
            assert len(self.gateway.side_effects) == moved, (
                f"refused {method} moved money at the gateway: {self.gateway.side_effects[moved:]}"
            )
            assert self.carrier.labels_bought == labels, f"refused {method} bought a label"
            return REFUSED
        self._snapshot = None
        self.calls.append((method, args, kwargs, result))
        return result

    def read(self, method: str, *args: Any) -> Any:
        return getattr(self.engine, method)(*args)

    @staticmethod
    def kept(result: Any) -> Any:
        """What a rule with a bundle target returns: the new id, or nothing if refused."""
        return multiple() if result is REFUSED else result.id

    # -- setup ------------------------------------------------------------------------

    @initialize(stock=st.tuples(*(st.integers(0, 30) for _ in SKUS)))
    def setup(self, stock: tuple[int, ...]) -> None:
        for customer in CUSTOMERS:
            assert self.call("add_customer", customer) == customer
        for sku, qty in zip(SKUS, stock, strict=True):
            if qty:
                self.call("receive_stock", sku, qty)
                self.received_stock[sku] += qty

    # -- clock, stock -----------------------------------------------------------------

    @rule(hours=st.sampled_from([1, 6, 30, 80, 24 * 6, 24 * 40]))
    def advance_clock(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(sku=st.sampled_from(SKUS), qty=st.integers(1, 8))
    def receive_stock(self, sku: str, qty: int) -> None:
        if self.call("receive_stock", sku, qty) is not REFUSED:
            self.received_stock[sku] += qty

    @rule(sku=st.sampled_from([None, *SKUS]))
    def allocate_backorders(self, sku: str | None) -> None:
        self.call("allocate_backorders", sku)

    @rule()
    def expire_reservations(self) -> None:
        self.call("expire_reservations")

    # -- orders -----------------------------------------------------------------------

    def make_lines(self, customer: str, lines: list[LineSpec]) -> list[OrderLine]:
        currency = CURRENCY[customer]
        return [
            OrderLine(
                line_id=str(n),
                sku=sku,
                description=sku.title(),
                quantity=Decimal(qty),
                unit_price=Money(price, currency),
                discount_percent=discount,
                tax_rates=VAT[vat],
            )
            for n, (sku, qty, price, vat, discount) in enumerate(lines, start=1)
        ]

    def place(self, customer: str, lines: list[LineSpec], ttl_hours: int | None = None) -> Any:
        # Some orders' reservations lapse: the reservation expiry is engine
        # configuration, so it is set for this one call.
        self.engine.config = EngineConfig(
            reservation_ttl=None if ttl_hours is None else timedelta(hours=ttl_hours)
        )
        try:
            return self.call(
                "place_order", customer_id=customer, lines=self.make_lines(customer, lines)
            )
        finally:
            self.engine.config = EngineConfig()

    @rule(target=orders, customer=CUSTOMER_IDS, lines=LINES, ttl_hours=st.sampled_from([None, 48]))
    def place_order(self, customer: str, lines: list[LineSpec], ttl_hours: int | None) -> Any:
        return self.kept(self.place(customer, lines, ttl_hours))

    @rule(
        target=orders,
        customer=CUSTOMER_IDS,
        lines=LINES,
        depth=st.integers(1, 12),
        card=st.sampled_from([None, CARD, CARD, PENDING_TOKEN]),
        basis=st.sampled_from(["shipped", "shipped", "ordered"]),
        by_carrier=st.booleans(),
        data=st.data(),
    )
    def full_cycle(
        self,
        *,
        customer: str,
        lines: list[LineSpec],
        depth: int,
        card: str | None,
        basis: str,
        by_carrier: bool,
        data: st.DataObject,
    ) -> Any:
        """One order taken ``depth`` steps along the whole cycle (so that runs reach
        the late stages often): hold override, card authorization, stock, shipping,
        delivery, invoicing, payment, closing, and a return."""
        order = self.place(customer, lines)
        if order is REFUSED:
            return multiple()
        oid = order.id
        steps = [
            lambda: self.override_credit(oid),
            lambda: self.authorize_for_cycle(oid, card),
            lambda: self.restock(oid),
            lambda: self.call("ship", oid),
            lambda: self.deliver_all(oid, by_carrier=by_carrier),
            lambda: self.invoice_order(oid, basis),
            lambda: self.settle_order(oid),
            lambda: self.call("close_order", oid),
            lambda: self.return_some(oid, data),
            lambda: self.finish_returns(oid, data),
            lambda: self.return_everything(oid),
            lambda: self.dispute_payments(oid, data),
        ]
        for step in steps[:depth]:
            step()
        return oid

    def authorize_for_cycle(self, order: str, token: str | None) -> None:
        if token is None:
            return
        payment = self.call("authorize_payment", order, token=token)
        if payment is not REFUSED:
            self.order_payments[order].append(payment.id)

    def restock(self, order: str) -> None:
        short = False
        for r in self.read("reservations", order):
            if r.backordered > 0 and not r.released:
                self.receive_stock(r.sku, int(r.backordered))
                short = True
        if short:
            self.call("allocate_backorders", None)

    def deliver_all(self, order: str, *, by_carrier: bool) -> None:
        if by_carrier:
            self.clock.advance(days=4)
        for s in self.read("shipments", order):
            if s.state not in FINAL_SHIPMENT:
                self.call("track_shipment" if by_carrier else "confirm_delivery", s.id)

    def settle_order(self, order: str) -> None:
        """Pay the order's open invoices: capture its card payments, or wire the money."""
        captured = False
        for pid in self.order_payments[order]:
            captured |= self.call("capture_payment", pid) is not REFUSED
        if captured:
            return
        current: Order = self.read("order", order)
        for inv in self.read("track_order", current.customer_id, order).invoices:
            if not inv.open_amount.is_positive():
                continue
            self.bank_refs += 1
            receipt = self.call(
                "receive_payment",
                amount=inv.open_amount,
                customer_id=current.customer_id,
                reference=f"bank-{self.bank_refs}",
            )
            if receipt is not REFUSED:
                self.order_receipts[order].append(receipt.id)
                self.call("apply_cash", receipt.id, {inv.invoice_id: inv.open_amount})

    def return_some(self, order: str, data: st.DataObject) -> None:
        """Everything returnable comes back, or a single unit of it."""
        left = {k: v for k, v in self.returnable(self.read("order", order)).items() if v > 0}
        if left and data.draw(st.booleans(), label="one unit"):
            line_id = sorted(left)[0]
            left = {line_id: Decimal(1)}
        self.request(order, left or {"1": Decimal(1)}, "unwanted")

    def dispute_payments(self, order: str, data: st.DataObject) -> None:
        for payment in self.order_payments[order]:
            self.chargeback(payment, data.draw(CHARGEBACKS, label="chargeback"))

    def finish_returns(self, order: str, data: st.DataObject) -> None:
        """Authorize and receive the order's returns, and close them (or some)."""
        for rma in self.order_returns[order]:
            last = data.draw(st.sampled_from([2, 3, 3, 4]), label="return steps")
            steps = ("authorize_return", "receive_return", "close_return", "close_return")
            for method in steps[:last]:
                if method == "receive_return":
                    restock = data.draw(st.booleans(), label="restock")
                    self.call(method, rma, None, restock=restock)
                else:
                    self.call(method, rma)

    # Ids made inside full_cycle join the bundles through these, so the random
    # rules act on late-stage records too.

    @rule(target=shipments, order=orders, data=st.data())
    def adopt_shipment(self, order: str, data: st.DataObject) -> Any:
        found = [s.id for s in self.read("shipments", order)]
        return data.draw(st.sampled_from(found)) if found else multiple()

    @rule(target=invoices, order=orders, data=st.data())
    def adopt_invoice(self, order: str, data: st.DataObject) -> Any:
        current: Order = self.read("order", order)
        found = [
            i.invoice_id for i in self.read("track_order", current.customer_id, order).invoices
        ]
        return data.draw(st.sampled_from(found)) if found else multiple()

    @rule(target=payments, order=orders, data=st.data())
    def adopt_payment(self, order: str, data: st.DataObject) -> Any:
        found = self.order_payments[order]
        return data.draw(st.sampled_from(found)) if found else multiple()

    @rule(target=receipts, order=orders, data=st.data())
    def adopt_receipt(self, order: str, data: st.DataObject) -> Any:
        found = self.order_receipts[order]
        return data.draw(st.sampled_from(found)) if found else multiple()

    @rule(target=returns, order=orders, data=st.data())
    def adopt_return(self, order: str, data: st.DataObject) -> Any:
        found = self.order_returns[order]
        return data.draw(st.sampled_from(found)) if found else multiple()

    @rule(order=orders)
    def release_hold(self, order: str) -> None:
        self.call("release_hold", order)

    @rule(order=orders)
    def override_credit(self, order: str) -> None:
        self.call(
            "override_credit", order, by="ann", reason="known customer", authority="controller"
        )

    @rule(order=orders)
    def cancel_order(self, order: str) -> None:
        self.call("cancel_order", order, "customer asked")

    @rule(order=orders)
    def close_order(self, order: str) -> None:
        self.call("close_order", order)

    @rule(target=invoices, order=orders, data=st.data())
    def advance_order(self, order: str, data: st.DataObject) -> Any:
        """Take an order one natural step on (so that runs reach the later stages):
        approve a hold, restock a backorder, deliver, invoice or close."""
        current: Order = self.read("order", order)
        steps: list[str] = []
        if current.state is OrderState.ON_HOLD:
            steps += ["override", "release"]
        if current.state is OrderState.CONFIRMED:
            reservations = self.read("reservations", order)
            if any(r.backordered > 0 and not r.released for r in reservations):
                steps.append("restock")
            if any(s.state not in FINAL_SHIPMENT for s in self.read("shipments", order)):
                steps.append("deliver")
            if any(ln.shipped > ln.invoiced for ln in current.lines):
                steps.append("invoice")
            if all(ln.is_fulfilled for ln in current.lines):
                steps.append("close")
        if not steps:
            return multiple()
        step = data.draw(st.sampled_from(steps), label="step")
        if step == "override":
            self.override_credit(order)
        elif step == "release":
            self.call("release_hold", order)
        elif step == "restock":
            for r in self.read("reservations", order):
                if r.backordered > 0 and not r.released:
                    self.receive_stock(r.sku, int(r.backordered) + 1)
            self.call("allocate_backorders", None)
        elif step == "deliver":
            self.clock.advance(days=4)
            for s in self.read("shipments", order):
                if s.state not in FINAL_SHIPMENT:
                    self.call("track_shipment", s.id)
        elif step == "invoice":
            return self.kept(self.call("invoice_order", order, "shipped"))
        else:
            self.call("close_order", order)
        return multiple()

    # -- shipping ---------------------------------------------------------------------

    @rule(
        target=shipments,
        order=orders,
        partial=st.booleans(),
        scenario=st.sampled_from([None, None, None, *Scenario]),
        cod=st.sampled_from([None, None, None, None, "0.5", "1"]),
        data=st.data(),
    )
    def ship(
        self,
        order: str,
        partial: bool,
        scenario: Scenario | None,
        cod: str | None,
        data: st.DataObject,
    ) -> Any:
        quantities: dict[str, int] | None = None
        if partial:
            held = {r.line_id: r.reserved for r in self.read("reservations", order)}
            quantities = {}
            for line_id, reserved in sorted(held.items()):
                qty = data.draw(st.integers(0, max(1, int(reserved))), label=f"qty {line_id}")
                if qty:
                    quantities[line_id] = qty
            quantities = quantities or {"1": 1}
        cod_amount = share(self.read("order", order).totals.total, cod)
        if scenario is not None:
            self.carrier.plan(self.carrier.next_tracking_number, scenario)
        return self.kept(self.call("ship", order, quantities, cod_amount=cod_amount))

    @rule(shipment=shipments)
    def track_shipment(self, shipment: str) -> None:
        self.call("track_shipment", shipment)

    @rule(shipment=shipments)
    def confirm_delivery(self, shipment: str) -> None:
        self.call("confirm_delivery", shipment)

    @rule(shipment=shipments, days=st.sampled_from([2, 4, 4, 6, 10]))
    def wait_and_track(self, shipment: str, days: int) -> None:
        """Time passes, then the carrier is asked: most parcels arrive this way."""
        self.clock.advance(days=days)
        self.call("track_shipment", shipment)

    # -- invoicing --------------------------------------------------------------------

    @rule(target=invoices, order=orders, basis=st.sampled_from(["shipped", "shipped", "ordered"]))
    def invoice_order(self, order: str, basis: str) -> Any:
        result = self.call("invoice_order", order, basis)
        if result is not REFUSED and basis == "ordered":
            self.ordered_basis.add(order)
        return self.kept(result)

    # -- card payments ----------------------------------------------------------------

    @rule(target=payments, order=orders, token=TOKENS, amount=SHARES)
    def authorize_payment(self, order: str, token: str, amount: str | None) -> Any:
        total = self.read("order", order).totals.total
        payment = self.call("authorize_payment", order, token=token, amount=share(total, amount))
        if payment is not REFUSED:
            self.order_payments[order].append(payment.id)
        return self.kept(payment)

    @rule(target=payments, order=orders, capture=st.booleans())
    def pay_by_card(self, order: str, capture: bool) -> Any:
        """The usual card flow: authorize the order total, maybe capture it at once."""
        payment = self.call("authorize_payment", order, token=CARD)
        if payment is REFUSED:
            return multiple()
        self.order_payments[order].append(payment.id)
        if capture:
            self.call("capture_payment", payment.id)
        return payment.id

    @rule(payment=payments, amount=SHARES)
    def capture_payment(self, payment: str, amount: str | None) -> None:
        current: Payment = self.read("payment", payment)
        self.call("capture_payment", payment, share(current.amount, amount))

    @rule(payment=payments)
    def void_payment(self, payment: str) -> None:
        self.call("void_payment", payment)

    @rule(payment=payments, amount=SHARES)
    def refund_payment(self, payment: str, amount: str | None) -> None:
        current: Payment = self.read("payment", payment)
        base = current.captured if current.captured.is_positive() else current.amount
        self.call("refund_payment", payment, share(base, amount))

    @rule(payment=payments, succeed=st.booleans())
    def settle_pending(self, payment: str, succeed: bool) -> None:
        """The gateway finishes a pending request and its webhook reaches the engine."""
        current: Payment = self.read("payment", payment)
        pending = [t for t in current.transactions if t.state is TransactionState.PENDING]
        if not pending:
            return
        event = self.gateway.settle(
            pending[0].idempotency_key, succeed=succeed, now=self.clock.now()
        )
        # A genuine webhook for a request o2c made must never be refused.
        result = self._invoke("handle_gateway_event", ("card", event), {})
        assert result is not REFUSED, "the engine refused a genuine gateway webhook"

    @rule(
        target=payments,
        customer=st.sampled_from([None, None, None, *(c.id for c in CUSTOMERS)]),
        picked=st.lists(invoices, min_size=1, max_size=3),
        token=TOKENS,
    )
    def pay_invoices(self, customer: str | None, picked: list[str], token: str) -> Any:
        """The customer pays invoices in the portal (None: the first invoice's customer)."""
        payer = customer or self.read("invoice", picked[0]).customer_id
        return self.kept(self.call("pay_invoices", payer, picked, token=token))

    # -- bank receipts and cash application -------------------------------------------

    @rule(
        target=receipts,
        customer=st.sampled_from([None, "big", "big2", "low", "nolimit", "yank"]),
        invoice=invoices,
        amount=st.sampled_from(["0.01", "0.5", "1", "1", "1.5"]),
    )
    def receive_payment(self, customer: str | None, invoice: str, amount: str) -> Any:
        target: Invoice = self.read("invoice", invoice)
        self.bank_refs += 1
        money = share(target.total, amount)
        assert money is not None
        return self.kept(
            self.call(
                "receive_payment",
                amount=money,
                customer_id=customer,
                reference=f"bank-{self.bank_refs}",
                payer_name="ACME Treasury",
            )
        )

    @rule(
        receipt=receipts,
        picked=st.lists(st.tuples(invoices, SHARES), min_size=1, max_size=2),
    )
    def apply_cash(self, receipt: str, picked: list[tuple[str, str | None]]) -> None:
        allocations: dict[str, Money] = {}
        for invoice_id, fraction in picked:
            inv: Invoice = self.read("invoice", invoice_id)
            base = inv.open_amount if inv.open_amount.is_positive() else inv.total
            amount = share(base, fraction or "1")
            assert amount is not None
            allocations[invoice_id] = amount
        self.call("apply_cash", receipt, allocations)

    @rule(receipt=receipts, amount=SHARES)
    def refund_unapplied(self, receipt: str, amount: str | None) -> None:
        current: Receipt = self.read("receipt", receipt)
        money = share(current.amount, amount or "1")
        self.call("refund_unapplied", receipt, money, "paid back")

    # -- returns ----------------------------------------------------------------------

    def returnable(self, order: Order) -> dict[str, Decimal]:
        """Per line: delivered, less returned, less what open returns still await."""
        left = {ln.line_id: ln.delivered - ln.returned for ln in order.lines}
        for rma_id in self.order_returns[order.id]:
            rma: ReturnAuthorization = self.read("return_", rma_id)
            if not RETURN_WORKFLOW.is_final(rma.state):
                for rl in rma.lines:
                    left[rl.line_id] -= rl.outstanding
        return left

    def request(self, order: str, wanted: dict[str, Decimal], reason: str) -> Any:
        """Ask for a return; one within what is returnable must be accepted."""
        current: Order = self.read("order", order)
        left = self.returnable(current)
        rma = self.call("request_return", order, wanted, reason)
        if rma is REFUSED:
            assert current.state not in (OrderState.CONFIRMED, OrderState.COMPLETED) or any(
                qty > left.get(line_id, ZERO) for line_id, qty in wanted.items()
            ), f"a valid return was refused: {wanted} of {left}"
        else:
            self.order_returns[order].append(rma.id)
        return rma

    @rule(target=returns, order=orders, partial=st.booleans(), data=st.data())
    def request_return(self, order: str, partial: bool, data: st.DataObject) -> Any:
        current: Order = self.read("order", order)
        wanted: dict[str, Decimal] = {}
        for line in current.lines:
            top = int(line.delivered - line.returned)
            qty = data.draw(st.integers(0, max(top, 1)), label=f"return {line.line_id}")
            if qty and (partial or qty == top):
                wanted[line.line_id] = Decimal(qty)
        return self.kept(self.request(order, wanted or {"1": Decimal(1)}, "chipped"))

    @rule(target=returns, order=orders)
    def return_everything(self, order: str) -> Any:
        """The customer sends back everything returnable."""
        current: Order = self.read("order", order)
        wanted = {k: v for k, v in self.returnable(current).items() if v > 0}
        return self.kept(self.request(order, wanted or {"1": Decimal(1)}, "unwanted"))

    @rule(rma=returns, restock=st.booleans())
    def next_return_step(self, rma: str, restock: bool) -> None:
        """Move a return along: authorize, receive everything, close; a closed return
        is closed again (a second click, which must change nothing)."""
        current: ReturnAuthorization = self.read("return_", rma)
        if current.state is ReturnState.REQUESTED:
            self.call("authorize_return", rma)
        elif current.state is ReturnState.AUTHORIZED:
            self.call("receive_return", rma, None, restock=restock)
        elif current.state in (ReturnState.RECEIVED, ReturnState.CLOSED):
            self.call("close_return", rma)

    @rule(rma=returns)
    def authorize_return(self, rma: str) -> None:
        self.call("authorize_return", rma)

    @rule(rma=returns)
    def reject_return(self, rma: str) -> None:
        self.call("reject_return", rma, "outside the return window")

    @rule(rma=returns, partial=st.booleans(), restock=st.booleans())
    def receive_return(self, rma: str, partial: bool, restock: bool) -> None:
        quantities = None
        if partial:
            current: ReturnAuthorization = self.read("return_", rma)
            quantities = {ln.line_id: 1 for ln in current.lines[:1]}
        self.call("receive_return", rma, quantities, restock=restock)

    @rule(rma=returns)
    def close_return(self, rma: str) -> None:
        self.call("close_return", rma)

    # -- disputes ---------------------------------------------------------------------

    @rule(target=disputes, payment=payments, amount=SHARES)
    def open_chargeback(self, payment: str, amount: str | None) -> Any:
        current: Payment = self.read("payment", payment)
        money = share(current.captured, amount) if current.captured.is_positive() else None
        return self.kept(self.call("open_chargeback", payment, reason="fraudulent", amount=money))

    @rule(target=disputes, invoice=invoices, amount=st.sampled_from(["0.01", "0.1", "0.5", "1"]))
    def open_deduction(self, invoice: str, amount: str) -> Any:
        current: Invoice = self.read("invoice", invoice)
        money = share(current.total, amount)
        return self.kept(
            self.call("open_deduction", invoice, money, reason="damaged_goods", note="dented")
        )

    @rule(target=disputes, payment=payments, plan=CHARGEBACKS)
    def chargeback_cycle(self, payment: str, plan: ChargebackPlan) -> Any:
        """A chargeback from the bank, answered and decided in one go."""
        return self.kept(self.chargeback(payment, plan))

    def chargeback(self, payment: str, plan: ChargebackPlan) -> Any:
        """Open a chargeback on a payment, maybe answer it, decide it, and maybe have
        the customer ask the merchant for a refund as well."""
        amount, evidence, outcome, resolution, then_refund = plan
        current: Payment = self.read("payment", payment)
        money = share(current.captured, amount) if current.captured.is_positive() else None
        dispute = self.call("open_chargeback", payment, reason="product_not_received", amount=money)
        if dispute is REFUSED:
            return REFUSED
        if evidence:
            self.call("submit_dispute_evidence", dispute.id, {"tracking": "delivered"})
        self.call("settle_dispute", dispute.id, outcome, resolution=resolution)
        if then_refund:
            self.call("refund_payment", payment, None)
        return dispute

    @rule(dispute=disputes)
    def submit_dispute_evidence(self, dispute: str) -> None:
        self.call("submit_dispute_evidence", dispute, {"receipt": "signed delivery note"})

    @rule(
        dispute=disputes,
        outcome=st.sampled_from(["won", "lost", "accepted", "withdrawn"]),
        resolution=st.sampled_from([None, None, "write_off", "credit_note", "collect", "none"]),
    )
    def settle_dispute(self, dispute: str, outcome: str, resolution: str | None) -> None:
        self.call("settle_dispute", dispute, outcome, resolution=resolution)

    # -- replays ----------------------------------------------------------------------

    @precondition(lambda self: bool(self.calls))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """An earlier call again, same key and arguments: same answer, no change."""
        method, args, kwargs, first = data.draw(st.sampled_from(self.calls), label="replayed")
        before = self.snapshot()
        moved = len(self.gateway.side_effects)
        labels = self.carrier.labels_bought
        again = getattr(self.engine, method)(*args, **kwargs)
        assert again == first, f"replayed {method} answered differently"
        assert self.storage.snapshot() == before, f"replayed {method} changed the storage"
        assert len(self.gateway.side_effects) == moved
        assert self.carrier.labels_bought == labels

    # -- invariants -------------------------------------------------------------------

    def records(self) -> dict[str, list[Any]]:
        with self.storage.begin() as uow:
            return {kind.value: list(uow.all(kind.value)) for kind in Kind}

    @invariant()
    def ledgers_agree(self) -> None:
        rec = self.records()
        receipts: list[Receipt] = rec[Kind.RECEIPT.value]
        invoices: list[Invoice] = rec[Kind.INVOICE.value]
        self.check_cash(receipts, invoices)
        self.check_invoice_numbers(invoices, rec[Kind.CREDIT_NOTE.value])
        self.check_orders(rec)
        self.check_stock(rec)
        self.check_payments(rec[Kind.PAYMENT.value], receipts)
        self.check_lifecycles(rec)

    def check_cash(self, receipts: list[Receipt], invoices: list[Invoice]) -> None:
        summarize(receipts)  # per customer and currency; raises if not conserved
        by_id = {r.id: r for r in receipts}
        for r in receipts:
            assert_conserved(
                CashSummary(
                    customer_id=r.customer_id,
                    currency=r.currency,
                    received=r.amount,
                    applied=r.applied,
                    unapplied=r.unapplied,
                    refunded=r.refunded,
                    receipts=1,
                )
            )
            for invoice_id in r.invoice_ids:
                assert r.applied_to(invoice_id) >= Money.zero(r.currency)
        by_invoice = {i.id: i for i in invoices}
        for inv in invoices:
            zero = Money.zero(inv.currency)
            applied = sum((a.amount for a in inv.applications), zero)
            credited = sum((c.amount for c in inv.credits), zero)
            expected_open = inv.total - applied - credited - inv.written_off - inv.discount_taken
            assert inv.open_amount == expected_open
            assert not expected_open.is_negative(), f"invoice {inv.id} open {expected_open}"
            for app in inv.applications:
                assert not app.amount.is_negative(), f"{inv.id}: {app}"
                receipt = by_id.get(app.payment_ref)
                assert receipt is not None, f"{inv.id} applies unknown receipt {app.payment_ref}"
                assert receipt.applied_to(inv.id) == inv.applied_by(app.payment_ref), (
                    f"receipt {receipt.id} and invoice {inv.id} disagree"
                )
        for r in receipts:
            for invoice_id in r.invoice_ids:
                inv = by_invoice[invoice_id]
                assert inv.applied_by(r.id) == r.applied_to(invoice_id), (
                    f"receipt {r.id} and invoice {invoice_id} disagree"
                )

    def check_invoice_numbers(self, invoices: list[Invoice], notes: list[CreditNote]) -> None:
        numbers = [inv.number for inv in invoices]
        assert numbers == [f"INV-{n:06d}" for n in range(1, len(invoices) + 1)], numbers
        assert all(inv.id == inv.number for inv in invoices)
        issued = dict(self.snapshot().numbers)
        assert issued.get("INV", 0) == len(invoices)
        note_numbers = sorted(n.number for n in notes)
        assert note_numbers == [f"CN-{n:06d}" for n in range(1, len(notes) + 1)], note_numbers
        assert issued.get("CN", 0) == len(notes)

    def check_orders(self, rec: dict[str, list[Any]]) -> None:
        shipped: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        ever_shipped: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        delivered: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        shipment: Shipment
        for shipment in rec[Kind.SHIPMENT.value]:
            for sl in shipment.lines:
                ever_shipped[shipment.order_id, sl.line_id] += sl.quantity
                if not shipment.reopened:  # a lost or returned parcel may ship again
                    shipped[shipment.order_id, sl.line_id] += sl.quantity
                if shipment.state is ShipmentState.DELIVERED:
                    delivered[shipment.order_id, sl.line_id] += sl.quantity
        invoiced: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        inv: Invoice
        for inv in rec[Kind.INVOICE.value]:
            for il in inv.lines:
                invoiced[inv.order_id or "", il.order_line_id or il.line_id] += il.quantity
        returned: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        rma: ReturnAuthorization
        for rma in rec[Kind.RETURN.value]:
            for rl in rma.lines:
                returned[rma.order_id, rl.line_id] += rl.received
        order: Order
        for order in rec[Kind.ORDER.value]:
            for ln in order.lines:
                at = (order.id, ln.line_id)
                due = ln.quantity - ln.cancelled
                assert ZERO <= ln.shipped <= due, (at, ln)
                assert ZERO <= ln.delivered <= ln.shipped, (at, ln)
                assert ZERO <= ln.returned <= ln.delivered, (at, ln)
                # A parcel lost after it was invoiced ships again without a second
                # invoice: invoicing may run ahead of what is shipped now, never of
                # what was ever shipped.
                limit = due if order.id in self.ordered_basis else min(due, ever_shipped[at])
                assert ZERO <= ln.invoiced <= limit, (at, ln, order.id in self.ordered_basis)
                assert shipped[at] == ln.shipped, (at, shipped[at], ln.shipped)
                assert delivered[at] == ln.delivered, (at, delivered[at], ln.delivered)
                assert invoiced[at] == ln.invoiced, (at, invoiced[at], ln.invoiced)
                assert returned[at] == ln.returned, (at, returned[at], ln.returned)

    def check_stock(self, rec: dict[str, list[Any]]) -> None:
        levels: dict[str, StockLevel] = {lv.sku: lv for lv in rec[Kind.STOCK.value]}
        held: dict[str, Decimal] = defaultdict(Decimal)
        consumed: dict[str, Decimal] = defaultdict(Decimal)
        res: Reservation
        for res in rec[Kind.RESERVATION.value]:
            assert res.reserved >= ZERO, res
            assert res.consumed + res.reserved <= res.requested, res
            if res.released:
                assert res.reserved == ZERO, res
            held[res.sku] += res.reserved
            consumed[res.sku] += res.consumed
        restocked: dict[str, Decimal] = defaultdict(Decimal)
        rma: ReturnAuthorization
        for rma in rec[Kind.RETURN.value]:
            for rl in rma.lines:
                restocked[rl.sku] += rl.restocked
        ordered_shipped: dict[str, Decimal] = defaultdict(Decimal)
        order: Order
        for order in rec[Kind.ORDER.value]:
            for ln in order.lines:
                ordered_shipped[ln.sku] += ln.shipped
        # Parcels that did not arrive: their units stay consumed; the order ships them
        # again (reopened) and returned ones are back on hand (restocked).
        shipment: Shipment
        for shipment in rec[Kind.SHIPMENT.value]:
            for sl in shipment.lines:
                if shipment.reopened:
                    ordered_shipped[sl.sku] += sl.quantity
                if shipment.restocked:
                    restocked[sl.sku] += sl.quantity
        for sku in {*levels, *held, *consumed, *self.received_stock}:
            level = levels.get(sku, StockLevel(sku=sku, on_hand=ZERO, reserved=ZERO))
            assert ZERO <= level.reserved <= level.on_hand, level
            assert held[sku] == level.reserved, (sku, held[sku], level)
            assert consumed[sku] == ordered_shipped[sku], (sku, consumed[sku])
            expected = self.received_stock[sku] + restocked[sku] - consumed[sku]
            assert level.on_hand == expected, (sku, level.on_hand, expected)

    def check_payments(self, payments: list[Payment], receipts: list[Receipt]) -> None:
        balances = self.gateway.balances
        roots: set[str] = set()
        for p in payments:
            zero = Money.zero(p.currency)
            assert p.refunded <= p.captured, p.id
            # No fault is injected here: an unknown outcome would be an engine error
            # swallowed as "the gateway did not answer".
            assert all(t.state is not TransactionState.UNKNOWN for t in p.transactions), p
            authorizing = [
                t
                for t in p.transactions
                if t.kind in (TransactionKind.AUTHORIZE, TransactionKind.SALE)
                and t.state is TransactionState.SUCCEEDED
            ]
            if any(t.kind is TransactionKind.AUTHORIZE for t in authorizing):
                assert p.captured + p.voided <= p.authorized, p.id
            assert len(authorizing) <= 1, p.id
            if authorizing:
                ref = authorizing[0].gateway_reference
                assert ref is not None
                roots.add(ref)
                bal = self.gateway.balance(ref)
                assert (bal.authorized, bal.captured, bal.refunded, bal.voided) == (
                    p.authorized,
                    p.captured,
                    p.refunded,
                    p.voided,
                ), (p.id, bal)
            else:
                assert p.captured == zero, p.id
            # The cash ledger saw exactly what the gateway moved for this payment.
            mine = [r for r in receipts if r.reference == p.id]
            assert sum((r.amount for r in mine), zero) == p.captured, p.id
            refunds = sum(
                (f.amount for r in mine for f in r.refunds if f.reference.startswith(p.id + "/")),
                zero,
            )
            assert refunds == p.refunded, (p.id, refunds, p.refunded)
        # No money moved at the gateway that no payment records.
        assert set(balances) == roots, (sorted(balances), sorted(roots))

    def check_lifecycles(self, rec: dict[str, list[Any]]) -> None:
        items: list[tuple[str, str, Any]] = []
        for kind in (
            Kind.ORDER.value,
            Kind.SHIPMENT.value,
            Kind.INVOICE.value,
            Kind.RETURN.value,
            Kind.DISPUTE.value,
        ):
            items.extend((kind, r.id, r.state) for r in rec[kind])
        payment: Payment
        for payment in rec[Kind.PAYMENT.value]:
            items.append((Kind.PAYMENT.value, payment.id, payment.state))
            items.extend(
                ("transaction", f"{payment.id}/{t.id}", t.state) for t in payment.transactions
            )
        for kind, ident, state in items:
            workflow = WORKFLOWS[kind]
            assert state in set(workflow.states), (kind, ident, state)
            before = self.seen_states.get((kind, ident))
            if before is not None:
                if workflow.is_final(before):
                    assert state == before, f"{kind} {ident} left final {before} for {state}"
                assert state in REACHABLE[kind][before], f"{kind} {ident}: {before} -> {state}"
            self.seen_states[kind, ident] = state

    def teardown(self) -> None:
        note(f"refusals: {dict(self.refusals)}; calls: {len(self.calls)}")


EngineMachine.TestCase.settings = settings(
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase
