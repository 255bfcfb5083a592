"""Every Stripe dispute object in the shared samples is read by dispute_from_stripe.

The samples (``/work/shared/samples/stripe``, described in its ``SOURCES.md``) are
read in place and never copied into the repository. Besides disputes they hold a
charge, a payment intent and a balance transaction (dj-stripe) and stripe-mock's
whole fixture set (stripe/openapi), where the dispute objects are found by walking
the JSON. Issuing disputes (``object == "issuing.dispute"``, our card issued and
disputed by our cardholder) are not merchant disputes and must be refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from o2c.disputes import DisputeKind, DisputeReason, dispute_from_stripe
from o2c.errors import InvalidStripeDisputeError
from o2c.lifecycles import DISPUTE_WORKFLOW, DisputeEvent, DisputeState
from o2c.money import Money

pytestmark = pytest.mark.samples

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
S = DisputeState

# file (relative to samples/stripe) -> {dispute id: (Stripe status, o2c state)},
# statuses as SOURCES.md lists them for each file.
EXPECTED: dict[str, dict[str, tuple[str, DisputeState]]] = {
    "openapi-f6c2a48/fixtures3.json": {
        "dp_1Pgc71B7WZ01zgkWMevJiAUx": ("warning_needs_response", S.INQUIRY),
    },
    "openapi-a713424/fixtures3.json": {
        "dp_1CO4IG2eZvKYlo2CgPAsBqvE": ("lost", S.LOST),
    },
    "dj-stripe/dispute_dp_fakefakefakefake01.json": {
        "dp_1JAyTwJSZQVUcJYgPqasUEn1": ("needs_response", S.NEEDS_RESPONSE),
    },
    "dj-stripe/dispute_dp_fakefakefakefake02.json": {
        "dp_1JAyTwJSZQVUcJYgPqasUEn1": ("needs_response", S.NEEDS_RESPONSE),
    },
    "dj-stripe/dispute_dp_funds_reinstated_full.json": {
        "dp_1JAyTwJSZQVUcJYgPqasUEn1": ("under_review", S.UNDER_REVIEW),
    },
    # the disputed charge, payment intent and balance transaction: no dispute object
    "dj-stripe/dispute_ch_fakefakefakefake01.json": {},
    "dj-stripe/dispute_pi_fakefakefakefake01.json": {},
    "dj-stripe/dispute_txn_fakefakefakefake01.json": {},
}


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.json") if p.is_file())


@pytest.fixture(scope="module")
def stripe_dir(samples_dir: Path) -> Path:
    root = samples_dir / "stripe"
    if not root.is_dir():
        pytest.skip(f"no Stripe samples at {root}")
    return root


def test_every_json_file_is_known(stripe_dir: Path) -> None:
    found = {p.relative_to(stripe_dir).as_posix() for p in _files(stripe_dir)}
    assert found == set(EXPECTED)


def test_every_dispute_object_maps_onto_its_state(stripe_dir: Path) -> None:
    seen = 0
    for path in _files(stripe_dir):
        rel = path.relative_to(stripe_dir).as_posix()
        data = json.loads(path.read_text(encoding="utf-8"))
        mapped: dict[str, tuple[str, DisputeState]] = {}
        for obj in _objects(data):
            if obj.get("object") != "dispute":
                continue
            d, events = dispute_from_stripe(obj, f"D-{seen}", "C-1", NOW)
            seen += 1
            mapped[obj["id"]] = (obj["status"], d.state)
            # Amounts come from minor units and an upper-cased currency.
            assert d.amount == Money.from_minor_units(obj["amount"], obj["currency"].upper())
            assert d.kind is DisputeKind.CHARGEBACK
            assert d.provider == "stripe"
            assert d.provider_id == obj["id"]
            assert d.raw_reason == obj["reason"]
            assert d.reason is not DisputeReason.UNKNOWN
            assert d.respond_by == datetime.fromtimestamp(obj["evidence_details"]["due_by"], UTC)
            # The walk from 'new' is legal, step by step, and ends in the state.
            state = S.NEW
            for entry in d.history:
                assert entry.source is state
                state = DISPUTE_WORKFLOW.apply(state, DisputeEvent(entry.event))
                assert entry.target is state
            assert state is d.state
            assert events
            assert events[0].name == "DisputeOpened"
        assert mapped == EXPECTED[rel], rel
    assert seen == 5


def test_samples_with_submitted_evidence_keep_it(stripe_dir: Path) -> None:
    path = stripe_dir / "dj-stripe" / "dispute_dp_funds_reinstated_full.json"
    d, _ = dispute_from_stripe(json.loads(path.read_text("utf-8")), "D-1", "C-1", NOW)
    assert d.state is S.UNDER_REVIEW
    assert d.evidence is not None
    assert d.evidence.via_provider
    assert d.evidence.text("uncategorized_text") == "winning_evidence"
    assert d.amount == Money("10.00", "USD")
    assert d.respond_by == datetime(2021, 7, 17, 23, 59, 59, tzinfo=UTC)

    old = stripe_dir / "openapi-a713424" / "fixtures3.json"
    lost = json.loads(old.read_text("utf-8"))["resources"]["dispute"]
    d, _ = dispute_from_stripe(lost, "D-2", "C-1", NOW)
    assert d.state is S.LOST
    assert d.amount == Money("15.00", "USD")
    assert d.evidence is not None  # submission_count 1 in the fixture
    assert d.evidence.text("product_description") == '"Comfortable grey sweatpants"'


def test_issuing_disputes_are_refused(stripe_dir: Path) -> None:
    refused = 0
    for path in _files(stripe_dir):
        for obj in _objects(json.loads(path.read_text(encoding="utf-8"))):
            if obj.get("object") == "issuing.dispute":
                with pytest.raises(InvalidStripeDisputeError) as info:
                    dispute_from_stripe(obj, "D-X", "C-1", NOW)
                assert info.value.field == "object"
                refused += 1
    assert refused == 2
