"""Stripe's own fixtures, signed and pushed through O2C.receive_webhook.

Every merchant dispute object in the shared samples (dj-stripe's and the ones inside
stripe/openapi's ``fixtures3.json``) is wrapped in a ``charge.dispute.*`` event
envelope, signed with :func:`o2c.webhooks.sign_payload` and received by an engine
where the disputed payment exists: a card sale left pending, whose success arrives as
Stripe's own charge fixture (its ``id`` and ``payment_intent`` set to the disputed
ones, o2c's request key added to its ``metadata``). The samples are read in place
(``samples_dir``), never copied into the repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from o2c.adapters.stripe_events import stripe_event_body
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.disputes import dispute_from_stripe
from o2c.engine import O2C, EngineConfig
from o2c.lifecycles import DISPUTE_WORKFLOW, DisputeState, PaymentState
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.payments import Outcome, Pending
from o2c.ports import GatewayRequest
from o2c.webhooks import WebhookStatus, sign_payload

pytestmark = pytest.mark.samples

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECRET = "whsec_samples"  # noqa: S105 - a test secret
CARD = "tok_visa"
HOME = Address(name="Jane Doe", lines=("1 Main St",), city="Springfield", country="US")
S = DisputeState

# Dispute id -> the state its sample maps onto (as tests/integration/test_stripe_samples.py).
STATES = {
    "openapi-f6c2a48/fixtures3.json": S.INQUIRY,
    "openapi-a713424/fixtures3.json": S.LOST,
    "dj-stripe/dispute_dp_fakefakefakefake01.json": S.NEEDS_RESPONSE,
    "dj-stripe/dispute_dp_fakefakefakefake02.json": S.NEEDS_RESPONSE,
    "dj-stripe/dispute_dp_funds_reinstated_full.json": S.UNDER_REVIEW,
}
# What Stripe sends for a dispute in each status.
EVENT_FOR = {
    "warning_needs_response": "charge.dispute.created",
    "needs_response": "charge.dispute.funds_withdrawn",
    "under_review": "charge.dispute.funds_reinstated",
    "lost": "charge.dispute.closed",
}


class PendingGateway:
    """Every request stays pending; Stripe's webhooks bring the answers."""

    def _pending(self, request: GatewayRequest) -> Outcome:
        return Pending(f"req_{request.transaction_id}")

    authorize = sale = capture = void = refund = status = _pending


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


@pytest.fixture(scope="module")
def stripe_dir(samples_dir: Path) -> Path:
    root = samples_dir / "stripe"
    if not root.is_dir():
        pytest.skip(f"no Stripe samples at {root}")
    return root


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def disputes_in(stripe_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every merchant dispute object in the samples, with its file."""
    found = []
    for path in sorted(stripe_dir.rglob("*.json")):
        for obj in _objects(_load(path)):
            if obj.get("object") == "dispute":
                found.append((path.relative_to(stripe_dir).as_posix(), obj))
    return found


def charge_fixture(stripe_dir: Path, rel: str) -> dict[str, Any]:
    """Stripe's charge fixture from the same source as the dispute."""
    if rel.startswith("dj-stripe/"):
        charge: dict[str, Any] = _load(stripe_dir / "dj-stripe/dispute_ch_fakefakefakefake01.json")
    else:
        charge = _load(stripe_dir / rel)["resources"]["charge"]
    return charge


class Merchant:
    """An engine with a US customer who bought a 50.00 USD mug by card, the sale
    pending at the gateway ``stripe``."""

    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.engine = O2C(
            clock=self.clock,
            gateways={"stripe": PendingGateway()},
            config=EngineConfig(webhook_secrets={"stripe": ("whsec_old", SECRET)}),
        )
        self.engine.add_customer(
            "c",
            Customer(
                id="jane",
                name="Jane",
                currency="USD",
                billing_address=HOME,
                shipping_addresses=(HOME,),
                payment_terms="NET30",
                credit_limit=Money("1000.00", "USD"),
            ),
        )
        self.engine.receive_stock("s", "MUG", 5)
        line = OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=1,
            unit_price=Money("50.00", "USD"),
        )
        order = self.engine.place_order("o", customer_id="jane", lines=[line])
        invoice = self.engine.invoice_order("i", order.id, "ordered")
        payment = self.engine.pay_invoices("p", "jane", [invoice.id], token=CARD)
        self.payment_id = payment.id
        self.key = payment.transactions[-1].idempotency_key

    def send(self, event_id: str, event_type: str, obj: dict[str, Any]) -> Any:
        body = stripe_event_body(event_id, event_type, obj, created=self.clock.now())
        return self.engine.receive_webhook("stripe", body, sign_payload(body, SECRET, NOW))

    def charge_succeeded(self, charge: dict[str, Any], dispute: dict[str, Any]) -> Any:
        paid = dict(charge)
        paid["id"] = dispute["charge"]
        paid["payment_intent"] = dispute.get("payment_intent")
        paid["metadata"] = {**(charge.get("metadata") or {}), "o2c_idempotency_key": self.key}
        return self.send("evt_charge", "charge.succeeded", paid)


def test_every_sample_dispute_is_received_on_its_payment(stripe_dir: Path) -> None:
    found = disputes_in(stripe_dir)
    assert sorted(rel for rel, _ in found) == sorted(STATES)
    for rel, obj in found:
        shop = Merchant()
        paid = shop.charge_succeeded(charge_fixture(stripe_dir, rel), obj)
        assert paid.status is WebhookStatus.APPLIED, rel
        assert shop.engine.payment(shop.payment_id).state is PaymentState.CAPTURED

        result = shop.send("evt_dispute", EVENT_FOR[obj["status"]], obj)

        assert result.status is WebhookStatus.APPLIED, (rel, result.reason)
        dispute = shop.engine.dispute(result.dispute_id)
        assert dispute.state is STATES[rel], rel
        assert dispute.payment_id == shop.payment_id
        assert dispute.customer_id == "jane"
        assert dispute.invoice_id == "INV-000001"
        assert dispute.amount == Money.from_minor_units(obj["amount"], "USD")
        # Exactly what reading the object directly gives.
        direct, _ = dispute_from_stripe(obj, dispute.id, "jane", NOW)
        assert (dispute.state, dispute.respond_by, dispute.evidence, dispute.reason) == (
            direct.state,
            direct.respond_by,
            direct.evidence,
            direct.reason,
        )
        # A redelivery changes nothing.
        assert shop.send("evt_dispute", EVENT_FOR[obj["status"]], obj) == result


def test_sample_disputes_arriving_before_the_charge_wait_for_it(stripe_dir: Path) -> None:
    for rel, obj in disputes_in(stripe_dir):
        shop = Merchant()
        parked = shop.send("evt_dispute", "charge.dispute.created", obj)
        assert parked.status is WebhookStatus.PARKED, rel
        paid = shop.charge_succeeded(charge_fixture(stripe_dir, rel), obj)
        assert len(paid.released) == 1, rel
        assert shop.engine.dispute(paid.released[0]).state is STATES[rel]
        assert shop.engine.parked_webhooks() == ()


def test_dj_stripe_lifecycle_in_either_order_ends_the_same(stripe_dir: Path) -> None:
    # The same dispute, first needing a response, then under review with evidence.
    files = ["dispute_dp_fakefakefakefake01.json", "dispute_dp_funds_reinstated_full.json"]
    snapshots = [_load(stripe_dir / "dj-stripe" / f) for f in files]
    ends = []
    for order in (snapshots, snapshots[::-1]):
        shop = Merchant()
        shop.charge_succeeded(charge_fixture(stripe_dir, "dj-stripe/x"), snapshots[0])
        for n, obj in enumerate(order):
            shop.send(f"evt_{obj['status']}_{n}", EVENT_FOR[obj["status"]], obj)
        d = shop.engine.dispute("DSP-000001")
        ends.append((d.state, d.amount, d.respond_by, d.evidence and d.evidence.texts))
        assert DISPUTE_WORKFLOW.is_final(d.state) is False
    assert ends[0] == ends[1]
    assert ends[0][0] is S.UNDER_REVIEW


def test_stripes_own_event_fixtures_are_acknowledged(stripe_dir: Path) -> None:
    # stripe-mock's example events (plan.created, source.chargeable) concern o2c in no
    # way: they are verified, read and acknowledged, and change nothing else.
    for path in sorted(stripe_dir.glob("openapi-*/fixtures3.json")):
        event = _load(path)["resources"]["event"]
        body = json.dumps(event).encode()
        shop = Merchant()
        result = shop.engine.receive_webhook("stripe", body, sign_payload(body, "whsec_old", NOW))
        assert result.status is WebhookStatus.IGNORED, path
        assert result.event_id == event["id"]
        assert event["type"] in result.reason
        assert shop.engine.payment(shop.payment_id).state is PaymentState.NEW
