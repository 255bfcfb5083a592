"""Engine part:

Carriers and fulfilment providers: rate shopping, labels, cancellation, tracking, 3PL.

* Labels: :meth:`LogisticsMixin.void_label` (before the parcel left; the shipment is
  *pending* again), :meth:`~LogisticsMixin.relabel`,
  :meth:`~LogisticsMixin.hand_over_shipment`, and
  :meth:`~LogisticsMixin.cancel_shipment` (voids the label, restocks the goods and
  gives the quantities back to the order; refused once the parcel left).
* Carrier webhooks: :meth:`~LogisticsMixin.receive_tracking` takes normalised or raw
  scans for a tracking number or shipment id; duplicates and any arrival order end in
  the same state (:mod:`o2c.tracking`).
* Fulfilment providers (3PL): :meth:`~LogisticsMixin.send_to_fulfilment`,
  :meth:`~LogisticsMixin.record_fulfilment_report` (a webhook or a file) and
  :meth:`~LogisticsMixin.poll_fulfilment` turn reported parcels into shipments, once
  each; :meth:`~LogisticsMixin.overdue_fulfilments` lists what is late.

See ``docs/shipping.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal

from o2c import fulfilment, orders, threepl, tracking
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.carriers import fulfilments_of
from o2c.engine.core import Tx, _canonical, derive_key
from o2c.engine.records import orders_of, shipments_of
from o2c.engine.sales import canonical_quantities
from o2c.errors import (
    EngineStateError,
    FulfilmentReportError,
    FulfilmentRequestError,
    NotFoundError,
    ShipmentAlreadyLeftError,
    ShipmentFieldError,
)
from o2c.fulfilment import Shipment, ShipmentLine
from o2c.lifecycles import OrderState, ShipmentState
from o2c.money import Money
from o2c.orders import Order
from o2c.ports import (
    CarrierScan,
    FulfilmentLine,
    FulfilmentReport,
    FulfilmentRequest,
    Label,
    ReportedParcel,
    TrackingDialect,
    TrackingEvent,
    UnitOfWork,
)
from o2c.threepl import FulfilmentOrder

__all__ = ["LogisticsMixin", "tracking_key"]

_NOT_LEFT = frozenset({ShipmentState.PENDING, ShipmentState.LABEL_CREATED})


def _not_left(shipment: Shipment, action: str) -> None:
    """Refuse ``action`` on a shipment that has left (or ended)."""
    if shipment.state is ShipmentState.CANCELLED:
        raise EngineStateError(subject=f"shipment {shipment.id}", reason="it is cancelled")
    if shipment.state not in _NOT_LEFT:
        raise ShipmentAlreadyLeftError(
            shipment_id=shipment.id, state=shipment.state.value, action=action
        )


class LogisticsMixin(AfterSalesMixin):
    """Carriers and fulfilment providers:
    rate shopping, labels, cancellation, tracking, 3PL.
    """

    # -- labels -----------------------------------------------------------------------

    def void_label(self, key: str, shipment_id: str) -> Shipment:
        """Void the label of a shipment that has not left; it is *pending* again
        (relabel it, or cancel it).

        Raises:
            ShipmentAlreadyLeftError: the parcel left (in transit or further).
            EngineStateError: the shipment has no label, or is cancelled.
            LabelAlreadyUsedError: the carrier has already scanned the parcel (track
                it: it is on its way).
        """

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            _not_left(shipment, "void_label")
            if shipment.label_id is None or shipment.carrier is None:
                raise EngineStateError(subject=f"shipment {shipment_id}", reason="it has no label")
            _, carrier = self.carrier(shipment.carrier)
            carrier.void_label(shipment.label_id)
            shipment, ev = fulfilment.void_label(shipment, tx.now)
            tx.emit(ev)
            shipments_of(tx.uow).put(shipment)
            return shipment

        return self._command("void_label", key, {"shipment_id": shipment_id}, run)

    def relabel(
        self,
        key: str,
        shipment_id: str,
        *,
        carrier: str | Sequence[str] | None = None,
        service: str | None = None,
    ) -> Shipment:
        """Buy a new label for a *pending* shipment (after :meth:`void_label`), shopping
        rates as :meth:`ship` does; a retry never buys twice.

        Raises:
            ShipmentAlreadyLeftError: the parcel left.
            EngineStateError: the shipment is labelled already, or cancelled.
            NoCarrierQuotedError: no carrier offers a (such) service.
        """
        fields = {"shipment_id": shipment_id, "carrier": carrier, "service": service}

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            _not_left(shipment, "relabel")
            if shipment.state is not ShipmentState.PENDING:
                raise EngineStateError(
                    subject=f"shipment {shipment_id}", reason="it is labelled; void the label first"
                )
            shipment = self._buy_label(tx, shipment, carrier, service)
            shipments_of(tx.uow).put(shipment)
            return shipment

        return self._command("relabel", key, fields, run)

    def hand_over_shipment(self, key: str, shipment_id: str) -> Shipment:
        """Record that a shipment left (handed to the carrier or the own fleet), for a
        shipment ``ship`` left labelled (``hand_over_on_ship`` off).

        Raises:
            ShipmentAlreadyLeftError: it left already.
            EngineStateError: it is cancelled.
        """

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            _not_left(shipment, "hand_over")
            shipment, ev = fulfilment.hand_over(shipment, tx.now)
            tx.emit(ev)
            shipments_of(tx.uow).put(shipment)
            return shipment

        return self._command("hand_over_shipment", key, {"shipment_id": shipment_id}, run)

    def cancel_shipment(self, key: str, shipment_id: str, reason: str) -> Shipment:
        """Cancel a shipment that has not left: its label is voided with the carrier,
        its goods go back on hand and its quantities back to the order (reserved
        again), so they can ship another way.

        Raises:
            ShipmentAlreadyLeftError: the parcel is in transit (or further): intercept
                it with the carrier or take it back as a return.
            EngineStateError: it is cancelled already.
            LabelAlreadyUsedError: the carrier has already scanned the parcel.
        """

        def run(tx: Tx) -> Shipment:
            shipment = shipments_of(tx.uow).require(shipment_id)
            _not_left(shipment, "cancel")
            shipment, ev = fulfilment.cancel(shipment, reason, tx.now)
            if shipment.label_id is not None and shipment.carrier is not None:
                _, carrier = self.carrier(shipment.carrier)
                carrier.void_label(shipment.label_id)
            tx.emit(ev)
            shipment = self._release_parcel(tx, shipment, restock=True)
            shipments_of(tx.uow).put(shipment)
            return shipment

        fields = {"shipment_id": shipment_id, "reason": reason}
        return self._command("cancel_shipment", key, fields, run)

    # -- carrier webhooks ---------------------------------------------------------------

    def receive_tracking(
        self, carrier: str, reference: str, events: Sequence[TrackingEvent | CarrierScan]
    ) -> Shipment:
        """Apply scans a carrier pushed (a verified webhook) to the shipment with this
        tracking number or id.

        Raw :class:`~o2c.ports.CarrierScan` values are read through the carrier's
        dialect (a carrier implementing :class:`~o2c.ports.TrackingDialect`, else
        o2c's own words, :data:`o2c.tracking.STANDARD`); unknown codes become
        exceptions with the carrier's words. Scans are de-duplicated by event id, and
        the state is a function of every scan seen, so duplicated, late and
        out-of-order deliveries end where in-order single delivery ends. The call's
        idempotency key is derived from the carrier, the reference and the scans:
        the same webhook delivered twice answers the same.

        Raises:
            NotFoundError: no shipment has this tracking number or id.
            EngineStateError: the shipment goes with another carrier.
            TrackingNumberMismatchError: a scan is for another parcel.
            ShipmentFieldError: a scan is malformed.
        """
        batch = tuple(events)
        key = tracking_key(carrier, reference, batch)

        def run(tx: Tx) -> Shipment:
            shipment = _by_reference(tx.uow, reference)
            if shipment.carrier != carrier:
                raise EngineStateError(
                    subject=f"shipment {shipment.id}",
                    reason=f"it goes with {shipment.carrier or 'no carrier'}, not {carrier}",
                )
            adapter = self.carriers.get(carrier)
            dialect = adapter if isinstance(adapter, TrackingDialect) else tracking.STANDARD
            scans: list[TrackingEvent] = []
            for item in batch:
                if isinstance(item, CarrierScan):
                    scans.append(dialect.normalise(item))
                elif isinstance(item, TrackingEvent):
                    scans.append(item)
                else:
                    raise ShipmentFieldError(
                        "scans are TrackingEvent or CarrierScan values",
                        field="events",
                        reason=type(item).__name__,
                    )
            before = shipment.state
            shipment, ev = tracking.apply_scans(shipment, scans)
            tx.emit(ev)
            return self._after_tracking(tx, shipment, before)

        fields = {"carrier": carrier, "reference": reference, "events": batch}
        return self._command("receive_tracking", key, fields, run)

    # -- fulfilment providers (3PL) -------------------------------------------------------

    def send_to_fulfilment(
        self,
        key: str,
        order_id: str,
        provider: str | None = None,
        quantities: Mapping[str, object] | None = None,
    ) -> FulfilmentOrder:
        """Send reserved lines of a confirmed order (all, or ``quantities`` per line) to
        a fulfilment provider to pick, pack and ship. The stock stays reserved until
        the provider reports parcels shipped; o2c will not ship those units itself.

        The provider gets a key derived from the new fulfilment order, so a retry
        never submits twice.

        Raises:
            StockNotReservedError: more than is reserved (and not already sent).
            UnknownAdapterError: no such provider.
            FulfilmentRequestError: the provider's acknowledgement names another
                request.
        """
        fields = {
            "order_id": order_id,
            "provider": provider,
            "quantities": canonical_quantities(quantities),
        }

        def run(tx: Tx) -> FulfilmentOrder:
            order = _confirmed(tx.uow, order_id)
            wanted = self._check_shippable(tx, order, quantities, "to_ship")
            name, adapter = self.fulfilment_provider(provider)
            skus = {ln.line_id: ln.sku for ln in order.lines}
            fo_id = tx.number("FO")
            request = FulfilmentRequest(
                request_id=fo_id,
                order_id=order.id,
                ship_to=order.shipping_address,
                lines=tuple(
                    FulfilmentLine(line_id=lid, sku=skus[lid], quantity=qty)
                    for lid, qty in wanted.items()
                ),
            )
            ack = adapter.submit(request, f"{self.config.label_key_prefix}:fulfilment:{fo_id}")
            if ack.request_id != fo_id:
                raise FulfilmentRequestError(
                    field="ack.request_id", reason=f"acknowledges {str(ack.request_id)[:40]!r}"
                )
            fo, ev = threepl.open_fulfilment(
                fulfilment_id=fo_id,
                order_id=order.id,
                customer_id=order.customer_id,
                provider=name,
                reference=ack.reference,
                lines=request.lines,
                now=tx.now,
                sla=self.config.fulfilment_sla,
            )
            tx.emit(ev)
            fulfilments_of(tx.uow).put(fo)
            return fo

        return self._command("send_to_fulfilment", key, fields, run)

    def record_fulfilment_report(
        self, key: str, provider: str, report: FulfilmentReport
    ) -> FulfilmentOrder:
        """Apply a provider's report: each new parcel becomes a shipment (id
        ``<fulfilment id>/<parcel id>``) that is handed over, tracked like any other,
        and recorded as shipped on the order. Reports and parcels apply once, in any
        order.

        Raises:
            NotFoundError: no fulfilment order is named by the report.
            EngineStateError: the fulfilment order is another provider's.
            FulfilmentReportError: an unknown line, or more shipped than was sent.
        """

        def run(tx: Tx) -> FulfilmentOrder:
            return self._apply_report(tx, provider, report)

        fields = {"provider": provider, "report": report}
        return self._command("record_fulfilment_report", key, fields, run)

    def poll_fulfilment(self, key: str, fulfilment_id: str) -> FulfilmentOrder:
        """Ask the provider for its reports on a fulfilment order and apply the new
        ones (as :meth:`record_fulfilment_report`)."""

        def run(tx: Tx) -> FulfilmentOrder:
            fo = fulfilments_of(tx.uow).require(fulfilment_id)
            _, adapter = self.fulfilment_provider(fo.provider)
            found = sorted(adapter.reports(fo.id), key=lambda r: (r.reported_at, r.report_id))
            for report in found:
                fo = self._apply_report(tx, fo.provider, report)
            return fo

        return self._command("poll_fulfilment", key, {"fulfilment_id": fulfilment_id}, run)

    def _apply_report(self, tx: Tx, provider: str, report: FulfilmentReport) -> FulfilmentOrder:
        if not isinstance(report, FulfilmentReport):
            raise FulfilmentReportError(
                fulfilment_id="", report_id="", parcel_id="", reason="not a FulfilmentReport"
            )
        fo = fulfilments_of(tx.uow).require(str(report.request_id))
        if fo.provider != provider:
            raise EngineStateError(
                subject=f"fulfilment {fo.id}", reason=f"it was sent to {fo.provider}"
            )
        fo, parcels, ev = threepl.apply_report(fo, report, tx.now)
        tx.emit(ev)
        if parcels:
            order = _confirmed(tx.uow, fo.order_id)
            for parcel in parcels:
                order = self._ship_parcel(tx, fo, order, parcel)
            orders_of(tx.uow).put(order)
        fulfilments_of(tx.uow).put(fo)
        return fo

    def _ship_parcel(
        self, tx: Tx, fo: FulfilmentOrder, order: Order, parcel: ReportedParcel
    ) -> Order:
        wanted: dict[str, Decimal] = {}
        for line in parcel.lines:
            wanted[line.line_id] = wanted.get(line.line_id, Decimal(0)) + Decimal(line.quantity)
        order, shipped = orders.record_shipment(order, wanted, tx.now)
        tx.emit(shipped)
        self._take_stock(tx, order.id, wanted)
        shipment, ev = fulfilment.create_shipment(
            shipment_id=threepl.parcel_shipment_id(fo.id, parcel.parcel_id),
            order_id=order.id,
            customer_id=order.customer_id,
            lines=tuple(
                ShipmentLine(line_id=ln.line_id, sku=ln.sku, quantity=ln.quantity)
                for ln in parcel.lines
            ),
            ship_to=order.shipping_address,
            now=parcel.shipped_at,
            fulfilment_id=fo.id,
        )
        tx.emit(ev)
        if parcel.tracking_number is not None and parcel.carrier is not None:
            label = Label(
                label_id=f"{fo.provider}:{parcel.parcel_id}",
                carrier=parcel.carrier,
                service=parcel.service or fo.provider,
                tracking_number=parcel.tracking_number,
                cost=Money.zero(order.currency),  # billed by the provider, not known here
            )
            shipment, ev = fulfilment.attach_label(shipment, label, parcel.shipped_at)
            tx.emit(ev)
        shipment, ev = fulfilment.hand_over(shipment, parcel.shipped_at)
        tx.emit(ev)
        shipments_of(tx.uow).put(shipment)
        return order

    # -- reads --------------------------------------------------------------------------

    def fulfilment(self, fulfilment_id: str) -> FulfilmentOrder:
        """A fulfilment order (3PL)."""
        return self._read(lambda uow: fulfilments_of(uow).require(fulfilment_id))

    def fulfilments(self, order_id: str) -> list[FulfilmentOrder]:
        """An order's fulfilment orders."""
        return self._read(lambda uow: fulfilments_of(uow).find("order_id", order_id))

    def overdue_fulfilments(self) -> list[FulfilmentOrder]:
        """Fulfilment orders sent and not shipped in full past their SLA (``due_by``),
        most overdue first."""
        now = self.clock.now()
        found = self._read(lambda uow: fulfilments_of(uow).find("open", "1"))
        return sorted((fo for fo in found if fo.is_overdue(now)), key=lambda f: (f.due_by, f.id))


def tracking_key(
    carrier: str, reference: str, events: Sequence[TrackingEvent | CarrierScan]
) -> str:
    """The idempotency key :meth:`LogisticsMixin.receive_tracking` runs under: derived
    from the carrier, the reference and the scans, so a webhook delivered twice is a
    replay, and any other batch is a call of its own."""
    digest = hashlib.sha256(_canonical([reference, list(events)]).encode()).hexdigest()
    return derive_key(f"tracking:{carrier}", digest)


def _confirmed(uow: UnitOfWork, order_id: str) -> Order:
    order = orders_of(uow).require(order_id)
    if order.state is not OrderState.CONFIRMED:
        raise EngineStateError(
            subject=f"order {order_id}", reason=f"it is {order.state.value}, not confirmed"
        )
    return order


def _by_reference(uow: UnitOfWork, reference: str) -> Shipment:
    repo = shipments_of(uow)
    found = repo.get(reference) if isinstance(reference, str) and reference else None
    if found is not None:
        return found
    matches = repo.find("tracking_number", reference) if isinstance(reference, str) else []
    if len(matches) != 1:
        raise NotFoundError(
            f"no shipment with tracking number or id {str(reference)[:80]!r}",
            kind="shipment",
            id=str(reference)[:80],
        )
    return matches[0]
