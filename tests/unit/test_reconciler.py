"""The payment reconciler: the backoff schedule, late and stale answers, locked
payments, crashes mid-run, the person-flag, and unknown outcomes in the engine."""

from __future__ import annotations

import logging
from datetime import timedelta

import attrs
import pytest
from tests.unit.engine_cases import (
    CARD,
    ORDER,
    PAYMENT,
    RECEIPT,
    START,
    World,
    authorized,
    captured,
    confirmed,
    eur,
    mugs,
    stocked,
)
from tests.unit.test_gateway_faults import check_books, fault_world, ledger

from o2c.adapters.fake_gateway import PENDING_TOKEN
from o2c.adapters.faulty_gateway import Fault
from o2c.attention import AttentionReason, PaymentAttention
from o2c.engine import EngineConfig
from o2c.engine.core import derive_key
from o2c.engine.reconcile import ReconcileReport
from o2c.engine.records import payments_of
from o2c.errors import (
    ConfigurationError,
    ContradictoryOutcomeError,
    EngineStateError,
    IdempotencyKeyTakenError,
    NothingToDoError,
    PaymentFieldError,
    PaymentLimitExceededError,
    PaymentNeedsAttentionError,
    StorageBusyError,
    StorageUsageError,
    TransactionInFlightError,
    UnknownAdapterError,
)
from o2c.events import PaymentFlagCleared, PaymentFlagged
from o2c.lifecycles import PaymentState, TransactionState
from o2c.payments import (
    DeclineReason,
    Failed,
    Payment,
    Pending,
    Succeeded,
    Unknown,
    contains_card_number,
    create_payment,
)
from o2c.ports import GatewayEvent, Kind
from o2c.reconciliation import check_answer, clear_attention, flag

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
BAD_TOKEN = " bad token"  # noqa: S105 - the fake gateway refuses it as malformed
SECOND = timedelta(seconds=1)


def unknown_authorizations(w: World, count: int = 1, fault: Fault = Fault.UNDEFINED) -> None:
    """``count`` orders SO-1.. with an authorization the gateway took but never
    confirmed (PAY-000001.. unknown)."""
    stocked(w)
    w.gateway.inject("authorize", fault, times=count)
    for n in range(1, count + 1):
        w.engine.place_order(f"o-{n}", customer_id="ada", lines=[mugs(1)], order_id=f"SO-{n}")
        payment = w.engine.authorize_payment(f"a-{n}", f"SO-{n}", token=CARD)
        assert payment.transactions[-1].state is TransactionState.UNKNOWN


def outbox(w: World) -> list[object]:
    return [event for _, event, _ in w.storage.inner.snapshot().outbox]


def status_calls(w: World) -> int:
    return w.gateway.calls.get("status", 0)


def ids(items: tuple[object, ...]) -> list[str]:
    return [item.payment_id for item in items]  # type: ignore[attr-defined]


# -- the schedule --------------------------------------------------------------------------


def test_attempts_come_exactly_5_minutes_then_1_hour_then_daily() -> None:
    w = fault_world(EngineConfig(reconciliation_max_attempts=20))
    unknown_authorizations(w)
    w.gateway.inject("status", Fault.UNDEFINED, times=None)  # it never learns anything
    asked_at = []
    due = START
    for step in (5 * MINUTE, HOUR, DAY, DAY, DAY):
        due += step
        w.clock.set(due - SECOND)
        before = status_calls(w)
        early = w.engine.reconcile_payments()
        assert status_calls(w) == before, f"asked before {due}"
        assert (early.waiting, early.next_due_at) == ((), due)
        w.clock.set(due)
        report = w.engine.reconcile_payments()
        assert status_calls(w) == before + 1
        txn = w.engine.payment(PAYMENT).transactions[0]
        asked_at.append(txn.last_attempt_at)
        assert [i.next_attempt_at for i in report.waiting] == [report.next_due_at]
    t = START
    assert asked_at == [
        t + 5 * MINUTE,
        t + 5 * MINUTE + HOUR,
        t + 5 * MINUTE + HOUR + DAY,
        t + 5 * MINUTE + HOUR + 2 * DAY,
        t + 5 * MINUTE + HOUR + 3 * DAY,
    ]
    assert report.next_due_at == asked_at[-1] + DAY  # daily from now on


def test_a_configured_schedule_is_followed() -> None:
    config = EngineConfig(reconciliation_schedule=[MINUTE, 2 * MINUTE])
    w = fault_world(config)
    unknown_authorizations(w)
    w.gateway.inject("status", Fault.RAISE, times=2)
    w.clock.set(START + MINUTE)
    assert ids(w.engine.reconcile_payments().waiting) == [PAYMENT]
    w.clock.set(START + 3 * MINUTE)
    assert ids(w.engine.reconcile_payments().waiting) == [PAYMENT]
    w.clock.set(START + 5 * MINUTE)
    assert ids(w.engine.reconcile_payments().resolved) == [PAYMENT]
    assert w.engine.payment(PAYMENT).state is PaymentState.AUTHORIZED


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("reconciliation_schedule", ()),
        ("reconciliation_schedule", (MINUTE, timedelta(0))),
        ("reconciliation_schedule", "5m"),
        ("reconciliation_max_attempts", 0),
        ("reconciliation_max_attempts", True),
    ],
)
def test_bad_reconciliation_settings_are_refused(setting: str, value: object) -> None:
    with pytest.raises(ConfigurationError) as err:
        EngineConfig(**{setting: value})  # type: ignore[arg-type]
    assert err.value.setting == setting


# -- resolution books the cash -------------------------------------------------------------


def test_an_unknown_capture_resolved_later_books_the_cash_as_a_capture_would() -> None:
    w = fault_world()
    authorized(w)
    w.engine.invoice_order("setup-invoice", ORDER, "ordered")
    w.gateway.inject("capture", Fault.SUCCEED_THEN_TIMEOUT)
    payment = w.engine.capture_payment("c", PAYMENT)
    assert payment.state is PaymentState.AUTHORIZED
    assert payment.transactions[-1].state is TransactionState.UNKNOWN
    assert w.engine.invoice("INV-000001").open_amount == eur("119.00")
    with pytest.raises(TransactionInFlightError):
        w.engine.capture_payment("c2", PAYMENT)
    with pytest.raises(TransactionInFlightError):
        w.engine.void_payment("v", PAYMENT)
    check_books(w, settled=False)
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert [(i.transaction_id, i.state) for i in report.resolved] == [("T2", "succeeded")]
    assert w.engine.payment(PAYMENT).state is PaymentState.CAPTURED
    assert w.engine.invoice("INV-000001").state.value == "paid"
    assert w.engine.receipt(RECEIPT).applied == eur("119.00")
    check_books(w, settled=True)


def test_an_unknown_sale_resolved_later_pays_the_invoices_it_was_for() -> None:
    w = fault_world()
    confirmed(w)
    w.engine.invoice_order("i1", ORDER, "ordered")
    w.gateway.inject("sale", Fault.NONE)
    payment = w.engine.pay_invoices("p", "ada", ["INV-000001"], token=CARD)
    assert payment.transactions[-1].state is TransactionState.UNKNOWN
    w.clock.advance(minutes=5)
    w.engine.reconcile_payments()
    assert w.engine.invoice("INV-000001").state.value == "paid"
    check_books(w, settled=True)


def test_an_unknown_refund_resolved_later_takes_the_cash_back() -> None:
    w = fault_world()
    captured(w)
    w.gateway.inject("refund", Fault.RAISE)
    payment = w.engine.refund_payment("r", PAYMENT, eur("19.00"))
    assert payment.transactions[-1].state is TransactionState.UNKNOWN
    # Nothing moved (the call failed before it reached the gateway): the refund failed.
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert [i.state for i in report.resolved] == ["failed"]
    assert w.engine.payment(PAYMENT).refunded == eur("0.00")
    # A new refund goes through; the one after that, for the same money, is unknown
    # until the reconciler learns it moved.
    w.engine.refund_payment("r2", PAYMENT, eur("19.00"))
    w.gateway.inject("refund", Fault.UNDEFINED)
    w.engine.refund_payment("r3", PAYMENT, eur("20.00"))
    assert w.engine.invoice("INV-000001").open_amount == eur("19.00")
    w.clock.advance(minutes=5)
    w.engine.reconcile_payments()
    assert w.engine.payment(PAYMENT).refunded == eur("39.00")
    assert w.engine.invoice("INV-000001").open_amount == eur("39.00")
    check_books(w, settled=True)


def test_money_promised_to_a_refund_in_flight_cannot_be_charged_back() -> None:
    w = fault_world()
    captured(w)
    w.gateway.inject("refund", Fault.UNDEFINED)
    w.engine.refund_payment("r", PAYMENT, eur("100.00"))
    with pytest.raises(PaymentLimitExceededError) as err:
        w.engine.open_chargeback("cb", PAYMENT, reason="fraudulent", amount=eur("20.00"))
    assert err.value.available == eur("19.00")
    w.engine.open_chargeback("cb2", PAYMENT, reason="fraudulent", amount=eur("19.00"))
    w.engine.settle_dispute("lost", "DSP-000001", "lost", resolution="credit_note")
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert ids(report.resolved) == [PAYMENT]
    assert report.flagged == ()
    check_books(w, settled=True)


# -- late and stale answers ----------------------------------------------------------------


def _stale(event: GatewayEvent, outcome: object, n: int) -> GatewayEvent:
    return attrs.evolve(event, event_id=f"{event.event_id}-late-{n}", outcome=outcome)


def test_a_late_answer_for_an_older_transaction_never_downgrades_a_captured_payment() -> None:
    w = fault_world()
    confirmed(w)
    w.engine.invoice_order("i", ORDER, "ordered")
    payment = w.engine.authorize_payment("a", ORDER, token=PENDING_TOKEN)
    t1 = payment.transactions[0]
    w.clock.advance(minutes=5)
    assert ids(w.engine.reconcile_payments().waiting) == [PAYMENT]  # still pending
    event = w.gateway.settle(t1.idempotency_key, now=w.clock.now())
    assert w.engine.handle_gateway_event("card", event).state is PaymentState.AUTHORIZED
    assert w.engine.capture_payment("c", PAYMENT).state is PaymentState.CAPTURED
    books = ledger(w)

    # The reconciler's next attempt for T1 finds it final: nothing is asked.
    w.clock.advance(hours=2)
    asked = status_calls(w)
    assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    assert status_calls(w) == asked
    with pytest.raises(NothingToDoError, match="nothing is in flight"):
        w.engine.reconcile_payment("late-ask", PAYMENT)
    # Late webhooks for T1: pending, unknown, the same success again.
    for n, late in enumerate([Pending(), Unknown(), Succeeded(t1.gateway_reference)]):
        again = w.engine.handle_gateway_event("card", _stale(event, late, n))
        assert again.state is PaymentState.CAPTURED
    assert ledger(w) == books
    check_books(w, settled=True)


def test_a_contradicting_answer_is_a_typed_error_and_flags_the_payment() -> None:
    w = fault_world()
    confirmed(w)
    payment = w.engine.authorize_payment("a", ORDER, token=PENDING_TOKEN)
    key = payment.transactions[0].idempotency_key
    event = w.gateway.settle(key, now=w.clock.now())
    w.engine.handle_gateway_event("card", event)
    w.engine.capture_payment("c", PAYMENT)
    books = ledger(w)
    lie = _stale(event, Failed(DeclineReason.FRAUD_SUSPECTED), 1)
    with pytest.raises(ContradictoryOutcomeError):
        w.engine.handle_gateway_event("card", lie)
    with pytest.raises(ContradictoryOutcomeError):  # delivered twice: flagged once
        w.engine.handle_gateway_event("card", lie)
    assert ledger(w) == books  # still captured
    flagged = w.engine.payments_needing_attention()
    assert [p.id for p in flagged] == [PAYMENT]
    attention = flagged[0].attention
    assert attention is not None
    assert (attention.reason, attention.transaction_id) == (AttentionReason.CONTRADICTION, "T1")
    assert [type(e) for e in outbox(w)].count(PaymentFlagged) == 1
    # A person looks, and closes the flag without changing the final transaction.
    with pytest.raises(ContradictoryOutcomeError):
        w.engine.resolve_payment_flag(
            "r0", PAYMENT, by="ops", note="x", outcome=Failed(DeclineReason.FRAUD_SUSPECTED)
        )
    cleared = w.engine.resolve_payment_flag("r", PAYMENT, by="ops", note="the gateway was wrong")
    assert cleared.attention is None
    assert cleared.state is PaymentState.CAPTURED
    assert w.engine.payments_needing_attention() == ()


def test_a_webhook_for_another_amount_books_nothing_and_the_reconciler_asks() -> None:
    w = fault_world()
    confirmed(w)
    payment = w.engine.authorize_payment("a", ORDER, token=PENDING_TOKEN)
    key = payment.transactions[0].idempotency_key
    event = w.gateway.settle(key, now=w.clock.now())
    wrong = attrs.evolve(event, outcome=Succeeded("fg_000001", amount=eur("1.00")))
    after = w.engine.handle_gateway_event("card", wrong)
    assert after.state is PaymentState.NEW
    assert after.transactions[0].state is TransactionState.PENDING
    assert after.transactions[0].attempts == 2  # the webhook counts as an attempt
    w.clock.advance(minutes=5)
    assert w.engine.reconcile_payments().next_due_at == START + HOUR
    w.clock.advance(minutes=55)
    assert ids(w.engine.reconcile_payments().resolved) == [PAYMENT]
    assert w.engine.payment(PAYMENT).authorized == eur("119.00")


# -- locks and crashes ---------------------------------------------------------------------


def test_a_locked_payment_is_rescheduled_not_lost() -> None:
    w = fault_world()
    unknown_authorizations(w, 3)
    w.clock.advance(minutes=5)
    w.storage.lock(Kind.PAYMENT, "PAY-000002")
    before = w.engine.payment("PAY-000001")  # reads of other records go through

    report = w.engine.reconcile_payments()

    assert ids(report.resolved) == ["PAY-000001", "PAY-000003"]
    assert [(i.payment_id, i.reason, i.next_attempt_at) for i in report.rescheduled] == [
        ("PAY-000002", StorageBusyError.code, START + 5 * MINUTE)
    ]
    assert report.next_due_at == w.clock.now()  # the next run has work at once
    assert before.state is PaymentState.NEW
    with pytest.raises(StorageBusyError):
        w.engine.payment("PAY-000002")
    w.storage.unlock(Kind.PAYMENT, "PAY-000002")
    assert w.storage.locked == frozenset()
    assert w.engine.payment("PAY-000002").transactions[0].attempts == 1  # untouched

    again = w.engine.reconcile_payments()
    assert ids(again.resolved) == ["PAY-000002"]
    assert again.rescheduled == ()
    check_books(w, settled=True)


def test_a_lock_refuses_reads_and_writes_of_that_record_only() -> None:
    w = fault_world()
    customer_storage = w.storage
    customer_storage.lock(Kind.CUSTOMER, "ada")
    customer_storage.unlock(Kind.CUSTOMER, "bob")  # a free record: nothing happens
    with pytest.raises(StorageBusyError) as err:
        stocked(w)
    assert (err.value.operation, err.value.kind, err.value.record_id) == ("put", "customer", "ada")
    assert err.value.retryable
    assert customer_storage.writes == 0  # refused before it counted
    w.engine.receive_stock("s", "MUG", 3)  # other records are free


def test_a_run_that_dies_half_way_is_completed_by_the_next_run() -> None:
    reference = fault_world()
    unknown_authorizations(reference, 3)
    reference.clock.advance(minutes=5)
    start = len(reference.storage.write_log)
    reference.engine.reconcile_payments()
    log = reference.storage.write_log[start:]
    second_commit = [i for i, op in enumerate(log) if op == "commit"][1]

    w = fault_world()
    unknown_authorizations(w, 3)
    w.clock.advance(minutes=5)
    w.storage.arm(second_commit)
    report = w.engine.reconcile_payments()
    assert ids(report.resolved) == ["PAY-000001", "PAY-000003"]
    assert [(i.payment_id, i.reason) for i in report.rescheduled] == [
        ("PAY-000002", "storage.injected_fault")
    ]
    w.storage.disarm()
    assert ids(w.engine.reconcile_payments().resolved) == ["PAY-000002"]
    assert ledger(w) == ledger(reference)
    assert w.gateway.side_effects == reference.gateway.side_effects
    check_books(w, settled=True)


def test_a_second_run_or_a_second_worker_asks_nothing_again() -> None:
    w = fault_world()
    unknown_authorizations(w, 2)
    w.clock.advance(minutes=5)
    first = w.engine.reconcile_payments()
    asked, state = status_calls(w), w.snapshot()
    assert ids(first.resolved) == ["PAY-000001", "PAY-000002"]
    assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    # A worker that read PAY-000001 before the first one committed runs the same
    # command under the same derived key: it gets the first worker's answer.
    late = w.engine.reconcile_payment(derive_key(f"reconcile:{PAYMENT}", "T1@1"), PAYMENT)
    assert late == w.engine.payment(PAYMENT)
    assert (status_calls(w), w.snapshot()) == (asked, state)


def test_a_payment_answered_while_the_run_was_under_way_is_skipped() -> None:
    w = fault_world()
    confirmed(w)
    w.gateway.inject("authorize", Fault.PENDING)
    payment = w.engine.authorize_payment("a", ORDER, token=CARD)
    w.clock.advance(minutes=5)
    event = w.gateway.settle(payment.transactions[0].idempotency_key, now=w.clock.now())
    run = w.engine.reconcile_payment

    def webhook_first(key: str, payment_id: str) -> Payment:
        w.engine.handle_gateway_event("card", event)  # it arrives just before
        return run(key, payment_id)

    w.engine.reconcile_payment = webhook_first  # type: ignore[method-assign]
    asked = status_calls(w)
    assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    assert status_calls(w) == asked
    assert w.engine.payment(PAYMENT).state is PaymentState.AUTHORIZED


def test_an_attempt_another_worker_committed_at_the_same_moment_is_skipped() -> None:
    w = fault_world()
    unknown_authorizations(w)
    w.clock.advance(minutes=5)

    def raced(key: str, payment_id: str) -> Payment:
        raise IdempotencyKeyTakenError(key=key)  # a SQL storage's unique key, say

    w.engine.reconcile_payment = raced  # type: ignore[method-assign]
    assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    assert w.engine.payments_needing_attention() == ()


def test_a_limit_leaves_the_rest_for_the_next_run() -> None:
    w = fault_world()
    unknown_authorizations(w, 3)
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments(limit=2)
    assert (ids(report.resolved), report.deferred) == (["PAY-000001", "PAY-000002"], 1)
    assert report.next_due_at == w.clock.now()
    assert ids(w.engine.reconcile_payments(limit=2).resolved) == ["PAY-000003"]


@pytest.mark.parametrize("limit", [0, -1, True, 1.5, "2"])
def test_a_bad_limit_is_refused(limit: object) -> None:
    w = fault_world()
    with pytest.raises(PaymentFieldError) as err:
        w.engine.reconcile_payments(limit=limit)  # type: ignore[arg-type]
    assert err.value.field == "limit"


def test_a_storage_bug_is_not_swallowed_as_a_reschedule() -> None:
    w = fault_world()
    unknown_authorizations(w)
    w.clock.advance(minutes=5)

    def broken(*_args: object) -> None:
        raise StorageUsageError(operation="get", reason="a bug")

    w.storage.check_lock = broken  # type: ignore[method-assign]
    with pytest.raises(StorageUsageError):
        w.engine.reconcile_payments()


# -- the person-flag -----------------------------------------------------------------------


def test_after_the_last_attempt_the_payment_is_flagged_and_no_longer_asked() -> None:
    w = fault_world(EngineConfig(reconciliation_max_attempts=4))
    unknown_authorizations(w)
    w.gateway.inject("status", Fault.TIMEOUT, times=None)
    for due in (START + 5 * MINUTE, START + 65 * MINUTE):
        w.clock.set(due)
        assert ids(w.engine.reconcile_payments().waiting) == [PAYMENT]
    w.clock.set(START + 65 * MINUTE + DAY)
    report = w.engine.reconcile_payments()  # the fourth answer: give up
    assert [(i.payment_id, i.reason, i.next_attempt_at) for i in report.flagged] == [
        (PAYMENT, "gave_up", None)
    ]
    assert report.next_due_at is None
    flagged = w.engine.payments_needing_attention()
    assert [p.id for p in flagged] == [PAYMENT]
    attention = flagged[0].attention
    assert attention is not None
    flagged_at = START + 65 * MINUTE + DAY  # the clock then waited out the status timeout
    assert (attention.reason, attention.flagged_at) == (AttentionReason.GAVE_UP, flagged_at)
    assert "after 4 answers" in attention.detail
    events = [e for e in outbox(w) if isinstance(e, PaymentFlagged)]
    assert [(e.aggregate_id, e.reason) for e in events] == [(PAYMENT, "gave_up")]

    asked = status_calls(w)
    for days in (1, 7, 60):
        w.clock.advance(days=days)
        assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    assert status_calls(w) == asked
    with pytest.raises(PaymentNeedsAttentionError) as err:
        w.engine.reconcile_payment("ask-anyway", PAYMENT)
    assert (err.value.payment_id, err.value.transaction_id) == (PAYMENT, "T1")


def test_a_person_records_what_the_gateway_shows_and_the_cash_is_booked() -> None:
    w = fault_world(EngineConfig(reconciliation_max_attempts=2))
    authorized(w)
    w.engine.invoice_order("i", ORDER, "ordered")
    w.gateway.inject("capture", Fault.UNDEFINED)
    w.gateway.inject("status", Fault.NONE, times=None)
    w.engine.capture_payment("c", PAYMENT)
    w.clock.advance(minutes=5)
    assert ids(w.engine.reconcile_payments().flagged) == [PAYMENT]

    with pytest.raises(EngineStateError, match="no final answer"):
        w.engine.resolve_payment_flag("r", PAYMENT, by="ops", note="looked")
    with pytest.raises(PaymentFieldError):
        w.engine.resolve_payment_flag("r", PAYMENT, by="ops", note="x", outcome=Pending())
    wrong = Succeeded(amount=eur("1.00"))
    with pytest.raises(PaymentFieldError):
        w.engine.resolve_payment_flag("r", PAYMENT, by="ops", note="x", outcome=wrong)
    with pytest.raises(PaymentFieldError):
        w.engine.resolve_payment_flag("r", PAYMENT, by="", note="x", outcome=Succeeded())

    payment = w.engine.resolve_payment_flag(
        "r", PAYMENT, by="ops", note="captured per the dashboard", outcome=Succeeded()
    )
    assert (payment.state, payment.attention) == (PaymentState.CAPTURED, None)
    assert w.engine.invoice("INV-000001").state.value == "paid"
    cleared = [e for e in outbox(w) if isinstance(e, PaymentFlagCleared)]
    assert [(e.by, e.reason, e.outcome) for e in cleared] == [("ops", "gave_up", "succeeded")]
    with pytest.raises(NothingToDoError):
        w.engine.resolve_payment_flag("r2", PAYMENT, by="ops", note="again")
    check_books(w, settled=True)


def test_a_status_for_another_amount_flags_the_payment_at_once() -> None:
    w = fault_world()
    unknown_authorizations(w)
    w.gateway.inject("status", Fault.WRONG_AMOUNT)
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert [(i.payment_id, i.reason) for i in report.flagged] == [(PAYMENT, "amount_mismatch")]
    payment = w.engine.payment(PAYMENT)
    assert payment.state is PaymentState.NEW  # nothing booked
    assert payment.attention is not None
    assert "not the 59.50 EUR asked for" in payment.attention.detail


def test_an_answer_that_cannot_be_booked_flags_the_payment() -> None:
    # The refund moved at the gateway, but meanwhile someone paid the money back by
    # hand: booking the refund would take cash the receipt no longer holds.
    w = fault_world()
    authorized(w)
    w.engine.capture_payment("c", PAYMENT)  # no invoice: the receipt stays unapplied
    w.gateway.inject("refund", Fault.SUCCEED_THEN_TIMEOUT)
    w.engine.refund_payment("r", PAYMENT)
    w.engine.refund_unapplied("by-hand", RECEIPT, eur("119.00"), "paid back by hand")
    w.clock.advance(minutes=5)
    report = w.engine.reconcile_payments()
    assert [(i.payment_id, i.reason) for i in report.flagged] == [(PAYMENT, "booking_failed")]
    payment = w.engine.payment(PAYMENT)
    assert payment.transactions[-1].state is TransactionState.UNKNOWN
    assert payment.attention is not None
    assert payment.attention.reason is AttentionReason.BOOKING_FAILED


def test_flagged_payments_are_listed_longest_waiting_first() -> None:
    w = fault_world()
    unknown_authorizations(w, 2)
    w.gateway.inject("status", Fault.WRONG_AMOUNT, at=0, times=1)
    w.clock.advance(minutes=5)
    w.storage.lock(Kind.PAYMENT, "PAY-000002")
    w.engine.reconcile_payments()
    w.storage.unlock(Kind.PAYMENT, "PAY-000002")
    w.gateway.inject("status", Fault.WRONG_AMOUNT)
    w.clock.advance(minutes=1)
    w.engine.reconcile_payments()
    assert [p.id for p in w.engine.payments_needing_attention()] == ["PAY-000001", "PAY-000002"]


# -- reconcile_payment on its own ----------------------------------------------------------


def test_asking_before_the_first_delay_says_when() -> None:
    w = fault_world()
    unknown_authorizations(w)
    with pytest.raises(NothingToDoError, match="nothing is due before 2026-03-02T09:05"):
        w.engine.reconcile_payment("early", PAYMENT)


def test_a_payment_on_a_gateway_no_longer_configured_waits_and_the_rest_are_asked() -> None:
    w = fault_world()
    unknown_authorizations(w, 1)
    payment, _ = create_payment(
        payment_id="PAY-GONE", amount=eur("10.00"), method="card", now=START, gateway="gone"
    )
    payment, _, _ = payment.request(
        transaction_id="T1", kind="sale", amount=eur("10.00"), idempotency_key="g", now=START
    )
    with w.storage.begin() as uow:
        payments_of(uow).put(payment)
        uow.commit()
    w.clock.advance(minutes=5)

    report = w.engine.reconcile_payments()

    assert ids(report.resolved) == ["PAY-000001"]
    assert [(i.payment_id, i.reason) for i in report.rescheduled] == [
        ("PAY-GONE", UnknownAdapterError.code)
    ]
    assert report.next_due_at == w.clock.now()
    assert w.engine.payment("PAY-GONE") == payment  # untouched, still in flight


def test_a_payment_on_no_gateway_is_not_asked() -> None:
    w = fault_world()
    payment, _ = create_payment(
        payment_id="PAY-X", amount=eur("10.00"), method="bank_transfer", now=START
    )
    payment, _, _ = payment.request(
        transaction_id="T1", kind="sale", amount=eur("10.00"), idempotency_key="k", now=START
    )
    with w.storage.begin() as uow:
        payments_of(uow).put(payment)
        uow.commit()
    w.clock.advance(minutes=5)
    assert w.engine.reconcile_payments() == ReconcileReport(at=w.clock.now())
    with pytest.raises(EngineStateError, match="no gateway"):
        w.engine.reconcile_payment("ask", "PAY-X")


# -- unknown outcomes in the engine --------------------------------------------------------


def test_a_gateway_exception_is_logged_without_card_data(caplog: pytest.LogCaptureFixture) -> None:
    w = fault_world()
    confirmed(w)
    pan = "4111 1111 1111 1111"
    w.gateway.inject("authorize", Fault.RAISE, error=RuntimeError(f"bad card {pan}"))
    with caplog.at_level(logging.WARNING, logger="o2c"):
        payment = w.engine.authorize_payment("a", ORDER, token=CARD)
    assert payment.transactions[0].state is TransactionState.UNKNOWN
    messages = [r.getMessage() for r in caplog.records]
    assert any("RuntimeError: bad card ****" in m for m in messages), messages
    assert not any(contains_card_number(m) for m in messages)
    assert all(r.exc_info is None for r in caplog.records)


def test_a_malformed_request_is_logged_as_an_error_and_stays_unknown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = fault_world()
    confirmed(w)
    with caplog.at_level(logging.WARNING, logger="o2c"):
        payment = w.engine.authorize_payment("a", ORDER, token=BAD_TOKEN)
    assert payment.transactions[0].state is TransactionState.UNKNOWN
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    w.clock.advance(minutes=5)
    w.engine.reconcile_payments()  # the gateway never saw it: failed
    assert w.engine.payment(PAYMENT).state is PaymentState.DECLINED


def test_an_unknown_outcome_is_committed_and_replayed_not_retried() -> None:
    w = fault_world()
    confirmed(w)
    w.gateway.inject("authorize", Fault.TIMEOUT, times=None)
    first = w.engine.authorize_payment("a", ORDER, token=CARD)
    assert w.gateway.calls == {"authorize": 1}
    assert w.engine.authorize_payment("a", ORDER, token=CARD) == first
    assert w.gateway.calls == {"authorize": 1}  # the replay did not call the gateway
    assert w.engine.payment(PAYMENT) == first


# -- the pure parts ------------------------------------------------------------------------


def test_check_answer_accepts_fitting_outcomes() -> None:
    w = fault_world()
    unknown_authorizations(w)
    txn = w.engine.payment(PAYMENT).transactions[0]
    for good in (Succeeded("r"), Succeeded(amount=txn.amount), Failed("other"), Pending()):
        assert check_answer(txn, good).outcome == good
        assert check_answer(txn, good).problem is None
    assert check_answer(txn, "ok").outcome == Unknown()
    with pytest.raises(PaymentFieldError):
        Succeeded(amount="59.50")  # type: ignore[arg-type]


def test_flag_keeps_the_first_flag_and_clear_needs_one() -> None:
    payment, _ = create_payment(payment_id="P", amount=eur("10.00"), method="card", now=START)
    payment, _, _ = payment.request(
        transaction_id="T1", kind="authorize", amount=eur("10.00"), idempotency_key="k", now=START
    )
    flagged, events = flag(
        payment,
        reason="gave_up",
        transaction_id="T1",
        detail="card 4111 1111 1111 1111 in a reply",
        now=START,
    )
    assert len(events) == 1
    assert flagged.attention is not None
    assert not contains_card_number(flagged.attention.detail)
    again, none = flag(flagged, reason="contradiction", transaction_id="T1", detail="x", now=START)
    assert (again, none) == (flagged, ())
    with pytest.raises(PaymentFieldError):
        clear_attention(payment, by="ops", note="x", outcome=None, now=START)
    with pytest.raises(PaymentFieldError):
        clear_attention(flagged, by="ops", note="x", outcome=None, now=START.replace(tzinfo=None))
    with pytest.raises(PaymentFieldError):
        attrs.evolve(
            payment,
            attention=PaymentAttention(
                reason="gave_up", transaction_id="T9", detail="x", flagged_at=START
            ),
        )
    with pytest.raises(PaymentFieldError):
        attrs.evolve(payment, attention="flagged")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reason": "bored"},
        {"detail": ""},
        {"detail": "x" * 501},
        {"flagged_at": START.replace(tzinfo=None)},
    ],
)
def test_a_malformed_attention_is_refused(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {
        "reason": "gave_up",
        "transaction_id": "T1",
        "detail": "x",
        "flagged_at": START,
    }
    with pytest.raises(PaymentFieldError):
        PaymentAttention(**(values | kwargs))  # type: ignore[arg-type]


def test_payment_is_unchanged_by_a_flag_on_the_way_in() -> None:
    payment = Payment(id="P", amount=eur("1.00"), method="card", created_at=START)
    assert payment.attention is None
