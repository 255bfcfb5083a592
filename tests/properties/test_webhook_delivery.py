"""Webhook delivery: duplicates and any arrival order end in the in-order state.

Stripe delivers each event at least once, in no particular order. A random stream of
gateway events for one engine (outcomes for sales and authorizations that were left
pending or unknown, and whole dispute lifecycles on the sales that succeed), each
event delivered one to five times in a random order, must leave the same business
records (payments, receipts, invoices, disputes) as delivering each event once, in
order.

What "the same" means (:func:`business_state`): record by record, with two kinds of
bookkeeping left out because they record *how* the state was reached, not what it is:

* numbers the engine hands out in arrival order (``RC-...``, ``DSP-...``) are
  replaced by what they stand for (the receipt's payment, the dispute's gateway id);
* a transaction's ``attempts`` / ``last_attempt_at`` (answers counted, a late
  *pending* included), and a dispute's ``history``, ``provider_status(es)``,
  ``review_reason`` and ``evidence`` / ``inquiry_evidence`` (which stages o2c saw:
  a dispute first seen as *won* never saw its inquiry).

The stream is drawn before any engine work (so hypothesis throws nothing expensive
away) as :class:`EventSpec` items, each bound after the setup to a :class:`Delivery`
(a label and a callable taking the engine). Another area's stream (carrier tracking
events) merges with this one: concatenate the in-order lists drawn by
:func:`gateway_stream` and the other area's, draw :func:`redelivered` over the whole,
then bind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.stripe_events import stripe_event_body
from o2c.clock import FixedClock
from o2c.customers import Address, Customer
from o2c.disputes import Dispute
from o2c.engine import O2C, EngineConfig
from o2c.money import Money
from o2c.orders import OrderLine
from o2c.payments import Outcome, PaymentTransaction, Pending, Unknown
from o2c.plugins import Plugins
from o2c.ports import GatewayRequest
from o2c.webhooks import WebhookStatus, sign_payload

GATEWAY = "stripe"
SECRET = "whsec_property"  # noqa: S105 - a test secret
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOME = Address(name="Ada", lines=("1 Main St",), city="Berlin", country="DE")
ADA = Customer(
    id="ada",
    name="Ada",
    currency="EUR",
    billing_address=HOME,
    shipping_addresses=(HOME,),
    payment_terms="NET30",
    credit_limit=Money("100000.00", "EUR"),
)
PENDING, UNKNOWN = "tok_pending", "tok_unknown"
T = TypeVar("T")


class SlowGateway:
    """A gateway that never answers at once: *pending* for ``tok_pending``, *unknown*
    (a timeout) for ``tok_unknown``. Its answers come later, as webhooks."""

    def _answer(self, request: GatewayRequest) -> Outcome:
        if request.token == UNKNOWN:
            return Unknown()
        return Pending(f"req_{request.payment_id}")

    authorize = sale = capture = void = refund = status = _answer


@dataclass(frozen=True)
class Delivery:
    """One delivery of one gateway event.

    Attributes:
        label: What it is (for failure reports).
        apply: Delivers it to an engine.
    """

    label: str
    apply: Callable[[O2C], object]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Slot:
    """A payment the setup will leave waiting: what the stream may be drawn from."""

    index: int
    sale: bool
    amount_minor: int


@dataclass(frozen=True)
class Handle:
    """A payment the setup left waiting for its gateway's answer."""

    index: int
    payment_id: str
    key: str
    sale: bool


@dataclass(frozen=True)
class EventSpec:
    """One gateway event, drawn before the engine exists; :meth:`bind` makes its
    delivery once the setup has made the payment it answers."""

    label: str
    slot: int
    build: Callable[[Handle], Delivery]

    def bind(self, handles: Sequence[Handle]) -> Delivery:
        """The delivery of this event for the setup's payments."""
        return self.build(handles[self.slot])

    def __repr__(self) -> str:
        return self.label


# --------------------------------------------------------------------------- the engine


CONFIG = EngineConfig(webhook_secrets={GATEWAY: (SECRET,)})
PLUGINS = Plugins()  # none registered; shared, as a new plugin manager per engine is slow


def new_engine() -> O2C:
    """An engine with a slow Stripe gateway and the webhook secret configured."""
    return O2C(
        clock=FixedClock(START), gateways={GATEWAY: SlowGateway()}, config=CONFIG, plugins=PLUGINS
    )


def setup(engine: O2C, plan: Sequence[tuple[bool, str, int]]) -> list[Handle]:
    """For each ``(sale, token, mugs)``: an order, and either an invoice paid by a card
    sale (self-service) or an authorization, left waiting for the gateway."""
    engine.add_customer("setup-customer", ADA)
    engine.receive_stock("setup-stock", "MUG", 1000)
    handles = []
    for i, (sale, token, quantity) in enumerate(plan):
        line = OrderLine(
            line_id="1",
            sku="MUG",
            description="Mug",
            quantity=Decimal(quantity),
            unit_price=Money("10.00", "EUR"),
        )
        order = engine.place_order(f"setup-order-{i}", customer_id="ada", lines=[line])
        if sale:
            invoice = engine.invoice_order(f"setup-invoice-{i}", order.id, "ordered")
            payment = engine.pay_invoices(f"setup-pay-{i}", "ada", [invoice.id], token=token)
        else:
            payment = engine.authorize_payment(f"setup-authorize-{i}", order.id, token=token)
        key = payment.transactions[-1].idempotency_key
        handles.append(Handle(i, payment.id, key, sale))
    return handles


def slots(plan: Sequence[tuple[bool, str, int]]) -> list[Slot]:
    """What :func:`setup` will make of ``plan``, known before it runs."""
    return [Slot(i, sale, quantity * 1000) for i, (sale, _, quantity) in enumerate(plan)]


def deliver(event_id: str, event_type: str, obj: dict[str, Any], created: int) -> Delivery:
    """A signed delivery of one Stripe event (signed anew at each delivery)."""
    body = stripe_event_body(event_id, event_type, obj, created=created)

    def apply(engine: O2C) -> object:
        result = engine.receive_webhook(
            GATEWAY, body, sign_payload(body, SECRET, engine.clock.now())
        )
        assert result.event_id == event_id
        return result

    return Delivery(f"{event_type}({event_id}, {obj.get('status')})", apply)


def spec(
    slot: Slot, event_id: str, event_type: str, make: Callable[[Handle], dict[str, Any]], at: int
) -> EventSpec:
    """An event whose object is made from the setup's payment."""
    return EventSpec(
        f"{event_type}({event_id})",
        slot.index,
        lambda h: deliver(event_id, event_type, make(h), at),
    )


# --------------------------------------------------------------------------- the stream

T0 = int(START.timestamp()) - 86_400  # the gateway's events happened over the last day
INQUIRY_DUE, CHARGEBACK_DUE = T0 + 7 * 86_400, T0 + 21 * 86_400

# Stripe dispute lifecycles: (status, submission_count, due_by) snapshots in order.
LIFECYCLES: tuple[tuple[tuple[str, int, int], ...], ...] = (
    (("needs_response", 0, CHARGEBACK_DUE),),
    (("needs_response", 0, CHARGEBACK_DUE), ("lost", 0, CHARGEBACK_DUE)),
    (("needs_response", 0, CHARGEBACK_DUE), ("won", 0, CHARGEBACK_DUE)),
    (("needs_response", 0, CHARGEBACK_DUE), ("under_review", 1, CHARGEBACK_DUE)),
    (
        ("needs_response", 0, CHARGEBACK_DUE),
        ("under_review", 1, CHARGEBACK_DUE),
        ("won", 1, CHARGEBACK_DUE),
    ),
    (
        ("needs_response", 0, CHARGEBACK_DUE),
        ("under_review", 1, CHARGEBACK_DUE),
        ("lost", 1, CHARGEBACK_DUE),
    ),
    (("warning_needs_response", 0, INQUIRY_DUE),),
    (("warning_needs_response", 0, INQUIRY_DUE), ("warning_closed", 0, INQUIRY_DUE)),
    (("warning_needs_response", 0, INQUIRY_DUE), ("charge_refunded", 0, INQUIRY_DUE)),
    (
        ("warning_needs_response", 0, INQUIRY_DUE),
        ("warning_under_review", 1, INQUIRY_DUE),
        ("warning_closed", 1, INQUIRY_DUE),
    ),
    (
        ("warning_needs_response", 0, INQUIRY_DUE),
        ("warning_under_review", 1, INQUIRY_DUE),
        ("needs_response", 1, CHARGEBACK_DUE),
        ("under_review", 2, CHARGEBACK_DUE),
        ("lost", 2, CHARGEBACK_DUE),
    ),
    (
        ("warning_needs_response", 0, INQUIRY_DUE),
        ("needs_response", 0, CHARGEBACK_DUE),
        ("under_review", 1, CHARGEBACK_DUE),
        ("won", 1, CHARGEBACK_DUE),
    ),
)
_FINAL = frozenset({"won", "lost", "warning_closed", "charge_refunded"})
DECLINES = ("card_declined", "insufficient_funds", "expired_card", "fraudulent", "do_not_honor")


def _intent(h: Handle, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"pi_{h.index}",
        "object": "payment_intent",
        "status": status,
        "metadata": {"o2c_idempotency_key": h.key},
        **extra,
    }


def _charge(h: Handle, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"ch_{h.index}",
        "object": "charge",
        "status": status,
        "payment_intent": f"pi_{h.index}",
        "metadata": {"o2c_idempotency_key": h.key},
        **extra,
    }


def _dispute(n: int, status: str, count: int, due: int, amount: int) -> dict[str, Any]:
    texts = {"uncategorized_text": "signed for at the door"} if count else {}
    return {
        "id": f"dp_{n}",
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "status": status,
        "reason": "fraudulent",
        "created": T0 + 3600,
        "charge": f"ch_{n}",
        "payment_intent": f"pi_{n}",
        "evidence_details": {"due_by": due, "has_evidence": count > 0, "submission_count": count},
        "evidence": texts,
        "metadata": {},
    }


@st.composite
def payment_events(draw: st.DrawFn, slot: Slot) -> list[EventSpec]:
    """The events of one waiting payment, in the order the gateway sent them."""
    n = slot.index
    events: list[EventSpec] = []
    t = T0 + 100 * n
    if draw(st.booleans()):
        processing = "payment_intent.processing"
        events.append(spec(slot, f"evt_{n}_pr", processing, lambda h: _intent(h, "processing"), t))
    # Weighted towards success: disputes need a sale that succeeded.
    outcome = draw(st.sampled_from(["succeeded", "succeeded", "succeeded", "failed", "none"]))
    if outcome == "none":
        return events
    kinds = draw(st.sets(st.sampled_from(["intent", "charge"]), min_size=1))
    if outcome == "succeeded":
        if "intent" in kinds and slot.sale:
            succeeded = "payment_intent.succeeded"
            events.append(
                spec(slot, f"evt_{n}_pi", succeeded, lambda h: _intent(h, "succeeded"), t + 1)
            )
        elif "intent" in kinds:
            held = "payment_intent.amount_capturable_updated"
            events.append(
                spec(slot, f"evt_{n}_pi", held, lambda h: _intent(h, "requires_capture"), t + 1)
            )
        if "charge" in kinds:
            captured = slot.sale
            events.append(
                spec(
                    slot,
                    f"evt_{n}_ch",
                    "charge.succeeded",
                    lambda h: _charge(h, "succeeded", captured=captured),
                    t + 1,
                )
            )
    else:
        code = draw(st.sampled_from(DECLINES))
        error = {"type": "card_error", "code": code}
        if "intent" in kinds:
            events.append(
                spec(
                    slot,
                    f"evt_{n}_pi",
                    "payment_intent.payment_failed",
                    lambda h: _intent(h, "requires_payment_method", last_payment_error=error),
                    t + 1,
                )
            )
        if "charge" in kinds:
            events.append(
                spec(
                    slot,
                    f"evt_{n}_ch",
                    "charge.failed",
                    lambda h: _charge(h, "failed", failure_code=code),
                    t + 1,
                )
            )
    if outcome == "succeeded" and slot.sale and draw(st.integers(0, 3)) > 0:
        events += draw(dispute_events(slot))
    return events


@st.composite
def dispute_events(draw: st.DrawFn, slot: Slot) -> list[EventSpec]:
    """A dispute lifecycle on a sale, one ``charge.dispute.*`` event per snapshot."""
    path = draw(st.sampled_from(LIFECYCLES))
    # Mostly whole lifecycles; some still running.
    cut = draw(st.one_of(st.just(len(path)), st.integers(1, len(path))))
    amount = draw(st.integers(1, slot.amount_minor))
    n = slot.index
    events: list[EventSpec] = []
    for step, (status, count, due) in enumerate(path[:cut]):
        if step == 0:
            kind = "charge.dispute.created"
        elif status in _FINAL:
            kind = "charge.dispute.closed"
        else:
            kind = "charge.dispute.updated"
        snapshot = _dispute(n, status, count, due, amount)
        at = T0 + 3600 * (step + 1)
        events.append(spec(slot, f"evt_{n}_dp{step}", kind, lambda _h, o=snapshot: o, at))
        if step == 0 and status == "needs_response" and draw(st.booleans()):
            withdrawn = "charge.dispute.funds_withdrawn"
            events.append(spec(slot, f"evt_{n}_dpw", withdrawn, lambda _h, o=snapshot: o, at))
        if status == "won" and draw(st.booleans()):
            reinstated = "charge.dispute.funds_reinstated"
            events.append(spec(slot, f"evt_{n}_dpr", reinstated, lambda _h, o=snapshot: o, at))
    return events


@st.composite
def gateway_stream(draw: st.DrawFn, waiting: Sequence[Slot]) -> list[EventSpec]:
    """Every event of every waiting payment, each once, in the order sent."""
    found: list[EventSpec] = []
    for slot in waiting:
        found += draw(payment_events(slot))
    return found


@st.composite
def redelivered(draw: st.DrawFn, stream: Sequence[T]) -> list[T]:
    """Each item one to five times, all in a random order (any stream)."""
    copies = [item for item in stream for _ in range(draw(st.integers(1, 5)))]
    return list(draw(st.permutations(copies)))


plans = st.lists(
    st.tuples(
        st.sampled_from([True, True, False]), st.sampled_from([PENDING, UNKNOWN]), st.integers(1, 3)
    ),
    min_size=1,
    max_size=3,
)


# --------------------------------------------------------------------------- the state

_BOOKKEEPING: dict[type, frozenset[str]] = {
    PaymentTransaction: frozenset({"attempts", "last_attempt_at"}),
    Dispute: frozenset(
        {
            "history",
            "provider_status",
            "provider_statuses",
            "review_reason",
            "evidence",
            "inquiry_evidence",
        }
    ),
}
_KINDS = ("payment", "receipt", "invoice", "dispute")


def _strip(value: object, names: dict[str, str]) -> object:
    """``value`` as plain data, bookkeeping fields dropped, numbered ids renamed."""
    if attrs.has(type(value)):
        dropped = _BOOKKEEPING.get(type(value), frozenset())
        return (
            type(value).__name__,
            {
                a.name: _strip(getattr(value, a.name), names)
                for a in attrs.fields(type(value))
                if a.name not in dropped
            },
        )
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, dict):
        return {_strip(k, names): _strip(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return tuple(_strip(v, names) for v in value)
    return value


def business_state(engine: O2C) -> dict[tuple[str, object], object]:
    """The engine's payments, receipts, invoices and disputes, bookkeeping left out."""
    snapshot = engine.storage.snapshot()  # type: ignore[attr-defined]
    records = [(kind, rid, rec) for kind, rid, rec, _ in snapshot.records if kind in _KINDS]
    names: dict[str, str] = {}
    for kind, rid, rec in records:
        if kind == "receipt":
            names[rid] = f"receipt of {rec.reference}"
        elif kind == "dispute":
            names[rid] = f"dispute {rec.provider_id}"
    return {(kind, names.get(rid, rid)): _strip(rec, names) for kind, rid, rec in records}


# --------------------------------------------------------------------------- the property


@given(data=st.data(), plan=plans)
def test_redelivered_shuffled_events_end_in_the_in_order_state(
    data: st.DataObject, plan: list[tuple[bool, str, int]]
) -> None:
    stream = data.draw(gateway_stream(slots(plan)), label="stream")
    arrivals = data.draw(redelivered(stream), label="arrivals")
    in_order, shuffled = new_engine(), new_engine()
    handles = setup(in_order, plan)
    assert setup(shuffled, plan) == handles

    for event in stream:
        result = event.bind(handles).apply(in_order)
        assert result.status is not WebhookStatus.PARKED  # type: ignore[attr-defined]
    for event in arrivals:
        event.bind(handles).apply(shuffled)

    assert business_state(shuffled) == business_state(in_order)
    assert shuffled.parked_webhooks() == in_order.parked_webhooks() == ()


def test_the_state_comparison_sees_a_difference() -> None:
    # The property above is only as good as business_state(): one more event must show.
    plan = [(True, PENDING, 1)]
    one, other = new_engine(), new_engine()
    handles = setup(one, plan)
    setup(other, plan)
    assert business_state(one) == business_state(other)
    h = handles[0]
    deliver("evt_x", "payment_intent.succeeded", _intent(h, "succeeded"), T0).apply(one)
    assert business_state(one) != business_state(other)
    # ... and a dispute (in another state) shows as well.
    deliver("evt_x", "payment_intent.succeeded", _intent(h, "succeeded"), T0).apply(other)
    assert business_state(one) == business_state(other)
    dispute = _dispute(h.index, "needs_response", 0, T0, 100)
    deliver("evt_d", "charge.dispute.created", dispute, T0).apply(one)
    assert business_state(one) != business_state(other)


def test_bookkeeping_left_out_is_only_bookkeeping() -> None:
    # The fields dropped exist (a rename in the records would silently widen the
    # comparison) and record how the state was reached, not the state.
    for cls, names in _BOOKKEEPING.items():
        assert names <= {a.name for a in attrs.fields(cls)}
