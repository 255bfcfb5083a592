"""Tenders: the ways one order is paid, and how a refund is spread back over them.

An order may be paid by several *tenders* at once (split tender): card or wallet
payments through a gateway (:class:`~o2c.payments.Payment`), store credit, bank
transfers and cash on delivery. This module holds the pure parts:

* :class:`Tender`: a tender outside any gateway, as stored: store credit redeemed for
  an order, or a bank transfer the order awaits under a creditor reference.
* :class:`TenderView`: any tender as an order shows it, with what it holds, took and
  gave back (derived, never stored).
* :func:`plan_refund`: how an amount to refund is spread over the tenders (money not
  yet applied to invoices first; then store credit, card and wallet, bank transfer and
  cash on delivery; newest first; never more than a tender can give back).
* ISO 11649 creditor references (``RF93 TND0 0000 1``): :func:`creditor_reference`
  makes one with its mod-97 check digits, :func:`find_creditor_references` finds the
  valid ones in the text of a bank statement line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, TypeAlias

import attrs

from o2c._evolve import evolved
from o2c.errors import (
    InvalidAmountError,
    RefundExceedsRefundableError,
    TenderFieldError,
    TenderMethodError,
)
from o2c.events import DomainEvent, RefundPart, TenderCancelled, TenderOpened
from o2c.money import Money, money_sum
from o2c.payments import PaymentMethod, check_free_text

__all__ = [
    "GATEWAY_METHODS",
    "REFUND_OUTCOMES",
    "OrderRefund",
    "RefundPart",
    "RefundSource",
    "Tender",
    "TenderView",
    "cancel_tender",
    "creditor_reference",
    "find_creditor_references",
    "format_creditor_reference",
    "is_creditor_reference",
    "method_in",
    "open_tender",
    "plan_refund",
    "refund_rank",
]

Events: TypeAlias = tuple[DomainEvent, ...]

#: Methods a gateway payment may have (the others have their own calls).
GATEWAY_METHODS: Final = frozenset(
    {PaymentMethod.CARD, PaymentMethod.WALLET, PaymentMethod.DIRECT_DEBIT, PaymentMethod.OTHER}
)
#: Methods a :class:`Tender` record may have.
RECORDED_METHODS: Final = frozenset({PaymentMethod.STORE_CREDIT, PaymentMethod.BANK_TRANSFER})

#: :class:`RefundPart` outcomes that gave (or are giving) money back; the others
#: (``voided``, ``void_pending``, ``void_failed``) concern uncaptured authorizations.
REFUND_OUTCOMES: Final = frozenset({"refunded", "pending", "store_credit", "payout"})

_MAX_ID: Final = 255
_MAX_REFERENCE: Final = 140


# --------------------------------------------------------------------------- creditor references

_RF_BODY_MAX: Final = 21
_RF_START: Final = re.compile(r"RF[0-9]{2}")
_ALNUM: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _mod97(text: str) -> int:
    # ISO 7064 mod 97-10 over letters as numbers (A=10 ... Z=35), piecewise.
    rest = 0
    for ch in text:
        rest = (rest * (100 if ch.isalpha() else 10) + int(ch, 36)) % 97
    return rest


def creditor_reference(body: str) -> str:
    """The ISO 11649 creditor reference for ``body`` (1-21 letters and digits).

    >>> creditor_reference("539007547034")  # the standard's own example
    'RF18539007547034'
    """
    body = body.upper()
    if not 1 <= len(body) <= _RF_BODY_MAX or not set(body) <= _ALNUM:
        raise TenderFieldError(
            "a creditor reference body is 1-21 letters and digits",
            field="reference",
            reason=f"{body[:30]!r} does not fit",
        )
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def is_creditor_reference(text: str) -> bool:
    """True for a well-formed ISO 11649 reference (spaces allowed, any case).

    >>> is_creditor_reference("rf93 tnd0 0000 1"), is_creditor_reference("RF94TND000001")
    (True, False)
    """
    ref = text.replace(" ", "").upper()
    return (
        bool(_RF_START.match(ref))
        and 5 <= len(ref) <= 4 + _RF_BODY_MAX
        and set(ref) <= _ALNUM
        and _mod97(ref[4:] + ref[:4]) == 1
    )


def format_creditor_reference(reference: str) -> str:
    """A reference in groups of four, as it is printed for people.

    >>> format_creditor_reference("RF93TND000001")
    'RF93 TND0 0000 1'
    """
    ref = reference.replace(" ", "").upper()
    return " ".join(ref[i : i + 4] for i in range(0, len(ref), 4))


def find_creditor_references(text: str) -> tuple[str, ...]:
    """Every valid creditor reference written in ``text`` (a bank line's remittance
    information), without spaces, in the order found.

    Spaces inside a reference are ignored (banks print it in groups of four), so a
    reference followed by more letters or digits yields each prefix that passes the
    check; the caller keeps the one it knows. Time is linear in the text.

    >>> find_creditor_references("order SO-1, ref rf93 tnd0 0000 1, thanks")
    ('RF93TND000001',)
    """
    squeezed = text.replace(" ", "").upper()
    found: list[str] = []
    for start in _RF_START.finditer(squeezed):
        end = start.end()
        while end < len(squeezed) and end - start.start() < 4 + _RF_BODY_MAX:
            if squeezed[end] not in _ALNUM:
                break
            end += 1
        for stop in range(end, start.end(), -1):
            candidate = squeezed[start.start() : stop]
            if is_creditor_reference(candidate) and candidate not in found:
                found.append(candidate)
    return tuple(found)


# --------------------------------------------------------------------------- tender records


def _check_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_free_text(
        value,
        field=attribute.name,
        max_length=_MAX_ID,
        error=TenderFieldError,
        scan_card_numbers=False,
    )


def _check_reference(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_free_text(
        value,
        field=attribute.name,
        max_length=_MAX_REFERENCE,
        error=TenderFieldError,
        allow_empty=True,
        scan_card_numbers=False,
    )


def _check_aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "cancelled_at":
        return
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise TenderFieldError(
            f"{attribute.name} must be a timezone-aware datetime",
            field=attribute.name,
            reason="naive or not a datetime",
        )


def _check_amount(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise InvalidAmountError(value=value, reason=f"{attribute.name} must be Money")
    if not value.is_positive() or not value.is_rounded():
        raise InvalidAmountError(
            value=value, reason=f"{attribute.name} must be positive, in whole minor units"
        )


def method_in(value: object, allowed: frozenset[PaymentMethod], why: str) -> PaymentMethod:
    """``value`` as a payment method among ``allowed``.

    Raises:
        TenderMethodError: not a payment method, or not one of ``allowed`` (``why``).
    """
    try:
        method = PaymentMethod(str(value))
    except ValueError:
        raise TenderMethodError(method=str(value)[:40], reason="not a payment method") from None
    if method not in allowed:
        raise TenderMethodError(method=method.value, reason=why)
    return method


def _recorded_method(value: object) -> PaymentMethod:
    return method_in(
        value,
        RECORDED_METHODS,
        "a tender record is store credit or a bank transfer; gateway payments "
        "are Payment records and cash on delivery is on the shipment",
    )


@attrs.frozen(kw_only=True)
class Tender:
    """A tender of an order outside any gateway.

    Args:
        id: Caller-given id (the engine numbers them ``TND-000001`` ...).
        order_id: The order it pays.
        customer_id: The order's customer.
        method: ``store_credit`` (redeemed at once; the receipt carries the money) or
            ``bank_transfer`` (awaited; receipts quoting ``reference`` are matched to it).
        amount: Store credit redeemed, or the transfer amount asked for.
        created_at: When, timezone-aware.
        reference: For a bank transfer, the ISO 11649 creditor reference the customer
            quotes; for store credit, the ledger entry of the redemption.
        cancelled_at: When an awaited bank transfer was called off (None otherwise).
    """

    id: str = attrs.field(validator=_check_id)
    order_id: str = attrs.field(validator=_check_id)
    customer_id: str = attrs.field(validator=_check_id)
    method: PaymentMethod = attrs.field(converter=_recorded_method)
    amount: Money = attrs.field(validator=_check_amount)
    created_at: datetime = attrs.field(validator=_check_aware)
    reference: str = attrs.field(default="", validator=_check_reference)
    cancelled_at: datetime | None = attrs.field(default=None, validator=_check_aware)

    @property
    def currency(self) -> str:
        """The tender's currency."""
        return self.amount.currency

    @property
    def is_cancelled(self) -> bool:
        """True once an awaited bank transfer was called off."""
        return self.cancelled_at is not None


def open_tender(
    *,
    tender_id: str,
    order_id: str,
    customer_id: str,
    method: PaymentMethod | str,
    amount: Money,
    now: datetime,
    reference: str = "",
) -> tuple[Tender, Events]:
    """A new tender record and its :class:`~o2c.events.TenderOpened` event.

    Raises:
        TenderMethodError: a method other than store credit or bank transfer.
        TenderFieldError: a malformed id, reference or time.
        InvalidAmountError: ``amount`` not positive Money in whole minor units.
    """
    tender = Tender(
        id=tender_id,
        order_id=order_id,
        customer_id=customer_id,
        method=method,
        amount=amount,
        created_at=now,
        reference=reference,
    )
    event = TenderOpened(
        aggregate_id=tender.id,
        occurred_at=tender.created_at,
        order_id=tender.order_id,
        customer_id=tender.customer_id,
        method=tender.method.value,
        amount=tender.amount,
        reference=tender.reference,
    )
    return tender, (event,)


def cancel_tender(tender: Tender, now: datetime) -> tuple[Tender, Events]:
    """Call off an awaited bank transfer; money already matched to it stays its own.

    Raises:
        TenderMethodError: the tender is not a bank transfer.
        TenderFieldError: it was cancelled already, or ``now`` is naive.
    """
    if tender.method is not PaymentMethod.BANK_TRANSFER:
        raise TenderMethodError(
            method=tender.method.value, reason="only an awaited bank transfer can be cancelled"
        )
    if tender.is_cancelled:
        raise TenderFieldError(
            f"tender {tender.id} was cancelled already", field="tender_id", reason="cancelled"
        )
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise TenderFieldError(
            "now must be a timezone-aware datetime", field="now", reason="naive or not a datetime"
        )
    cancelled = evolved(tender, cancelled_at=now)
    event = TenderCancelled(
        aggregate_id=tender.id,
        occurred_at=now,
        order_id=tender.order_id,
        reference=tender.reference,
    )
    return cancelled, (event,)


# --------------------------------------------------------------------------- views


@attrs.frozen(kw_only=True)
class TenderView:
    """One tender of an order as the order shows it (derived from the records).

    Attributes:
        tender_id: The payment id (card, wallet), tender id (store credit, bank
            transfer) or shipment id (cash on delivery).
        method: Its payment method.
        state: Where it stands: a payment's state; ``redeemed`` for store credit;
            ``awaiting``, ``partially_received``, ``received`` or ``cancelled`` for a bank
            transfer; ``awaiting_delivery``, ``collected`` or ``not_collected`` for cash
            on delivery.
        amount: What it was opened for.
        held: Promised and not yet taken: an open authorization, the rest of an awaited
            transfer, cash on a parcel still on its way.
        taken: Money it took (captured, redeemed, received, collected).
        refunded: Money given back through it.
        refundable: What a refund may still give back through it.
        created_at: When it was opened.
        reference: The transfer reference to quote, the gateway, or the carrier.
    """

    tender_id: str
    method: PaymentMethod
    state: str
    amount: Money
    held: Money
    taken: Money
    refunded: Money
    refundable: Money
    created_at: datetime
    reference: str | None = None

    @property
    def counted(self) -> Money:
        """What the tender counts against the order total: ``held + taken - refunded``."""
        return self.held + self.taken - self.refunded

    @property
    def live(self) -> bool:
        """True while it holds or took money not given back (not failed, voided, cancelled
        or fully refunded)."""
        return self.counted.is_positive()


@attrs.frozen(kw_only=True)
class OrderRefund:
    """What :meth:`o2c.engine.O2C.refund_order` did.

    Attributes:
        order_id: The order.
        requested: The amount asked for (for a full refund: everything refundable).
        parts: Where each part went, in the order made.
    """

    order_id: str
    requested: Money
    parts: tuple[RefundPart, ...]

    @property
    def refunded(self) -> Money:
        """Money given back, or on its way back (every part but voids)."""
        return money_sum(
            (p.amount for p in self.parts if p.outcome in REFUND_OUTCOMES),
            self.requested.currency,
        )

    @property
    def voided(self) -> Money:
        """Uncaptured authorization released."""
        return money_sum(
            (p.amount for p in self.parts if p.outcome == "voided"), self.requested.currency
        )


# --------------------------------------------------------------------------- refund plan


def refund_rank(method: PaymentMethod) -> int:
    """The order methods are refunded in: 0 store credit (instant, no fees), 1 card,
    wallet and other gateway methods, 2 bank transfer and cash on delivery (paid out by
    hand)."""
    if method is PaymentMethod.STORE_CREDIT:
        return 0
    if method in GATEWAY_METHODS:
        return 1
    return 2


@attrs.frozen(kw_only=True)
class RefundSource:
    """What one tender can give back, split by where the money sits.

    Attributes:
        tender_id: The tender.
        method: Its method (decides its rank, see :func:`refund_rank`).
        created_at: When it was opened (newest first within a rank).
        unapplied: Refundable money not applied to any invoice (on account).
        applied: Refundable money applied to invoices (taking it reopens them).
    """

    tender_id: str
    method: PaymentMethod
    created_at: datetime
    unapplied: Money
    applied: Money

    @property
    def refundable(self) -> Money:
        """Everything it can give back."""
        return self.unapplied + self.applied


def plan_refund(
    order_id: str, amount: Money, sources: Sequence[RefundSource]
) -> tuple[tuple[str, Money], ...]:
    """Spread ``amount`` over ``sources`` (given oldest first).

    The order: money on account (not applied to invoices) before money applied to
    invoices, so that no invoice reopens while unapplied money is there; within each,
    by :func:`refund_rank`, then newest first. No source gives more than it holds.

    Returns:
        ``(tender_id, amount)`` per source touched, each once, in the order first
        touched; the amounts sum to ``amount``.

    Raises:
        RefundExceedsRefundableError: ``amount`` exceeds what the sources hold together.
        InvalidAmountError: ``amount`` is not positive.
    """
    if not amount.is_positive():
        raise InvalidAmountError(value=amount, reason="a refund must be positive")
    refundable = money_sum((s.refundable for s in sources), amount.currency)
    if amount > refundable:
        raise RefundExceedsRefundableError(
            f"refund of {amount} exceeds the {refundable} the order's tenders can give back",
            order_id=order_id,
            requested=amount,
            refundable=refundable,
            excess=amount - refundable,
        )
    order = sorted(
        range(len(sources)),
        key=lambda i: (refund_rank(sources[i].method), -sources[i].created_at.timestamp(), -i),
    )
    taken: dict[str, Money] = {}
    rest = amount
    for phase in ("unapplied", "applied"):
        for i in order:
            if not rest.is_positive():
                break
            source = sources[i]
            take = getattr(source, phase).min(rest)
            if take.is_positive():
                taken[source.tender_id] = (
                    taken.get(source.tender_id, Money.zero(amount.currency)) + take
                )
                rest = rest - take
    return tuple(taken.items())
