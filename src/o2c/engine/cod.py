"""Engine part: cash on delivery, the carrier's side (remittances and the open position).

The customer's side is unchanged: on delivery the cash the carrier collected is
received and applied to the order's invoices (:meth:`~o2c.engine.O2C.track_shipment`),
because the customer has paid. From then on the carrier owes it, and this part keeps
that receivable visible until the carrier remits it (see :mod:`o2c.remittance` and
``docs/payments-methods.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from o2c import remittance
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.core import Tx
from o2c.engine.records import cod_collections, remittances_of, shipments_of
from o2c.errors import RemittanceAlreadyRecordedError
from o2c.fulfilment import Shipment
from o2c.lifecycles import ShipmentState
from o2c.money import Money
from o2c.ports import UnitOfWork
from o2c.remittance import CodCollection, CodFacts, CodPosition, CodRemittance, CodStatus

__all__ = ["CodMixin"]


class CodMixin(AfterSalesMixin):
    """Carriers' cash-on-delivery remittances, reconciled against deliveries."""

    def record_cod_remittance(
        self,
        key: str,
        carrier: str,
        remittance_id: str,
        items: Sequence[tuple[str, Money]],
        fee: Money | None = None,
    ) -> CodRemittance:
        """Record a carrier paying over cash it collected on delivery, and reconcile it.

        Each line names a shipment (by o2c's id or the carrier's tracking number) and
        the gross amount remitted for it; ``fee`` is what the carrier kept out of the
        payment (booked explicitly: ``net = gross - fee`` reached the bank). A line
        equal to what its shipment still owes **settles** it; anything else is kept as
        a discrepancy in the result and stays open in :meth:`cod_position`:
        ``short``, ``over``, ``unknown`` (no COD shipment of this carrier's) or
        ``not_delivered`` (o2c has no delivery yet; the amount stands against the
        shipment and balances once the delivery is recorded).

        Customers' invoices are not touched: they were settled at delivery.

        Raises:
            RemittanceAlreadyRecordedError: this carrier's remittance id was recorded
                before (under another key): nothing is booked twice.
            RemittanceFieldError: no lines, a malformed line, a fee above the gross.
            CurrencyMismatchError: lines in several currencies.
            UnknownAdapterError: no carrier of that name is configured.
        """
        fields = {
            "carrier": carrier,
            "remittance_id": remittance_id,
            "items": items,
            "fee": fee,
        }

        def run(tx: Tx) -> CodRemittance:
            name, _ = self.carrier(carrier)
            record_id = remittance.remittance_key(name, remittance_id)
            if remittances_of(tx.uow).get(record_id) is not None:
                raise RemittanceAlreadyRecordedError(
                    f"remittance {remittance_id!r} of {name} was recorded already",
                    carrier=name,
                    remittance_id=remittance_id,
                )
            recorded, ev = remittance.reconcile(
                carrier=name,
                remittance_id=remittance_id,
                items=items,
                fee=fee,
                facts=lambda item_id: _facts(tx.uow, item_id),
                now=tx.now,
            )
            tx.emit(ev)
            ledgers = cod_collections(tx.uow)
            for line in recorded.lines:
                if line.status is CodStatus.UNKNOWN:
                    continue
                shipment = shipments_of(tx.uow).require(line.shipment_id)
                ledger = ledgers.get(shipment.id) or CodCollection(
                    shipment_id=shipment.id,
                    carrier=name,
                    cod_amount=cast(Money, shipment.cod_amount),  # matched as COD
                )
                ledgers.put(ledger.add(recorded.remittance_id, line.amount))
            remittances_of(tx.uow).put(recorded)
            return recorded

        return self._command("record_cod_remittance", key, fields, run)

    def cod_remittance(self, carrier: str, remittance_id: str) -> CodRemittance:
        """A recorded remittance, with every line's status."""
        record_id = remittance.remittance_key(carrier, remittance_id)
        return self._read(lambda uow: remittances_of(uow).require(record_id))

    def cod_position(self, carrier: str, currency: str) -> CodPosition:
        """The carrier's cash-on-delivery account in ``currency``, open items only:
        parcels delivered and not (fully) remitted, what it remitted too much or for
        nothing known, and the fees it kept."""

        def read(uow: UnitOfWork) -> CodPosition:
            shipments = [
                (s.id, s.cod_amount, s.state is ShipmentState.DELIVERED)
                for s in shipments_of(uow).find("cod_carrier", carrier)
                if s.cod_amount is not None
            ]
            ledgers = {c.shipment_id: c for c in cod_collections(uow).find("carrier", carrier)}
            return remittance.position(
                carrier=carrier,
                currency=currency,
                shipments=shipments,
                collections=ledgers,
                remittances=remittances_of(uow).find("carrier", carrier),
            )

        return self._read(read)


def _facts(uow: UnitOfWork, item_id: str) -> CodFacts:
    """What o2c knows of the shipment a remittance line names (id or tracking number)."""
    shipment: Shipment | None = shipments_of(uow).get(item_id)
    if shipment is None:
        found = shipments_of(uow).find("tracking_number", item_id)
        shipment = found[0] if len(found) == 1 else None
    if shipment is None:
        return CodFacts(shipment_id=None)
    ledger = cod_collections(uow).get(shipment.id)
    return CodFacts(
        shipment_id=shipment.id,
        carrier=shipment.carrier,
        cod_amount=shipment.cod_amount,
        delivered=shipment.state is ShipmentState.DELIVERED,
        remitted=ledger.remitted if ledger is not None else None,
    )
