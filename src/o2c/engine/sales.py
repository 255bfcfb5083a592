"""Engine part: customers, stock, orders and credit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

import attrs

from o2c import credit, orders
from o2c.customers import Address, Customer
from o2c.engine.core import EngineCore, Tx
from o2c.engine.records import (
    customers,
    decisions,
    open_position,
    orders_of,
)
from o2c.errors import (
    EngineStateError,
    InvalidAmountError,
    InvalidOrderQuantityError,
    NothingToDoError,
)
from o2c.events import CustomerRegistered, DomainEvent, StockReceived, StockReleased, StockReserved
from o2c.lifecycles import OrderState
from o2c.money import Money, money_sum, to_decimal
from o2c.orders import Order, OrderLine
from o2c.ports import Reservation, ReservationRequest, StockLevel, TaxQuery
from o2c.terms import days_overdue

__all__ = ["SalesMixin", "canonical_quantities", "order_open_value"]


def _quantity(value: object, what: str, order_id: str = "") -> Decimal:
    def bad(reason: str) -> InvalidOrderQuantityError:
        return InvalidOrderQuantityError(
            order_id=order_id, line_id=what, value=repr(value)[:40], reason=reason
        )

    try:
        qty = to_decimal(value, what="quantity")  # o2c's strict parser: no floats, no NaN
    except InvalidAmountError as exc:
        raise bad(str(exc.fields.get("reason", exc.message))) from None
    if qty <= 0:
        raise bad("must be positive")
    return qty


def canonical_quantities(quantities: Mapping[str, object] | None) -> dict[str, object] | None:
    """Quantities per line as a command's idempotency fingerprint records them.

    ``2``, ``"2"`` and ``Decimal("2.0")`` are one quantity, so a retry that writes it
    another way is a replay, not a conflict. A value that is no quantity is kept as
    given: the command itself refuses it.
    """
    if quantities is None:
        return None
    out: dict[str, object] = {}
    for line_id, value in quantities.items():
        try:
            out[line_id] = _quantity(value, str(line_id))
        except InvalidOrderQuantityError:
            out[line_id] = value
    return out


def order_open_value(order: Order) -> tuple[Money, Money]:
    """``(unbilled, shipped_not_invoiced)``: the gross value of what is neither shipped
    nor invoiced, and of what is shipped but not invoiced."""
    zero = Money.zero(order.currency)
    unbilled, shipped = zero, zero
    for line, amounts in zip(order.lines, order.totals.lines, strict=True):
        open_qty = line.quantity - line.cancelled - line.invoiced
        if open_qty <= 0:
            continue
        gross = amounts.net + amounts.tax
        value = (
            gross
            if open_qty >= line.quantity
            else gross.allocate([open_qty, line.quantity - open_qty])[0]
        )
        shipped_open = max(line.shipped - line.invoiced, Decimal(0))
        if shipped_open <= 0:
            unbilled = unbilled + value
        elif shipped_open >= open_qty:
            shipped = shipped + value
        else:
            part = value.allocate([shipped_open, open_qty - shipped_open])
            shipped = shipped + part[0]
            unbilled = unbilled + part[1]
    return unbilled, shipped


class SalesMixin(EngineCore):
    """Customers, stock, orders and credit."""

    # -- customers and stock ------------------------------------------------------------

    def add_customer(self, key: str, customer: Customer) -> Customer:
        """Add a customer, or replace its master data (same id).

        Returns:
            The customer as stored.

        Raises:
            EngineStateError: ``customer`` is not a :class:`~o2c.customers.Customer`.
            ConfigurationError: its payment terms code names no configured terms.
        """
        if not isinstance(customer, Customer):
            raise EngineStateError(
                subject="add_customer", reason=f"expected a Customer, not {type(customer).__name__}"
            )
        self.config.terms_for(customer.payment_terms)

        def run(tx: Tx) -> Customer:
            customers(tx.uow).put(customer)
            tx.emit(
                (
                    CustomerRegistered(
                        aggregate_id=customer.id,
                        occurred_at=tx.now,
                        customer_name=customer.name,
                        currency=customer.currency,
                    ),
                )
            )
            return customer

        return self._command("add_customer", key, {"customer": customer}, run)

    def receive_stock(self, key: str, sku: str, quantity: Decimal | int | str) -> StockLevel:
        """Add units of ``sku`` to stock (goods received). Backorders are not filled
        automatically: call :meth:`allocate_backorders`.
        """
        qty = _quantity(quantity, "quantity")

        def run(tx: Tx) -> StockLevel:
            level = self.inventory.receive(tx.uow, sku, qty, tx.now)
            tx.emit(
                (
                    StockReceived(
                        aggregate_id=sku,
                        occurred_at=tx.now,
                        quantity=qty,
                        on_hand=level.on_hand,
                        reason="received",
                    ),
                )
            )
            return level

        return self._command("receive_stock", key, {"sku": sku, "quantity": qty}, run)

    def stock(self, sku: str) -> StockLevel:
        """Current stock of ``sku``."""
        return self._read(lambda uow: self.inventory.level(uow, sku))

    # -- orders ---------------------------------------------------------------------

    def place_order(
        self,
        key: str,
        *,
        customer_id: str,
        lines: Sequence[OrderLine],
        order_id: str | None = None,
        shipping_address: Address | None = None,
        expires_at: datetime | None = None,
        notes: str = "",
    ) -> Order:
        """Capture and place an order, check credit, and reserve stock if approved.

        The credit policy decides: an approved order is *confirmed* and its stock
        reserved (what is short is backordered); a held one waits *on_hold* for
        :meth:`release_hold` or :meth:`override_credit`; a rejected one ends.

        Returns:
            The order after the decision.
        """
        fields = {
            "customer_id": customer_id,
            "lines": tuple(lines),
            "order_id": order_id,
            "shipping_address": shipping_address,
            "expires_at": expires_at,
            "notes": notes,
        }

        def run(tx: Tx) -> Order:
            customer = customers(tx.uow).require(customer_id)
            oid = order_id or tx.number("SO")
            ship_to = shipping_address or customer.shipping_addresses[customer.default_shipping]
            priced = self._taxed(customer, lines, ship_to)
            order, ev = orders.new_order(
                order_id=oid,
                customer=customer,
                lines=priced,
                shipping_address=ship_to,
                now=tx.now,
                expires_at=expires_at,
                notes=notes,
            )
            if orders_of(tx.uow).get(oid) is not None:
                raise EngineStateError(subject=f"order {oid}", reason="the id is taken")
            tx.emit(ev)
            order, placed = orders.place(order, tx.now)
            tx.emit(placed)
            return self._decide(tx, customer, order)

        return self._command("place_order", key, fields, run)

    def _taxed(
        self, customer: Customer, lines: Sequence[OrderLine], address: Address
    ) -> Sequence[OrderLine]:
        if self.tax is None:
            return lines
        out = []
        for line in lines:
            rates = self.tax.rates_for(
                TaxQuery(
                    customer_id=customer.id,
                    ship_to=address,
                    sku=line.sku,
                    currency=customer.currency,
                )
            )
            out.append(line if rates is None else attrs.evolve(line, tax_rates=rates))
        return out

    def _decide(self, tx: Tx, customer: Customer, order: Order) -> Order:
        request = credit.CreditRequest(
            order_id=order.id,
            customer_id=customer.id,
            amount=order.totals.total,
            requested_at=tx.now,
            facts=self._credit_facts(tx, customer, exclude=order.id),
        )
        decision, ev = credit.check_credit(self.credit_policy(customer.id), request, tx.now)
        tx.emit(ev)
        decisions(tx.uow).put(decision)
        outcome = decision.outcome
        ev2: tuple[DomainEvent, ...]
        if outcome is credit.CreditOutcome.APPROVE:
            order, ev2 = orders.approve(order, tx.now)
            tx.emit(ev2)
            order = self._reserve(tx, order)
        elif outcome is credit.CreditOutcome.HOLD:
            summary = decision.explain()[0] if decision.explain() else "credit policy"
            order, ev2 = orders.hold(order, orders.HoldKind.CREDIT, summary[:200], "policy", tx.now)
            tx.emit(ev2)
            if tx.notifying:
                tx.notify(
                    "order.held",
                    customer.id,
                    subject=f"Order {order.id} is on credit hold",
                    body="\n".join(decision.explain()),
                    locale=customer.locale,
                    related_id=order.id,
                )
        else:
            order, ev2 = orders.reject(order, "credit policy rejected the order", tx.now)
            tx.emit(ev2)
        orders_of(tx.uow).put(order)
        return order

    def credit_policy(self, customer_id: str) -> credit.CreditPolicy:
        """The credit policy for a customer (plugins may supply their own)."""
        return credit.CreditPolicy.default()

    def _credit_facts(self, tx: Tx, customer: Customer, *, exclude: str) -> credit.CreditFacts:
        currency = customer.currency
        today = tx.now.date()
        position = open_position(tx.uow, customer.id, currency)
        open_invoices = position.invoices
        unbilled, shipped = Money.zero(currency), Money.zero(currency)
        for other in orders_of(tx.uow).find("open_customer", customer.id):
            if other.id == exclude or other.currency != currency:
                continue
            u, s = order_open_value(other)
            unbilled, shipped = unbilled + u, shipped + s
        overdue = [(inv, days_overdue(inv.schedule, inv.settled, today)) for inv in open_invoices]
        overdue = [(inv, days) for inv, days in overdue if days > 0]
        profile = credit.CreditProfile(
            customer_id=customer.id,
            currency=currency,
            limit=customer.credit_limit,
            blocked=customer.blocked,
            blocked_reason=customer.blocked_reason,
            overdue_amount=money_sum((inv.open_amount for inv, _ in overdue), currency),
            oldest_overdue_days=max((d for _, d in overdue), default=0),
        )
        exposure = credit.Exposure.of(
            customer.id,
            currency,
            {
                credit.ExposureComponent.OPEN_RECEIVABLES: position.balance,
                credit.ExposureComponent.UNBILLED_ORDERS: unbilled,
                credit.ExposureComponent.SHIPPED_NOT_INVOICED: shipped,
            },
        )
        return credit.CreditFacts(profile=profile, exposure=exposure)

    def release_hold(self, key: str, order_id: str) -> Order:
        """Release an order's holds and check its credit again (it may be held again)."""

        def run(tx: Tx) -> Order:
            order = orders_of(tx.uow).require(order_id)
            order, ev = orders.release(order, tx.now, by="engine")
            tx.emit(ev)
            customer = customers(tx.uow).require(order.customer_id)
            return self._decide(tx, customer, order)

        return self._command("release_hold", key, {"order_id": order_id}, run)

    def override_credit(
        self, key: str, order_id: str, *, by: str, reason: str, authority: str
    ) -> Order:
        """Approve a held order on an authorised person's word (audited), and reserve."""

        def run(tx: Tx) -> Order:
            order = orders_of(tx.uow).require(order_id)
            decision = decisions(tx.uow).get(order_id)
            if decision is not None:
                decision, ev = credit.apply_override(
                    decision,
                    credit.CreditOverride(by=by, reason=reason, at=tx.now, authority=authority),
                    authorities=self.config.credit_authorities,
                )
                tx.emit(ev)
                decisions(tx.uow).put(decision)
            order, ev2 = orders.override(order, by, reason, tx.now)
            tx.emit(ev2)
            order = self._reserve(tx, order)
            orders_of(tx.uow).put(order)
            return order

        fields = {"order_id": order_id, "by": by, "reason": reason, "authority": authority}
        return self._command("override_credit", key, fields, run)

    def credit_decision(self, order_id: str) -> credit.CreditDecision:
        """The last credit decision on an order (it explains itself: ``.explain()``)."""
        return self._read(lambda uow: decisions(uow).require(order_id))

    def cancel_order(self, key: str, order_id: str, reason: str) -> Order:
        """Cancel an order, or what is left of a confirmed one, and release its stock."""

        def run(tx: Tx) -> Order:
            order = orders_of(tx.uow).require(order_id)
            if order.state is OrderState.CONFIRMED and any(ln.has_progress for ln in order.lines):
                order, ev = orders.cancel_remaining(order, tx.now, reason=reason)
            else:
                order, ev = orders.cancel(order, reason, tx.now)
            tx.emit(ev)
            self._release_open(tx, order, "order cancelled")
            orders_of(tx.uow).put(order)
            return order

        return self._command("cancel_order", key, {"order_id": order_id, "reason": reason}, run)

    # -- reservations ---------------------------------------------------------------

    def _reserve(self, tx: Tx, order: Order) -> Order:
        for line in order.lines:
            if line.to_ship > 0:
                self._reserve_line(tx, order, line, f"{order.id}/{line.line_id}")
        return order

    def _reserve_line(
        self, tx: Tx, order: Order, line: OrderLine, reservation_id: str
    ) -> Reservation:
        """Reserve what a line has still to ship, under a new reservation id."""
        ttl = self.config.reservation_ttl
        request = ReservationRequest(
            reservation_id=reservation_id,
            order_id=order.id,
            line_id=line.line_id,
            sku=line.sku,
            quantity=line.to_ship,
            expires_at=tx.now + ttl if ttl is not None else None,
        )
        res = self.inventory.reserve(tx.uow, request, tx.now)
        tx.emit((_reserved_event(tx, res),))
        return res

    def _release_open(self, tx: Tx, order: Order, reason: str) -> None:
        for res in self.inventory.reservations_for(tx.uow, order.id):
            if res.released:
                continue
            held = res.reserved
            released = self.inventory.release(tx.uow, res.id, tx.now)
            if held > 0:
                tx.emit((_released_event(tx, released, held, reason),))

    def allocate_backorders(self, key: str, sku: str | None = None) -> list[Reservation]:
        """Top up backordered reservations from available stock, oldest order first;
        a line whose reservation expired gets a new one.

        Returns:
            The reservations that received stock.
        """

        def run(tx: Tx) -> tuple[Reservation, ...]:
            filled: list[Reservation] = []
            for order in orders_of(tx.uow).find("state", OrderState.CONFIRMED.value):
                known = self.inventory.reservations_for(tx.uow, order.id)
                for res in known:
                    if res.released or res.backordered <= 0 or (sku and res.sku != sku):
                        continue
                    if self.inventory.level(tx.uow, res.sku).available <= 0:
                        continue
                    request = ReservationRequest(
                        reservation_id=res.id,
                        order_id=res.order_id,
                        line_id=res.line_id,
                        sku=res.sku,
                        quantity=res.requested,
                        expires_at=res.expires_at,
                    )
                    after = self.inventory.reserve(tx.uow, request, tx.now)
                    if after.reserved > res.reserved:
                        filled.append(after)
                        tx.emit((_reserved_event(tx, after),))
                filled += self._reserve_lapsed(tx, order, known, sku)
            return tuple(filled)

        # The stored answer is a tuple, which no caller can change; every call (the
        # first or a replay) gets a list of its own.
        return list(self._command("allocate_backorders", key, {"sku": sku}, run))

    def _reserve_lapsed(
        self, tx: Tx, order: Order, known: Sequence[Reservation], sku: str | None
    ) -> list[Reservation]:
        # A line whose reservation expired holds nothing and is a backorder again; a
        # released reservation cannot be topped up, so it gets a fresh one.
        live = {r.line_id for r in known if not r.released}
        filled: list[Reservation] = []
        for line in order.lines:
            if line.line_id in live or line.to_ship <= 0 or (sku and line.sku != sku):
                continue
            if self.inventory.level(tx.uow, line.sku).available <= 0:
                continue
            tries = sum(1 for r in known if r.line_id == line.line_id)
            reservation_id = f"{order.id}/{line.line_id}/{tries + 1}"
            filled.append(self._reserve_line(tx, order, line, reservation_id))
        return filled

    def expire_reservations(self, key: str) -> list[Reservation]:
        """Release reservations past their expiry (their lines become backorders, which
        :meth:`allocate_backorders` reserves again)."""

        def run(tx: Tx) -> tuple[Reservation, ...]:
            before = {
                r.id: r.reserved
                for r in tx.uow.all("reservation")
                if isinstance(r, Reservation) and not r.released
            }
            expired = self.inventory.expire(tx.uow, tx.now)
            for res in expired:
                tx.emit((_released_event(tx, res, before.get(res.id, Decimal(0)), "expired"),))
            return tuple(expired)

        # A tuple is stored, a fresh list returned (see allocate_backorders).
        return list(self._command("expire_reservations", key, {}, run))

    def reservations(self, order_id: str) -> list[Reservation]:
        """The reservations of an order."""
        return self._read(lambda uow: self.inventory.reservations_for(uow, order_id))

    def _require_quantities(
        self, order: Order, quantities: Mapping[str, object] | None, attr: str
    ) -> dict[str, Decimal]:
        if quantities is None:
            wanted = {ln.line_id: getattr(ln, attr) for ln in order.lines}
            wanted = {k: v for k, v in wanted.items() if v > 0}
        else:
            wanted = {lid: _quantity(q, lid, order.id) for lid, q in quantities.items()}
        if not wanted:
            raise NothingToDoError(subject=f"order {order.id}", reason=f"no {attr} quantity")
        return wanted


def _reserved_event(tx: Tx, res: Reservation) -> StockReserved:
    return StockReserved(
        aggregate_id=res.order_id,
        occurred_at=tx.now,
        reservation_id=res.id,
        line_id=res.line_id,
        sku=res.sku,
        reserved=res.reserved,
        backordered=res.backordered,
        expires_at=res.expires_at,
    )


def _released_event(tx: Tx, res: Reservation, quantity: Decimal, reason: str) -> StockReleased:
    return StockReleased(
        aggregate_id=res.order_id,
        occurred_at=tx.now,
        reservation_id=res.id,
        line_id=res.line_id,
        sku=res.sku,
        quantity=quantity,
        reason=reason,
    )
