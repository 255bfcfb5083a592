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
  reconciler asking for ever about a request that cannot come back.)

Every money movement is appended to :attr:`FakeGateway.side_effects`, so a test can
assert that a retry storm charged once. Requests flow through one method,
``_call`` (validate, replay or execute, record); fault injection (timeouts before or
after execution, garbled answers) belongs there.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import attrs

from o2c.clock import require_aware
from o2c.errors import (
    GatewayIdempotencyMismatchError,
    GatewayKeyNotFoundError,
    GatewayReferenceNotFoundError,
    GatewayRequestError,
    GatewaySettleError,
)
from o2c.money import Money
from o2c.payments import DeclineReason, Failed, Outcome, Pending, Succeeded, TransactionKind
from o2c.ports import GatewayEvent, GatewayRequest

__all__ = ["DECLINE_TOKEN", "PENDING_TOKEN", "FakeGateway", "GatewayBalance", "SideEffect"]

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
    """

    def __init__(self, *, prefix: str = "fg") -> None:
        self._prefix = _check_text(prefix, "prefix")
        self._records: dict[str, _Record] = {}
        self._balances: dict[str, GatewayBalance] = {}
        self._roots: dict[str, str] = {}
        self._side_effects: list[SideEffect] = []
        self._events: list[GatewayEvent] = []
        self._references = 0

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

        Only the key is read. A key never seen answers ``Failed(PROCESSING_ERROR)``
        (nothing moved under it).

        Raises:
            GatewayRequestError: not a request, or a malformed key.
        """
        if not isinstance(request, GatewayRequest):
            raise _bad("request", "must be a GatewayRequest")
        key = _check_text(request.idempotency_key, "idempotency_key")
        record = self._records.get(key)
        if record is None:
            return Failed(DeclineReason.PROCESSING_ERROR)
        return record.current

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
        if succeed:
            self._open(record.kind, record.request, record.reference)
            outcome = Succeeded(record.reference)
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
        """Validate, then replay the key's first answer or execute the request once."""
        request = _check_request(kind, request)
        key = request.idempotency_key
        known = self._records.get(key)
        if known is not None:
            field = _mismatch(kind, known, request)
            if field is not None:
                raise GatewayIdempotencyMismatchError(key=key, field=field, retryable=False)
            return known.first
        reference = self._new_reference()
        outcome = self._execute(kind, request, reference)
        self._records[key] = _Record(
            kind=kind, request=request, reference=reference, first=outcome, current=outcome
        )
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
