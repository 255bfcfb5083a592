"""Payments: gateway transactions and the payment they move, as pure values.

Modelled on Kill Bill (a payment is a sequence of transactions, each answered
*succeeded*, *failed*, *pending* or *unknown*; unknown is resolved by asking the
gateway again, never by charging under a new key) and Saleor (amounts and the charge
status are *derived* from the transactions, never stored beside them, so they cannot
drift apart after refunds).

* :class:`PaymentTransaction` is one gateway call (authorize, capture, sale, void,
  refund) under a client-made idempotency key; its state follows
  :data:`~o2c.lifecycles.TRANSACTION_WORKFLOW`.
* :class:`Payment` holds its transactions; only *succeeded* ones move it through
  :data:`~o2c.lifecycles.PAYMENT_WORKFLOW` (a failed authorization or sale declines it).
* :meth:`Payment.request` records a transaction before the gateway is called;
  :meth:`Payment.resolve` records what the gateway said (an :data:`Outcome` value, not
  an exception). A late answer never changes a final transaction.
* :func:`needs_reconciliation`, :func:`next_attempt_at` and
  :func:`due_for_reconciliation` drive a reconciler (Kill Bill's janitor) on a backoff
  of 5 minutes, 1 hour, then daily.

Card data: o2c keeps tokens and references, never card numbers.
:func:`contains_card_number` finds 13-19 digit Luhn-valid runs and
:func:`redact_card_numbers` masks them. Text that people type (a payment method's
token field, receipt and refund references, payer names) is refused when it holds
one. Identifiers issued by machines (ids, idempotency keys, gateway references) are
not scanned: Adyen's PSP references, for one, are 16 digits and one in ten passes the
Luhn check by chance, so refusing them would refuse real payments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Final, TypeAlias, cast

import attrs

from o2c._evolve import evolved
from o2c.attention import PaymentAttention
from o2c.errors import (
    CardDataRefusedError,
    ContradictoryOutcomeError,
    CurrencyMismatchError,
    DuplicateTransactionIdError,
    IdempotencyConflictError,
    InvalidAmountError,
    NotFoundError,
    O2CError,
    PaymentFieldError,
    PaymentLimitExceededError,
    TransactionInFlightError,
    TransactionNotAllowedError,
)
from o2c.events import (
    DomainEvent,
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCreated,
    PaymentDeclined,
    PaymentRefunded,
    PaymentRequested,
    PaymentTransactionFailed,
    PaymentTransactionPending,
    PaymentTransactionSucceeded,
    PaymentTransactionUnknown,
    PaymentVoided,
)
from o2c.lifecycles import (
    PAYMENT_WORKFLOW,
    TRANSACTION_WORKFLOW,
    PaymentEvent,
    PaymentState,
    TransactionEvent,
    TransactionState,
)
from o2c.money import Money, money_sum, require_amount

__all__ = [
    "DEFAULT_RECONCILIATION_SCHEDULE",
    "MAX_IDEMPOTENCY_KEY_LENGTH",
    "ChargeStatus",
    "DeclineReason",
    "Failed",
    "Outcome",
    "Payment",
    "PaymentMethod",
    "PaymentTransaction",
    "Pending",
    "Succeeded",
    "TransactionKind",
    "Unknown",
    "check_free_text",
    "compute_charge_status",
    "contains_card_number",
    "create_payment",
    "due_for_reconciliation",
    "needs_reconciliation",
    "next_attempt_at",
    "redact_card_numbers",
]

#: Longest idempotency key accepted (Stripe's limit).
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255
#: Longest id or gateway reference accepted.
MAX_REFERENCE_LENGTH: Final = 255
#: Reconciler backoff after each unanswered attempt; the last delay repeats (Kill Bill).
DEFAULT_RECONCILIATION_SCHEDULE: Final[tuple[timedelta, ...]] = (
    timedelta(minutes=5),
    timedelta(hours=1),
    timedelta(days=1),
)

Events: TypeAlias = tuple[DomainEvent, ...]
_FieldError: TypeAlias = Callable[..., O2CError]
_Validator: TypeAlias = Callable[[Any, Any, Any], None]


# --------------------------------------------------------------------------- card data

# Digit groups joined by single spaces or hyphens, the ways people write card numbers.
# ``\d`` deliberately matches every Unicode decimal digit: a card number typed in
# full-width or Arabic-Indic digits is still a card number. The pattern cannot
# backtrack badly: a separator is required between groups.
_DIGIT_RUN: Final = re.compile(r"\d+(?:[ \-]\d+)*")
_DIGIT_GROUP: Final = re.compile(r"\d+")
_MIN_CARD_DIGITS: Final = 13
_MAX_CARD_DIGITS: Final = 19
_KEEP_LAST: Final = 4


# Luhn doubles every second digit from the right; a doubled digit above 9 loses 9.
_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def _card_spans(text: str, *, first_only: bool = False) -> list[tuple[int, int]]:
    """``(start, end)`` character ranges of the card-number candidates in ``text``.

    A candidate is any run of whole digit groups (so "4111 1111 1111 1111 2027"
    still yields the card before the year) with 13 to 19 digits passing Luhn. A
    single unseparated group longer than 19 digits (an IBAN's account part, a long
    reference) is another kind of number and is not split. A group glued to a letter
    ("RF18", "INV2026") is part of a word, as data-loss scanners treat it: without
    this rule the ISO 11649 reference "RF18 5390 0754 7034" would pass for a card.

    Time is linear in the text: each start group extends over at most 19 digits and
    the Luhn sum is kept incrementally, so hostile input cannot make it quadratic.
    """
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (run.start() + g.start(), run.start() + g.end())
            for g in _DIGIT_GROUP.finditer(run.group())
        ]
        if run.start() > 0 and text[run.start() - 1].isalpha():
            groups = groups[1:]
        if run.end() < len(text) and text[run.end()].isalpha():
            groups = groups[:-1]
        for first in range(len(groups)):
            # plain[k] / doubled[k]: digit sums at offsets of parity k from the span's start.
            plain = [0, 0]
            doubled = [0, 0]
            length = 0
            for last in range(first, len(groups)):
                start, end = groups[last]
                if length + end - start > _MAX_CARD_DIGITS:
                    break
                for i in range(start, end):
                    digit = int(text[i])
                    plain[length & 1] += digit
                    doubled[length & 1] += _DOUBLED[digit]
                    length += 1
                if length >= _MIN_CARD_DIGITS:
                    # The rightmost digit (offset length - 1) is not doubled.
                    kept = (length - 1) & 1
                    if (plain[kept] + doubled[1 - kept]) % 10 == 0:
                        spans.append((groups[first][0], end))
                        if first_only:
                            return spans
    return spans


def contains_card_number(text: str) -> bool:
    """True when ``text`` holds a 13-19 digit Luhn-valid run (spaces or hyphens allowed).

    Digits glued to a letter do not count ("card4111..." is missed, by design). About
    one random 16-digit number in ten passes the Luhn check, so this errs on the
    side of caution: use it on text people type, not on machine-issued identifiers.

    >>> contains_card_number("card 4111 1111 1111 1111"), contains_card_number("INV-2026-0001")
    (True, False)
    """
    return bool(_card_spans(text, first_only=True))


def redact_card_numbers(text: str) -> str:
    """Mask every card-number candidate, keeping at most its last four digits.

    Masking repeats until :func:`contains_card_number` is False for the result, so
    the digits left visible can never form a card number themselves.

    >>> redact_card_numbers("paid with 4111-1111-1111-1111, thanks")
    'paid with ****-****-****-1111, thanks'
    """
    chars = list(text)
    spans = _card_spans(text)
    while spans:
        for start, end in spans:
            digits = [i for i in range(start, end) if chars[i] != "*" and text[i].isdigit()]
            for i in digits[:-_KEEP_LAST]:
                chars[i] = "*"
        # Digits left visible by one pass may join into a new candidate; mask again.
        spans = _card_spans("".join(chars))
    return "".join(chars)


_CONTROL_CHARS: Final = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_free_text(
    value: object,
    *,
    field: str,
    max_length: int,
    error: _FieldError = PaymentFieldError,
    allow_empty: bool = False,
    scan_card_numbers: bool = True,
) -> str:
    """Check a text field o2c will keep: a bounded ``str`` without control characters.

    Args:
        value: The value to check.
        field: Its name, for the error.
        max_length: Longest length accepted.
        error: Error class raised for malformed text (``field`` and ``reason`` are passed).
        allow_empty: Accept ``""``.
        scan_card_numbers: Refuse text holding a card number (see the module notes).

    Returns:
        The value, unchanged.

    Raises:
        CardDataRefusedError: the text holds a 13-19 digit Luhn-valid run.
        PaymentFieldError: (or ``error``) not a str, empty, too long, or has control
            characters.
    """
    if not isinstance(value, str):
        raise error(f"{field} must be text", field=field, reason=f"{type(value).__name__}")
    if not value and not allow_empty:
        raise error(f"{field} is empty", field=field, reason="empty")
    if len(value) > max_length:
        raise error(
            f"{field} is too long", field=field, reason=f"longer than {max_length} characters"
        )
    if _CONTROL_CHARS.search(value):
        raise error(f"{field} has control characters", field=field, reason="control characters")
    if scan_card_numbers and contains_card_number(value):
        raise CardDataRefusedError(f"{field} looks like it holds a card number", field=field)
    return value


def _identifier(value: object, field: str) -> str:
    return check_free_text(
        value, field=field, max_length=MAX_REFERENCE_LENGTH, scan_card_numbers=False
    )


def _check_key(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        raise PaymentFieldError(
            "an idempotency key is 1 to 255 characters of text",
            field="idempotency_key",
            reason=f"length must be 1..{MAX_IDEMPOTENCY_KEY_LENGTH}",
        )
    if not all(" " <= ch <= "~" for ch in value) or value != value.strip():
        raise PaymentFieldError(
            "an idempotency key is printable ASCII without surrounding spaces",
            field="idempotency_key",
            reason="not printable ASCII",
        )
    return value


# --------------------------------------------------------------------------- enums


class PaymentMethod(StrEnum):
    """How the payer pays. Only tokens or opaque references are ever stored with it."""

    CARD = "card"
    WALLET = "wallet"
    BANK_TRANSFER = "bank_transfer"
    DIRECT_DEBIT = "direct_debit"
    CASH_ON_DELIVERY = "cash_on_delivery"
    STORE_CREDIT = "store_credit"
    OTHER = "other"


class TransactionKind(StrEnum):
    """What a gateway transaction asks for (Kill Bill's transaction types, minus credit)."""

    AUTHORIZE = "authorize"
    CAPTURE = "capture"
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"


class DeclineReason(StrEnum):
    """Why a gateway refused, normalised across gateways."""

    INSUFFICIENT_FUNDS = "insufficient_funds"
    CARD_DECLINED = "card_declined"
    EXPIRED_CARD = "expired_card"
    FRAUD_SUSPECTED = "fraud_suspected"
    DO_NOT_HONOR = "do_not_honor"
    PROCESSING_ERROR = "processing_error"
    OTHER = "other"

    @classmethod
    def from_code(cls, code: str) -> DeclineReason:
        """Normalise a gateway's code; anything unrecognised is :attr:`OTHER`.

        >>> DeclineReason.from_code("Insufficient-Funds"), DeclineReason.from_code("x99")
        (<DeclineReason.INSUFFICIENT_FUNDS: 'insufficient_funds'>, <DeclineReason.OTHER: 'other'>)
        """
        key = code.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            return cls.OTHER


class ChargeStatus(StrEnum):
    """How much of the amount due has been charged, net of refunds (as Saleor computes it)."""

    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"
    OVERCHARGED = "overcharged"


def compute_charge_status(charged: Money, total: Money) -> ChargeStatus:
    """Charge status of ``charged`` (net of refunds) against ``total`` due.

    Works across several payments of one order: sum what each charged first.

    Raises:
        CurrencyMismatchError: the amounts are in different currencies.

    >>> compute_charge_status(Money("60", "EUR"), Money("100", "EUR"))
    <ChargeStatus.PARTIAL: 'partial'>
    """
    if charged > total:
        return ChargeStatus.OVERCHARGED
    if not charged.is_positive():
        return ChargeStatus.NONE
    if charged == total:
        return ChargeStatus.FULL
    return ChargeStatus.PARTIAL


def _to_method(value: str) -> PaymentMethod:
    try:
        return PaymentMethod(value)
    except ValueError:
        raise PaymentFieldError(
            "unknown payment method", field="method", reason=f"{value!r} is not a method"
        ) from None


def _to_kind(value: str) -> TransactionKind:
    try:
        return TransactionKind(value)
    except ValueError:
        raise PaymentFieldError(
            "unknown transaction kind", field="kind", reason=f"{value!r} is not a kind"
        ) from None


def _to_reason(value: str) -> DeclineReason:
    try:
        return DeclineReason(value)
    except ValueError:
        raise PaymentFieldError(
            "unknown decline reason",
            field="reason",
            reason=f"{value!r}; use DeclineReason.from_code() to normalise gateway codes",
        ) from None


# --------------------------------------------------------------------------- validators


def _positive_money(_instance: object, attribute: attrs.Attribute[Any], value: Money) -> None:
    require_amount(value, attribute.name)


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise PaymentFieldError(
            f"{attribute.name} must be a timezone-aware datetime",
            field=attribute.name,
            reason="naive or not a datetime",
        )


def _check_now(now: object) -> datetime:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise PaymentFieldError(
            "now must be a timezone-aware datetime", field="now", reason="naive or not a datetime"
        )
    return now


def _id_field(field: str) -> _Validator:
    def check(_instance: object, _attribute: object, value: object) -> None:
        _identifier(value, field)

    return check


def _optional_id_field(field: str) -> _Validator:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None:
            _identifier(value, field)

    return check


def _member_of(enum: type[StrEnum], *, optional: bool = False) -> _Validator:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if (value is None and optional) or (isinstance(value, enum)):
            return
        raise PaymentFieldError(
            f"{attribute.name} must be a {enum.__name__}",
            field=attribute.name,
            reason=f"{value!r} is not a {enum.__name__}",
        )

    return check


def _check_token(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None:
        check_free_text(value, field="method_token", max_length=MAX_REFERENCE_LENGTH)


def _check_key_field(_instance: object, _attribute: object, value: str) -> None:
    _check_key(value)


# --------------------------------------------------------------------------- outcomes


def _optional_money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, Money):
        raise PaymentFieldError(
            f"{attribute.name} must be Money or None",
            field=attribute.name,
            reason=type(value).__name__,
        )


@attrs.frozen
class Succeeded:
    """The gateway confirmed the transaction.

    Args:
        gateway_reference: The gateway's id for it, if given.
        amount: What the gateway says it moved, when it says; None means exactly the
            amount requested. An amount other than the requested one is not booked:
            the engine records the answer as :class:`Unknown` (and the reconciler
            flags the payment for a person if the gateway's ``status`` says so too).
    """

    event: ClassVar[TransactionEvent] = TransactionEvent.SUCCEED
    gateway_reference: str | None = attrs.field(
        default=None, validator=_optional_id_field("gateway_reference")
    )
    amount: Money | None = attrs.field(default=None, validator=_optional_money)


@attrs.frozen
class Failed:
    """The gateway definitively refused the transaction.

    Args:
        reason: Why, normalised (see :meth:`DeclineReason.from_code`).
        gateway_reference: The gateway's id for it, if given.
    """

    event: ClassVar[TransactionEvent] = TransactionEvent.FAIL
    reason: DeclineReason = attrs.field(converter=_to_reason)
    gateway_reference: str | None = attrs.field(
        default=None, validator=_optional_id_field("gateway_reference")
    )


@attrs.frozen
class Pending:
    """The gateway accepted the transaction and will answer later.

    Args:
        gateway_reference: The gateway's id for it, if given.
    """

    event: ClassVar[TransactionEvent] = TransactionEvent.DEFER
    gateway_reference: str | None = attrs.field(
        default=None, validator=_optional_id_field("gateway_reference")
    )


@attrs.frozen
class Unknown:
    """No readable answer (timeout, garbled reply): the money may or may not have moved."""

    event: ClassVar[TransactionEvent] = TransactionEvent.TIME_OUT
    gateway_reference: ClassVar[None] = None


#: What a gateway said about one transaction. Business outcomes are values, not exceptions.
Outcome: TypeAlias = Succeeded | Failed | Pending | Unknown


def _outcome_name(outcome: Outcome) -> str:
    return type(outcome).__name__.lower()


def _contradicts(state: TransactionState, outcome: Outcome) -> bool:
    # Pending or unknown after a final answer is stale, not contradictory: webhooks
    # arrive out of order and a re-ask may time out.
    return (state is TransactionState.SUCCEEDED and isinstance(outcome, Failed)) or (
        state is TransactionState.FAILED and isinstance(outcome, Succeeded)
    )


# --------------------------------------------------------------------------- transaction


@attrs.frozen
class PaymentTransaction:
    """One gateway call and what came of it.

    Args:
        id: Caller-given id.
        kind: What it asks for.
        amount: Positive, in whole minor units.
        idempotency_key: Client-made key (1-255 printable ASCII) every call and re-ask
            carries, so the gateway executes it at most once.
        requested_at: When it was requested.
        state: Where it stands in :data:`~o2c.lifecycles.TRANSACTION_WORKFLOW`.
        gateway_reference: The gateway's id for it, once known.
        decline_reason: Set exactly when it failed.
        resolved_at: Set exactly when it reached a final state.
        attempts: Gateway answers recorded so far (timeouts included).
        last_attempt_at: When the last answer was recorded (None before the first).
    """

    id: str = attrs.field(validator=_id_field("transaction_id"))
    kind: TransactionKind = attrs.field(converter=_to_kind)
    amount: Money = attrs.field(validator=_positive_money)
    idempotency_key: str = attrs.field(validator=_check_key_field)
    requested_at: datetime = attrs.field(validator=_aware)
    state: TransactionState = attrs.field(
        default=TransactionState.REQUESTED, validator=_member_of(TransactionState)
    )
    gateway_reference: str | None = attrs.field(
        default=None, validator=_optional_id_field("gateway_reference")
    )
    decline_reason: DeclineReason | None = attrs.field(
        default=None, validator=_member_of(DeclineReason, optional=True)
    )
    resolved_at: datetime | None = attrs.field(default=None, validator=_aware)
    attempts: int = 0
    last_attempt_at: datetime | None = attrs.field(default=None, validator=_aware)

    def __attrs_post_init__(self) -> None:
        final = TRANSACTION_WORKFLOW.is_final(self.state)
        failed = self.state is TransactionState.FAILED
        if (self.decline_reason is not None) != failed:
            raise PaymentFieldError(
                "a decline reason is set exactly when the transaction failed",
                field="decline_reason",
                reason=f"state {self.state.value}",
            )
        if (self.resolved_at is not None) != final:
            raise PaymentFieldError(
                "resolved_at is set exactly when the transaction is final",
                field="resolved_at",
                reason=f"state {self.state.value}",
            )
        if (
            isinstance(self.attempts, bool)
            or not isinstance(self.attempts, int)
            or self.attempts < 0
            or (self.attempts == 0) != (self.last_attempt_at is None)
        ):
            raise PaymentFieldError(
                "attempts is a count, with last_attempt_at set once it is positive",
                field="attempts",
                reason=f"{self.attempts!r}",
            )

    @property
    def is_final(self) -> bool:
        """True once succeeded or failed; a final transaction never changes again."""
        return TRANSACTION_WORKFLOW.is_final(self.state)

    @property
    def in_flight(self) -> bool:
        """True while requested, pending or unknown: the money may still move."""
        return not self.is_final

    def _answered(self, outcome: Outcome, now: datetime) -> PaymentTransaction:
        """This transaction after recording one more answer (state unchanged)."""
        return evolved(
            self,
            attempts=self.attempts + 1,
            last_attempt_at=now,
            gateway_reference=outcome.gateway_reference or self.gateway_reference,
        )


# --------------------------------------------------------------------------- payment


def _tx_tuple(value: Iterable[PaymentTransaction]) -> tuple[PaymentTransaction, ...]:
    return tuple(value)


def _check_attention(_instance: object, _attribute: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, PaymentAttention):
        raise PaymentFieldError(
            "attention must be a PaymentAttention or None",
            field="attention",
            reason=type(value).__name__,
        )


_AUTHORIZING: Final = frozenset({TransactionKind.AUTHORIZE, TransactionKind.SALE})
_CAPTURING: Final = frozenset({TransactionKind.CAPTURE, TransactionKind.SALE})


@attrs.frozen
class Payment:
    """A payment through one method, with every gateway transaction made for it.

    Amounts are derived from the *succeeded* transactions, never stored. Build one
    with :func:`create_payment`; change it only with :meth:`request` and
    :meth:`resolve`.

    Args:
        id: Caller-given id.
        amount: What the payment is meant to collect (positive, whole minor units).
        method: How the payer pays.
        created_at: When it was opened.
        order_id: The order paid, if any.
        customer_id: The paying customer, if known.
        method_token: The gateway's token for the payer's instrument (never a card number).
        gateway: The name of the gateway the payment runs on, if any.
        state: Where it stands in :data:`~o2c.lifecycles.PAYMENT_WORKFLOW`.
        transactions: Every transaction, in request order.
        attention: Set while the payment is flagged for a person (see
            :mod:`o2c.reconciliation`); nobody asks the gateway about it meanwhile.
    """

    id: str = attrs.field(validator=_id_field("payment_id"))
    amount: Money = attrs.field(validator=_positive_money)
    method: PaymentMethod = attrs.field(converter=_to_method)
    created_at: datetime = attrs.field(validator=_aware)
    order_id: str | None = attrs.field(default=None, validator=_optional_id_field("order_id"))
    customer_id: str | None = attrs.field(default=None, validator=_optional_id_field("customer_id"))
    method_token: str | None = attrs.field(default=None, validator=_check_token)
    gateway: str | None = attrs.field(default=None, validator=_optional_id_field("gateway"))
    state: PaymentState = attrs.field(default=PaymentState.NEW, validator=_member_of(PaymentState))
    transactions: tuple[PaymentTransaction, ...] = attrs.field(default=(), converter=_tx_tuple)
    attention: PaymentAttention | None = attrs.field(default=None, validator=_check_attention)

    def __attrs_post_init__(self) -> None:
        ids: set[str] = set()
        keys: set[str] = set()
        for tx in self.transactions:
            if not isinstance(tx, PaymentTransaction):
                raise PaymentFieldError(
                    "transactions must be PaymentTransaction values",
                    field="transactions",
                    reason=type(tx).__name__,
                )
            if tx.amount.currency != self.amount.currency:
                raise PaymentFieldError(
                    "every transaction is in the payment's currency",
                    field="transactions",
                    reason=f"{tx.id} is in {tx.amount.currency}",
                )
            if tx.id in ids or tx.idempotency_key in keys:
                raise PaymentFieldError(
                    "transaction ids and idempotency keys are unique within a payment",
                    field="transactions",
                    reason=f"{tx.id} repeats an id or a key",
                )
            ids.add(tx.id)
            keys.add(tx.idempotency_key)
        if self.attention is not None and self.attention.transaction_id not in ids:
            raise PaymentFieldError(
                "a flag is about one of the payment's transactions",
                field="attention",
                reason=f"no transaction {self.attention.transaction_id!r}",
            )

    # -- derived amounts ----------------------------------------------------------

    @property
    def currency(self) -> str:
        """The payment's currency."""
        return self.amount.currency

    def _succeeded_sum(self, kinds: frozenset[TransactionKind]) -> Money:
        return money_sum(
            (
                t.amount
                for t in self.transactions
                if t.kind in kinds and t.state is TransactionState.SUCCEEDED
            ),
            self.currency,
        )

    @property
    def authorized(self) -> Money:
        """Succeeded authorizations and sales (a sale authorizes what it captures)."""
        return self._succeeded_sum(_AUTHORIZING)

    @property
    def captured(self) -> Money:
        """Succeeded captures and sales."""
        return self._succeeded_sum(_CAPTURING)

    @property
    def voided(self) -> Money:
        """Authorizations released by succeeded voids."""
        return self._succeeded_sum(frozenset({TransactionKind.VOID}))

    @property
    def refunded(self) -> Money:
        """Succeeded refunds."""
        return self._succeeded_sum(frozenset({TransactionKind.REFUND}))

    @property
    def refundable(self) -> Money:
        """Captured minus refunded: what may still be given back."""
        return self.captured - self.refunded

    @property
    def capturable(self) -> Money:
        """Authorized minus captured minus voided, while the payment accepts a capture.

        The payment table allows one capture per authorization (Stripe's default):
        once a capture succeeds, the gateway releases the rest (see :attr:`released`)
        and nothing is capturable any more.
        """
        if self.state is PaymentState.NEW or not PAYMENT_WORKFLOW.can(
            self.state, PaymentEvent.CAPTURE
        ):
            return Money.zero(self.currency)
        return self.authorized - self.captured - self.voided

    @property
    def released(self) -> Money:
        """Authorization left over after a partial capture, released by the gateway."""
        return self.authorized - self.captured - self.voided - self.capturable

    @property
    def charged(self) -> Money:
        """Captured net of refunds."""
        return self.refundable

    @property
    def charge_status(self) -> ChargeStatus:
        """Net charged against :attr:`amount`: none, partial, full or overcharged."""
        return compute_charge_status(self.charged, self.amount)

    # -- lookups ------------------------------------------------------------------

    @property
    def in_flight(self) -> tuple[PaymentTransaction, ...]:
        """Transactions without a final answer (requested, pending or unknown)."""
        return tuple(t for t in self.transactions if t.in_flight)

    def transaction(self, transaction_id: str) -> PaymentTransaction:
        """The transaction with this id.

        Raises:
            NotFoundError: the payment has no such transaction.
        """
        for tx in self.transactions:
            if tx.id == transaction_id:
                return tx
        raise NotFoundError(kind="payment_transaction", id=transaction_id)

    def transaction_for_key(self, idempotency_key: str) -> PaymentTransaction | None:
        """The transaction requested under this key, if any."""
        for tx in self.transactions:
            if tx.idempotency_key == idempotency_key:
                return tx
        return None

    # -- request ------------------------------------------------------------------

    def request(
        self,
        *,
        transaction_id: str,
        kind: TransactionKind | str,
        amount: Money,
        idempotency_key: str,
        now: datetime,
    ) -> tuple[Payment, PaymentTransaction, Events]:
        """Record a gateway transaction before calling the gateway.

        A request under a key already used with the same kind and amount is a replay:
        the existing transaction is returned, whatever its state, with the payment
        unchanged and no events (the id given is then ignored). The replay check comes
        before validation, as at Stripe: a request that once passed is answered even
        if it would not pass now.

        Args:
            transaction_id: Id for the new transaction.
            kind: What to ask the gateway for.
            amount: Positive, whole minor units, in the payment's currency. A void must
                name the whole open authorization (:attr:`capturable`).
            idempotency_key: Client-made key, unique within the payment.
            now: When, timezone-aware.

        Returns:
            ``(payment, transaction, events)``; the transaction is in state *requested*
            unless this was a replay.

        Raises:
            IdempotencyConflictError: the key was used with another kind, currency or
                amount (``field`` names which).
            DuplicateTransactionIdError: the id is taken by another key.
            TransactionNotAllowedError: the payment's state forbids this kind.
            TransactionInFlightError: another transaction has no final answer yet
                (refunds may run side by side, within the refundable amount).
            PaymentLimitExceededError: more than capturable or refundable.
            InvalidAmountError: amount not positive Money in whole minor units.
            CurrencyMismatchError: amount in another currency.
            PaymentFieldError: malformed id, key or kind, or a void of less than the
                open authorization.
        """
        now = _check_now(now)
        kind = _to_kind(kind)
        key = _check_key(idempotency_key)
        if not isinstance(amount, Money):
            raise InvalidAmountError(value=amount, reason="amount must be Money")
        existing = self.transaction_for_key(key)
        if existing is not None:
            return self._replay(existing, kind, amount), existing, ()
        if any(t.id == transaction_id for t in self.transactions):
            raise DuplicateTransactionIdError(payment_id=self.id, transaction_id=transaction_id)
        tx = PaymentTransaction(
            id=transaction_id, kind=kind, amount=amount, idempotency_key=key, requested_at=now
        )
        if amount.currency != self.currency:
            raise CurrencyMismatchError(left=self.currency, right=amount.currency)
        self._check_allowed(kind, amount)
        updated = evolved(self, transactions=(*self.transactions, tx))
        event = PaymentRequested(
            aggregate_id=self.id,
            occurred_at=now,
            transaction_id=tx.id,
            kind=kind.value,
            amount=amount,
            idempotency_key=key,
        )
        return updated, tx, (event,)

    def _replay(
        self, existing: PaymentTransaction, kind: TransactionKind, amount: Money
    ) -> Payment:
        key = existing.idempotency_key
        if existing.kind is not kind:
            raise IdempotencyConflictError(
                f"key {key!r} was used for a {existing.kind.value}, not a {kind.value}",
                key=key,
                field="kind",
            )
        if existing.amount.currency != amount.currency:
            raise IdempotencyConflictError(
                f"key {key!r} was used for an amount in {existing.amount.currency}",
                key=key,
                field="currency",
            )
        if existing.amount != amount:
            raise IdempotencyConflictError(
                f"key {key!r} was used for {existing.amount}, not {amount}",
                key=key,
                field="amount",
            )
        return self

    def _refuse(self, kind: TransactionKind, reason: str) -> TransactionNotAllowedError:
        return TransactionNotAllowedError(
            f"cannot {kind.value} a payment in state '{self.state.value}': {reason}",
            payment_id=self.id,
            kind=kind.value,
            state=self.state.value,
            reason=reason,
        )

    def _check_allowed(self, kind: TransactionKind, amount: Money) -> None:
        state = self.state
        if kind is TransactionKind.AUTHORIZE and not PAYMENT_WORKFLOW.can(
            state, PaymentEvent.AUTHORIZE
        ):
            raise self._refuse(kind, "only a new payment can be authorized")
        if kind is TransactionKind.SALE and state is not PaymentState.NEW:
            raise self._refuse(kind, "a sale authorizes and captures a new payment only")
        if kind is TransactionKind.CAPTURE and (
            state is PaymentState.NEW or not PAYMENT_WORKFLOW.can(state, PaymentEvent.CAPTURE)
        ):
            raise self._refuse(kind, "only an open authorization can be captured; use a sale")
        if kind is TransactionKind.VOID and (
            not PAYMENT_WORKFLOW.can(state, PaymentEvent.VOID) or not self.captured.is_zero()
        ):
            raise self._refuse(kind, "only an authorization with nothing captured can be voided")
        if kind is TransactionKind.REFUND and not PAYMENT_WORKFLOW.can(
            state, PaymentEvent.REFUND_PARTIALLY
        ):
            raise self._refuse(kind, "only captured money can be refunded")

        # Refunds may run side by side (bank refunds stay pending for days); anything
        # else waits for every in-flight transaction, and refunds wait for the others.
        for other in self.in_flight:
            if kind is not TransactionKind.REFUND or other.kind is not TransactionKind.REFUND:
                raise TransactionInFlightError(
                    f"transaction {other.id!r} ({other.kind.value}) has no final answer yet",
                    payment_id=self.id,
                    transaction_id=other.id,
                    kind=other.kind.value,
                )

        if kind is TransactionKind.CAPTURE:
            self._check_limit(kind, amount, "capturable", self.capturable)
        elif kind is TransactionKind.VOID:
            self._check_limit(kind, amount, "capturable", self.capturable)
            if amount != self.capturable:
                raise PaymentFieldError(
                    f"a void releases the whole open authorization of {self.capturable}",
                    field="amount",
                    reason=f"{amount} is less than the open authorization",
                )
        elif kind is TransactionKind.REFUND:
            reserved = money_sum((t.amount for t in self.in_flight), self.currency)
            self._check_limit(kind, amount, "refundable", self.refundable - reserved)
        # Authorizations and sales are not bounded by the payment's amount: an
        # over-authorization is legitimate and shows as charge status "overcharged".

    def _check_limit(
        self, kind: TransactionKind, amount: Money, limit: str, available: Money
    ) -> None:
        if amount > available:
            raise PaymentLimitExceededError(
                f"{kind.value} of {amount} exceeds the {limit} {available}",
                payment_id=self.id,
                kind=kind.value,
                amount=amount,
                limit=limit,
                available=available,
            )

    # -- resolve ------------------------------------------------------------------

    def resolve(
        self, transaction_id: str, outcome: Outcome, now: datetime
    ) -> tuple[Payment, Events]:
        """Record what the gateway said about a transaction.

        * A final transaction never changes: an agreeing or stale answer (the same
          final answer again, or pending/unknown after it) returns the payment
          unchanged with no events; a contradicting one raises.
        * "Still pending" or "still unknown" (and unknown while pending: a re-ask that
          timed out teaches nothing) only counts the attempt, for the backoff.
        * Otherwise the transaction moves through TRANSACTION_WORKFLOW; a success
          moves the payment (authorize, capture, void, refund or refund_partially);
          a failed authorization or sale declines it. A failed capture, void or
          refund leaves the payment as it was: ask again under a new key.

        Args:
            transaction_id: The transaction answered.
            outcome: :class:`Succeeded`, :class:`Failed`, :class:`Pending` or :class:`Unknown`.
            now: When the answer was recorded, timezone-aware.

        Returns:
            ``(payment, events)``.

        Raises:
            NotFoundError: no such transaction.
            ContradictoryOutcomeError: the answer contradicts a final state.
            PaymentFieldError: ``outcome`` is not an outcome, or ``now`` is naive.
            InvalidTransitionError: the payment table refuses the move (only for
                hand-built, inconsistent payments).
        """
        now = _check_now(now)
        if not isinstance(outcome, Succeeded | Failed | Pending | Unknown):
            raise PaymentFieldError(
                "not a gateway outcome", field="outcome", reason=type(outcome).__name__
            )
        tx = self.transaction(transaction_id)
        if tx.is_final:
            if _contradicts(tx.state, outcome):
                raise ContradictoryOutcomeError(
                    f"transaction {tx.id!r} already {tx.state.value}; "
                    f"the gateway now says {_outcome_name(outcome)}",
                    transaction_id=tx.id,
                    state=tx.state.value,
                    outcome=_outcome_name(outcome),
                )
            return self, ()
        answered = tx._answered(outcome, now)
        if not TRANSACTION_WORKFLOW.can(tx.state, outcome.event):
            return self._with(answered), ()
        new_state = TRANSACTION_WORKFLOW.apply(tx.state, outcome.event)
        reason = outcome.reason if isinstance(outcome, Failed) else None
        moved = evolved(
            answered,
            state=new_state,
            decline_reason=reason,
            resolved_at=now if TRANSACTION_WORKFLOW.is_final(new_state) else None,
        )
        updated = self._with(moved)
        events: list[DomainEvent] = [_transaction_event(self.id, moved, now)]
        payment_event = _payment_event(updated, moved)
        if payment_event is not None:
            updated = evolved(updated, state=PAYMENT_WORKFLOW.apply(self.state, payment_event))
            events.append(_payment_moved_event(updated, moved, now))
        return updated, tuple(events)

    def _with(self, tx: PaymentTransaction) -> Payment:
        return evolved(
            self, transactions=tuple(tx if t.id == tx.id else t for t in self.transactions)
        )


def _transaction_event(payment_id: str, tx: PaymentTransaction, now: datetime) -> DomainEvent:
    if tx.state is TransactionState.SUCCEEDED:
        return PaymentTransactionSucceeded(
            aggregate_id=payment_id,
            occurred_at=now,
            transaction_id=tx.id,
            kind=tx.kind.value,
            amount=tx.amount,
            gateway_reference=tx.gateway_reference,
        )
    if tx.state is TransactionState.FAILED:
        return PaymentTransactionFailed(
            aggregate_id=payment_id,
            occurred_at=now,
            transaction_id=tx.id,
            kind=tx.kind.value,
            amount=tx.amount,
            # A failed transaction always carries its reason (checked on construction).
            reason=cast(DeclineReason, tx.decline_reason).value,
        )
    cls = (
        PaymentTransactionPending
        if tx.state is TransactionState.PENDING
        else PaymentTransactionUnknown
    )
    return cls(
        aggregate_id=payment_id,
        occurred_at=now,
        transaction_id=tx.id,
        kind=tx.kind.value,
        amount=tx.amount,
    )


def _payment_event(updated: Payment, tx: PaymentTransaction) -> PaymentEvent | None:
    """The payment event a final transaction causes (``updated`` already holds it)."""
    if tx.state is TransactionState.FAILED:
        return PaymentEvent.DECLINE if tx.kind in _AUTHORIZING else None
    if tx.state is not TransactionState.SUCCEEDED:
        return None
    if tx.kind is TransactionKind.AUTHORIZE:
        return PaymentEvent.AUTHORIZE
    if tx.kind in _CAPTURING:
        return PaymentEvent.CAPTURE
    if tx.kind is TransactionKind.VOID:
        return PaymentEvent.VOID
    if updated.refundable.is_zero():
        return PaymentEvent.REFUND
    return PaymentEvent.REFUND_PARTIALLY


def _payment_moved_event(updated: Payment, tx: PaymentTransaction, now: datetime) -> DomainEvent:
    pid, tid = updated.id, tx.id
    if tx.state is TransactionState.FAILED:
        reason = cast(DeclineReason, tx.decline_reason).value
        return PaymentDeclined(aggregate_id=pid, occurred_at=now, transaction_id=tid, reason=reason)
    if tx.kind is TransactionKind.AUTHORIZE:
        return PaymentAuthorized(
            aggregate_id=pid, occurred_at=now, transaction_id=tid, amount=tx.amount
        )
    if tx.kind in _CAPTURING:
        return PaymentCaptured(
            aggregate_id=pid,
            occurred_at=now,
            transaction_id=tid,
            amount=tx.amount,
            captured_total=updated.captured,
        )
    if tx.kind is TransactionKind.VOID:
        return PaymentVoided(
            aggregate_id=pid, occurred_at=now, transaction_id=tid, amount=tx.amount
        )
    return PaymentRefunded(
        aggregate_id=pid,
        occurred_at=now,
        transaction_id=tid,
        amount=tx.amount,
        refunded_total=updated.refunded,
        fully_refunded=updated.refundable.is_zero(),
    )


def create_payment(
    *,
    payment_id: str,
    amount: Money,
    method: PaymentMethod | str,
    now: datetime,
    order_id: str | None = None,
    customer_id: str | None = None,
    method_token: str | None = None,
    gateway: str | None = None,
) -> tuple[Payment, Events]:
    """Open a payment in state *new*.

    Args:
        payment_id: Caller-given id.
        amount: What the payment should collect (positive, whole minor units).
        method: How the payer pays.
        now: When, timezone-aware.
        order_id: The order paid, if any.
        customer_id: The paying customer, if known.
        method_token: The gateway's token for the payer's instrument.
        gateway: The gateway it runs on.

    Returns:
        ``(payment, (PaymentCreated,))``.

    Raises:
        InvalidAmountError: the amount is not positive Money in whole minor units.
        PaymentFieldError: a malformed id, method or time.
        CardDataRefusedError: ``method_token`` looks like a card number.
    """
    now = _check_now(now)
    payment = Payment(
        id=payment_id,
        amount=amount,
        method=method,
        created_at=now,
        order_id=order_id,
        customer_id=customer_id,
        method_token=method_token,
        gateway=gateway,
    )
    event = PaymentCreated(
        aggregate_id=payment.id,
        occurred_at=now,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        method=payment.method.value,
        amount=payment.amount,
    )
    return payment, (event,)


# --------------------------------------------------------------------------- reconciliation


def needs_reconciliation(payment: Payment) -> tuple[PaymentTransaction, ...]:
    """Transactions left pending or unknown: the reconciler must ask the gateway again.

    Re-asking always uses the transaction's own idempotency key, never a new charge.
    """
    waiting = {TransactionState.PENDING, TransactionState.UNKNOWN}
    return tuple(t for t in payment.transactions if t.state in waiting)


def _check_schedule(schedule: Sequence[timedelta]) -> None:
    if not schedule or not all(
        isinstance(step, timedelta) and step > timedelta(0) for step in schedule
    ):
        raise PaymentFieldError(
            "a reconciliation schedule is one or more positive timedeltas",
            field="schedule",
            reason="empty, or a step is not a positive timedelta",
        )


def next_attempt_at(
    transaction: PaymentTransaction,
    schedule: Sequence[timedelta] = DEFAULT_RECONCILIATION_SCHEDULE,
) -> datetime | None:
    """When to ask the gateway about ``transaction`` next; None once it is final.

    The n-th delay of ``schedule`` follows the n-th recorded answer (the last delay
    repeats); a transaction never answered waits the first delay after its request.
    With the default: 5 minutes, 1 hour, then daily.

    Raises:
        PaymentFieldError: the schedule is empty or has a non-positive step.
    """
    _check_schedule(schedule)
    if transaction.is_final:
        return None
    base = transaction.last_attempt_at or transaction.requested_at
    step = schedule[min(max(transaction.attempts - 1, 0), len(schedule) - 1)]
    return base + step


def due_for_reconciliation(
    payment: Payment,
    now: datetime,
    schedule: Sequence[timedelta] = DEFAULT_RECONCILIATION_SCHEDULE,
) -> tuple[PaymentTransaction, ...]:
    """In-flight transactions whose next attempt is due at ``now``.

    Unlike :func:`needs_reconciliation` this includes *requested* transactions that
    were never answered (the process died between request and answer), once the
    first delay has passed.

    Raises:
        PaymentFieldError: naive ``now`` or a bad schedule.
    """
    now = _check_now(now)
    _check_schedule(schedule)
    due: list[PaymentTransaction] = []
    for tx in payment.in_flight:
        at = next_attempt_at(tx, schedule)
        if at is not None and at <= now:
            due.append(tx)
    return tuple(due)
