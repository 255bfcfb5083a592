"""Properties of orders: totals reconcile, discounts spread exactly, and any sequence of
operations keeps the lifecycle and the per-line quantities legal.

Expected values are recomputed here with plain ``Decimal`` arithmetic and a small
reference model, never copied from the code under test.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from o2c.customers import Address, Customer
from o2c.errors import (
    InvalidOrderQuantityError,
    InvalidTransitionError,
    NothingToCancelError,
    O2CError,
    OrderDiscountError,
    OrderExpiredError,
    OrderExpiryNotDueError,
    OrderInProgressError,
    OrderLineNotFoundError,
    OrderNotConfirmedError,
    OrderNotFulfilledError,
    OrderQuantityExceededError,
)
from o2c.events import DomainEvent
from o2c.lifecycles import ORDER_WORKFLOW, OrderEvent, OrderState
from o2c.money import Money, RoundingMode, minor_units
from o2c.orders import (
    BillingStatus,
    HoldKind,
    Order,
    OrderLine,
    ShipmentStatus,
    apply_document_discount,
    approve,
    cancel,
    cancel_remaining,
    complete,
    expire,
    expire_if_due,
    hold,
    new_order,
    override,
    place,
    record_delivery,
    record_invoiced,
    record_return,
    record_shipment,
    reject,
    release,
)
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ADDR = Address(
    name="ACME", lines=("Hauptstr. 1",), city="Berlin", postal_code="10115", country="DE"
)
RATES = (
    TaxRate("S19", Decimal(19)),
    TaxRate("R7", Decimal(7)),
    TaxRate("R5.5", Decimal("5.5")),
    TaxRate("Z0", Decimal(0), category="Z"),
    TaxRate("S21", Decimal(21)),
)
WIDE = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.InvalidOperation])


def customer(currency: str) -> Customer:
    return Customer(
        id="C1",
        name="ACME",
        currency=currency,
        billing_address=ADDR,
        shipping_addresses=(ADDR,),
        payment_terms="NET30",
    )


# --------------------------------------------------------------------------- strategies


@st.composite
def priced_lines(draw: st.DrawFn, currency: str, *, on_grid: bool = False) -> tuple[OrderLine, ...]:
    """Lines with random quantities, prices, discounts and tax rates.

    ``on_grid`` keeps every exact net a whole number of minor units.
    """
    places = minor_units(currency)
    count = draw(st.integers(1, 6))
    lines = []
    for i in range(count):
        if on_grid:
            quantity = Decimal(draw(st.integers(1, 40)))
            price = Decimal(draw(st.integers(0, 10**6))).scaleb(-places)
            percent = Decimal(0)
        else:
            quantity = Decimal(draw(st.integers(1, 4000))).scaleb(-draw(st.integers(0, 2)))
            extra = draw(st.integers(0, 2))  # sub-minor-unit prices such as 0.0125
            price = Decimal(draw(st.integers(0, 10**7))).scaleb(-(places + extra))
            percent = Decimal(draw(st.integers(0, 10000))).scaleb(-2)
        gross = WIDE.multiply(price, quantity)
        after_percent = WIDE.subtract(gross, WIDE.divide(WIDE.multiply(gross, percent), 100))
        fixed = None
        if not on_grid and draw(st.booleans()):
            units = int(after_percent.scaleb(places).to_integral_value(decimal.ROUND_FLOOR))
            fixed = Money(Decimal(draw(st.integers(0, max(units, 0)))).scaleb(-places), currency)
        rates = draw(st.lists(st.sampled_from(RATES), max_size=3, unique_by=lambda r: r.code))
        lines.append(
            OrderLine(
                line_id=f"L{i}",
                sku=f"SKU{i}",
                quantity=quantity,
                unit_price=Money(price, currency),
                discount_percent=percent,
                discount_amount=fixed,
                tax_rates=tuple(rates),
            )
        )
    return tuple(lines)


currencies = st.sampled_from(["EUR", "JPY", "KWD", "USD", "CHF"])
modes = st.sampled_from(list(RoundingMode))


def build(lines: tuple[OrderLine, ...], currency: str, policy: RoundingPolicy) -> Order:
    order, _ = new_order(
        order_id="O1",
        customer=customer(currency),
        lines=lines,
        shipping_address=ADDR,
        now=T0,
        rounding=policy,
    )
    return order


def q(value: Decimal, currency: str, mode: RoundingMode) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=mode.value)


def exact_net(line: OrderLine) -> Decimal:
    gross = WIDE.multiply(line.quantity, line.unit_price.amount)
    discount = WIDE.divide(WIDE.multiply(gross, line.discount_percent), 100)
    if line.discount_amount is not None:
        discount = WIDE.add(discount, line.discount_amount.amount)
    return WIDE.subtract(gross, discount)


# --------------------------------------------------------------------------- totals


@given(data=st.data(), currency=currencies, mode=modes)
def test_totals_reconcile_with_lines(
    data: st.DataObject, currency: str, mode: RoundingMode
) -> None:
    lines = data.draw(priced_lines(currency))
    per_line = build(lines, currency, RoundingPolicy(TaxRounding.PER_LINE, mode)).totals
    per_doc = build(lines, currency, RoundingPolicy(TaxRounding.PER_DOCUMENT, mode)).totals
    unit = Decimal(1).scaleb(-minor_units(currency))

    nets = [q(exact_net(line), currency, mode) for line in lines]
    for totals in (per_line, per_doc):
        assert [a.net.amount for a in totals.lines] == nets
        assert totals.net.amount == sum(nets, Decimal(0))
        assert totals.total == totals.net + totals.tax
        assert sum((b.tax.amount for b in totals.breakdown), Decimal(0)) == totals.tax.amount
        assert all(m.currency == currency for m in (totals.net, totals.tax, totals.total))

    codes = {rate.code for line in lines for rate in line.tax_rates}
    assert {b.rate.code for b in per_line.breakdown} == codes
    bound = Decimal(0)
    for b_line, b_doc in zip(per_line.breakdown, per_doc.breakdown, strict=True):
        rate = b_line.rate
        with_rate = [(ln, n) for ln, n in zip(lines, nets, strict=True) if rate in ln.tax_rates]
        base = sum((n for _, n in with_rate), Decimal(0))
        assert b_line.base.amount == base == b_doc.base.amount
        line_taxes = [q(n * rate.percent / 100, currency, mode) for _, n in with_rate]
        assert b_line.tax.amount == sum(line_taxes, Decimal(0))
        assert b_doc.tax.amount == q(base * rate.percent / 100, currency, mode)
        bound += (len(with_rate) + 1) * unit

    # Per document differs from per line by exactly the reported rounding difference.
    assert per_line.rounding_difference.is_zero()
    assert per_doc.tax - per_line.tax == per_doc.rounding_difference
    assert per_doc.net == per_line.net
    assert abs(per_doc.rounding_difference.amount) <= bound


@given(data=st.data(), currency=currencies, mode=modes, on_grid=st.booleans())
def test_document_discount_spreads_exactly(
    data: st.DataObject, currency: str, mode: RoundingMode, on_grid: bool
) -> None:
    lines = data.draw(priced_lines(currency, on_grid=on_grid))
    order = build(lines, currency, RoundingPolicy(mode=mode))
    net = order.totals.net
    units = net.in_minor_units()
    discount = Money.from_minor_units(data.draw(st.integers(0, units)), currency)
    note(f"net={net} discount={discount}")
    try:
        discounted, events = apply_document_discount(order, discount, T0)
    except OrderDiscountError:
        # Only a line whose exact net lies off the minor-unit grid can be pushed
        # below zero by a share of its rounded net.
        assert not on_grid
        assert any(exact_net(line) != q(exact_net(line), currency, mode) for line in lines)
        return
    zero = Money.zero(currency)
    shares = [
        (after.discount_amount or zero) - (before.discount_amount or zero)
        for before, after in zip(order.lines, discounted.lines, strict=True)
    ]
    assert sum((s.amount for s in shares), Decimal(0)) == discount.amount
    for share, amounts in zip(shares, order.totals.lines, strict=True):
        assert not share.is_negative()
        assert share <= amounts.net
        if units:
            exact_share = discount.amount * amounts.net.amount / net.amount
            assert abs(share.amount - exact_share) < Decimal(1).scaleb(-minor_units(currency))
        else:
            assert share.is_zero()
    drop = net - discounted.totals.net
    if on_grid:
        assert drop == discount
    else:
        assert abs((drop - discount).amount) <= len(lines) * Decimal(1).scaleb(
            -minor_units(currency)
        )
    assert events[0].discount == discount


# --------------------------------------------------------------------------- lifecycle


LIFECYCLE_ERRORS = (
    InvalidTransitionError,
    OrderExpiredError,
    OrderInProgressError,
    OrderExpiryNotDueError,
    OrderNotFulfilledError,
)
PROGRESS_ERRORS = (
    OrderNotConfirmedError,
    OrderQuantityExceededError,
    InvalidOrderQuantityError,
    OrderLineNotFoundError,
    NothingToCancelError,
)
QUANTITIES: st.SearchStrategy[Decimal | str] = st.sampled_from(
    ["all", "all", "rest", "rest", Decimal("0.5"), Decimal(1), Decimal(3), Decimal(0)]
)
ACTIONS = ("ship", "deliver", "invoice", "return")
STARTS = st.sampled_from(
    ["draft", "placed", "held", "confirmed", "partial", "shipped", "fulfilled"]
)
FIELDS = ("quantity", "shipped", "delivered", "invoiced", "returned", "cancelled")


def can(event: OrderEvent) -> Callable[[OrderMachine], bool]:
    """Precondition: the table has a row for ``event`` in the machine's state."""
    return lambda self: ORDER_WORKFLOW.can(self.state, event)


def confirmed(self: OrderMachine) -> bool:
    return self.state is OrderState.CONFIRMED


def final(self: OrderMachine) -> bool:
    return ORDER_WORKFLOW.is_final(self.state)


class OrderMachine(RuleBasedStateMachine):
    """Drives orders with random operations against a small reference model.

    Each rule that can succeed runs only where the table allows its event (so runs
    get far); :meth:`anything` fires any operation in any state to check refusals,
    and :meth:`restart` begins a new order once one is final.
    """

    def __init__(self) -> None:
        super().__init__()
        self.order: Order
        self.state = OrderState.DRAFT
        self.model: dict[str, dict[str, Decimal]] = {}
        self.confirmed_once = False
        self.confirmed_at: datetime | None = None
        self.now = T0
        self.expires_at: datetime | None = None
        self.count = 0

    # -- setup ----------------------------------------------------------------------

    @initialize(
        quantities=st.lists(st.sampled_from(["1", "2", "3", "1.5", "4"]), min_size=1, max_size=3),
        expiry_minutes=st.sampled_from([60, None, 1, None, 720]),
        start=STARTS,
        late=st.booleans(),
    )
    def create(
        self, quantities: list[str], expiry_minutes: int | None, start: str, late: bool
    ) -> None:
        self.count += 1
        self.state = OrderState.DRAFT
        self.confirmed_once = False
        self.confirmed_at = None
        self.expires_at = (
            None if expiry_minutes is None else self.now + timedelta(minutes=expiry_minutes)
        )
        lines = [
            OrderLine(
                line_id=f"L{i}",
                sku=f"S{i}",
                quantity=Decimal(qty),
                unit_price=Money("9.99", "EUR"),
                tax_rates=(RATES[0],),
            )
            for i, qty in enumerate(quantities)
        ]
        self.order, _ = new_order(
            order_id=f"O{self.count}",
            customer=customer("EUR"),
            lines=lines,
            shipping_address=ADDR,
            now=self.now,
            expires_at=self.expires_at,
        )
        zero = Decimal(0)
        self.model = {
            line.line_id: dict.fromkeys(FIELDS, zero) | {"quantity": line.quantity}
            for line in lines
        }
        self.start(start)
        if late:
            # Past any expiry, so that the expiry rules meet every state.
            self.advance(24 * 60)

    def start(self, start: str) -> None:
        """Bring a new order further along through the same checked steps, so that
        the later rules get exercised."""
        if start == "draft":
            return
        self.do_place()
        if start == "held":
            self.do_hold(HoldKind.CREDIT)
        if start in {"placed", "held"}:
            return
        self.do_approve()
        if start == "partial":
            # One unit shipped and invoiced per line: cancelling the rest completes.
            self.progress_all("ship", at_most=Decimal(1))
            self.progress_all("invoice", at_most=Decimal(1))
        if start in {"shipped", "fulfilled"}:
            self.progress_all("ship")
        if start == "fulfilled":
            self.progress_all("invoice")

    @precondition(final)
    @rule(
        quantities=st.lists(st.sampled_from(["1", "2", "3", "1.5", "4"]), min_size=1, max_size=3),
        expiry_minutes=st.sampled_from([60, None, 1, None, 720]),
        start=STARTS,
        late=st.booleans(),
    )
    def restart(
        self, quantities: list[str], expiry_minutes: int | None, start: str, late: bool
    ) -> None:
        self.create(quantities, expiry_minutes, start, late)

    # -- model helpers ------------------------------------------------------------------

    def progress(self) -> bool:
        return any(m["shipped"] or m["invoiced"] for m in self.model.values())

    def lapsed(self) -> bool:
        return (
            self.expires_at is not None and not self.confirmed_once and self.now >= self.expires_at
        )

    def fulfilled(self) -> bool:
        return all(
            m["shipped"] == m["quantity"] - m["cancelled"] == m["invoiced"]
            for m in self.model.values()
        )

    def attempt(
        self,
        op: Callable[[], tuple[Order, tuple[DomainEvent, ...]]],
        *,
        expected: OrderState | None,
        events: tuple[OrderEvent, ...],
        errors: tuple[type[O2CError], ...],
    ) -> bool:
        """Run ``op``; it must succeed exactly when ``expected`` is not None."""
        before = self.order
        try:
            after, emitted = op()
        except O2CError as exc:
            note(f"refused: {exc}")
            assert expected is None, f"the model expected {expected}, got {exc!r}"
            assert isinstance(exc, errors), repr(exc)
            assert self.order is before
            return False
        note(f"{before.state} -> {after.state}: {[e.name for e in emitted]}")
        assert expected is not None, f"the model expected a refusal, got {after.state}"
        assert after.state is expected
        if after.state is not before.state:
            # Every state change is a row of the table, fired by an event of this op.
            assert any(
                ORDER_WORKFLOW.can(before.state, e)
                and ORDER_WORKFLOW.apply(before.state, e) is after.state
                for e in events
            ), (before.state, after.state)
        assert emitted
        assert all(e.aggregate_id == before.id for e in emitted)
        self.order = after
        self.state = expected
        return True

    # -- time ---------------------------------------------------------------------------

    @rule(minutes=st.sampled_from([90, 1, 30, 600, 3000]))
    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    # -- lifecycle ------------------------------------------------------------------------

    @precondition(can(OrderEvent.PLACE))
    @rule(late=st.booleans())
    def try_place(self, late: bool) -> None:
        if late:  # past any expiry first: expiry must refuse it unless confirmed before
            self.advance(24 * 60)
        self.do_place()

    def do_place(self) -> None:
        ok = self.state is OrderState.DRAFT and not self.lapsed()
        self.attempt(
            lambda: place(self.order, self.now),
            expected=OrderState.PLACED if ok else None,
            events=(OrderEvent.PLACE,),
            errors=LIFECYCLE_ERRORS,
        )

    @precondition(can(OrderEvent.APPROVE))
    @rule(late=st.booleans())
    def try_approve(self, late: bool) -> None:
        if late:  # past any expiry first: expiry must refuse it unless confirmed before
            self.advance(24 * 60)
        self.do_approve()

    def do_approve(self) -> None:
        ok = self.state is OrderState.PLACED and not self.lapsed()
        if self.attempt(
            lambda: approve(self.order, self.now),
            expected=OrderState.CONFIRMED if ok else None,
            events=(OrderEvent.APPROVE,),
            errors=LIFECYCLE_ERRORS,
        ):
            self.confirmed_once = True
            self.confirmed_at = self.confirmed_at or self.now

    @precondition(can(OrderEvent.HOLD))
    @rule(kind=st.sampled_from(list(HoldKind)))
    def do_hold(self, kind: HoldKind) -> None:
        ok = self.state in {OrderState.PLACED, OrderState.CONFIRMED}
        self.attempt(
            lambda: hold(self.order, kind, "reason", "tester", self.now),
            expected=OrderState.ON_HOLD if ok else None,
            events=(OrderEvent.HOLD,),
            errors=LIFECYCLE_ERRORS,
        )

    @precondition(can(OrderEvent.RELEASE))
    @rule()
    def do_release(self) -> None:
        ok = self.state is OrderState.ON_HOLD
        if self.attempt(
            lambda: release(self.order, self.now, by="tester"),
            expected=OrderState.PLACED if ok else None,
            events=(OrderEvent.RELEASE,),
            errors=LIFECYCLE_ERRORS,
        ):
            assert self.order.active_holds == ()

    @precondition(can(OrderEvent.OVERRIDE))
    @rule(late=st.booleans())
    def try_override(self, late: bool) -> None:
        if late:  # past any expiry first: expiry must refuse it unless confirmed before
            self.advance(24 * 60)
        self.do_override()

    def do_override(self) -> None:
        ok = self.state is OrderState.ON_HOLD and not self.lapsed()
        if self.attempt(
            lambda: override(self.order, "cfo", "strategic", self.now),
            expected=OrderState.CONFIRMED if ok else None,
            events=(OrderEvent.OVERRIDE,),
            errors=LIFECYCLE_ERRORS,
        ):
            self.confirmed_once = True
            self.confirmed_at = self.confirmed_at or self.now
            assert self.order.overrides[-1].at == self.now

    @precondition(can(OrderEvent.REJECT))
    @rule(go=st.integers(0, 3))
    def rarely_reject(self, go: int) -> None:
        # Final states end an order's story: reach them less often than the rest.
        if not go:
            self.do_reject()

    def do_reject(self) -> None:
        ok = self.state in {OrderState.PLACED, OrderState.ON_HOLD} and not self.progress()
        self.attempt(
            lambda: reject(self.order, "no", self.now),
            expected=OrderState.REJECTED if ok else None,
            events=(OrderEvent.REJECT,),
            errors=LIFECYCLE_ERRORS,
        )

    @precondition(can(OrderEvent.CANCEL))
    @rule(go=st.integers(0, 3))
    def rarely_cancel(self, go: int) -> None:
        if not go:
            self.do_cancel()

    def do_cancel(self) -> None:
        open_states = {
            OrderState.DRAFT,
            OrderState.PLACED,
            OrderState.ON_HOLD,
            OrderState.CONFIRMED,
        }
        ok = self.state in open_states and not self.progress()
        self.attempt(
            lambda: cancel(self.order, "changed mind", self.now),
            expected=OrderState.CANCELLED if ok else None,
            events=(OrderEvent.CANCEL,),
            errors=LIFECYCLE_ERRORS,
        )

    def due(self) -> bool:
        expirable = {OrderState.DRAFT, OrderState.PLACED, OrderState.ON_HOLD}
        return self.state in expirable and self.lapsed()

    @precondition(can(OrderEvent.EXPIRE))
    @rule()
    def do_expire(self) -> None:
        self.attempt(
            lambda: expire(self.order, self.now),
            expected=OrderState.EXPIRED if self.due() else None,
            events=(OrderEvent.EXPIRE,),
            errors=LIFECYCLE_ERRORS,
        )

    @rule()
    def do_expire_if_due(self) -> None:
        if self.due():
            self.attempt(
                lambda: expire_if_due(self.order, self.now),
                expected=OrderState.EXPIRED,
                events=(OrderEvent.EXPIRE,),
                errors=(),
            )
        else:
            before = self.order
            assert expire_if_due(before, self.now) == (before, ())

    @precondition(can(OrderEvent.COMPLETE))
    @rule()
    def do_complete(self) -> None:
        ok = self.state is OrderState.CONFIRMED and self.fulfilled()
        self.attempt(
            lambda: complete(self.order, self.now),
            expected=OrderState.COMPLETED if ok else None,
            events=(OrderEvent.COMPLETE,),
            errors=LIFECYCLE_ERRORS,
        )

    # -- progress -------------------------------------------------------------------------

    def pick(self, data: st.DataObject) -> str:
        known = sorted(self.model)
        return data.draw(st.sampled_from([*known, *known, *known, "NOPE"]), label="line")

    def room(self, line_id: str, action: str) -> Decimal:
        m = self.model[line_id]
        return {
            "ship": m["quantity"] - m["cancelled"] - m["shipped"],
            "deliver": m["shipped"] - m["delivered"],
            "invoice": m["quantity"] - m["cancelled"] - m["invoiced"],
            "return": m["delivered"] - m["returned"],
        }[action]

    @precondition(confirmed)
    @rule(data=st.data(), qty=QUANTITIES)
    def do_ship(self, data: st.DataObject, qty: Decimal | str) -> None:
        self.progress_step(data, "ship", qty)

    @precondition(confirmed)
    @rule(data=st.data(), qty=QUANTITIES)
    def do_deliver(self, data: st.DataObject, qty: Decimal | str) -> None:
        self.progress_step(data, "deliver", qty)

    @precondition(confirmed)
    @rule(data=st.data(), qty=QUANTITIES)
    def do_invoice(self, data: st.DataObject, qty: Decimal | str) -> None:
        self.progress_step(data, "invoice", qty)

    @precondition(confirmed)
    @rule(data=st.data(), qty=QUANTITIES)
    def do_return(self, data: st.DataObject, qty: Decimal | str) -> None:
        self.progress_step(data, "return", qty)

    def progress_step(self, data: st.DataObject, action: str, amount: Decimal | str) -> None:
        if amount == "all":
            self.progress_all(action)
            return
        line_id = self.pick(data)
        # "rest" moves everything still possible, so lines do get fulfilled.
        qty = amount if isinstance(amount, Decimal) else Decimal(0)
        if amount == "rest" and line_id in self.model:
            qty = self.room(line_id, action) or Decimal(1)
        functions: dict[str, Any] = {
            "ship": record_shipment,
            "deliver": record_delivery,
            "invoice": record_invoiced,
            "return": record_return,
        }
        ok = (
            self.open_for(action)
            and line_id in self.model
            and Decimal(0) < qty <= self.room(line_id, action)
        )
        function = functions[action]
        if self.attempt(
            lambda: function(self.order, {line_id: qty}, self.now),
            expected=self.state if ok else None,
            events=(),
            errors=PROGRESS_ERRORS,
        ):
            field = {
                "ship": "shipped",
                "deliver": "delivered",
                "invoice": "invoiced",
                "return": "returned",
            }
            self.model[line_id][field[action]] += qty

    def open_for(self, action: str) -> bool:
        """Progress needs a confirmed order; deliveries and returns also arrive after
        the order completed."""
        return self.state is OrderState.CONFIRMED or (
            self.state is OrderState.COMPLETED and action in {"deliver", "return"}
        )

    def progress_all(self, action: str, at_most: Decimal | None = None) -> None:
        """Move every line's remaining room (or ``at_most`` of it) in one request; an
        empty request is refused."""
        rooms = {line_id: self.room(line_id, action) for line_id in sorted(self.model)}
        if at_most is not None:
            rooms = {line_id: min(room, at_most) for line_id, room in rooms.items()}
        request = {line_id: room for line_id, room in rooms.items() if room > 0}
        functions: dict[str, Any] = {
            "ship": record_shipment,
            "deliver": record_delivery,
            "invoice": record_invoiced,
            "return": record_return,
        }
        ok = self.open_for(action) and bool(request)
        if self.attempt(
            lambda: functions[action](self.order, request, self.now),
            expected=self.state if ok else None,
            events=(),
            errors=PROGRESS_ERRORS,
        ):
            field = {
                "ship": "shipped",
                "deliver": "delivered",
                "invoice": "invoiced",
                "return": "returned",
            }
            for line_id, qty in request.items():
                self.model[line_id][field[action]] += qty

    @precondition(confirmed)
    @rule(data=st.data(), all_lines=st.booleans())
    def do_cancel_remaining(self, data: st.DataObject, all_lines: bool) -> None:
        targets = sorted(self.model) if all_lines else [self.pick(data)]
        cancellable = {
            t: self.model[t]["quantity"]
            - self.model[t]["cancelled"]
            - max(self.model[t]["shipped"], self.model[t]["invoiced"])
            for t in targets
            if t in self.model
        }
        ok = (
            self.state is OrderState.CONFIRMED
            and all(t in self.model for t in targets)
            and any(v > 0 for v in cancellable.values())
        )
        expected: OrderState | None = None
        if ok:
            after = {k: dict(v) for k, v in self.model.items()}
            for t, v in cancellable.items():
                after[t]["cancelled"] += v
            if all(m["quantity"] == m["cancelled"] for m in after.values()):
                expected = OrderState.CANCELLED
            elif all(
                m["shipped"] == m["quantity"] - m["cancelled"] == m["invoiced"]
                for m in after.values()
            ):
                expected = OrderState.COMPLETED
            else:
                expected = OrderState.CONFIRMED
        if self.attempt(
            lambda: cancel_remaining(self.order, self.now, None if all_lines else targets[0]),
            expected=expected,
            events=(OrderEvent.CANCEL, OrderEvent.COMPLETE),
            errors=PROGRESS_ERRORS,
        ):
            for t, v in cancellable.items():
                self.model[t]["cancelled"] += v

    # -- anything, anywhere ---------------------------------------------------------------

    @rule(
        data=st.data(),
        op=st.sampled_from(
            [
                "place",
                "approve",
                "hold",
                "release",
                "override",
                "reject",
                "cancel",
                "expire",
                "complete",
                "progress",
                "cancel_remaining",
            ]
        ),
    )
    def anything(self, data: st.DataObject, op: str) -> None:
        """Any operation in any state: the model says whether it must be refused."""
        if op == "hold":
            self.do_hold(data.draw(st.sampled_from(list(HoldKind))))
        elif op == "progress":
            action = data.draw(st.sampled_from(ACTIONS))
            self.progress_step(data, action, data.draw(QUANTITIES))
        elif op == "cancel_remaining":
            self.do_cancel_remaining(data, data.draw(st.booleans()))
        else:
            getattr(self, f"do_{op}")()

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def matches_model(self) -> None:
        assert self.order.state is self.state
        assert self.order.confirmed_at == self.confirmed_at  # the first confirmation
        for line in self.order.lines:
            m = self.model[line.line_id]
            assert {f: getattr(line, f) for f in FIELDS} == m
            assert Decimal(0) <= m["cancelled"] <= m["quantity"]
            assert m["delivered"] <= m["shipped"] <= m["quantity"] - m["cancelled"]
            assert m["invoiced"] <= m["quantity"] - m["cancelled"]
            assert m["returned"] <= m["delivered"]

    @invariant()
    def statuses_follow_quantities(self) -> None:
        lines = list(self.model.values())
        if not any(m["shipped"] for m in lines):
            expected_ship = ShipmentStatus.NONE
        elif all(m["delivered"] == m["quantity"] - m["cancelled"] for m in lines):
            expected_ship = ShipmentStatus.DELIVERED
        elif all(m["shipped"] == m["quantity"] - m["cancelled"] for m in lines):
            expected_ship = ShipmentStatus.SHIPPED
        else:
            expected_ship = ShipmentStatus.PARTIAL
        assert self.order.shipment_status is expected_ship
        if not any(m["invoiced"] for m in lines):
            expected_bill = BillingStatus.NONE
        elif all(m["invoiced"] == m["quantity"] - m["cancelled"] for m in lines):
            expected_bill = BillingStatus.INVOICED
        else:
            expected_bill = BillingStatus.PARTIAL
        assert self.order.billing_status is expected_bill

    @invariant()
    def progress_only_after_confirmation(self) -> None:
        if self.progress():
            assert self.confirmed_once
            assert self.order.confirmed_at is not None
            assert self.state not in {OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED}

    @invariant()
    def totals_reconcile(self) -> None:
        t = self.order.totals
        assert t.total == t.net + t.tax


TestOrderMachine = OrderMachine.TestCase
