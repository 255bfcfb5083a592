"""Engine part: payment methods beyond the card, split tender, refunds to the original methods.

* **Card and wallet** (Apple Pay, Google Pay): gateway payments,
  :meth:`~o2c.engine.O2C.authorize_payment` with ``method="wallet"``: the same gateway
  path as a card, with the method recorded on the payment and its receipts.
* **Store credit**: a customer balance per currency (:mod:`o2c.store_credit`), granted
  as goodwill (:meth:`grant_store_credit`) or by refunds, taken away when it expires
  (:meth:`revoke_store_credit`), spent on an order with :meth:`pay_with_store_credit`,
  which needs no gateway: the redemption becomes a receipt of method ``store_credit``
  applied to the order's invoices like any cash.
* **Bank transfer**: :meth:`expect_bank_transfer` gives the order an ISO 11649
  creditor reference for the customer to quote; when the money arrives
  (:meth:`~o2c.engine.O2C.receive_payment`), :meth:`apply_bank_transfer` finds the
  reference in the receipt's text and applies it to the order.
* **Cash on delivery**: ``ship(..., cod_amount=...)``; the carrier's remittances are
  reconciled by :meth:`~o2c.engine.O2C.record_cod_remittance` (:mod:`o2c.engine.cod`).
* **Split tender**: any mix of the above on one order. The live tenders together may
  not exceed what the order can collect (:class:`~o2c.errors.TenderExceedsOrderTotalError`
  names the excess); :meth:`order_tenders` lists them.
* **Refunds** go back to the tenders that paid (:meth:`refund_order`, and
  :meth:`~o2c.engine.O2C.close_return`), see :mod:`o2c.engine.refunds`.
"""

from __future__ import annotations

from o2c import cash, tenders
from o2c.cash import Receipt
from o2c.engine.cod import CodMixin
from o2c.engine.core import Tx
from o2c.engine.records import (
    customers,
    invoices_of,
    orders_of,
    payments_of,
    receipts_of,
    store_credits,
    tenders_of,
)
from o2c.engine.tender_book import (
    OrderTender,
    check_tender_amount,
    new_transaction,
    open_authorizations,
    order_tenders,
)
from o2c.errors import (
    CurrencyMismatchError,
    EngineStateError,
    InvalidAmountError,
    NothingToDoError,
    TenderFieldError,
    UnknownTransferReferenceError,
)
from o2c.events import OrderRefunded, RefundPart
from o2c.lifecycles import OrderState, TransactionState
from o2c.money import Money, money_sum
from o2c.orders import Order
from o2c.payments import PaymentMethod, TransactionKind, check_free_text
from o2c.ports import UnitOfWork
from o2c.store_credit import StoreCreditAccount, account_id, open_account
from o2c.tenders import OrderRefund, Tender, TenderView

__all__ = ["TenderMixin"]

_VOID_OUTCOMES = {TransactionState.SUCCEEDED: "voided", TransactionState.FAILED: "void_failed"}
# Orders that take no new tender.
_CLOSED = frozenset(
    {OrderState.DRAFT, OrderState.CANCELLED, OrderState.REJECTED, OrderState.EXPIRED}
)


class TenderMixin(CodMixin):
    """Store credit, bank transfers, split tender and refunds to the original methods."""

    # -- store credit -------------------------------------------------------------------

    def grant_store_credit(
        self, key: str, customer_id: str, amount: Money, *, reason: str
    ) -> StoreCreditAccount:
        """Give a customer store credit (goodwill); the account is in ``amount``'s currency.

        Returns:
            The account after the grant.

        Raises:
            NotFoundError: no such customer.
            InvalidAmountError: ``amount`` is not positive Money in whole minor units.
            StoreCreditFieldError: an empty or over-long reason.
        """

        return self._store_credit_move("grant_store_credit", key, customer_id, amount, reason)

    def revoke_store_credit(
        self, key: str, customer_id: str, amount: Money, *, reason: str
    ) -> StoreCreditAccount:
        """Take store credit away (it expired, or was granted by mistake).

        Raises:
            InsufficientStoreCreditError: more than the balance.
            NotFoundError: no such customer.
        """

        return self._store_credit_move("revoke_store_credit", key, customer_id, amount, reason)

    def _store_credit_move(
        self, operation: str, key: str, customer_id: str, amount: Money, reason: str
    ) -> StoreCreditAccount:
        """Grant or take back store credit (the two commands differ by the move only)."""

        def run(tx: Tx) -> StoreCreditAccount:
            customers(tx.uow).require(customer_id)
            account = self._account(tx.uow, customer_id, _currency_of(amount))
            move = account.grant if operation == "grant_store_credit" else account.reverse
            account, ev = move(
                tx.number("SC", self.config.number_format), amount, tx.now, reason=reason
            )
            tx.emit(ev)
            store_credits(tx.uow).put(account)
            return account

        fields = {"customer_id": customer_id, "amount": amount, "reason": reason}
        return self._command(operation, key, fields, run)

    def store_credit(self, customer_id: str, currency: str | None = None) -> StoreCreditAccount:
        """A customer's store-credit account (default: in the customer's currency); an
        empty one if it never moved."""

        def read(uow: UnitOfWork) -> StoreCreditAccount:
            customer = customers(uow).require(customer_id)
            return self._account(uow, customer_id, currency or customer.currency)

        return self._read(read)

    @staticmethod
    def _account(uow: UnitOfWork, customer_id: str, currency: str) -> StoreCreditAccount:
        found = store_credits(uow).get(account_id(customer_id, currency))
        return found if found is not None else open_account(customer_id, currency)

    def pay_with_store_credit(self, key: str, order_id: str, amount: Money | None = None) -> Tender:
        """Pay (part of) an order with the customer's store credit, without a gateway.

        The credit is redeemed at once and becomes a receipt (method ``store_credit``,
        reference the tender's id) applied to the order's open invoices; what does not
        fit waits for the order's next invoice, as a captured card's money does.

        Args:
            key: Idempotency key.
            order_id: The order.
            amount: How much (default: as much as the balance and the order allow).

        Returns:
            The tender (``reference`` is the ledger entry of the redemption).

        Raises:
            InsufficientStoreCreditError: more than the balance.
            TenderExceedsOrderTotalError: more than the order's other tenders leave.
            NothingToDoError: no amount given and no balance, or nothing left to pay.
            EngineStateError: the order is cancelled, rejected or expired.
        """

        def run(tx: Tx) -> Tender:
            order = self._payable(tx, order_id)
            account = self._account(tx.uow, order.customer_id, order.currency)
            if amount is None:
                take = check_tender_amount(tx.uow, order, None).min(account.balance)
                if not take.is_positive():
                    raise NothingToDoError(
                        subject=f"customer {order.customer_id}", reason="no store credit"
                    )
            else:
                take = check_tender_amount(tx.uow, order, amount)
            tender_id = tx.number("TND", self.config.number_format)
            entry_id = tx.number("SC", self.config.number_format)
            account, ev = account.redeem(entry_id, take, tx.now, reference=tender_id)
            tx.emit(ev)
            store_credits(tx.uow).put(account)
            tender, ev2 = tenders.open_tender(
                tender_id=tender_id,
                order_id=order.id,
                customer_id=order.customer_id,
                method=PaymentMethod.STORE_CREDIT,
                amount=take,
                now=tx.now,
                reference=entry_id,
            )
            tx.emit(ev2)
            tenders_of(tx.uow).put(tender)
            receipt, ev3 = cash.receive_cash(
                receipt_id=tx.number("RC"),
                amount=take,
                method=PaymentMethod.STORE_CREDIT,
                received_at=tx.now,
                reference=tender.id,
                customer_id=order.customer_id,
                tender_id=tender.id,
            )
            tx.emit(ev3)
            receipts_of(tx.uow).put(receipt)
            self._apply_to_order(tx, receipt, order)
            return tender

        fields = {"order_id": order_id, "amount": amount}
        return self._command("pay_with_store_credit", key, fields, run)

    # -- bank transfers -----------------------------------------------------------------

    def expect_bank_transfer(self, key: str, order_id: str, amount: Money | None = None) -> Tender:
        """Put an order "awaiting transfer": a tender with the reference the customer
        must quote on the transfer (ISO 11649, ``RF`` + check digits + the tender id;
        print it with :func:`o2c.tenders.format_creditor_reference`).

        Args:
            key: Idempotency key.
            order_id: The order.
            amount: How much to ask for (default: what the order's other tenders leave).

        Raises:
            TenderExceedsOrderTotalError: more than the order's other tenders leave.
            NothingToDoError: no amount given and nothing is left to pay.
            EngineStateError: the order is cancelled, rejected or expired.
        """

        def run(tx: Tx) -> Tender:
            order = self._payable(tx, order_id)
            take = check_tender_amount(tx.uow, order, amount)
            tender_id = tx.number("TND", self.config.number_format)
            tender, ev = tenders.open_tender(
                tender_id=tender_id,
                order_id=order.id,
                customer_id=order.customer_id,
                method=PaymentMethod.BANK_TRANSFER,
                amount=take,
                now=tx.now,
                reference=tenders.creditor_reference("".join(c for c in tender_id if c.isalnum())),
            )
            tx.emit(ev)
            tenders_of(tx.uow).put(tender)
            return tender

        fields = {"order_id": order_id, "amount": amount}
        return self._command("expect_bank_transfer", key, fields, run)

    def apply_bank_transfer(
        self, key: str, receipt_id: str, reference: str | None = None
    ) -> Receipt:
        """Match a bank receipt to the transfer it pays and apply it to that order.

        The creditor reference is looked for in ``reference`` or, by default, in the
        receipt's own reference (a statement line's remittance text; spaces and case do
        not matter). The receipt is linked to the tender, takes the order's customer if
        it had none, and is applied to the order's open invoices (oldest first); what
        does not fit stays unapplied and goes to the order's next invoice.

        Returns:
            The receipt after matching.

        Raises:
            UnknownTransferReferenceError: no awaited transfer's reference is in the text.
            NothingToDoError: the receipt was matched to that transfer already.
            ReceiptAlreadyLinkedError: it pays another tender.
            EngineStateError: it is another customer's, or was applied or refunded already.
        """

        def run(tx: Tx) -> Receipt:
            receipt = receipts_of(tx.uow).require(receipt_id)
            text = reference if reference is not None else receipt.reference
            check_free_text(text, field="reference", max_length=140, error=TenderFieldError)
            tender = self._transfer_for(tx.uow, receipt_id, text)
            if receipt.tender_id == tender.id:
                raise NothingToDoError(
                    subject=f"receipt {receipt_id}", reason=f"it pays {tender.id} already"
                )
            if receipt.currency != tender.currency:
                raise CurrencyMismatchError(left=tender.currency, right=receipt.currency)
            if receipt.allocations or receipt.refunds:
                raise EngineStateError(
                    subject=f"receipt {receipt_id}",
                    reason="it was applied or refunded already; match a receipt as it arrives",
                )
            if receipt.customer_id is None:
                receipt, ev = receipt.assign_customer(tender.customer_id, tx.now)
                tx.emit(ev)
            elif receipt.customer_id != tender.customer_id:
                raise EngineStateError(
                    subject=f"receipt {receipt_id}",
                    reason=f"it is from {receipt.customer_id}, the transfer {tender.id} is "
                    f"{tender.customer_id}'s",
                )
            receipt, ev2 = receipt.link_tender(tender.id, tx.now)
            tx.emit(ev2)
            receipts_of(tx.uow).put(receipt)
            order = orders_of(tx.uow).require(tender.order_id)
            return self._apply_to_order(tx, receipt, order)

        fields = {"receipt_id": receipt_id, "reference": reference}
        return self._command("apply_bank_transfer", key, fields, run)

    @staticmethod
    def _transfer_for(uow: UnitOfWork, receipt_id: str, text: str) -> Tender:
        candidates = tenders.find_creditor_references(text)
        found = {
            t.id: t
            for ref in candidates
            for t in tenders_of(uow).find("reference", ref)
            if t.method is PaymentMethod.BANK_TRANSFER
        }
        if len(found) != 1:
            # Two transfers in one text cannot be told apart: apply it by hand.
            raise UnknownTransferReferenceError(
                f"{len(found)} awaited transfers match the text of receipt {receipt_id}",
                receipt_id=receipt_id,
                reference=text[:40],
            )
        return next(iter(found.values()))

    def cancel_bank_transfer(self, key: str, tender_id: str) -> Tender:
        """Stop awaiting a bank transfer (it no longer counts against the order total);
        money already matched to it stays, and may be refunded with :meth:`refund_order`.

        Raises:
            TenderMethodError: the tender is not a bank transfer.
            TenderFieldError: it was cancelled already.
        """

        def run(tx: Tx) -> Tender:
            tender, ev = tenders.cancel_tender(tenders_of(tx.uow).require(tender_id), tx.now)
            tx.emit(ev)
            tenders_of(tx.uow).put(tender)
            return tender

        return self._command("cancel_bank_transfer", key, {"tender_id": tender_id}, run)

    # -- the order's tenders ------------------------------------------------------------

    def order_tenders(self, order_id: str) -> tuple[TenderView, ...]:
        """Every tender of an order, oldest first: gateway payments (card, wallet),
        store credit, bank transfers and cash on delivery, with what each holds, took,
        gave back and can still give back."""

        def read(uow: UnitOfWork) -> tuple[TenderView, ...]:
            order = orders_of(uow).require(order_id)
            return tuple(t.view for t in order_tenders(uow, order))

        return self._read(read)

    def refund_order(self, key: str, order_id: str, amount: Money | None = None) -> OrderRefund:
        """Give money back to an order's tenders, each through its own method.

        The amount is spread (:func:`o2c.tenders.plan_refund`): money not applied to
        any invoice first, then money applied to invoices (they reopen: a refund
        without a credit note means the customer owes again; for returned goods use
        :meth:`close_return`, which credits first); within each, store credit, then
        card and wallet, then bank transfer and cash on delivery; newest first; never
        more than a tender can give back. An uncaptured authorization holds no money
        and is never refunded: a full refund (``amount=None``) voids it instead.

        Returns:
            Where each part went (:class:`~o2c.tenders.OrderRefund`).

        Raises:
            RefundExceedsRefundableError: more than the tenders can give back.
            NothingToDoError: nothing to refund or void; or a zero amount.
        """

        def run(tx: Tx) -> OrderRefund:
            order = orders_of(tx.uow).require(order_id)
            found = order_tenders(tx.uow, order)
            why = f"refund of order {order.id}"
            refundable = money_sum((t.source.refundable for t in found), order.currency)
            opens = open_authorizations(found) if amount is None else []
            want = refundable if amount is None else self._refund_amount(order, amount)
            if not want.is_positive() and not opens:
                raise NothingToDoError(subject=f"order {order.id}", reason="nothing to refund")
            parts: list[RefundPart] = []
            if want.is_positive():
                by_id = {t.view.tender_id: t for t in found}
                plan = tenders.plan_refund(order.id, want, [t.source for t in found])
                for tender_id, part in plan:
                    parts += self._refund_tender(tx, by_id[tender_id], part, why)
            for open_payment in opens:
                before = payments_of(tx.uow).require(open_payment.id)
                payment = self._transact(tx, before, TransactionKind.VOID, before.capturable)
                txn_id, state = new_transaction(payment, before)
                outcome = _VOID_OUTCOMES.get(state, "void_pending")
                parts.append(
                    RefundPart(
                        tender_id=payment.id,
                        method=payment.method.value,
                        amount=before.capturable,
                        reference=f"{payment.id}/{txn_id}",
                        outcome=outcome,
                        note="an uncaptured authorization is voided, never refunded",
                    )
                )
            result = OrderRefund(order_id=order.id, requested=want, parts=tuple(parts))
            tx.emit(
                (
                    OrderRefunded(
                        aggregate_id=order.id,
                        occurred_at=tx.now,
                        requested=want,
                        refunded=result.refunded,
                        parts=result.parts,
                    ),
                )
            )
            return result

        fields = {"order_id": order_id, "amount": amount}
        return self._command("refund_order", key, fields, run)

    @staticmethod
    def _refund_amount(order: Order, amount: Money) -> Money:
        if not isinstance(amount, Money):
            raise InvalidAmountError(value=amount, reason="amount must be Money")
        if amount.currency != order.currency:
            raise CurrencyMismatchError(left=order.currency, right=amount.currency)
        if not amount.is_positive():
            raise NothingToDoError(subject=f"order {order.id}", reason=f"a refund of {amount}")
        if not amount.is_rounded():
            raise InvalidAmountError(
                value=amount, reason=f"amount must be whole {amount.currency} minor units"
            )
        return amount

    def _refund_tender(
        self, tx: Tx, tender: OrderTender, amount: Money, why: str
    ) -> list[RefundPart]:
        if tender.payment is not None:
            payment = payments_of(tx.uow).require(tender.payment.id)
            return self._refund_gateway(tx, payment, amount, why)
        tender_id = tender.view.tender_id
        if tender.view.method is PaymentMethod.STORE_CREDIT:
            return self._take_back_receipts(
                tx,
                tender.receipts,
                amount,
                lambda r, m: self._restore_store_credit(tx, r, m, why),
            )
        return self._take_back_receipts(
            tx,
            tender.receipts,
            amount,
            lambda r, m: self._payout(tx, r, m, why=why, tender_id=tender_id),
        )

    # -- helpers --------------------------------------------------------------------------

    def _payable(self, tx: Tx, order_id: str) -> Order:
        order = orders_of(tx.uow).require(order_id)
        if order.state in _CLOSED:
            raise EngineStateError(
                subject=f"order {order_id}", reason=f"it is {order.state.value}: nothing to pay"
            )
        return order

    def _apply_to_order(self, tx: Tx, receipt: Receipt, order: Order) -> Receipt:
        """Apply a receipt to the order's open invoices, oldest first."""
        for invoice in invoices_of(tx.uow).find("order_id", order.id):
            receipt, _ = self._allocate(tx, receipt, invoice)
        return receipt


def _currency_of(amount: object) -> str:
    if not isinstance(amount, Money):
        raise InvalidAmountError(value=amount, reason="amount must be Money")
    return amount.currency
