"""Engine part: returns (RMA) with restock, credit note and refund; disputes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from o2c import disputes, invoices, orders, returns
from o2c.disputes import Dispute, DisputeReason, Resolution
from o2c.engine.core import Tx
from o2c.engine.records import (
    credit_notes,
    disputes_of,
    invoices_of,
    orders_of,
    payments_of,
    receipts_of,
    returns_of,
)
from o2c.engine.refunds import RefundsMixin
from o2c.engine.sales import canonical_quantities
from o2c.errors import EngineStateError, NothingToDoError, PaymentLimitExceededError
from o2c.events import StockReceived
from o2c.invoices import CreditNote, Invoice, InvoiceLine
from o2c.lifecycles import RETURN_WORKFLOW, InvoiceState, ReturnEvent
from o2c.money import Money
from o2c.returns import ReturnAuthorization

__all__ = ["AfterSalesMixin"]

_OPEN = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID})


class AfterSalesMixin(RefundsMixin):
    """Returns and disputes."""

    # -- returns ----------------------------------------------------------------------

    def request_return(
        self, key: str, order_id: str, quantities: Mapping[str, object], reason: str
    ) -> ReturnAuthorization:
        """Open a return (RMA) for delivered goods of an order."""

        def run(tx: Tx) -> ReturnAuthorization:
            order = orders_of(tx.uow).require(order_id)
            wanted = self._require_quantities(order, quantities, "delivered")
            rma, ev = returns.request_return(
                return_id=tx.number("RMA"),
                order=order,
                quantities=wanted,
                reason=reason,
                now=tx.now,
                # receive_return records received units as returned on the order,
                # so an open return holds only what is still outstanding.
                already_requested=returns.open_quantities(
                    returns_of(tx.uow).find("order_id", order_id), received_recorded=True
                ),
            )
            tx.emit(ev)
            returns_of(tx.uow).put(rma)
            return rma

        fields = {
            "order_id": order_id,
            "quantities": canonical_quantities(quantities),
            "reason": reason,
        }
        return self._command("request_return", key, fields, run)

    def authorize_return(self, key: str, return_id: str) -> ReturnAuthorization:
        """Authorize a requested return: the customer may send the goods."""
        return self._return_step(
            key, "authorize_return", {"return_id": return_id}, return_id, returns.authorize
        )

    def reject_return(self, key: str, return_id: str, reason: str) -> ReturnAuthorization:
        """Refuse a requested return."""
        return self._return_step(
            key,
            "reject_return",
            {"return_id": return_id, "reason": reason},
            return_id,
            lambda r, now: returns.reject(r, reason, now),
        )

    def _return_step(
        self,
        key: str,
        operation: str,
        fields: Mapping[str, object],
        return_id: str,
        step: Callable[[ReturnAuthorization, datetime], returns.Result],
    ) -> ReturnAuthorization:
        # ``fields`` are the caller's arguments by name, so that a key replayed with
        # one of them changed is refused naming that argument.
        def run(tx: Tx) -> ReturnAuthorization:
            rma = returns_of(tx.uow).require(return_id)
            rma, ev = step(rma, tx.now)
            tx.emit(ev)
            returns_of(tx.uow).put(rma)
            return rma

        return self._command(operation, key, fields, run)

    def receive_return(
        self,
        key: str,
        return_id: str,
        quantities: Mapping[str, object] | None = None,
        *,
        restock: bool = True,
    ) -> ReturnAuthorization:
        """Record returned goods arriving (all outstanding, or ``quantities`` per line);
        restocked units go back on hand, and the order records the return."""

        def run(tx: Tx) -> ReturnAuthorization:
            rma = returns_of(tx.uow).require(return_id)
            if quantities is None:
                wanted = {ln.line_id: ln.quantity - ln.received for ln in rma.lines}
                wanted = {k: v for k, v in wanted.items() if v > 0}
            else:
                order = orders_of(tx.uow).require(rma.order_id)
                wanted = self._require_quantities(order, quantities, "delivered")
            if not wanted:
                raise NothingToDoError(subject=f"return {return_id}", reason="nothing outstanding")
            rma, ev = returns.receive(rma, wanted, tx.now, restock=restock)
            tx.emit(ev)
            order = orders_of(tx.uow).require(rma.order_id)
            order, ev2 = orders.record_return(order, wanted, tx.now)
            tx.emit(ev2)
            orders_of(tx.uow).put(order)
            if restock:
                skus = {ln.line_id: ln.sku for ln in rma.lines}
                for line_id, qty in wanted.items():
                    level = self.inventory.receive(tx.uow, skus[line_id], qty, tx.now)
                    tx.emit(
                        (
                            StockReceived(
                                aggregate_id=skus[line_id],
                                occurred_at=tx.now,
                                quantity=qty,
                                on_hand=level.on_hand,
                                reason=f"restocked from return {rma.id}",
                            ),
                        )
                    )
            returns_of(tx.uow).put(rma)
            return rma

        fields = {
            "return_id": return_id,
            "quantities": canonical_quantities(quantities),
            "restock": restock,
        }
        return self._command("receive_return", key, fields, run)

    def close_return(self, key: str, return_id: str) -> ReturnAuthorization:
        """Credit what was received and refund it to the original payment methods.

        The credit note goes on the order's invoices (newest first). Cash the note
        releases from a paid invoice (the cash applied last first) goes back to the
        tender that paid it: a card or wallet through its gateway, store credit to the
        customer's balance, a bank transfer or cash on delivery as a payout to make
        (``RC-.../refund1``; see :mod:`o2c.engine.refunds`). On an unpaid invoice the
        note just lowers what is owed. ``refund_ids`` names every part.
        """

        def run(tx: Tx) -> ReturnAuthorization:
            rma = returns_of(tx.uow).require(return_id)
            # Refused before any credit note or gateway refund is made: a closed
            # return closed again would credit and refund its goods twice.
            RETURN_WORKFLOW.apply(rma.state, ReturnEvent.CLOSE)
            received = {ln.line_id: ln.received for ln in rma.lines if ln.received > 0}
            note_ids: list[str] = []
            refund_ids: list[str] = []
            for invoice in reversed(invoices_of(tx.uow).find("order_id", rma.order_id)):
                if not received:
                    break
                note = self._credit_lines(tx, invoice, received, f"return {rma.id}")
                if note is None:
                    continue
                note_ids.append(note.id)
                refund_ids += self._credit_and_refund(tx, invoice, note, rma.id)
            rma, ev = returns.close(
                rma,
                credit_note_id=note_ids[0] if note_ids else None,
                refund_ids=refund_ids,
                now=tx.now,
            )
            tx.emit(ev)
            returns_of(tx.uow).put(rma)
            return rma

        return self._command("close_return", key, {"return_id": return_id}, run)

    def _credit_lines(
        self, tx: Tx, invoice: Invoice, wanted: dict[str, Decimal], reason: str
    ) -> CreditNote | None:
        if invoice.state not in (*_OPEN, InvoiceState.PAID):
            return None
        credited: dict[str, Decimal] = {}
        for note in credit_notes(tx.uow).find("invoice_id", invoice.id):
            for cl in note.lines:
                if cl.order_line_id:
                    credited[cl.order_line_id] = (
                        credited.get(cl.order_line_id, Decimal(0)) + cl.quantity
                    )
        lines: list[InvoiceLine] = []
        for line in invoice.lines:
            oid = line.order_line_id or line.line_id
            room = line.quantity - credited.get(oid, Decimal(0))
            qty = min(wanted.get(oid, Decimal(0)), room)
            if qty <= 0:
                continue
            discount = line.discount_amount
            if discount is not None and qty < line.quantity:
                discount = discount.allocate([qty, line.quantity - qty])[0]
            lines.append(
                InvoiceLine(
                    line_id=line.line_id,
                    sku=line.sku,
                    description=line.description,
                    quantity=qty,
                    unit_price=line.unit_price,
                    discount_percent=line.discount_percent,
                    discount_amount=discount,
                    tax_rates=line.tax_rates,
                    order_line_id=oid,
                )
            )
            wanted[oid] -= qty
            if wanted[oid] <= 0:
                del wanted[oid]
        if not lines:
            return None
        number = tx.number(self.config.credit_note_series, self.config.number_format)
        return CreditNote(
            id=number,
            number=number,
            invoice_id=invoice.id,
            currency=invoice.currency,
            lines=tuple(lines),
            reason=reason,
            issue_date=tx.now.date(),
            rounding=invoice.rounding,
        )

    def _credit_and_refund(self, tx: Tx, invoice: Invoice, note: CreditNote, why: str) -> list[str]:
        result = invoices.credit_invoice(invoice, note, tx.now)
        tx.emit(result.events)
        invoices_of(tx.uow).put(result.invoice)
        credit_notes(tx.uow).put(note)
        refunds: list[str] = []
        for released in result.released:
            receipt = receipts_of(tx.uow).require(released.payment_ref)
            receipt, ev = receipt.unallocate(invoice.id, released.amount, tx.now, ref=note.number)
            tx.emit(ev)
            receipts_of(tx.uow).put(receipt)
            parts = self._refund_receipt(tx, receipt, released.amount, why)
            refunds += [part.reference for part in parts]
        return refunds

    def return_(self, return_id: str) -> ReturnAuthorization:
        """A return."""
        return self._read(lambda uow: returns_of(uow).require(return_id))

    # -- disputes ---------------------------------------------------------------------

    def open_chargeback(
        self,
        key: str,
        payment_id: str,
        *,
        reason: DisputeReason | str,
        amount: Money | None = None,
        respond_by: datetime | None = None,
        provider_id: str | None = None,
    ) -> Dispute:
        """Record a card chargeback on a payment (default: its whole captured amount)."""
        fields = {
            "payment_id": payment_id,
            "reason": str(reason),
            "amount": amount,
            "respond_by": respond_by,
            "provider_id": provider_id,
        }

        def run(tx: Tx) -> Dispute:
            payment = payments_of(tx.uow).require(payment_id)
            held = self._refundable_cash(tx, payment)
            disputed = amount if amount is not None else held
            if disputed > held:
                # The bank cannot pull back more than the payment still holds here;
                # booking less than it took would lose the difference silently.
                raise PaymentLimitExceededError(
                    f"chargeback of {disputed} exceeds the {held} the payment holds",
                    payment_id=payment.id,
                    kind="chargeback",
                    amount=disputed,
                    limit="refundable",
                    available=held,
                )
            if payment.customer_id is None:
                raise EngineStateError(subject=f"payment {payment_id}", reason="no customer")
            receipts = receipts_of(tx.uow).find("reference", payment.id)
            invoice_id = next((i for r in receipts for i in r.invoice_ids), None)
            dispute, ev = disputes.open_chargeback(
                tx.number("DSP"),
                customer_id=payment.customer_id,
                amount=disputed,
                reason=reason,
                now=tx.now,
                respond_by=respond_by,
                payment_id=payment.id,
                invoice_id=invoice_id,
                provider=payment.gateway or "manual",
                provider_id=provider_id,
            )
            tx.emit(ev)
            disputes_of(tx.uow).put(dispute)
            return dispute

        return self._command("open_chargeback", key, fields, run)

    def open_deduction(
        self,
        key: str,
        invoice_id: str,
        amount: Money,
        *,
        reason: DisputeReason | str = DisputeReason.UNKNOWN,
        note: str | None = None,
    ) -> Dispute:
        """Record a short payment of an invoice as a deduction to settle."""
        fields = {"invoice_id": invoice_id, "amount": amount, "reason": str(reason), "note": note}

        def run(tx: Tx) -> Dispute:
            invoice = invoices_of(tx.uow).require(invoice_id)
            if invoice.state not in _OPEN or amount > invoice.open_amount:
                raise EngineStateError(
                    subject=f"invoice {invoice_id}",
                    reason=f"a deduction needs at least {amount} open",
                )
            dispute, ev = disputes.open_deduction(
                tx.number("DSP"),
                customer_id=invoice.customer_id,
                invoice_id=invoice.id,
                short_amount=amount,
                now=tx.now,
                respond_by=tx.now + timedelta(days=self.config.dispute_response_days),
                reason=reason,
                raw_reason=note,
            )
            tx.emit(ev)
            disputes_of(tx.uow).put(dispute)
            return dispute

        return self._command("open_deduction", key, fields, run)

    def submit_dispute_evidence(
        self, key: str, dispute_id: str, texts: Mapping[str, str], documents: tuple[str, ...] = ()
    ) -> Dispute:
        """Submit evidence for a dispute's current stage."""

        def run(tx: Tx) -> Dispute:
            dispute = disputes_of(tx.uow).require(dispute_id)
            dispute, ev = disputes.submit_evidence(
                dispute, now=tx.now, texts=texts, documents=documents
            )
            tx.emit(ev)
            disputes_of(tx.uow).put(dispute)
            return dispute

        fields = {"dispute_id": dispute_id, "texts": dict(texts), "documents": documents}
        return self._command("submit_dispute_evidence", key, fields, run)

    def settle_dispute(
        self,
        key: str,
        dispute_id: str,
        outcome: str,
        *,
        resolution: Resolution | str | None = None,
        note: str = "",
    ) -> Dispute:
        """Close a dispute (``"won"``, ``"lost"``, ``"accepted"``, ``"withdrawn"``) and
        book its money consequence.

        * A lost or accepted chargeback: the money the bank took back leaves the
          payment's receipt (the invoice reopens); then the invoice is written off
          (default) or credited.
        * A lost or accepted deduction: the short amount is written off (default) or
          credited on the invoice.
        * Won or withdrawn: nothing moves; a deduction's amount stays to collect.
        """
        steps = {
            "won": disputes.win,
            "lost": disputes.lose,
            "accepted": disputes.accept,
            "withdrawn": disputes.withdraw,
        }
        if outcome not in steps:
            raise EngineStateError(
                subject=f"dispute {dispute_id}",
                reason=f"outcome must be one of {sorted(steps)}, not {outcome!r}",
            )
        fields = {
            "dispute_id": dispute_id,
            "outcome": outcome,
            "resolution": str(resolution) if resolution is not None else None,
            "note": note,
        }

        def run(tx: Tx) -> Dispute:
            dispute = disputes_of(tx.uow).require(dispute_id)
            dispute, ev = steps[outcome](dispute, now=tx.now, note=note)
            tx.emit(ev)
            allowed = disputes.allowed_resolutions(dispute)
            chosen = Resolution(resolution) if resolution is not None else _default(allowed)
            reference = self._book(tx, dispute, chosen)
            dispute, ev = disputes.resolve(
                dispute,
                chosen,
                now=tx.now,
                reference=reference,
            )
            tx.emit(ev)
            disputes_of(tx.uow).put(dispute)
            return dispute

        return self._command("settle_dispute", key, fields, run)

    def _book(self, tx: Tx, dispute: Dispute, chosen: Resolution) -> str | None:
        if chosen not in (Resolution.WRITE_OFF, Resolution.CREDIT_NOTE):
            return None
        targets: list[str] = []
        if dispute.kind is disputes.DisputeKind.CHARGEBACK and dispute.payment_id:
            # One card payment may have paid several invoices: every one the charged
            # back money reopens is settled (latest first, as the take-back reopens
            # them), not just the one the dispute names.
            receipts = receipts_of(tx.uow).find("reference", dispute.payment_id)
            targets = [i for r in reversed(receipts) for i in reversed(r.invoice_ids)]
            self._charge_back(tx, dispute)
        if dispute.invoice_id:
            targets.append(dispute.invoice_id)
        rest = dispute.amount
        notes: list[str] = []
        for invoice_id in dict.fromkeys(targets):
            invoice = invoices_of(tx.uow).require(invoice_id)
            if invoice.state not in _OPEN or not rest.is_positive():
                continue
            amount = rest.min(invoice.open_amount)
            rest = rest - amount
            if chosen is Resolution.WRITE_OFF:
                invoice, ev = invoice.write_off(amount, f"dispute {dispute.id}", tx.now)
                tx.emit(ev)
                invoices_of(tx.uow).put(invoice)
            else:
                notes.append(self._dispute_note(tx, dispute, invoice, amount))
        return ", ".join(notes) or None

    def _dispute_note(self, tx: Tx, dispute: Dispute, invoice: Invoice, amount: Money) -> str:
        number = tx.number(self.config.credit_note_series, self.config.number_format)
        note = CreditNote(
            id=number,
            number=number,
            invoice_id=invoice.id,
            currency=invoice.currency,
            lines=(
                InvoiceLine(
                    line_id="1",
                    sku="DISPUTE",
                    description=f"Dispute {dispute.id} ({dispute.reason.value})",
                    quantity=Decimal(1),
                    unit_price=amount,
                ),
            ),
            reason=f"dispute {dispute.id}",
            issue_date=tx.now.date(),
            rounding=invoice.rounding,
        )
        self._credit_and_refund(tx, invoice, note, f"dispute {dispute.id}")
        return number

    def _charge_back(self, tx: Tx, dispute: Dispute) -> None:
        """The bank took the disputed money back: it leaves the payment's receipts."""
        self._take_back(tx, dispute.payment_id or "", dispute.amount, f"chargeback {dispute.id}")

    def dispute(self, dispute_id: str) -> Dispute:
        """A dispute."""
        return self._read(lambda uow: disputes_of(uow).require(dispute_id))


def _default(allowed: frozenset[Resolution]) -> Resolution:
    for choice in (Resolution.WRITE_OFF, Resolution.COLLECT, Resolution.NONE):
        if choice in allowed:
            return choice
    return Resolution.NONE
