"""Cash on delivery, the carrier's side: what it collected, what it paid over.

When a cash-on-delivery parcel is delivered, the customer has paid, so the engine
receives the cash and applies it to the order's invoices at once (the customer owes
nothing more). The cash is with the carrier, though: from then on the **carrier owes
it** until it remits it. This module keeps that receivable:

* :class:`CodCollection`: one COD shipment's ledger of remittances (append-only).
* :func:`reconcile`: a carrier's remittance (lines of shipment id and amount, less a
  fee) checked against what each shipment still owes. Exact lines settle; short, over,
  unknown and not-yet-delivered lines are reported as discrepancies and stay open in
  the position, explainable line by line. The fee is booked explicitly.
* :func:`position`: what a carrier owes now (delivered and not remitted, short), what
  it paid too much or for nothing we know, and the fees it kept.

Amounts per shipment (``collected`` is the COD amount once delivered, zero before)::

    open = collected - remitted        (> 0: the carrier owes it; < 0: paid too much)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeAlias

import attrs

from o2c._evolve import evolved
from o2c.errors import CurrencyMismatchError, RemittanceFieldError
from o2c.events import (
    CarrierFeeBooked,
    CodDiscrepancyFound,
    CodRemittanceRecorded,
    DomainEvent,
)
from o2c.money import Money, money_sum, require_amount
from o2c.payments import check_free_text, redact_card_numbers

__all__ = [
    "CodCollection",
    "CodFacts",
    "CodOpenItem",
    "CodPosition",
    "CodRemittance",
    "CodStatus",
    "RemittanceLine",
    "position",
    "reconcile",
    "remittance_key",
]

Events: TypeAlias = tuple[DomainEvent, ...]

_MAX_ID: Final = 140
#: Most lines one remittance may hold.
MAX_LINES: Final = 10_000


class CodStatus(StrEnum):
    """How a remittance line compares with what the shipment owed."""

    SETTLED = "settled"
    SHORT = "short"
    OVER = "over"
    UNKNOWN = "unknown"
    NOT_DELIVERED = "not_delivered"


def remittance_key(carrier: str, remittance_id: str) -> str:
    """The stored id of a carrier's remittance (``"dhl/R-2026-03"``)."""
    return f"{carrier}/{remittance_id}"


@attrs.frozen(kw_only=True)
class CodFacts:
    """What o2c knows about the shipment a remittance line names.

    Attributes:
        shipment_id: The shipment found (by id or tracking number), None if none.
        carrier: The carrier that carried it (None: the host's own fleet).
        cod_amount: Cash it was to collect (None: not cash on delivery).
        delivered: True once o2c recorded its delivery.
        remitted: What the carrier remitted for it before (zero if nothing).
    """

    shipment_id: str | None
    carrier: str | None = None
    cod_amount: Money | None = None
    delivered: bool = False
    remitted: Money | None = None


@attrs.frozen(kw_only=True)
class RemittanceLine:
    """One line of a remittance, checked.

    Attributes:
        shipment_id: The shipment matched; for an unknown line, what the carrier wrote.
        amount: What the carrier remitted for it.
        expected: What the shipment owed when the line was checked (zero when nothing
            was owed: unknown, not delivered, remitted already).
        status: Settled, short, over, unknown or not delivered.
        note: Why, for anything but settled.
    """

    shipment_id: str
    amount: Money
    expected: Money
    status: CodStatus
    note: str = ""

    @property
    def difference(self) -> Money:
        """``amount - expected``: negative when short."""
        return self.amount - self.expected

    @property
    def is_discrepancy(self) -> bool:
        """True for anything but settled."""
        return self.status is not CodStatus.SETTLED


@attrs.frozen(kw_only=True)
class CodRemittance:
    """A carrier's remittance as recorded (the result of :func:`reconcile`).

    Attributes:
        carrier: The carrier.
        remittance_id: The carrier's id for it (unique per carrier).
        received_at: When it was recorded.
        lines: Every line, checked, in the carrier's order.
        fee: What the carrier kept (zero if none).
    """

    carrier: str
    remittance_id: str
    received_at: datetime
    lines: tuple[RemittanceLine, ...]
    fee: Money

    @property
    def id(self) -> str:
        """``carrier/remittance_id``."""
        return remittance_key(self.carrier, self.remittance_id)

    @property
    def currency(self) -> str:
        """The remittance's currency."""
        return self.fee.currency

    @property
    def gross(self) -> Money:
        """The lines' sum: cash the carrier accounts for."""
        return money_sum((ln.amount for ln in self.lines), self.currency)

    @property
    def net(self) -> Money:
        """``gross - fee``: what reached the bank."""
        return self.gross - self.fee

    @property
    def settled(self) -> tuple[RemittanceLine, ...]:
        """Lines that matched exactly."""
        return tuple(ln for ln in self.lines if not ln.is_discrepancy)

    @property
    def discrepancies(self) -> tuple[RemittanceLine, ...]:
        """Lines that did not match (short, over, unknown, not delivered)."""
        return tuple(ln for ln in self.lines if ln.is_discrepancy)


@attrs.frozen(kw_only=True)
class CodCollection:
    """The remittances a carrier made for one COD shipment.

    Attributes:
        shipment_id: The shipment.
        carrier: Its carrier.
        cod_amount: The cash it was to collect.
        remittances: ``(remittance_id, amount)`` per line remitted for it, oldest first.
    """

    shipment_id: str
    carrier: str
    cod_amount: Money
    remittances: tuple[tuple[str, Money], ...] = ()

    @property
    def id(self) -> str:
        """The shipment's id."""
        return self.shipment_id

    @property
    def remitted(self) -> Money:
        """Everything remitted for the shipment."""
        return money_sum((a for _, a in self.remittances), self.cod_amount.currency)

    def add(self, remittance_id: str, amount: Money) -> CodCollection:
        """The ledger with one more remitted line."""
        return evolved(self, remittances=(*self.remittances, (remittance_id, amount)))


# --------------------------------------------------------------------------- reconcile


def _bad(field: str, reason: str) -> RemittanceFieldError:
    return RemittanceFieldError(f"{field}: {reason}", field=field, reason=reason)


def _text(value: object, field: str) -> str:
    return check_free_text(
        value, field=field, max_length=_MAX_ID, error=RemittanceFieldError, scan_card_numbers=False
    )


def _amount(value: object, field: str, *, zero_ok: bool = False) -> Money:
    return require_amount(value, field, allow="non_negative" if zero_ok else "positive")


def _items(items: object) -> list[tuple[str, Money]]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        raise _bad("items", "a sequence of (shipment id, amount) pairs")
    if not items:
        raise _bad("items", "a remittance has at least one line")
    if len(items) > MAX_LINES:
        raise _bad("items", f"more than {MAX_LINES} lines")
    out: list[tuple[str, Money]] = []
    for n, item in enumerate(items):
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise _bad("items", f"line {n + 1} is not a (shipment id, amount) pair")
        out.append((_text(item[0], "shipment_id"), _amount(item[1], "amount")))
    return out


def _check(
    carrier: str, currency: str, item_id: str, amount: Money, *, facts: CodFacts, before: Money
) -> RemittanceLine:
    zero = Money.zero(currency)

    def unknown(note: str) -> RemittanceLine:
        # What the carrier wrote is kept, with anything like a card number masked.
        return RemittanceLine(
            shipment_id=redact_card_numbers(item_id),
            amount=amount,
            expected=zero,
            status=CodStatus.UNKNOWN,
            note=note,
        )

    if facts.shipment_id is None:
        return unknown("no such shipment")
    if facts.cod_amount is None:
        return unknown(f"shipment {facts.shipment_id} is not cash on delivery")
    if facts.carrier != carrier:
        return unknown(f"shipment {facts.shipment_id} went by {facts.carrier or 'own fleet'}")
    if facts.cod_amount.currency != currency:
        return unknown(f"shipment {facts.shipment_id} collects {facts.cod_amount.currency}")
    sid = facts.shipment_id
    if not facts.delivered:
        note = "o2c has not recorded the delivery; the amount stands against the shipment"
        return RemittanceLine(
            shipment_id=sid, amount=amount, expected=zero, status=CodStatus.NOT_DELIVERED, note=note
        )
    expected = (facts.cod_amount - before).max(zero)
    if amount == expected:
        return RemittanceLine(
            shipment_id=sid, amount=amount, expected=expected, status=CodStatus.SETTLED
        )
    if amount < expected:
        return RemittanceLine(
            shipment_id=sid,
            amount=amount,
            expected=expected,
            status=CodStatus.SHORT,
            note=f"{expected - amount} still owed",
        )
    return RemittanceLine(
        shipment_id=sid,
        amount=amount,
        expected=expected,
        status=CodStatus.OVER,
        note=f"{amount - expected} more than owed",
    )


def reconcile(
    *,
    carrier: str,
    remittance_id: str,
    items: Sequence[tuple[str, Money]],
    fee: Money | None,
    facts: Callable[[str], CodFacts],
    now: datetime,
) -> tuple[CodRemittance, Events]:
    """Check a carrier's remittance line by line.

    Lines are checked in order, each against what its shipment still owed after the
    earlier ones (a shipment named twice is settled by the first line and over-paid by
    the second).

    Args:
        carrier: The carrier.
        remittance_id: Its id for the remittance (1-140 characters).
        items: ``(shipment id or tracking number, gross amount)`` per line; all in one
            currency.
        fee: What the carrier kept out of the payment (None: nothing).
        facts: What o2c knows about the shipment a line names.
        now: When, timezone-aware.

    Returns:
        ``(remittance, events)``: :class:`~o2c.events.CodRemittanceRecorded`, then a
        :class:`~o2c.events.CodDiscrepancyFound` per discrepancy and a
        :class:`~o2c.events.CarrierFeeBooked` if a fee was kept.

    Raises:
        RemittanceFieldError: no lines, a malformed line, or a fee above the gross.
        CurrencyMismatchError: lines (or the fee) in several currencies.
        InvalidAmountError: an amount not positive (a fee negative) or not whole minor units.
    """
    carrier = _text(carrier, "carrier")
    remittance_id = _text(remittance_id, "remittance_id")
    lines_in = _items(items)
    currency = lines_in[0][1].currency
    for _, amount in lines_in:
        if amount.currency != currency:
            raise CurrencyMismatchError(left=currency, right=amount.currency)
    kept = Money.zero(currency) if fee is None else _amount(fee, "fee", zero_ok=True)
    if kept.currency != currency:
        raise CurrencyMismatchError(left=currency, right=kept.currency)
    gross = money_sum((a for _, a in lines_in), currency)
    if kept > gross:
        raise _bad("fee", f"the fee {kept} exceeds the {gross} remitted")
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise _bad("now", "naive or not a datetime")
    running: dict[str, Money] = {}
    lines: list[RemittanceLine] = []
    for item_id, amount in lines_in:
        found = facts(item_id)
        sid = found.shipment_id
        before = running.get(sid or "", found.remitted or Money.zero(currency))
        line = _check(carrier, currency, item_id, amount, facts=found, before=before)
        if sid is not None and line.status is not CodStatus.UNKNOWN:
            running[sid] = before + amount
        lines.append(line)
    remittance = CodRemittance(
        carrier=carrier,
        remittance_id=remittance_id,
        received_at=now,
        lines=tuple(lines),
        fee=kept,
    )
    events: list[DomainEvent] = [
        CodRemittanceRecorded(
            aggregate_id=remittance.id,
            occurred_at=now,
            carrier=carrier,
            remittance_id=remittance_id,
            gross=remittance.gross,
            fee=kept,
            net=remittance.net,
            settled=len(remittance.settled),
            discrepancies=len(remittance.discrepancies),
        )
    ]
    events += [
        CodDiscrepancyFound(
            aggregate_id=remittance.id,
            occurred_at=now,
            shipment_id=ln.shipment_id,
            status=ln.status.value,
            expected=ln.expected,
            remitted=ln.amount,
            note=ln.note,
        )
        for ln in remittance.discrepancies
    ]
    if kept.is_positive():
        events.append(
            CarrierFeeBooked(
                aggregate_id=remittance.id, occurred_at=now, carrier=carrier, amount=kept
            )
        )
    return remittance, tuple(events)


# --------------------------------------------------------------------------- position


@attrs.frozen(kw_only=True)
class CodOpenItem:
    """One shipment whose carrier account does not balance.

    Attributes:
        shipment_id: The shipment.
        status: ``awaiting_remittance`` (delivered, nothing remitted), ``short``,
            ``over`` or ``remitted_before_delivery``.
        collected: The COD amount once delivered (zero before).
        remitted: What the carrier remitted for it.
    """

    shipment_id: str
    status: str
    collected: Money
    remitted: Money

    @property
    def open(self) -> Money:
        """``collected - remitted``: positive when the carrier owes it."""
        return self.collected - self.remitted


@attrs.frozen(kw_only=True)
class CodPosition:
    """A carrier's cash-on-delivery account in one currency, open items only.

    Attributes:
        carrier: The carrier.
        currency: The currency.
        items: Shipments that do not balance, by shipment id.
        unmatched: ``(remittance_id, line)`` for every remitted line naming no shipment
            of this carrier's in this currency.
        fees: Fees the carrier kept, over all its remittances.
    """

    carrier: str
    currency: str
    items: tuple[CodOpenItem, ...]
    unmatched: tuple[tuple[str, RemittanceLine], ...]
    fees: Money

    @property
    def owed_by_carrier(self) -> Money:
        """Collected and not remitted: a receivable from the carrier."""
        return money_sum((i.open for i in self.items if i.open.is_positive()), self.currency)

    @property
    def owed_to_carrier(self) -> Money:
        """Remitted beyond what was collected, or for nothing known: to clear with it."""
        over = money_sum((-i.open for i in self.items if i.open.is_negative()), self.currency)
        return over + money_sum((ln.amount for _, ln in self.unmatched), self.currency)


def position(
    *,
    carrier: str,
    currency: str,
    shipments: Sequence[tuple[str, Money, bool]],
    collections: Mapping[str, CodCollection],
    remittances: Sequence[CodRemittance],
) -> CodPosition:
    """What the carrier owes and was paid, in ``currency``.

    Args:
        carrier: The carrier.
        currency: The currency looked at.
        shipments: ``(shipment_id, cod_amount, delivered)`` of the carrier's COD
            shipments (other currencies are skipped).
        collections: Their remittance ledgers by shipment id.
        remittances: The carrier's remittances (for unmatched lines and fees).
    """
    zero = Money.zero(currency)
    items: list[CodOpenItem] = []
    for shipment_id, cod, delivered in shipments:
        if cod.currency != currency:
            continue
        found = collections.get(shipment_id)
        remitted = found.remitted if found is not None else zero
        collected = cod if delivered else zero
        if collected == remitted:
            continue
        if not delivered:
            status = "remitted_before_delivery"
        elif remitted.is_zero():
            status = "awaiting_remittance"
        else:
            status = "short" if remitted < collected else "over"
        items.append(
            CodOpenItem(
                shipment_id=shipment_id, status=status, collected=collected, remitted=remitted
            )
        )
    mine = [r for r in remittances if r.currency == currency]
    unmatched = tuple(
        (r.remittance_id, ln) for r in mine for ln in r.lines if ln.status is CodStatus.UNKNOWN
    )
    return CodPosition(
        carrier=carrier,
        currency=currency,
        items=tuple(sorted(items, key=lambda i: i.shipment_id)),
        unmatched=unmatched,
        fees=money_sum((r.fee for r in mine), currency),
    )
