"""Reconciling gateway payments: checking answers, giving up, flagging for a person.

The pure half of the payment reconciler (the engine's half is
:mod:`o2c.engine.reconcile`):

* :func:`check_answer` turns whatever a gateway adapter returned into an
  :data:`~o2c.payments.Outcome` the payment may record. Anything that is not an
  outcome (``None``, a string, an exception the engine caught) and a
  :class:`~o2c.payments.Succeeded` whose amount differs from the one requested are
  *unknown*: the money may have moved, but not as o2c asked, so nothing is booked.
* :func:`gave_up` says when the reconciler stops asking about a transaction.
* :func:`flag` and :func:`clear_attention` set and close a payment's
  :class:`~o2c.attention.PaymentAttention` (a person must look).

The schedule itself (5 minutes, 1 hour, then daily) is
:func:`o2c.payments.next_attempt_at` and :func:`o2c.payments.due_for_reconciliation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import attrs

from o2c._evolve import evolved
from o2c.attention import MAX_DETAIL_LENGTH, AttentionReason, PaymentAttention
from o2c.errors import PaymentFieldError
from o2c.events import DomainEvent, PaymentFlagCleared, PaymentFlagged
from o2c.payments import (
    Failed,
    Outcome,
    Payment,
    PaymentTransaction,
    Pending,
    Succeeded,
    Unknown,
    check_free_text,
    redact_card_numbers,
)

__all__ = [
    "AttentionReason",
    "CheckedAnswer",
    "PaymentAttention",
    "check_answer",
    "clear_attention",
    "flag",
    "gave_up",
]

Events: TypeAlias = tuple[DomainEvent, ...]

#: Longest name accepted for the person who closes a flag.
MAX_BY_LENGTH = 200


@attrs.frozen
class CheckedAnswer:
    """What a gateway's answer means for the transaction it answers.

    Attributes:
        outcome: The outcome to record (:class:`~o2c.payments.Unknown` when the
            answer was unusable).
        problem: Why the answer was unusable, in words; None when it was fine.
        amount_mismatch: True when the gateway said it moved another amount.
    """

    outcome: Outcome
    problem: str | None = None
    amount_mismatch: bool = False


def check_answer(transaction: PaymentTransaction, answer: object) -> CheckedAnswer:
    """Check a gateway's answer against the transaction it answers.

    Args:
        transaction: The transaction asked about.
        answer: What the adapter returned.

    Returns:
        The answer itself when it is an outcome that fits the request; otherwise
        :class:`~o2c.payments.Unknown` with the problem.

    >>> from datetime import UTC, datetime
    >>> from o2c.money import Money
    >>> tx = PaymentTransaction(id="T1", kind="capture", amount=Money("10.00", "EUR"),
    ...                         idempotency_key="k", requested_at=datetime(2026, 1, 1, tzinfo=UTC))
    >>> check_answer(tx, Succeeded("r1", amount=Money("9.99", "EUR"))).amount_mismatch
    True
    >>> check_answer(tx, None).problem
    'the gateway answered NoneType, not an outcome'
    """
    if not isinstance(answer, Succeeded | Failed | Pending | Unknown):
        return CheckedAnswer(
            Unknown(), f"the gateway answered {type(answer).__name__}, not an outcome"
        )
    if (
        isinstance(answer, Succeeded)
        and answer.amount is not None
        and answer.amount != transaction.amount
    ):
        return CheckedAnswer(
            Unknown(),
            f"the gateway says it moved {answer.amount}, not the {transaction.amount} asked for",
            amount_mismatch=True,
        )
    return CheckedAnswer(answer)


def gave_up(transaction: PaymentTransaction, max_attempts: int) -> bool:
    """True when ``transaction`` is still in flight after ``max_attempts`` recorded
    answers (its first answer included): the reconciler stops and flags the payment."""
    return transaction.in_flight and transaction.attempts >= max_attempts


def flag(
    payment: Payment,
    *,
    reason: AttentionReason | str,
    transaction_id: str,
    detail: str,
    now: datetime,
) -> tuple[Payment, Events]:
    """Flag ``payment`` for a person.

    A payment already flagged keeps its first flag (no events): one person looks at
    it, and the first reason is the one that stopped the reconciler.

    Args:
        payment: The payment.
        reason: Why.
        transaction_id: The transaction concerned.
        detail: What was seen; card numbers are redacted and the text is cut to
            :data:`~o2c.attention.MAX_DETAIL_LENGTH` characters.
        now: When, timezone-aware.

    Returns:
        ``(payment, events)``: the flagged payment and a ``PaymentFlagged`` event.

    Raises:
        NotFoundError: the payment has no such transaction.
        PaymentFieldError: an unknown reason, empty detail or naive ``now``.
    """
    if payment.attention is not None:
        return payment, ()
    payment.transaction(transaction_id)
    attention = PaymentAttention(
        reason=reason,
        transaction_id=transaction_id,
        detail=redact_card_numbers(detail)[:MAX_DETAIL_LENGTH],
        flagged_at=now,
    )
    event = PaymentFlagged(
        aggregate_id=payment.id,
        occurred_at=now,
        transaction_id=transaction_id,
        reason=attention.reason.value,
        detail=attention.detail,
    )
    return evolved(payment, attention=attention), (event,)


def clear_attention(
    payment: Payment, *, by: str, note: str, outcome: Outcome | None, now: datetime
) -> tuple[Payment, Events]:
    """Close a payment's flag after a person looked at it.

    Args:
        payment: A flagged payment.
        by: Who looked (1-200 characters).
        note: What they found or did (1-500 characters, no card numbers).
        outcome: The final outcome they recorded for the transaction, if any (the
            caller records it on the payment first).
        now: When, timezone-aware.

    Returns:
        ``(payment, (PaymentFlagCleared,))``.

    Raises:
        PaymentFieldError: the payment is not flagged, or ``by``/``note`` is malformed.
        CardDataRefusedError: ``note`` or ``by`` holds a card number.
    """
    attention = payment.attention
    if attention is None:
        raise PaymentFieldError(
            f"payment {payment.id} is not flagged", field="attention", reason="not flagged"
        )
    by = check_free_text(by, field="by", max_length=MAX_BY_LENGTH)
    note = check_free_text(note, field="note", max_length=MAX_DETAIL_LENGTH)
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise PaymentFieldError(
            "now must be a timezone-aware datetime", field="now", reason="naive or not a datetime"
        )
    event = PaymentFlagCleared(
        aggregate_id=payment.id,
        occurred_at=now,
        transaction_id=attention.transaction_id,
        reason=attention.reason.value,
        by=by,
        note=note,
        outcome=type(outcome).__name__.lower() if outcome is not None else None,
    )
    return evolved(payment, attention=None), (event,)
