"""Engine part: shipping (partial, rate-shopped across carriers), tracking and delivery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from o2c import fulfilment, orders
from o2c.engine.carriers import ParcelMixin
from o2c.engine.core import Tx
from o2c.engine.records import customers, orders_of, shipments_of
from o2c.engine.sales import canonical_quantities
from o2c.engine.tender_book import check_tender_amount
from o2c.errors import EngineStateError
from o2c.fulfilment import Shipment, ShipmentLine
from o2c.lifecycles import OrderState, ShipmentState
from o2c.money import Money
from o2c.orders import Order
from o2c.tracking import order_key

__all__ = ["ShippingMixin"]


class ShippingMixin(ParcelMixin):
    """Shipments, labels, tracking, delivery and cash on delivery."""

    def ship(
        self,
        key: str,
        order_id: str,
        quantities: Mapping[str, object] | None = None,
        *,
        carrier: str | Sequence[str] | None = None,
        service: str | None = None,
        cod_amount: Money | None = None,
    ) -> Shipment:
        """Ship reserved stock of a confirmed order (all of it, or ``quantities`` per line).

        With carriers configured, rates are shopped: every carrier (or the one or
        ones named in ``carrier``) is asked, a carrier that fails to quote is skipped,
        and the quote is chosen by the ``o2c_choose_rate`` hook or
        ``EngineConfig.rate_rule`` (cheapest by default) among those offering
        ``service`` (any, when None). The label is bought under a key derived from the
        shipment, and the parcel handed over (unless ``hand_over_on_ship`` is off).
        The choice and the promised delivery are kept on the shipment. Without
        carriers, the shipment goes by the host's own fleet. ``cod_amount`` makes the
        carrier collect that cash on delivery (applied to the order's invoices when
        the delivery is known). Units sent to a fulfilment provider are not
        shippable here.

        Raises:
            StockNotReservedError: a line asks for more than its reservation holds.
            NoCarrierQuotedError: no carrier asked offers a (such) service; names
                the carriers that failed to quote.
            UnknownAdapterError: a carrier named is not configured.
            TenderExceedsOrderTotalError: ``cod_amount`` with the order's other
                tenders (cards, store credit, transfers, earlier COD) exceeds its total.
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
            wanted = self._check_shippable(tx, order, quantities, "to_ship")
            if cod_amount is not None:
                # Cash on delivery is one of the order's tenders: with the others it
                # may not take more than the order's total (split tender).
                check_tender_amount(tx.uow, order, cod_amount)
            order, ev = orders.record_shipment(order, wanted, tx.now)
            tx.emit(ev)
            self._take_stock(tx, order.id, wanted)
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
        carrier_name: str | Sequence[str] | None,
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
        return self._buy_label(tx, shipment, carrier_name, service)

    def track_shipment(self, key: str, shipment_id: str) -> Shipment:
        """Ask the carrier for news and apply it (duplicates are ignored; the state is
        a function of every scan seen, whatever order they came in).

        On delivery the order records the delivered quantities and cash the carrier
        collected on delivery is received and applied. A parcel lost or returned to
        sender gives its quantities back to the order (reserved again) and, when
        returned, its goods back to stock.
        """

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            if shipment.tracking_number is None or shipment.carrier is None:
                raise EngineStateError(
                    subject=f"shipment {shipment_id}", reason="it has no carrier tracking"
                )
            _, carrier = self.carrier(shipment.carrier)
            before = shipment.state
            for scan in sorted(carrier.track(shipment.tracking_number), key=order_key):
                shipment, ev = fulfilment.apply_tracking(shipment, scan)
                tx.emit(ev)
            return self._after_tracking(tx, shipment, before)

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

    def _after_tracking(self, tx: Tx, shipment: Shipment, before: ShipmentState) -> Shipment:
        """What follows new tracking: a parcel newly lost or returned to sender gives
        its goods back; a delivery is booked (:meth:`_after_delivery`)."""
        if before is not shipment.state and shipment.state in (
            ShipmentState.LOST,
            ShipmentState.RETURNED_TO_SENDER,
        ):
            shipment = self._release_parcel(
                tx, shipment, restock=shipment.state is ShipmentState.RETURNED_TO_SENDER
            )
        return self._after_delivery(tx, shipment, before)

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
