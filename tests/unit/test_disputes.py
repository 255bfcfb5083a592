"""Unit tests for o2c.disputes: examples, every error path, hand-worked amounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from o2c.disputes import (
    MAX_EVIDENCE_TEXT_CHARS,
    STRIPE_STATUS_MAP,
    Dispute,
    DisputeKind,
    DisputeReason,
    Evidence,
    EvidenceStage,
    Resolution,
    accept,
    allowed_resolutions,
    apply_stripe_status,
    close_inquiry,
    dispute_from_stripe,
    disputed_amount_open,
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
    stripe_reason,
    submit_evidence,
    win,
    withdraw,
)
from o2c.errors import (
    CurrencyMismatchError,
    DisputeAlreadyResolvedError,
    DisputeNotClosedError,
    DomainError,
    EvidenceAlreadySubmittedError,
    EvidenceDeadlinePassedError,
    InvalidDisputeError,
    InvalidEvidenceError,
    InvalidResolutionError,
    InvalidStripeDisputeError,
    InvalidTransitionError,
)
from o2c.events import (
    DisputeClosed,
    DisputeEscalated,
    DisputeEvidenceSubmitted,
    DisputeFlaggedForReview,
    DisputeOpened,
    DisputeProviderStatusIgnored,
    DisputeResolved,
    DisputeResumed,
)
from o2c.lifecycles import DisputeState
from o2c.money import Money

S = DisputeState
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(days=7)
EUR = "EUR"


def eur(text: str) -> Money:
    return Money(text, EUR)


def chargeback(**kw: Any) -> Dispute:
    args: dict[str, Any] = {
        "customer_id": "C-1",
        "amount": eur("120.00"),
        "reason": DisputeReason.FRAUDULENT,
        "now": NOW,
        "respond_by": DUE,
        "payment_id": "P-1",
    }
    args.update(kw)
    d, _ = open_chargeback("D-1", **args)
    return d


def inquiry(**kw: Any) -> Dispute:
    args: dict[str, Any] = {
        "customer_id": "C-1",
        "amount": eur("120.00"),
        "reason": "general",
        "now": NOW,
        "respond_by": DUE,
    }
    args.update(kw)
    d, _ = open_inquiry("D-2", **args)
    return d


def deduction(**kw: Any) -> Dispute:
    args: dict[str, Any] = {
        "customer_id": "C-9",
        "invoice_id": "INV-7",
        "short_amount": eur("37.50"),
        "now": NOW,
        "respond_by": DUE,
        "reason": DisputeReason.PRICING_ERROR,
    }
    args.update(kw)
    d, _ = open_deduction("D-3", **args)
    return d


def stripe_obj(**over: Any) -> dict[str, Any]:
    """A minimal Stripe-shaped dispute, written here (not copied from any sample)."""
    obj: dict[str, Any] = {
        "id": "dp_test_1",
        "object": "dispute",
        "amount": 1999,
        "currency": "eur",
        "status": "needs_response",
        "reason": "product_not_received",
        "charge": "ch_test_1",
        "created": 1_767_225_600,  # 2026-01-01T00:00:00Z
        "evidence": {"product_description": None, "receipt": None},
        "evidence_details": {"due_by": 1_768_435_199, "has_evidence": False, "submission_count": 0},
    }
    obj.update(over)
    return obj


def from_stripe(status: str, **over: Any) -> Dispute:
    d, _ = dispute_from_stripe(stripe_obj(status=status, **over), "D-S", "C-1", NOW)
    return d


# --------------------------------------------------------------------------- opening


def test_open_chargeback_starts_in_needs_response() -> None:
    d, events = open_chargeback(
        "D-1",
        customer_id="C-1",
        amount=eur("120.00"),
        reason="fraudulent",
        now=NOW,
        respond_by=DUE,
        payment_id="P-1",
        invoice_id="INV-1",
    )
    assert d.state is S.NEEDS_RESPONSE
    assert d.kind is DisputeKind.CHARGEBACK
    assert d.reason is DisputeReason.FRAUDULENT
    assert d.raw_reason == "fraudulent"
    assert d.opened_at == NOW
    assert d.provider == "manual"
    assert [(h.event, h.source, h.target) for h in d.history] == [("open", S.NEW, S.NEEDS_RESPONSE)]
    (opened,) = events
    assert isinstance(opened, DisputeOpened)
    assert opened.aggregate == "dispute"
    assert opened.aggregate_id == "D-1"
    assert opened.state == "needs_response"
    assert opened.amount == eur("120.00")
    assert opened.invoice_id == "INV-1"
    assert opened.respond_by == DUE
    assert pauses_dunning(d)
    assert d.open_amount == eur("120.00")


def test_open_inquiry_starts_in_inquiry_and_keeps_raw_reason() -> None:
    d = inquiry(raw_reason="4837 no cardholder authorisation")
    assert d.state is S.INQUIRY
    assert d.kind is DisputeKind.CHARGEBACK
    assert d.reason is DisputeReason.GENERAL
    assert d.raw_reason == "4837 no cardholder authorisation"
    assert d.stage is EvidenceStage.INQUIRY


def test_open_deduction_from_short_payment() -> None:
    # Invoice of 1,537.50 paid with 1,500.00: the customer deducted 37.50.
    short = eur("1537.50") - eur("1500.00")
    d, events = open_deduction(
        "D-3",
        customer_id="C-9",
        invoice_id="INV-7",
        short_amount=short,
        now=NOW,
        respond_by=None,
        raw_reason="PRC-ADJ",
    )
    assert d.state is S.NEEDS_RESPONSE
    assert d.kind is DisputeKind.DEDUCTION
    assert d.amount == eur("37.50")
    assert d.reason is DisputeReason.UNKNOWN
    assert d.raw_reason == "PRC-ADJ"
    assert d.invoice_id == "INV-7"
    assert isinstance(events[0], DisputeOpened)
    assert events[0].kind == "deduction"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"amount": eur("0.00")}, "amount"),
        ({"amount": eur("-1.00")}, "amount"),
        ({"amount": Decimal(5)}, "amount"),
        ({"reason": "chargeback_because"}, "reason"),
        ({"reason": 7}, "reason"),
        ({"customer_id": "  "}, "customer_id"),
        ({"customer_id": None}, "customer_id"),
        ({"payment_id": ""}, "payment_id"),
        ({"payment_id": "p" * 256}, "payment_id"),
        ({"respond_by": "2026-03-09"}, "respond_by"),
        ({"raw_reason": "x" * 101}, "raw_reason"),
        ({"provider": ""}, "provider"),
        ({"now": "today"}, "now"),
    ],
)
def test_open_refuses_bad_input(override: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidDisputeError) as info:
        chargeback(**override)
    assert info.value.field == field


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(DomainError):
        chargeback(now=datetime(2026, 3, 2, 9, 0))  # naive on purpose
    with pytest.raises(DomainError):
        chargeback(respond_by=datetime(2026, 3, 9))


def test_a_deduction_must_name_its_invoice() -> None:
    with pytest.raises(InvalidDisputeError) as info:
        deduction(invoice_id=None)
    assert info.value.field == "invoice_id"


def test_constructor_checks_kind_evidence_stage_and_resolution() -> None:
    d = chargeback()
    with pytest.raises(InvalidDisputeError, match="kind"):
        attrs.evolve(d, kind="refund")
    wrong_stage = Evidence(stage="inquiry", submitted_at=NOW, texts={"a": "b"})
    with pytest.raises(InvalidDisputeError) as info:
        attrs.evolve(d, evidence=wrong_stage)
    assert info.value.field == "evidence"
    lost, _ = lose(d, now=NOW)
    done, _ = resolve(lost, Resolution.WRITE_OFF, now=NOW, amount=eur("20.00"))
    assert done.resolution is not None
    too_much = attrs.evolve(done.resolution, amount=eur("120.01"))
    with pytest.raises(InvalidDisputeError) as info:
        attrs.evolve(done, resolution=too_much)
    assert info.value.field == "resolution"


# --------------------------------------------------------------------------- evidence


def test_submit_evidence_once_before_the_deadline() -> None:
    d = chargeback()
    d2, events = submit_evidence(
        d, now=NOW + timedelta(days=1), texts={"receipt_text": "paid"}, documents=["doc-1"]
    )
    assert d2.state is S.UNDER_REVIEW
    assert d2.evidence is not None
    assert d2.evidence.stage is EvidenceStage.RESPONSE
    assert d2.evidence.text("receipt_text") == "paid"
    assert d2.evidence.text("other") is None
    assert d2.evidence.documents == ("doc-1",)
    assert not d2.evidence.via_provider
    (ev,) = events
    assert isinstance(ev, DisputeEvidenceSubmitted)
    assert ev.stage == "response"
    assert ev.texts == ("receipt_text",)
    assert ev.documents == ("doc-1",)
    assert d.evidence is None  # the original is untouched

    with pytest.raises(EvidenceAlreadySubmittedError) as info:
        submit_evidence(d2, now=NOW + timedelta(days=2), documents=["doc-2"])
    assert info.value.stage == "response"
    assert info.value.submitted_at == NOW + timedelta(days=1)


def test_evidence_on_the_deadline_instant_is_in_time_one_second_later_is_not() -> None:
    d = chargeback()
    on_time, _ = submit_evidence(d, now=DUE, documents=["doc"])
    assert on_time.state is S.UNDER_REVIEW
    late = DUE + timedelta(seconds=1)
    with pytest.raises(EvidenceDeadlinePassedError) as info:
        submit_evidence(d, now=late, documents=["doc"])
    assert info.value.due_by == DUE
    assert info.value.submitted_at == late
    assert DUE.isoformat() in str(info.value)


def test_evidence_without_a_known_deadline_is_accepted() -> None:
    d = chargeback(respond_by=None)
    d2, _ = submit_evidence(d, now=NOW + timedelta(days=400), texts={"note": "late but fine"})
    assert d2.state is S.UNDER_REVIEW


def test_evidence_is_refused_where_the_workflow_takes_none() -> None:
    won, _ = win(submit_evidence(chargeback(), now=NOW, documents=["d"])[0], now=NOW)
    with pytest.raises(EvidenceAlreadySubmittedError):
        submit_evidence(won, now=NOW, documents=["again"])
    lost, _ = lose(chargeback(), now=NOW)
    with pytest.raises(InvalidTransitionError):
        submit_evidence(lost, now=NOW, documents=["d"])


@pytest.mark.parametrize(
    ("texts", "documents", "field"),
    [
        (None, (), "evidence"),
        ({}, [], "evidence"),
        ({"note": "   "}, (), "texts[note]"),
        ({"note": 5}, (), "texts[note]"),
        ({"": "x"}, (), "texts"),
        ({"n" * 65: "x"}, (), "texts"),
        (["not", "a", "mapping"], (), "texts"),
        ({f"t{i}": "x" for i in range(65)}, (), "texts"),
        ({"a": "x" * MAX_EVIDENCE_TEXT_CHARS, "b": "y"}, (), "texts"),
        (None, "doc-1", "documents"),
        (None, 42, "documents"),
        (None, ["doc", "doc"], "documents"),
        (None, ["doc", ""], "documents[1]"),
        (None, [f"d{i}" for i in range(65)], "documents"),
    ],
)
def test_malformed_evidence_is_refused(texts: Any, documents: Any, field: str) -> None:
    with pytest.raises(InvalidEvidenceError) as info:
        submit_evidence(chargeback(), now=NOW, texts=texts, documents=documents)
    assert info.value.field == field


def test_evidence_survives_evolve_and_reports_emptiness() -> None:
    ev = Evidence(stage=EvidenceStage.RESPONSE, submitted_at=NOW, texts={"b": "2", "a": "1"})
    assert ev.texts == (("a", "1"), ("b", "2"))
    assert attrs.evolve(ev, via_provider=True).texts == ev.texts
    assert not ev.is_empty()
    assert Evidence(stage="response", submitted_at=NOW).is_empty()
    with pytest.raises(InvalidDisputeError):
        Evidence(stage="appeal", submitted_at=NOW)


def test_inquiry_evidence_then_escalation_opens_a_second_window() -> None:
    d = inquiry()
    d, _ = submit_evidence(d, now=NOW, texts={"explanation": "known customer"})
    assert d.state is S.INQUIRY_UNDER_REVIEW
    assert d.inquiry_evidence is not None
    with pytest.raises(EvidenceAlreadySubmittedError) as info:
        submit_evidence(d, now=NOW, texts={"x": "y"})
    assert info.value.stage == "inquiry"
    new_due = NOW + timedelta(days=20)
    d, events = escalate(d, now=NOW + timedelta(days=3), respond_by=new_due)
    assert d.state is S.NEEDS_RESPONSE
    assert d.respond_by == new_due
    assert isinstance(events[0], DisputeEscalated)
    assert events[0].respond_by == new_due
    d, _ = submit_evidence(d, now=NOW + timedelta(days=4), documents=["proof-of-delivery"])
    assert d.state is S.UNDER_REVIEW
    assert d.evidence is not None
    assert d.inquiry_evidence is not None


def test_escalation_without_a_deadline_forgets_the_inquiry_deadline() -> None:
    d, _ = escalate(inquiry(), now=NOW)
    assert d.respond_by is None
    with pytest.raises(InvalidTransitionError):
        escalate(chargeback(), now=NOW)


# --------------------------------------------------------------------------- outcomes


@pytest.mark.parametrize(
    ("prepare", "op", "outcome"),
    [
        ("under_review", win, S.WON),
        ("under_review", lose, S.LOST),
        ("needs_response", lose, S.LOST),
        ("needs_response", accept, S.ACCEPTED),
        ("needs_response", withdraw, S.WITHDRAWN),
        ("under_review", withdraw, S.WITHDRAWN),
        ("inquiry", accept, S.ACCEPTED),
        ("inquiry", close_inquiry, S.INQUIRY_CLOSED),
        ("manual_review", win, S.WON),
    ],
)
def test_outcomes(prepare: str, op: Any, outcome: DisputeState) -> None:
    d = {
        "needs_response": chargeback(),
        "inquiry": inquiry(),
        "under_review": submit_evidence(chargeback(), now=NOW, documents=["d"])[0],
        "manual_review": flag_for_review(chargeback(), reason="odd", now=NOW)[0],
    }[prepare]
    closed, events = op(d, now=NOW + timedelta(days=30), note="bank letter 17")
    assert closed.state is outcome
    assert closed.outcome is not None
    assert closed.outcome.state is outcome
    assert closed.outcome.note == "bank letter 17"
    assert not closed.outcome.expired
    assert closed.review_reason is None
    (ev,) = events
    assert isinstance(ev, DisputeClosed)
    assert ev.outcome == outcome.value
    assert ev.amount == eur("120.00")
    assert not pauses_dunning(closed)
    assert closed.open_amount == eur("0.00")


def test_outcomes_refused_in_the_wrong_state() -> None:
    with pytest.raises(InvalidTransitionError) as info:
        win(inquiry(), now=NOW)
    assert info.value.state == "inquiry"
    assert "submit_evidence" in info.value.allowed
    # An issuer may reverse a chargeback without evidence: needs_response -> won is legal.
    won, _ = win(chargeback(), now=NOW)
    assert won.state is DisputeState.WON
    with pytest.raises(InvalidTransitionError):
        close_inquiry(chargeback(), now=NOW)
    lost, _ = lose(chargeback(), now=NOW)
    for op in (win, lose, accept, withdraw, close_inquiry):
        with pytest.raises(InvalidTransitionError):
            op(lost, now=NOW)
    with pytest.raises(InvalidDisputeError):
        lose(chargeback(), now=NOW, note=None)  # type: ignore[arg-type]


def test_flag_and_resume() -> None:
    d, events = flag_for_review(chargeback(), reason="customer called: paid twice?", now=NOW)
    assert d.state is S.MANUAL_REVIEW
    assert d.review_reason == "customer called: paid twice?"
    (ev,) = events
    assert isinstance(ev, DisputeFlaggedForReview)
    assert ev.previous_state == "needs_response"
    assert ev.provider_status is None
    assert pauses_dunning(d)
    with pytest.raises(InvalidTransitionError):
        flag_for_review(d, reason="again", now=NOW)
    for to in (S.INQUIRY, S.NEEDS_RESPONSE, S.UNDER_REVIEW):
        back, evs = resume(d, to=to, now=NOW, note="checked")
        assert back.state is to
        assert back.review_reason is None
        assert isinstance(evs[0], DisputeResumed)
        assert evs[0].state == to.value
    with pytest.raises(InvalidDisputeError) as info:
        resume(d, to=S.WON, now=NOW)
    assert info.value.field == "to"
    with pytest.raises(InvalidTransitionError):
        resume(chargeback(), to=S.UNDER_REVIEW, now=NOW)
    with pytest.raises(InvalidDisputeError):
        flag_for_review(chargeback(), reason=" ", now=NOW)


# --------------------------------------------------------------------------- deadlines


def test_expired_chargeback_is_lost() -> None:
    d = chargeback()
    assert expire_if_due(d, now=DUE) == (d, ())
    lost, events = expire_if_due(d, now=DUE + timedelta(seconds=1))
    assert lost.state is S.LOST
    assert lost.outcome is not None
    assert lost.outcome.expired
    (ev,) = events
    assert isinstance(ev, DisputeClosed)
    assert ev.expired
    assert DUE.isoformat() in ev.note


@pytest.mark.parametrize("make", [deduction, inquiry])
def test_expired_deduction_or_inquiry_goes_to_manual_review(make: Any) -> None:
    d = make()
    flagged, events = expire_if_due(d, now=DUE + timedelta(days=1))
    assert flagged.state is S.MANUAL_REVIEW
    assert flagged.review_reason is not None
    assert "no response by" in flagged.review_reason
    assert isinstance(events[0], DisputeFlaggedForReview)
    # Already in review: nothing more happens.
    assert expire_if_due(flagged, now=DUE + timedelta(days=9)) == (flagged, ())


def test_expire_leaves_answered_unknown_deadline_and_closed_disputes_alone() -> None:
    answered, _ = submit_evidence(chargeback(), now=NOW, documents=["d"])
    later = DUE + timedelta(days=1)
    assert expire_if_due(answered, now=later) == (answered, ())
    no_deadline = chargeback(respond_by=None)
    assert expire_if_due(no_deadline, now=later) == (no_deadline, ())
    # Resumed into needs_response although evidence is on file: not expired.
    flagged, _ = flag_for_review(answered, reason="check", now=NOW)
    resumed, _ = resume(flagged, to=S.NEEDS_RESPONSE, now=NOW)
    assert expire_if_due(resumed, now=later) == (resumed, ())


# --------------------------------------------------------------------------- resolution


def test_lost_chargeback_resolved_by_full_credit_note_by_default() -> None:
    lost, _ = lose(chargeback(), now=NOW)
    assert allowed_resolutions(lost) == {Resolution.CREDIT_NOTE, Resolution.WRITE_OFF}
    done, events = resolve(lost, Resolution.CREDIT_NOTE, now=NOW, reference="CN-12")
    assert done.resolution is not None
    assert done.resolution.amount == eur("120.00")
    assert done.resolution.reference == "CN-12"
    assert done.history[-1].event == "resolve"
    (ev,) = events
    assert isinstance(ev, DisputeResolved)
    assert ev.resolution == "credit_note"
    assert ev.outcome == "lost"
    assert ev.amount == eur("120.00")
    with pytest.raises(DisputeAlreadyResolvedError) as info:
        resolve(done, Resolution.WRITE_OFF, now=NOW, amount=eur("1.00"))
    assert info.value.resolution == "credit_note"


def test_accepted_deduction_partly_written_off() -> None:
    # 37.50 deducted; we accept and write off 12.50 of it as a goodwill settlement.
    accepted, _ = accept(deduction(), now=NOW)
    done, _ = resolve(accepted, "write_off", now=NOW, amount=eur("12.50"))
    assert done.resolution is not None
    assert done.resolution.amount == eur("12.50")
    assert done.resolution.amount <= done.amount


@pytest.mark.parametrize("op", [win, withdraw])
def test_won_or_withdrawn_deduction_is_collected(op: Any) -> None:
    d = deduction()
    if op is win:
        d, _ = submit_evidence(d, now=NOW, documents=["signed-price-list"])
    closed, _ = op(d, now=NOW)
    assert allowed_resolutions(closed) == {Resolution.COLLECT}
    done, _ = resolve(closed, Resolution.COLLECT, now=NOW)
    assert done.resolution is not None
    assert done.resolution.amount == eur("37.50")


def test_won_chargeback_and_closed_inquiry_resolve_to_none() -> None:
    won, _ = win(submit_evidence(chargeback(), now=NOW, documents=["d"])[0], now=NOW)
    assert allowed_resolutions(won) == {Resolution.NONE}
    done, _ = resolve(won, Resolution.NONE, now=NOW)
    assert done.resolution is not None
    assert done.resolution.amount == eur("0.00")
    closed, _ = close_inquiry(inquiry(), now=NOW)
    assert allowed_resolutions(closed) == {Resolution.NONE}
    with pytest.raises(InvalidResolutionError, match="moves no money"):
        resolve(closed, Resolution.NONE, now=NOW, amount=eur("1.00"))
    with pytest.raises(InvalidResolutionError, match="moves no money"):
        resolve(closed, Resolution.NONE, now=NOW, amount=Money("0", "USD"))


@pytest.mark.parametrize(
    ("resolution", "amount", "match"),
    [
        (Resolution.COLLECT, None, "is not resolved by"),
        (Resolution.NONE, None, "is not resolved by"),
        (Resolution.CREDIT_NOTE, eur("120.01"), "at most"),
        (Resolution.CREDIT_NOTE, eur("0.00"), "above zero"),
        (Resolution.WRITE_OFF, eur("-5.00"), "above zero"),
        (Resolution.WRITE_OFF, eur("10.005"), "minor units"),
        (Resolution.WRITE_OFF, "10.00", "must be Money"),
    ],
)
def test_resolution_refusals(resolution: Resolution, amount: Any, match: str) -> None:
    lost, _ = lose(chargeback(), now=NOW)
    with pytest.raises(InvalidResolutionError, match=match) as info:
        resolve(lost, resolution, now=NOW, amount=amount)
    assert info.value.allowed == ("credit_note", "write_off")
    assert info.value.state == "lost"


def test_resolution_needs_a_closed_dispute_a_known_resolution_and_same_currency() -> None:
    d = chargeback()
    assert allowed_resolutions(d) == frozenset()
    with pytest.raises(DisputeNotClosedError) as info:
        resolve(d, Resolution.CREDIT_NOTE, now=NOW)
    assert info.value.state == "needs_response"
    lost, _ = lose(d, now=NOW)
    with pytest.raises(InvalidDisputeError):
        resolve(lost, "refund", now=NOW)
    with pytest.raises(CurrencyMismatchError):
        resolve(lost, Resolution.WRITE_OFF, now=NOW, amount=Money("5.00", "USD"))
    with pytest.raises(InvalidDisputeError):
        resolve(lost, Resolution.WRITE_OFF, now=NOW, reference="")


# --------------------------------------------------------------------------- dunning


def test_disputed_amount_open_sums_open_disputes_only() -> None:
    a = chargeback()  # 120.00, C-1
    b = deduction()  # 37.50, C-9, INV-7
    c, _ = lose(chargeback(), now=NOW)  # closed: not counted
    usd = open_chargeback(
        "D-U",
        customer_id="C-2",
        amount=Money("5", "USD"),
        reason="general",
        now=NOW,
        respond_by=None,
    )[0]
    assert disputed_amount_open([a, b, c], EUR) == eur("157.50")
    assert disputed_amount_open([a, b, c, usd], EUR, customer_id="C-9") == eur("37.50")
    assert disputed_amount_open([a, b, c], EUR, invoice_id="INV-7") == eur("37.50")
    assert disputed_amount_open([], EUR) == eur("0.00")
    with pytest.raises(CurrencyMismatchError):
        disputed_amount_open([a, usd], EUR)


# --------------------------------------------------------------------------- Stripe mapping


def test_stripe_status_map_covers_every_documented_status() -> None:
    assert dict(STRIPE_STATUS_MAP) == {
        "warning_needs_response": S.INQUIRY,
        "warning_under_review": S.INQUIRY_UNDER_REVIEW,
        "warning_closed": S.INQUIRY_CLOSED,
        "needs_response": S.NEEDS_RESPONSE,
        "under_review": S.UNDER_REVIEW,
        "won": S.WON,
        "lost": S.LOST,
        "prevented": S.INQUIRY_CLOSED,
        "charge_refunded": S.ACCEPTED,
    }


@pytest.mark.parametrize(
    "raw",
    [
        "fraudulent",
        "product_not_received",
        "duplicate",
        "subscription_canceled",
        "product_unacceptable",
        "credit_not_processed",
        "general",
        "unrecognized",
        "bank_cannot_process",
        "customer_initiated",
        "debit_not_authorized",
        "incorrect_account_details",
        "insufficient_funds",
        "noncompliant",
    ],
)
def test_stripe_reasons_map_by_name(raw: str) -> None:
    assert stripe_reason(raw).value == raw


@pytest.mark.parametrize("raw", ["freight", "pricing_error", "check_returned", "", "FRAUDULENT"])
def test_other_reasons_are_unknown(raw: str) -> None:
    assert stripe_reason(raw) is DisputeReason.UNKNOWN


@pytest.mark.parametrize(
    ("start", "status", "expected", "events"),
    [
        ("warning_needs_response", "needs_response", S.NEEDS_RESPONSE, ["DisputeEscalated"]),
        (
            "warning_needs_response",
            "warning_under_review",
            S.INQUIRY_UNDER_REVIEW,
            ["DisputeEvidenceSubmitted"],
        ),
        ("warning_under_review", "warning_closed", S.INQUIRY_CLOSED, ["DisputeClosed"]),
        ("warning_needs_response", "charge_refunded", S.ACCEPTED, ["DisputeClosed"]),
        ("warning_needs_response", "prevented", S.INQUIRY_CLOSED, ["DisputeClosed"]),
        ("needs_response", "under_review", S.UNDER_REVIEW, ["DisputeEvidenceSubmitted"]),
        ("needs_response", "lost", S.LOST, ["DisputeClosed"]),
        ("needs_response", "won", S.WON, ["DisputeClosed"]),
        ("under_review", "won", S.WON, ["DisputeClosed"]),
        ("under_review", "lost", S.LOST, ["DisputeClosed"]),
        ("warning_needs_response", "lost", S.LOST, ["DisputeEscalated", "DisputeClosed"]),
        # stale, out of order: recorded, ignored
        (
            "needs_response",
            "warning_needs_response",
            S.NEEDS_RESPONSE,
            ["DisputeProviderStatusIgnored"],
        ),
        ("under_review", "needs_response", S.UNDER_REVIEW, ["DisputeProviderStatusIgnored"]),
        # after a final state: recorded, ignored
        ("won", "lost", S.WON, ["DisputeProviderStatusIgnored"]),
        ("lost", "needs_response", S.LOST, ["DisputeProviderStatusIgnored"]),
        # contradictions and unknown statuses: manual review
        ("under_review", "warning_closed", S.MANUAL_REVIEW, ["DisputeFlaggedForReview"]),
        ("needs_response", "prevented", S.MANUAL_REVIEW, ["DisputeFlaggedForReview"]),
        ("needs_response", "arbitration", S.MANUAL_REVIEW, ["DisputeFlaggedForReview"]),
        ("won", "arbitration", S.WON, ["DisputeProviderStatusIgnored"]),
    ],
)
def test_apply_stripe_status(
    start: str, status: str, expected: DisputeState, events: list[str]
) -> None:
    d = from_stripe(start)
    later = NOW + timedelta(hours=1)
    d2, evs = apply_stripe_status(d, status, now=later)
    assert d2.state is expected
    assert [e.name for e in evs] == events
    assert d2.provider_status == status
    assert d2.provider_statuses == (start, status)
    assert d2.history[: len(d.history)] == d.history
    assert all(h.at == later for h in d2.history[len(d.history) :])
    assert all(e.occurred_at == later for e in evs)


def test_provider_reported_evidence_is_marked_and_counts_as_the_one_submission() -> None:
    d, _ = apply_stripe_status(from_stripe("needs_response"), "under_review", now=NOW)
    assert d.evidence is not None
    assert d.evidence.via_provider
    assert d.history[-1].note == "stripe: under_review"
    with pytest.raises(EvidenceAlreadySubmittedError):
        submit_evidence(d, now=NOW, documents=["late"])


def test_escalation_by_the_provider_clears_the_inquiry_deadline() -> None:
    d = from_stripe("warning_needs_response")
    assert d.respond_by is not None
    d2, _ = apply_stripe_status(d, "needs_response", now=NOW)
    assert d2.respond_by is None
    # ... so the clock cannot lose the new chargeback on the inquiry's deadline.
    assert expire_if_due(d2, now=NOW + timedelta(days=999)) == (d2, ())


def test_duplicate_status_is_a_no_op_without_events() -> None:
    d = from_stripe("needs_response")
    assert apply_stripe_status(d, "needs_response", now=NOW) == (d, ())
    d2, _ = apply_stripe_status(d, "under_review", now=NOW)
    assert apply_stripe_status(d2, "under_review", now=NOW) == (d2, ())
    d3, _ = apply_stripe_status(d2, "needs_response", now=NOW)  # seen before
    assert d3 is d2


def test_unknown_status_flag_records_the_raw_status() -> None:
    d, events = apply_stripe_status(from_stripe("needs_response"), "pre_arbitration", now=NOW)
    assert d.state is S.MANUAL_REVIEW
    assert d.provider_status == "pre_arbitration"
    assert d.review_reason is not None
    assert "pre_arbitration" in d.review_reason
    (ev,) = events
    assert isinstance(ev, DisputeFlaggedForReview)
    assert ev.provider_status == "pre_arbitration"
    # In review a non-final status is recorded only; a final outcome still applies.
    d2, evs = apply_stripe_status(d, "under_review", now=NOW)
    assert d2.state is S.MANUAL_REVIEW
    assert isinstance(evs[0], DisputeProviderStatusIgnored)
    d3, evs = apply_stripe_status(d2, "won", now=NOW)
    assert d3.state is S.WON
    assert d3.outcome is not None
    assert d3.outcome.by_provider


def test_status_matching_the_current_state_is_recorded() -> None:
    d = chargeback(provider="stripe", provider_id="dp_1")
    d2, events = apply_stripe_status(d, "needs_response", now=NOW)
    assert d2.state is S.NEEDS_RESPONSE
    assert d2.provider_status == "needs_response"
    assert [e.name for e in events] == ["DisputeProviderStatusIgnored"]


def test_long_and_non_string_statuses() -> None:
    d, _ = apply_stripe_status(from_stripe("needs_response"), "x" * 10_000, now=NOW)
    assert d.provider_status is not None
    assert len(d.provider_status) == 100
    assert d.state is S.MANUAL_REVIEW
    with pytest.raises(InvalidStripeDisputeError):
        apply_stripe_status(d, None, now=NOW)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- dispute_from_stripe


def test_dispute_from_stripe_reads_amount_deadline_reason_and_refs() -> None:
    d, events = dispute_from_stripe(stripe_obj(), "D-S", "C-1", NOW, invoice_id="INV-1")
    assert d.state is S.NEEDS_RESPONSE
    assert d.amount == Money("19.99", "EUR")
    assert d.respond_by == datetime(2026, 1, 14, 23, 59, 59, tzinfo=UTC)
    assert d.opened_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert d.reason is DisputeReason.PRODUCT_NOT_RECEIVED
    assert d.raw_reason == "product_not_received"
    assert d.provider == "stripe"
    assert d.provider_id == "dp_test_1"
    assert d.provider_payment_ref == "ch_test_1"
    assert d.invoice_id == "INV-1"
    assert d.evidence is None  # prefilled fields are not a submission
    assert [e.name for e in events] == ["DisputeOpened"]


@pytest.mark.parametrize(
    ("currency", "units", "amount"),
    [("jpy", 1000, "1000"), ("kwd", 1000, "1.000"), ("usd", 1, "0.01")],
)
def test_dispute_from_stripe_uses_the_currency_minor_unit(
    currency: str, units: int, amount: str
) -> None:
    d = from_stripe("needs_response", currency=currency, amount=units)
    assert d.amount == Money(amount, currency.upper())


def test_dispute_from_stripe_with_submitted_evidence() -> None:
    obj = stripe_obj(
        status="lost",
        evidence={
            "product_description": "blue mug",
            "receipt": "file_1",
            "shipping_documentation": "file_1",
            "uncategorized_file": "file_2",
            "customer_name": None,
            "enhanced_evidence": {},
            "note": "  ",
        },
        evidence_details={"due_by": None, "has_evidence": True, "submission_count": 1},
    )
    d, events = dispute_from_stripe(obj, "D-S", "C-1", NOW)
    assert d.state is S.LOST
    assert d.respond_by is None
    assert d.evidence is not None
    assert d.evidence.via_provider
    assert d.evidence.texts == (("product_description", "blue mug"),)
    assert d.evidence.documents == ("file_1", "file_2")
    assert [e.name for e in events] == [
        "DisputeOpened",
        "DisputeEvidenceSubmitted",
        "DisputeClosed",
    ]


def test_staged_evidence_is_not_a_submission() -> None:
    d = from_stripe(
        "lost",
        evidence={"product_description": "blue mug"},
        evidence_details={"due_by": 1, "has_evidence": True, "submission_count": 0},
    )
    assert d.state is S.LOST
    assert d.evidence is None


def test_escalated_inquiry_with_evidence_keeps_the_chargeback_deadline() -> None:
    d = from_stripe(
        "needs_response",
        evidence_details={"due_by": 1_768_435_199, "has_evidence": True, "submission_count": 1},
    )
    assert d.state is S.NEEDS_RESPONSE
    assert d.inquiry_evidence is not None
    assert d.evidence is None
    assert d.respond_by == datetime(2026, 1, 14, 23, 59, 59, tzinfo=UTC)


def test_dispute_from_stripe_unknown_status_opens_in_manual_review() -> None:
    d, events = dispute_from_stripe(stripe_obj(status="new_status_2030"), "D-S", "C-1", NOW)
    assert d.state is S.MANUAL_REVIEW
    assert d.provider_status == "new_status_2030"
    assert [e.name for e in events] == ["DisputeOpened", "DisputeFlaggedForReview"]


def test_dispute_from_stripe_reads_expanded_or_missing_refs() -> None:
    d = from_stripe("needs_response", charge={"id": "ch_exp", "object": "charge"})
    assert d.provider_payment_ref == "ch_exp"
    obj = stripe_obj(charge=None, payment_intent="pi_1")
    del obj["created"]
    d2, _ = dispute_from_stripe(obj, "D-S", "C-1", NOW)
    assert d2.provider_payment_ref == "pi_1"
    assert d2.opened_at == NOW


def _without(key: str) -> dict[str, Any]:
    obj = stripe_obj()
    del obj[key]
    return obj


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        (["not", "an", "object"], "(object)"),
        (stripe_obj(object="issuing.dispute"), "object"),
        (_without("object"), "object"),
        (_without("id"), "id"),
        (stripe_obj(id=""), "id"),
        (stripe_obj(id=12), "id"),
        (_without("amount"), "amount"),
        (stripe_obj(amount=0), "amount"),
        (stripe_obj(amount=-5), "amount"),
        (stripe_obj(amount=True), "amount"),
        (stripe_obj(amount="1000"), "amount"),
        (stripe_obj(amount=10.5), "amount"),
        (stripe_obj(amount=10**30), "amount"),
        (stripe_obj(currency="xyz"), "currency"),
        (stripe_obj(currency=978), "currency"),
        (_without("status"), "status"),
        (stripe_obj(status=None), "status"),
        (_without("reason"), "reason"),
        (stripe_obj(reason=["fraudulent"]), "reason"),
        (_without("evidence_details"), "evidence_details"),
        (stripe_obj(evidence_details="soon"), "evidence_details"),
        (stripe_obj(evidence_details={}), "evidence_details.due_by"),
        (stripe_obj(evidence_details={"due_by": "2026-01-01"}), "evidence_details.due_by"),
        (stripe_obj(evidence_details={"due_by": -1}), "evidence_details.due_by"),
        (stripe_obj(evidence_details={"due_by": 10**12}), "evidence_details.due_by"),
        (
            stripe_obj(evidence_details={"due_by": 1, "has_evidence": "yes"}),
            "evidence_details.has_evidence",
        ),
        (
            stripe_obj(evidence_details={"due_by": 1, "submission_count": -1}),
            "evidence_details.submission_count",
        ),
        (
            stripe_obj(evidence_details={"due_by": 1, "submission_count": False}),
            "evidence_details.submission_count",
        ),
        (stripe_obj(created="yesterday"), "created"),
        (stripe_obj(charge=5), "charge"),
        (stripe_obj(charge={"object": "charge"}), "charge.id"),
        (stripe_obj(evidence="none"), "evidence"),
        (
            stripe_obj(
                evidence={"a": "x" * MAX_EVIDENCE_TEXT_CHARS, "b": "y"},
                evidence_details={"due_by": 1, "submission_count": 1},
            ),
            "evidence.texts",
        ),
    ],
)
def test_dispute_from_stripe_refuses_garbled_objects(obj: Any, field: str) -> None:
    with pytest.raises(InvalidStripeDisputeError) as info:
        dispute_from_stripe(obj, "D-S", "C-1", NOW)
    assert info.value.field == field
    assert info.value.code == "dispute.invalid_stripe_object"


def test_dispute_from_stripe_checks_our_own_arguments() -> None:
    with pytest.raises(InvalidDisputeError):
        dispute_from_stripe(stripe_obj(), "", "C-1", NOW)
    with pytest.raises(InvalidDisputeError):
        dispute_from_stripe(stripe_obj(), "D-S", "C-1", "now")  # type: ignore[arg-type]


def test_raw_reason_is_cut_for_storage() -> None:
    d = from_stripe("needs_response", reason="r" * 200)
    assert d.reason is DisputeReason.UNKNOWN
    assert len(d.raw_reason) == 100


def test_errors_carry_codes_and_hints() -> None:
    err = EvidenceDeadlinePassedError(dispute_id="D", due_by=DUE, submitted_at=NOW)
    assert err.code == "dispute.evidence_deadline_passed"
    assert err.hint
    assert "dispute.evidence_deadline_passed" in str(err)
