"""Engine part (no commands): money going back to the tender that paid it.

Three ways back, one per kind of tender:

* **card and wallet**: a gateway refund (``_transact(... REFUND ...)``); the receipts
  give the money up when the gateway confirms. A gateway that refuses the refund, or a
  payment that cannot take it now, turns the part into a payout.
* **store credit**: the receipt pays the money back to the customer's store-credit
  balance (a grant referring to the tender), at once.
* **bank transfer, cash on delivery** (and any receipt without a gateway): a refund of
  unapplied cash with a **payout reference** (``RC-000001/refund1``) the host pays out
  and quotes; a :class:`~o2c.events.RefundPayoutRequested` event tells it to.

Returns (:meth:`~o2c.engine.O2C.close_return`), dispute credit notes and
:meth:`~o2c.engine.O2C.refund_order` all go through here; every part comes back as a
:class:`~o2c.events.RefundPart` saying where it went.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from o2c.cash import Receipt
from o2c.engine.core import Tx
from o2c.engine.records import payments_of, receipts_of, store_credits
from o2c.engine.shipping import ShippingMixin
from o2c.engine.tender_book import gateway_refundable, new_transaction
from o2c.errors import EngineStateError
from o2c.events import RefundPart, RefundPayoutRequested
from o2c.lifecycles import TransactionState
from o2c.money import Money
from o2c.payments import Payment, PaymentMethod, TransactionKind
from o2c.store_credit import account_id, open_account

__all__ = ["RefundsMixin"]

_Pay = Callable[[Receipt, Money], RefundPart]


class RefundsMixin(ShippingMixin):
    """Refunds to the original payment methods."""

    def _refund_receipt(
        self, tx: Tx, receipt: Receipt, amount: Money, why: str
    ) -> list[RefundPart]:
        """Give back ``amount`` that a credit note released onto ``receipt`` (it is
        unapplied there now), through the tender the receipt belongs to."""
        if receipt.tender_id is None and receipt.reference:
            payment = payments_of(tx.uow).get(receipt.reference)
            if payment is not None and payment.gateway is not None:
                return self._refund_gateway(tx, payment, amount, why)
        if receipt.method is PaymentMethod.STORE_CREDIT:
            return [self._restore_store_credit(tx, receipt, amount, why)]
        return [self._payout(tx, receipt, amount, why=why, tender_id=_tender_of(receipt))]

    def _refund_gateway(
        self, tx: Tx, payment: Payment, amount: Money, why: str
    ) -> list[RefundPart]:
        """A gateway refund of ``amount``; a payout if the gateway cannot take it."""
        method = payment.method.value
        unapplied, applied = gateway_refundable(tx.uow, payment)
        if amount <= unapplied + applied:
            before = payment
            payment = self._transact(tx, payment, TransactionKind.REFUND, amount)
            txn_id, state = new_transaction(payment, before)
            reference = f"{payment.id}/{txn_id}"
            if state is TransactionState.SUCCEEDED:
                return [_part(payment.id, method, amount, reference, "refunded")]
            if state is not TransactionState.FAILED:
                return [
                    _part(
                        payment.id,
                        method,
                        amount,
                        reference,
                        "pending",
                        note="the gateway answers later; the money leaves the receipts then",
                    )
                ]
            reason = payment.transaction(txn_id).decline_reason
            note = f"the gateway refused the refund ({reason}): pay it out"
        else:
            note = f"the payment cannot refund {amount} now: pay it out"
        receipts = receipts_of(tx.uow).find("reference", payment.id)
        return self._take_back_receipts(
            tx,
            receipts,
            amount,
            lambda r, m: self._payout(tx, r, m, why=why, tender_id=payment.id, note=note),
        )

    def _restore_store_credit(
        self, tx: Tx, receipt: Receipt, amount: Money, why: str
    ) -> RefundPart:
        """Unapplied store-credit money of ``receipt`` goes back to the balance."""
        # A store-credit receipt always names its customer (it was redeemed by one).
        customer_id = cast(str, receipt.customer_id)
        entry_id = tx.number("SC", self.config.number_format)
        receipt, ev = receipt.refund_unapplied(amount, entry_id, tx.now)
        tx.emit(ev)
        receipts_of(tx.uow).put(receipt)
        repo = store_credits(tx.uow)
        account = repo.get(account_id(customer_id, receipt.currency)) or open_account(
            customer_id, receipt.currency
        )
        tender_id = _tender_of(receipt)
        account, ev2 = account.grant(entry_id, amount, tx.now, reason=why, reference=tender_id)
        tx.emit(ev2)
        repo.put(account)
        return _part(tender_id, PaymentMethod.STORE_CREDIT.value, amount, entry_id, "store_credit")

    def _payout(
        self, tx: Tx, receipt: Receipt, amount: Money, *, why: str, tender_id: str, note: str = ""
    ) -> RefundPart:
        """Unapplied money of ``receipt`` is to be paid out by hand."""
        reference = f"{receipt.id}/refund{len(receipt.refunds) + 1}"
        receipt, ev = receipt.refund_unapplied(amount, reference, tx.now)
        tx.emit(ev)
        receipts_of(tx.uow).put(receipt)
        tx.emit(
            (
                RefundPayoutRequested(
                    aggregate_id=reference,
                    occurred_at=tx.now,
                    receipt_id=receipt.id,
                    customer_id=receipt.customer_id,
                    amount=amount,
                    method=receipt.method.value,
                    reason=why,
                ),
            )
        )
        return _part(tender_id, receipt.method.value, amount, reference, "payout", note=note)

    def _take_back_receipts(
        self, tx: Tx, receipts: Sequence[Receipt], amount: Money, pay: _Pay
    ) -> list[RefundPart]:
        """Take ``amount`` out of ``receipts`` and hand each piece to ``pay``: unapplied
        cash first (newest receipt first), then cash applied to invoices (latest
        first; they reopen)."""
        parts: list[RefundPart] = []
        rest = amount
        repo = receipts_of(tx.uow)
        for phase in ("unapplied", "applied"):
            for found in reversed(receipts):
                if not rest.is_positive():
                    break
                receipt = repo.require(found.id)
                if phase == "applied" and receipt.unapplied < rest:
                    receipt = self._unapply(tx, receipt, rest - receipt.unapplied)
                take = receipt.unapplied.min(rest)
                if take.is_positive():
                    parts.append(pay(receipt, take))
                    rest = rest - take
        if rest.is_positive():
            raise EngineStateError(
                subject=f"receipts {', '.join(r.id for r in receipts) or '(none)'}",
                reason=f"{rest} of the refund has no money to come from",
            )
        return parts


def _tender_of(receipt: Receipt) -> str:
    """The tender a receipt's money belongs to: its tender, its payment or COD
    shipment (the reference), or the receipt itself (cash applied by hand)."""
    if receipt.tender_id is not None:
        return receipt.tender_id
    if receipt.method is PaymentMethod.CASH_ON_DELIVERY and receipt.reference:
        return receipt.reference
    return receipt.id


def _part(
    tender_id: str, method: str, amount: Money, reference: str, outcome: str, *, note: str = ""
) -> RefundPart:
    return RefundPart(
        tender_id=tender_id,
        method=method,
        amount=amount,
        reference=reference,
        outcome=outcome,
        note=note,
    )
