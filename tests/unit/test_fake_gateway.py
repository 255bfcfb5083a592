"""FakeGateway: token-driven outcomes, balances, webhooks, idempotency and injected faults."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c.adapters.fake_gateway import FakeGateway, GatewayBalance, SideEffect
from o2c.adapters.faulty_gateway import Fault
from o2c.errors import (
    AdapterError,
    GatewayIdempotencyMismatchError,
    GatewayKeyNotFoundError,
    GatewayReferenceNotFoundError,
    GatewayRequestError,
    GatewaySettleError,
    IdempotencyConflictError,
    NaiveDatetimeError,
    NotFoundError,
    PaymentFieldError,
)
from o2c.money import Money
from o2c.payments import DeclineReason, Failed, Pending, Succeeded, TransactionKind
from o2c.ports import GatewayEvent, GatewayRequest, PaymentGateway

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROCESSING = Failed(DeclineReason.PROCESSING_ERROR)
_keys = count(1)


def eur(value: str) -> Money:
    return Money(value, "EUR")


def req(
    amount: str | Money = "100.00",
    *,
    key: str | None = None,
    pay_with: str | None = None,
    reference: str | None = None,
    payment: str = "P1",
) -> GatewayRequest:
    return GatewayRequest(
        idempotency_key=key or f"key-{next(_keys)}",
        payment_id=payment,
        transaction_id=f"T-{key or 'x'}",
        amount=amount if isinstance(amount, Money) else eur(amount),
        token=pay_with,
        reference=reference,
    )


def refused(outcome: object) -> bool:
    return isinstance(outcome, Failed) and outcome.reason is DeclineReason.PROCESSING_ERROR


@pytest.fixture
def gw() -> FakeGateway:
    return FakeGateway()


def authorized(gw: FakeGateway, amount: str = "100.00", *, sale: bool = False) -> str:
    call = gw.sale if sale else gw.authorize
    outcome = call(req(amount, pay_with="tok_visa"))
    assert isinstance(outcome, Succeeded)
    assert outcome.gateway_reference is not None
    return outcome.gateway_reference


def test_it_is_a_payment_gateway(gw: FakeGateway):
    port: PaymentGateway = gw
    assert isinstance(port.authorize(req(pay_with="tok_visa")), Succeeded)


# --------------------------------------------------------------------------- tokens


def test_any_token_authorizes_and_holds_funds(gw: FakeGateway):
    outcome = gw.authorize(req("100.00", key="a1", pay_with="tok_visa"))
    assert outcome == Succeeded("fg_000001")
    assert gw.side_effects == [(TransactionKind.AUTHORIZE, "a1", eur("100.00"))]
    assert gw.balance("fg_000001") == GatewayBalance(
        reference="fg_000001",
        authorized=eur("100.00"),
        captured=eur("0"),
        refunded=eur("0"),
        voided=eur("0"),
    )


def test_sale_authorizes_and_captures_at_once(gw: FakeGateway):
    ref = authorized(gw, "40.00", sale=True)
    balance = gw.balance(ref)
    assert (balance.authorized, balance.captured, balance.uncaptured) == (
        eur("40.00"),
        eur("40.00"),
        eur("0"),
    )
    assert gw.side_effects[0].kind is TransactionKind.SALE


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_decline", DeclineReason.CARD_DECLINED),
        ("tok_decline_insufficient_funds", DeclineReason.INSUFFICIENT_FUNDS),
        ("tok_decline_Expired-Card", DeclineReason.EXPIRED_CARD),
        ("tok_decline_fraud_suspected", DeclineReason.FRAUD_SUSPECTED),
        ("tok_decline_x99", DeclineReason.OTHER),
    ],
)
@pytest.mark.parametrize("kind", ["authorize", "sale"])
def test_decline_tokens_fail_with_their_reason(gw: FakeGateway, token, reason, kind: str):
    outcome = getattr(gw, kind)(req(pay_with=token))
    assert isinstance(outcome, Failed)
    assert outcome.reason is reason
    assert outcome.gateway_reference == "fg_000001"
    assert gw.side_effects == []
    assert gw.balances == {}


def test_references_count_up_across_requests(gw: FakeGateway):
    refs = [gw.authorize(req(pay_with=t)).gateway_reference for t in ("a", "tok_decline", "b")]
    assert refs == ["fg_000001", "fg_000002", "fg_000003"]
    assert FakeGateway(prefix="psp").authorize(req(pay_with="a")) == Succeeded("psp_000001")


# --------------------------------------------------------------------------- pending & webhooks


def test_pending_authorization_is_settled_by_a_webhook(gw: FakeGateway):
    first = gw.authorize(req("25.00", key="p1", pay_with="tok_pending"))
    assert first == Pending("fg_000001")
    assert gw.status(req(key="p1")) == Pending("fg_000001")
    assert gw.side_effects == []
    event = gw.settle("p1", succeed=True, now=T0)
    assert event == GatewayEvent(
        event_id="fg_evt_000001",
        idempotency_key="p1",
        outcome=Succeeded("fg_000001"),
        occurred_at=T0,
    )
    assert gw.status(req(key="p1")) == Succeeded("fg_000001")
    assert gw.side_effects == [(TransactionKind.AUTHORIZE, "p1", eur("25.00"))]
    assert gw.balance("fg_000001").authorized == eur("25.00")
    # A replay returns the first answer, as a cached response would.
    assert gw.authorize(req("25.00", key="p1", pay_with="tok_pending")) == first
    assert gw.events == [event]


def test_pending_sale_settles_into_a_capture(gw: FakeGateway):
    gw.sale(req("25.00", key="p1", pay_with="tok_pending"))
    gw.settle("p1", now=T0)
    assert gw.balance("fg_000001").captured == eur("25.00")


def test_a_pending_request_can_fail(gw: FakeGateway):
    gw.authorize(req(key="p1", pay_with="tok_pending"))
    event = gw.settle("p1", succeed=False, now=T0, reason=DeclineReason.INSUFFICIENT_FUNDS)
    assert event.outcome == Failed(DeclineReason.INSUFFICIENT_FUNDS, "fg_000001")
    assert gw.status(req(key="p1")) == event.outcome
    assert gw.side_effects == []
    with pytest.raises(GatewayReferenceNotFoundError):
        gw.balance("fg_000001")


def test_settling_again_the_same_way_redelivers_the_same_event(gw: FakeGateway):
    gw.authorize(req(key="p1", pay_with="tok_pending"))
    first = gw.settle("p1", now=T0)
    assert gw.settle("p1", now=T0) == first
    assert len(gw.side_effects) == 1
    with pytest.raises(GatewaySettleError) as err:
        gw.settle("p1", succeed=False, now=T0)
    assert err.value.key == "p1"


def test_event_ids_are_unique(gw: FakeGateway):
    for key in ("p1", "p2", "p3"):
        gw.authorize(req(key=key, pay_with="tok_pending"))
    ids = [gw.settle(k, succeed=k != "p2", now=T0).event_id for k in ("p1", "p2", "p3")]
    assert ids == ["fg_evt_000001", "fg_evt_000002", "fg_evt_000003"]


def test_settle_refuses_unknown_keys_non_pending_requests_and_naive_times(gw: FakeGateway):
    with pytest.raises(GatewayKeyNotFoundError) as err:
        gw.settle("nope", now=T0)
    assert isinstance(err.value, NotFoundError)
    gw.authorize(req(key="done", pay_with="tok_visa"))
    with pytest.raises(GatewaySettleError):
        gw.settle("done", now=T0)
    gw.authorize(req(key="p1", pay_with="tok_pending"))
    with pytest.raises(NaiveDatetimeError):
        gw.settle("p1", now=datetime(2026, 1, 1))
    with pytest.raises(GatewayRequestError):
        gw.settle("p1", now="today")  # type: ignore[arg-type]
    with pytest.raises(PaymentFieldError):
        gw.settle("p1", succeed=False, now=T0, reason="gone")  # type: ignore[arg-type]
    assert gw.status(req(key="p1")) == Pending("fg_000002")


def test_a_pending_authorization_cannot_be_captured_before_it_settles(gw: FakeGateway):
    gw.authorize(req(key="p1", pay_with="tok_pending"))
    assert refused(gw.capture(req(reference="fg_000001")))
    gw.settle("p1", now=T0)
    assert isinstance(gw.capture(req(reference="fg_000001")), Succeeded)


# --------------------------------------------------------------------------- capture, void, refund


def test_partial_captures_up_to_the_authorization(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    assert gw.capture(req("60.00", key="c1", reference=ref)) == Succeeded("fg_000002")
    assert gw.capture(req("40.00", key="c2", reference=ref)) == Succeeded("fg_000003")
    over = gw.capture(req("0.01", key="c3", reference=ref))
    assert over == Failed(DeclineReason.PROCESSING_ERROR, "fg_000004")
    assert gw.balance(ref).captured == eur("100.00")
    assert [e.key for e in gw.side_effects][1:] == ["c1", "c2"]
    assert [e.kind for e in gw.side_effects] == [
        TransactionKind.AUTHORIZE,
        TransactionKind.CAPTURE,
        TransactionKind.CAPTURE,
    ]


def test_capture_more_than_authorized_is_refused_without_effect(gw: FakeGateway):
    ref = authorized(gw, "10.00")
    assert refused(gw.capture(req("10.01", reference=ref)))
    assert gw.balance(ref).captured == eur("0")
    assert len(gw.side_effects) == 1


def test_unknown_reference_or_currency_is_refused(gw: FakeGateway):
    ref = authorized(gw, "10.00")
    assert refused(gw.capture(req("5.00", reference="fg_999999")))
    assert refused(gw.refund(req("5.00", reference="nope")))
    assert refused(gw.capture(req(Money("5.00", "USD"), reference=ref)))
    assert len(gw.side_effects) == 1


def test_void_releases_exactly_the_uncaptured_rest(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    assert refused(gw.void(req("50.00", reference=ref)))
    assert isinstance(gw.void(req("100.00", reference=ref)), Succeeded)
    balance = gw.balance(ref)
    assert (balance.voided, balance.uncaptured) == (eur("100.00"), eur("0"))
    assert refused(gw.capture(req("1.00", reference=ref)))
    assert refused(gw.void(req("100.00", reference=ref)))


def test_void_after_a_partial_capture_releases_the_rest(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    gw.capture(req("30.00", reference=ref))
    assert isinstance(gw.void(req("70.00", reference=ref)), Succeeded)
    assert gw.balance(ref).uncaptured == eur("0")


def test_nothing_to_void_after_full_capture_or_a_sale(gw: FakeGateway):
    ref = authorized(gw, "20.00")
    gw.capture(req("20.00", reference=ref))
    assert refused(gw.void(req("20.00", reference=ref)))
    sale = authorized(gw, "20.00", sale=True)
    assert refused(gw.void(req("20.00", reference=sale)))


def test_refunds_up_to_what_was_captured(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    assert refused(gw.refund(req("1.00", reference=ref)))  # nothing captured yet
    capture = gw.capture(req("80.00", reference=ref))
    assert isinstance(capture, Succeeded)
    assert isinstance(gw.refund(req("50.00", reference=ref)), Succeeded)
    # The capture's own reference leads to the same authorization.
    assert capture.gateway_reference is not None
    assert isinstance(gw.refund(req("30.00", reference=capture.gateway_reference)), Succeeded)
    assert refused(gw.refund(req("0.01", reference=ref)))
    balance = gw.balance(capture.gateway_reference)
    assert (balance.captured, balance.refunded, balance.refundable) == (
        eur("80.00"),
        eur("80.00"),
        eur("0"),
    )


def test_sale_can_be_refunded(gw: FakeGateway):
    ref = authorized(gw, "15.00", sale=True)
    assert isinstance(gw.refund(req("15.00", reference=ref)), Succeeded)
    assert gw.balance(ref).refunded == eur("15.00")


# --------------------------------------------------------------------------- idempotency


def test_a_replay_returns_the_first_answer_and_moves_nothing(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    first = gw.capture(req("60.00", key="c1", reference=ref))
    again = gw.capture(req("60.00", key="c1", reference=ref))
    assert again == first
    assert gw.balance(ref).captured == eur("60.00")
    assert len(gw.side_effects) == 2


def test_a_replayed_refusal_stays_refused(gw: FakeGateway):
    ref = authorized(gw, "10.00")
    first = gw.refund(req("5.00", key="r1", reference=ref))
    gw.capture(req("10.00", reference=ref))
    assert gw.refund(req("5.00", key="r1", reference=ref)) == first
    assert gw.balance(ref).refunded == eur("0")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": eur("99.00")}, "amount"),
        ({"payment_id": "P2"}, "payment_id"),
        ({"transaction_id": "other"}, "transaction_id"),
        ({"token": "tok_other"}, "token"),
        ({"reference": "fg_000001"}, "reference"),
    ],
)
def test_a_key_reused_with_another_payload_is_refused(gw: FakeGateway, changes, field: str):
    first = req("100.00", key="k1", pay_with="tok_visa")
    gw.authorize(first)
    with pytest.raises(GatewayIdempotencyMismatchError) as err:
        gw.authorize(attrs.evolve(first, **changes))
    assert (err.value.key, err.value.field, err.value.retryable) == ("k1", field, False)
    assert isinstance(err.value, AdapterError)
    assert isinstance(err.value, IdempotencyConflictError)
    assert len(gw.side_effects) == 1


def test_a_key_reused_for_another_kind_is_refused(gw: FakeGateway):
    gw.authorize(req(key="k1", pay_with="tok_visa"))
    with pytest.raises(GatewayIdempotencyMismatchError) as err:
        gw.sale(req(key="k1", pay_with="tok_visa"))
    assert err.value.field == "kind"


# --------------------------------------------------------------------------- status


def test_status_of_a_key_never_seen_is_a_processing_failure(gw: FakeGateway):
    assert gw.status(req(key="never")) == PROCESSING


def test_status_reports_the_recorded_outcome(gw: FakeGateway):
    gw.authorize(req(key="a1", pay_with="tok_decline"))
    assert gw.status(req(key="a1")) == Failed(DeclineReason.CARD_DECLINED, "fg_000001")
    assert gw.side_effects == []


def test_status_validates_the_request(gw: FakeGateway):
    with pytest.raises(GatewayRequestError):
        gw.status("a1")  # type: ignore[arg-type]
    with pytest.raises(GatewayRequestError):
        gw.status(req(key=" a1"))


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kind", "bad", "field"),
    [
        ("authorize", req(), "token"),
        ("sale", req(pay_with=""), "token"),
        ("capture", req(), "reference"),
        ("void", req(reference=""), "reference"),
        ("refund", req(), "reference"),
        ("authorize", req(eur("0"), pay_with="t"), "amount"),
        ("authorize", req(eur("-1"), pay_with="t"), "amount"),
        ("authorize", req(eur("1.001"), pay_with="t"), "amount"),
        ("authorize", attrs.evolve(req(pay_with="t"), amount=Decimal(1)), "amount"),
        ("authorize", req(key=" k", pay_with="t"), "idempotency_key"),
        ("authorize", req(key="k" * 256, pay_with="t"), "idempotency_key"),
        ("authorize", req(pay_with="t", payment=""), "payment_id"),
        ("authorize", attrs.evolve(req(pay_with="t"), transaction_id=None), "transaction_id"),
        ("authorize", {"amount": "1"}, "request"),
    ],
)
def test_malformed_requests_are_refused(gw: FakeGateway, kind: str, bad: object, field: str):
    with pytest.raises(GatewayRequestError) as err:
        getattr(gw, kind)(bad)
    assert err.value.field == field
    assert gw.side_effects == []


def test_bad_prefix_is_refused():
    with pytest.raises(GatewayRequestError):
        FakeGateway(prefix="")


def test_balance_of_an_unknown_reference_is_not_found(gw: FakeGateway):
    with pytest.raises(GatewayReferenceNotFoundError) as err:
        gw.balance("fg_000001")
    assert (err.value.kind, err.value.id) == ("gateway_reference", "fg_000001")


def test_inspection_lists_are_copies(gw: FakeGateway):
    authorized(gw)
    gw.side_effects.clear()
    gw.balances.clear()
    gw.events.clear()
    assert len(gw.side_effects) == 1
    assert len(gw.balances) == 1
    assert gw.side_effects[0] == SideEffect(
        TransactionKind.AUTHORIZE, gw.side_effects[0].key, eur("100.00")
    )


# --------------------------------------------------------------------------- properties

TOKENS = ("tok_visa", "tok_visa", "tok_decline", "tok_decline_expired_card", "tok_pending")
# Amount choices for a capture, void or refund, relative to what the target allows.
PORTIONS = ("rest", "half", "over", "fixed")

op = st.one_of(
    st.tuples(
        st.sampled_from(["authorize", "sale"]),
        st.sampled_from(TOKENS),
        st.integers(min_value=1, max_value=50_000),
    ),
    st.tuples(
        st.sampled_from(["capture", "void", "refund"]),
        st.integers(min_value=0, max_value=30),
        st.sampled_from(PORTIONS),
    ),
    st.tuples(st.just("settle"), st.integers(min_value=0, max_value=30), st.booleans()),
)
programs = st.lists(op, min_size=1, max_size=25)


def _amount(gw: FakeGateway, kind: str, ref: str | None, portion: str) -> Money:
    """An amount for a follow-up, derived from the gateway's state (equal across runs)."""
    try:
        balance = gw.balance(ref) if ref else None
    except GatewayReferenceNotFoundError:
        balance = None
    if balance is None or portion == "fixed":
        return eur("7.00")
    room = balance.refundable if kind == "refund" else balance.uncaptured
    if portion == "over":
        return room + eur("0.01")
    if room.is_zero():
        return eur("0.01")
    if portion == "half" and kind != "void" and room > eur("0.01"):
        return Money.from_minor_units(room.in_minor_units() // 2, "EUR")
    return room


def run(program, replays: list[int] | None = None):
    """Run ``program``; after step i, replay the earlier step ``replays[i] % (i+1)``."""
    gw = FakeGateway()
    sent: list[tuple[str, object]] = []  # (method, request or settle key+flag)
    outcomes: list[object] = []
    refs: list[str | None] = []
    for i, (kind, a, b) in enumerate(program):
        if kind in ("authorize", "sale"):
            call = (kind, req(Money.from_minor_units(b, "EUR"), key=f"k{i}", pay_with=a))
        elif kind == "settle":
            # Only earlier steps (a key settled before it exists would answer differently
            # once it does: not a replay); mostly the pending ones.
            pending = [f"k{j}" for j, o in enumerate(outcomes) if isinstance(o, Pending)]
            earlier = f"k{a % i}" if i else "k-none"
            call = (kind, (pending[a % len(pending)] if pending and a % 4 else earlier, b))
        else:
            # Mostly a live authorization or charge; sometimes any reference seen so far.
            room = "refundable" if kind == "refund" else "uncaptured"
            live = [r for r, bal in gw.balances.items() if getattr(bal, room).is_positive()]
            if live and a % 4:
                target: str | None = live[a % len(live)]
            else:
                target = refs[a % len(refs)] if refs else None
            amount = _amount(gw, kind, target, b)
            call = (kind, req(amount, key=f"k{i}", reference=target or "fg_none"))
        outcome = _send(gw, call)
        sent.append(call)
        outcomes.append(outcome)
        refs.append(getattr(outcome, "gateway_reference", None))
        _check_balances(gw)
        if replays is not None:
            j = replays[i % len(replays)] % (i + 1)
            assert _send(gw, sent[j]) == outcomes[j], f"replay of step {j} answered differently"
            _check_balances(gw)
    return gw, outcomes


def _send(gw: FakeGateway, call: tuple[str, object]) -> object:
    kind, payload = call
    if kind != "settle":
        return getattr(gw, kind)(payload)
    key, succeed = payload  # type: ignore[misc]
    try:
        return gw.settle(key, succeed=succeed, now=T0)
    except (GatewayKeyNotFoundError, GatewaySettleError) as exc:
        return type(exc).__name__


def _check_balances(gw: FakeGateway) -> None:
    zero = eur("0")
    for balance in gw.balances.values():
        assert balance.captured + balance.voided <= balance.authorized
        assert balance.refunded <= balance.captured
        assert min(balance.captured, balance.refunded, balance.voided) >= zero
        assert balance.authorized > zero
    moved: dict[TransactionKind, Money] = {}
    for effect in gw.side_effects:
        moved[effect.kind] = moved.get(effect.kind, zero) + effect.amount
    total = gw.balances.values()
    assert sum((b.authorized for b in total), zero) == moved.get(
        TransactionKind.AUTHORIZE, zero
    ) + moved.get(TransactionKind.SALE, zero)
    assert sum((b.captured for b in total), zero) == moved.get(
        TransactionKind.CAPTURE, zero
    ) + moved.get(TransactionKind.SALE, zero)
    assert sum((b.refunded for b in total), zero) == moved.get(TransactionKind.REFUND, zero)
    assert sum((b.voided for b in total), zero) == moved.get(TransactionKind.VOID, zero)


@given(program=programs, replays=st.lists(st.integers(min_value=0), min_size=1, max_size=25))
def test_replays_change_nothing(program, replays: list[int]):
    plain, plain_outcomes = run(program)
    replayed, replayed_outcomes = run(program, replays)
    assert replayed.side_effects == plain.side_effects
    assert replayed.balances == plain.balances
    assert replayed.events == plain.events
    assert replayed_outcomes == plain_outcomes


@given(program=programs)
def test_balances_never_overdraw(program):
    gw, outcomes = run(program)
    succeeded = sum(isinstance(o, Succeeded) for o in outcomes)
    settled = {
        o.event_id
        for o in outcomes
        if isinstance(o, GatewayEvent) and isinstance(o.outcome, Succeeded)
    }
    # Each success is one side effect, and so is each settled success (redeliveries share
    # their event id and move nothing).
    assert len(gw.side_effects) == succeeded + len(settled)


# --------------------------------------------------------------------------- never seen stays so


def test_a_request_after_status_said_never_seen_is_refused_and_moves_nothing(gw: FakeGateway):
    assert gw.status(req(key="late")) == PROCESSING
    outcome = gw.authorize(req(key="late", pay_with="tok_visa"))
    assert refused(outcome)
    assert gw.side_effects == []
    assert gw.status(req(key="late")) == outcome  # and the answer is kept


def test_a_pending_capture_settles_against_the_balance(gw: FakeGateway):
    ref = authorized(gw, "100.00")
    gw.inject("capture", Fault.PENDING, times=2)
    assert isinstance(gw.capture(req("60.00", key="c1", reference=ref)), Pending)
    assert isinstance(gw.capture(req("60.00", key="c2", reference=ref)), Pending)
    assert gw.pending_keys == ["c1", "c2"]
    assert gw.settle("c1", now=T0).outcome == Succeeded("fg_000002")
    # Only 40.00 is left: the second settles as a refusal, moving nothing.
    assert refused(gw.settle("c2", now=T0).outcome)
    assert gw.balance(ref).captured == eur("60.00")
    assert gw.pending_keys == []
