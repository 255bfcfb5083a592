"""Payments: hand-worked flows, idempotency, late answers, reconciliation, card data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from o2c.errors import (
    CardDataRefusedError,
    ContradictoryOutcomeError,
    CurrencyMismatchError,
    DuplicateTransactionIdError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidTransitionError,
    NotFoundError,
    PaymentFieldError,
    PaymentLimitExceededError,
    TransactionInFlightError,
    TransactionNotAllowedError,
)
from o2c.events import (
    PaymentAuthorized,
    PaymentCaptured,
    PaymentCreated,
    PaymentDeclined,
    PaymentRefunded,
    PaymentRequested,
    PaymentTransactionFailed,
    PaymentTransactionPending,
    PaymentTransactionSucceeded,
    PaymentTransactionUnknown,
    PaymentVoided,
)
from o2c.lifecycles import PaymentState, TransactionState
from o2c.money import Money
from o2c.payments import (
    DEFAULT_RECONCILIATION_SCHEDULE,
    ChargeStatus,
    DeclineReason,
    Failed,
    Outcome,
    Payment,
    PaymentMethod,
    PaymentTransaction,
    Pending,
    Succeeded,
    TransactionKind,
    Unknown,
    check_free_text,
    compute_charge_status,
    contains_card_number,
    create_payment,
    due_for_reconciliation,
    needs_reconciliation,
    next_attempt_at,
    redact_card_numbers,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def eur(value: str) -> Money:
    return Money(value, "EUR")


def new_payment(amount: str = "100.00") -> Payment:
    payment, _ = create_payment(
        payment_id="pay-1", amount=eur(amount), method=PaymentMethod.CARD, now=T0
    )
    return payment


def step(
    payment: Payment,
    tx_id: str,
    kind: TransactionKind,
    amount: str,
    outcome: Outcome | None = None,
    *,
    at: datetime = T0,
) -> Payment:
    """Request a transaction (key = its id) and, if given, record the outcome."""
    payment, _, _ = payment.request(
        transaction_id=tx_id, kind=kind, amount=eur(amount), idempotency_key=f"key-{tx_id}", now=at
    )
    if outcome is not None:
        payment, _ = payment.resolve(tx_id, outcome, at)
    return payment


def authorized(amount: str = "100.00") -> Payment:
    return step(new_payment(), "auth", TransactionKind.AUTHORIZE, amount, Succeeded("gw-auth"))


# --------------------------------------------------------------------------- card data


def _check_digit(body: str) -> str:
    """Luhn check digit, computed the textbook way (independent of the code under test)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return str((10 - total % 10) % 10)


VISA = "4111111111111111"
AMEX = "378282246310005"  # 15 digits
DISCOVER = "6011111111111117"
NINETEEN = "630400000000000000" + _check_digit("630400000000000000")
THIRTEEN = "422222222222" + _check_digit("422222222222")


def test_the_independent_check_digit_agrees_with_known_test_cards() -> None:
    for card in (VISA, AMEX, DISCOVER):
        assert _check_digit(card[:-1]) == card[-1]


@pytest.mark.parametrize(
    "text",
    [
        VISA,
        "paid with 4111 1111 1111 1111 thanks",
        "4111-1111-1111-1111",
        AMEX,
        "3782 822463 10005",
        DISCOVER,
        NINETEEN,
        THIRTEEN,
        "\uff14" + "\uff11" * 15,  # full-width digits are still a card number
        "card 4111 1111 1111 1111 2027",  # the year after the card does not hide it
        "tok_4111111111111111",  # an underscore is not a letter
        "RF18 4111 1111 1111 1111",  # the card after a glued group is still found
        "4111 1111 1111 1111 2027x",
    ],
)
def test_card_numbers_are_found(text: str) -> None:
    assert contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "INV-2026-0001",
        "4111111111111112",  # Luhn fails
        "000000000000",  # 12 digits: too short even though Luhn holds
        "41111111111111110",  # 17 digits in one group, Luhn fails
        "DE89370400440532013000",  # an IBAN: one 20-digit group
        "4111111111111111" + "0000",  # 20 digits unseparated: another kind of number
        "4111.1111.1111.1111",  # dots are not card separators
        "RF18 5390 0754 7034",  # ISO 11649 creditor reference: "RF18" is a word
        "card4111111111111111",  # glued to a word: treated as part of it
        "4111111111111111x",
    ],
)
def test_other_text_is_not_a_card_number(text: str) -> None:
    assert not contains_card_number(text)


def test_redaction_keeps_last_four_and_everything_else() -> None:
    assert redact_card_numbers(f"a {VISA} b") == "a ************1111 b"
    assert redact_card_numbers("4111 1111 1111 1111 2027") == "**** **** **** 1111 2027"
    assert redact_card_numbers("no cards here 123") == "no cards here 123"
    two = redact_card_numbers(f"{VISA}/{AMEX}")
    assert two == "************1111/***********0005"
    assert not contains_card_number(two)


def test_redaction_repeats_until_nothing_is_left() -> None:
    # 13 zeros pass Luhn; the visible tail of one masking may join the next group.
    text = "0000000000000 000000000"
    out = redact_card_numbers(text)
    assert not contains_card_number(out)
    assert len(out) == len(text)


def test_free_text_checks() -> None:
    assert check_free_text("ok", field="f", max_length=5) == "ok"
    assert check_free_text("", field="f", max_length=5, allow_empty=True) == ""
    with pytest.raises(PaymentFieldError) as err:
        check_free_text(5, field="f", max_length=5)
    assert err.value.field == "f"
    with pytest.raises(PaymentFieldError, match="empty"):
        check_free_text("", field="f", max_length=5)
    with pytest.raises(PaymentFieldError, match="too long"):
        check_free_text("123456", field="f", max_length=5)
    for bad in ("a\nb", "a\x7fb", "a\x85b"):
        with pytest.raises(PaymentFieldError, match="control"):
            check_free_text(bad, field="f", max_length=5)
    with pytest.raises(CardDataRefusedError) as card:
        check_free_text(f"pan {VISA}", field="note", max_length=100)
    assert card.value.field == "note"
    assert VISA not in str(card.value)  # the number never reaches a log line
    assert check_free_text(VISA, field="id", max_length=100, scan_card_numbers=False) == VISA


# --------------------------------------------------------------------------- enums & status


def test_decline_reason_normalisation() -> None:
    assert DeclineReason.from_code(" Insufficient-Funds ") is DeclineReason.INSUFFICIENT_FUNDS
    assert DeclineReason.from_code("do not honor") is DeclineReason.DO_NOT_HONOR
    assert DeclineReason.from_code("05") is DeclineReason.OTHER


@pytest.mark.parametrize(
    ("charged", "expected"),
    [
        ("0.00", ChargeStatus.NONE),
        ("-5.00", ChargeStatus.NONE),
        ("0.01", ChargeStatus.PARTIAL),
        ("99.99", ChargeStatus.PARTIAL),
        ("100.00", ChargeStatus.FULL),
        ("100.01", ChargeStatus.OVERCHARGED),
    ],
)
def test_charge_status(charged: str, expected: ChargeStatus) -> None:
    assert compute_charge_status(eur(charged), eur("100")) is expected


def test_charge_status_refuses_mixed_currencies() -> None:
    with pytest.raises(CurrencyMismatchError):
        compute_charge_status(eur("1"), Money("1", "USD"))


# --------------------------------------------------------------------------- creation


def test_create_payment_emits_created() -> None:
    payment, events = create_payment(
        payment_id="p",
        amount=eur("10.00"),
        method="wallet",
        now=T0,
        order_id="o-1",
        customer_id="c-1",
        method_token="tok_visa_abc",  # noqa: S106
    )
    assert payment.state is PaymentState.NEW
    assert payment.method is PaymentMethod.WALLET
    assert payment.currency == "EUR"
    assert payment.charge_status is ChargeStatus.NONE
    assert events == (
        PaymentCreated(
            aggregate_id="p",
            occurred_at=T0,
            order_id="o-1",
            customer_id="c-1",
            method="wallet",
            amount=eur("10.00"),
        ),
    )


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount": eur("0")}, InvalidAmountError),
        ({"amount": eur("-1")}, InvalidAmountError),
        ({"amount": eur("1.005")}, InvalidAmountError),
        ({"amount": "10.00"}, InvalidAmountError),
        ({"method": "cheque"}, PaymentFieldError),
        ({"payment_id": ""}, PaymentFieldError),
        ({"payment_id": "x" * 256}, PaymentFieldError),
        ({"order_id": "o\n1"}, PaymentFieldError),
        ({"now": datetime(2026, 3, 1)}, PaymentFieldError),
        ({"method_token": VISA}, CardDataRefusedError),
        ({"method_token": 42}, PaymentFieldError),
    ],
)
def test_create_payment_refuses_bad_input(
    changes: dict[str, object], error: type[Exception]
) -> None:
    kwargs: dict[str, object] = {
        "payment_id": "p",
        "amount": eur("10.00"),
        "method": "card",
        "now": T0,
    }
    kwargs.update(changes)
    with pytest.raises(error):
        create_payment(**kwargs)  # type: ignore[arg-type]


def test_payment_invariants_on_construction() -> None:
    tx = PaymentTransaction(
        id="t", kind="sale", amount=eur("1"), idempotency_key="k", requested_at=T0
    )
    with pytest.raises(PaymentFieldError, match="currency"):
        Payment(
            id="p",
            amount=Money("1", "USD"),
            method="card",
            created_at=T0,
            transactions=(tx,),
        )
    with pytest.raises(PaymentFieldError, match="unique"):
        Payment(id="p", amount=eur("1"), method="card", created_at=T0, transactions=(tx, tx))
    with pytest.raises(PaymentFieldError, match="PaymentTransaction"):
        Payment(id="p", amount=eur("1"), method="card", created_at=T0, transactions=("t",))  # type: ignore[arg-type]
    with pytest.raises(PaymentFieldError, match="PaymentState"):
        Payment(id="p", amount=eur("1"), method="card", created_at=T0, state="new")  # type: ignore[arg-type]


def test_transaction_invariants_on_construction() -> None:
    base: dict[str, object] = {
        "id": "t",
        "kind": "capture",
        "amount": eur("1"),
        "idempotency_key": "k",
        "requested_at": T0,
    }
    bad: list[dict[str, object]] = [
        {"decline_reason": DeclineReason.OTHER},
        {"state": TransactionState.FAILED, "resolved_at": T0},
        {"state": TransactionState.SUCCEEDED},
        {"attempts": -1},
        {"attempts": True, "last_attempt_at": T0},
        {"attempts": 1},
        {"last_attempt_at": T0},
        {"state": "requested"},
        {"decline_reason": "other", "state": TransactionState.FAILED, "resolved_at": T0},
        {"kind": "credit"},
        {"requested_at": "yesterday"},
        {"idempotency_key": ""},
    ]
    for changes in bad:
        with pytest.raises(PaymentFieldError):
            PaymentTransaction(**{**base, **changes})  # type: ignore[arg-type]
    ok = PaymentTransaction(**base)  # type: ignore[arg-type]
    assert ok.in_flight
    assert not ok.is_final


# --------------------------------------------------------------------------- hand-worked flows


def test_partial_capture_60_of_100_then_refund_20() -> None:
    payment = authorized("100.00")
    assert (payment.state, payment.authorized, payment.capturable) == (
        PaymentState.AUTHORIZED,
        eur("100"),
        eur("100"),
    )
    payment, tx, events = payment.request(
        transaction_id="cap", kind="capture", amount=eur("60.00"), idempotency_key="cap-1", now=T0
    )
    assert tx.state is TransactionState.REQUESTED
    assert payment.captured == eur("0")  # nothing counts before the gateway says so
    assert events == (
        PaymentRequested(
            aggregate_id="pay-1",
            occurred_at=T0,
            transaction_id="cap",
            kind="capture",
            amount=eur("60.00"),
            idempotency_key="cap-1",
        ),
    )
    payment, events = payment.resolve("cap", Succeeded("gw-cap"), T0 + MIN)
    assert payment.state is PaymentState.CAPTURED
    assert [type(e) for e in events] == [PaymentTransactionSucceeded, PaymentCaptured]
    assert events[1] == PaymentCaptured(
        aggregate_id="pay-1",
        occurred_at=T0 + MIN,
        transaction_id="cap",
        amount=eur("60"),
        captured_total=eur("60"),
    )
    # 100 authorized = 60 captured + 40 released by the gateway; nothing is capturable.
    assert payment.captured == eur("60")
    assert payment.released == eur("40")
    assert payment.capturable == eur("0")
    assert payment.charge_status is ChargeStatus.PARTIAL

    payment = step(payment, "ref1", TransactionKind.REFUND, "20.00", Succeeded())
    assert payment.state is PaymentState.PARTIALLY_REFUNDED
    assert payment.refunded == eur("20")
    assert payment.refundable == eur("40")
    assert payment.charged == eur("40")
    assert payment.charge_status is ChargeStatus.PARTIAL

    payment, _, _ = payment.request(
        transaction_id="ref2", kind="refund", amount=eur("40"), idempotency_key="r2", now=T0
    )
    payment, events = payment.resolve("ref2", Succeeded(), T0)
    assert payment.state is PaymentState.REFUNDED
    assert events[-1] == PaymentRefunded(
        aggregate_id="pay-1",
        occurred_at=T0,
        transaction_id="ref2",
        amount=eur("40"),
        refunded_total=eur("60"),
        fully_refunded=True,
    )
    assert payment.refundable == eur("0")
    assert payment.charge_status is ChargeStatus.NONE


def test_unknown_then_resolved_succeeded() -> None:
    payment = step(new_payment(), "sale", TransactionKind.SALE, "100.00")
    payment, events = payment.resolve("sale", Unknown(), T0)
    tx = payment.transaction("sale")
    assert tx.state is TransactionState.UNKNOWN
    assert payment.state is PaymentState.NEW  # the payment claims nothing yet
    assert payment.captured == eur("0")
    assert [type(e) for e in events] == [PaymentTransactionUnknown]
    assert needs_reconciliation(payment) == (tx,)
    assert next_attempt_at(tx) == T0 + timedelta(minutes=5)

    # The reconciler asks again under the same key; still no answer: wait an hour.
    later = T0 + timedelta(minutes=5)
    payment, events = payment.resolve("sale", Unknown(), later)
    assert events == ()
    assert payment.transaction("sale").attempts == 2
    assert next_attempt_at(payment.transaction("sale")) == later + timedelta(hours=1)

    # A new sale under a new key is refused while the first is unresolved.
    with pytest.raises(TransactionInFlightError) as err:
        step(payment, "sale-2", TransactionKind.SALE, "100.00")
    assert err.value.transaction_id == "sale"

    done = later + timedelta(hours=1)
    payment, events = payment.resolve("sale", Succeeded("gw-9"), done)
    assert [type(e) for e in events] == [PaymentTransactionSucceeded, PaymentCaptured]
    tx = payment.transaction("sale")
    assert (tx.state, tx.resolved_at, tx.attempts, tx.gateway_reference) == (
        TransactionState.SUCCEEDED,
        done,
        3,
        "gw-9",
    )
    assert payment.state is PaymentState.CAPTURED
    assert payment.authorized == payment.captured == eur("100")
    assert payment.charge_status is ChargeStatus.FULL
    assert needs_reconciliation(payment) == ()
    assert next_attempt_at(tx) is None


def test_pending_answers() -> None:
    payment = step(new_payment(), "auth", TransactionKind.AUTHORIZE, "100")
    payment, events = payment.resolve("auth", Pending("gw-p"), T0)
    assert [type(e) for e in events] == [PaymentTransactionPending]
    # Still pending, and a re-ask that times out while pending: nothing learned.
    payment, events = payment.resolve("auth", Pending(), T0 + MIN)
    assert events == ()
    payment, events = payment.resolve("auth", Unknown(), T0 + 2 * MIN)
    assert events == ()
    tx = payment.transaction("auth")
    assert (tx.state, tx.attempts, tx.gateway_reference) == (TransactionState.PENDING, 3, "gw-p")
    payment, _ = payment.resolve("auth", Succeeded(), T0 + 3 * MIN)
    assert payment.transaction("auth").gateway_reference == "gw-p"  # kept when not repeated
    assert payment.state is PaymentState.AUTHORIZED


def test_unknown_can_become_pending() -> None:
    payment = step(new_payment(), "auth", TransactionKind.AUTHORIZE, "100", Unknown())
    payment, events = payment.resolve("auth", Pending(), T0)
    assert [type(e) for e in events] == [PaymentTransactionPending]
    assert payment.transaction("auth").state is TransactionState.PENDING


def test_sale_and_full_refund() -> None:
    payment = step(new_payment(), "sale", TransactionKind.SALE, "100", Succeeded())
    assert (payment.authorized, payment.captured, payment.capturable) == (
        eur("100"),
        eur("100"),
        eur("0"),
    )
    payment = step(payment, "r", TransactionKind.REFUND, "100", Succeeded())
    assert payment.state is PaymentState.REFUNDED


def test_over_authorization_shows_as_overcharged() -> None:
    payment = step(new_payment("100"), "auth", TransactionKind.AUTHORIZE, "120", Succeeded())
    payment = step(payment, "cap", TransactionKind.CAPTURE, "120", Succeeded())
    assert payment.charge_status is ChargeStatus.OVERCHARGED
    assert payment.released == eur("0")


def test_void_releases_the_whole_open_authorization() -> None:
    payment = authorized("100")
    with pytest.raises(PaymentFieldError, match="whole open authorization"):
        step(payment, "v", TransactionKind.VOID, "40")
    with pytest.raises(PaymentLimitExceededError) as err:
        step(payment, "v", TransactionKind.VOID, "101")
    assert (err.value.limit, err.value.available) == ("capturable", eur("100"))
    payment, _, _ = payment.request(
        transaction_id="v", kind="void", amount=eur("100"), idempotency_key="v", now=T0
    )
    payment, events = payment.resolve("v", Succeeded(), T0)
    assert events[-1] == PaymentVoided(
        aggregate_id="pay-1", occurred_at=T0, transaction_id="v", amount=eur("100")
    )
    assert payment.state is PaymentState.VOIDED
    assert (payment.voided, payment.capturable, payment.captured) == (
        eur("100"),
        eur("0"),
        eur("0"),
    )
    assert payment.released == eur("0")


def test_void_after_capture_is_refused() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "60", Succeeded())
    with pytest.raises(TransactionNotAllowedError) as err:
        step(payment, "v", TransactionKind.VOID, "40")
    assert (err.value.kind, err.value.state) == ("void", "captured")


@pytest.mark.parametrize("kind", [TransactionKind.AUTHORIZE, TransactionKind.SALE])
def test_failed_authorization_declines_the_payment(kind: TransactionKind) -> None:
    payment = step(new_payment(), "a", kind, "100")
    payment, events = payment.resolve("a", Failed("insufficient_funds", "gw-d"), T0)
    assert payment.state is PaymentState.DECLINED
    assert [type(e) for e in events] == [PaymentTransactionFailed, PaymentDeclined]
    assert events[0].reason == "insufficient_funds"  # type: ignore[attr-defined]
    assert events[1] == PaymentDeclined(
        aggregate_id="pay-1", occurred_at=T0, transaction_id="a", reason="insufficient_funds"
    )
    tx = payment.transaction("a")
    assert tx.decline_reason is DeclineReason.INSUFFICIENT_FUNDS
    assert tx.resolved_at == T0
    with pytest.raises(TransactionNotAllowedError):
        step(payment, "b", TransactionKind.AUTHORIZE, "100")


def test_failed_capture_leaves_the_authorization_open() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "100", Failed("processing_error"))
    assert payment.state is PaymentState.AUTHORIZED
    assert payment.capturable == eur("100")
    payment = step(payment, "cap2", TransactionKind.CAPTURE, "100", Succeeded())
    assert payment.captured == eur("100")


def test_failed_refund_leaves_the_payment_as_it_was() -> None:
    payment = step(new_payment(), "s", TransactionKind.SALE, "100", Succeeded())
    before = payment.state
    payment = step(payment, "r", TransactionKind.REFUND, "30", Failed(DeclineReason.OTHER))
    assert payment.state is before
    assert payment.refundable == eur("100")


def test_authorized_events() -> None:
    payment = step(new_payment(), "a", TransactionKind.AUTHORIZE, "100")
    _, events = payment.resolve("a", Succeeded("gw"), T0)
    assert events == (
        PaymentTransactionSucceeded(
            aggregate_id="pay-1",
            occurred_at=T0,
            transaction_id="a",
            kind="authorize",
            amount=eur("100"),
            gateway_reference="gw",
        ),
        PaymentAuthorized(
            aggregate_id="pay-1", occurred_at=T0, transaction_id="a", amount=eur("100")
        ),
    )


# --------------------------------------------------------------------------- request rules


@pytest.mark.parametrize(
    ("payment_factory", "kind"),
    [
        (new_payment, TransactionKind.CAPTURE),
        (new_payment, TransactionKind.VOID),
        (new_payment, TransactionKind.REFUND),
        (authorized, TransactionKind.AUTHORIZE),
        (authorized, TransactionKind.SALE),
        (authorized, TransactionKind.REFUND),
    ],
)
def test_kinds_refused_by_the_payment_state(payment_factory: object, kind: TransactionKind) -> None:
    payment = payment_factory()  # type: ignore[operator]
    with pytest.raises(TransactionNotAllowedError) as err:
        step(payment, "x", kind, "10")
    assert err.value.payment_id == "pay-1"
    assert err.value.kind == kind.value


def test_one_capture_per_authorization() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "60", Succeeded())
    with pytest.raises(TransactionNotAllowedError):
        step(payment, "cap2", TransactionKind.CAPTURE, "40")


def test_capture_and_refund_limits() -> None:
    with pytest.raises(PaymentLimitExceededError) as err:
        step(authorized("100"), "cap", TransactionKind.CAPTURE, "100.01")
    assert (err.value.limit, err.value.amount, err.value.available) == (
        "capturable",
        eur("100.01"),
        eur("100"),
    )
    payment = step(authorized("100"), "cap", TransactionKind.CAPTURE, "60", Succeeded())
    payment = step(payment, "r1", TransactionKind.REFUND, "50", Succeeded())
    with pytest.raises(PaymentLimitExceededError) as err:
        step(payment, "r2", TransactionKind.REFUND, "10.01")
    assert (err.value.limit, err.value.available) == ("refundable", eur("10"))


def test_refunds_run_side_by_side_within_the_refundable_amount() -> None:
    payment = step(new_payment(), "s", TransactionKind.SALE, "60", Succeeded())
    payment = step(payment, "r1", TransactionKind.REFUND, "40", Pending())
    payment = step(payment, "r2", TransactionKind.REFUND, "15")
    with pytest.raises(PaymentLimitExceededError) as err:
        step(payment, "r3", TransactionKind.REFUND, "5.01")
    assert err.value.available == eur("5")  # 60 captured - 55 reserved by in-flight refunds
    payment, _ = payment.resolve("r2", Failed("other"), T0)
    payment = step(payment, "r3", TransactionKind.REFUND, "20", Succeeded())
    assert payment.refunded == eur("20")
    assert [t.id for t in payment.in_flight] == ["r1"]


def test_only_one_non_refund_transaction_in_flight() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "10", Unknown())
    with pytest.raises(TransactionInFlightError) as err:
        step(payment, "cap2", TransactionKind.CAPTURE, "10")
    assert (err.value.transaction_id, err.value.kind) == ("cap", "capture")
    with pytest.raises(TransactionInFlightError):
        step(payment, "void", TransactionKind.VOID, "100")


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount": eur("0")}, InvalidAmountError),
        ({"amount": eur("0.001")}, InvalidAmountError),
        ({"amount": 10}, InvalidAmountError),
        ({"amount": Money("10", "USD")}, CurrencyMismatchError),
        ({"kind": "credit"}, PaymentFieldError),
        ({"now": datetime(2026, 3, 1)}, PaymentFieldError),
        ({"idempotency_key": ""}, PaymentFieldError),
        ({"idempotency_key": "k" * 256}, PaymentFieldError),
        ({"idempotency_key": "clé"}, PaymentFieldError),
        ({"idempotency_key": "a\tb"}, PaymentFieldError),
        ({"idempotency_key": " padded"}, PaymentFieldError),
        ({"idempotency_key": 12}, PaymentFieldError),
        ({"transaction_id": ""}, PaymentFieldError),
    ],
)
def test_request_refuses_bad_input(changes: dict[str, object], error: type[Exception]) -> None:
    kwargs: dict[str, object] = {
        "transaction_id": "t",
        "kind": "sale",
        "amount": eur("10"),
        "idempotency_key": "k",
        "now": T0,
    }
    kwargs.update(changes)
    payment = new_payment()
    with pytest.raises(error):
        payment.request(**kwargs)  # type: ignore[arg-type]
    assert payment == new_payment()


def test_longest_key_and_printable_keys_are_accepted() -> None:
    for key in ("~!" + "k" * 253, "a b", "order:42/capture#1"):
        _, tx, _ = new_payment().request(
            transaction_id="t", kind="sale", amount=eur("1"), idempotency_key=key, now=T0
        )
        assert tx.idempotency_key == key


# --------------------------------------------------------------------------- idempotency


def test_same_key_same_request_is_a_replay() -> None:
    payment, first, events = new_payment().request(
        transaction_id="t1", kind="sale", amount=eur("60.00"), idempotency_key="k", now=T0
    )
    assert len(events) == 1
    again, tx, events = payment.request(
        transaction_id="t-other", kind="sale", amount=eur("60"), idempotency_key="k", now=T0 + MIN
    )
    assert (again, tx, events) == (payment, first, ())


def test_replay_answers_even_when_the_request_would_now_be_refused() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "60", Succeeded())
    again, tx, events = payment.request(
        transaction_id="cap", kind="capture", amount=eur("60"), idempotency_key="key-cap", now=T0
    )
    assert again is payment
    assert tx.state is TransactionState.SUCCEEDED
    assert events == ()


def test_replay_of_a_failure_returns_the_failure() -> None:
    payment = step(authorized(), "cap", TransactionKind.CAPTURE, "60", Failed("other"))
    _, tx, _ = payment.request(
        transaction_id="x", kind="capture", amount=eur("60"), idempotency_key="key-cap", now=T0
    )
    assert tx.state is TransactionState.FAILED


@pytest.mark.parametrize(
    ("kind", "amount", "field"),
    [
        ("authorize", eur("60"), "kind"),
        ("sale", eur("61"), "amount"),
        ("sale", Money("60", "USD"), "currency"),
    ],
)
def test_same_key_different_request_is_a_conflict(kind: str, amount: Money, field: str) -> None:
    payment, _, _ = new_payment().request(
        transaction_id="t1", kind="sale", amount=eur("60"), idempotency_key="k", now=T0
    )
    with pytest.raises(IdempotencyConflictError) as err:
        payment.request(transaction_id="t2", kind=kind, amount=amount, idempotency_key="k", now=T0)
    assert (err.value.key, err.value.field) == ("k", field)


def test_a_refused_request_stores_nothing_under_its_key() -> None:
    payment = authorized("100")
    with pytest.raises(PaymentLimitExceededError):
        payment.request(
            transaction_id="c", kind="capture", amount=eur("500"), idempotency_key="k", now=T0
        )
    assert payment.transaction_for_key("k") is None
    payment, tx, _ = payment.request(
        transaction_id="c", kind="capture", amount=eur("50"), idempotency_key="k", now=T0
    )
    assert tx.amount == eur("50")


def test_transaction_ids_are_unique() -> None:
    payment = step(new_payment(), "t", TransactionKind.SALE, "10", Succeeded())
    with pytest.raises(DuplicateTransactionIdError) as err:
        payment.request(
            transaction_id="t", kind="refund", amount=eur("1"), idempotency_key="new", now=T0
        )
    assert err.value.transaction_id == "t"


# --------------------------------------------------------------------------- late answers


def test_late_agreeing_answers_change_nothing() -> None:
    payment = step(new_payment(), "s", TransactionKind.SALE, "10", Succeeded("gw"))
    for late in (Succeeded("other-ref"), Pending(), Unknown()):
        again, events = payment.resolve("s", late, T0 + timedelta(days=3))
        assert again is payment
        assert events == ()
    failed = step(new_payment(), "s", TransactionKind.SALE, "10", Failed("card_declined"))
    again, events = failed.resolve("s", Failed("fraud_suspected"), T0)
    assert (again, events) == (failed, ())
    assert again.transaction("s").decline_reason is DeclineReason.CARD_DECLINED


def test_contradicting_answers_raise() -> None:
    ok = step(new_payment(), "s", TransactionKind.SALE, "10", Succeeded())
    with pytest.raises(ContradictoryOutcomeError) as err:
        ok.resolve("s", Failed("other"), T0)
    assert (err.value.state, err.value.outcome) == ("succeeded", "failed")
    ko = step(new_payment(), "s", TransactionKind.SALE, "10", Failed("other"))
    with pytest.raises(ContradictoryOutcomeError) as err:
        ko.resolve("s", Succeeded(), T0)
    assert (err.value.state, err.value.outcome) == ("failed", "succeeded")


def test_resolve_refuses_bad_input() -> None:
    payment = step(new_payment(), "s", TransactionKind.SALE, "10")
    with pytest.raises(NotFoundError) as err:
        payment.resolve("nope", Succeeded(), T0)
    assert (err.value.kind, err.value.id) == ("payment_transaction", "nope")
    with pytest.raises(PaymentFieldError):
        payment.resolve("s", "succeeded", T0)  # type: ignore[arg-type]
    with pytest.raises(PaymentFieldError):
        payment.resolve("s", Succeeded(), datetime(2026, 1, 1))
    with pytest.raises(PaymentFieldError):
        Failed("teapot")
    with pytest.raises(PaymentFieldError):
        Succeeded("")


def test_a_payment_never_moves_back() -> None:
    # A hand-built, inconsistent payment: declined, yet an authorization in flight.
    tx = PaymentTransaction(
        id="a", kind="authorize", amount=eur("10"), idempotency_key="k", requested_at=T0
    )
    payment = attrs.evolve(new_payment(), state=PaymentState.DECLINED, transactions=(tx,))
    with pytest.raises(InvalidTransitionError):
        payment.resolve("a", Succeeded(), T0)


# --------------------------------------------------------------------------- reconciliation


def test_backoff_schedule_five_minutes_one_hour_then_daily() -> None:
    tx = PaymentTransaction(
        id="t", kind="sale", amount=eur("1"), idempotency_key="k", requested_at=T0
    )
    assert next_attempt_at(tx) == T0 + timedelta(minutes=5)  # never answered
    expected = [timedelta(minutes=5), timedelta(hours=1), timedelta(days=1), timedelta(days=1)]
    for attempts, delay in enumerate(expected, start=1):
        at = T0 + timedelta(hours=attempts)
        asked = attrs.evolve(
            tx, state=TransactionState.UNKNOWN, attempts=attempts, last_attempt_at=at
        )
        assert next_attempt_at(asked) == at + delay
    custom = (timedelta(seconds=30),)
    assert next_attempt_at(tx, custom) == T0 + timedelta(seconds=30)
    assert DEFAULT_RECONCILIATION_SCHEDULE[0] == timedelta(minutes=5)


@pytest.mark.parametrize(
    "schedule",
    [(), (timedelta(0),), (timedelta(minutes=5), timedelta(seconds=-1)), (300,)],
)
def test_bad_schedules_are_refused(schedule: tuple[object, ...]) -> None:
    tx = PaymentTransaction(
        id="t", kind="sale", amount=eur("1"), idempotency_key="k", requested_at=T0
    )
    with pytest.raises(PaymentFieldError):
        next_attempt_at(tx, schedule)  # type: ignore[arg-type]
    with pytest.raises(PaymentFieldError):
        due_for_reconciliation(new_payment(), T0, schedule)  # type: ignore[arg-type]


def test_due_for_reconciliation_includes_stale_requests() -> None:
    payment = step(new_payment(), "s", TransactionKind.SALE, "10")
    assert needs_reconciliation(payment) == ()  # requested, not yet answered
    assert due_for_reconciliation(payment, T0 + timedelta(minutes=4)) == ()
    assert due_for_reconciliation(payment, T0 + timedelta(minutes=5)) == (payment.transaction("s"),)
    payment, _ = payment.resolve("s", Unknown(), T0 + timedelta(minutes=6))
    assert due_for_reconciliation(payment, T0 + timedelta(minutes=10)) == ()
    assert len(due_for_reconciliation(payment, T0 + timedelta(minutes=11))) == 1
    payment, _ = payment.resolve("s", Succeeded(), T0 + timedelta(minutes=12))
    assert due_for_reconciliation(payment, T0 + timedelta(days=9)) == ()
    with pytest.raises(PaymentFieldError):
        due_for_reconciliation(payment, datetime(2026, 1, 1))
