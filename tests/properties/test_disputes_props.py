"""Properties of o2c.disputes under random operations and random provider statuses.

The checks below are written against DISPUTE_WORKFLOW's table and the dispute's
recorded facts, not against the module's own helpers, so a dispute that jumps a
state, leaves a final state, records evidence twice or resolves more than was
disputed makes them fail.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from o2c.disputes import (
    STRIPE_STATUS_MAP,
    Dispute,
    Resolution,
    accept,
    apply_stripe_status,
    close_inquiry,
    dispute_from_stripe,
    escalate,
    expire_if_due,
    flag_for_review,
    lose,
    open_chargeback,
    open_deduction,
    open_inquiry,
    pauses_dunning,
    resolve,
    resume,
    submit_evidence,
    win,
    withdraw,
)
from o2c.errors import InvalidStripeDisputeError, O2CError
from o2c.events import DisputeEvidenceSubmitted, DisputeResolved, DomainEvent
from o2c.lifecycles import DISPUTE_WORKFLOW, DisputeEvent, DisputeState
from o2c.money import Money

START = datetime(2026, 1, 1, tzinfo=UTC)
START_EPOCH = 1_767_225_600
FINALS = DISPUTE_WORKFLOW.finals
KNOWN = sorted(STRIPE_STATUS_MAP)
WORKFLOW_EVENTS = {e.value for e in DisputeEvent}

statuses = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(["", "WON", "needs-response", "won ", "closed", "pre_arbitration"]),
    st.text(max_size=12),
)


def stripe_object(status: str, cents: int, submitted: int, due_days: int | None) -> dict[str, Any]:
    return {
        "id": "dp_prop",
        "object": "dispute",
        "amount": cents,
        "currency": "eur",
        "status": status,
        "reason": "fraudulent",
        "charge": "ch_prop",
        "created": START_EPOCH,
        "evidence": {"uncategorized_text": "from stripe", "receipt": "file_1"},
        "evidence_details": {
            "due_by": None if due_days is None else START_EPOCH + due_days * 86_400,
            "has_evidence": submitted > 0,
            "submission_count": submitted,
        },
    }


@st.composite
def opened(draw: st.DrawFn) -> tuple[Dispute, tuple[DomainEvent, ...]]:
    kind = draw(st.sampled_from(["chargeback", "inquiry", "deduction", "stripe"]))
    cents = draw(st.integers(1, 50_000))
    amount = Money.from_minor_units(cents, "EUR")
    due_days = draw(st.none() | st.integers(0, 30))
    due = None if due_days is None else START + timedelta(days=due_days)
    common: dict[str, Any] = {"customer_id": "C-1", "now": START, "respond_by": due}
    if kind == "chargeback":
        return open_chargeback("D-P", amount=amount, reason="fraudulent", **common)
    if kind == "inquiry":
        return open_inquiry("D-P", amount=amount, reason="general", **common)
    if kind == "deduction":
        return open_deduction("D-P", invoice_id="INV-1", short_amount=amount, **common)
    # An empty status is a garbled object (typed error), not a surprise status.
    status = draw(statuses.filter(bool))
    obj = stripe_object(status, cents, draw(st.integers(0, 2)), due_days)
    return dispute_from_stripe(obj, "D-P", "C-1", START)


operations = st.one_of(
    st.tuples(
        st.just("submit"),
        st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["x", " ", "yz"]), max_size=2),
        st.lists(st.sampled_from(["doc-1", "doc-2"]), max_size=2),
    ),
    st.tuples(st.just("escalate"), st.none() | st.integers(0, 30)),
    st.tuples(st.sampled_from(["win", "lose", "accept", "withdraw", "close_inquiry"])),
    st.tuples(st.just("flag"), st.sampled_from(["needs a look", " "])),
    st.tuples(st.just("resume"), st.sampled_from(list(DisputeState))),
    st.tuples(st.just("expire")),
    st.tuples(
        st.just("resolve"), st.sampled_from(list(Resolution)), st.none() | st.integers(-5, 60_000)
    ),
    st.tuples(st.just("stripe"), statuses),
)

_CLOSERS = {"win": win, "lose": lose, "accept": accept, "withdraw": withdraw}


def run(op: tuple[Any, ...], d: Dispute, now: datetime) -> tuple[Dispute, tuple[DomainEvent, ...]]:
    name = op[0]
    if name == "submit":
        return submit_evidence(d, now=now, texts=op[1], documents=op[2])
    if name == "escalate":
        due = None if op[1] is None else now + timedelta(days=op[1])
        return escalate(d, now=now, respond_by=due)
    if name in _CLOSERS:
        return _CLOSERS[name](d, now=now)
    if name == "close_inquiry":
        return close_inquiry(d, now=now)
    if name == "flag":
        return flag_for_review(d, reason=op[1], now=now)
    if name == "resume":
        return resume(d, to=op[1], now=now)
    if name == "expire":
        return expire_if_due(d, now=now)
    if name == "resolve":
        amount = None if op[2] is None else Money.from_minor_units(op[2], "EUR")
        return resolve(d, op[1], now=now, amount=amount)
    return apply_stripe_status(d, op[1], now=now)


def check_history_is_legal(before: Dispute | None, after: Dispute) -> None:
    """Every recorded move is a row of DISPUTE_WORKFLOW and they chain to the state."""
    old = () if before is None else before.history
    assert after.history[: len(old)] == old, "history was rewritten"
    state = DisputeState.NEW if before is None else before.state
    for entry in after.history[len(old) :]:
        assert entry.source is state
        if entry.event in WORKFLOW_EVENTS:
            assert entry.target is DISPUTE_WORKFLOW.apply(state, DisputeEvent(entry.event))
        else:
            assert entry.target is state, "a non-workflow entry moved the state"
        state = entry.target
    assert state is after.state


def check_dispute(d: Dispute) -> None:
    assert d.state in set(DisputeState)
    assert pauses_dunning(d) is (d.state not in FINALS)
    if d.resolution is not None:
        assert d.state in FINALS
        assert not d.resolution.amount.is_negative()
        assert d.resolution.amount <= d.amount
    if d.outcome is not None:
        assert d.outcome.state is d.state


def check_step(before: Dispute, after: Dispute, events: tuple[DomainEvent, ...]) -> None:
    check_history_is_legal(before, after)
    check_dispute(after)
    if before.state in FINALS:
        assert after.state is before.state, "a final state was left"
    for slot in ("inquiry_evidence", "evidence"):
        if getattr(before, slot) is not None:
            assert getattr(after, slot) == getattr(before, slot), f"{slot} was replaced"
    if before.resolution is not None:
        assert after.resolution == before.resolution, "the resolution was replaced"
    assert all(e.aggregate_id == before.id for e in events)


def check_run(events: list[DomainEvent]) -> None:
    stages = Counter(e.stage for e in events if isinstance(e, DisputeEvidenceSubmitted))
    assert all(n == 1 for n in stages.values()), f"evidence recorded twice: {stages}"
    assert sum(isinstance(e, DisputeResolved) for e in events) <= 1


# The rare corner where evidence could be recorded twice: evidence on file, flagged,
# resumed into a state that takes evidence again. Sequences often start with it.
PRELUDE: list[tuple[tuple[Any, ...], int]] = [
    (("submit", {"a": "x"}, []), 1),
    (("flag", "needs a look"), 1),
]
resumes = st.sampled_from([DisputeState.INQUIRY, DisputeState.NEEDS_RESPONSE])


@given(
    opened(),
    st.none() | resumes,
    st.lists(st.tuples(operations, st.integers(0, 96)), max_size=14),
)
def test_random_operations_keep_every_invariant(
    start: tuple[Dispute, tuple[DomainEvent, ...]],
    prelude: DisputeState | None,
    steps: list[tuple[tuple[Any, ...], int]],
) -> None:
    if prelude is not None:
        steps = [*PRELUDE, (("resume", prelude), 1), *steps]
    d, events = start
    check_history_is_legal(None, d)
    check_dispute(d)
    seen: list[DomainEvent] = list(events)
    now = START
    for op, hours in steps:
        now += timedelta(hours=hours)
        before = d
        if op[0] in ("stripe", "expire"):
            # A provider's surprise and the clock never raise.
            d, evs = run(op, d, now)
        else:
            try:
                d, evs = run(op, d, now)
            except O2CError:
                continue
        check_step(before, d, evs)
        seen.extend(evs)
        if op[0] == "stripe":
            # The same status again changes nothing and says nothing.
            assert apply_stripe_status(d, op[1], now=now) == (d, ())
    check_run(seen)


@given(opened(), st.none() | resumes, st.lists(statuses | st.sampled_from(KNOWN), max_size=10))
def test_random_provider_statuses_keep_every_invariant(
    start: tuple[Dispute, tuple[DomainEvent, ...]],
    prelude: DisputeState | None,
    sent: list[str],
) -> None:
    d, events = start
    seen: list[DomainEvent] = list(events)
    now = START
    if prelude is not None:
        for op, _ in [*PRELUDE, (("resume", prelude), 1)]:
            try:
                d, evs = run(op, d, now)
            except O2CError:
                continue
            seen.extend(evs)
    for status in sent:
        now += timedelta(hours=1)
        before = d
        d, evs = apply_stripe_status(d, status, now=now)
        check_step(before, d, evs)
        seen.extend(evs)
    check_run(seen)


# Orders in which Stripe moves a dispute; webhooks for any of them may be lost.
CHAINS = [
    ["warning_needs_response", "warning_under_review", "warning_closed"],
    ["warning_needs_response", "warning_under_review", "prevented"],
    ["warning_needs_response", "charge_refunded"],
    ["warning_needs_response", "warning_under_review", "needs_response", "under_review", "won"],
    ["warning_needs_response", "warning_under_review", "needs_response", "under_review", "lost"],
    ["needs_response", "lost"],
]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[str], str]:
    chain = draw(st.sampled_from(CHAINS))
    kept = [s for s in chain if draw(st.booleans())] or [chain[-1]]
    sent = kept + draw(st.lists(st.sampled_from(kept), max_size=4))
    return draw(st.permutations(sent)), kept[-1]


@given(deliveries(), st.integers(0, 2))
def test_out_of_order_and_duplicate_webhooks_end_in_the_latest_state(
    delivery: tuple[list[str], str], submitted: int
) -> None:
    sent, latest = delivery
    d, _ = dispute_from_stripe(stripe_object(sent[0], 1000, submitted, 10), "D-W", "C-1", START)
    now = START
    for status in sent[1:]:
        now += timedelta(hours=1)
        before = d
        d, evs = apply_stripe_status(d, status, now=now)
        check_step(before, d, evs)
    assert d.state is STRIPE_STATUS_MAP[latest]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
TOP_KEYS = [
    "object",
    "id",
    "amount",
    "currency",
    "status",
    "reason",
    "charge",
    "payment_intent",
    "created",
    "evidence",
    "evidence_details",
]
DETAIL_KEYS = ["due_by", "has_evidence", "submission_count"]


@given(
    st.dictionaries(st.sampled_from(TOP_KEYS), st.none() | json_values, max_size=4),
    st.dictionaries(st.sampled_from(DETAIL_KEYS), st.none() | json_values, max_size=3),
    st.lists(st.sampled_from(TOP_KEYS), max_size=3),
    st.sampled_from(KNOWN),
)
def test_hostile_stripe_objects_give_a_dispute_or_a_typed_error(
    top: dict[str, Any], details: dict[str, Any], dropped: list[str], status: str
) -> None:
    obj = stripe_object(status, 1234, 1, 5)
    obj["evidence_details"].update(details)
    obj.update(top)
    for key in dropped:
        obj.pop(key, None)
    try:
        d, _ = dispute_from_stripe(obj, "D-H", "C-1", START)
    except InvalidStripeDisputeError as err:
        assert err.field
        return
    check_history_is_legal(None, d)
    check_dispute(d)
    assert d.amount.is_positive()
