"""The payment gateway contract: tests every :class:`o2c.ports.PaymentGateway` must pass.

Subclass :class:`GatewayContract` in a test module and provide a ``gateway``
fixture that returns a gateway to test (a sandbox account for a real provider)::

    class TestMyGateway(GatewayContract):
        approve_token = "tok_visa"          # a token your sandbox approves
        decline_token = "tok_chargeDeclined"  # one it declines (None: skip)

        @pytest.fixture
        def gateway(self) -> PaymentGateway:
            return MyGateway(api_key=SANDBOX_KEY)

Every request carries a fresh random idempotency key, so a shared sandbox can run
the contract repeatedly. The tests only use the :mod:`o2c.ports` Protocol and the
values of :mod:`o2c.payments`; what they hold an adapter to:

* **Outcomes are values.** Every call returns a :class:`~o2c.payments.Succeeded`,
  :class:`~o2c.payments.Failed`, :class:`~o2c.payments.Pending` or
  :class:`~o2c.payments.Unknown`, never None; a decline or a refused amount is a
  ``Failed`` with a :class:`~o2c.payments.DeclineReason` (normalise your codes with
  ``DeclineReason.from_code``), never an exception. Exceptions are for failures to
  talk to the gateway (o2c records those as unknown and asks ``status`` later).
* **Idempotency.** A request repeated under its key returns the first answer and
  moves no money again; the key reused with another payload raises
  :class:`~o2c.errors.IdempotencyConflictError` (for instance
  ``GatewayIdempotencyMismatchError``) and moves nothing.
* **Limits.** Captures take (part of) an authorization and never more; refunds give
  back (part of) what was captured and never more; a void releases an authorization
  with nothing captured. A request over the limit is ``Failed``.
* **Status** answers from the key: the request's current outcome. For a key the
  gateway never saw it answers ``Failed`` only if the key can never execute
  afterwards (the adapter then refuses it), otherwise ``Unknown``; never success.
* ``Succeeded.amount``, when given, is the amount requested.
"""

# A test suite asserts:
# ruff: noqa: S101

from __future__ import annotations

import uuid
from typing import ClassVar

import pytest

from o2c.errors import IdempotencyConflictError
from o2c.money import Money
from o2c.payments import DeclineReason, Failed, Outcome, Pending, Succeeded, Unknown
from o2c.ports import GatewayRequest, PaymentGateway

__all__ = ["GatewayContract"]


def _outcome(answer: object, what: str) -> Outcome:
    assert isinstance(answer, Succeeded | Failed | Pending | Unknown), (
        f"{what} answered {answer!r}, not an Outcome value (Succeeded, Failed, Pending, Unknown)"
    )
    return answer


class GatewayContract:
    """Tests of the :class:`o2c.ports.PaymentGateway` contract; subclasses give ``gateway``.

    Attributes:
        approve_token: A payer token the gateway approves.
        decline_token: A token it declines; None skips the decline test.
        pending_token: A token it answers Pending; None skips the pending test.
        currency: The currency to charge in.
        amount: A small amount to charge, in whole minor units of ``currency``.
    """

    approve_token: ClassVar[str] = "tok_visa"  # noqa: S105 - a test token, not a secret
    decline_token: ClassVar[str | None] = "tok_decline"  # noqa: S105 - a test token
    pending_token: ClassVar[str | None] = None
    currency: ClassVar[str] = "EUR"
    amount: ClassVar[str] = "100.00"

    # ------------------------------------------------------------------ helpers

    def money(self, amount: str | None = None) -> Money:
        """``amount`` (default :attr:`amount`) in :attr:`currency`."""
        return Money(amount or self.amount, self.currency)

    def part(self, numerator: int, denominator: int) -> Money:
        """A share of :attr:`amount`, in whole minor units."""
        units = self.money().in_minor_units() * numerator // denominator
        return Money.from_minor_units(units, self.currency)

    def one_unit(self) -> Money:
        """The smallest amount of :attr:`currency`."""
        return Money.from_minor_units(1, self.currency)

    @staticmethod
    def request(
        amount: Money,
        *,
        token: str | None = None,
        reference: str | None = None,
        key: str | None = None,
    ) -> GatewayRequest:
        """A request under a fresh random key (or ``key``)."""
        return GatewayRequest(
            idempotency_key=key or f"o2c-contract-{uuid.uuid4().hex}",
            payment_id=f"PAY-{uuid.uuid4().hex[:12]}",
            transaction_id="T1",
            amount=amount,
            token=token,
            reference=reference,
        )

    def succeeded(self, answer: object, request: GatewayRequest, what: str) -> Succeeded:
        """Assert ``answer`` is a success for ``request``'s amount."""
        outcome = _outcome(answer, what)
        assert isinstance(outcome, Succeeded), f"{what} should succeed, got {outcome!r}"
        assert outcome.amount is None or outcome.amount == request.amount, (
            f"{what} succeeded for {outcome.amount}, not the {request.amount} asked for"
        )
        return outcome

    def refused(self, answer: object, what: str) -> Failed:
        """Assert ``answer`` is a refusal with a normalised reason."""
        outcome = _outcome(answer, what)
        assert isinstance(outcome, Failed), f"{what} should be refused (Failed), got {outcome!r}"
        assert isinstance(outcome.reason, DeclineReason)
        return outcome

    def authorized(self, gateway: PaymentGateway, amount: Money | None = None) -> str:
        """Authorize ``amount`` (default :attr:`amount`); the authorization's reference."""
        request = self.request(amount or self.money(), token=self.approve_token)
        outcome = self.succeeded(gateway.authorize(request), request, "authorize")
        assert outcome.gateway_reference, "a succeeded authorization names its reference"
        return outcome.gateway_reference

    def charged(self, gateway: PaymentGateway, amount: Money | None = None) -> str:
        """Sell ``amount`` (authorize and capture); the charge's reference."""
        request = self.request(amount or self.money(), token=self.approve_token)
        outcome = self.succeeded(gateway.sale(request), request, "sale")
        assert outcome.gateway_reference, "a succeeded sale names its reference"
        return outcome.gateway_reference

    # ------------------------------------------------------------------ outcomes

    def test_authorize_and_sale_answer_success_with_a_reference(
        self, gateway: PaymentGateway
    ) -> None:
        """An approved token is authorized, or sold, with a gateway reference."""
        assert self.authorized(gateway)
        assert self.charged(gateway)

    def test_a_decline_is_a_failed_value_with_a_normalised_reason(
        self, gateway: PaymentGateway
    ) -> None:
        """A declined card is an answer, not an exception; replayed, it stays declined."""
        if self.decline_token is None:
            pytest.skip("no decline_token given")
        request = self.request(self.money(), token=self.decline_token)
        first = self.refused(gateway.authorize(request), "authorize with the decline token")
        assert gateway.authorize(request) == first, "a replayed decline answers the same"
        assert gateway.status(request) == first, "status of a decline is the decline"

    def test_a_pending_request_is_pending_until_settled(self, gateway: PaymentGateway) -> None:
        """A pending answer is reported as pending by status too."""
        if self.pending_token is None:
            pytest.skip("no pending_token given")
        request = self.request(self.money(), token=self.pending_token)
        first = _outcome(gateway.authorize(request), "authorize with the pending token")
        assert isinstance(first, Pending), f"expected Pending, got {first!r}"
        assert isinstance(gateway.status(request), Pending)

    # ------------------------------------------------------------------ idempotency

    def test_a_replayed_authorization_answers_the_first_answer(
        self, gateway: PaymentGateway
    ) -> None:
        """The same request under the same key answers exactly as the first time."""
        request = self.request(self.money(), token=self.approve_token)
        first = self.succeeded(gateway.authorize(request), request, "authorize")
        assert gateway.authorize(request) == first, "a replay must answer the first answer"

    def test_a_replayed_capture_takes_the_money_once(self, gateway: PaymentGateway) -> None:
        """Capture part, replay it: exactly that part was taken (refunding it empties it)."""
        reference = self.authorized(gateway)
        capture = self.request(self.part(2, 5), reference=reference)
        first = self.succeeded(gateway.capture(capture), capture, "partial capture")
        assert gateway.capture(capture) == first, "a replayed capture answers the first answer"
        back = self.request(self.part(2, 5), reference=reference)
        self.succeeded(gateway.refund(back), back, "refund of what was captured")
        more = self.request(self.one_unit(), reference=reference)
        self.refused(gateway.refund(more), "refund beyond what one capture took")

    def test_a_replayed_refund_gives_money_back_once(self, gateway: PaymentGateway) -> None:
        """Refund part, replay it, refund the rest: all of it fits, one unit more does not."""
        reference = self.charged(gateway)
        part = self.request(self.part(3, 10), reference=reference)
        first = self.succeeded(gateway.refund(part), part, "partial refund")
        assert gateway.refund(part) == first, "a replayed refund answers the first answer"
        rest = self.request(self.money() - self.part(3, 10), reference=reference)
        self.succeeded(gateway.refund(rest), rest, "refund of the rest")
        more = self.request(self.one_unit(), reference=reference)
        self.refused(gateway.refund(more), "refund beyond the charge")

    def test_a_key_reused_with_another_payload_is_refused_and_moves_nothing(
        self, gateway: PaymentGateway
    ) -> None:
        """Another amount under a used key raises IdempotencyConflictError."""
        request = self.request(self.money(), token=self.approve_token)
        first = self.succeeded(gateway.authorize(request), request, "authorize")
        other = self.request(self.part(1, 2), token=self.approve_token, key=request.idempotency_key)
        with pytest.raises(IdempotencyConflictError):
            gateway.authorize(other)
        assert gateway.status(request) == first, "the key still answers its first request"
        assert first.gateway_reference
        whole = self.request(self.money(), reference=first.gateway_reference)
        self.succeeded(gateway.capture(whole), whole, "capture of the first authorization")

    # ------------------------------------------------------------------ limits

    def test_a_capture_over_the_authorization_is_refused_without_effect(
        self, gateway: PaymentGateway
    ) -> None:
        """One unit over the authorization is Failed; the whole amount can still be taken."""
        reference = self.authorized(gateway)
        over = self.request(self.money() + self.one_unit(), reference=reference)
        self.refused(gateway.capture(over), "capture over the authorization")
        whole = self.request(self.money(), reference=reference)
        self.succeeded(gateway.capture(whole), whole, "capture of the whole authorization")

    def test_a_refund_over_the_capture_is_refused_without_effect(
        self, gateway: PaymentGateway
    ) -> None:
        """One unit over the charge is Failed; the whole charge can still be refunded."""
        reference = self.charged(gateway)
        over = self.request(self.money() + self.one_unit(), reference=reference)
        self.refused(gateway.refund(over), "refund over the charge")
        whole = self.request(self.money(), reference=reference)
        self.succeeded(gateway.refund(whole), whole, "refund of the whole charge")

    def test_a_void_releases_the_authorization(self, gateway: PaymentGateway) -> None:
        """After a void nothing can be captured."""
        reference = self.authorized(gateway)
        void = self.request(self.money(), reference=reference)
        self.succeeded(gateway.void(void), void, "void")
        capture = self.request(self.money(), reference=reference)
        self.refused(gateway.capture(capture), "capture after a void")

    def test_nothing_to_void_after_a_full_capture(self, gateway: PaymentGateway) -> None:
        """A captured authorization has nothing left to void."""
        reference = self.authorized(gateway)
        capture = self.request(self.money(), reference=reference)
        self.succeeded(gateway.capture(capture), capture, "capture")
        void = self.request(self.money(), reference=reference)
        self.refused(gateway.void(void), "void after a full capture")

    # ------------------------------------------------------------------ status

    def test_status_answers_the_requests_outcome(self, gateway: PaymentGateway) -> None:
        """status under a request's key is its outcome."""
        request = self.request(self.money(), token=self.approve_token)
        first = self.succeeded(gateway.authorize(request), request, "authorize")
        assert gateway.status(request) == first
        assert first.gateway_reference
        capture = self.request(self.part(1, 2), reference=first.gateway_reference)
        captured = self.succeeded(gateway.capture(capture), capture, "capture")
        assert gateway.status(capture) == captured

    def test_status_of_a_key_never_seen_is_no_success_and_stays_true(
        self, gateway: PaymentGateway
    ) -> None:
        """A key never sent is Failed (and then never executes) or Unknown."""
        request = self.request(self.money(), token=self.approve_token)
        answer = _outcome(gateway.status(request), "status of a key never seen")
        assert isinstance(answer, Failed | Unknown), (
            f"status of a key never seen answered {answer!r}: only Failed or Unknown"
        )
        if isinstance(answer, Failed):
            late = _outcome(gateway.authorize(request), "a request after status said never")
            assert not isinstance(late, Succeeded | Pending), (
                "status answered Failed for the key, so a request under it must not execute"
            )
