"""Faults a :class:`~o2c.adapters.fake_gateway.FakeGateway` can be told to make.

Modelled on Kill Bill's test payment plugin, which injects error, cancel, pending,
undefined, exception, empty answer, sleep past the timeout and wrong amount on
demand. A fault is programmed per gateway method and per call index::

    gateway.inject("capture", Fault.SUCCEED_THEN_TIMEOUT)           # the next capture
    gateway.inject("refund", Fault.RAISE, at=2, times=None)         # refunds 3, 4, ...
    gateway.inject_plan({"authorize": [Fault.UNDEFINED, None, Fault.DECLINE]})

Three kinds of fault:

* **The gateway's own answer** for a request it has not seen: :attr:`Fault.DECLINE`,
  :attr:`Fault.CANCEL`, :attr:`Fault.PENDING`. The answer is recorded under the key,
  so a replay and ``status()`` give it again. On a replay of a known key they have
  no effect (the gateway answers from its record).
* **Failures before the request executes**: :attr:`Fault.RAISE`,
  :attr:`Fault.TIMEOUT`. Nothing moves and nothing is recorded; ``status()`` then
  says the key was never seen.
* **Failures after it executed** (or was replayed): :attr:`Fault.UNDEFINED`,
  :attr:`Fault.NONE`, :attr:`Fault.SUCCEED_THEN_TIMEOUT`, :attr:`Fault.WRONG_AMOUNT`.
  The money moves exactly as asked, the caller does not learn it, and ``status()``
  tells the truth.

``status`` itself can only fail in transport (raise, time out, answer nothing,
answer undefined) or report a wrong amount; it never lies about a final answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

import attrs

from o2c.errors import GatewayFaultPlanError
from o2c.money import Money

__all__ = [
    "GATEWAY_METHODS",
    "MONEY_METHODS",
    "Fault",
    "FaultRule",
    "check_plan",
    "check_rule",
]

#: The methods that can move money.
MONEY_METHODS: Final = ("authorize", "sale", "capture", "void", "refund")
#: Every method of the gateway port.
GATEWAY_METHODS: Final = (*MONEY_METHODS, "status")


class Fault(StrEnum):
    """What the fake gateway does wrong (see the module docs for when each applies)."""

    #: The issuer refuses: ``Failed(CARD_DECLINED)``; nothing moves.
    DECLINE = "decline"
    #: The gateway did not process it: ``Failed(PROCESSING_ERROR)``; nothing moves.
    CANCEL = "cancel"
    #: Answered ``Pending``; the money moves when ``settle()`` is called.
    PENDING = "pending"
    #: The request executes; the answer is ``Unknown()``.
    UNDEFINED = "undefined"
    #: Raises before the request executes (default: ``GatewayUnavailableError``).
    RAISE = "raise"
    #: The request executes; the adapter returns ``None``.
    NONE = "none"
    #: No answer within the timeout and the request is lost: after the fake's
    #: ``timeout`` (its clock is advanced, nobody sleeps) ``GatewayTimeoutError``.
    TIMEOUT = "timeout"
    #: The request executes, then the caller gets ``GatewayTimeoutError``.
    SUCCEED_THEN_TIMEOUT = "succeed_then_timeout"
    #: The request executes as asked; the answer claims another amount.
    WRONG_AMOUNT = "wrong_amount"

    @property
    def moves_money(self) -> bool:
        """True when the request still executes (for PENDING: once settled)."""
        return self in _MOVES

    @property
    def before_execution(self) -> bool:
        """True for the faults that stop the request before it executes."""
        return self in (Fault.RAISE, Fault.TIMEOUT)

    @property
    def decides_answer(self) -> bool:
        """True for the faults that are the gateway's own (recorded) answer."""
        return self in (Fault.DECLINE, Fault.CANCEL, Fault.PENDING)


_MOVES: Final = frozenset(
    {Fault.PENDING, Fault.UNDEFINED, Fault.NONE, Fault.SUCCEED_THEN_TIMEOUT, Fault.WRONG_AMOUNT}
)


@attrs.frozen(kw_only=True)
class FaultRule:
    """One programmed fault.

    Attributes:
        method: The gateway method it applies to.
        fault: What goes wrong.
        first: Index (0-based, counted per method since the gateway was made) of the
            first call it applies to.
        times: How many calls from ``first`` on it applies to; None: every call.
        error: For :attr:`Fault.RAISE`, the exception to raise (None: a
            ``GatewayUnavailableError``).
        amount: For :attr:`Fault.WRONG_AMOUNT`, the amount claimed (None: one minor
            unit more than asked).
    """

    method: str
    fault: Fault
    first: int
    times: int | None = 1
    error: Exception | None = attrs.field(default=None, eq=False)
    amount: Money | None = None

    def covers(self, method: str, index: int) -> bool:
        """True when the rule applies to call ``index`` of ``method``."""
        if method != self.method or index < self.first:
            return False
        return self.times is None or index < self.first + self.times


def _bad(field: str, reason: str) -> GatewayFaultPlanError:
    return GatewayFaultPlanError(field=field, reason=reason)


def _count(value: object, field: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _bad(field, f"must be an int >= {minimum}, got {value!r:.40}")
    return value


def check_rule(
    method: object,
    fault: object,
    *,
    first: object,
    times: object,
    error: object,
    amount: object,
) -> FaultRule:
    """Validate the arguments of ``FakeGateway.inject`` and build the rule.

    Raises:
        GatewayFaultPlanError: an unknown method or fault, a fault ``status`` cannot
            have, a bad count, or an ``error``/``amount`` given to another fault.
    """
    if method not in GATEWAY_METHODS:
        raise _bad("method", f"{method!r:.40} is not one of {', '.join(GATEWAY_METHODS)}")
    try:
        kind = Fault(str(fault))
    except ValueError:
        raise _bad("fault", f"{fault!r:.40} is not a Fault") from None
    if method == "status" and kind.decides_answer:
        raise _bad("fault", f"status tells the truth; it cannot {kind.value}")
    start = _count(first, "at", minimum=0)
    count = None if times is None else _count(times, "times", minimum=1)
    if error is not None and (kind is not Fault.RAISE or not isinstance(error, Exception)):
        raise _bad("error", "an exception instance, only with Fault.RAISE")
    if amount is not None and (kind is not Fault.WRONG_AMOUNT or not isinstance(amount, Money)):
        raise _bad("amount", "Money, only with Fault.WRONG_AMOUNT")
    return FaultRule(
        method=str(method), fault=kind, first=start, times=count, error=error, amount=amount
    )


def check_plan(plan: object) -> Mapping[str, Sequence[Fault | str | None]]:
    """Validate a plan for ``FakeGateway.inject_plan``: method -> faults per call.

    Raises:
        GatewayFaultPlanError: not a mapping of method names to sequences.
    """
    if not isinstance(plan, Mapping):
        raise _bad("plan", "a mapping of method name to a sequence of faults (or None)")
    for method, faults in plan.items():
        if isinstance(faults, str) or not isinstance(faults, Sequence):
            raise _bad("plan", f"{method!r:.40}: faults must be a sequence")
    return plan
