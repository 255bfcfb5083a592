"""Properties of the cash ledger: conservation, no negative unapplied cash, all-or-nothing.

The oracle is a plain model of integers (cents) updated from the operations'
arguments, never from the receipt; it also predicts which operations must fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.cash import CashSummary, Receipt, assert_conserved, receive_cash, summarize
from o2c.errors import (
    AllocationExceedsOpenAmountError,
    CashConservationError,
    CashFieldError,
    InsufficientUnappliedCashError,
    UnallocationExceedsAppliedError,
)
from o2c.money import Money, minor_units

T0 = datetime(2026, 7, 1, tzinfo=UTC)
INVOICES = ["INV-1", "INV-2", "INV-3", "INV-4"]
CURRENCIES = ["EUR", "JPY", "KWD"]


def units(n: int, currency: str = "EUR") -> Money:
    return Money(Decimal(n).scaleb(-minor_units(currency)), currency)


@dataclass
class Model:
    """What the receipt should hold, in minor units."""

    received: int
    applied: dict[str, int] = field(default_factory=dict)
    refunded: int = 0

    @property
    def unapplied(self) -> int:
        return self.received - sum(self.applied.values()) - self.refunded


@dataclass(frozen=True)
class Allocate:
    items: tuple[tuple[str, int, int], ...]  # (invoice, amount, invoice open)


@dataclass(frozen=True)
class Unallocate:
    invoice: str
    amount: int


@dataclass(frozen=True)
class RefundOp:
    amount: int


small = st.integers(min_value=1, max_value=12000)
operations = st.lists(
    st.one_of(
        st.builds(
            Allocate,
            st.lists(
                st.tuples(st.sampled_from(INVOICES), small, st.integers(0, 12000)),
                min_size=1,
                max_size=3,
            ).map(tuple),
        ),
        st.builds(Unallocate, st.sampled_from(INVOICES), small),
        st.builds(RefundOp, small),
    ),
    max_size=30,
)


def expected_error(model: Model, op: object) -> type[Exception] | None:
    """Which error the model predicts for ``op`` (None: it must succeed)."""
    if isinstance(op, RefundOp):
        return InsufficientUnappliedCashError if op.amount > model.unapplied else None
    if isinstance(op, Unallocate):
        applied = model.applied.get(op.invoice, 0)
        return UnallocationExceedsAppliedError if op.amount > applied else None
    assert isinstance(op, Allocate)
    left = model.unapplied
    seen: set[str] = set()
    for invoice, amount, open_amount in op.items:
        if invoice in seen:
            return CashFieldError
        seen.add(invoice)
        if amount > left:
            return InsufficientUnappliedCashError
        if amount > open_amount:
            return AllocationExceedsOpenAmountError
        left -= amount
    return None


def apply_to_model(model: Model, op: object) -> None:
    if isinstance(op, RefundOp):
        model.refunded += op.amount
    elif isinstance(op, Unallocate):
        model.applied[op.invoice] -= op.amount
    else:
        assert isinstance(op, Allocate)
        for invoice, amount, _ in op.items:
            model.applied[invoice] = model.applied.get(invoice, 0) + amount


def run(receipt: Receipt, op: object, now: datetime) -> Receipt:
    cur = receipt.currency
    if isinstance(op, RefundOp):
        receipt, events = receipt.refund_unapplied(units(op.amount, cur), "R", now)
    elif isinstance(op, Unallocate):
        receipt, events = receipt.unallocate(op.invoice, units(op.amount, cur), now)
    else:
        assert isinstance(op, Allocate)
        items = [(i, units(a, cur), units(o, cur)) for i, a, o in op.items]
        receipt, events = receipt.allocate_many(items, now)
        assert len(events) == len(items)
    assert events[-1].unapplied == receipt.unapplied  # type: ignore[attr-defined]
    return receipt


@given(st.sampled_from(CURRENCIES), st.integers(1, 20000), operations)
def test_random_operations_conserve_cash(currency: str, received: int, ops: list[object]) -> None:
    receipt, _ = receive_cash(
        receipt_id="rc",
        amount=units(received, currency),
        method="bank_transfer",
        received_at=T0,
        customer_id="c",
    )
    model = Model(received=received)
    for n, op in enumerate(ops):
        before = receipt
        predicted = expected_error(model, op)
        if predicted is None:
            receipt = run(receipt, op, T0 + timedelta(hours=n))
            apply_to_model(model, op)
        else:
            with pytest.raises(predicted):
                run(receipt, op, T0 + timedelta(hours=n))
            assert receipt == before  # a failed operation changes nothing
        # The receipt agrees with the model, unapplied is never negative, nothing is lost.
        assert receipt.applied == units(sum(model.applied.values()), currency)
        assert receipt.refunded == units(model.refunded, currency)
        assert receipt.unapplied == units(model.unapplied, currency)
        assert not receipt.unapplied.is_negative()
        for invoice in INVOICES:
            assert receipt.applied_to(invoice) == units(model.applied.get(invoice, 0), currency)
        (summary,) = summarize([receipt])
        assert summary.received == units(received, currency)
        assert summary.received == summary.applied + summary.unapplied + summary.refunded


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[Receipt], dict[tuple[str | None, str], list[int]]]:
    """Receipts over several customers and currencies, and the expected totals per group."""
    receipts: list[Receipt] = []
    totals: dict[tuple[str | None, str], list[int]] = {}
    for n in range(draw(st.integers(0, 8))):
        customer = draw(st.sampled_from([None, "c1", "c2"]))
        currency = draw(st.sampled_from(CURRENCIES))
        received = draw(st.integers(1, 10000))
        applied = draw(st.integers(0, received)) if customer else 0
        refunded = draw(st.integers(0, received - applied))
        receipt, _ = receive_cash(
            receipt_id=f"rc{n}",
            amount=units(received, currency),
            method="other",
            received_at=T0,
            customer_id=customer,
        )
        if applied:
            receipt, _ = receipt.allocate(
                "INV", units(applied, currency), units(applied, currency), T0
            )
        if refunded:
            receipt, _ = receipt.refund_unapplied(units(refunded, currency), "R", T0)
        receipts.append(receipt)
        group = totals.setdefault((customer, currency), [0, 0, 0, 0])
        for i, value in enumerate((received, applied, received - applied - refunded, refunded)):
            group[i] += value
    return receipts, totals


@given(ledgers())
def test_summaries_per_customer_and_currency(
    ledger: tuple[list[Receipt], dict[tuple[str | None, str], list[int]]],
) -> None:
    receipts, totals = ledger
    summaries = summarize(receipts)
    assert {(s.customer_id, s.currency) for s in summaries} == set(totals)
    for s in summaries:
        received, applied, unapplied, refunded = totals[(s.customer_id, s.currency)]
        assert (s.received, s.applied, s.unapplied, s.refunded) == tuple(
            units(v, s.currency) for v in (received, applied, unapplied, refunded)
        )
        assert s.received == s.applied + s.unapplied + s.refunded
    assert sum(s.receipts for s in summaries) == len(receipts)


@given(
    st.integers(0, 10000),
    st.integers(0, 10000),
    st.integers(0, 10000),
    st.sampled_from(["received", "applied", "unapplied", "refunded"]),
    st.integers(-50, 50).filter(bool),
)
def test_any_broken_summary_is_caught(
    applied: int, unapplied: int, refunded: int, part: str, error: int
) -> None:
    good = CashSummary(
        customer_id="c",
        currency="EUR",
        received=units(applied + unapplied + refunded),
        applied=units(applied),
        unapplied=units(unapplied),
        refunded=units(refunded),
    )
    assert_conserved(good)
    broken = attrs.evolve(good, **{part: getattr(good, part) + units(error)})
    with pytest.raises(CashConservationError):
        assert_conserved(broken)


@given(st.integers(0, 10000), st.integers(0, 10000), st.integers(-10000, 10000))
def test_moving_cash_between_parts_is_fine_until_a_part_goes_negative(
    applied: int, unapplied: int, shift: int
) -> None:
    moved = CashSummary(
        customer_id=None,
        currency="EUR",
        received=units(applied + unapplied),
        applied=units(applied + shift),
        unapplied=units(unapplied - shift),
        refunded=units(0),
    )
    if applied + shift < 0 or unapplied - shift < 0:
        with pytest.raises(CashConservationError):
            assert_conserved(moved)
    else:
        assert_conserved(moved)
