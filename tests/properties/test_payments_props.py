"""Properties of payments: bounds, table-respecting moves, idempotency, card redaction.

The oracles are independent of the code under test: derived amounts are recomputed
from the *events* the operations emitted, transaction states from the raw outcome
sequence, and card numbers are built with a textbook Luhn check digit.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from o2c.errors import (
    ContradictoryOutcomeError,
    IdempotencyConflictError,
    O2CError,
)
from o2c.events import DomainEvent, PaymentTransactionSucceeded
from o2c.lifecycles import (
    PAYMENT_WORKFLOW,
    TRANSACTION_WORKFLOW,
    PaymentState,
    TransactionState,
)
from o2c.money import Money, money_sum
from o2c.payments import (
    Failed,
    Outcome,
    Payment,
    Pending,
    Succeeded,
    TransactionKind,
    Unknown,
    contains_card_number,
    create_payment,
    needs_reconciliation,
    redact_card_numbers,
)

T0 = datetime(2026, 6, 1, tzinfo=UTC)
KEYS = [f"key-{i}" for i in range(10)]

outcomes: st.SearchStrategy[Outcome] = st.one_of(
    st.builds(Succeeded, st.sampled_from([None, "gw-1", "gw-2"])),
    st.builds(Failed, st.sampled_from(["card_declined", "other"])),
    st.builds(Pending),
    st.builds(Unknown),
)


@dataclass(frozen=True)
class Request:
    kind: TransactionKind
    cents: int
    key: str


@dataclass(frozen=True)
class Resolve:
    """Answer an in-flight transaction or, when ``late``, any transaction at all."""

    index: int
    outcome: Outcome
    late: bool


def cents(n: int) -> Money:
    return Money(Decimal(n).scaleb(-2), "EUR")


def fresh() -> Payment:
    payment, _ = create_payment(payment_id="p", amount=cents(10000), method="card", now=T0)
    return payment


def moves_by_one_row(workflow: object, before: object, after: object) -> bool:
    if before == after:
        return True
    return any(
        t.source == before and t.target == after
        for t in workflow.transitions  # type: ignore[attr-defined]
    )


PLAUSIBLE = {
    PaymentState.NEW: [TransactionKind.AUTHORIZE, TransactionKind.SALE],
    PaymentState.AUTHORIZED: [TransactionKind.CAPTURE, TransactionKind.VOID],
    PaymentState.CAPTURED: [TransactionKind.REFUND],
    PaymentState.PARTIALLY_REFUNDED: [TransactionKind.REFUND],
}


@st.composite
def next_operation(draw: st.DrawFn, payment: Payment) -> Request | Resolve:
    """An operation that usually makes sense for ``payment`` and sometimes does not."""
    answer_now = draw(st.integers(0, 2)) > 0
    if payment.in_flight and answer_now:
        return Resolve(
            draw(st.integers(0, 10)), draw(st.one_of(st.builds(Succeeded), outcomes)), False
        )
    if draw(st.integers(0, 5)) == 0:
        return Resolve(draw(st.integers(0, 10)), draw(outcomes), True)
    plausible = PLAUSIBLE.get(payment.state, [])
    kind = draw(st.sampled_from(plausible or list(TransactionKind)))
    if draw(st.integers(0, 4)) == 0:
        kind = draw(st.sampled_from(list(TransactionKind)))
    limit = {
        TransactionKind.CAPTURE: payment.capturable,
        TransactionKind.VOID: payment.capturable,
        TransactionKind.REFUND: payment.refundable,
    }.get(kind, payment.amount)
    limit_cents = int(limit.amount * 100)
    near = [limit_cents, limit_cents // 2, limit_cents // 3, limit_cents + 1]
    amount = draw(
        st.one_of(st.sampled_from([c for c in near if c > 0] or [1]), st.integers(1, 15000))
    )
    return Request(kind, amount, draw(st.sampled_from(KEYS)))


@given(st.data())
def test_random_operations_respect_bounds_tables_and_keys(data: st.DataObject) -> None:
    payment = fresh()
    succeeded: dict[str, list[Money]] = defaultdict(list)  # kind -> amounts, from events
    first_request: dict[str, tuple[TransactionKind, Money, str]] = {}
    now = T0
    for _ in range(data.draw(st.integers(min_value=0, max_value=40))):
        op = data.draw(next_operation(payment))
        now += timedelta(minutes=1)
        before = payment
        events: tuple[DomainEvent, ...] = ()
        try:
            if isinstance(op, Request):
                amount = cents(op.cents)
                payment, tx, events = payment.request(
                    transaction_id=f"t{len(payment.transactions)}-{op.key}",
                    kind=op.kind,
                    amount=amount,
                    idempotency_key=op.key,
                    now=now,
                )
                if op.key in first_request:
                    kind, first_amount, tx_id = first_request[op.key]
                    # a replay: the very same transaction, nothing new
                    assert (kind, first_amount, tx_id) == (op.kind, amount, tx.id)
                    assert payment == before
                    assert events == ()
                else:
                    first_request[op.key] = (op.kind, amount, tx.id)
                    assert tx.state is TransactionState.REQUESTED
            else:
                assert isinstance(op, Resolve)
                pool = payment.transactions if op.late else payment.in_flight
                if not pool:
                    continue
                tx = pool[op.index % len(pool)]
                payment, events = payment.resolve(tx.id, op.outcome, now)
        except IdempotencyConflictError:
            assert isinstance(op, Request)
            kind, first_amount, _ = first_request[op.key]
            assert (kind, first_amount) != (op.kind, cents(op.cents))
            assert payment == before
        except ContradictoryOutcomeError:
            assert isinstance(op, Resolve)
            assert payment == before
        except O2CError:
            # A refused request stores nothing, not even its key (Stripe).
            assert payment == before
            if isinstance(op, Request):
                assert op.key not in first_request
        for event in events:
            if isinstance(event, PaymentTransactionSucceeded):
                succeeded[event.kind].append(event.amount)

        # Moves follow the tables, one row at a time; final transactions never change.
        assert moves_by_one_row(PAYMENT_WORKFLOW, before.state, payment.state)
        if PAYMENT_WORKFLOW.is_final(before.state):
            assert payment.state is before.state
        old = {t.id: t for t in before.transactions}
        for tx in payment.transactions:
            if tx.id in old:
                assert moves_by_one_row(TRANSACTION_WORKFLOW, old[tx.id].state, tx.state)
                if old[tx.id].is_final:
                    assert tx == old[tx.id]
        assert set(old) <= {t.id for t in payment.transactions}

        # One transaction per key, ever.
        keys = [t.idempotency_key for t in payment.transactions]
        assert len(keys) == len(set(keys)) == len(first_request)

        # Derived amounts equal the sums of the success events, and stay in bounds.
        def total(*kinds: TransactionKind) -> Money:
            return money_sum((m for k in kinds for m in succeeded[k.value]), "EUR")

        authorized = total(TransactionKind.AUTHORIZE, TransactionKind.SALE)
        captured = total(TransactionKind.CAPTURE, TransactionKind.SALE)
        refunded = total(TransactionKind.REFUND)
        voided = total(TransactionKind.VOID)
        assert (payment.authorized, payment.captured, payment.refunded, payment.voided) == (
            authorized,
            captured,
            refunded,
            voided,
        )
        assert captured + voided <= authorized
        assert refunded <= captured
        assert payment.capturable >= cents(0)
        assert payment.refundable == captured - refunded
        in_flight_refunds = money_sum(
            (t.amount for t in payment.in_flight if t.kind is TransactionKind.REFUND), "EUR"
        )
        assert refunded + in_flight_refunds <= captured  # refunds never overrun, even in flight
        non_refund_in_flight = [
            t for t in payment.in_flight if t.kind is not TransactionKind.REFUND
        ]
        assert len(non_refund_in_flight) <= 1
        assert not (non_refund_in_flight and len(payment.in_flight) > 1)
        # The state agrees with the money.
        if payment.state is PaymentState.REFUNDED:
            assert refunded == captured > cents(0)
        if payment.state is PaymentState.PARTIALLY_REFUNDED:
            assert cents(0) < refunded < captured
        if payment.state is PaymentState.NEW:
            assert authorized == cents(0)


def expected_state(seq: list[Outcome]) -> tuple[TransactionState, int]:
    """The transaction state an outcome sequence should leave, and where it became final."""
    seen_pending = seen_unknown = False
    for i, outcome in enumerate(seq):
        if isinstance(outcome, Succeeded):
            return TransactionState.SUCCEEDED, i
        if isinstance(outcome, Failed):
            return TransactionState.FAILED, i
        seen_pending |= isinstance(outcome, Pending)
        seen_unknown |= isinstance(outcome, Unknown)
    if seen_pending:
        return TransactionState.PENDING, len(seq)
    if seen_unknown:
        return TransactionState.UNKNOWN, len(seq)
    return TransactionState.REQUESTED, len(seq)


@given(
    st.sampled_from([TransactionKind.AUTHORIZE, TransactionKind.SALE]),
    st.lists(outcomes, max_size=12),
)
def test_outcome_sequences_with_duplicates_and_late_answers(
    kind: TransactionKind, seq: list[Outcome]
) -> None:
    payment, _, _ = fresh().request(
        transaction_id="t", kind=kind, amount=cents(5000), idempotency_key="k", now=T0
    )
    success_events = 0
    final_at: datetime | None = None
    state, final_index = expected_state(seq)
    for i, outcome in enumerate(seq):
        now = T0 + timedelta(hours=i + 1)
        try:
            payment, events = payment.resolve("t", outcome, now)
        except ContradictoryOutcomeError:
            # only a success after a failure, or the reverse, contradicts
            assert i > final_index
            assert isinstance(outcome, Succeeded | Failed)
            assert isinstance(seq[final_index], Succeeded) != isinstance(outcome, Succeeded)
            continue
        if i == final_index:
            final_at = now
        if i > final_index:
            assert events == ()
            assert type(outcome) is type(seq[final_index]) or isinstance(outcome, Pending | Unknown)
        success_events += sum(isinstance(e, PaymentTransactionSucceeded) for e in events)
    tx = payment.transaction("t")
    assert tx.state is state
    assert tx.resolved_at == final_at
    assert success_events == (1 if state is TransactionState.SUCCEEDED else 0)
    assert tx.attempts == min(len(seq), final_index + 1)
    expected_payment = {
        TransactionState.SUCCEEDED: (
            PaymentState.AUTHORIZED if kind is TransactionKind.AUTHORIZE else PaymentState.CAPTURED
        ),
        TransactionState.FAILED: PaymentState.DECLINED,
    }.get(state, PaymentState.NEW)
    assert payment.state is expected_payment
    waiting = state in {TransactionState.PENDING, TransactionState.UNKNOWN}
    assert needs_reconciliation(payment) == ((tx,) if waiting else ())


@given(st.lists(st.tuples(st.sampled_from(KEYS), st.integers(1, 3)), max_size=30))
def test_the_same_key_never_creates_two_transactions(requests: list[tuple[str, int]]) -> None:
    payment, _, _ = fresh().request(
        transaction_id="sale", kind="sale", amount=cents(10000), idempotency_key="sale", now=T0
    )
    payment, _ = payment.resolve("sale", Succeeded(), T0)
    firsts: dict[str, int] = {}
    for n, (key, units) in enumerate(requests):
        try:
            payment, tx, _ = payment.request(
                transaction_id=f"r{n}",
                kind="refund",
                amount=cents(units),
                idempotency_key=key,
                now=T0,
            )
        except IdempotencyConflictError:
            assert firsts[key] != units
            continue
        firsts.setdefault(key, units)
        assert tx.amount == cents(firsts[key])
    refund_keys = [t.idempotency_key for t in payment.transactions if t.kind == "refund"]
    assert sorted(refund_keys) == sorted(firsts)


# --------------------------------------------------------------------------- card data


def luhn_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(min_value=13, max_value=19))
    body = draw(st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1))
    return body + luhn_check_digit(body)


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """The number as a person might write it: in groups, with spaces or hyphens."""
    sep = draw(st.sampled_from(["", " ", "-"]))
    if not sep:
        return number
    cuts = sorted(draw(st.sets(st.integers(1, len(number) - 1), max_size=4)))
    parts = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    return sep.join(parts)


words = st.text(alphabet="abcdefghij .,:;/()", max_size=20)


@given(st.data(), card_numbers(), words, words)
def test_card_numbers_in_text_are_found_and_redacted(
    data: st.DataObject, number: str, before: str, after: str
) -> None:
    text = f"{before} {data.draw(written(number))} {after}"
    assert contains_card_number(text)
    redacted = redact_card_numbers(text)
    assert not contains_card_number(redacted)
    assert len(redacted) == len(text)
    for original, masked in zip(text, redacted, strict=True):
        assert masked == original or (original.isdigit() and masked == "*")
    # At most the last four digits of the number stay visible.
    visible = [c for c in redacted if c.isdigit()]
    assert len(visible) <= 4
    assert "".join(visible) == number[len(number) - len(visible) :]
    assert redact_card_numbers(redacted) == redacted


@given(card_numbers(), st.integers(1, 9))
def test_a_wrong_check_digit_is_not_a_card(number: str, shift: int) -> None:
    wrong = number[:-1] + str((int(number[-1]) + shift) % 10)
    assert not contains_card_number(f"ref {wrong} end")


@given(st.text(max_size=60))
def test_redaction_of_any_text_leaves_no_card_number(text: str) -> None:
    redacted = redact_card_numbers(text)
    assert not contains_card_number(redacted)
    assert len(redacted) == len(text)
    if not contains_card_number(text):
        assert redacted == text
