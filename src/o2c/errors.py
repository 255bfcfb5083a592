"""Every error o2c raises, in one hierarchy with one root.

Each error has a stable ``code`` (for hosts that map errors to responses without
matching strings), keyword fields that are also attributes, and a ``hint`` that
says what to do about it. ``str(error)`` is built from those three.

Families:

* :class:`DomainError`: the request breaks a business rule or the input is bad.
  Retrying the same request will fail again.
* :class:`ConflictError`: the request collides with something already recorded
  (an idempotency key reused with another payload, a stale version).
* :class:`AdapterError`: infrastructure (storage, gateway, carrier) failed;
  ``retryable`` says whether trying again may help.
* :class:`PluginError`: a plugin could not be loaded or registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "AdapterError",
    "AllocationError",
    "AmountParseError",
    "ConflictError",
    "CurrencyMismatchError",
    "DomainError",
    "GuardRejectedError",
    "IdempotencyConflictError",
    "InvalidAmountError",
    "InvalidTransitionError",
    "MoneyError",
    "NotFoundError",
    "O2CError",
    "PluginError",
    "UnknownCurrencyError",
    "ValidationError",
    "WorkflowDefinitionError",
]

_MAX_FIELD_REPR = 80


def _short(value: object) -> str:
    """Repr of a field, cut so that hostile input cannot flood a log line."""
    text = repr(value)
    if len(text) > _MAX_FIELD_REPR:
        return text[: _MAX_FIELD_REPR - 3] + "..."
    return text


class O2CError(Exception):
    """Root of every error o2c raises.

    Args:
        message: What went wrong, in one sentence. Defaults to the class's ``summary``.
        **fields: Facts about the failure; each becomes an attribute of the error.
    """

    code: ClassVar[str] = "o2c.error"
    summary: ClassVar[str] = "o2c failed"
    hint: ClassVar[str] = ""

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        self.message = message or self.summary
        self.fields: dict[str, Any] = dict(fields)
        for name, value in fields.items():
            setattr(self, name, value)
        super().__init__(self.message)

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.fields:
            text += " (" + ", ".join(f"{k}={_short(v)}" for k, v in self.fields.items()) + ")"
        if self.hint:
            text += f". {self.hint}"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (workers); keep fields when pickled.
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[O2CError], message: str, fields: dict[str, Any]) -> O2CError:
    return cls(message, **fields)


# --------------------------------------------------------------------------- families


class DomainError(O2CError):
    """The request breaks a business rule or carries bad input; do not retry it unchanged."""

    code = "domain.error"
    summary = "the request breaks a business rule"


class ConflictError(O2CError):
    """The request collides with state already recorded."""

    code = "conflict"
    summary = "the request conflicts with recorded state"


class AdapterError(O2CError):
    """An adapter (storage, gateway, carrier, ...) failed.

    Attributes:
        retryable: True when the same call may succeed later (timeouts, locks).
    """

    code = "adapter.error"
    summary = "an adapter failed"
    retryable: bool

    def __init__(self, message: str = "", /, *, retryable: bool = False, **fields: Any) -> None:
        super().__init__(message, retryable=retryable, **fields)


class PluginError(O2CError):
    """A plugin could not be loaded, registered or used."""

    code = "plugin.error"
    summary = "a plugin failed"
    hint = "Check the plugin named in the error; disable it to isolate the problem"


class NotFoundError(DomainError):
    """An aggregate the request names does not exist."""

    code = "not_found"
    summary = "no such record"
    kind: str
    id: str


# --------------------------------------------------------------------------- validation


class ValidationError(DomainError):
    """Input failed validation. ``issues`` lists every problem, not just the first.

    Attributes:
        issues: The :class:`o2c.validation.Issue` values that failed.
    """

    code = "validation.failed"
    summary = "the input is not valid"
    hint = "Fix every issue listed and send the request again"
    issues: Sequence[Any]


# --------------------------------------------------------------------------- money


class MoneyError(DomainError):
    """Base for money problems."""

    code = "money.error"
    summary = "invalid money operation"


class UnknownCurrencyError(MoneyError):
    """The currency is not an ISO 4217 code known to the CLDR data babel ships."""

    code = "money.unknown_currency"
    summary = "unknown currency code"
    hint = "Use a three-letter upper-case ISO 4217 code such as 'EUR'"
    currency: object


class CurrencyMismatchError(MoneyError):
    """Two amounts in different currencies were combined."""

    code = "money.currency_mismatch"
    summary = "amounts are in different currencies"
    hint = "Convert one amount explicitly before combining them"
    left: str
    right: str


class InvalidAmountError(MoneyError):
    """An amount is not an exact, finite, bounded decimal (floats are always refused)."""

    code = "money.invalid_amount"
    summary = "invalid amount"
    hint = "Pass a decimal.Decimal, an int or a plain decimal string such as '12.50'"
    value: object
    reason: str


class AmountParseError(InvalidAmountError):
    """A decimal string was refused by the strict parser.

    Attributes:
        text: The text (cut for display).
        position: Zero-based index of the first offending character.
        reason: Why it was refused.
    """

    code = "money.parse_error"
    summary = "not a plain decimal number"
    hint = "Write amounts as ASCII digits with an optional sign and one '.' (e.g. '-1234.50')"
    text: str
    position: int


class AllocationError(MoneyError):
    """An amount cannot be allocated by the ratios given."""

    code = "money.allocation"
    summary = "cannot allocate"
    hint = "Give at least one positive ratio and no negative ones"


# --------------------------------------------------------------------------- workflows


class WorkflowDefinitionError(O2CError):
    """A state-machine table is inconsistent; raised when the table is defined."""

    code = "workflow.definition"
    summary = "invalid workflow table"
    hint = "Fix the transition table; every problem is listed in 'problems'"
    workflow: str
    problems: tuple[str, ...]


class InvalidTransitionError(DomainError):
    """An event is not allowed in the aggregate's current state."""

    code = "workflow.invalid_transition"
    summary = "event not allowed in this state"
    hint = "Send one of the allowed events, or bring the aggregate to a state that allows it"
    workflow: str
    state: str
    event: str
    allowed: tuple[str, ...]


class GuardRejectedError(InvalidTransitionError):
    """The transition exists but its guard refused it."""

    code = "workflow.guard_rejected"
    summary = "the transition's guard refused the event"
    guard: str


# --------------------------------------------------------------------------- idempotency


class IdempotencyConflictError(ConflictError):
    """An idempotency key was reused with a different request."""

    code = "idempotency.conflict"
    summary = "idempotency key reused with a different request"
    hint = "Use a new key for a new request; replay only identical requests under a key"
    key: str
    field: str


# --------------------------------------------------------------------------- orders & customers
# (domain-specific errors are appended in the section of their module)

# --------------------------------------------------------------------------- credit

# --------------------------------------------------------------------------- terms & invoices

# --------------------------------------------------------------------------- payments & cash

# --------------------------------------------------------------------------- disputes
