"""Engine part: invoicing, gateway payments, cash receipts and their application."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from o2c import cash, invoices, orders, payments, reconciliation
from o2c.attention import AttentionReason
from o2c.cash import Receipt
from o2c.engine.core import R, Tx, derive_key
from o2c.engine.records import (
    customers,
    invoices_of,
    order_tender_receipts,
    orders_of,
    payments_of,
    receipts_of,
    shipments_of,
)
from o2c.engine.sales import SalesMixin
from o2c.engine.tender_book import check_gateway_tender
from o2c.errors import (
    ContradictoryOutcomeError,
    CustomerMismatchError,
    EngineStateError,
    GatewayRequestError,
    NothingToDoError,
    PaymentLimitExceededError,
)
from o2c.invoices import Invoice, InvoicingBasis
from o2c.lifecycles import InvoiceState, OrderState
from o2c.money import Money, money_sum
from o2c.orders import Order
from o2c.payments import (
    Payment,
    PaymentMethod,
    PaymentTransaction,
    TransactionKind,
    Unknown,
    redact_card_numbers,
)
from o2c.ports import GatewayEvent, GatewayRequest, Kind

__all__ = ["BillingMixin", "call_gateway", "gateway_request"]

log = logging.getLogger("o2c.engine.payments")

_OPEN = frozenset({InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID})
# Invoices cash can be taken back from (Invoice.unapply_payment refuses the others).
_UNAPPLIABLE = frozenset({*_OPEN, InvoiceState.PAID})


class BillingMixin(SalesMixin):
    """Invoices, payments through gateways, cash receipts and cash application."""

    # -- invoicing --------------------------------------------------------------------

    def invoice_order(
        self, key: str, order_id: str, basis: InvoicingBasis | str = InvoicingBasis.SHIPPED
    ) -> Invoice:
        """Issue an invoice for what is shipped and not yet invoiced (``"shipped"``) or
        for everything ordered and not yet invoiced (``"ordered"``).

        The number is the next of the invoice series, taken in this unit of work, so
        numbers have no gaps. Cash already received for the order (a card captured
        before invoicing) is applied to the new invoice at once.
        """
        basis = InvoicingBasis(basis)

        def run(tx: Tx) -> Invoice:
            order = orders_of(tx.uow).require(order_id)
            if order.state not in (OrderState.CONFIRMED, OrderState.COMPLETED):
                raise EngineStateError(
                    subject=f"order {order_id}", reason=f"it is {order.state.value}"
                )
            if basis is InvoicingBasis.SHIPPED:
                due = {ln.line_id: ln.shipped - ln.invoiced for ln in order.lines}
            else:
                due = {ln.line_id: ln.quantity - ln.cancelled - ln.invoiced for ln in order.lines}
            due = {k: v for k, v in due.items() if v > 0}
            if not due:
                raise NothingToDoError(subject=f"order {order_id}", reason="nothing to invoice")
            customer = customers(tx.uow).require(order.customer_id)
            lines = invoices.invoice_lines_from_order(order.lines, basis, quantities=due)
            series = self.config.invoice_series
            number = tx.number(series, self.config.number_format)
            draft = Invoice(
                id=number,
                customer_id=order.customer_id,
                currency=order.currency,
                lines=lines,
                terms=self.config.terms_for(customer.payment_terms),
                rounding=order.rounding,
                series=series,
                order_id=order.id,
                references=(order.id,),
            )
            invoice, ev = draft.issue(number, tx.now.date(), tx.now)
            tx.emit(ev)
            order, ev2 = orders.record_invoiced(order, due, tx.now)
            tx.emit(ev2)
            orders_of(tx.uow).put(order)
            invoice = self._apply_order_cash(tx, order, invoice)
            invoices_of(tx.uow).put(invoice)
            if tx.notifying:
                due_on = invoice.due_date.isoformat() if invoice.due_date else "now"
                tx.notify(
                    "invoice.issued",
                    customer.id,
                    subject=f"Invoice {invoice.number}",
                    body=f"Invoice {invoice.number} for order {order.id}: "
                    f"{invoice.total.format(customer.locale)}, due {due_on}; "
                    f"open {invoice.open_amount.format(customer.locale)}.",
                    locale=customer.locale,
                    related_id=invoice.id,
                )
            return invoice

        return self._command(
            "invoice_order", key, {"order_id": order_id, "basis": basis.value}, run
        )

    def _apply_order_cash(self, tx: Tx, order: Order, invoice: Invoice) -> Invoice:
        references = [p.id for p in payments_of(tx.uow).find("order_id", order.id)]
        # Cash a carrier collected on delivery is received under the shipment's id.
        references += [
            s.id
            for s in shipments_of(tx.uow).find("order_id", order.id)
            if s.cod_amount is not None
        ]
        for reference in references:
            for receipt in receipts_of(tx.uow).find("reference", reference):
                if receipt.customer_id == order.customer_id:
                    _, invoice = self._allocate(tx, receipt, invoice)
        # Store credit redeemed and bank transfers matched to the order (engine.tender).
        for receipt in order_tender_receipts(tx.uow, order.id):
            _, invoice = self._allocate(tx, receipt, invoice)
        return invoice

    def _allocate(self, tx: Tx, receipt: Receipt, invoice: Invoice) -> tuple[Receipt, Invoice]:
        """Apply as much of a receipt as fits to an invoice; nothing when the invoice
        is not open or is in another currency."""
        if invoice.state not in _OPEN or receipt.currency != invoice.currency:
            return receipt, invoice
        take = receipt.unapplied.min(invoice.open_amount)
        if not take.is_positive():
            return receipt, invoice
        return self._apply(tx, receipt, invoice, take)

    @staticmethod
    def _apply(
        tx: Tx, receipt: Receipt, invoice: Invoice, amount: Money
    ) -> tuple[Receipt, Invoice]:
        """Book ``amount`` on both ledgers, the receipt's and the invoice's, and store both."""
        receipt, ev = receipt.allocate(invoice.id, amount, invoice.open_amount, tx.now)
        invoice, ev2 = invoice.apply_payment(amount, receipt.id, tx.now)
        tx.emit((*ev, *ev2))
        receipts_of(tx.uow).put(receipt)
        invoices_of(tx.uow).put(invoice)
        return receipt, invoice

    def close_order(self, key: str, order_id: str) -> Order:
        """Complete a fully shipped and invoiced order."""

        def run(tx: Tx) -> Order:
            order, ev = orders.complete(orders_of(tx.uow).require(order_id), tx.now)
            tx.emit(ev)
            orders_of(tx.uow).put(order)
            return order

        return self._command("close_order", key, {"order_id": order_id}, run)

    # -- gateway payments -----------------------------------------------------------

    def authorize_payment(
        self,
        key: str,
        order_id: str,
        *,
        token: str,
        gateway: str | None = None,
        amount: Money | None = None,
        method: PaymentMethod | str = PaymentMethod.CARD,
    ) -> Payment:
        """Open a payment for an order and authorize it (default: what the order's
        other tenders leave of its total; see :mod:`o2c.engine.tender`).

        The payment is *authorized*, *declined*, or waits for the gateway's answer
        (pending or unknown: see :meth:`handle_gateway_event`). ``method`` is a gateway
        method: card, wallet (Apple Pay, Google Pay: a token like a card's), direct
        debit or other.

        Raises:
            TenderExceedsOrderTotalError: the order's live tenders and this one would
                exceed its total (split tender).
            TenderMethodError: ``method`` is not a gateway method.
        """
        fields = {
            "order_id": order_id,
            "token": token,
            "gateway": gateway,
            "amount": amount,
            "method": str(method),
        }

        def run(tx: Tx) -> Payment:
            order = orders_of(tx.uow).require(order_id)
            name, _ = self.gateway(gateway)
            payment, ev = payments.create_payment(
                payment_id=tx.number("PAY"),
                amount=check_gateway_tender(tx.uow, order, amount, method),
                method=method,
                now=tx.now,
                order_id=order.id,
                customer_id=order.customer_id,
                method_token=token,
                gateway=name,
            )
            tx.emit(ev)
            return self._transact(tx, payment, TransactionKind.AUTHORIZE, payment.amount)

        return self._command("authorize_payment", key, fields, run)

    def capture_payment(self, key: str, payment_id: str, amount: Money | None = None) -> Payment:
        """Capture (part of) an authorization; captured money becomes a receipt applied
        to the order's open invoices (what does not fit stays unapplied)."""

        def run(tx: Tx) -> Payment:
            payment = payments_of(tx.uow).require(payment_id)
            take = amount if amount is not None else payment.capturable
            return self._transact(tx, payment, TransactionKind.CAPTURE, take)

        return self._command(
            "capture_payment", key, {"payment_id": payment_id, "amount": amount}, run
        )

    def void_payment(self, key: str, payment_id: str) -> Payment:
        """Cancel the uncaptured rest of an authorization."""

        def run(tx: Tx) -> Payment:
            payment = payments_of(tx.uow).require(payment_id)
            return self._transact(tx, payment, TransactionKind.VOID, payment.capturable)

        return self._command("void_payment", key, {"payment_id": payment_id}, run)

    def refund_payment(self, key: str, payment_id: str, amount: Money | None = None) -> Payment:
        """Give captured money back through the gateway (default: all refundable).

        Money applied to invoices is taken back from them first (latest first), so
        they are open again: a refund without a credit note means the customer owes
        again. Refunds for returns go through :meth:`close_return` instead.
        """

        def run(tx: Tx) -> Payment:
            payment = payments_of(tx.uow).require(payment_id)
            take = amount if amount is not None else self._refundable_cash(tx, payment)
            return self._transact(tx, payment, TransactionKind.REFUND, take)

        return self._command(
            "refund_payment", key, {"payment_id": payment_id, "amount": amount}, run
        )

    def pay_invoices(
        self,
        key: str,
        customer_id: str,
        invoice_ids: Sequence[str],
        *,
        token: str,
        gateway: str | None = None,
    ) -> Payment:
        """Charge the customer's card for the open amount of one or several invoices
        (self-service); the money is applied to them at once.

        Raises:
            CustomerMismatchError: an invoice is not this customer's.
            NothingToDoError: nothing is open on them.
        """
        fields = {
            "customer_id": customer_id,
            "invoice_ids": tuple(invoice_ids),
            "token": token,
            "gateway": gateway,
        }

        def run(tx: Tx) -> Payment:
            found = [self._own_invoice(tx, customer_id, i) for i in dict.fromkeys(invoice_ids)]
            open_ = [inv for inv in found if inv.state in _OPEN]
            if not open_:
                raise NothingToDoError(subject=f"customer {customer_id}", reason="nothing open")
            currency = open_[0].currency
            if any(inv.currency != currency for inv in open_):
                raise EngineStateError(
                    subject=f"customer {customer_id}", reason="invoices in several currencies"
                )
            name, _ = self.gateway(gateway)
            payment, ev = payments.create_payment(
                payment_id=tx.number("PAY"),
                amount=money_sum((inv.open_amount for inv in open_), currency),
                method=PaymentMethod.CARD,
                now=tx.now,
                customer_id=customer_id,
                method_token=token,
                gateway=name,
            )
            tx.emit(ev)
            return self._transact(
                tx, payment, TransactionKind.SALE, payment.amount, [inv.id for inv in open_]
            )

        return self._command("pay_invoices", key, fields, run)

    @staticmethod
    def _own_invoice(tx: Tx, customer_id: str, invoice_id: str) -> Invoice:
        invoice = invoices_of(tx.uow).get(invoice_id)
        if invoice is None or invoice.customer_id != customer_id:
            raise CustomerMismatchError(kind="invoice", id=invoice_id)
        return invoice

    def _transact(
        self,
        tx: Tx,
        payment: Payment,
        kind: TransactionKind,
        amount: Money,
        invoice_ids: Sequence[str] = (),
    ) -> Payment:
        """Request a transaction, call the gateway under a key derived from the
        command's, and record its answer, all in this unit of work."""
        if not amount.is_positive():
            raise NothingToDoError(subject=f"payment {payment.id}", reason=f"no amount to {kind}")
        if kind is TransactionKind.REFUND:
            # Checked before the gateway is called: a refund the receipts cannot
            # take back would move money at the gateway and then be rolled back here.
            available = self._refundable_cash(tx, payment)
            if amount > available:
                raise PaymentLimitExceededError(
                    f"refund of {amount} exceeds the {available} the payment's receipts hold",
                    payment_id=payment.id,
                    kind=kind.value,
                    amount=amount,
                    limit="refundable",
                    available=available,
                )
        name, gw = self.gateway(payment.gateway)
        txn_id = f"T{len(payment.transactions) + 1}"
        # One key per transaction: a command may move money on a payment twice (a
        # return credited on two invoices the payment settled). A retry of the command
        # starts from the same stored payment, so it derives the same keys.
        gkey = derive_key(tx.key, f"{payment.id}/{txn_id}")
        payment, txn, ev = payment.request(
            transaction_id=txn_id, kind=kind, amount=amount, idempotency_key=gkey, now=tx.now
        )
        tx.emit(ev)
        call = {
            TransactionKind.AUTHORIZE: gw.authorize,
            TransactionKind.SALE: gw.sale,
            TransactionKind.CAPTURE: gw.capture,
            TransactionKind.VOID: gw.void,
            TransactionKind.REFUND: gw.refund,
        }[kind]
        # Whatever goes wrong at the gateway (an exception, no answer, an answer that
        # does not fit) is recorded as unknown and committed: the money may have
        # moved, so the transaction stays in flight until the reconciler asks.
        answer = call_gateway(name, kind.value, call, gateway_request(payment, txn))
        tx.uow.put(Kind.GATEWAY_KEY.value, gkey, (payment.id, txn.id, tuple(invoice_ids)), {})
        return self._resolved(tx, payment, txn.id, answer, invoice_ids)

    def _resolved(
        self,
        tx: Tx,
        payment: Payment,
        txn_id: str,
        outcome: object,
        invoice_ids: Sequence[str],
    ) -> Payment:
        """Record a gateway's answer on the payment and book a success (a capture or
        sale becomes a receipt applied to the invoices, a refund takes cash back).

        An answer that is not an outcome, or a success for another amount than the
        transaction's, is recorded as unknown: nothing is booked for it.

        Raises:
            ContradictoryOutcomeError: the answer contradicts a final one.
        """
        txn = payment.transaction(txn_id)
        before = txn.state
        checked = reconciliation.check_answer(txn, outcome)
        if checked.problem is not None:
            log.warning(
                "gateway %s: answer for payment %s, transaction %s (%s): %s; recorded as unknown",
                payment.gateway,
                payment.id,
                txn_id,
                txn.kind.value,
                checked.problem,
            )
        payment, ev = payment.resolve(txn_id, checked.outcome, tx.now)
        tx.emit(ev)
        payments_of(tx.uow).put(payment)
        txn = payment.transaction(txn_id)
        if txn.state is before or txn.state.value != "succeeded":
            return payment
        if txn.kind in (TransactionKind.CAPTURE, TransactionKind.SALE):
            self._receive(
                tx,
                amount=txn.amount,
                method=payment.method.value,
                customer_id=payment.customer_id,
                reference=payment.id,
                order_id=payment.order_id,
                invoice_ids=invoice_ids,
            )
        elif txn.kind is TransactionKind.REFUND:
            self._pay_back(tx, payment, txn.amount, f"{payment.id}/{txn.id}")
        return payment

    @staticmethod
    def _refundable_cash(tx: Tx, payment: Payment) -> Money:
        """What a refund may still give back: the payment's refundable amount, but no
        more than :meth:`_take_back` can take from its receipts (money that left them
        another way, a lost chargeback or cash paid back by hand, is gone, and cash
        applied to a written-off invoice cannot be taken off it)."""
        held = Money.zero(payment.currency)
        for receipt in receipts_of(tx.uow).find("reference", payment.id):
            held = held + receipt.unapplied
            for invoice_id in receipt.invoice_ids:
                invoice = invoices_of(tx.uow).get(invoice_id)
                if invoice is not None and invoice.state in _UNAPPLIABLE:
                    held = held + receipt.applied_to(invoice_id)
        # Refunds still in flight (pending, unknown) will take their money from the
        # receipts when they succeed: it is spoken for.
        promised = money_sum(
            (t.amount for t in payment.in_flight if t.kind is TransactionKind.REFUND),
            payment.currency,
        )
        return (
            (held - promised).min(payment.refundable - promised).max(Money.zero(payment.currency))
        )

    def _pay_back(self, tx: Tx, payment: Payment, amount: Money, reference: str) -> None:
        rest = self._take_back(tx, payment.id, amount, reference)
        if rest.is_positive():
            raise EngineStateError(
                subject=f"payment {payment.id}", reason=f"{rest} refunded has no receipt"
            )

    def _take_back(self, tx: Tx, payment_id: str, amount: Money, reference: str) -> Money:
        """Money leaves a payment's receipts (a refund, a lost chargeback): unapplied
        cash first, then cash applied to invoices, latest first (they reopen).

        Returns:
            What could not be taken (zero normally).
        """
        rest = amount
        for found in reversed(receipts_of(tx.uow).find("reference", payment_id)):
            if not rest.is_positive():
                break
            receipt = found
            if receipt.unapplied < rest:
                receipt = self._unapply(tx, receipt, rest - receipt.unapplied)
            take = receipt.unapplied.min(rest)
            if take.is_positive():
                receipt, ev = receipt.refund_unapplied(take, reference, tx.now)
                tx.emit(ev)
                receipts_of(tx.uow).put(receipt)
                rest = rest - take
        return rest

    def _unapply(self, tx: Tx, receipt: Receipt, amount: Money) -> Receipt:
        rest = amount
        for invoice_id in reversed(receipt.invoice_ids):
            if not rest.is_positive():
                break
            take = receipt.applied_to(invoice_id).min(rest)
            if not take.is_positive():
                continue
            invoice = invoices_of(tx.uow).require(invoice_id)
            if invoice.state not in _UNAPPLIABLE:
                continue  # a written-off invoice is final: its cash stays on it
            invoice, ev = invoice.unapply_payment(take, receipt.id, tx.now, reason="refunded")
            tx.emit(ev)
            invoices_of(tx.uow).put(invoice)
            receipt, ev2 = receipt.unallocate(invoice_id, take, tx.now, ref="refund")
            tx.emit(ev2)
            rest = rest - take
        receipts_of(tx.uow).put(receipt)
        return receipt

    def handle_gateway_event(self, gateway: str, event: GatewayEvent) -> Payment:
        """Apply a gateway's later answer (a verified webhook). The event id is the
        idempotency key, so a webhook delivered twice acts once; an answer older than
        what is recorded changes nothing (a late *pending* never moves a payment back).

        A success for another amount than requested is recorded as unknown (nothing is
        booked; the reconciler asks the gateway). An answer contradicting a final one
        (failed after succeeded, or the reverse) flags the payment for a person in its
        own unit of work and raises.

        Raises:
            EngineStateError: the event answers no request o2c made.
            ContradictoryOutcomeError: the answer contradicts the recorded final state
                (the payment is flagged, see :meth:`payments_needing_attention`).
        """
        key = derive_key(f"gateway:{gateway}", event.event_id)
        answered: list[tuple[str, str]] = []

        def run(tx: Tx) -> Payment:
            return self._answer_request(
                tx,
                gateway,
                event.idempotency_key,
                event.outcome,
                subject=f"gateway event {event.event_id}",
                answered=answered,
            )

        fields = {"gateway": gateway, "event": event}
        return self._flagging_contradictions(
            "handle_gateway_event",
            key,
            fields,
            run,
            answered=answered,
            source=f"gateway {gateway} event {event.event_id}",
        )

    def _answer_request(
        self,
        tx: Tx,
        gateway: str,
        request_key: str,
        outcome: payments.Outcome,
        *,
        subject: str,
        answered: list[tuple[str, str]],
    ) -> Payment:
        """Record a gateway's later answer to the request o2c sent under ``request_key``
        (one path for webhooks, events and any other late answer)."""
        link = tx.uow.get(Kind.GATEWAY_KEY.value, request_key)
        if not isinstance(link, tuple):
            raise EngineStateError(subject=subject, reason="it answers no request o2c made")
        payment_id, txn_id, invoice_ids = link
        payment = payments_of(tx.uow).require(payment_id)
        if payment.gateway != gateway:
            raise EngineStateError(
                subject=subject,
                reason=f"payment {payment_id} runs on gateway {payment.gateway}, not {gateway}",
            )
        answered.append((payment_id, txn_id))
        return self._resolved(tx, payment, txn_id, outcome, invoice_ids)

    def _flagging_contradictions(
        self,
        operation: str,
        key: str,
        fields: Mapping[str, object],
        run: Callable[[Tx], R],
        *,
        answered: list[tuple[str, str]],
        source: str,
    ) -> R:
        """Run a command applying gateway answers; an answer contradicting a final one
        flags its payment for a person (in a unit of work of its own) and re-raises."""
        try:
            return self._command(operation, key, fields, run)
        except ContradictoryOutcomeError as exc:
            payment_id, txn_id = answered[-1]
            self._flag_payment(
                derive_key(key, "contradiction"),
                payment_id,
                reason=AttentionReason.CONTRADICTION,
                transaction_id=txn_id,
                detail=f"{source}: {exc.message}",
            )
            raise

    def _flag_payment(
        self,
        key: str,
        payment_id: str,
        *,
        reason: AttentionReason,
        transaction_id: str,
        detail: str,
    ) -> Payment:
        """Flag a payment for a person, in a unit of work of its own."""

        def run(tx: Tx) -> Payment:
            payment, ev = reconciliation.flag(
                payments_of(tx.uow).require(payment_id),
                reason=reason,
                transaction_id=transaction_id,
                detail=detail,
                now=tx.now,
            )
            tx.emit(ev)
            payments_of(tx.uow).put(payment)
            log.warning(
                "payment %s flagged for a person (%s, transaction %s): %s",
                payment_id,
                reason.value,
                transaction_id,
                redact_card_numbers(detail),
            )
            return payment

        fields = {
            "payment_id": payment_id,
            "reason": reason.value,
            "transaction_id": transaction_id,
            "detail": detail,
        }
        return self._command("flag_payment", key, fields, run)

    def payment(self, payment_id: str) -> Payment:
        """A payment."""
        return self._read(lambda uow: payments_of(uow).require(payment_id))

    # -- cash -------------------------------------------------------------------------

    def _receive(
        self,
        tx: Tx,
        *,
        amount: Money,
        method: str,
        customer_id: str | None,
        reference: str,
        order_id: str | None = None,
        invoice_ids: Sequence[str] = (),
        payer_name: str | None = None,
        payer_iban: str | None = None,
    ) -> Receipt:
        receipt, ev = cash.receive_cash(
            receipt_id=tx.number("RC"),
            amount=amount,
            method=method,
            received_at=tx.now,
            reference=reference,
            customer_id=customer_id,
            payer_name=payer_name,
            payer_iban=payer_iban,
        )
        tx.emit(ev)
        receipts_of(tx.uow).put(receipt)
        targets: list[Invoice] = [invoices_of(tx.uow).require(i) for i in invoice_ids]
        if order_id is not None and not invoice_ids:
            targets = invoices_of(tx.uow).find("order_id", order_id)
        for invoice in targets:
            receipt, _ = self._allocate(tx, receipt, invoice)
        return receipt

    def receive_payment(
        self,
        key: str,
        *,
        amount: Money,
        method: PaymentMethod | str = PaymentMethod.BANK_TRANSFER,
        customer_id: str | None = None,
        reference: str = "",
        payer_name: str | None = None,
        payer_iban: str | None = None,
    ) -> Receipt:
        """Record money that arrived outside a gateway (a bank transfer, a cheque).

        It stays unapplied until :meth:`apply_cash` (cash application) says where.
        """
        fields = {
            "amount": amount,
            "method": str(method),
            "customer_id": customer_id,
            "reference": reference,
            "payer_name": payer_name,
            "payer_iban": payer_iban,
        }

        def run(tx: Tx) -> Receipt:
            if customer_id is not None:
                customers(tx.uow).require(customer_id)
            return self._receive(
                tx,
                amount=amount,
                method=str(method),
                customer_id=customer_id,
                reference=reference,
                payer_name=payer_name,
                payer_iban=payer_iban,
            )

        return self._command("receive_payment", key, fields, run)

    def apply_cash(self, key: str, receipt_id: str, allocations: Mapping[str, Money]) -> Receipt:
        """Apply a receipt's unapplied cash to invoices (amount per invoice id).

        Raises:
            AllocationExceedsOpenAmountError: more than an invoice's open amount.
            InsufficientUnappliedCashError: more than the receipt's unapplied cash.
        """
        if not allocations:
            raise NothingToDoError(subject=f"receipt {receipt_id}", reason="no allocations")

        def run(tx: Tx) -> Receipt:
            receipt = receipts_of(tx.uow).require(receipt_id)
            for invoice_id, amount in allocations.items():
                invoice = invoices_of(tx.uow).require(invoice_id)
                if receipt.customer_id is None:
                    receipt, ev = receipt.assign_customer(invoice.customer_id, tx.now)
                    tx.emit(ev)
                    receipts_of(tx.uow).put(receipt)
                elif receipt.customer_id != invoice.customer_id:
                    raise EngineStateError(
                        subject=f"receipt {receipt_id}",
                        reason=f"invoice {invoice_id} belongs to another customer",
                    )
                receipt, _ = self._apply(tx, receipt, invoice, amount)
            return receipt

        return self._command(
            "apply_cash", key, {"receipt_id": receipt_id, "allocations": dict(allocations)}, run
        )

    def refund_unapplied(self, key: str, receipt_id: str, amount: Money, reference: str) -> Receipt:
        """Pay unapplied cash of a receipt back to the payer (outside any gateway)."""

        def run(tx: Tx) -> Receipt:
            receipt = receipts_of(tx.uow).require(receipt_id)
            receipt, ev = receipt.refund_unapplied(amount, reference, tx.now)
            tx.emit(ev)
            receipts_of(tx.uow).put(receipt)
            return receipt

        fields = {"receipt_id": receipt_id, "amount": amount, "reference": reference}
        return self._command("refund_unapplied", key, fields, run)

    def receipt(self, receipt_id: str) -> Receipt:
        """A receipt."""
        return self._read(lambda uow: receipts_of(uow).require(receipt_id))

    def invoice(self, invoice_id: str) -> Invoice:
        """An invoice."""
        return self._read(lambda uow: invoices_of(uow).require(invoice_id))

    def order(self, order_id: str) -> Order:
        """An order."""
        return self._read(lambda uow: orders_of(uow).require(order_id))


def gateway_request(payment: Payment, txn: PaymentTransaction) -> GatewayRequest:
    """The request for a transaction: the one first sent, and the one ``status``
    re-asks with (same idempotency key, same payload)."""
    return GatewayRequest(
        idempotency_key=txn.idempotency_key,
        payment_id=payment.id,
        transaction_id=txn.id,
        amount=txn.amount,
        token=payment.method_token,
        reference=_reference_for(payment, txn.kind),
    )


def _describe(exc: BaseException) -> str:
    """An exception in words for a log line, card numbers redacted."""
    return redact_card_numbers(f"{type(exc).__name__}: {exc}")[:300]


def call_gateway(
    name: str, operation: str, call: Callable[[GatewayRequest], object], request: GatewayRequest
) -> object:
    """Call a gateway; an exception becomes :class:`~o2c.payments.Unknown` (logged
    without card data: the request's token is never logged)."""
    try:
        return call(request)
    except Exception as exc:  # any failure: the money may or may not have moved
        level = logging.ERROR if isinstance(exc, GatewayRequestError) else logging.WARNING
        log.log(
            level,
            "gateway %s: %s of payment %s, transaction %s raised %s; the outcome is unknown",
            name,
            operation,
            request.payment_id,
            request.transaction_id,
            _describe(exc),
        )
        return Unknown()


def _reference_for(payment: Payment, kind: TransactionKind) -> str | None:
    """The gateway reference a capture, void or refund acts on: that of the
    authorization or sale that succeeded."""
    if kind in (TransactionKind.AUTHORIZE, TransactionKind.SALE):
        return None
    for txn in payment.transactions:
        if (
            txn.kind in (TransactionKind.AUTHORIZE, TransactionKind.SALE)
            and txn.state.value == "succeeded"
        ):
            return txn.gateway_reference
    return None
