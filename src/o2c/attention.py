"""Why a payment needs a person: the flag the reconciler sets when it cannot decide.

A :class:`PaymentAttention` is kept on the :class:`~o2c.payments.Payment` it is
about. While it is set, nobody asks the gateway about the payment automatically;
a person looks at the transaction with the gateway and closes the flag
(:func:`o2c.reconciliation.clear_attention`, ``O2C.resolve_payment_flag``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import attrs

from o2c.errors import PaymentFieldError

__all__ = ["MAX_DETAIL_LENGTH", "AttentionReason", "PaymentAttention"]

#: Longest detail text kept with a flag.
MAX_DETAIL_LENGTH: Final = 500


class AttentionReason(StrEnum):
    """Why a payment was flagged for a person."""

    #: The reconciler asked as often as configured and still has no final answer.
    GAVE_UP = "gave_up"
    #: The gateway answered a final transaction the other way (succeeded, then failed).
    CONTRADICTION = "contradiction"
    #: The gateway says it moved another amount than o2c asked for.
    AMOUNT_MISMATCH = "amount_mismatch"
    #: A final answer arrived but o2c could not book it (its records changed meanwhile).
    BOOKING_FAILED = "booking_failed"


def _to_reason(value: object) -> AttentionReason:
    try:
        return AttentionReason(str(value))
    except ValueError:
        raise PaymentFieldError(
            "unknown attention reason", field="reason", reason=f"{value!r:.40} is not one"
        ) from None


def _check_text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > MAX_DETAIL_LENGTH:
        raise PaymentFieldError(
            f"{attribute.name} must be 1..{MAX_DETAIL_LENGTH} characters of text",
            field=attribute.name,
            reason=f"{type(value).__name__} of the wrong length",
        )


def _check_aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise PaymentFieldError(
            f"{attribute.name} must be a timezone-aware datetime",
            field=attribute.name,
            reason="naive or not a datetime",
        )


@attrs.frozen(kw_only=True)
class PaymentAttention:
    """A payment's flag for a person.

    Args:
        reason: Why it was flagged.
        transaction_id: The transaction concerned.
        detail: What was seen, in words (redacted of card numbers by whoever builds it).
        flagged_at: When, timezone-aware.
    """

    reason: AttentionReason = attrs.field(converter=_to_reason)
    transaction_id: str = attrs.field(validator=_check_text)
    detail: str = attrs.field(validator=_check_text)
    flagged_at: datetime = attrs.field(validator=_check_aware)
