"""The store-credit ledger (o2c.store_credit): grants, redemptions, reversals, balance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from o2c.errors import (
    CardDataRefusedError,
    CurrencyMismatchError,
    InsufficientStoreCreditError,
    InvalidAmountError,
    StoreCreditFieldError,
    UnknownCurrencyError,
)
from o2c.events import StoreCreditGranted, StoreCreditRedeemed, StoreCreditReversed
from o2c.money import Money
from o2c.store_credit import (
    Movement,
    StoreCreditAccount,
    StoreCreditEntry,
    account_id,
    open_account,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def funded(amount: str = "50.00") -> StoreCreditAccount:
    account, _ = open_account("ada", "EUR").grant("SC-1", eur(amount), NOW, reason="late parcel")
    return account


def test_an_account_is_named_by_customer_and_currency() -> None:
    account = open_account("ada", "EUR")
    assert (account.id, account_id("ada", "USD")) == ("ada/EUR", "ada/USD")
    assert account.balance == eur("0.00")
    assert account.entries == ()


def test_grant_adds_to_the_balance_and_says_so() -> None:
    account, events = open_account("ada", "EUR").grant(
        "SC-1", eur("20.00"), NOW, reason="late parcel", reference="SO-1"
    )
    assert (account.granted, account.balance) == (eur("20.00"), eur("20.00"))
    assert events == (
        StoreCreditGranted(
            aggregate_id="ada/EUR",
            occurred_at=NOW,
            customer_id="ada",
            entry_id="SC-1",
            amount=eur("20.00"),
            balance=eur("20.00"),
            reason="late parcel",
            reference="SO-1",
        ),
    )
    assert account.entry("SC-1") == account.entries[0]
    assert account.entry("SC-9") is None


def test_redeem_and_reverse_take_from_the_balance() -> None:
    account, redeemed = funded().redeem("SC-2", eur("15.00"), NOW, reference="TND-1")
    account, reversed_ = account.reverse("SC-3", eur("5.00"), NOW, reason="expired")
    assert (account.granted, account.redeemed, account.reversed) == (
        eur("50.00"),
        eur("15.00"),
        eur("5.00"),
    )
    assert account.balance == eur("30.00")
    assert [e.kind for e in account.entries] == [Movement.GRANT, Movement.REDEEM, Movement.REVERSE]
    assert isinstance(redeemed[0], StoreCreditRedeemed)
    assert (redeemed[0].balance, redeemed[0].reference) == (eur("35.00"), "TND-1")
    assert isinstance(reversed_[0], StoreCreditReversed)
    assert (reversed_[0].balance, reversed_[0].reason) == (eur("30.00"), "expired")


@pytest.mark.parametrize("movement", ["redeem", "reverse"])
def test_taking_more_than_the_balance_is_refused_and_changes_nothing(movement: str) -> None:
    account = funded("10.00")
    take = (
        (lambda: account.redeem("SC-2", eur("10.01"), NOW, reference="TND-1"))
        if movement == "redeem"
        else (lambda: account.reverse("SC-2", eur("10.01"), NOW, reason="expired"))
    )
    with pytest.raises(InsufficientStoreCreditError) as refused:
        take()
    assert (refused.value.requested, refused.value.balance) == (eur("10.01"), eur("10.00"))
    assert (refused.value.customer_id, refused.value.currency) == ("ada", "EUR")
    assert account.balance == eur("10.00")
    assert len(account.entries) == 1


def test_the_whole_balance_can_be_spent() -> None:
    account, _ = funded("10.00").redeem("SC-2", eur("10.00"), NOW, reference="TND-1")
    assert account.balance.is_zero()


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (eur("0.00"), InvalidAmountError),
        (eur("-1.00"), InvalidAmountError),
        (eur("0.001"), InvalidAmountError),
        ("5.00", InvalidAmountError),
        (Money("5.00", "USD"), CurrencyMismatchError),
    ],
)
def test_amounts_are_positive_money_in_the_accounts_currency(amount: object, error: type) -> None:
    account = funded()
    with pytest.raises(error):
        account.grant("SC-2", amount, NOW, reason="x")  # type: ignore[arg-type]
    with pytest.raises(error):
        account.redeem("SC-2", amount, NOW, reference="x")  # type: ignore[arg-type]


def test_texts_and_times_are_checked() -> None:
    account = funded()
    with pytest.raises(StoreCreditFieldError, match="reason"):
        account.grant("SC-2", eur("1.00"), NOW, reason="")
    with pytest.raises(StoreCreditFieldError, match="reason"):
        account.reverse("SC-2", eur("1.00"), NOW, reason="")
    with pytest.raises(StoreCreditFieldError, match="entry_id"):
        account.grant("SC-1", eur("1.00"), NOW, reason="again")  # SC-1 exists
    with pytest.raises(StoreCreditFieldError, match="at"):
        account.grant("SC-2", eur("1.00"), datetime(2026, 3, 2), reason="naive")
    with pytest.raises(StoreCreditFieldError, match="id"):
        account.grant("", eur("1.00"), NOW, reason="x")
    with pytest.raises(CardDataRefusedError):
        account.grant("SC-2", eur("1.00"), NOW, reason="card 4111 1111 1111 1111")


def test_an_account_that_breaks_the_ledger_cannot_be_built() -> None:
    grant = StoreCreditEntry(id="SC-1", kind="grant", amount=eur("5.00"), at=NOW)
    spend = StoreCreditEntry(id="SC-2", kind="redeem", amount=eur("6.00"), at=NOW)
    with pytest.raises(InsufficientStoreCreditError, match="below zero"):
        StoreCreditAccount(customer_id="ada", currency="EUR", entries=(grant, spend))
    with pytest.raises(StoreCreditFieldError, match="twice"):
        StoreCreditAccount(customer_id="ada", currency="EUR", entries=(grant, grant))
    with pytest.raises(CurrencyMismatchError):
        StoreCreditAccount(customer_id="ada", currency="USD", entries=(grant,))
    with pytest.raises(StoreCreditFieldError, match="StoreCreditEntry"):
        StoreCreditAccount(customer_id="ada", currency="EUR", entries=("SC-1",))  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrencyError):
        StoreCreditAccount(customer_id="ada", currency="XXY")
    with pytest.raises(StoreCreditFieldError, match="movement"):
        StoreCreditEntry(id="SC-1", kind="gift", amount=eur("5.00"), at=NOW)
    # Spending first and granting later is refused too: the balance holds at every entry.
    with pytest.raises(InsufficientStoreCreditError):
        StoreCreditAccount(
            customer_id="ada",
            currency="EUR",
            entries=(
                StoreCreditEntry(id="SC-2", kind="redeem", amount=eur("1.00"), at=NOW),
                StoreCreditEntry(id="SC-3", kind="grant", amount=eur("9.00"), at=NOW),
            ),
        )
