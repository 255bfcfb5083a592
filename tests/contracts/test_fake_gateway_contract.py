"""The payment gateway contract, run against the fake gateway (and shown able to fail)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from o2c.adapters.fake_gateway import DECLINE_TOKEN, PENDING_TOKEN, FakeGateway
from o2c.adapters.faulty_gateway import Fault
from o2c.payments import Failed, Outcome, Succeeded, TransactionKind, Unknown
from o2c.ports import GatewayRequest, PaymentGateway
from o2c.testing import GatewayContract


class TestFakeGateway(GatewayContract):
    decline_token = DECLINE_TOKEN
    pending_token = PENDING_TOKEN

    @pytest.fixture
    def gateway(self) -> PaymentGateway:
        return FakeGateway()


class TestFakeGatewayInYen(GatewayContract):
    """Another currency, with no minor units."""

    currency = "JPY"
    amount = "1000"
    pending_token = PENDING_TOKEN

    @pytest.fixture
    def gateway(self) -> PaymentGateway:
        return FakeGateway(prefix="jp")


class CautiousGateway(FakeGateway):
    """Cannot tell whether a key it never saw will still arrive: answers Unknown."""

    def status(self, request: GatewayRequest) -> Outcome:
        if request.idempotency_key not in self._records:
            return Unknown()
        return super().status(request)


class TestCautiousGatewayWithoutDeclines(GatewayContract):
    """Unknown for keys never seen is allowed; a sandbox without a decline token too."""

    decline_token = None

    @pytest.fixture
    def gateway(self) -> PaymentGateway:
        return CautiousGateway()


# -- the contract catches broken gateways ---------------------------------------------


class ForgetfulGateway(FakeGateway):
    """Executes every request, replays included (no idempotency)."""

    def _call(self, kind: TransactionKind, request: GatewayRequest) -> Outcome:
        self._records.pop(request.idempotency_key, None)
        return super()._call(kind, request)


class DeclineRaisingGateway(FakeGateway):
    """Raises for a decline instead of answering Failed."""

    def authorize(self, request: GatewayRequest) -> Outcome:
        if request.token == DECLINE_TOKEN:
            raise RuntimeError("card declined")
        return super().authorize(request)


class OverCapturingGateway(FakeGateway):
    """Claims success for a capture over the authorization."""

    def capture(self, request: GatewayRequest) -> Outcome:
        outcome = super().capture(request)
        return Succeeded(outcome.gateway_reference) if isinstance(outcome, Failed) else outcome


class OptimisticStatusGateway(FakeGateway):
    """Answers Succeeded for keys it never saw."""

    def status(self, request: GatewayRequest) -> Outcome:
        if request.idempotency_key not in self._records:
            return self.authorize(request)
        return super().status(request)


def _undefined_capture() -> PaymentGateway:
    gateway = FakeGateway()
    gateway.inject("capture", Fault.UNDEFINED, times=None)
    return gateway


def _none_refund() -> PaymentGateway:
    gateway = FakeGateway()
    gateway.inject("refund", Fault.NONE, times=None)
    return gateway


BROKEN: list[tuple[str, Callable[[], PaymentGateway], str]] = [
    ("forgets keys", ForgetfulGateway, "test_a_replayed_capture_takes_the_money_once"),
    ("forgets keys", ForgetfulGateway, "test_a_replayed_refund_gives_money_back_once"),
    (
        "forgets keys",
        ForgetfulGateway,
        "test_a_key_reused_with_another_payload_is_refused_and_moves_nothing",
    ),
    (
        "raises on decline",
        DeclineRaisingGateway,
        "test_a_decline_is_a_failed_value_with_a_normalised_reason",
    ),
    (
        "over-captures",
        OverCapturingGateway,
        "test_a_capture_over_the_authorization_is_refused_without_effect",
    ),
    (
        "optimistic status",
        OptimisticStatusGateway,
        "test_status_of_a_key_never_seen_is_no_success_and_stays_true",
    ),
    ("undefined captures", _undefined_capture, "test_status_answers_the_requests_outcome"),
    ("empty refunds", _none_refund, "test_a_replayed_refund_gives_money_back_once"),
]


@pytest.mark.parametrize(
    ("make", "test_name"),
    [pytest.param(make, name, id=f"{why}-{name}") for why, make, name in BROKEN],
)
def test_the_contract_fails_a_broken_gateway(
    make: Callable[[], PaymentGateway], test_name: str
) -> None:
    contract = TestFakeGateway()
    with pytest.raises((AssertionError, RuntimeError, pytest.fail.Exception)):
        getattr(contract, test_name)(make())


def test_the_fake_passes_what_the_broken_ones_fail() -> None:
    contract = TestFakeGateway()
    for _, _, name in BROKEN:
        getattr(contract, name)(FakeGateway())  # raises if the fake breaks the contract
