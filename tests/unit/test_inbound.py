"""O2C.receive_webhook: verified first, applied once, in any order; disputes opened from
Stripe's snapshots (parked while their payment is unknown or short of cash); and
O2C.resolve_dispute for disputes the gateway closed."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from tests.conftest import REPO_ROOT

from o2c.adapters.memory import MemoryStorage
from o2c.adapters.stripe_events import stripe_event_body
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.engine import O2C, EngineConfig
from o2c.engine import inbound as inbound_module
from o2c.engine.inbound import ParkedWebhook, webhook_key
from o2c.engine.records import payments_of
from o2c.errors import (
    ContradictoryOutcomeError,
    DisputeAlreadyResolvedError,
    DisputeNotClosedError,
    EngineStateError,
    IdempotencyConflictError,
    InvalidResolutionError,
    MalformedSignatureHeaderError,
    NoV1SignatureError,
    SignatureMismatchError,
    TimestampOutsideToleranceError,
    WebhookPayloadError,
    WebhookSecretError,
    WebhookSignatureError,
)
from o2c.events import WebhookProcessed
from o2c.lifecycles import DisputeState, InvoiceState, PaymentState
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.payments import DeclineReason, Outcome, Pending, Succeeded, Unknown
from o2c.ports import GatewayRequest
from o2c.webhooks import WebhookStatus, sign_payload

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECRET = "whsec_inbound"  # noqa: S105 - a test secret
HOME = Address(name="Ada", lines=("1 Main St",), city="Berlin", country="DE")
PENDING, CARD, NO_REFERENCE = "tok_pending", "tok_visa", "tok_noref"


class StubGateway:
    """Answers at once: ``tok_pending`` requests and every refund are pending, the rest
    succeed; references are ``ch_<payment>`` for a charge (none for ``tok_noref``),
    ``mv_<payment>_<txn>`` for captures and voids, ``re_...`` for refunds."""

    def __init__(self, prefix: str = "ch") -> None:
        self.prefix = prefix

    def _charge(self, request: GatewayRequest) -> Outcome:
        ref = f"{self.prefix}_{request.payment_id}"
        if request.token == NO_REFERENCE:
            return Succeeded()
        return Pending(ref) if request.token == PENDING else Succeeded(ref)

    def _move(self, request: GatewayRequest) -> Outcome:
        ref = f"mv_{request.payment_id}_{request.transaction_id}"
        return Pending(ref) if request.token == PENDING else Succeeded(ref)

    def refund(self, request: GatewayRequest) -> Outcome:
        return Pending(f"re_{request.payment_id}_{request.transaction_id}")

    authorize = sale = status = _charge
    capture = void = _move


class Shop:
    """An engine with a Stripe-format gateway ``stripe`` (and ``other``), a customer and
    mugs at 50.00 + 19 % VAT."""

    def __init__(self, currency: str = "EUR") -> None:
        self.clock = FixedClock(START)
        self.storage = MemoryStorage()
        self.engine = O2C(
            self.storage,
            clock=self.clock,
            gateways={"stripe": StubGateway(), "other": StubGateway("oc")},
            config=EngineConfig(webhook_secrets={"stripe": (SECRET,), "other": (SECRET,)}),
        )
        self.engine.add_customer(
            "customer",
            Customer(
                id="ada",
                name="Ada",
                currency=currency,
                billing_address=HOME,
                shipping_addresses=(HOME,),
                payment_terms="NET30",
                credit_limit=Money("100000.00", currency),
            ),
        )
        self.engine.receive_stock("stock", "MUG", 100)
        self.currency = currency
        self.orders = 0

    def order(self) -> str:
        self.orders += 1
        line = OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=1,
            unit_price=Money("50.00", self.currency),
        )
        order = self.engine.place_order(f"order-{self.orders}", customer_id="ada", lines=[line])
        return order.id

    def sale(self, token: str = CARD, gateway: str = "stripe") -> tuple[str, str, str]:
        """An invoice paid by a card sale: (payment id, its request key, invoice id)."""
        order_id = self.order()
        invoice = self.engine.invoice_order(f"invoice-{order_id}", order_id, "ordered")
        payment = self.engine.pay_invoices(
            f"pay-{order_id}", "ada", [invoice.id], token=token, gateway=gateway
        )
        return payment.id, payment.transactions[-1].idempotency_key, invoice.id

    def send(
        self,
        event_id: str,
        event_type: str,
        obj: dict[str, Any],
        *,
        gateway: str = "stripe",
        created: int | None = None,
    ) -> Any:
        body = self.body(event_id, event_type, obj, created)
        return self.engine.receive_webhook(gateway, body, self.sign(body))

    def body(
        self, event_id: str, event_type: str, obj: dict[str, Any], created: int | None = None
    ) -> bytes:
        at = created if created is not None else int(self.clock.now().timestamp())
        return stripe_event_body(event_id, event_type, obj, created=at)

    def sign(self, body: bytes, secret: str = SECRET, at: datetime | None = None) -> str:
        return sign_payload(body, secret, at or self.clock.now())


def intent(key: str, pid: str = "pi_1", status: str = "succeeded") -> dict[str, Any]:
    return {
        "id": pid,
        "object": "payment_intent",
        "status": status,
        "metadata": {"o2c_idempotency_key": key},
    }


def dispute(
    status: str, charge: str | None = "ch_x", amount: int = 5000, **extra: Any
) -> dict[str, Any]:
    count = 1 if status in ("under_review", "won") else 0
    return {
        "id": "dp_1",
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "status": status,
        "reason": "fraudulent",
        "created": int(START.timestamp()) - 3600,
        "charge": charge,
        "payment_intent": None,
        "evidence_details": {
            "due_by": int((START + timedelta(days=20)).timestamp()),
            "has_evidence": count > 0,
            "submission_count": count,
        },
        "evidence": {"uncategorized_text": "signed for"} if count else {},
        "metadata": {},
        **extra,
    }


# --------------------------------------------------------------------------- payment outcomes


def test_a_pending_sale_succeeds_by_webhook_and_its_cash_is_applied() -> None:
    shop = Shop()
    payment_id, key, invoice_id = shop.sale(PENDING)
    assert shop.engine.invoice(invoice_id).state is InvoiceState.ISSUED

    result = shop.send("evt_1", "payment_intent.succeeded", intent(key))

    assert result.status is WebhookStatus.APPLIED
    assert (result.gateway, result.event_id, result.event_type) == (
        "stripe",
        "evt_1",
        "payment_intent.succeeded",
    )
    assert (result.payment_ids, result.dispute_id, result.reason) == ((payment_id,), None, "")
    assert result.received_at == START
    payment = shop.engine.payment(payment_id)
    assert payment.state is PaymentState.CAPTURED
    assert payment.transactions[-1].gateway_reference == "pi_1"
    assert shop.engine.invoice(invoice_id).state is InvoiceState.PAID
    processed = [e[1] for e in shop.storage.snapshot().outbox if e[1].name == "WebhookProcessed"]
    assert processed == [
        WebhookProcessed(
            aggregate_id="stripe:evt_1",
            occurred_at=START,
            gateway="stripe",
            event_id="evt_1",
            event_type="payment_intent.succeeded",
            status="applied",
            reason="",
            payment_ids=(payment_id,),
            dispute_id=None,
        )
    ]


def test_a_redelivery_returns_the_first_result_and_changes_nothing() -> None:
    shop = Shop()
    _, key, _ = shop.sale(PENDING)
    body = shop.body("evt_1", "payment_intent.succeeded", intent(key))
    first = shop.engine.receive_webhook("stripe", body, shop.sign(body))
    after = shop.storage.snapshot()

    shop.clock.advance(minutes=3)  # Stripe retries later, signing again
    again = shop.engine.receive_webhook("stripe", body, shop.sign(body))

    assert again == first
    assert again.received_at == START
    assert shop.storage.snapshot() == after
    with shop.storage.begin() as uow:
        stored = uow.get_idempotency(webhook_key("stripe", "evt_1"))
    assert stored is not None
    assert stored.operation == "receive_webhook"


def test_the_same_event_id_with_another_object_conflicts_on_the_body() -> None:
    shop = Shop()
    _, key, _ = shop.sale(PENDING)
    shop.send("evt_1", "payment_intent.succeeded", intent(key))
    after = shop.storage.snapshot()
    with pytest.raises(IdempotencyConflictError) as info:
        shop.send("evt_1", "payment_intent.succeeded", intent(key, pid="pi_2"))
    assert info.value.field == "body"
    assert shop.storage.snapshot() == after


def test_a_failed_outcome_declines_the_payment() -> None:
    shop = Shop()
    payment_id, key, invoice_id = shop.sale(PENDING)
    obj = {
        "id": "ch_1",
        "object": "charge",
        "status": "failed",
        "failure_code": "insufficient_funds",
        "payment_intent": "pi_1",
        "metadata": {"o2c_idempotency_key": key},
    }
    assert shop.send("evt_1", "charge.failed", obj).status is WebhookStatus.APPLIED
    payment = shop.engine.payment(payment_id)
    assert payment.state is PaymentState.DECLINED
    assert payment.transactions[-1].decline_reason is DeclineReason.INSUFFICIENT_FUNDS
    assert shop.engine.invoice(invoice_id).state is InvoiceState.ISSUED
    # The payment intent's own event for the same failure changes nothing more.
    failed = {**intent(key, status="requires_payment_method"), "last_payment_error": None}
    shop.send("evt_2", "payment_intent.payment_failed", failed)
    assert shop.engine.payment(payment_id) == payment


def test_a_webhook_contradicting_a_final_answer_flags_the_payment() -> None:
    shop = Shop()
    payment_id, key, invoice_id = shop.sale(PENDING)
    shop.send("evt_1", "payment_intent.succeeded", intent(key))
    paid = shop.engine.invoice(invoice_id)
    failed = {
        "id": "ch_1",
        "object": "charge",
        "status": "failed",
        "failure_code": "card_declined",
        "payment_intent": "pi_1",
        "metadata": {"o2c_idempotency_key": key},
    }
    with pytest.raises(ContradictoryOutcomeError):
        shop.send("evt_2", "charge.failed", failed)
    # Nothing booked; the payment waits for a person, named with the webhook.
    assert shop.engine.invoice(invoice_id) == paid
    flagged = shop.engine.payments_needing_attention()
    assert [p.id for p in flagged] == [payment_id]
    assert flagged[0].attention is not None
    assert "webhook evt_2" in flagged[0].attention.detail


def test_a_late_processing_event_changes_nothing() -> None:
    shop = Shop()
    payment_id, key, _ = shop.sale(PENDING)
    shop.send("evt_2", "payment_intent.succeeded", intent(key))
    settled = shop.engine.payment(payment_id)
    shop.send("evt_1", "payment_intent.processing", intent(key, status="processing"))
    assert shop.engine.payment(payment_id) == settled


def test_metadata_naming_payment_and_transaction_finds_the_request() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(PENDING)
    obj = intent("unused")
    obj["metadata"] = {"o2c_payment_id": payment_id, "o2c_transaction_id": "T1"}
    assert shop.send("evt_1", "payment_intent.succeeded", obj).payment_ids == (payment_id,)
    assert shop.engine.payment(payment_id).state is PaymentState.CAPTURED


@pytest.mark.parametrize(
    "metadata",
    [
        {"o2c_idempotency_key": "never-sent"},
        {"o2c_payment_id": "PAY-404", "o2c_transaction_id": "T1"},
        {"o2c_payment_id": "PAY-000001", "o2c_transaction_id": "T9"},
    ],
)
def test_an_answer_to_a_request_o2c_never_made_is_refused(metadata: dict[str, str]) -> None:
    shop = Shop()
    shop.sale(PENDING)
    before = shop.storage.snapshot()
    obj = intent("x")
    obj["metadata"] = metadata
    with pytest.raises(EngineStateError) as info:
        shop.send("evt_1", "payment_intent.succeeded", obj)
    assert info.value.reason == "it answers no request o2c made"
    assert shop.storage.snapshot() == before


def test_an_answer_sent_by_another_gateway_is_refused() -> None:
    shop = Shop()
    _, key, _ = shop.sale(PENDING, gateway="other")
    with pytest.raises(EngineStateError) as info:
        shop.send("evt_1", "payment_intent.succeeded", intent(key))
    assert "runs on gateway other, not stripe" in info.value.reason
    assert shop.send("evt_1", "payment_intent.succeeded", intent(key), gateway="other").status is (
        WebhookStatus.APPLIED
    )


def test_refunds_are_answered_by_refund_events() -> None:
    shop = Shop()
    payment_id, _, invoice_id = shop.sale(CARD)
    payment = shop.engine.refund_payment("refund", payment_id, Money("20.00", "EUR"))
    refund_key = payment.transactions[-1].idempotency_key
    assert shop.engine.invoice(invoice_id).state is InvoiceState.PAID  # pending: nothing moved
    refunds = {
        "object": "list",
        "data": [
            {
                "id": "re_1",
                "object": "refund",
                "status": "succeeded",
                "metadata": {"o2c_idempotency_key": refund_key},
            }
        ],
    }
    charge = {
        "id": f"ch_{payment_id}",
        "object": "charge",
        "status": "succeeded",
        "refunds": refunds,
    }
    result = shop.send("evt_1", "charge.refunded", charge)
    assert result.payment_ids == (payment_id,)
    assert shop.engine.payment(payment_id).refunded == Money("20.00", "EUR")
    assert shop.engine.invoice(invoice_id).state is InvoiceState.PARTIALLY_PAID


# --------------------------------------------------------------------------- refusals store nothing


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (lambda s, b: s.sign(b, "whsec_wrong"), SignatureMismatchError),
        (lambda s, b: s.sign(b, at=START - timedelta(seconds=301)), TimestampOutsideToleranceError),
        (lambda s, b: s.sign(b, at=START + timedelta(seconds=301)), TimestampOutsideToleranceError),
        (lambda s, b: "nonsense", MalformedSignatureHeaderError),
        (lambda s, b: s.sign(b).replace("v1=", "v0="), NoV1SignatureError),
    ],
)
def test_a_bad_signature_stores_nothing(header: Any, error: type[Exception]) -> None:
    shop = Shop()
    _, key, _ = shop.sale(PENDING)
    body = shop.body("evt_1", "payment_intent.succeeded", intent(key))
    before = shop.storage.snapshot()
    with pytest.raises(error):
        shop.engine.receive_webhook("stripe", body, header(shop, body))
    assert shop.storage.snapshot() == before
    # The event still goes through when it comes properly signed.
    assert shop.engine.receive_webhook("stripe", body, shop.sign(body)).status is (
        WebhookStatus.APPLIED
    )


@pytest.mark.parametrize("gateway", ["unknown", "", None])
def test_a_gateway_without_secrets_is_refused(gateway: Any) -> None:
    shop = Shop()
    body = shop.body("evt_1", "plan.created", {"object": "plan"})
    with pytest.raises(WebhookSecretError) as info:
        shop.engine.receive_webhook(gateway, body, shop.sign(body))
    assert isinstance(info.value, WebhookSignatureError)


def test_an_unreadable_body_stores_nothing() -> None:
    shop = Shop()
    before = shop.storage.snapshot()
    body = b'{"id": "evt_1", "object": "event"'
    with pytest.raises(WebhookPayloadError) as info:
        shop.engine.receive_webhook("stripe", body, shop.sign(body))
    assert info.value.path == "(body)"
    assert shop.storage.snapshot() == before


def test_the_body_limit_comes_from_the_configuration() -> None:
    shop = Shop()
    shop.engine.config = attrs.evolve(shop.engine.config, webhook_max_body_bytes=10)
    body = shop.body("evt_1", "plan.created", {"object": "plan"})
    with pytest.raises(WebhookSignatureError):
        shop.engine.receive_webhook("stripe", body, shop.sign(body))


def test_events_o2c_does_not_act_on_are_acknowledged_once() -> None:
    shop = Shop()
    result = shop.send("evt_1", "plan.created", {"object": "plan", "id": "plan_1"})
    assert result.status is WebhookStatus.IGNORED
    assert "plan.created" in result.reason
    stranger = {"id": "pi_9", "object": "payment_intent", "status": "succeeded", "metadata": {}}
    ignored = shop.send("evt_2", "payment_intent.succeeded", stranger)
    assert ignored.status is WebhookStatus.IGNORED
    assert "not requested by o2c" in ignored.reason
    statuses = [
        e[1].status for e in shop.storage.snapshot().outbox if isinstance(e[1], WebhookProcessed)
    ]
    assert statuses == ["ignored", "ignored"]
    assert shop.send("evt_1", "plan.created", {"object": "plan", "id": "plan_1"}) == result


# --------------------------------------------------------------------------- disputes


def test_a_dispute_on_a_known_charge_opens_a_chargeback() -> None:
    shop = Shop()
    payment_id, _, invoice_id = shop.sale(CARD)
    result = shop.send(
        "evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment_id}")
    )
    assert result.status is WebhookStatus.APPLIED
    assert (result.payment_ids, result.dispute_id) == ((payment_id,), "DSP-000001")
    d = shop.engine.dispute("DSP-000001")
    assert (d.state, d.amount, d.payment_id, d.invoice_id, d.customer_id) == (
        DisputeState.NEEDS_RESPONSE,
        Money("50.00", "EUR"),
        payment_id,
        invoice_id,
        "ada",
    )
    assert (d.provider, d.provider_id, d.provider_payment_ref) == (
        "stripe",
        "dp_1",
        f"ch_{payment_id}",
    )
    assert d.opened_at == START - timedelta(hours=1)
    assert d.respond_by == START + timedelta(days=20)
    assert shop.engine.parked_webhooks() == ()


def test_a_closed_dispute_arriving_before_created_ends_as_in_order() -> None:
    lifecycle = [
        ("evt_d1", "charge.dispute.created", "needs_response"),
        ("evt_d2", "charge.dispute.updated", "under_review"),
        ("evt_d3", "charge.dispute.closed", "won"),
    ]
    ends = []
    for order in (lifecycle, lifecycle[::-1]):
        shop = Shop()
        payment_id, _, _ = shop.sale(CARD)
        for event_id, event_type, status in order:
            shop.send(event_id, event_type, dispute(status, f"ch_{payment_id}"))
        d = shop.engine.dispute("DSP-000001")
        ends.append((d.state, d.amount, d.respond_by, d.outcome and d.outcome.state))
        assert d.evidence is not None
        assert d.evidence.text("uncategorized_text") == "signed for"
    assert ends[0] == ends[1]
    assert ends[0][0] is DisputeState.WON


def test_a_repeated_or_stale_snapshot_changes_nothing() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    shop.send("evt_d2", "charge.dispute.updated", dispute("under_review", f"ch_{payment_id}"))
    before = shop.engine.dispute("DSP-000001")
    same = shop.send(
        "evt_d2b", "charge.dispute.updated", dispute("under_review", f"ch_{payment_id}")
    )
    assert (same.status, same.reason) == (
        WebhookStatus.APPLIED,
        "the dispute was already up to date",
    )
    assert shop.engine.dispute("DSP-000001") == before
    stale = shop.send(
        "evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment_id}")
    )
    assert stale.status is WebhookStatus.APPLIED
    assert shop.engine.dispute("DSP-000001").state is DisputeState.UNDER_REVIEW


def test_a_dispute_before_its_payment_succeeded_is_parked_and_released() -> None:
    shop = Shop()
    payment_id, key, _ = shop.sale(PENDING)
    obj = dispute("needs_response", "ch_1", payment_intent="pi_1")
    parked = shop.send("evt_d1", "charge.dispute.created", obj)
    assert parked.status is WebhookStatus.PARKED
    assert parked.reason == "no payment on gateway stripe has the reference ch_1 / pi_1"
    assert parked.dispute_id is None
    shop.send("evt_d2", "charge.dispute.funds_withdrawn", obj)
    (waiting,) = shop.engine.parked_webhooks()
    assert [s.event_id for s in waiting.snapshots] == ["evt_d1", "evt_d2"]
    assert shop.engine.parked_webhooks("stripe") == (waiting,)
    assert shop.engine.parked_webhooks("other") == ()

    released = shop.send("evt_1", "payment_intent.succeeded", intent(key))

    assert released.released == ("DSP-000001",)
    assert shop.engine.parked_webhooks() == ()
    d = shop.engine.dispute("DSP-000001")
    assert (d.payment_id, d.state) == (payment_id, DisputeState.NEEDS_RESPONSE)
    # Later events of the dispute go straight to it.
    closed = shop.send(
        "evt_d3", "charge.dispute.closed", dispute("lost", "ch_1", payment_intent="pi_1")
    )
    assert closed.dispute_id == "DSP-000001"
    assert shop.engine.dispute("DSP-000001").state is DisputeState.LOST
    assert shop.engine.parked_webhooks() == ()


def test_a_dispute_larger_than_the_cash_held_waits_for_the_capture() -> None:
    shop = Shop()
    order_id = shop.order()
    shop.engine.invoice_order("invoice", order_id, "ordered")
    payment = shop.engine.authorize_payment("authorize", order_id, token=CARD, gateway="stripe")
    parked = shop.send(
        "evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment.id}")
    )
    assert parked.status is WebhookStatus.PARKED
    assert parked.reason == f"payment {payment.id} holds 0.00 EUR, less than the 50.00 EUR disputed"
    # The capture itself (answered at once here) makes the dispute fit: it opens.
    shop.engine.capture_payment("capture", payment.id)
    assert shop.engine.parked_webhooks() == ()
    opened = shop.engine.dispute("DSP-000001")
    assert (opened.payment_id, opened.state) == (payment.id, DisputeState.NEEDS_RESPONSE)
    applied = shop.send(
        "evt_d2", "charge.dispute.updated", dispute("under_review", f"ch_{payment.id}")
    )
    assert applied.status is WebhookStatus.APPLIED
    assert applied.dispute_id == "DSP-000001"
    assert shop.engine.dispute(applied.dispute_id).state is DisputeState.UNDER_REVIEW


def test_a_capture_resolved_by_the_reconciler_releases_a_dispute_waiting_for_cash() -> None:
    shop = Shop()
    order_id = shop.order()
    shop.engine.invoice_order("invoice", order_id, "ordered")
    payment = shop.engine.authorize_payment("authorize", order_id, token=CARD, gateway="stripe")
    gateway = shop.engine.gateways["stripe"]
    answers = {"capture": Unknown()}
    gateway.capture = lambda request: answers["capture"]  # type: ignore[attr-defined]
    shop.engine.capture_payment("capture", payment.id)  # the gateway times out: unknown
    parked = shop.send(
        "evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment.id}")
    )
    assert parked.status is WebhookStatus.PARKED

    shop.clock.advance(minutes=5)
    report = shop.engine.reconcile_payments()  # status: the stub says it succeeded

    assert [i.payment_id for i in report.resolved] == [payment.id]
    assert shop.engine.parked_webhooks() == ()
    assert shop.engine.dispute("DSP-000001").payment_id == payment.id


def test_a_capture_answered_by_webhook_releases_a_dispute_waiting_for_cash() -> None:
    shop = Shop()
    order_id = shop.order()
    shop.engine.invoice_order("invoice", order_id, "ordered")
    authorized = shop.engine.authorize_payment(
        "authorize", order_id, token=PENDING, gateway="stripe"
    )
    auth_key = authorized.transactions[-1].idempotency_key
    shop.send(
        "evt_a",
        "payment_intent.amount_capturable_updated",
        intent(auth_key, status="requires_capture"),
    )
    payment = shop.engine.capture_payment("capture", authorized.id)
    capture_key = payment.transactions[-1].idempotency_key
    obj = dispute("needs_response", "ch_1", payment_intent="pi_1")
    assert shop.send("evt_d1", "charge.dispute.created", obj).status is WebhookStatus.PARKED

    result = shop.send("evt_c", "payment_intent.succeeded", intent(capture_key))

    assert result.released == ("DSP-000001",)
    assert shop.engine.dispute("DSP-000001").payment_id == authorized.id


def test_a_manual_chargeback_is_moved_by_the_gateways_events() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    manual = shop.engine.open_chargeback("cb", payment_id, reason="fraudulent", provider_id="dp_1")
    result = shop.send(
        "evt_d2", "charge.dispute.updated", dispute("under_review", f"ch_{payment_id}")
    )
    assert result.dispute_id == manual.id
    assert shop.engine.dispute(manual.id).state is DisputeState.UNDER_REVIEW


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"o2c_payment_id": "PAY-000001"}},
        {"charge": {"id": "ch_unknown", "metadata": {"o2c_payment_id": "PAY-000001"}}},
    ],
)
def test_a_dispute_may_find_its_payment_by_metadata(extra: dict[str, Any]) -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    obj = dispute("needs_response", "ch_unknown") | extra
    assert shop.send("evt_d1", "charge.dispute.created", obj).payment_ids == (payment_id,)


def test_metadata_naming_a_payment_on_another_gateway_is_not_trusted() -> None:
    shop = Shop()
    shop.sale(CARD, gateway="other")
    obj = dispute("needs_response", "ch_unknown", metadata={"o2c_payment_id": "PAY-000001"})
    assert shop.send("evt_d1", "charge.dispute.created", obj).status is WebhookStatus.PARKED
    other = dispute("needs_response", "oc_PAY-000001")
    assert shop.send("evt_d2", "charge.dispute.created", other).status is WebhookStatus.PARKED
    assert shop.send("evt_d2", "charge.dispute.created", other, gateway="other").status is (
        WebhookStatus.APPLIED
    )


def test_a_dispute_in_another_currency_waits_with_the_reason() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    obj = dispute("needs_response", f"ch_{payment_id}") | {"currency": "usd"}
    result = shop.send("evt_d1", "charge.dispute.created", obj)
    assert result.status is WebhookStatus.PARKED
    assert result.reason == f"the dispute is in USD, payment {payment_id} in EUR"


def test_a_dispute_on_a_payment_without_a_customer_waits() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    with shop.storage.begin() as uow:
        payment = payments_of(uow).require(payment_id)
        payments_of(uow).put(attrs.evolve(payment, customer_id=None))
        uow.commit()
    result = shop.send(
        "evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment_id}")
    )
    assert result.reason == f"payment {payment_id} has no customer"


def test_only_the_latest_parked_snapshots_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbound_module, "MAX_PARKED_SNAPSHOTS", 2)
    shop = Shop()
    base = int(START.timestamp())
    for n, status in enumerate(["needs_response", "under_review", "won"]):
        shop.send(f"evt_{n}", "charge.dispute.updated", dispute(status, "ch_1"), created=base + n)
    (waiting,) = shop.engine.parked_webhooks()
    assert isinstance(waiting, ParkedWebhook)
    assert [s.event_id for s in waiting.snapshots] == ["evt_1", "evt_2"]
    assert waiting.parked_at == START


# --------------------------------------------------------------------------- resolve_dispute


def lost_dispute(shop: Shop) -> tuple[str, str]:
    payment_id, _, invoice_id = shop.sale(CARD)
    shop.send("evt_d1", "charge.dispute.closed", dispute("lost", f"ch_{payment_id}"))
    return "DSP-000001", invoice_id


def test_a_lost_dispute_is_written_off_by_default() -> None:
    shop = Shop()
    dispute_id, invoice_id = lost_dispute(shop)
    assert shop.engine.invoice(invoice_id).state is InvoiceState.PAID  # nothing booked yet
    resolved = shop.engine.resolve_dispute("resolve", dispute_id)
    assert resolved.resolution is not None
    assert resolved.resolution.resolution.value == "write_off"
    assert resolved.resolution.amount == Money("50.00", "EUR")
    assert shop.engine.invoice(invoice_id).state is InvoiceState.WRITTEN_OFF


def test_a_lost_dispute_may_be_credited() -> None:
    shop = Shop()
    dispute_id, invoice_id = lost_dispute(shop)
    resolved = shop.engine.resolve_dispute("resolve", dispute_id, "credit_note")
    assert resolved.resolution is not None
    assert resolved.resolution.reference == "CN-000001"
    assert shop.engine.invoice(invoice_id).open_amount == Money("0.00", "EUR")


def test_a_won_chargeback_is_resolved_with_nothing_to_book() -> None:
    shop = Shop()
    payment_id, _, invoice_id = shop.sale(CARD)
    shop.send("evt_d1", "charge.dispute.closed", dispute("won", f"ch_{payment_id}"))
    resolved = shop.engine.resolve_dispute("resolve", "DSP-000001")
    assert resolved.resolution is not None
    assert resolved.resolution.resolution.value == "none"
    assert shop.engine.invoice(invoice_id).state is InvoiceState.PAID


def test_resolving_an_open_or_resolved_dispute_or_a_wrong_resolution_is_refused() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    shop.send("evt_d1", "charge.dispute.created", dispute("needs_response", f"ch_{payment_id}"))
    before = shop.storage.snapshot()
    with pytest.raises(DisputeNotClosedError):
        shop.engine.resolve_dispute("r1", "DSP-000001")
    assert shop.storage.snapshot() == before
    shop.send("evt_d2", "charge.dispute.closed", dispute("lost", f"ch_{payment_id}"))
    before = shop.storage.snapshot()
    with pytest.raises(InvalidResolutionError):
        shop.engine.resolve_dispute("r1", "DSP-000001", "collect")
    assert shop.storage.snapshot() == before
    shop.engine.resolve_dispute("r1", "DSP-000001")
    with pytest.raises(DisputeAlreadyResolvedError):
        shop.engine.resolve_dispute("r2", "DSP-000001", "credit_note")


def test_a_refund_on_a_charge_without_reference_releases_nothing() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(NO_REFERENCE)
    payment = shop.engine.refund_payment("refund", payment_id, Money("5.00", "EUR"))
    key = payment.transactions[-1].idempotency_key
    refund = {"id": "re_1", "object": "refund", "status": "succeeded"}
    refund["metadata"] = {"o2c_idempotency_key": key}  # type: ignore[assignment]
    result = shop.send("evt_r", "refund.updated", refund)
    assert (result.payment_ids, result.released) == ((payment_id,), ())
    assert shop.engine.payment(payment_id).refunded == Money("5.00", "EUR")


def test_a_parked_dispute_that_still_does_not_fit_stays_parked() -> None:
    shop = Shop()
    payment_id, key, _ = shop.sale(PENDING)
    obj = dispute("needs_response", None, payment_intent="pi_1") | {"currency": "usd"}
    assert shop.send("evt_d1", "charge.dispute.created", obj).status is WebhookStatus.PARKED
    result = shop.send("evt_1", "payment_intent.succeeded", intent(key))
    assert result.released == ()
    (waiting,) = shop.engine.parked_webhooks()
    assert waiting.reason == f"the dispute is in USD, payment {payment_id} in EUR"
    assert waiting.charge is None


def test_other_disputes_on_the_same_payment_are_left_alone() -> None:
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    manual = shop.engine.open_chargeback(
        "cb", payment_id, reason="duplicate", amount=Money("10.00", "EUR")
    )
    obj = dispute("needs_response", f"ch_{payment_id}", amount=2000)
    result = shop.send("evt_d1", "charge.dispute.created", obj)
    assert result.dispute_id == "DSP-000002"
    assert shop.engine.dispute(manual.id).provider_id is None


# --------------------------------------------------------------------------- the docs' endpoint


def test_the_endpoint_in_the_docs_answers_as_documented() -> None:
    text = (REPO_ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL) if "def " in b]
    shop = Shop()
    _, key, _ = shop.sale(PENDING)
    scope: dict[str, Any] = {"engine": shop.engine}
    exec(compile(code, "docs/webhooks.md", "exec"), scope)  # noqa: S102 - our own docs

    def post(body: bytes, header: str) -> tuple[str, bytes]:
        answer: list[str] = []
        environ = {
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "HTTP_STRIPE_SIGNATURE": header,
        }
        chunks = scope["stripe_webhook"](environ, lambda status, _headers: answer.append(status))
        return answer[0], b"".join(chunks)

    good = shop.body("evt_1", "payment_intent.succeeded", intent(key))
    assert post(good, shop.sign(good, "whsec_wrong")) == (
        "400 Bad Request",
        b"webhook.signature.mismatch",
    )
    assert post(good, shop.sign(good)) == ("200 OK", b"applied")
    assert post(good, shop.sign(good)) == ("200 OK", b"applied")  # a redelivery
    stranger = shop.body("evt_2", "payment_intent.succeeded", intent("never-sent"))
    assert post(stranger, shop.sign(stranger)) == ("500 Internal Server Error", b"retry")


def test_later_events_find_the_dispute_without_its_payment() -> None:
    # The first event named the payment in metadata; the next one does not, and its
    # charge id means nothing to o2c: the link kept from the first finds the dispute.
    shop = Shop()
    payment_id, _, _ = shop.sale(CARD)
    first = dispute("needs_response", "ch_unknown", metadata={"o2c_payment_id": payment_id})
    opened = shop.send("evt_d1", "charge.dispute.created", first)
    closed = shop.send("evt_d2", "charge.dispute.closed", dispute("lost", "ch_unknown"))
    assert closed.dispute_id == opened.dispute_id == "DSP-000001"
    assert shop.engine.dispute("DSP-000001").state is DisputeState.LOST
    assert shop.engine.parked_webhooks() == ()
