"""Stripe webhook events read into o2c's inputs (pure: no network, no Stripe SDK).

:func:`parse_stripe_event` reads a verified webhook body (see :mod:`o2c.webhooks`)
into an :class:`InboundEvent`: answers to gateway requests o2c made
(:class:`PaymentAnswer`), a dispute snapshot (:class:`DisputeSnapshot`), or the reason
it concerns o2c in no way. Every field read is checked; a body that is not an event
raises :class:`~o2c.errors.WebhookPayloadError` naming the path, e.g.
``data.object.amount``.

**Which request an event answers.** o2c's Stripe adapter puts o2c's ids in the
``metadata`` of every object it creates:

* ``o2c_idempotency_key``: the idempotency key of the o2c request the object's
  current state answers (set when a PaymentIntent or Charge is created, updated when
  it is captured; a Refund carries the key of the refund request); or
* ``o2c_payment_id`` and ``o2c_transaction_id``: the o2c payment and transaction.

Objects without them were not made by o2c (a dashboard charge, another system on the
same account): their events are ignored. The gateway reference recorded for a
payment is the PaymentIntent's id when the charge has one, else the Charge's id, so
that the PaymentIntent's and the Charge's events agree.

=====================================================  =======================================
event type                                             o2c outcome
=====================================================  =======================================
``payment_intent.succeeded``                           succeeded (sale or capture)
``payment_intent.amount_capturable_updated``           succeeded (the authorization holds)
``payment_intent.processing``                          pending
``payment_intent.payment_failed``                      failed (``last_payment_error``)
``charge.succeeded``, ``charge.captured``              succeeded
``charge.pending``                                     pending
``charge.failed``                                      failed (``failure_code``)
``charge.refunded``                                    each refund in ``refunds.data``
``refund.created``, ``refund.updated``,                by the refund's ``status``
``refund.failed``, ``charge.refund.updated``
``charge.dispute.created``, ``.updated``, ``.closed``,  the dispute object, a full snapshot
``.funds_withdrawn``, ``.funds_reinstated``
anything else                                          ignored
=====================================================  =======================================

``payment_intent.canceled`` is not mapped: it answers an authorization (failed) or a
void (succeeded), and only the request tells which.

A dispute is found by its ``charge`` or ``payment_intent`` id (a payment's gateway
reference), or by ``o2c_payment_id`` in the dispute's own metadata or in an
expanded charge's or payment intent's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import attrs

from o2c.disputes import StripeDisputeFields, read_stripe_dispute
from o2c.errors import InvalidStripeDisputeError, WebhookPayloadError
from o2c.money import Money
from o2c.payments import DeclineReason, Failed, Outcome, Pending, Succeeded, redact_card_numbers
from o2c.ports import GatewayEvent

__all__ = [
    "DISPUTE_EVENT_TYPES",
    "MAX_DEPTH",
    "METADATA_KEY",
    "METADATA_PAYMENT",
    "METADATA_TRANSACTION",
    "PAYMENT_EVENT_TYPES",
    "DisputeSnapshot",
    "InboundEvent",
    "PaymentAnswer",
    "parse_stripe_event",
    "stripe_event_body",
]

#: Metadata naming the idempotency key of the o2c request an object answers.
METADATA_KEY: Final = "o2c_idempotency_key"
#: Metadata naming the o2c payment (with :data:`METADATA_TRANSACTION`, or for a dispute).
METADATA_PAYMENT: Final = "o2c_payment_id"
#: Metadata naming the o2c transaction (with :data:`METADATA_PAYMENT`).
METADATA_TRANSACTION: Final = "o2c_transaction_id"

#: Deepest JSON nesting read (Stripe's objects nest about eight levels).
MAX_DEPTH: Final = 32
#: Most refunds read from one ``charge.refunded`` event.
MAX_REFUNDS: Final = 100
_MAX_ID: Final = 255
_MAX_TYPE: Final = 100
_MAX_EPOCH: Final = 253_402_300_799  # 9999-12-31T23:59:59Z

DISPUTE_EVENT_TYPES: Final = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
_INTENT_EVENTS: Final = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.amount_capturable_updated",
        "payment_intent.processing",
        "payment_intent.payment_failed",
    }
)
_CHARGE_EVENTS: Final = frozenset(
    {"charge.succeeded", "charge.captured", "charge.pending", "charge.failed"}
)
_REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)
PAYMENT_EVENT_TYPES: Final = _INTENT_EVENTS | _CHARGE_EVENTS | _REFUND_EVENTS | {"charge.refunded"}

# Stripe's decline codes that o2c's DeclineReason names differently.
_DECLINES: Final = {
    "fraudulent": DeclineReason.FRAUD_SUSPECTED,
    "stolen_card": DeclineReason.FRAUD_SUSPECTED,
    "lost_card": DeclineReason.FRAUD_SUSPECTED,
    "pickup_card": DeclineReason.FRAUD_SUSPECTED,
    "generic_decline": DeclineReason.CARD_DECLINED,
}


# --------------------------------------------------------------------------- values


@attrs.frozen(kw_only=True)
class PaymentAnswer:
    """A gateway's answer to one request o2c made.

    Attributes:
        event_id: Unique per answer: the event id, or ``"<event id>/<refund id>"``
            for one refund of a ``charge.refunded`` event.
        outcome: What became of the request.
        occurred_at: When the gateway says it happened.
        object_id: The Stripe object answering (``pi_...``, ``ch_...``, ``re_...``).
        idempotency_key: The request's key (``metadata.o2c_idempotency_key``), or None.
        payment_id: ``metadata.o2c_payment_id``, or None.
        transaction_id: ``metadata.o2c_transaction_id``, or None.
    """

    event_id: str
    outcome: Outcome
    occurred_at: datetime
    object_id: str
    idempotency_key: str | None = None
    payment_id: str | None = None
    transaction_id: str | None = None

    def gateway_event(self, idempotency_key: str) -> GatewayEvent:
        """The answer as :meth:`~o2c.engine.O2C.handle_gateway_event` takes it."""
        return GatewayEvent(
            event_id=self.event_id,
            idempotency_key=idempotency_key,
            outcome=self.outcome,
            occurred_at=self.occurred_at,
        )


@attrs.frozen(kw_only=True)
class DisputeSnapshot:
    """A Stripe dispute object as one event carried it (a full snapshot).

    Attributes:
        provider_id: Stripe's dispute id.
        amount: The disputed amount.
        status: Stripe's status.
        charge: The disputed charge's id, if given.
        payment_intent: The disputed payment intent's id, if given.
        payment_id: An o2c payment id from metadata, if given.
        document: The fields o2c reads, as canonical JSON (evidence texts with card
            numbers redacted); :meth:`object` decodes it.
    """

    provider_id: str
    amount: Money
    status: str
    charge: str | None
    payment_intent: str | None
    payment_id: str | None
    document: str

    def object(self) -> dict[str, Any]:
        """The reduced dispute object, for :func:`o2c.disputes.dispute_from_stripe`."""
        decoded: dict[str, Any] = json.loads(self.document)
        return decoded


@attrs.frozen(kw_only=True)
class InboundEvent:
    """A verified, parsed webhook event.

    Attributes:
        event_id: The gateway's event id (redeliveries share it).
        event_type: The gateway's event type.
        created: When the gateway created the event.
        digest: A hash of the event's type and object: a redelivery has the same
            digest; the same id with another digest is another payload.
        payments: Answers to o2c's gateway requests.
        dispute: The dispute snapshot of a ``charge.dispute.*`` event.
        ignored: Why nothing in it concerns o2c (empty when something does).
    """

    event_id: str
    event_type: str
    created: datetime
    digest: str
    payments: tuple[PaymentAnswer, ...] = ()
    dispute: DisputeSnapshot | None = None
    ignored: str = ""


# --------------------------------------------------------------------------- reading JSON


def _bad(path: str, reason: str) -> WebhookPayloadError:
    return WebhookPayloadError(path=path, reason=reason)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {key[:40]!r}")
        found[key] = value
    return found


def _depth(root: object) -> int:
    deepest = 0
    stack: list[tuple[object, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                return depth
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _decode(body: bytes) -> Any:
    if not isinstance(body, bytes):
        raise _bad("(body)", f"the raw body bytes are required, not {type(body).__name__}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad("(body)", f"not UTF-8 (byte {exc.start})") from exc
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise _bad(
            "(body)", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise _bad("(body)", f"nested more than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # the hooks above, an integer of too many digits
        raise _bad("(body)", str(exc)[:100]) from exc
    if _depth(data) > MAX_DEPTH:
        raise _bad("(body)", f"nested more than {MAX_DEPTH} levels")
    return data


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _bad(path, "an object is required")
    return value


def _id(value: object, path: str, *, limit: int = _MAX_ID) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= limit
        or not all("!" <= ch <= "~" for ch in value)
    ):
        raise _bad(path, f"1 to {limit} printable ASCII characters without spaces are required")
    return value


def _epoch(value: object, path: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_EPOCH:
        raise _bad(path, "a Unix timestamp (int) is required")
    return datetime.fromtimestamp(value, UTC)


def _ref(value: object, path: str) -> str | None:
    """An id that Stripe may send expanded, as an object with an ``id``."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _id(value.get("id"), f"{path}.id")
    return _id(value, path)


def _metadata(obj: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = obj.get("metadata")
    if value is None:
        return {}
    return _object(value, f"{path}.metadata")


def _meta_id(meta: Mapping[str, Any], name: str, path: str) -> str | None:
    value = meta.get(name)
    return None if value is None else _id(value, f"{path}.metadata.{name}")


def _digest(event_type: str, obj: Mapping[str, Any]) -> str:
    text = json.dumps(
        {"type": event_type, "object": obj},
        sort_keys=True,
        separators=(",", ":"),
        default=lambda d: f"decimal:{d}",
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- the envelope


def parse_stripe_event(body: bytes) -> InboundEvent:
    """Read a Stripe event (after its signature was verified).

    The body must be UTF-8 JSON without duplicate keys, ``NaN`` or ``Infinity``, at
    most :data:`MAX_DEPTH` levels deep, holding an event: ``object == "event"``, an
    ``id``, a ``type``, ``created`` and ``data.object``.

    Raises:
        WebhookPayloadError: the body is not such an event, or a mapped event's object
            is garbled; ``path`` says where.
    """
    top = _object(_decode(body), "(body)")
    if top.get("object") != "event":
        raise _bad("object", "an event object (object == 'event') is required")
    event_id = _id(top.get("id"), "id")
    event_type = _id(top.get("type"), "type", limit=_MAX_TYPE)
    created = _epoch(top.get("created"), "created")
    obj = _object(_object(top.get("data"), "data").get("object"), "data.object")
    base = InboundEvent(
        event_id=event_id,
        event_type=event_type,
        created=created,
        digest=_digest(event_type, obj),
    )
    if event_type in DISPUTE_EVENT_TYPES:
        return attrs.evolve(base, dispute=_dispute(obj))
    if event_type not in PAYMENT_EVENT_TYPES:
        return attrs.evolve(base, ignored=f"event type {event_type} is not one o2c acts on")
    answers, ignored = _answers(event_type, obj, event_id, created)
    return attrs.evolve(base, payments=answers, ignored=ignored)


# --------------------------------------------------------------------------- payments


def _answers(
    event_type: str, obj: Mapping[str, Any], event_id: str, created: datetime
) -> tuple[tuple[PaymentAnswer, ...], str]:
    path = "data.object"
    if event_type in _INTENT_EVENTS:
        _expect(obj, "payment_intent", path)
        object_id = _id(obj.get("id"), f"{path}.id")
        outcome = _intent_outcome(event_type, obj, object_id, path)
        return _answer(
            obj, path, event_id=event_id, created=created, object_id=object_id, outcome=outcome
        )
    if event_type in _CHARGE_EVENTS:
        _expect(obj, "charge", path)
        object_id = _id(obj.get("id"), f"{path}.id")
        reference = _ref(obj.get("payment_intent"), f"{path}.payment_intent") or object_id
        outcome = _charge_outcome(event_type, obj, reference, path)
        return _answer(
            obj, path, event_id=event_id, created=created, object_id=object_id, outcome=outcome
        )
    if event_type in _REFUND_EVENTS:
        return _refund(obj, path, event_id, created)
    # charge.refunded: the refunds the charge lists, each with its own metadata.
    _expect(obj, "charge", path)
    refunds = obj.get("refunds")
    items = None if refunds is None else _object(refunds, f"{path}.refunds").get("data")
    if items is None:
        # Newer API versions leave the list out: the refund.* events carry each refund.
        return (), "the charge lists no refunds; o2c reads refund.* events"
    if not isinstance(items, list):
        raise _bad(f"{path}.refunds.data", "a list is required")
    if len(items) > MAX_REFUNDS:
        raise _bad(f"{path}.refunds.data", f"more than {MAX_REFUNDS} refunds")
    found: list[PaymentAnswer] = []
    for i, item in enumerate(items):
        item_path = f"{path}.refunds.data[{i}]"
        refund = _object(item, item_path)
        refund_id = _id(refund.get("id"), f"{item_path}.id")
        answers, _ = _refund(refund, item_path, f"{event_id}/{refund_id}", created)
        found.extend(answers)
    if not found:
        return (), "no refund in the event was requested by o2c (no o2c metadata)"
    return tuple(found), ""


def _expect(obj: Mapping[str, Any], kind: str, path: str) -> None:
    if obj.get("object") != kind:
        raise _bad(f"{path}.object", f"a {kind} object is required")


def _answer(
    obj: Mapping[str, Any],
    path: str,
    *,
    event_id: str,
    created: datetime,
    object_id: str,
    outcome: Outcome | None,
) -> tuple[tuple[PaymentAnswer, ...], str]:
    if outcome is None:
        return (), f"{object_id} reports no outcome o2c records"
    meta = _metadata(obj, path)
    key = _meta_id(meta, METADATA_KEY, path)
    payment_id = _meta_id(meta, METADATA_PAYMENT, path)
    transaction_id = _meta_id(meta, METADATA_TRANSACTION, path)
    if key is None and (payment_id is None or transaction_id is None):
        return (), f"{object_id} was not requested by o2c (no o2c metadata)"
    answer = PaymentAnswer(
        event_id=event_id,
        outcome=outcome,
        occurred_at=created,
        object_id=object_id,
        idempotency_key=key,
        payment_id=payment_id,
        transaction_id=transaction_id,
    )
    return (answer,), ""


def _decline(error: object, path: str) -> DeclineReason:
    if error is None or error == "":
        return DeclineReason.OTHER
    err = _object(error, path)
    for name in ("decline_code", "code"):
        code = err.get(name)
        if code is None:
            continue
        text = _id(code, f"{path}.{name}", limit=_MAX_TYPE)
        return _DECLINES.get(text) or DeclineReason.from_code(text)
    return DeclineReason.OTHER


def _code(value: object, path: str) -> DeclineReason:
    if value is None:
        return DeclineReason.OTHER
    text = _id(value, path, limit=_MAX_TYPE)
    return _DECLINES.get(text) or DeclineReason.from_code(text)


def _intent_outcome(
    event_type: str, obj: Mapping[str, Any], reference: str, path: str
) -> Outcome | None:
    if event_type == "payment_intent.processing":
        return Pending(reference)
    if event_type == "payment_intent.payment_failed":
        return Failed(
            _decline(obj.get("last_payment_error"), f"{path}.last_payment_error"), reference
        )
    if event_type == "payment_intent.amount_capturable_updated":
        # Sent when an authorization holds funds; any other status is not an answer.
        return Succeeded(reference) if obj.get("status") == "requires_capture" else None
    return Succeeded(reference)


def _charge_outcome(event_type: str, obj: Mapping[str, Any], reference: str, path: str) -> Outcome:
    if event_type == "charge.pending":
        return Pending(reference)
    if event_type == "charge.failed":
        return Failed(_code(obj.get("failure_code"), f"{path}.failure_code"), reference)
    return Succeeded(reference)


def _refund(
    obj: Mapping[str, Any], path: str, event_id: str, created: datetime
) -> tuple[tuple[PaymentAnswer, ...], str]:
    _expect(obj, "refund", path)
    refund_id = _id(obj.get("id"), f"{path}.id")
    status = obj.get("status")
    outcome: Outcome | None
    if status == "succeeded":
        outcome = Succeeded(refund_id)
    elif status in ("pending", "requires_action"):
        outcome = Pending(refund_id)
    elif status in ("failed", "canceled"):
        outcome = Failed(_code(obj.get("failure_reason"), f"{path}.failure_reason"), refund_id)
    else:
        outcome = None
    return _answer(
        obj, path, event_id=event_id, created=created, object_id=refund_id, outcome=outcome
    )


# --------------------------------------------------------------------------- disputes


def _dispute(obj: Mapping[str, Any]) -> DisputeSnapshot:
    path = "data.object"
    try:
        fields = read_stripe_dispute(obj)
    except InvalidStripeDisputeError as exc:
        raise _bad(f"{path}.{exc.field}", str(exc.reason)) from exc
    payment_id = _meta_id(_metadata(obj, path), METADATA_PAYMENT, path)
    for name in ("charge", "payment_intent"):
        expanded = obj.get(name)
        if payment_id is None and isinstance(expanded, dict):
            payment_id = _meta_id(_metadata(expanded, f"{path}.{name}"), METADATA_PAYMENT, path)
    return DisputeSnapshot(
        provider_id=fields.provider_id,
        amount=fields.amount,
        status=fields.status,
        charge=fields.charge,
        payment_intent=fields.payment_intent,
        payment_id=payment_id,
        document=_reduced(fields, obj),
    )


def _reduced(fields: StripeDisputeFields, obj: Mapping[str, Any]) -> str:
    """The dispute object cut to what o2c reads, as canonical JSON."""
    details = obj["evidence_details"]
    given = obj.get("evidence")
    # The string fields read_stripe_dispute keeps (texts and file ids, by name).
    evidence = {
        name: redact_card_numbers(value)
        for name, value in (given.items() if isinstance(given, Mapping) else ())
        if isinstance(name, str) and isinstance(value, str) and value.strip()
    }
    reduced = {
        "object": "dispute",
        "id": fields.provider_id,
        "amount": obj["amount"],
        "currency": obj["currency"],
        "status": obj["status"],
        "reason": obj["reason"],
        "created": obj.get("created"),
        "charge": fields.charge,
        "payment_intent": fields.payment_intent,
        "evidence_details": {
            "due_by": details["due_by"],
            "has_evidence": details.get("has_evidence", False),
            "submission_count": details.get("submission_count", 0),
        },
        "evidence": evidence,
    }
    return json.dumps(reduced, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------- building events


def stripe_event_body(
    event_id: str,
    event_type: str,
    obj: Mapping[str, Any],
    *,
    created: int | datetime,
) -> bytes:
    """A Stripe event envelope around ``obj``, as the bytes Stripe would send.

    For tests and plugin authors (pair it with :func:`o2c.webhooks.sign_payload`).

    >>> stripe_event_body("evt_1", "charge.succeeded", {"object": "charge"}, created=0)[:34]
    b'{"id":"evt_1","object":"event","ty'
    """
    seconds = int(created.timestamp()) if isinstance(created, datetime) else created
    envelope = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": seconds,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")
