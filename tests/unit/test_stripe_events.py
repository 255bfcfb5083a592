"""Reading Stripe events (o2c.adapters.stripe_events): what maps to what, and every way
a body can be refused, with the path of what is wrong."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from o2c.adapters.stripe_events import (
    MAX_DEPTH,
    MAX_REFUNDS,
    InboundEvent,
    parse_stripe_event,
    stripe_event_body,
)
from o2c.disputes import dispute_from_stripe, read_stripe_dispute, update_from_stripe
from o2c.errors import InvalidStripeDisputeError, WebhookPayloadError
from o2c.money import Money
from o2c.payments import DeclineReason, Failed, Pending, Succeeded

CREATED = 1_772_442_000
KEY = "k1|PAY-000001/T1"
META = {"o2c_idempotency_key": KEY}


def event(event_type: str, obj: dict[str, Any], **envelope: Any) -> bytes:
    body = json.loads(stripe_event_body("evt_1", event_type, obj, created=CREATED))
    body.update(envelope)
    return json.dumps(body).encode()


def parse(event_type: str, obj: dict[str, Any]) -> InboundEvent:
    return parse_stripe_event(event(event_type, obj))


def refused(body: bytes) -> WebhookPayloadError:
    with pytest.raises(WebhookPayloadError) as info:
        parse_stripe_event(body)
    return info.value


def intent(status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "status": status, "metadata": META, **extra}


def charge(status: str = "succeeded", **extra: Any) -> dict[str, Any]:
    return {"id": "ch_1", "object": "charge", "status": status, "metadata": META, **extra}


def refund(status: str = "succeeded", rid: str = "re_1", **extra: Any) -> dict[str, Any]:
    meta = {"o2c_idempotency_key": f"refund-key-{rid}"}
    return {"id": rid, "object": "refund", "status": status, "metadata": meta, **extra}


def dispute(**extra: Any) -> dict[str, Any]:
    return {
        "id": "dp_1",
        "object": "dispute",
        "amount": 1000,
        "currency": "usd",
        "status": "needs_response",
        "reason": "fraudulent",
        "charge": "ch_1",
        "payment_intent": "pi_1",
        "created": CREATED - 60,
        "evidence_details": {
            "due_by": CREATED + 86_400,
            "has_evidence": False,
            "submission_count": 0,
        },
        "evidence": {"customer_name": "Ada"},
        "metadata": {},
        **extra,
    }


# --------------------------------------------------------------------------- payment outcomes


@pytest.mark.parametrize(
    ("event_type", "obj", "outcome"),
    [
        ("payment_intent.succeeded", intent(), Succeeded("pi_1")),
        (
            "payment_intent.amount_capturable_updated",
            intent("requires_capture"),
            Succeeded("pi_1"),
        ),
        ("payment_intent.processing", intent("processing"), Pending("pi_1")),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error={"code": "card_declined", "decline_code": "fraudulent"}),
            Failed(DeclineReason.FRAUD_SUSPECTED, "pi_1"),
        ),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error={"code": "expired_card"}),
            Failed(DeclineReason.EXPIRED_CARD, "pi_1"),
        ),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error={"type": "idempotency_error"}),
            Failed(DeclineReason.OTHER, "pi_1"),
        ),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error=None),
            Failed(DeclineReason.OTHER, "pi_1"),
        ),
        ("charge.succeeded", charge(payment_intent="pi_1"), Succeeded("pi_1")),
        ("charge.succeeded", charge(payment_intent=None), Succeeded("ch_1")),
        ("charge.captured", charge(payment_intent={"id": "pi_9"}), Succeeded("pi_9")),
        ("charge.pending", charge("pending"), Pending("ch_1")),
        (
            "charge.failed",
            charge("failed", failure_code="insufficient_funds"),
            Failed(DeclineReason.INSUFFICIENT_FUNDS, "ch_1"),
        ),
        ("charge.failed", charge("failed"), Failed(DeclineReason.OTHER, "ch_1")),
        ("refund.created", refund("pending"), Pending("re_1")),
        ("refund.updated", refund("requires_action"), Pending("re_1")),
        ("charge.refund.updated", refund(), Succeeded("re_1")),
        (
            "refund.failed",
            refund("failed", failure_reason="expired_or_canceled_card"),
            Failed(DeclineReason.OTHER, "re_1"),
        ),
        ("refund.updated", refund("canceled"), Failed(DeclineReason.OTHER, "re_1")),
    ],
)
def test_payment_events_map_to_outcomes(
    event_type: str, obj: dict[str, Any], outcome: object
) -> None:
    parsed = parse(event_type, obj)
    assert parsed.ignored == ""
    assert parsed.dispute is None
    (answer,) = parsed.payments
    assert answer.outcome == outcome
    assert answer.event_id == "evt_1"
    assert answer.occurred_at == datetime.fromtimestamp(CREATED, UTC)
    assert answer.idempotency_key == obj["metadata"]["o2c_idempotency_key"]
    event_ = answer.gateway_event(KEY)
    assert (event_.event_id, event_.outcome, event_.idempotency_key) == ("evt_1", outcome, KEY)


def test_metadata_may_name_payment_and_transaction_instead_of_the_key() -> None:
    meta = {"o2c_payment_id": "PAY-000001", "o2c_transaction_id": "T1"}
    (answer,) = parse("payment_intent.succeeded", intent(metadata=meta)).payments
    assert (answer.idempotency_key, answer.payment_id, answer.transaction_id) == (
        None,
        "PAY-000001",
        "T1",
    )


@pytest.mark.parametrize(
    ("event_type", "obj", "why"),
    [
        ("payment_intent.succeeded", intent(metadata={}), "pi_1 was not requested by o2c"),
        ("charge.succeeded", charge(metadata=None), "ch_1 was not requested by o2c"),
        (
            "payment_intent.succeeded",
            intent(metadata={"o2c_payment_id": "PAY-000001"}),
            "pi_1 was not requested by o2c",
        ),
        (
            "payment_intent.amount_capturable_updated",
            intent("requires_payment_method"),
            "pi_1 reports no outcome o2c records",
        ),
        ("refund.updated", refund("weird_new_status"), "re_1 reports no outcome o2c records"),
        ("charge.refunded", charge(), "the charge lists no refunds"),
        ("charge.refunded", charge(refunds={"object": "list"}), "the charge lists no refunds"),
        ("customer.created", {"object": "customer", "id": "cus_1"}, "event type customer.created"),
        ("payment_intent.canceled", intent("canceled"), "payment_intent.canceled is not one"),
    ],
)
def test_events_that_concern_o2c_in_no_way_are_ignored(
    event_type: str, obj: dict[str, Any], why: str
) -> None:
    parsed = parse(event_type, obj)
    assert parsed.payments == ()
    assert parsed.dispute is None
    assert why in parsed.ignored


def test_charge_refunded_answers_each_refund_o2c_requested() -> None:
    stranger = refund(rid="re_3")
    stranger["metadata"] = {}
    refunds = {"object": "list", "data": [refund(rid="re_1"), refund("pending", "re_2"), stranger]}
    parsed = parse("charge.refunded", charge(refunds=refunds))
    assert [(a.event_id, a.outcome, a.idempotency_key) for a in parsed.payments] == [
        ("evt_1/re_1", Succeeded("re_1"), "refund-key-re_1"),
        ("evt_1/re_2", Pending("re_2"), "refund-key-re_2"),
    ]
    only_stranger = parse("charge.refunded", charge(refunds={"data": [stranger]}))
    assert only_stranger.payments == ()
    assert "no refund in the event was requested by o2c" in only_stranger.ignored


# --------------------------------------------------------------------------- disputes


def test_a_dispute_event_carries_a_reduced_snapshot() -> None:
    card = "4242 4242 4242 4242"
    obj = dispute(evidence={"uncategorized_text": f"paid with {card}", "receipt": "file_1"})
    obj["balance_transactions"] = [{"id": "txn_1", "amount": -1000}]
    parsed = parse("charge.dispute.created", obj)
    snap = parsed.dispute
    assert snap is not None
    assert (snap.provider_id, snap.status, snap.charge, snap.payment_intent) == (
        "dp_1",
        "needs_response",
        "ch_1",
        "pi_1",
    )
    assert snap.amount == Money("10.00", "USD")
    assert snap.payment_id is None
    reduced = snap.object()
    assert "balance_transactions" not in reduced
    assert card not in snap.document
    assert reduced["evidence"]["receipt"] == "file_1"
    assert reduced["evidence"]["uncategorized_text"].endswith("4242")
    assert parsed.payments == ()


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"o2c_payment_id": "PAY-000007"}},
        {"charge": {"id": "ch_1", "metadata": {"o2c_payment_id": "PAY-000007"}}},
        {"payment_intent": {"id": "pi_1", "metadata": {"o2c_payment_id": "PAY-000007"}}},
    ],
)
def test_a_dispute_may_name_its_o2c_payment_in_metadata(extra: dict[str, Any]) -> None:
    snap = parse("charge.dispute.updated", dispute(**extra)).dispute
    assert snap is not None
    assert snap.payment_id == "PAY-000007"
    assert (snap.charge, snap.payment_intent) == ("ch_1", "pi_1")


def test_a_garbled_dispute_is_refused_with_its_path() -> None:
    error = refused(event("charge.dispute.created", dispute(amount=-5)))
    assert (error.path, error.reason) == ("data.object.amount", "a positive integer is required")
    error = refused(event("charge.dispute.closed", dispute(evidence_details={"due_by": "x"})))
    assert error.path == "data.object.evidence_details.due_by"
    error = refused(event("charge.dispute.closed", {"object": "issuing.dispute", "id": "idp_1"}))
    assert error.path == "data.object.object"


def test_the_digest_ignores_the_envelope_and_sees_the_object() -> None:
    first = parse_stripe_event(event("charge.succeeded", charge()))
    again = parse_stripe_event(event("charge.succeeded", charge(), pending_webhooks=0))
    other = parse_stripe_event(event("charge.succeeded", charge(amount=1)))
    retyped = parse_stripe_event(event("charge.captured", charge()))
    assert first.digest == again.digest
    assert len({first.digest, other.digest, retyped.digest}) == 3


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b'{"id": "evt_1",}', "not JSON"),
        (b"\xff\xfe{}", "not UTF-8 (byte 0)"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": ' + b"1" * 5000 + b"}", "digits"),
        (b"[" * 100_000 + b"]" * 100_000, f"nested more than {MAX_DEPTH} levels"),
        (b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1), "nested more than"),
        (b"[]", "an object is required"),
    ],
)
def test_bodies_that_are_not_json_objects_are_refused(body: bytes, reason: str) -> None:
    error = refused(body)
    assert error.path == "(body)"
    assert reason in error.reason


def test_the_body_must_be_bytes() -> None:
    error = refused('{"object": "event"}')  # type: ignore[arg-type]
    assert "str" in error.reason


@pytest.mark.parametrize(
    ("envelope", "path"),
    [
        ({"object": "charge"}, "object"),
        ({"id": None}, "id"),
        ({"id": ""}, "id"),
        ({"id": "evt 1"}, "id"),
        ({"id": "evt_é"}, "id"),
        ({"id": "e" * 256}, "id"),
        ({"type": 5}, "type"),
        ({"type": "t" * 101}, "type"),
        ({"created": "1772442000"}, "created"),
        ({"created": True}, "created"),
        ({"created": -1}, "created"),
        ({"created": 10**12}, "created"),
        ({"data": []}, "data"),
        ({"data": {"object": "x"}}, "data.object"),
        ({"data": {}}, "data.object"),
    ],
)
def test_envelopes_with_a_bad_field_are_refused_with_its_path(
    envelope: dict[str, Any], path: str
) -> None:
    assert refused(event("charge.succeeded", charge(), **envelope)).path == path


@pytest.mark.parametrize(
    ("event_type", "obj", "path"),
    [
        ("payment_intent.succeeded", charge(), "data.object.object"),
        ("charge.succeeded", intent(), "data.object.object"),
        ("refund.updated", charge(), "data.object.object"),
        ("charge.refunded", intent(), "data.object.object"),
        ("charge.succeeded", charge(id=None), "data.object.id"),
        ("charge.succeeded", charge(payment_intent=7), "data.object.payment_intent"),
        ("charge.succeeded", charge(payment_intent={"x": 1}), "data.object.payment_intent.id"),
        ("charge.succeeded", charge(metadata=[]), "data.object.metadata"),
        (
            "charge.succeeded",
            charge(metadata={"o2c_idempotency_key": 12}),
            "data.object.metadata.o2c_idempotency_key",
        ),
        ("charge.failed", charge(failure_code=""), "data.object.failure_code"),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error="boom"),
            "data.object.last_payment_error",
        ),
        (
            "payment_intent.payment_failed",
            intent(last_payment_error={"code": 1}),
            "data.object.last_payment_error.code",
        ),
        ("charge.refunded", charge(refunds=[]), "data.object.refunds"),
        ("charge.refunded", charge(refunds={"data": {}}), "data.object.refunds.data"),
        ("charge.refunded", charge(refunds={"data": [1]}), "data.object.refunds.data[0]"),
        (
            "charge.refunded",
            charge(refunds={"data": [refund(id=None)]}),
            "data.object.refunds.data[0].id",
        ),
        (
            "charge.refunded",
            charge(refunds={"data": [refund()] * (MAX_REFUNDS + 1)}),
            "data.object.refunds.data",
        ),
        ("refund.failed", refund("failed", failure_reason=3), "data.object.failure_reason"),
        (
            "charge.dispute.created",
            dispute(metadata={"o2c_payment_id": ""}),
            "data.object.metadata.o2c_payment_id",
        ),
    ],
)
def test_mapped_objects_with_a_bad_field_are_refused_with_its_path(
    event_type: str, obj: dict[str, Any], path: str
) -> None:
    assert refused(event(event_type, obj)).path == path


def test_unmapped_event_types_are_not_read_beyond_their_envelope() -> None:
    parsed = parse("invoice.paid", {"object": "invoice", "whatever": [1, {"x": None}]})
    assert "invoice.paid" in parsed.ignored
    assert parsed.created == datetime.fromtimestamp(CREATED, UTC)


def test_event_bodies_can_be_built_from_datetimes() -> None:
    at = datetime.fromtimestamp(CREATED, UTC)
    assert stripe_event_body("e", "t", {}, created=at) == stripe_event_body(
        "e", "t", {}, created=CREATED
    )


# --------------------------------------------------------------------------- o2c.disputes


def test_read_stripe_dispute_takes_a_missing_evidence_as_none() -> None:
    obj = dispute()
    del obj["evidence"]
    fields = read_stripe_dispute(obj)
    assert (fields.texts, fields.documents, fields.payment_ref) == ((), (), "ch_1")
    assert read_stripe_dispute(dispute(charge=None)).payment_ref == "pi_1"


def test_update_from_stripe_refuses_another_disputes_object() -> None:
    now = datetime.fromtimestamp(CREATED, UTC)
    opened, _ = dispute_from_stripe(dispute(), "DSP-1", "ada", now)
    with pytest.raises(InvalidStripeDisputeError) as info:
        update_from_stripe(opened, dispute(id="dp_2", status="lost"), now=now)
    assert info.value.field == "id"
    moved, events = update_from_stripe(opened, dispute(status="lost"), now=now)
    assert moved.state.value == "lost"
    assert events
    assert update_from_stripe(moved, dispute(status="lost"), now=now) == (moved, ())
