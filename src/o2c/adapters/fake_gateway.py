"""An in-memory payment gateway whose behaviour is chosen by the payer's token.

:class:`FakeGateway` implements :class:`o2c.ports.PaymentGateway` the way a real
service provider behaves towards a client, without a network:

* **Tokens** choose the answer to an authorization or sale: ``"tok_decline"`` is
  declined (:attr:`~o2c.payments.DeclineReason.CARD_DECLINED`),
  ``"tok_decline_<code>"`` is declined with ``DeclineReason.from_code(code)``
  (``"tok_decline_insufficient_funds"``), ``"tok_pending"`` is answered
  :class:`~o2c.payments.Pending` until :meth:`FakeGateway.settle` sends the webhook,
  and any other token succeeds.
* **References**: every request the gateway executes gets one (``"fg_000001"`` ...).
  Captures, voids and refunds name the authorization or charge they act on in
  ``request.reference`` (the reference of one of its captures or refunds works too).
* **Balances** per authorization or charge: a capture takes at most
  ``authorized - captured - voided``, a void releases exactly that uncaptured rest
  (and needs one), a refund returns at most ``captured - refunded``. Anything else,
  an unknown reference or another currency is answered
  ``Failed(DeclineReason.PROCESSING_ERROR)``: the gateway could not process it; no
  issuer was asked.
* **Idempotency**: a request replayed under its key returns the first answer and
  moves nothing again; the key reused with another kind or payload raises
  :class:`~o2c.errors.GatewayIdempotencyMismatchError`.
* **Status** answers from the key's record: the current outcome (a settled pending
  request gives its final answer). A key never seen answers
  ``Failed(PROCESSING_ERROR)``: the request never reached the gateway, so nothing
  moved, and the caller may safely retry under a new key. (``Unknown`` would keep a
  reconciler asking for ever about a request that cannot come back.) The answer is
  kept: a request arriving later under that key is refused the same way, so
  "never seen" stays true.
* **Faults** (:mod:`o2c.adapters.faulty_gateway`): :meth:`FakeGateway.inject`
  programs a decline, cancel, pending, undefined answer, exception, empty answer,
  timeout, success-then-timeout or wrong amount per method and call index;
  ``status()`` keeps telling the truth about what happened.

Every money movement is appended to :attr:`FakeGateway.side_effects`, so a test can
assert that a retry storm charged once. Requests flow through one method,
``_call`` (validate, replay or execute, record), where the faults are applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, cast

import attrs

from o2c.adapters.faulty_gateway import Fault, FaultRule, check_plan, check_rule
from o2c.clock import Clock, require_aware
from o2c.errors import (
    GatewayFaultPlanError,
    GatewayIdempotencyMismatchError,
    GatewayKeyNotFoundError,
    GatewayReferenceNotFoundError,
    GatewayRequestError,
    GatewaySettleError,
    GatewayTimeoutError,
    GatewayUnavailableError,
)
from o2c.money import Money
from o2c.payments import (
    DeclineReason,
    Failed,
    Outcome,
    Pending,
    Succeeded,
    TransactionKind,
    Unknown,
)
from o2c.ports import GatewayEvent, GatewayRequest

__all__ = [
    "DECLINE_TOKEN",
    "PENDING_TOKEN",
    "FakeGateway",
    "Fault",
    "FaultRule",
    "GatewayBalance",
    "SideEffect",
]

#: Token declined with ``card_declined``; ``DECLINE_TOKEN + "_<code>"`` picks the code.
DECLINE_TOKEN = "tok_decline"  # noqa: S105 - a test instrument, not a secret
#: Token answered Pending until :meth:`FakeGateway.settle`.
PENDING_TOKEN = "tok_pending"  # noqa: S105 - a test instrument, not a secret

_MAX_KEY_LENGTH = 255
_TOKEN_KINDS = frozenset({TransactionKind.AUTHORIZE, TransactionKind.SALE})
_FINGERPRINT_FIELDS = ("payment_id", "transaction_id", "amount", "token", "reference")


class SideEffect(NamedTuple):
    """One money movement the gateway made (equal to a plain ``(kind, key, amount)``)."""

    kind: TransactionKind
    key: str
    amount: Money


@attrs.frozen(kw_only=True)
class GatewayBalance:
    """What an authorization or charge has moved so far.

    Attributes:
        reference: The authorization's or charge's reference.
        authorized: Held (a sale authorizes what it captures).
        captured: Taken.
        refunded: Given back.
        voided: Released by a void.
    """

    reference: str
    authorized: Money
    captured: Money
    refunded: Money
    voided: Money

    @property
    def uncaptured(self) -> Money:
        """What a capture may still take, or a void release."""
        return self.authorized - self.captured - self.voided

    @property
    def refundable(self) -> Money:
        """What a refund may still give back."""
        return self.captured - self.refunded


@attrs.frozen(kw_only=True)
class _Record:
    kind: TransactionKind
    request: GatewayRequest
    reference: str
    first: Outcome
    current: Outcome
    event: GatewayEvent | None = None


def _bad(field: str, reason: str) -> GatewayRequestError:
    return GatewayRequestError(field=field, reason=reason)


def _check_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= _MAX_KEY_LENGTH:
        raise _bad(field, f"must be 1..{_MAX_KEY_LENGTH} characters")
    if not all(" " <= ch <= "~" for ch in value) or value != value.strip():
        raise _bad(field, "must be printable ASCII without surrounding spaces")
    return value


def _check_request(kind: TransactionKind, request: object) -> GatewayRequest:
    if not isinstance(request, GatewayRequest):
        raise _bad("request", "must be a GatewayRequest")
    _check_text(request.idempotency_key, "idempotency_key")
    _check_text(request.payment_id, "payment_id")
    _check_text(request.transaction_id, "transaction_id")
    amount = request.amount
    if not isinstance(amount, Money) or not amount.is_positive() or not amount.is_rounded():
        raise _bad("amount", "must be positive Money in whole minor units")
    if kind in _TOKEN_KINDS:
        _check_text(request.token, "token")
    else:
        _check_text(request.reference, "reference")
    return request


def _decided(fault: Fault, reference: str) -> Outcome:
    """The gateway's own answer a DECLINE, CANCEL or PENDING fault makes."""
    if fault is Fault.DECLINE:
        return Failed(DeclineReason.CARD_DECLINED, reference)
    if fault is Fault.CANCEL:
        return Failed(DeclineReason.PROCESSING_ERROR, reference)
    return Pending(reference)


def _mismatch(kind: TransactionKind, first: _Record, request: GatewayRequest) -> str | None:
    """The first field in which ``request`` differs from the key's first request."""
    if kind is not first.kind:
        return "kind"
    for field in _FINGERPRINT_FIELDS:
        if getattr(first.request, field) != getattr(request, field):
            return field
    return None


class FakeGateway:
    """A deterministic in-memory payment gateway.

    Args:
        prefix: Start of every reference (``"fg_000001"``) and event id
            (``"fg_evt_000001"``).
        clock: Advanced by ``timeout`` when a timeout fault fires, if it can be
            (a :class:`~o2c.clock.FixedClock`); nobody sleeps.
        timeout: How long a caller waits before a timeout fault raises.

    Raises:
        GatewayFaultPlanError: ``timeout`` is not a positive timedelta.
    """

    def __init__(
        self,
        *,
        prefix: str = "fg",
        clock: Clock | None = None,
        timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self._prefix = _check_text(prefix, "prefix")
        if not isinstance(timeout, timedelta) or timeout <= timedelta(0):
            raise GatewayFaultPlanError(field="timeout", reason="must be a positive timedelta")
        self._clock = clock
        self._timeout = timeout
        self._records: dict[str, _Record] = {}
        self._never_seen: set[str] = set()
        self._balances: dict[str, GatewayBalance] = {}
        self._roots: dict[str, str] = {}
        self._side_effects: list[SideEffect] = []
        self._events: list[GatewayEvent] = []
        self._references = 0
        self._rules: list[FaultRule] = []
        self._calls: dict[str, int] = {}

    # -- faults ---------------------------------------------------------------------

    def inject(
        self,
        method: str,
        fault: Fault | str,
        *,
        times: int | None = 1,
        at: int | None = None,
        error: Exception | None = None,
        amount: Money | None = None,
    ) -> FaultRule:
        """Make calls of ``method`` go wrong (see :mod:`o2c.adapters.faulty_gateway`).

        Args:
            method: ``"authorize"``, ``"sale"``, ``"capture"``, ``"void"``,
                ``"refund"`` or ``"status"``.
            fault: What goes wrong.
            times: How many calls it applies to; None: every call from then on.
            at: Index of the first call it applies to, counted per method from the
                gateway's creation (see :attr:`calls`); None: the next call.
            error: For :attr:`Fault.RAISE`, the exception to raise.
            amount: For :attr:`Fault.WRONG_AMOUNT`, the amount to claim.

        Returns:
            The rule. Rules are tried in the order injected; the first that covers a
            call applies.

        Raises:
            GatewayFaultPlanError: see :func:`~o2c.adapters.faulty_gateway.check_rule`.
        """
        first = self._calls.get(str(method), 0) if at is None else at
        rule = check_rule(method, fault, first=first, times=times, error=error, amount=amount)
        self._rules.append(rule)
        return rule

    def inject_plan(self, plan: Mapping[str, Sequence[Fault | str | None]]) -> list[FaultRule]:
        """Program the next calls of several methods at once.

        ``{"capture": [Fault.TIMEOUT, None, Fault.UNDEFINED]}`` makes the next capture
        time out, lets the one after through, and answers the third with Unknown.

        Raises:
            GatewayFaultPlanError: a malformed plan (nothing is injected then).
        """
        rules: list[FaultRule] = []
        for method, faults in check_plan(plan).items():
            start = self._calls.get(str(method), 0)
            for offset, fault in enumerate(faults):
                if fault is not None:
                    rules.append(
                        check_rule(
                            method, fault, first=start + offset, times=1, error=None, amount=None
                        )
                    )
        self._rules.extend(rules)
        return rules

    def clear_faults(self) -> None:
        """Forget every programmed fault; calls go through normally again."""
        self._rules.clear()

    @property
    def faults(self) -> tuple[FaultRule, ...]:
        """The programmed faults, in the order they were injected."""
        return tuple(self._rules)

    @property
    def calls(self) -> dict[str, int]:
        """Well-formed calls received so far, per method (a copy)."""
        return dict(self._calls)

    @property
    def pending_keys(self) -> list[str]:
        """Keys of the requests still answered Pending (waiting for :meth:`settle`)."""
        return [key for key, rec in self._records.items() if isinstance(rec.current, Pending)]

    def _fault_for(self, method: str) -> FaultRule | None:
        """Count a call of ``method`` and return the fault that applies to it."""
        index = self._calls.get(method, 0)
        self._calls[method] = index + 1
        return next((rule for rule in self._rules if rule.covers(method, index)), None)

    def _fail_before(self, rule: FaultRule) -> None:
        if rule.fault is Fault.RAISE:
            raise rule.error or GatewayUnavailableError(
                "connection reset by the gateway", operation=rule.method
            )
        self._time_out(rule.method)

    def _time_out(self, method: str) -> None:
        advance = getattr(self._clock, "advance", None)
        if callable(advance):
            advance(seconds=self._timeout.total_seconds())
        raise GatewayTimeoutError(
            f"no answer within {self._timeout.total_seconds():g} s",
            operation=method,
            timeout_seconds=self._timeout.total_seconds(),
        )

    def _garble(self, rule: FaultRule, request: GatewayRequest, outcome: Outcome) -> Outcome:
        """What the caller sees when a fault strikes after the request executed."""
        if rule.fault is Fault.UNDEFINED:
            return Unknown()
        if rule.fault is Fault.NONE:
            return cast(Outcome, None)  # deliberately breaks the port's promise
        if rule.fault is Fault.SUCCEED_THEN_TIMEOUT:
            self._time_out(rule.method)
        if isinstance(outcome, Succeeded):  # WRONG_AMOUNT
            wrong = rule.amount or Money.from_minor_units(
                request.amount.in_minor_units() + 1, request.amount.currency
            )
            return Succeeded(outcome.gateway_reference, amount=wrong)
        return outcome

    # -- inspection -----------------------------------------------------------------

    @property
    def side_effects(self) -> list[SideEffect]:
        """Every money movement made, in order (a copy)."""
        return list(self._side_effects)

    @property
    def events(self) -> list[GatewayEvent]:
        """Every webhook event sent by :meth:`settle`, in order (a copy)."""
        return list(self._events)

    @property
    def balances(self) -> dict[str, GatewayBalance]:
        """The balance of every succeeded authorization and charge, by reference."""
        return dict(self._balances)

    def balance(self, reference: str) -> GatewayBalance:
        """The balance of an authorization or charge (or of the one a child acts on).

        Raises:
            GatewayReferenceNotFoundError: no succeeded authorization or charge has it.
        """
        root = self._roots.get(reference) if isinstance(reference, str) else None
        if root is None:
            raise GatewayReferenceNotFoundError(kind="gateway_reference", id=str(reference))
        return self._balances[root]

    # -- the port -------------------------------------------------------------------

    def authorize(self, request: GatewayRequest) -> Outcome:
        """Hold funds; the token decides the answer (see the module docs).

        Raises:
            GatewayRequestError: a malformed request (no token, bad amount ...).
            GatewayIdempotencyMismatchError: the key was used for another request.
        """
        return self._call(TransactionKind.AUTHORIZE, request)

    def sale(self, request: GatewayRequest) -> Outcome:
        """Authorize and capture at once; the token decides the answer.

        Raises:
            GatewayRequestError: a malformed request.
            GatewayIdempotencyMismatchError: the key was used for another request.
        """
        return self._call(TransactionKind.SALE, request)

    def capture(self, request: GatewayRequest) -> Outcome:
        """Take up to the uncaptured rest of ``request.reference``'s authorization.

        Raises:
            GatewayRequestError: a malformed request (no reference ...).
            GatewayIdempotencyMismatchError: the key was used for another request.
        """
        return self._call(TransactionKind.CAPTURE, request)

    def void(self, request: GatewayRequest) -> Outcome:
        """Release the uncaptured rest (``request.amount`` must equal it).

        Raises:
            GatewayRequestError: a malformed request.
            GatewayIdempotencyMismatchError: the key was used for another request.
        """
        return self._call(TransactionKind.VOID, request)

    def refund(self, request: GatewayRequest) -> Outcome:
        """Give back up to ``captured - refunded`` of ``request.reference``.

        Raises:
            GatewayRequestError: a malformed request.
            GatewayIdempotencyMismatchError: the key was used for another request.
        """
        return self._call(TransactionKind.REFUND, request)

    def status(self, request: GatewayRequest) -> Outcome:
        """The current outcome of the request under ``request.idempotency_key``.

        Only the key is read (and ``amount``, by a wrong-amount fault). A key never
        seen answers ``Failed(PROCESSING_ERROR)`` (nothing moved under it) and stays
        refused: a request arriving later under it is answered the same way.

        Raises:
            GatewayRequestError: not a request, or a malformed key.
            GatewayUnavailableError: an injected fault (or the exception it names).
            GatewayTimeoutError: an injected timeout.
        """
        if not isinstance(request, GatewayRequest):
            raise _bad("request", "must be a GatewayRequest")
        key = _check_text(request.idempotency_key, "idempotency_key")
        rule = self._fault_for("status")
        if rule is not None and rule.fault.before_execution:
            self._fail_before(rule)
        record = self._records.get(key)
        outcome: Outcome
        if record is None:
            self._never_seen.add(key)
            outcome = Failed(DeclineReason.PROCESSING_ERROR)
        else:
            outcome = record.current
        if rule is not None:
            return self._garble(rule, request, outcome)
        return outcome

    # -- webhooks -------------------------------------------------------------------

    def settle(
        self,
        idempotency_key: str,
        *,
        succeed: bool = True,
        now: datetime,
        reason: DeclineReason = DeclineReason.CARD_DECLINED,
    ) -> GatewayEvent:
        """Finish a pending request and return the webhook event the gateway sends.

        Settling a settled request the same way again returns the same event (a
        redelivery, same ``event_id``).

        Args:
            idempotency_key: The pending request's key.
            succeed: Whether the money moved.
            now: When it happened (the event's ``occurred_at``).
            reason: The decline reason when ``succeed`` is False.

        Raises:
            GatewayKeyNotFoundError: no request under the key.
            GatewaySettleError: the request was not pending, or was settled the other way.
            GatewayRequestError: ``now`` is not a datetime.
            NaiveDatetimeError: ``now`` has no timezone.
            PaymentFieldError: ``reason`` is not a DeclineReason.
        """
        if not isinstance(now, datetime):
            raise _bad("now", "must be a timezone-aware datetime")
        require_aware(now)
        record = self._records.get(idempotency_key)
        if record is None:
            raise GatewayKeyNotFoundError(kind="gateway_request", id=str(idempotency_key))
        if record.event is not None:
            if isinstance(record.current, Succeeded) is bool(succeed):
                return record.event
            raise GatewaySettleError(key=idempotency_key, reason="already settled the other way")
        if not isinstance(record.first, Pending):
            raise GatewaySettleError(key=idempotency_key, reason="the request was not pending")
        outcome: Outcome
        if succeed and record.kind in _TOKEN_KINDS:
            self._open(record.kind, record.request, record.reference)
            outcome = Succeeded(record.reference)
        elif succeed:  # a capture, void or refund left pending by a fault
            outcome = self._move(record.kind, record.request, record.reference)
        else:
            outcome = Failed(reason, record.reference)
        event = GatewayEvent(
            event_id=f"{self._prefix}_evt_{len(self._events) + 1:06d}",
            idempotency_key=idempotency_key,
            outcome=outcome,
            occurred_at=now,
        )
        self._records[idempotency_key] = attrs.evolve(record, current=outcome, event=event)
        self._events.append(event)
        return event

    # -- internals ------------------------------------------------------------------

    def _call(self, kind: TransactionKind, request: GatewayRequest) -> Outcome:
        """Validate, then replay the key's first answer or execute the request once;
        an injected fault strikes before execution, decides the answer, or garbles it."""
        request = _check_request(kind, request)
        rule = self._fault_for(kind.value)
        if rule is not None and rule.fault.before_execution:
            self._fail_before(rule)
        key = request.idempotency_key
        known = self._records.get(key)
        if known is not None:
            field = _mismatch(kind, known, request)
            if field is not None:
                raise GatewayIdempotencyMismatchError(key=key, field=field, retryable=False)
            outcome = known.first
        else:
            reference = self._new_reference()
            if key in self._never_seen:  # status() said so; it stays true, word for word
                outcome = Failed(DeclineReason.PROCESSING_ERROR)
            elif rule is not None and rule.fault.decides_answer:
                outcome = _decided(rule.fault, reference)
            else:
                outcome = self._execute(kind, request, reference)
            self._records[key] = _Record(
                kind=kind, request=request, reference=reference, first=outcome, current=outcome
            )
        if rule is not None and not rule.fault.decides_answer:
            return self._garble(rule, request, outcome)
        return outcome

    def _execute(self, kind: TransactionKind, request: GatewayRequest, reference: str) -> Outcome:
        if kind in _TOKEN_KINDS:
            token = str(request.token)
            if token == DECLINE_TOKEN:
                return Failed(DeclineReason.CARD_DECLINED, reference)
            if token.startswith(DECLINE_TOKEN + "_"):
                code = token.removeprefix(DECLINE_TOKEN + "_")
                return Failed(DeclineReason.from_code(code), reference)
            if token == PENDING_TOKEN:
                return Pending(reference)
            self._open(kind, request, reference)
            return Succeeded(reference)
        return self._move(kind, request, reference)

    def _open(self, kind: TransactionKind, request: GatewayRequest, reference: str) -> None:
        """Record a succeeded authorization or sale as a new balance."""
        zero = Money.zero(request.amount.currency)
        captured = request.amount if kind is TransactionKind.SALE else zero
        self._balances[reference] = GatewayBalance(
            reference=reference,
            authorized=request.amount,
            captured=captured,
            refunded=zero,
            voided=zero,
        )
        self._roots[reference] = reference
        self._side_effects.append(SideEffect(kind, request.idempotency_key, request.amount))

    def _move(self, kind: TransactionKind, request: GatewayRequest, reference: str) -> Outcome:
        """Capture, void or refund against the balance ``request.reference`` names."""
        refused = Failed(DeclineReason.PROCESSING_ERROR, reference)
        root = self._roots.get(str(request.reference))
        if root is None:
            return refused
        balance = self._balances[root]
        amount = request.amount
        if amount.currency != balance.authorized.currency:
            return refused
        if kind is TransactionKind.CAPTURE:
            if amount > balance.uncaptured:
                return refused
            balance = attrs.evolve(balance, captured=balance.captured + amount)
        elif kind is TransactionKind.VOID:
            if balance.uncaptured.is_zero() or amount != balance.uncaptured:
                return refused
            balance = attrs.evolve(balance, voided=balance.voided + amount)
        else:
            if amount > balance.refundable:
                return refused
            balance = attrs.evolve(balance, refunded=balance.refunded + amount)
        self._balances[root] = balance
        self._roots[reference] = root
        self._side_effects.append(SideEffect(kind, request.idempotency_key, amount))
        return Succeeded(reference)

    def _new_reference(self) -> str:
        self._references += 1
        return f"{self._prefix}_{self._references:06d}"
