"""Engine part:

The payment reconciler: unknown and pending gateway outcomes resolved by asking again.

A gateway call that times out, raises, answers nothing or answers something that
does not fit leaves its transaction *unknown*; a gateway that answers *pending*
leaves it pending. Either way the transaction is in flight: its money may move, so
nothing is booked yet and the payment refuses other captures and voids until it is
answered. The reconciler (Kill Bill's janitor) answers it:

* :meth:`ReconcileMixin.reconcile_payments` finds every payment with a transaction
  whose next attempt is due (``EngineConfig.reconciliation_schedule``: 5 minutes,
  1 hour, then daily after each answer) and runs :meth:`ReconcileMixin.reconcile_payment`
  for it, under a key derived from the payment and the attempt, so a run that dies
  half-way is simply run again, and two workers running at once ask once.
* :meth:`ReconcileMixin.reconcile_payment` asks the gateway's ``status`` under the
  transaction's own idempotency key (never a new charge) and records the answer as
  the synchronous call would have: a success books the cash (captures and sales
  become receipts applied to invoices, refunds take cash back). An answer older than
  what is recorded changes nothing.
* After ``EngineConfig.reconciliation_max_attempts`` answers without a final one, or
  when the gateway says it moved another amount, the payment is **flagged for a
  person** (:meth:`ReconcileMixin.payments_needing_attention`) and no longer asked
  automatically; :meth:`ReconcileMixin.resolve_payment_flag` closes the flag.
* A payment the storage cannot lock (:class:`~o2c.errors.StorageBusyError`, or any
  retryable storage failure) is **rescheduled**: it stays due and the next run picks
  it up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from o2c import payments, reconciliation
from o2c.attention import AttentionReason
from o2c.engine.aftersales import AfterSalesMixin
from o2c.engine.billing import call_gateway, gateway_request
from o2c.engine.core import Tx, derive_key
from o2c.engine.records import payments_of
from o2c.errors import (
    ContradictoryOutcomeError,
    DomainError,
    EngineStateError,
    IdempotencyKeyTakenError,
    NothingToDoError,
    PaymentFieldError,
    PaymentNeedsAttentionError,
    StorageError,
    UnknownAdapterError,
)
from o2c.payments import Failed, Outcome, Payment, PaymentTransaction, Succeeded
from o2c.ports import Kind, PaymentGateway, UnitOfWork

__all__ = ["ReconcileItem", "ReconcileMixin", "ReconcileReport"]

log = logging.getLogger("o2c.engine.reconcile")


@attrs.frozen(kw_only=True)
class ReconcileItem:
    """One transaction the reconciler dealt with.

    Attributes:
        payment_id: The payment.
        transaction_id: The transaction.
        kind: Its kind (a ``TransactionKind`` value).
        state: Its state after the run (a ``TransactionState`` value).
        next_attempt_at: When it will be asked again (None: it will not be, because
            it is final or flagged). For a rescheduled transaction this is the time it
            was due, already past: the next run asks.
        reason: Why it was rescheduled or flagged (an error code or an
            ``AttentionReason`` value); None otherwise.
    """

    payment_id: str
    transaction_id: str
    kind: str
    state: str
    next_attempt_at: datetime | None = None
    reason: str | None = None


@attrs.frozen(kw_only=True)
class ReconcileReport:
    """What one run of :meth:`ReconcileMixin.reconcile_payments` did.

    Attributes:
        at: When the run started (the clock's ``now``).
        resolved: Transactions that got a final answer (succeeded or failed).
        waiting: Transactions asked and still in flight, with their next attempt.
        rescheduled: Transactions of payments the storage could not lock or write;
            they stay due and the next run asks again.
        flagged: Transactions of payments flagged for a person in this run.
        deferred: Due payments left for the next run by ``limit``.
        next_due_at: The earliest time a transaction (not flagged) will be due, or
            ``at`` if work was rescheduled or deferred; None when nothing is in flight.
    """

    at: datetime
    resolved: tuple[ReconcileItem, ...] = ()
    waiting: tuple[ReconcileItem, ...] = ()
    rescheduled: tuple[ReconcileItem, ...] = ()
    flagged: tuple[ReconcileItem, ...] = ()
    deferred: int = 0
    next_due_at: datetime | None = None


# (first due time, payment id, its due transactions)
_Work = tuple[datetime, str, tuple[PaymentTransaction, ...]]


def _check_limit(limit: object) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise PaymentFieldError(
            "limit is None or a positive int", field="limit", reason=f"{limit!r:.40}"
        )
    return limit


def _work_list(
    uow: UnitOfWork, now: datetime, schedule: Sequence[timedelta]
) -> tuple[list[_Work], datetime | None]:
    """Payments with a due transaction, and the earliest later due time of the rest."""
    work: list[_Work] = []
    later: list[datetime] = []
    for payment in payments_of(uow).find("in_flight", "yes"):
        if payment.attention is not None or payment.gateway is None:
            continue
        due = payments.due_for_reconciliation(payment, now, schedule)
        times = [payments.next_attempt_at(t, schedule) for t in payment.in_flight]
        first = min((t for t in times if t is not None), default=now)
        if due:
            work.append((first, payment.id, due))
        else:
            later.append(first)
    work.sort(key=lambda w: (w[0], w[1]))
    return work, min(later, default=None)


def _item(
    payment_id: str,
    txn: PaymentTransaction,
    next_at: datetime | None = None,
    reason: str | None = None,
) -> ReconcileItem:
    return ReconcileItem(
        payment_id=payment_id,
        transaction_id=txn.id,
        kind=txn.kind.value,
        state=txn.state.value,
        next_attempt_at=next_at,
        reason=reason,
    )


class ReconcileMixin(AfterSalesMixin):
    """The payment reconciler:
    unknown and pending gateway outcomes resolved by asking again.
    """

    # -- the run ----------------------------------------------------------------------

    def reconcile_payments(self, limit: int | None = None) -> ReconcileReport:
        """Ask the gateways about every transaction in flight whose next attempt is due.

        Each payment is asked and updated in its own unit of work, as
        :meth:`reconcile_payment` under a key derived from the payment and the
        attempt; nothing is asked before it is due. Call it from a scheduler (every
        minute or so); running it twice, or on two workers at once, asks once.

        Args:
            limit: At most this many payments (the longest overdue first); the rest
                are counted in ``deferred`` and left for the next run.

        Returns:
            What was resolved, is still waiting (with the next attempt), was
            rescheduled (the storage could not lock or write it) or was flagged for
            a person.

        Raises:
            PaymentFieldError: ``limit`` is not None or a positive int.
            StorageError: a storage failure that is not retryable (a bug), or one while
                finding the work.
        """
        limit = _check_limit(limit)
        now = self.clock.now()
        schedule = self.config.reconciliation_schedule
        work, later = self._read(lambda uow: _work_list(uow, now, schedule))
        todo = work if limit is None else work[:limit]
        resolved: list[ReconcileItem] = []
        waiting: list[ReconcileItem] = []
        rescheduled: list[ReconcileItem] = []
        flagged: list[ReconcileItem] = []
        for due_at, payment_id, due in todo:
            attempt = ",".join(f"{t.id}@{t.attempts}" for t in due)
            key = derive_key(f"reconcile:{payment_id}", attempt)
            try:
                payment = self._reconcile_or_flag(key, payment_id, due)
            except StorageError as exc:
                if not exc.retryable:
                    raise
                log.warning("payment %s rescheduled: %s", payment_id, exc.code)
                rescheduled += [_item(payment_id, t, due_at, exc.code) for t in due]
                continue
            except UnknownAdapterError as exc:
                # A gateway taken out of the configuration: the other payments are
                # still asked; this one waits until the gateway is configured again.
                log.error(  # noqa: TRY400 - a configuration gap, no traceback to show
                    "payment %s rescheduled: %s", payment_id, exc.message
                )
                rescheduled += [_item(payment_id, t, due_at, exc.code) for t in due]
                continue
            if payment is None:
                continue  # answered or flagged meanwhile, or done by another worker
            for asked in due:
                txn = payment.transaction(asked.id)
                if txn.is_final:
                    resolved.append(_item(payment_id, txn))
                elif payment.attention is not None:
                    flagged.append(_item(payment_id, txn, reason=payment.attention.reason.value))
                else:
                    waiting.append(_item(payment_id, txn, payments.next_attempt_at(txn, schedule)))
        deferred = len(work) - len(todo)
        upcoming = [w.next_attempt_at for w in waiting if w.next_attempt_at is not None]
        if later is not None:
            upcoming.append(later)
        if rescheduled or deferred:
            upcoming.append(now)
        report = ReconcileReport(
            at=now,
            resolved=tuple(resolved),
            waiting=tuple(waiting),
            rescheduled=tuple(rescheduled),
            flagged=tuple(flagged),
            deferred=deferred,
            next_due_at=min(upcoming, default=None),
        )
        if todo:
            log.info(
                "reconciled %d payments: %d resolved, %d waiting, %d rescheduled, "
                "%d flagged, %d deferred",
                len(todo),
                len(resolved),
                len(waiting),
                len(rescheduled),
                len(flagged),
                deferred,
            )
        return report

    def _reconcile_or_flag(
        self, key: str, payment_id: str, due: tuple[PaymentTransaction, ...]
    ) -> Payment | None:
        """One payment of a run: None when there was nothing to do any more; a
        payment whose answer could not be booked is flagged instead."""
        try:
            return self.reconcile_payment(key, payment_id)
        except (NothingToDoError, PaymentNeedsAttentionError, IdempotencyKeyTakenError):
            # Answered or flagged meanwhile, or another worker committed this very
            # attempt at the same moment: its answer stands.
            return None
        except (DomainError, ContradictoryOutcomeError) as exc:
            # The gateway answered but the answer cannot be booked (the records
            # changed in a way o2c cannot reconcile alone): a person must look.
            return self._flag_payment(
                derive_key(key, "booking_failed"),
                payment_id,
                reason=AttentionReason.BOOKING_FAILED,
                transaction_id=due[0].id,
                detail=str(exc),
            )

    # -- one payment ------------------------------------------------------------------

    def reconcile_payment(self, key: str, payment_id: str) -> Payment:
        """Ask the gateway about the payment's transactions that are due, and record
        the answers (a success books the cash as the synchronous call would).

        Raises:
            NotFoundError: no such payment.
            NothingToDoError: nothing is due (the reason says when the next attempt is).
            PaymentNeedsAttentionError: the payment is flagged for a person.
            EngineStateError: the payment runs on no gateway.
            ContradictoryOutcomeError: an answer contradicts a final one (only for a
                hand-built, inconsistent payment: final transactions are never asked).
        """

        def run(tx: Tx) -> Payment:
            payment = payments_of(tx.uow).require(payment_id)
            subject = f"payment {payment_id}"
            if payment.attention is not None:
                raise PaymentNeedsAttentionError(
                    subject=subject,
                    reason=f"flagged: {payment.attention.reason.value}",
                    payment_id=payment_id,
                    transaction_id=payment.attention.transaction_id,
                )
            if payment.gateway is None:
                raise EngineStateError(subject=subject, reason="it runs on no gateway to ask")
            schedule = self.config.reconciliation_schedule
            due = payments.due_for_reconciliation(payment, tx.now, schedule)
            if not due:
                upcoming = [payments.next_attempt_at(t, schedule) for t in payment.in_flight]
                first = min((t for t in upcoming if t is not None), default=None)
                reason = (
                    f"nothing is due before {first.isoformat()}"
                    if first is not None
                    else "nothing is in flight"
                )
                raise NothingToDoError(subject=subject, reason=reason)
            name, gw = self.gateway(payment.gateway)
            for txn in due:
                payment = self._ask_gateway(tx, name, gw, payment, payment.transaction(txn.id))
                if payment.attention is not None:
                    break
            return payment

        return self._command("reconcile_payment", key, {"payment_id": payment_id}, run)

    def _ask_gateway(
        self, tx: Tx, name: str, gw: PaymentGateway, payment: Payment, txn: PaymentTransaction
    ) -> Payment:
        """Ask ``status`` under the transaction's own key and record the answer."""
        checked = reconciliation.check_answer(
            txn, call_gateway(name, "status", gw.status, gateway_request(payment, txn))
        )
        if checked.problem is not None:
            log.warning(
                "gateway %s: status of payment %s, transaction %s: %s",
                name,
                payment.id,
                txn.id,
                checked.problem,
            )
        payment = self._resolved(tx, payment, txn.id, checked.outcome, _invoice_ids(tx, txn))
        answered = payment.transaction(txn.id)
        if checked.amount_mismatch:
            reason, detail = AttentionReason.AMOUNT_MISMATCH, str(checked.problem)
        elif reconciliation.gave_up(answered, self.config.reconciliation_max_attempts):
            reason = AttentionReason.GAVE_UP
            detail = (
                f"still {answered.state.value} after {answered.attempts} answers; "
                f"asked the gateway last at {tx.now.isoformat()}"
            )
        else:
            return payment
        payment, ev = reconciliation.flag(
            payment, reason=reason, transaction_id=txn.id, detail=detail, now=tx.now
        )
        tx.emit(ev)
        payments_of(tx.uow).put(payment)
        log.warning(
            "payment %s flagged for a person (%s, transaction %s)",
            payment.id,
            reason.value,
            txn.id,
        )
        return payment

    # -- people -----------------------------------------------------------------------

    def payments_needing_attention(self) -> tuple[Payment, ...]:
        """Payments flagged for a person, the longest waiting first."""

        def read(uow: UnitOfWork) -> tuple[Payment, ...]:
            found = payments_of(uow).find("attention", "yes")
            return tuple(sorted(found, key=lambda p: (_flagged_at(p), p.id)))

        return self._read(read)

    def resolve_payment_flag(
        self,
        key: str,
        payment_id: str,
        *,
        by: str,
        note: str,
        outcome: Outcome | None = None,
    ) -> Payment:
        """Close a payment's flag after a person looked at it with the gateway.

        Args:
            key: Idempotency key.
            payment_id: The flagged payment.
            by: Who looked.
            note: What they found or did (no card numbers).
            outcome: What the gateway shows for the flagged transaction,
                ``Succeeded()`` or ``Failed(reason)``; it is recorded and booked as
                a gateway answer would be. Required while the transaction is in
                flight; for a final one (a contradiction) it may be left out.

        Raises:
            NothingToDoError: the payment is not flagged.
            EngineStateError: the transaction is in flight and no outcome was given.
            PaymentFieldError: the outcome is not Succeeded or Failed, or names another
                amount; ``by`` or ``note`` is malformed.
            ContradictoryOutcomeError: the outcome contradicts the transaction's final
                state (record what happened with new transactions instead).
        """
        fields = {"payment_id": payment_id, "by": by, "note": note, "outcome": outcome}

        def run(tx: Tx) -> Payment:
            payment = payments_of(tx.uow).require(payment_id)
            subject = f"payment {payment_id}"
            if payment.attention is None:
                raise NothingToDoError(subject=subject, reason="it is not flagged")
            txn = payment.transaction(payment.attention.transaction_id)
            if outcome is not None:
                if not isinstance(outcome, Succeeded | Failed):
                    raise PaymentFieldError(
                        "a person records a final answer: Succeeded or Failed",
                        field="outcome",
                        reason=type(outcome).__name__,
                    )
                checked = reconciliation.check_answer(txn, outcome)
                if checked.amount_mismatch:
                    raise PaymentFieldError(
                        "o2c books the amount it asked for",
                        field="outcome",
                        reason=str(checked.problem),
                    )
                payment = self._resolved(tx, payment, txn.id, outcome, _invoice_ids(tx, txn))
            elif txn.in_flight:
                raise EngineStateError(
                    subject=subject,
                    reason=f"transaction {txn.id} has no final answer; pass the outcome "
                    "the gateway shows",
                )
            payment, ev = reconciliation.clear_attention(
                payment, by=by, note=note, outcome=outcome, now=tx.now
            )
            tx.emit(ev)
            payments_of(tx.uow).put(payment)
            return payment

        return self._command("resolve_payment_flag", key, fields, run)


def _flagged_at(payment: Payment) -> datetime:
    attention = payment.attention
    return attention.flagged_at if attention is not None else payment.created_at


def _invoice_ids(tx: Tx, txn: PaymentTransaction) -> tuple[str, ...]:
    """The invoices a sale was made for (see ``BillingMixin._transact``)."""
    link = tx.uow.get(Kind.GATEWAY_KEY.value, txn.idempotency_key)
    return tuple(link[2]) if isinstance(link, tuple) else ()
