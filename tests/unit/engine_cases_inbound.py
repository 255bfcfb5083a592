"""Rows of the idempotency and atomicity matrix for inbound webhooks
(``receive_webhook``, ``resolve_dispute``); collected by :mod:`tests.unit.engine_cases`.

``receive_webhook`` stores its answer under a key derived from the gateway and the
event id, so its row uses ``key_of``. The signature header is not part of the call's
identity (every delivery is signed anew), so it has no conflicting alternative; the
body's does: the same event id with another object. The setup signs the header for
both bodies (two ``v1`` signatures, as during a secret rotation), so that the
alternative body passes verification and reaches the idempotency check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from tests.unit.engine_cases import (
    DISPUTE,
    ORDER,
    PAYMENT,
    Case,
    Lazy,
    World,
    captured,
    confirmed,
)

from o2c.adapters.fake_gateway import PENDING_TOKEN
from o2c.adapters.stripe_events import stripe_event_body
from o2c.engine import EngineConfig
from o2c.engine.inbound import webhook_key
from o2c.errors import NotFoundError, SignatureMismatchError
from o2c.webhooks import sign_payload, signature_for

__all__ = ["CASES", "SECRET", "dispute_object", "signed"]

SECRET = "whsec_cases"  # noqa: S105 - a test secret
CONFIG = EngineConfig(webhook_secrets={"card": (SECRET,)})


def signed(w: World, body: bytes) -> str:
    """A signature header for ``body`` at the world's current time."""
    return sign_payload(body, SECRET, w.clock.now())


def dispute_object(status: str, charge: str, amount: int = 11900) -> dict[str, object]:
    """A Stripe dispute object on ``charge`` (EUR, fraudulent, no evidence)."""
    return {
        "id": "dp_case",
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "status": status,
        "reason": "fraudulent",
        "created": 1_772_400_000,
        "charge": charge,
        "payment_intent": None,
        "evidence_details": {"due_by": 1_773_000_000, "has_evidence": False, "submission_count": 0},
        "evidence": {},
        "metadata": {},
    }


def authorization_pending(w: World) -> None:
    """SO-1's card authorization (PAY-000001) is pending; Stripe's webhook that it now
    holds the funds is in ``made["body"]``, signed for it and for ``made["other"]``
    (the same event id with another object)."""
    confirmed(w)
    payment = w.engine.authorize_payment("setup-authorize", ORDER, token=PENDING_TOKEN)
    key = payment.transactions[-1].idempotency_key
    intent = {
        "id": "pi_case",
        "object": "payment_intent",
        "status": "requires_capture",
        "metadata": {"o2c_idempotency_key": key},
    }
    now = w.clock.now()
    body = stripe_event_body(
        "evt_case", "payment_intent.amount_capturable_updated", intent, created=now
    )
    other = stripe_event_body(
        "evt_case",
        "payment_intent.amount_capturable_updated",
        {**intent, "id": "pi_other"},
        created=now,
    )
    header = signed(w, body)
    stamp = header.split(",")[0].removeprefix("t=")
    w.made |= {
        "body": body,
        "other": other,
        "header": f"{header},v1={signature_for(other, SECRET, stamp)}",
        "forged": sign_payload(body, "whsec_wrong", now),
    }


def lost_by_webhook(w: World) -> None:
    """SO-1 is invoiced and paid by card; Stripe's webhook said the chargeback on it
    (DSP-000001) is lost. Its money consequence is not booked yet."""
    captured(w)
    reference = w.engine.payment(PAYMENT).transactions[0].gateway_reference
    assert reference is not None
    body = stripe_event_body(
        "evt_lost",
        "charge.dispute.closed",
        dispute_object("lost", reference),
        created=w.clock.now(),
    )
    w.engine.receive_webhook("card", body, signed(w, body))


def _event_key(args: Mapping[str, object]) -> str:
    body = args["body"]
    assert isinstance(body, bytes)
    gateway = args["gateway"]
    assert isinstance(gateway, str)
    return webhook_key(gateway, json.loads(body)["id"])


CASES: tuple[Case, ...] = (
    Case(
        "receive_webhook",
        authorization_pending,
        {
            "gateway": "card",
            "body": Lazy(lambda w: w.made["body"]),
            "signature_header": Lazy(lambda w: w.made["header"]),
        },
        {"body": Lazy(lambda w: w.made["other"])},
        bad={"signature_header": Lazy(lambda w: w.made["forged"])},
        bad_error=SignatureMismatchError,
        config=CONFIG,
        key_of=_event_key,
        # The gateway is part of the derived key; the signature header is not part of
        # the call's identity at all (a redelivery is signed again, and is a replay).
        fixed=frozenset({"gateway", "signature_header"}),
    ),
    Case(
        "resolve_dispute",
        lost_by_webhook,
        {"dispute_id": DISPUTE, "resolution": None},
        {"dispute_id": "DSP-000002", "resolution": "credit_note"},
        bad={"dispute_id": "DSP-404"},
        bad_error=NotFoundError,
        config=CONFIG,
    ),
)
