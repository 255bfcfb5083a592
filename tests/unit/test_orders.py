"""Orders: hand-worked totals, capture validation, lifecycle and line progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest

from o2c.customers import Address, Customer
from o2c.errors import (
    DomainError,
    InvalidAmountError,
    InvalidOrderQuantityError,
    InvalidTransitionError,
    NothingToCancelError,
    OrderDiscountError,
    OrderExpiredError,
    OrderExpiryNotDueError,
    OrderInProgressError,
    OrderLineNotFoundError,
    OrderNotConfirmedError,
    OrderNotFulfilledError,
    OrderQuantityExceededError,
    ValidationError,
)
from o2c.events import (
    DomainEvent,
    LineQuantity,
    OrderApproved,
    OrderCancelled,
    OrderCompleted,
    OrderCreated,
    OrderDiscountApplied,
    OrderExpired,
    OrderHeld,
    OrderLinesCancelled,
    OrderLinesDelivered,
    OrderLinesInvoiced,
    OrderLinesReturned,
    OrderLinesShipped,
    OrderOverridden,
    OrderPlaced,
    OrderRejected,
    OrderReleased,
)
from o2c.lifecycles import OrderState
from o2c.money import Money, RoundingMode
from o2c.orders import (
    BillingStatus,
    HoldKind,
    Order,
    OrderLine,
    ShipmentStatus,
    apply_document_discount,
    approve,
    billing_status,
    cancel,
    cancel_remaining,
    complete,
    expire,
    expire_if_due,
    hold,
    is_due_to_expire,
    new_order,
    override,
    place,
    record_delivery,
    record_invoiced,
    record_return,
    record_shipment,
    reject,
    release,
    shipment_status,
    validate_order_input,
)
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding
from o2c.validation import Severity

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
VAT19 = TaxRate("DE-VAT-19", Decimal(19))
VAT7 = TaxRate("DE-VAT-7", Decimal(7))
JP10 = TaxRate("JP-CT-10", Decimal(10))
KW5 = TaxRate("KW-VAT-5", Decimal(5))
PER_LINE = RoundingPolicy(TaxRounding.PER_LINE, RoundingMode.HALF_UP)
PER_DOC = RoundingPolicy(TaxRounding.PER_DOCUMENT, RoundingMode.HALF_UP)

ADDR = Address(
    name="ACME", lines=("Hauptstr. 1",), city="Berlin", postal_code="10115", country="DE"
)
OTHER = Address(name="ACME Lager", lines=("Hafen 2",), city="Hamburg", country="DE")


def customer(currency: str = "EUR", **changes: Any) -> Customer:
    fields: dict[str, Any] = {
        "id": "C1",
        "name": "ACME",
        "currency": currency,
        "billing_address": ADDR,
        "shipping_addresses": (OTHER,),
        "payment_terms": "NET30",
    }
    fields.update(changes)
    return Customer(**fields)


def line(
    line_id: str = "L1",
    quantity: object = 1,
    price: str = "10.00",
    currency: str = "EUR",
    **changes: Any,
) -> OrderLine:
    fields: dict[str, Any] = {
        "line_id": line_id,
        "sku": f"SKU-{line_id}",
        "quantity": quantity,
        "unit_price": Money(price, currency),
        "tax_rates": (VAT19,) if currency == "EUR" else (),
    }
    fields.update(changes)
    return OrderLine(**fields)


def make(*lines: OrderLine, **changes: Any) -> Order:
    cust = changes.pop("customer", None) or customer(
        lines[0].unit_price.currency if lines else "EUR"
    )
    fields: dict[str, Any] = {
        "order_id": "O1",
        "customer": cust,
        "lines": lines or (line(),),
        "shipping_address": cust.default_shipping_address,
        "now": T0,
    }
    fields.update(changes)
    order, _ = new_order(**fields)
    return order


def confirmed(*lines: OrderLine, **changes: Any) -> Order:
    order, _ = place(make(*lines, **changes), T0)
    order, _ = approve(order, T0)
    return order


def codes(exc: ValidationError) -> list[tuple[str, str]]:
    return [(i.code, i.field) for i in exc.issues]


def eur(text: str) -> Money:
    return Money(text, "EUR")


# --------------------------------------------------------------------------- hand-worked totals


@pytest.mark.parametrize("policy", [PER_LINE, PER_DOC])
def test_three_at_1999_eur_with_19_percent_and_10_percent_discount(policy: RoundingPolicy) -> None:
    # gross 3 x 19.99 = 59.97; discount 10 % = 5.997; net 53.973 -> 53.97
    # tax 19 % of 53.97 = 10.2543 -> 10.25 (one line: both policies agree)
    order = make(line(quantity=3, price="19.99", discount_percent=10), rounding=policy)
    t = order.totals
    assert t.lines[0].gross == eur("59.97")
    assert t.lines[0].discount == eur("5.997")
    assert t.net == eur("53.97")
    assert t.tax == eur("10.25")
    assert t.total == eur("64.22")
    assert t.rounding_difference == eur("0.00")


def test_per_line_and_per_document_differ_by_one_cent() -> None:
    # Three lines of 2.35 EUR at 19 %: each tax 0.4465 -> 0.45, sum 1.35;
    # per document 7.05 x 19 % = 1.3395 -> 1.34.
    lines = [line(f"L{i}", 1, "2.35") for i in range(3)]
    per_line = make(*lines, rounding=PER_LINE).totals
    per_doc = make(*lines, rounding=PER_DOC).totals
    assert (per_line.net, per_line.tax, per_line.total) == (
        eur("7.05"),
        eur("1.35"),
        eur("8.40"),
    )
    assert (per_doc.net, per_doc.tax, per_doc.total) == (eur("7.05"), eur("1.34"), eur("8.39"))
    assert per_line.rounding_difference == eur("0.00")
    assert per_doc.rounding_difference == eur("-0.01")
    assert per_doc.breakdown[0].base == eur("7.05")


def test_two_rates_break_down_separately() -> None:
    order = make(line("A", 2, "50.00"), line("B", 1, "50.00", tax_rates=(VAT7,)))
    t = order.totals
    assert [(b.rate.code, b.base, b.tax) for b in t.breakdown] == [
        ("DE-VAT-19", eur("100.00"), eur("19.00")),
        ("DE-VAT-7", eur("50.00"), eur("3.50")),
    ]
    assert t.total == eur("172.50")


@pytest.mark.parametrize("policy", [PER_LINE, PER_DOC])
def test_jpy_order_has_no_minor_unit(policy: RoundingPolicy) -> None:
    # 3 x 333 = 999 JPY; 5 % discount 49.95; net 949.05 -> 949; tax 10 % 94.9 -> 95
    jpy = line(quantity=3, price="333", currency="JPY", discount_percent=5, tax_rates=(JP10,))
    t = make(jpy, rounding=policy).totals
    assert (t.net, t.tax, t.total) == (Money(949, "JPY"), Money(95, "JPY"), Money(1044, "JPY"))


def test_jpy_policies_differ_by_one_yen() -> None:
    # Two lines of 105 JPY at 10 %: 10.5 -> 11 each = 22; per document 21.
    lines = [line(f"L{i}", 1, "105", "JPY", tax_rates=(JP10,)) for i in range(2)]
    assert make(*lines, rounding=PER_LINE).totals.tax == Money(22, "JPY")
    per_doc = make(*lines, rounding=PER_DOC).totals
    assert per_doc.tax == Money(21, "JPY")
    assert per_doc.rounding_difference == Money(-1, "JPY")


@pytest.mark.parametrize("policy", [PER_LINE, PER_DOC])
def test_kwd_order_rounds_to_three_places(policy: RoundingPolicy) -> None:
    # 3 x 19.999 = 59.997 KWD; 10 % = 5.9997; net 53.9973 -> 53.997;
    # tax 5 % = 2.69985 -> 2.700; total 56.697
    kwd = line(quantity=3, price="19.999", currency="KWD", discount_percent=10, tax_rates=(KW5,))
    t = make(kwd, rounding=policy).totals
    assert t.net == Money("53.997", "KWD")
    assert t.tax == Money("2.700", "KWD")
    assert t.total == Money("56.697", "KWD")


def test_rounding_mode_is_honoured() -> None:
    half = line(price="10.125", tax_rates=())
    up = make(half, rounding=RoundingPolicy(mode=RoundingMode.HALF_UP)).totals.net
    even = make(half, rounding=RoundingPolicy(mode=RoundingMode.HALF_EVEN)).totals.net
    assert (up, even) == (eur("10.13"), eur("10.12"))


# --------------------------------------------------------------------------- document discount


def test_document_discount_spread_by_largest_remainder() -> None:
    # Nets 33.33, 33.33, 33.34 share 0.10: exact 0.03333, 0.03333, 0.03334 ->
    # 3, 3, 3 cents and the last cent to the largest remainder (the third line).
    lines = [line("A", 1, "33.33"), line("B", 1, "33.33"), line("C", 1, "33.34")]
    order = make(*lines, document_discount=eur("0.10"))
    assert [ln.discount_amount for ln in order.lines] == [eur("0.03"), eur("0.03"), eur("0.04")]
    assert order.totals.net == eur("99.90")


def test_document_discount_is_taxed_per_rate() -> None:
    # 60.00 at 19 % and 40.00 at 7 % share 10.00: 6.00 and 4.00;
    # tax 54.00 x 19 % = 10.26 and 36.00 x 7 % = 2.52.
    lines = [line("A", 1, "60.00"), line("B", 1, "40.00", tax_rates=(VAT7,))]
    order, _ = apply_document_discount(make(*lines), eur("10.00"), T1)
    t = order.totals
    assert [b.tax for b in t.breakdown] == [eur("10.26"), eur("2.52")]
    assert t.total == eur("102.78")


def test_document_discount_adds_to_line_discounts_and_skips_zero_shares() -> None:
    # Net 99.00 and 0.00: all of 9.90 goes to A, whose net becomes 89.10;
    # tax 19 % = 16.929 -> 16.93; total 106.03.
    lines = [line("A", 1, "100.00", discount_amount=eur("1.00")), line("B", 1, "0.00")]
    order, events = apply_document_discount(make(*lines), eur("9.90"), T1)
    assert order.lines[0].discount_amount == eur("10.90")
    assert order.lines[1].discount_amount is None
    assert events == (
        OrderDiscountApplied(
            aggregate_id="O1", occurred_at=T1, discount=eur("9.90"), total=eur("106.03")
        ),
    )


def test_zero_document_discount_changes_nothing() -> None:
    assert make(document_discount=eur("0.00")).lines == make().lines


@pytest.mark.parametrize(
    ("discount", "reason"),
    [
        (Money("1.00", "USD"), "in USD"),
        (eur("-1.00"), "negative"),
        (eur("0.001"), "minor unit"),
        (eur("10.01"), "exceeds net"),
    ],
)
def test_document_discount_refusals(discount: Money, reason: str) -> None:
    with pytest.raises(OrderDiscountError) as info:
        apply_document_discount(make(), discount, T1)
    assert reason in info.value.reason


def test_document_discount_only_on_drafts() -> None:
    placed, _ = place(make(), T0)
    with pytest.raises(OrderDiscountError, match="draft"):
        apply_document_discount(placed, eur("1.00"), T1)


def test_document_discount_cannot_push_a_sub_cent_line_negative() -> None:
    # Exact nets 0.005 and 99.995 round (half up) to 0.01 and 100.00; the first
    # line's share of 100.01 is its whole rounded net 0.01 > 0.005 exact.
    lines = [line("A", 1, "0.005", tax_rates=()), line("B", 1, "99.995", tax_rates=())]
    with pytest.raises(OrderDiscountError, match="negative"):
        apply_document_discount(make(*lines), eur("100.01"), T1)


# --------------------------------------------------------------------------- capture


def test_new_order_defaults_from_customer_and_emits_created() -> None:
    cust = customer()
    order, events = new_order(
        order_id="O1",
        customer=cust,
        lines=[line(price="0.00"), line("L2")],
        shipping_address=cust.default_shipping_address,
        now=T0,
        expires_at=T0 + timedelta(days=7),
        notes="call before delivery",
    )
    assert order.state is OrderState.DRAFT
    assert order.currency == "EUR"
    assert order.billing_address == ADDR
    assert order.shipping_address == OTHER
    assert order.created_at == T0
    assert order.notes == "call before delivery"
    assert events == (
        OrderCreated(
            aggregate_id="O1",
            occurred_at=T0,
            customer_id="C1",
            total=eur("11.90"),
            warnings=("order.line.zero_price",),
        ),
    )


def test_validate_order_reports_every_problem() -> None:
    result = validate_order_input(
        order_id=" ",
        customer=customer(blocked=True, blocked_reason="dunning"),
        lines=[
            line("A", 0, "-1.00"),
            line("A", 1, "5.00", currency="USD", tax_rates=()),
            line("C", 1, "5.00", discount_percent=120),
            line("D", 1, "5.00", discount_amount=eur("6.00")),
            line("E", 1, "5.00", discount_amount=eur("-1.00")),
            line("F", 1, "5.00", discount_amount=Money("1.00", "USD")),
            line("G", 1, "5.00", tax_rates=(VAT19, VAT19)),
            line("H", 1, "5.00", tax_rates=(TaxRate("DE-VAT-19", Decimal(16)),)),
            line(" ", 1, "5.00"),
        ],
        shipping_address=None,
        billing_address=ADDR,
        now=T0,
        expires_at=T0,
    )
    assert [(i.code, i.field) for i in result.errors] == [
        ("order.id_missing", "id"),
        ("order.line.quantity_not_positive", "lines[0].quantity"),
        ("order.line.price_negative", "lines[0].unit_price"),
        ("order.line.currency_mismatch", "lines[1].unit_price"),
        ("order.line.duplicate_id", "lines[1].line_id"),
        ("order.line.discount_percent_out_of_range", "lines[2].discount_percent"),
        ("order.line.discount_exceeds_gross", "lines[3].discount_amount"),
        ("order.line.discount_negative", "lines[4].discount_amount"),
        ("order.line.currency_mismatch", "lines[5].discount_amount"),
        ("order.line.tax_rate_duplicate", "lines[6].tax_rates[1]"),
        ("order.tax_code_conflict", "lines[7].tax_rates[0]"),
        ("order.line.id_missing", "lines[8].line_id"),
        ("order.shipping_address_missing", "shipping_address"),
        ("order.customer_blocked", "customer_id"),
        ("order.past_expiry", "expires_at"),
    ]
    assert "dunning" in result.errors[-2].message


def test_validate_order_unknown_currency_no_lines_and_warnings() -> None:
    result = validate_order_input(
        order_id="O1",
        customer=customer(),
        lines=[],
        shipping_address=OTHER,
        now=T0,
        currency="EUX",
    )
    assert [(i.code, i.severity) for i in result.issues] == [
        ("order.currency_unknown", Severity.ERROR),
        ("order.no_lines", Severity.ERROR),
        ("order.currency_differs_from_customer", Severity.WARNING),
    ]


def test_validate_order_in_another_currency_is_only_a_warning() -> None:
    result = validate_order_input(
        order_id="O1",
        customer=customer(),
        lines=[line(currency="USD", tax_rates=())],
        shipping_address=OTHER,
        now=T0,
        currency="USD",
    )
    assert result.ok
    assert [i.code for i in result.warnings] == ["order.currency_differs_from_customer"]


def test_validate_order_malformed_objects() -> None:
    bad_price = attrs.evolve(line(), unit_price=Money("1", "EUR"))
    object.__setattr__(bad_price, "unit_price", "10 EUR")
    bad_discount = line("B")
    object.__setattr__(bad_discount, "discount_amount", "1 EUR")
    bad_rate = line("C")
    object.__setattr__(bad_rate, "tax_rates", ("19%",))
    result = validate_order_input(
        order_id="O1",
        customer=customer(),
        lines=[bad_price, bad_discount, bad_rate, "a line"],  # type: ignore[list-item]
        shipping_address=OTHER,
        billing_address="Berlin",  # type: ignore[arg-type]
        now=T0,
    )
    assert [(i.code, i.field) for i in result.errors] == [
        ("order.line.price_invalid", "lines[0].unit_price"),
        ("order.line.discount_invalid", "lines[1].discount_amount"),
        ("order.line.tax_rate_invalid", "lines[2].tax_rates[0]"),
        ("order.line.invalid", "lines[3]"),
        ("order.billing_address_missing", "billing_address"),
    ]


def test_validate_order_amount_beyond_bounds() -> None:
    tiny = line(quantity=Decimal("1e-13"), price="0.000000000001", tax_rates=())
    result = validate_order_input(
        order_id="O1", customer=customer(), lines=[tiny], shipping_address=OTHER, now=T0
    )
    assert [i.code for i in result.errors] == ["order.line.amount_out_of_range"]


def test_validate_order_expiry_checks() -> None:
    kwargs: dict[str, Any] = {
        "order_id": "O1",
        "customer": customer(),
        "lines": [line()],
        "shipping_address": OTHER,
        "now": T0,
    }
    naive = validate_order_input(**kwargs, expires_at=datetime(2030, 1, 1))
    assert [i.code for i in naive.errors] == ["order.expires_at_naive"]
    assert validate_order_input(**kwargs, expires_at=T1).ok
    with pytest.raises(DomainError):
        validate_order_input(**{**kwargs, "now": datetime(2026, 1, 1)})


@pytest.mark.parametrize(
    ("discount", "code"),
    [
        ("1 EUR", "order.discount_invalid"),
        (Money("1.00", "USD"), "order.discount_currency_mismatch"),
        (eur("-1.00"), "order.discount_negative"),
        (eur("0.005"), "order.discount_not_rounded"),
        (eur("20.00"), "order.discount_exceeds_net"),
    ],
)
def test_validate_order_document_discount(discount: object, code: str) -> None:
    result = validate_order_input(
        order_id="O1",
        customer=customer(),
        lines=[line()],
        shipping_address=OTHER,
        now=T0,
        document_discount=discount,  # type: ignore[arg-type]
    )
    assert [(i.code, i.field) for i in result.errors] == [(code, "document_discount")]


def test_new_order_raises_one_error_with_all_issues() -> None:
    with pytest.raises(ValidationError) as info:
        make(line("A", 0), line("A", 1))
    assert codes(info.value) == [
        ("order.line.quantity_not_positive", "lines[0].quantity"),
        ("order.line.duplicate_id", "lines[1].line_id"),
    ]


def test_order_constructor_rechecks_structure() -> None:
    order = make()
    with pytest.raises(ValidationError) as info:
        attrs.evolve(order, lines=())
    assert codes(info.value) == [("order.no_lines", "lines")]
    with pytest.raises(ValidationError) as missing:
        attrs.evolve(order, state=OrderState.CONFIRMED)
    assert codes(missing.value) == [("order.confirmed_at_missing", "confirmed_at")]
    with pytest.raises(ValidationError):
        attrs.evolve(order, customer_id="")


def test_order_rebuilt_from_storage_values() -> None:
    order = make()
    stored = attrs.evolve(order, state="confirmed", confirmed_at=T1)
    assert stored.state is OrderState.CONFIRMED
    with pytest.raises(ValidationError) as info:
        attrs.evolve(order, expires_at=datetime(2030, 1, 1))
    assert codes(info.value) == [("order.expires_at_naive", "expires_at")]


def test_floats_are_refused_as_quantities() -> None:
    with pytest.raises(InvalidAmountError):
        line(quantity=1.5)


def test_line_progress_invariants() -> None:
    ok = line(quantity=5, shipped=3, delivered=2, invoiced=4, returned=1, cancelled=1)
    assert (ok.due_quantity, ok.to_ship, ok.to_invoice, ok.cancellable) == tuple(
        map(Decimal, (4, 1, 0, 0))
    )
    bad: list[dict[str, object]] = [
        {"shipped": -1},
        {"quantity": 0, "shipped": 0, "cancelled": 0, "invoiced": 1},
        {"cancelled": 6},
        {"shipped": 5, "cancelled": 1},
        {"invoiced": 5, "cancelled": 1},
        {"delivered": 1},
        {"shipped": 1, "delivered": 1, "returned": 2},
    ]
    for changes in bad:
        fields: dict[str, Any] = {"quantity": 5, **changes}
        with pytest.raises(ValidationError) as info:
            line(**fields)
        assert {i.code for i in info.value.issues} == {"order.line.progress_inconsistent"}


# --------------------------------------------------------------------------- lifecycle


def test_happy_path_with_events() -> None:
    events: tuple[DomainEvent, ...]
    order = make(line(quantity=3, price="19.99", discount_percent=10))
    placed, events = place(order, T0)
    assert placed.state is OrderState.PLACED
    assert placed.placed_at == T0
    assert events == (
        OrderPlaced(
            aggregate_id="O1",
            occurred_at=T0,
            customer_id="C1",
            net=eur("53.97"),
            tax=eur("10.25"),
            total=eur("64.22"),
        ),
    )
    ok, events = approve(placed, T1)
    assert ok.state is OrderState.CONFIRMED
    assert ok.confirmed_at == T1
    assert events == (
        OrderApproved(aggregate_id="O1", occurred_at=T1, customer_id="C1", total=eur("64.22")),
    )
    # Net 53.97 split 1 : 2 by largest remainder: 17.99 and 35.98.
    shipped, events = record_shipment(ok, {"L1": 1}, T1)
    assert events == (
        OrderLinesShipped(
            aggregate_id="O1",
            occurred_at=T1,
            lines=(
                LineQuantity(
                    line_id="L1", sku="SKU-L1", quantity=Decimal(1), net_value=eur("17.99")
                ),
            ),
        ),
    )
    assert shipped.shipment_status is ShipmentStatus.PARTIAL
    shipped, _ = record_shipment(shipped, {"L1": "2"}, T1)
    assert shipped.shipment_status is ShipmentStatus.SHIPPED
    delivered, events = record_delivery(shipped, {"L1": 3}, T1)
    assert isinstance(events[0], OrderLinesDelivered)
    assert events[0].lines[0].net_value == eur("53.97")
    assert delivered.shipment_status is ShipmentStatus.DELIVERED
    assert delivered.billing_status is BillingStatus.NONE
    invoiced, events = record_invoiced(delivered, {"L1": 2}, T1)
    assert isinstance(events[0], OrderLinesInvoiced)
    assert invoiced.billing_status is BillingStatus.PARTIAL
    with pytest.raises(OrderNotFulfilledError) as info:
        complete(invoiced, T1)
    assert info.value.lines == ("L1",)
    invoiced, _ = record_invoiced(invoiced, {"L1": 1}, T1)
    assert invoiced.billing_status is BillingStatus.INVOICED
    done, events = complete(invoiced, T1)
    assert done.state is OrderState.COMPLETED
    assert done.closed_at == T1
    assert events == (OrderCompleted(aggregate_id="O1", occurred_at=T1, total=eur("64.22")),)


def test_hold_release_goes_back_to_placed() -> None:
    events: tuple[DomainEvent, ...]
    placed, _ = place(make(), T0)
    held, events = hold(placed, "credit", "limit exceeded by 120.00 EUR", "credit-policy", T1)
    assert held.state is OrderState.ON_HOLD
    assert events == (
        OrderHeld(
            aggregate_id="O1",
            occurred_at=T1,
            kind="credit",
            reason="limit exceeded by 120.00 EUR",
            placed_by="credit-policy",
        ),
    )
    assert [h.kind for h in held.active_holds] == [HoldKind.CREDIT]
    back, events = release(held, T1, by="ana")
    assert back.state is OrderState.PLACED
    assert back.active_holds == ()
    assert back.holds[0].released_by == "ana"
    assert back.holds[0].release_note == "released"
    assert events == (
        OrderReleased(aggregate_id="O1", occurred_at=T1, kinds=("credit",), released_by="ana"),
    )
    _, events = release(hold(back, HoldKind.FRAUD, "odd", "x", T1)[0], T1)
    assert events[0].released_by == ""


def test_override_records_who_why_and_when() -> None:
    placed, _ = place(make(), T0)
    held, _ = hold(placed, HoldKind.CREDIT, "over limit", "credit-policy", T0)
    ok, events = override(held, "cfo", "strategic customer", T1, reference="CD-42")
    assert ok.state is OrderState.CONFIRMED
    assert ok.confirmed_at == T1
    assert ok.overrides[0].by == "cfo"
    assert ok.overrides[0].reference == "CD-42"
    assert ok.overrides[0].holds == (HoldKind.CREDIT,)
    assert ok.holds[0].release_note == "override"
    assert events == (
        OrderOverridden(
            aggregate_id="O1",
            occurred_at=T1,
            by="cfo",
            reason="strategic customer",
            reference="CD-42",
            kinds=("credit",),
            total=eur("11.90"),
        ),
    )


def test_hold_argument_checks() -> None:
    placed, _ = place(make(), T0)
    with pytest.raises(ValidationError) as info:
        hold(placed, "vacation", "x", "y", T1)
    assert codes(info.value) == [("order.hold.kind_unknown", "kind")]
    with pytest.raises(ValidationError) as blank:
        hold(placed, "manual", "", " ", T1)
    assert codes(blank.value) == [("order.reason_missing", "reason"), ("order.by_missing", "by")]
    with pytest.raises(ValidationError):
        override(hold(placed, "manual", "x", "y", T1)[0], "", "why", T1)


def test_confirmed_order_can_be_held_and_must_pass_credit_again() -> None:
    order = confirmed()
    held, _ = hold(order, "dunning", "level 2", "collections", T1)
    with pytest.raises(OrderNotConfirmedError) as info:
        record_shipment(held, {"L1": 1}, T1)
    assert info.value.state == "on_hold"
    assert info.value.action == "record_ship"
    placed, _ = release(held, T1)
    assert placed.state is OrderState.PLACED
    again, _ = approve(placed, T1 + timedelta(days=30))
    assert again.confirmed_at == T0  # first confirmation is kept


def test_reject_and_cancel() -> None:
    events: tuple[DomainEvent, ...]
    placed, _ = place(make(), T0)
    rejected, events = reject(placed, "credit refused", T1)
    assert rejected.state is OrderState.REJECTED
    assert rejected.rejection_reason == "credit refused"
    assert events == (
        OrderRejected(
            aggregate_id="O1", occurred_at=T1, reason="credit refused", total=eur("11.90")
        ),
    )
    for start in (make(), placed, hold(placed, "manual", "check", "ops", T0)[0], confirmed()):
        gone, events = cancel(start, "customer changed mind", T1)
        assert gone.state is OrderState.CANCELLED
        assert gone.cancellation_reason == "customer changed mind"
        assert gone.closed_at == T1
        assert events == (
            OrderCancelled(
                aggregate_id="O1",
                occurred_at=T1,
                reason="customer changed mind",
                total=eur("11.90"),
            ),
        )
    with pytest.raises(InvalidTransitionError) as info:
        cancel(rejected, "again", T1)
    assert info.value.state == "rejected"
    with pytest.raises(ValidationError):
        cancel(placed, "", T1)


def test_cancel_after_shipping_or_invoicing_is_refused() -> None:
    order = confirmed(line("A", 2), line("B", 2))
    shipped, _ = record_shipment(order, {"A": 1}, T1)
    with pytest.raises(OrderInProgressError) as info:
        cancel(shipped, "too late", T1)
    assert info.value.lines == ("A",)
    assert "cancel the remaining quantity instead" in str(info.value)
    invoiced, _ = record_invoiced(order, {"B": 1}, T1)
    with pytest.raises(OrderInProgressError):
        cancel(invoiced, "too late", T1)
    # Held after shipping: the table allows cancel and reject, the domain does not.
    held, _ = hold(shipped, "manual", "check", "ops", T1)
    with pytest.raises(OrderInProgressError):
        cancel(held, "too late", T1)
    with pytest.raises(OrderInProgressError):
        reject(held, "too late", T1)


def test_cancel_remaining_backorder_then_complete() -> None:
    order = confirmed(line("A", 5), line("B", 2))
    order, _ = record_shipment(order, {"A": 3, "B": 2}, T1)
    order, _ = record_invoiced(order, {"A": 3, "B": 2}, T1)
    done, events = cancel_remaining(order, T1, "A", reason="backorder not wanted")
    assert done.line("A").cancelled == 2
    assert done.state is OrderState.COMPLETED
    assert [type(e) for e in events] == [OrderLinesCancelled, OrderCompleted]
    first = events[0]
    assert isinstance(first, OrderLinesCancelled)
    # Line A nets 50.00; 2 of 5 units -> 20.00.
    assert first.lines == (
        LineQuantity(line_id="A", sku="SKU-A", quantity=Decimal(2), net_value=eur("20.00")),
    )
    assert first.reason == "backorder not wanted"
    assert done.shipment_status is ShipmentStatus.SHIPPED


def test_cancel_remaining_keeps_invoiced_quantities() -> None:
    order = confirmed(line("A", 5), line("B", 1))
    order, _ = record_invoiced(order, {"A": 4}, T1)  # invoiced on order
    order, _ = record_shipment(order, {"A": 1}, T1)
    partial, events = cancel_remaining(order, T1)
    assert partial.line("A").cancelled == 1  # 5 - max(shipped 1, invoiced 4)
    assert partial.line("B").cancelled == 1
    assert partial.state is OrderState.CONFIRMED
    assert len(events) == 1
    with pytest.raises(NothingToCancelError) as info:
        cancel_remaining(partial, T1, ["A", "B"])
    assert info.value.lines == ("A", "B")


def test_cancel_remaining_everything_cancels_the_order() -> None:
    order = confirmed(line("A", 2))
    gone, events = cancel_remaining(order, T1)
    assert gone.state is OrderState.CANCELLED
    assert gone.cancellation_reason == "remaining quantity cancelled"
    assert [type(e) for e in events] == [OrderLinesCancelled, OrderCancelled]
    assert gone.shipment_status is ShipmentStatus.NONE
    assert gone.billing_status is BillingStatus.NONE


def test_cancel_remaining_needs_a_confirmed_order_and_known_lines() -> None:
    with pytest.raises(OrderNotConfirmedError):
        cancel_remaining(make(), T1)
    with pytest.raises(OrderLineNotFoundError) as info:
        cancel_remaining(confirmed(), T1, "nope")
    assert (info.value.id, info.value.order_id) == ("nope", "O1")


def test_progress_errors() -> None:
    order = confirmed(line("A", 2))
    with pytest.raises(OrderQuantityExceededError) as info:
        record_shipment(order, {"A": 3}, T1)
    assert (info.value.requested, info.value.available, info.value.action) == ("3", "2", "ship")
    with pytest.raises(OrderQuantityExceededError):
        record_delivery(order, {"A": 1}, T1)
    with pytest.raises(OrderQuantityExceededError):
        record_return(order, {"A": 1}, T1)
    with pytest.raises(OrderQuantityExceededError):
        record_invoiced(order, {"A": "2.5"}, T1)
    with pytest.raises(InvalidOrderQuantityError, match="no line"):
        record_shipment(order, {}, T1)
    with pytest.raises(InvalidOrderQuantityError, match="above zero"):
        record_shipment(order, {"A": 0}, T1)
    with pytest.raises(InvalidOrderQuantityError, match="float"):
        record_shipment(order, {"A": 1.0}, T1)
    with pytest.raises(OrderLineNotFoundError):
        record_shipment(order, {"Z": 1}, T1)
    with pytest.raises(OrderNotConfirmedError):
        record_invoiced(make(), {"L1": 1}, T1)
    with pytest.raises(DomainError):
        record_shipment(order, {"A": 1}, datetime(2026, 1, 1))


def test_progress_is_all_or_nothing() -> None:
    order = confirmed(line("A", 2), line("B", 1))
    with pytest.raises(OrderQuantityExceededError):
        record_shipment(order, {"A": 1, "B": 2}, T1)
    assert order.line("A").shipped == 0


def test_returns_and_fractional_quantities() -> None:
    order = confirmed(line("A", "2.5", "4.00"))
    order, _ = record_shipment(order, {"A": "2.5"}, T1)
    order, _ = record_delivery(order, {"A": "2.5"}, T1)
    order, events = record_return(order, {"A": "0.5"}, T1)
    assert isinstance(events[0], OrderLinesReturned)
    # Net 10.00; 0.5 of 2.5 -> 2.00.
    assert events[0].lines[0].net_value == eur("2.00")
    assert order.line("A").returned == Decimal("0.5")
    assert order.shipment_status is ShipmentStatus.DELIVERED


def test_event_values_split_by_largest_remainder() -> None:
    # 10.00 over 3 units: 3.33 for one unit, the remaining cent goes to the rest.
    order = confirmed(line("A", 3, "3.3333333", tax_rates=()))
    assert order.totals.net == eur("10.00")
    _, events = record_shipment(order, {"A": 1}, T1)
    assert events[0].lines[0].net_value == eur("3.33")


def test_statuses_are_derived_from_quantities() -> None:
    lines = [line("A", 2), line("B", 2)]
    assert shipment_status(lines) is ShipmentStatus.NONE
    assert billing_status(lines) is BillingStatus.NONE
    partly = [line("A", 2, shipped=2, delivered=2, invoiced=2), line("B", 2, cancelled=1)]
    assert shipment_status(partly) is ShipmentStatus.PARTIAL
    assert billing_status(partly) is BillingStatus.PARTIAL
    rest = [line("A", 2, shipped=2, delivered=1), line("B", 2, cancelled=2)]
    assert shipment_status(rest) is ShipmentStatus.SHIPPED


# --------------------------------------------------------------------------- expiry


def test_expiry() -> None:
    deadline = T0 + timedelta(days=7)
    order = make(expires_at=deadline)
    assert expire_if_due(order, T1) == (order, ())
    assert not is_due_to_expire(order, T1)
    with pytest.raises(OrderExpiryNotDueError, match="expires at"):
        expire(order, T1)
    placed, _ = place(order, T1)
    held, _ = hold(placed, "credit", "limit", "policy", T1)
    for state in (order, placed, held):
        gone, events = expire_if_due(state, deadline)
        assert gone.state is OrderState.EXPIRED
        assert gone.closed_at == deadline
        assert events == (
            OrderExpired(
                aggregate_id="O1", occurred_at=deadline, expires_at=deadline, total=eur("11.90")
            ),
        )


def test_expiry_refusals() -> None:
    deadline = T0 + timedelta(days=7)
    late = deadline + timedelta(seconds=1)
    order = make(expires_at=deadline)
    with pytest.raises(OrderExpiredError) as info:
        place(order, late)
    assert info.value.action == "place"
    placed, _ = place(order, T1)
    with pytest.raises(OrderExpiredError):
        approve(placed, late)
    held, _ = hold(placed, "credit", "limit", "policy", T1)
    with pytest.raises(OrderExpiredError):
        override(held, "cfo", "ok", late)
    with pytest.raises(OrderExpiryNotDueError, match="no expiry"):
        expire(make(), late)
    assert expire_if_due(make(), late)[1] == ()


def test_confirmed_orders_do_not_expire() -> None:
    deadline = T0 + timedelta(days=7)
    order = confirmed(expires_at=deadline)
    late = deadline + timedelta(days=1)
    assert expire_if_due(order, late) == (order, ())
    with pytest.raises(InvalidTransitionError):
        expire(order, late)
    held, _ = hold(order, "dunning", "level 1", "collections", T1)
    assert not is_due_to_expire(held, late)
    with pytest.raises(OrderExpiryNotDueError, match="confirmed"):
        expire(held, late)
    # A once-confirmed order may be re-approved after the date.
    again, _ = approve(release(held, late)[0], late)
    assert again.state is OrderState.CONFIRMED


def test_naive_time_is_refused() -> None:
    with pytest.raises(DomainError):
        place(make(), datetime(2026, 1, 1))


# ------------------------------------------------------------------ returns after completion


def _completed() -> Order:
    order = confirmed(line("A", 2), line("B", 1))
    order, _ = record_shipment(order, {"A": 2, "B": 1}, T1)
    order, _ = record_delivery(order, {"A": 2, "B": 1}, T1)
    order, _ = record_invoiced(order, {"A": 2, "B": 1}, T1)
    order, _ = complete(order, T1)
    assert order.state is OrderState.COMPLETED
    return order


def test_completed_order_takes_returns_and_stays_completed() -> None:
    order = _completed()
    back, events = record_return(order, {"A": 1}, T1)
    assert back.state is OrderState.COMPLETED
    assert back.line("A").returned == 1
    assert back.closed_at == order.closed_at
    assert isinstance(events[0], OrderLinesReturned)
    assert events[0].lines[0].quantity == Decimal(1)
    again, _ = record_return(back, {"A": 1, "B": 1}, T1)
    assert (again.line("A").returned, again.line("B").returned) == (2, 1)
    with pytest.raises(OrderQuantityExceededError) as info:
        record_return(again, {"A": 1}, T1)
    assert (info.value.available, info.value.action) == ("0", "return")


def test_a_parcel_arriving_after_the_order_closed_is_still_delivered() -> None:
    order = confirmed(line("A", 2))
    order, _ = record_shipment(order, {"A": 2}, T1)
    order, _ = record_invoiced(order, {"A": 2}, T1)
    order, _ = complete(order, T1)  # shipped and invoiced: closable before it arrives
    arrived, _ = record_delivery(order, {"A": 2}, T1)
    assert arrived.state is OrderState.COMPLETED
    assert arrived.line("A").delivered == 2
    with pytest.raises(OrderQuantityExceededError):
        record_delivery(arrived, {"A": 1}, T1)


def test_completed_order_refuses_other_progress() -> None:
    order = _completed()
    for record in (record_shipment, record_invoiced):
        with pytest.raises(OrderNotConfirmedError) as info:
            record(order, {"A": 1}, T1)
        assert info.value.state == "completed"


def test_returns_still_need_a_confirmed_or_completed_order() -> None:
    with pytest.raises(OrderNotConfirmedError) as info:
        record_return(make(), {"L1": 1}, T1)
    assert info.value.action == "record_return"
    gone, _ = cancel(confirmed(), "no", T1)
    with pytest.raises(OrderNotConfirmedError):
        record_return(gone, {"L1": 1}, T1)
