"""Store credit: a customer's balance with the merchant, one account per currency.

A :class:`StoreCreditAccount` is an append-only ledger, as the cash ledger is: every
movement is an entry, corrections are new entries, and the amounts are derived:

    granted  = sum of grants     (goodwill, or money refunded to store credit)
    redeemed = sum of redemptions (store credit paying an order)
    reversed = sum of reversals  (expired or revoked)
    balance  = granted - redeemed - reversed     (never negative, at any point)

Store credit is a liability of the merchant, not cash: it reaches an invoice only when
it is redeemed, as a receipt of method ``store_credit`` (see :mod:`o2c.engine.tender`).
Operations return ``(account, events)`` and either succeed or raise a typed error and
change nothing.

>>> from datetime import UTC, datetime
>>> from o2c.money import Money
>>> now = datetime(2026, 3, 2, tzinfo=UTC)
>>> account = open_account("ada", "EUR")
>>> account, _ = account.grant("SC-1", Money("20.00", "EUR"), now, reason="late parcel")
>>> account, _ = account.redeem("SC-2", Money("15.00", "EUR"), now, reference="TND-1")
>>> account.balance
Money('5.00', 'EUR')
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeAlias

import attrs

from o2c._evolve import evolved
from o2c.errors import (
    CurrencyMismatchError,
    InsufficientStoreCreditError,
    StoreCreditFieldError,
)
from o2c.events import DomainEvent, StoreCreditGranted, StoreCreditRedeemed, StoreCreditReversed
from o2c.money import Money, money_sum, require_amount
from o2c.payments import check_free_text

__all__ = [
    "Movement",
    "StoreCreditAccount",
    "StoreCreditEntry",
    "account_id",
    "open_account",
]

#: Longest id accepted.
MAX_ID_LENGTH: Final = 255
#: Longest reason or reference accepted.
MAX_TEXT_LENGTH: Final = 140

Events: TypeAlias = tuple[DomainEvent, ...]


class Movement(StrEnum):
    """What an entry does to the balance."""

    GRANT = "grant"
    REDEEM = "redeem"
    REVERSE = "reverse"


def account_id(customer_id: str, currency: str) -> str:
    """The id of a customer's account in ``currency`` (``"ada/EUR"``)."""
    return f"{customer_id}/{currency}"


def _id(value: object, field: str) -> str:
    # Ids are machine-issued: no card-number scan (see o2c.payments).
    return check_free_text(
        value,
        field=field,
        max_length=MAX_ID_LENGTH,
        error=StoreCreditFieldError,
        scan_card_numbers=False,
    )


def _text(value: object, field: str, *, allow_empty: bool = True) -> str:
    return check_free_text(
        value,
        field=field,
        max_length=MAX_TEXT_LENGTH,
        error=StoreCreditFieldError,
        allow_empty=allow_empty,
    )


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise StoreCreditFieldError(
            f"{field} must be a timezone-aware datetime",
            field=field,
            reason="naive or not a datetime",
        )
    return value


def _check_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _id(value, attribute.name)


def _check_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _text(value, attribute.name)


def _check_aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _aware(value, attribute.name)


def _check_positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_amount(value, attribute.name)


def _movement(value: str) -> Movement:
    try:
        return Movement(value)
    except ValueError:
        raise StoreCreditFieldError(
            "unknown movement", field="kind", reason=f"{value!r} is not a movement"
        ) from None


@attrs.frozen
class StoreCreditEntry:
    """One movement of a store-credit account.

    Args:
        id: Caller-given id (the engine numbers them ``SC-000001`` ...).
        kind: Grant, redeem or reverse.
        amount: Positive, whole minor units.
        at: When, timezone-aware.
        reference: What caused it: the tender redeemed for, the receipt refunded...
        reason: Why, in words (goodwill, a return, expiry).
    """

    id: str = attrs.field(validator=_check_id)
    kind: Movement = attrs.field(converter=_movement)
    amount: Money = attrs.field(validator=_check_positive)
    at: datetime = attrs.field(validator=_check_aware)
    reference: str = attrs.field(default="", validator=_check_text)
    reason: str = attrs.field(default="", validator=_check_text)


def _entries(value: Iterable[StoreCreditEntry]) -> tuple[StoreCreditEntry, ...]:
    return tuple(value)


@attrs.frozen
class StoreCreditAccount:
    """A customer's store credit in one currency.

    Construction checks the ledger: every entry in the account's currency, entry ids
    unique, and the balance never below zero after any entry, so an account that
    breaks them cannot exist.

    Raises:
        StoreCreditFieldError: a malformed id, a duplicate entry id, an entry that is
            not a :class:`StoreCreditEntry`.
        CurrencyMismatchError: an entry in another currency.
        InsufficientStoreCreditError: the entries take the balance below zero.
    """

    customer_id: str = attrs.field(validator=_check_id)
    currency: str
    entries: tuple[StoreCreditEntry, ...] = attrs.field(default=(), converter=_entries)

    def __attrs_post_init__(self) -> None:
        Money.zero(self.currency)  # an unknown currency fails here
        seen: set[str] = set()
        running = Money.zero(self.currency)
        for entry in self.entries:
            if not isinstance(entry, StoreCreditEntry):
                raise StoreCreditFieldError(
                    "entries must be StoreCreditEntry values",
                    field="entries",
                    reason=type(entry).__name__,
                )
            if entry.amount.currency != self.currency:
                raise CurrencyMismatchError(left=self.currency, right=entry.amount.currency)
            if entry.id in seen:
                raise StoreCreditFieldError(
                    f"entry {entry.id!r} appears twice", field="entries", reason="duplicate id"
                )
            seen.add(entry.id)
            before = running
            running = (
                running + entry.amount if entry.kind is Movement.GRANT else running - entry.amount
            )
            if running.is_negative():
                raise InsufficientStoreCreditError(
                    f"entry {entry.id!r} takes the balance below zero",
                    customer_id=self.customer_id,
                    currency=self.currency,
                    requested=entry.amount,
                    balance=before,
                )

    # -- derived ------------------------------------------------------------------

    @property
    def id(self) -> str:
        """``customer_id/currency``."""
        return account_id(self.customer_id, self.currency)

    def _total(self, kind: Movement) -> Money:
        return money_sum((e.amount for e in self.entries if e.kind is kind), self.currency)

    @property
    def granted(self) -> Money:
        """Everything ever granted (goodwill and refunds to store credit)."""
        return self._total(Movement.GRANT)

    @property
    def redeemed(self) -> Money:
        """Everything ever redeemed on orders."""
        return self._total(Movement.REDEEM)

    @property
    def reversed(self) -> Money:
        """Everything taken away (expired, revoked)."""
        return self._total(Movement.REVERSE)

    @property
    def balance(self) -> Money:
        """``granted - redeemed - reversed``: what the customer may still spend."""
        return self.granted - self.redeemed - self.reversed

    def entry(self, entry_id: str) -> StoreCreditEntry | None:
        """The entry with this id, if any."""
        return next((e for e in self.entries if e.id == entry_id), None)

    # -- operations ---------------------------------------------------------------

    def _append(self, entry: StoreCreditEntry) -> StoreCreditAccount:
        if entry.amount.currency != self.currency:
            raise CurrencyMismatchError(left=self.currency, right=entry.amount.currency)
        if self.entry(entry.id) is not None:
            raise StoreCreditFieldError(
                f"entry {entry.id!r} exists already", field="entry_id", reason="duplicate id"
            )
        return evolved(self, entries=(*self.entries, entry))

    def _take(
        self, kind: Movement, entry_id: str, amount: Money, now: datetime, **text: str
    ) -> StoreCreditAccount:
        entry = StoreCreditEntry(id=entry_id, kind=kind, amount=amount, at=now, **text)
        if entry.amount > self.balance:  # another currency raises CurrencyMismatchError here
            raise InsufficientStoreCreditError(
                f"cannot {kind.value} {entry.amount}: the balance is {self.balance}",
                customer_id=self.customer_id,
                currency=self.currency,
                requested=entry.amount,
                balance=self.balance,
            )
        return self._append(entry)

    def grant(
        self, entry_id: str, amount: Money, now: datetime, *, reason: str, reference: str = ""
    ) -> tuple[StoreCreditAccount, Events]:
        """Add store credit.

        Args:
            entry_id: Id of the new entry.
            amount: Positive, whole minor units, in the account's currency.
            now: When, timezone-aware.
            reason: Why (shown to people; never a card number).
            reference: What caused it (a receipt, a tender), if anything.

        Returns:
            ``(account, (StoreCreditGranted,))``.

        Raises:
            InvalidAmountError: ``amount`` is not positive Money in whole minor units.
            CurrencyMismatchError: ``amount`` is in another currency.
            StoreCreditFieldError: a malformed id, reason or time, or an id used before.
            CardDataRefusedError: the reason or reference holds a card number.
        """
        entry = StoreCreditEntry(
            id=entry_id,
            kind=Movement.GRANT,
            amount=amount,
            at=now,
            reference=reference,
            reason=_text(reason, "reason", allow_empty=False),
        )
        account = self._append(entry)
        event = StoreCreditGranted(
            aggregate_id=self.id,
            occurred_at=entry.at,
            customer_id=self.customer_id,
            entry_id=entry.id,
            amount=entry.amount,
            balance=account.balance,
            reason=entry.reason,
            reference=entry.reference,
        )
        return account, (event,)

    def redeem(
        self, entry_id: str, amount: Money, now: datetime, *, reference: str
    ) -> tuple[StoreCreditAccount, Events]:
        """Spend store credit (``reference`` names what it pays, e.g. the tender).

        Returns:
            ``(account, (StoreCreditRedeemed,))``.

        Raises:
            InsufficientStoreCreditError: more than the balance.
            (and what :meth:`grant` raises for malformed input)
        """
        account = self._take(Movement.REDEEM, entry_id, amount, now, reference=reference)
        entry = account.entries[-1]
        event = StoreCreditRedeemed(
            aggregate_id=self.id,
            occurred_at=entry.at,
            customer_id=self.customer_id,
            entry_id=entry.id,
            amount=entry.amount,
            balance=account.balance,
            reference=entry.reference,
        )
        return account, (event,)

    def reverse(
        self, entry_id: str, amount: Money, now: datetime, *, reason: str
    ) -> tuple[StoreCreditAccount, Events]:
        """Take store credit away (it expired, or was granted by mistake).

        Returns:
            ``(account, (StoreCreditReversed,))``.

        Raises:
            InsufficientStoreCreditError: more than the balance.
            (and what :meth:`grant` raises for malformed input)
        """
        account = self._take(
            Movement.REVERSE,
            entry_id,
            amount,
            now,
            reason=_text(reason, "reason", allow_empty=False),
        )
        entry = account.entries[-1]
        event = StoreCreditReversed(
            aggregate_id=self.id,
            occurred_at=entry.at,
            customer_id=self.customer_id,
            entry_id=entry.id,
            amount=entry.amount,
            balance=account.balance,
            reason=entry.reason,
        )
        return account, (event,)


def open_account(customer_id: str, currency: str) -> StoreCreditAccount:
    """An empty account (the engine stores one at its first movement)."""
    return StoreCreditAccount(customer_id=customer_id, currency=currency)
