"""The cash ledger: receipts, allocations, refunds of unapplied cash, conservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from o2c.cash import (
    Allocation,
    CashSummary,
    Receipt,
    Refund,
    assert_conserved,
    normalise_iban,
    receive_cash,
    summarize,
)
from o2c.errors import (
    AllocationExceedsOpenAmountError,
    CardDataRefusedError,
    CashConservationError,
    CashFieldError,
    CurrencyMismatchError,
    CustomerAlreadyAssignedError,
    InsufficientUnappliedCashError,
    InvalidAmountError,
    PayerUnknownError,
    UnallocationExceedsAppliedError,
)
from o2c.events import (
    CashAllocated,
    CashReceived,
    CashUnallocated,
    ReceiptCustomerAssigned,
    UnappliedCashRefunded,
)
from o2c.money import Money
from o2c.payments import PaymentMethod

T0 = datetime(2026, 4, 1, 8, 30, tzinfo=UTC)
DAY = timedelta(days=1)
IBAN = "DE89 3704 0044 0532 0130 00"


def eur(value: str) -> Money:
    return Money(value, "EUR")


def receipt(amount: str = "100.00", customer_id: str | None = "cust-1", **kw: object) -> Receipt:
    r, _ = receive_cash(
        receipt_id="rc-1",
        amount=eur(amount),
        method=PaymentMethod.BANK_TRANSFER,
        received_at=T0,
        reference="INV-1 INV-2",
        customer_id=customer_id,
        **kw,  # type: ignore[arg-type]
    )
    return r


# --------------------------------------------------------------------------- receiving


def test_receive_cash_records_the_receipt() -> None:
    r, events = receive_cash(
        receipt_id="rc-9",
        amount=eur("250.00"),
        method="bank_transfer",
        received_at=T0,
        reference="RF18 5390 0754 7034",
        payer_name="ACME GmbH",
        payer_iban=IBAN.lower(),
    )
    assert r.customer_id is None
    assert r.payer_iban == "DE89370400440532013000"
    assert r.method is PaymentMethod.BANK_TRANSFER
    assert (r.applied, r.refunded, r.unapplied) == (eur("0"), eur("0"), eur("250"))
    assert events == (
        CashReceived(
            aggregate_id="rc-9",
            occurred_at=T0,
            customer_id=None,
            amount=eur("250.00"),
            method="bank_transfer",
            reference="RF18 5390 0754 7034",
        ),
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount": eur("0")}, InvalidAmountError),
        ({"amount": eur("-5")}, InvalidAmountError),
        ({"amount": eur("1.001")}, InvalidAmountError),
        ({"amount": 5}, InvalidAmountError),
        ({"method": "barter"}, CashFieldError),
        ({"receipt_id": ""}, CashFieldError),
        ({"received_at": datetime(2026, 4, 1)}, CashFieldError),
        ({"reference": "card 4111 1111 1111 1111"}, CardDataRefusedError),
        ({"reference": "x" * 141}, CashFieldError),
        ({"reference": "line\nbreak"}, CashFieldError),
        ({"payer_name": "4111111111111111"}, CardDataRefusedError),
        ({"payer_name": ""}, CashFieldError),
        ({"payer_iban": "DE88 3704 0044 0532 0130 00"}, CashFieldError),
        ({"payer_iban": "not an iban"}, CashFieldError),
        ({"payer_iban": 12}, CashFieldError),
        ({"customer_id": ""}, CashFieldError),
    ],
)
def test_receive_cash_refuses_bad_input(changes: dict[str, object], error: type[Exception]) -> None:
    kwargs: dict[str, object] = {
        "receipt_id": "rc",
        "amount": eur("10"),
        "method": "bank_transfer",
        "received_at": T0,
    }
    kwargs.update(changes)
    with pytest.raises(error):
        receive_cash(**kwargs)  # type: ignore[arg-type]


def test_iban_errors_never_echo_the_iban() -> None:
    with pytest.raises(CashFieldError) as err:
        normalise_iban("DE88370400440532013000")
    assert "370400440532013000" not in str(err.value)
    assert normalise_iban("gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"


def test_receipt_invariants_on_construction() -> None:
    base: dict[str, object] = {
        "id": "rc",
        "amount": eur("10"),
        "method": "cash_on_delivery",
        "received_at": T0,
    }
    with pytest.raises(CashConservationError) as err:
        Receipt(
            **base,  # type: ignore[arg-type]
            allocations=(Allocation(invoice_id="i", amount=eur("11"), at=T0),),
        )
    assert err.value.problem == "negative unapplied"
    with pytest.raises(CashConservationError) as err:
        Receipt(
            **base,  # type: ignore[arg-type]
            allocations=(Allocation(invoice_id="i", amount=eur("-1"), at=T0),),
        )
    assert err.value.problem == "negative allocation"
    with pytest.raises(CurrencyMismatchError):
        Receipt(**base, refunds=(Refund(amount=Money("1", "USD"), at=T0, reference=""),))  # type: ignore[arg-type]
    with pytest.raises(CashFieldError):
        Receipt(**base, refunds=("refund",))  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        Allocation(invoice_id="i", amount=eur("0"), at=T0)


# --------------------------------------------------------------------------- allocating


def test_allocate_and_unallocate_hand_worked() -> None:
    r = receipt("100.00")
    r, events = r.allocate("INV-1", eur("70.00"), eur("70.00"), T0 + DAY, ref="rule:exact")
    assert events == (
        CashAllocated(
            aggregate_id="rc-1",
            occurred_at=T0 + DAY,
            invoice_id="INV-1",
            amount=eur("70.00"),
            unapplied=eur("30.00"),
        ),
    )
    r, _ = r.allocate("INV-2", eur("30.00"), eur("45.00"), T0 + DAY)
    assert (r.applied, r.unapplied) == (eur("100"), eur("0"))
    # INV-1 is credited by 25 after payment: 25 comes back to the receipt.
    r, events = r.unallocate("INV-1", eur("25.00"), T0 + 2 * DAY, ref="CN-7")
    assert events == (
        CashUnallocated(
            aggregate_id="rc-1",
            occurred_at=T0 + 2 * DAY,
            invoice_id="INV-1",
            amount=eur("25.00"),
            unapplied=eur("25.00"),
        ),
    )
    assert r.applied_to("INV-1") == eur("45")
    assert r.applied_to("INV-2") == eur("30")
    assert r.applied_to("INV-3") == eur("0")
    assert r.invoice_ids == ("INV-1", "INV-2")
    assert [a.amount for a in r.allocations] == [eur("70"), eur("30"), eur("-25")]  # history kept
    assert (r.applied, r.unapplied, r.refunded) == (eur("75"), eur("25"), eur("0"))


def test_allocation_limits_name_which_bound() -> None:
    r = receipt("100.00")
    with pytest.raises(InsufficientUnappliedCashError) as unapplied:
        r.allocate("INV-1", eur("100.01"), eur("500"), T0)
    assert (unapplied.value.requested, unapplied.value.unapplied) == (eur("100.01"), eur("100"))
    with pytest.raises(AllocationExceedsOpenAmountError) as open_:
        r.allocate("INV-1", eur("50.01"), eur("50.00"), T0)
    assert (open_.value.invoice_id, open_.value.open_amount) == ("INV-1", eur("50"))
    r, _ = r.allocate("INV-1", eur("60"), eur("60"), T0)
    with pytest.raises(UnallocationExceedsAppliedError) as back:
        r.unallocate("INV-1", eur("60.01"), T0)
    assert back.value.applied == eur("60")
    with pytest.raises(UnallocationExceedsAppliedError):
        r.unallocate("INV-9", eur("1"), T0)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("INV-1", eur("0"), eur("10")), InvalidAmountError),
        (("INV-1", eur("-1"), eur("10")), InvalidAmountError),
        (("INV-1", eur("1"), eur("-10")), InvalidAmountError),
        (("INV-1", eur("0.001"), eur("10")), InvalidAmountError),
        (("INV-1", Money("1", "USD"), eur("10")), CurrencyMismatchError),
        (("INV-1", eur("1"), Money("10", "USD")), CurrencyMismatchError),
        (("", eur("1"), eur("10")), CashFieldError),
    ],
)
def test_allocate_refuses_bad_input(args: tuple[str, Money, Money], error: type[Exception]) -> None:
    r = receipt()
    with pytest.raises(error):
        r.allocate(*args, T0)
    assert r == receipt()


def test_other_operations_refuse_bad_input() -> None:
    r = receipt()
    with pytest.raises(CashFieldError):
        r.allocate("INV-1", eur("1"), eur("1"), datetime(2026, 1, 1))
    with pytest.raises(CardDataRefusedError):
        r.allocate("INV-1", eur("1"), eur("1"), T0, ref="4111111111111111")
    with pytest.raises(CurrencyMismatchError):
        r.unallocate("INV-1", Money("1", "USD"), T0)
    with pytest.raises(CashFieldError):
        r.unallocate("INV-1", eur("1"), T0, ref="\x00")
    with pytest.raises(InvalidAmountError):
        r.refund_unapplied(eur("0"), "R", T0)
    with pytest.raises(CardDataRefusedError):
        r.refund_unapplied(eur("1"), "to card 4111-1111-1111-1111", T0)
    with pytest.raises(CashFieldError):
        r.assign_customer("", T0)


def test_cash_from_an_unknown_payer() -> None:
    r = receipt("80.00", customer_id=None)
    with pytest.raises(PayerUnknownError) as err:
        r.allocate("INV-1", eur("10"), eur("10"), T0)
    assert err.value.receipt_id == "rc-1"
    r, events = r.assign_customer("cust-7", T0 + DAY)
    assert events == (
        ReceiptCustomerAssigned(aggregate_id="rc-1", occurred_at=T0 + DAY, customer_id="cust-7"),
    )
    again, events = r.assign_customer("cust-7", T0 + 2 * DAY)
    assert (again, events) == (r, ())
    with pytest.raises(CustomerAlreadyAssignedError) as conflict:
        r.assign_customer("cust-8", T0)
    assert (conflict.value.customer_id, conflict.value.requested) == ("cust-7", "cust-8")
    r, _ = r.allocate("INV-1", eur("10"), eur("10"), T0)
    assert r.unapplied == eur("70")


def test_unknown_payer_cash_can_be_sent_back() -> None:
    r = receipt("80.00", customer_id=None)
    r, events = r.refund_unapplied(eur("80.00"), "returned to sender", T0)
    assert r.unapplied == eur("0")
    assert len(events) == 1


# --------------------------------------------------------------------------- allocate_many


def test_allocate_many_splits_one_receipt_over_invoices() -> None:
    r = receipt("100.00")
    r, events = r.allocate_many(
        [("INV-1", eur("40"), eur("40")), ("INV-2", eur("35"), eur("50"))], T0, ref="batch"
    )
    assert [(e.invoice_id, e.unapplied) for e in events] == [  # type: ignore[attr-defined]
        ("INV-1", eur("60")),
        ("INV-2", eur("25")),
    ]
    assert all(a.ref == "batch" for a in r.allocations)
    assert r.unapplied == eur("25")


@pytest.mark.parametrize(
    ("items", "error"),
    [
        ([], CashFieldError),
        ([("INV-1", eur("10"), eur("10")), ("INV-1", eur("5"), eur("10"))], CashFieldError),
        # the second item alone fits, but not after the first: nothing is applied
        (
            [("INV-1", eur("70"), eur("70")), ("INV-2", eur("40"), eur("40"))],
            InsufficientUnappliedCashError,
        ),
        (
            [("INV-1", eur("10"), eur("10")), ("INV-2", eur("10"), eur("5"))],
            AllocationExceedsOpenAmountError,
        ),
    ],
)
def test_allocate_many_is_all_or_nothing(
    items: list[tuple[str, Money, Money]], error: type[Exception]
) -> None:
    r = receipt("100.00")
    with pytest.raises(error):
        r.allocate_many(items, T0)
    assert r == receipt("100.00")
    assert r.allocations == ()


# --------------------------------------------------------------------------- refunds


def test_overpayment_leaves_unapplied_cash_that_is_refunded() -> None:
    # The customer owes 120.00 on INV-1 but transfers 150.00.
    r = receipt("150.00")
    r, _ = r.allocate("INV-1", eur("120.00"), eur("120.00"), T0)
    assert r.unapplied == eur("30.00")
    with pytest.raises(InsufficientUnappliedCashError) as err:
        r.refund_unapplied(eur("30.01"), "SEPA-RET-1", T0 + DAY)
    assert err.value.unapplied == eur("30")
    # No dummy invoice, no credit note: the cash goes straight back (erpnext#12994).
    r, events = r.refund_unapplied(eur("30.00"), "SEPA-RET-1", T0 + DAY)
    assert events == (
        UnappliedCashRefunded(
            aggregate_id="rc-1",
            occurred_at=T0 + DAY,
            amount=eur("30.00"),
            reference="SEPA-RET-1",
            unapplied=eur("0.00"),
        ),
    )
    assert (r.amount, r.applied, r.unapplied, r.refunded) == (
        eur("150"),
        eur("120"),
        eur("0"),
        eur("30"),
    )
    (summary,) = summarize([r])
    assert summary == CashSummary(
        customer_id="cust-1",
        currency="EUR",
        received=eur("150"),
        applied=eur("120"),
        unapplied=eur("0"),
        refunded=eur("30"),
        receipts=1,
    )


# --------------------------------------------------------------------------- ledger


def test_summary_per_customer_and_currency() -> None:
    a = receipt("100.00")
    a, _ = a.allocate("INV-1", eur("60"), eur("60"), T0)
    b, _ = receive_cash(
        receipt_id="rc-2", amount=eur("50"), method="card", received_at=T0, customer_id="cust-1"
    )
    b, _ = b.refund_unapplied(eur("5"), "R", T0)
    c, _ = receive_cash(
        receipt_id="rc-3",
        amount=Money("7000", "JPY"),
        method="card",
        received_at=T0,
        customer_id="cust-1",
    )
    d, _ = receive_cash(receipt_id="rc-4", amount=eur("9"), method="other", received_at=T0)
    e, _ = receive_cash(
        receipt_id="rc-5", amount=eur("1"), method="other", received_at=T0, customer_id="a-cust"
    )
    summaries = summarize([a, b, c, d, e])
    assert [(s.customer_id, s.currency, s.receipts) for s in summaries] == [
        (None, "EUR", 1),
        ("a-cust", "EUR", 1),
        ("cust-1", "EUR", 2),
        ("cust-1", "JPY", 1),
    ]
    eur_1 = summaries[2]
    assert (eur_1.received, eur_1.applied, eur_1.unapplied, eur_1.refunded) == (
        eur("150"),
        eur("60"),
        eur("85"),
        eur("5"),
    )
    assert summarize([]) == ()


def test_assert_conserved_catches_every_kind_of_break() -> None:
    good = CashSummary(
        customer_id="c",
        currency="EUR",
        received=eur("10"),
        applied=eur("4"),
        unapplied=eur("5"),
        refunded=eur("1"),
    )
    assert_conserved(good)
    broken = {
        "received != applied + unapplied + refunded": attrs.evolve(good, unapplied=eur("5.01")),
        "negative unapplied": attrs.evolve(good, unapplied=eur("-1"), applied=eur("10")),
        "applied currency": attrs.evolve(good, applied=Money("4", "USD")),
        "refunded currency": attrs.evolve(good, refunded="1"),  # type: ignore[arg-type]
    }
    for problem, summary in broken.items():
        with pytest.raises(CashConservationError) as err:
            assert_conserved(summary)
        assert err.value.problem == problem
        assert err.value.fields["customer_id"] == "c"
