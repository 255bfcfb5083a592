"""Engine part: shipping (partial, through a carrier), tracking and delivery."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import attrs

from o2c import fulfilment, orders
from o2c.engine.billing import BillingMixin
from o2c.engine.core import Tx, derive_key
from o2c.engine.records import customers, orders_of, shipments_of
from o2c.engine.sales import canonical_quantities
from o2c.errors import EngineStateError, NoCarrierRateError, StockNotReservedError
from o2c.fulfilment import Shipment, ShipmentLine
from o2c.lifecycles import OrderState, ShipmentState
from o2c.money import Money
from o2c.orders import Order
from o2c.ports import Rate, ShipmentRequest

__all__ = ["ShippingMixin"]


class ShippingMixin(BillingMixin):
    """Shipments, labels, tracking, delivery and cash on delivery."""

    def ship(
        self,
        key: str,
        order_id: str,
        quantities: Mapping[str, object] | None = None,
        *,
        carrier: str | None = None,
        service: str | None = None,
        cod_amount: Money | None = None,
    ) -> Shipment:
        """Ship reserved stock of a confirmed order (all of it, or ``quantities`` per line).

        With carriers configured, the carrier's rates are asked, the service named (or
        the cheapest) is bought and the parcel handed over; without, the shipment goes
        by the host's own fleet. ``cod_amount`` makes the carrier collect that cash on
        delivery (it is applied to the order's invoices when the delivery is known).

        Raises:
            StockNotReservedError: a line asks for more than its reservation holds.
            NoCarrierRateError: the carrier offers no (such) service.
        """
        fields = {
            "order_id": order_id,
            "quantities": canonical_quantities(quantities),
            "carrier": carrier,
            "service": service,
            "cod_amount": cod_amount,
        }

        def run(tx: Tx) -> Shipment:
            order = orders_of(tx.uow).require(order_id)
            if order.state is not OrderState.CONFIRMED:
                raise EngineStateError(
                    subject=f"order {order_id}", reason=f"it is {order.state.value}, not confirmed"
                )
            held = {
                r.line_id: r
                for r in self.inventory.reservations_for(tx.uow, order.id)
                if not r.released
            }
            if quantities is None:
                wanted = {lid: r.reserved for lid, r in held.items() if r.reserved > 0}
            else:
                wanted = self._require_quantities(order, quantities, "to_ship")
            if not wanted:
                raise StockNotReservedError(
                    subject=f"order {order_id}",
                    reason="nothing is reserved",
                    line_id="",
                    requested="0",
                    reserved="0",
                )
            for line_id, qty in wanted.items():
                res = held.get(line_id)
                reserved = res.reserved if res is not None else Decimal(0)
                if qty > reserved:
                    raise StockNotReservedError(
                        subject=f"order {order_id}",
                        reason=f"line {line_id} asks {qty}, {reserved} reserved",
                        line_id=line_id,
                        requested=str(qty),
                        reserved=str(reserved),
                    )
            order, ev = orders.record_shipment(order, wanted, tx.now)
            tx.emit(ev)
            for line_id, qty in wanted.items():
                self.inventory.consume(tx.uow, held[line_id].id, qty, tx.now)
            shipment = self._dispatch_parcel(
                tx, order, wanted, carrier_name=carrier, service=service, cod_amount=cod_amount
            )
            orders_of(tx.uow).put(order)
            shipments_of(tx.uow).put(shipment)
            return shipment

        return self._command("ship", key, fields, run)

    def _dispatch_parcel(
        self,
        tx: Tx,
        order: Order,
        wanted: Mapping[str, Decimal],
        *,
        carrier_name: str | None,
        service: str | None,
        cod_amount: Money | None,
    ) -> Shipment:
        by_id = {ln.line_id: ln for ln in order.lines}
        lines = tuple(
            ShipmentLine(line_id=lid, sku=by_id[lid].sku, quantity=qty)
            for lid, qty in wanted.items()
        )
        shipment, ev = fulfilment.create_shipment(
            shipment_id=tx.number("SH"),
            order_id=order.id,
            customer_id=order.customer_id,
            lines=lines,
            ship_to=order.shipping_address,
            now=tx.now,
            cod_amount=cod_amount,
        )
        tx.emit(ev)
        if not self.carriers and carrier_name is None:
            shipment, ev = fulfilment.hand_over(shipment, tx.now)
            tx.emit(ev)
            return shipment
        name, carrier = self.carrier(carrier_name)
        weight = sum(
            (
                self.config.weights.get(ln.sku, self.config.default_weight_grams) * ln.quantity
                for ln in lines
            ),
            Decimal(0),
        )
        request = ShipmentRequest(
            shipment_id=shipment.id,
            ship_to=order.shipping_address,
            weight_grams=max(1, int(weight)),
            cod_amount=cod_amount,
        )
        rates = [r for r in carrier.rates(request) if service is None or r.service == service]
        if not rates:
            raise NoCarrierRateError(
                subject=f"shipment {shipment.id}",
                reason=f"carrier {name} offers no {service or 'service'}",
            )
        rate: Rate = min(rates, key=lambda r: (r.amount.amount, r.transit_days))
        label = carrier.buy_label(request, rate, derive_key(tx.key, "label"))
        # The shipment names the carrier as the engine knows it, for tracking later.
        label = attrs.evolve(label, carrier=name)
        shipment, ev = fulfilment.attach_label(shipment, label, tx.now)
        tx.emit(ev)
        shipment, ev = fulfilment.hand_over(shipment, tx.now)
        tx.emit(ev)
        return shipment

    def track_shipment(self, key: str, shipment_id: str) -> Shipment:
        """Ask the carrier for news and apply it (duplicates and stale scans are ignored).

        On delivery the order records the delivered quantities and cash the carrier
        collected on delivery is received and applied.
        """

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            if shipment.tracking_number is None or shipment.carrier is None:
                raise EngineStateError(
                    subject=f"shipment {shipment_id}", reason="it has no carrier tracking"
                )
            _, carrier = self.carrier(shipment.carrier)
            before = shipment.state
            for scan in sorted(
                carrier.track(shipment.tracking_number), key=lambda e: e.occurred_at
            ):
                shipment, ev = fulfilment.apply_tracking(shipment, scan)
                tx.emit(ev)
            return self._after_delivery(tx, shipment, before)

        return self._command("track_shipment", key, {"shipment_id": shipment_id}, run)

    def confirm_delivery(self, key: str, shipment_id: str) -> Shipment:
        """Record a proof of delivery given by hand (own fleet, pickup)."""

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            before = shipment.state
            shipment, ev = fulfilment.deliver(shipment, tx.now)
            tx.emit(ev)
            return self._after_delivery(tx, shipment, before)

        return self._command("confirm_delivery", key, {"shipment_id": shipment_id}, run)

    def _after_delivery(self, tx: Tx, shipment: Shipment, before: ShipmentState) -> Shipment:
        shipments_of(tx.uow).put(shipment)
        if before is ShipmentState.DELIVERED or shipment.state is not ShipmentState.DELIVERED:
            return shipment
        order = orders_of(tx.uow).require(shipment.order_id)
        quantities = fulfilment.delivered_quantities(shipment)
        order, ev = orders.record_delivery(order, quantities, tx.now)
        tx.emit(ev)
        orders_of(tx.uow).put(order)
        if tx.notifying:
            locale = customers(tx.uow).require(order.customer_id).locale
            tx.notify(
                "shipment.delivered",
                order.customer_id,
                subject=f"Order {order.id}: delivered",
                body=f"Shipment {shipment.id} of order {order.id} was delivered.",
                locale=locale,
                related_id=shipment.id,
            )
        if shipment.cod_amount is not None:
            self._receive(
                tx,
                amount=shipment.cod_amount,
                method="cash_on_delivery",
                customer_id=shipment.customer_id,
                reference=shipment.id,
                order_id=shipment.order_id,
            )
        return shipment

    def shipment(self, shipment_id: str) -> Shipment:
        """A shipment."""
        return self._read(lambda uow: shipments_of(uow).require(shipment_id))

    def shipments(self, order_id: str) -> list[Shipment]:
        """An order's shipments."""
        return self._read(lambda uow: shipments_of(uow).find("order_id", order_id))
