"""Engine part: what shipping, labels and 3PLs share (rate shopping, label purchase,
reserved stock, goods given back).

* **Rate shopping** (:meth:`ParcelMixin._shop`): every carrier asked (or the ones
  named) quotes; one that raises is skipped and reported; the quotes are chosen from
  by the ``o2c_choose_rate`` hook, else by ``EngineConfig.rate_rule``
  (:mod:`o2c.rates`).
* **Labels** are bought under a key derived from the shipment (its id, the label
  attempt, and a digest of the request and rate), so a retried ``ship`` or
  ``relabel`` reaches the carrier with the same key and never buys twice.
* **Reserved stock**: a line may hold several live reservations (one reopened after
  a lost parcel, say); shipping takes from the oldest first, and what an open
  fulfilment order (3PL) holds is not shippable by o2c itself.
* **Goods given back** (:meth:`ParcelMixin._release_parcel`): a shipment cancelled
  before it left, lost or returned to sender gives its quantities back to a
  confirmed order (a fresh reservation per line, named after the shipment) and, when
  the goods are physically back, restocks them first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

import attrs

from o2c import fulfilment, reshipment
from o2c.engine.billing import BillingMixin
from o2c.engine.core import Repo, Tx, _canonical, _pick
from o2c.engine.records import orders_of
from o2c.errors import NoCarrierQuotedError, StockNotReservedError, UnknownAdapterError
from o2c.events import StockReceived, StockReserved
from o2c.fulfilment import Shipment
from o2c.money import Money
from o2c.orders import Order
from o2c.ports import (
    FulfilmentProvider,
    Kind,
    Rate,
    Reservation,
    ReservationRequest,
    ShipmentRequest,
    UnitOfWork,
)
from o2c.rates import Quote, QuoteFailure, RateChoice, choose, promise
from o2c.threepl import FulfilmentOrder, FulfilmentStatus

__all__ = ["ParcelMixin", "fulfilments_of"]

#: Asks the ``o2c_choose_rate`` hook: ``(plugin name, quote)`` or None.
PluginChooser = Callable[[ShipmentRequest, tuple[Quote, ...]], "tuple[str, Quote] | None"]


def _fulfilment_index(fo: FulfilmentOrder) -> Mapping[str, str]:
    index = {"order_id": fo.order_id, "provider": fo.provider}
    if fo.status is not FulfilmentStatus.SHIPPED:
        index["open"] = "1"
    return index


def fulfilments_of(uow: UnitOfWork) -> Repo[FulfilmentOrder]:
    """Fulfilment orders (3PL), found by ``order_id``, ``provider`` and ``open``."""
    return Repo(uow, Kind.FULFILMENT.value, _fulfilment_index)


def _valid_rate(rate: object) -> bool:
    return (
        isinstance(rate, Rate)
        and isinstance(rate.service, str)
        and bool(rate.service.strip())
        and isinstance(rate.amount, Money)
        and not rate.amount.is_negative()
        and isinstance(rate.transit_days, int)
        and not isinstance(rate.transit_days, bool)
        and rate.transit_days >= 0
        and (rate.promised_by is None or rate.promised_by.tzinfo is not None)
    )


class ParcelMixin(BillingMixin):
    """Rate shopping, labels, reserved stock and goods given back."""

    #: Set by :class:`o2c.engine.O2C` when a plugin implements ``o2c_choose_rate``.
    choose_rate_hook: PluginChooser | None = None

    # -- adapters -------------------------------------------------------------------

    def fulfilment_provider(self, name: str | None) -> tuple[str, FulfilmentProvider]:
        """The named fulfilment provider (the only one when ``name`` is None)."""
        return _pick("fulfilment provider", self.fulfilment_providers, name)

    def _carrier_names(self, carrier: str | Sequence[str] | None) -> tuple[str, ...]:
        if carrier is None:
            if not self.carriers:
                raise UnknownAdapterError(
                    "no carrier is configured", role="carrier", name=None, available=()
                )
            return tuple(sorted(self.carriers))
        names = (carrier,) if isinstance(carrier, str) else tuple(carrier)
        for name in names:
            self.carrier(name)  # refuses an unknown name, listing the known ones
        if not names:
            raise UnknownAdapterError(
                "name at least one carrier",
                role="carrier",
                name=None,
                available=tuple(sorted(self.carriers)),
            )
        return tuple(sorted(set(names)))

    # -- rate shopping and labels -----------------------------------------------------

    def _request(self, shipment: Shipment) -> ShipmentRequest:
        weight = sum(
            (
                self.config.weights.get(ln.sku, self.config.default_weight_grams) * ln.quantity
                for ln in shipment.lines
            ),
            Decimal(0),
        )
        return ShipmentRequest(
            shipment_id=shipment.id,
            ship_to=shipment.ship_to,
            weight_grams=max(1, int(weight)),
            cod_amount=shipment.cod_amount,
        )

    def _shop(
        self,
        tx: Tx,
        request: ShipmentRequest,
        carrier: str | Sequence[str] | None,
        service: str | None,
    ) -> RateChoice:
        """Ask the carriers, choose one quote (see the module notes)."""
        names = self._carrier_names(carrier)
        quotes: list[Quote] = []
        failures: list[QuoteFailure] = []
        for name in names:
            try:
                rates = list(self.carriers[name].rates(request))
            except Exception as exc:  # a carrier that cannot quote is skipped, not fatal
                failures.append(QuoteFailure.of(name, exc))
                continue
            for rate in rates:
                if not _valid_rate(rate):
                    failures.append(
                        QuoteFailure(carrier=name, error="invalid_rate", message=repr(rate)[:200])
                    )
                elif service is None or rate.service == service:
                    quotes.append(Quote(carrier=name, rate=rate, promised_by=promise(rate, tx.now)))
        if not quotes:
            wanted = f"service {service!r}" if service else "a rate"
            raise NoCarrierQuotedError(
                subject=f"shipment {request.shipment_id}",
                reason=f"no carrier of {', '.join(names)} offers {wanted}",
                failures=tuple(f"{f.carrier}: {f.error}" for f in failures),
            )
        decided = None
        if self.choose_rate_hook is not None:
            decided = self.choose_rate_hook(request, tuple(sorted(quotes, key=_price)))
        return choose(quotes, self.config.rate_rule, failures=failures, decided=decided)

    def _label_key(self, shipment: Shipment, request: ShipmentRequest, rate: Rate) -> str:
        attempt = len(shipment.voided_labels) + 1
        digest = hashlib.sha256(f"{_canonical(request)}|{_canonical(rate)}".encode()).hexdigest()
        return f"{self.config.label_key_prefix}:label:{shipment.id}:{attempt}:{digest[:16]}"

    def _buy_label(
        self,
        tx: Tx,
        shipment: Shipment,
        carrier: str | Sequence[str] | None,
        service: str | None,
    ) -> Shipment:
        """Shop, buy the chosen label (keyed by the shipment), attach it; hand it over
        when the configuration says so."""
        request = self._request(shipment)
        choice = self._shop(tx, request, carrier, service)
        chosen = choice.chosen
        label = self.carriers[chosen.carrier].buy_label(
            request, chosen.rate, self._label_key(shipment, request, chosen.rate)
        )
        # The shipment names the carrier as the engine knows it, for tracking later.
        label = attrs.evolve(label, carrier=chosen.carrier)
        shipment, ev = fulfilment.attach_label(
            shipment, label, tx.now, rate_choice=choice, promised_by=chosen.promised_by
        )
        tx.emit(ev)
        if self.config.hand_over_on_ship:
            shipment, ev = fulfilment.hand_over(shipment, tx.now)
            tx.emit(ev)
        return shipment

    # -- reserved stock -------------------------------------------------------------

    def _live(self, tx: Tx, order_id: str) -> dict[str, list[Reservation]]:
        """Live reservations per line, oldest first."""
        held: dict[str, list[Reservation]] = {}
        for res in self.inventory.reservations_for(tx.uow, order_id):
            if not res.released:
                held.setdefault(res.line_id, []).append(res)
        return held

    def _at_providers(self, tx: Tx, order_id: str) -> dict[str, Decimal]:
        """Units per line sent to a fulfilment provider and not yet reported shipped."""
        out: dict[str, Decimal] = {}
        for fo in fulfilments_of(tx.uow).find("order_id", order_id):
            for line_id, qty in fo.outstanding.items():
                out[line_id] = out.get(line_id, Decimal(0)) + qty
        return out

    def _shippable(self, tx: Tx, order: Order) -> dict[str, Decimal]:
        """Units per line o2c may ship itself: reserved, less what a 3PL holds."""
        at_3pl = self._at_providers(tx, order.id)
        out: dict[str, Decimal] = {}
        for line_id, found in self._live(tx, order.id).items():
            free = sum((r.reserved for r in found), Decimal(0)) - at_3pl.get(line_id, Decimal(0))
            out[line_id] = max(free, Decimal(0))
        return out

    def _check_shippable(
        self, tx: Tx, order: Order, quantities: Mapping[str, object] | None, attr: str
    ) -> dict[str, Decimal]:
        free = self._shippable(tx, order)
        if quantities is None:
            wanted = {lid: qty for lid, qty in free.items() if qty > 0}
        else:
            wanted = self._require_quantities(order, quantities, attr)
        if not wanted:
            raise StockNotReservedError(
                subject=f"order {order.id}",
                reason="nothing is reserved",
                line_id="",
                requested="0",
                reserved="0",
            )
        for line_id, qty in wanted.items():
            reserved = free.get(line_id, Decimal(0))
            if qty > reserved:
                raise StockNotReservedError(
                    subject=f"order {order.id}",
                    reason=f"line {line_id} asks {qty}, {reserved} reserved",
                    line_id=line_id,
                    requested=str(qty),
                    reserved=str(reserved),
                )
        return wanted

    def _take_stock(self, tx: Tx, order_id: str, wanted: Mapping[str, Decimal]) -> None:
        """Consume ``wanted`` units per line from its live reservations, oldest first."""
        live = self._live(tx, order_id)
        for line_id, qty in wanted.items():
            left = qty
            for res in live.get(line_id, []):
                take = min(left, res.reserved)
                if take > 0:
                    self.inventory.consume(tx.uow, res.id, take, tx.now)
                    left -= take
            if left > 0:
                raise StockNotReservedError(
                    subject=f"order {order_id}",
                    reason=f"line {line_id} lacks {left} reserved units",
                    line_id=line_id,
                    requested=str(qty),
                    reserved=str(qty - left),
                )

    # -- goods given back -----------------------------------------------------------

    def _release_parcel(self, tx: Tx, shipment: Shipment, *, restock: bool) -> Shipment:
        """Restock a shipment's goods (when they are back) and give its quantities back
        to a confirmed order, reserved again under ids named after the shipment."""
        order = orders_of(tx.uow).require(shipment.order_id)
        reopen = reshipment.can_reopen(order)
        if restock:
            for line in shipment.lines:
                level = self.inventory.receive(tx.uow, line.sku, line.quantity, tx.now)
                tx.emit(
                    (
                        StockReceived(
                            aggregate_id=line.sku,
                            occurred_at=tx.now,
                            quantity=line.quantity,
                            on_hand=level.on_hand,
                            reason=f"restocked from shipment {shipment.id}",
                        ),
                    )
                )
        if reopen:
            quantities = {ln.line_id: ln.quantity for ln in shipment.lines}
            order, unshipped = reshipment.unship(
                order, quantities, tx.now, shipment_id=shipment.id, reason=shipment.state.value
            )
            tx.emit(unshipped)
            orders_of(tx.uow).put(order)
            ttl = self.config.reservation_ttl
            for line in shipment.lines:
                res = self.inventory.reserve(
                    tx.uow,
                    ReservationRequest(
                        reservation_id=f"{order.id}/{line.line_id}/{shipment.id}",
                        order_id=order.id,
                        line_id=line.line_id,
                        sku=line.sku,
                        quantity=line.quantity,
                        expires_at=tx.now + ttl if ttl is not None else None,
                    ),
                    tx.now,
                )
                tx.emit(
                    (
                        StockReserved(
                            aggregate_id=order.id,
                            occurred_at=tx.now,
                            reservation_id=res.id,
                            line_id=res.line_id,
                            sku=res.sku,
                            reserved=res.reserved,
                            backordered=res.backordered,
                            expires_at=res.expires_at,
                        ),
                    )
                )
        shipment, ev = fulfilment.release_goods(
            shipment, tx.now, restocked=restock, reopened=reopen
        )
        tx.emit(ev)
        return shipment


def _price(q: Quote) -> tuple[object, ...]:
    return (q.amount.currency, q.amount.amount, q.promised_by, q.carrier, q.service)
