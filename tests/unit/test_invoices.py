"""Invoices and credit notes: pricing, lifecycle, settlements and every error path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs
import pytest

from o2c.errors import (
    CreditExceedsInvoiceError,
    CreditNoteMismatchError,
    CurrencyMismatchError,
    DiscountExceedsOfferError,
    DiscountNotAvailableError,
    DomainError,
    InvalidAmountError,
    InvalidInvoiceError,
    InvalidTransitionError,
    InvoiceStateError,
    NotFoundError,
    OverApplicationError,
    OverInvoicingError,
    UnapplyExceedsAppliedError,
    UnknownCurrencyError,
    VoidNotAllowedError,
)
from o2c.events import (
    InvoiceCredited,
    InvoiceIssued,
    InvoicePaymentApplied,
    InvoicePaymentUnapplied,
    InvoiceStateChanged,
)
from o2c.invoices import (
    Application,
    AppliedCredit,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoicingBasis,
    credit_invoice,
    days_overdue,
    full_credit_note,
    invoice_lines_from_order,
    is_overdue,
    next_due,
)
from o2c.lifecycles import InvoiceState
from o2c.money import Money
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding
from o2c.terms import DueRule, Instalment, PaymentTerms, instalments, net, two_ten_net_thirty

NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
VAT19 = TaxRate("VAT19", Decimal(19))
VAT7 = TaxRate("VAT7", Decimal(7))


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def line(
    line_id: str = "1",
    quantity: str = "1",
    price: str = "100.00",
    rates: tuple[TaxRate, ...] = (VAT19,),
    **kwargs: object,
) -> InvoiceLine:
    return InvoiceLine(
        line_id=line_id,
        sku=f"SKU-{line_id}",
        description=f"item {line_id}",
        quantity=Decimal(quantity),
        unit_price=eur(price),
        tax_rates=rates,
        **kwargs,  # type: ignore[arg-type]
    )


def draft(*lines: InvoiceLine, terms: PaymentTerms | None = None, **kwargs: object) -> Invoice:
    return Invoice(
        id="inv-1",
        customer_id="cust-1",
        currency="EUR",
        lines=lines or (line(),),
        terms=terms or net(30),
        series="INV",
        **kwargs,  # type: ignore[arg-type]
    )


def issued(*lines: InvoiceLine, terms: PaymentTerms | None = None) -> Invoice:
    inv, _ = draft(*lines, terms=terms).issue("INV-0001", date(2024, 3, 1), NOW)
    return inv


def note(amount: str = "119.00", note_id: str = "cn-1", **kwargs: object) -> CreditNote:
    fields: dict[str, object] = {
        "id": note_id,
        "number": f"CN-{note_id}",
        "invoice_id": "inv-1",
        "currency": "EUR",
        "lines": (line(price=amount, rates=()),),
        "reason": "goods returned",
        "issue_date": date(2024, 3, 20),
    }
    fields.update(kwargs)
    return CreditNote(**fields)  # type: ignore[arg-type]


def transitions(events: tuple[object, ...]) -> list[tuple[str, str, str]]:
    return [
        (e.previous, e.trigger, e.current) for e in events if isinstance(e, InvoiceStateChanged)
    ]


# --------------------------------------------------------------------------- lines and totals


def test_totals_via_pricing_with_a_breakdown_per_rate() -> None:
    inv = draft(
        line("1", "3", "10.00", (VAT19,)),
        line("2", "1", "33.33", (VAT7,), discount_percent=Decimal(10)),
    )
    # line 1: 30.00 net, 5.70 tax; line 2: 33.33 - 3.333 = 29.997 -> 30.00 net, 2.10 tax
    assert inv.net == eur("60.00")
    assert inv.tax == eur("7.80")
    assert inv.total == eur("67.80")
    assert [(b.rate.code, str(b.base), str(b.tax)) for b in inv.tax_breakdown] == [
        ("VAT19", "30.00 EUR", "5.70 EUR"),
        ("VAT7", "30.00 EUR", "2.10 EUR"),
    ]
    assert inv.totals.total == inv.total
    assert inv.open_amount == inv.total
    assert inv.number is None
    assert inv.due_date is None
    assert inv.state is InvoiceState.DRAFT


def test_per_document_rounding_comes_from_the_policy() -> None:
    lines = [line(str(i), "1", "0.10") for i in range(3)]  # tax 0.019 each
    per_line = draft(*lines)
    per_doc = draft(*lines, rounding=RoundingPolicy(tax=TaxRounding.PER_DOCUMENT))
    assert per_line.tax == eur("0.06")
    assert per_doc.tax == eur("0.06")  # 0.057 -> 0.06
    assert per_doc.totals.rounding_difference == eur("0.00")
    lines = [line(str(i), "1", "0.05") for i in range(3)]  # tax 0.0095 each
    assert draft(*lines).tax == eur("0.03")
    per_doc = draft(*lines, rounding=RoundingPolicy(tax=TaxRounding.PER_DOCUMENT))
    assert per_doc.tax == eur("0.03")  # 0.0285 -> 0.03
    assert per_doc.totals.rounding_difference == eur("0.00")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"line_id": ""}, "invoice.line.id_empty"),
        ({"quantity": "0"}, "invoice.line.quantity_not_positive"),
        ({"price": "-1.00"}, "invoice.line.price_negative"),
        ({"discount_percent": Decimal(101)}, "invoice.line.discount_out_of_range"),
        ({"discount_amount": eur("-1.00")}, "invoice.line.discount_amount_invalid"),
        ({"discount_amount": Money("1", "USD")}, "invoice.line.discount_amount_invalid"),
    ],
)
def test_bad_lines(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInvoiceError) as exc:
        line(**kwargs)  # type: ignore[arg-type]
    assert [i.code for i in exc.value.issues] == [code]


def test_float_quantities_are_refused() -> None:
    with pytest.raises(InvalidAmountError):
        InvoiceLine(line_id="1", sku="A", description="a", quantity=1.5, unit_price=eur("1"))


def test_bad_invoices() -> None:
    with pytest.raises(InvalidInvoiceError, match="unique"):
        draft(line("1"), line("1"))
    with pytest.raises(UnknownCurrencyError):
        Invoice(id="i", customer_id="c", currency="EURO", lines=(), terms=net(30))
    with pytest.raises(CurrencyMismatchError):
        Invoice(id="i", customer_id="c", currency="USD", lines=(line(),), terms=net(30))
    with pytest.raises(InvalidInvoiceError, match="ledgers must be in EUR"):
        draft(written_off=Money("1", "USD"))
    with pytest.raises(InvalidInvoiceError, match="never negative"):
        draft(discount_taken=eur("-1.00"))
    with pytest.raises(InvalidInvoiceError, match="exceed the total"):
        draft(applications=(Application("p", eur("500.00")),))


# --------------------------------------------------------------------------- issue


def test_issue_takes_number_date_and_schedule() -> None:
    terms = instalments([DueRule.days(0), DueRule.months(1), DueRule.months(2)])
    inv, events = draft(terms=terms).issue("INV-0001", date(2024, 1, 31), NOW)
    assert inv.state is InvoiceState.ISSUED
    assert inv.number == "INV-0001"
    assert inv.issue_date == date(2024, 1, 31)
    assert [str(i.amount) for i in inv.schedule] == ["39.67 EUR", "39.67 EUR", "39.66 EUR"]
    assert inv.due_date == date(2024, 3, 31)
    first = events[0]
    assert isinstance(first, InvoiceIssued)
    assert first.total == eur("119.00")
    assert first.due_date == date(2024, 3, 31)
    assert first.aggregate == "invoice"
    assert first.name == "InvoiceIssued"
    assert transitions(events) == [("draft", "issue", "issued")]


def test_a_zero_invoice_is_settled_at_issue() -> None:
    inv, events = draft(line(price="0.00")).issue("INV-9", date(2024, 3, 1), NOW)
    assert inv.state is InvoiceState.PAID
    assert transitions(events) == [("draft", "issue", "issued"), ("issued", "settle", "paid")]


def test_issue_errors() -> None:
    with pytest.raises(InvalidInvoiceError, match="number"):
        draft().issue(" ", date(2024, 3, 1), NOW)
    empty = Invoice(id="i", customer_id="c", currency="EUR", lines=(), terms=net(30))
    with pytest.raises(InvalidInvoiceError, match="at least one line"):
        empty.issue("N", date(2024, 3, 1), NOW)
    with pytest.raises(InvalidTransitionError):
        issued().issue("INV-0002", date(2024, 3, 1), NOW)
    with pytest.raises(DomainError, match="naive"):
        draft().issue("N", date(2024, 3, 1), datetime(2024, 3, 1))


# --------------------------------------------------------------------------- payments


def test_payments_settle_partially_then_fully() -> None:
    inv = issued()
    inv, events = inv.apply_payment(eur("19.00"), "pay-1", NOW)
    assert inv.state is InvoiceState.PARTIALLY_PAID
    assert inv.open_amount == eur("100.00")
    assert isinstance(events[0], InvoicePaymentApplied)
    assert events[0].open_amount == eur("100.00")
    inv, events = inv.apply_payment(eur("50.00"), "pay-2", NOW)
    assert transitions(events) == []  # still partially paid
    inv, events = inv.apply_payment(eur("50.00"), "pay-1", NOW)
    assert inv.state is InvoiceState.PAID
    assert inv.applied == eur("119.00")
    assert inv.applied_by("pay-1") == eur("69.00")
    assert transitions(events) == [("partially_paid", "settle", "paid")]


def test_over_application_is_refused() -> None:
    inv = issued()
    with pytest.raises(OverApplicationError) as exc:
        inv.apply_payment(eur("119.01"), "pay-1", NOW)
    assert exc.value.open_amount == "119.00 EUR"
    assert exc.value.operation == "payment"
    assert exc.value.code == "invoice.over_application"


@pytest.mark.parametrize("amount", [eur("0.00"), eur("-1.00"), eur("0.001"), Money("1", "USD")])
def test_bad_payment_amounts(amount: Money) -> None:
    with pytest.raises(InvalidAmountError):
        issued().apply_payment(amount, "pay-1", NOW)


def test_payment_needs_a_reference_and_an_issued_invoice() -> None:
    with pytest.raises(InvalidInvoiceError, match="payment"):
        issued().apply_payment(eur("1.00"), "", NOW)
    with pytest.raises(InvoiceStateError) as exc:
        draft().apply_payment(eur("1.00"), "pay-1", NOW)
    assert exc.value.state == "draft"


def test_unapply_reopens_wholly_or_partly() -> None:
    inv, _ = issued().apply_payment(eur("119.00"), "pay-1", NOW)
    inv, events = inv.unapply_payment(eur("19.00"), "pay-1", NOW, reason="bounced")
    assert inv.state is InvoiceState.PARTIALLY_PAID
    assert isinstance(events[0], InvoicePaymentUnapplied)
    assert events[0].reason == "bounced"
    assert transitions(events) == [("paid", "reopen_partially", "partially_paid")]
    inv, events = inv.unapply_payment(eur("100.00"), "pay-1", NOW)
    assert inv.state is InvoiceState.ISSUED
    assert inv.applications == ()
    assert transitions(events) == [("partially_paid", "reopen", "issued")]
    paid, _ = issued().apply_payment(eur("119.00"), "pay-1", NOW)
    inv, events = paid.unapply_payment(eur("119.00"), "pay-1", NOW)
    assert transitions(events) == [("paid", "reopen", "issued")]


def test_unapply_cannot_exceed_what_the_reference_applied() -> None:
    inv, _ = issued().apply_payment(eur("50.00"), "pay-1", NOW)
    inv, _ = inv.apply_payment(eur("50.00"), "pay-2", NOW)
    with pytest.raises(UnapplyExceedsAppliedError) as exc:
        inv.unapply_payment(eur("50.01"), "pay-1", NOW)
    assert exc.value.applied == "50.00 EUR"
    with pytest.raises(UnapplyExceedsAppliedError):
        inv.unapply_payment(eur("1.00"), "pay-3", NOW)


# --------------------------------------------------------------------------- discounts


def test_two_ten_net_thirty_on_1000_eur() -> None:
    inv = issued(line(price="1000.00", rates=()), terms=two_ten_net_thirty())
    assert inv.schedule == (Instalment(date(2024, 3, 31), eur("1000.00")),)
    inv, _ = inv.apply_payment(eur("980.00"), "pay-1", NOW)
    inv, events = inv.take_discount(eur("20.00"), date(2024, 3, 11), NOW)
    assert inv.state is InvoiceState.PAID
    assert inv.discount_taken == eur("20.00")
    assert inv.open_amount == eur("0.00")
    assert transitions(events) == [("partially_paid", "settle", "paid")]


def test_discount_errors() -> None:
    inv = issued(line(price="1000.00", rates=()), terms=two_ten_net_thirty())
    with pytest.raises(DiscountNotAvailableError) as late:
        inv.take_discount(eur("20.00"), date(2024, 3, 12), NOW)
    assert late.value.payment_date == "2024-03-12"
    inv, _ = inv.take_discount(eur("15.00"), date(2024, 3, 5), NOW)
    assert inv.state is InvoiceState.PARTIALLY_PAID
    with pytest.raises(DiscountExceedsOfferError) as exc:
        inv.take_discount(eur("5.01"), date(2024, 3, 5), NOW)
    assert exc.value.already_taken == "15.00 EUR"
    inv, _ = inv.apply_payment(eur("983.00"), "pay-1", NOW)
    with pytest.raises(OverApplicationError) as over:
        inv.take_discount(eur("5.00"), date(2024, 3, 5), NOW)
    assert over.value.operation == "discount"
    with pytest.raises(DiscountNotAvailableError):
        issued().take_discount(eur("1.00"), date(2024, 3, 1), NOW)
    assert draft().discount_offer(date(2024, 3, 1)) is None


def test_discount_on_net_uses_the_untaxed_amount() -> None:
    terms = attrs.evolve(two_ten_net_thirty(), discount_on="net")
    inv = issued(line(price="1000.00"), terms=terms)
    offer = inv.discount_offer(date(2024, 3, 2))
    assert offer is not None
    assert offer.amount == eur("20.00")  # 2 % of 1000.00, not of 1190.00


# --------------------------------------------------------------------------- write-offs


def test_writing_off_the_rest_ends_the_invoice() -> None:
    inv, _ = issued().apply_payment(eur("118.98"), "pay-1", NOW)
    inv, events = inv.write_off(eur("0.02"), "short payment", NOW)
    assert inv.state is InvoiceState.WRITTEN_OFF
    assert inv.written_off == eur("0.02")
    assert transitions(events) == [("partially_paid", "write_off", "written_off")]
    with pytest.raises(InvoiceStateError):
        inv.apply_payment(eur("0.01"), "pay-2", NOW)
    with pytest.raises(InvoiceStateError):
        inv.unapply_payment(eur("0.01"), "pay-1", NOW)


def test_a_partial_write_off_settles_partially() -> None:
    inv, events = issued().write_off(eur("10.00"), "goodwill", NOW)
    assert inv.state is InvoiceState.PARTIALLY_PAID
    assert transitions(events) == [("issued", "settle_partially", "partially_paid")]
    inv, events = inv.write_off(inv.open_amount, "uncollectable", NOW)
    assert inv.state is InvoiceState.WRITTEN_OFF
    assert transitions(events) == [("partially_paid", "write_off", "written_off")]


def test_write_off_errors() -> None:
    inv = issued()
    with pytest.raises(OverApplicationError) as exc:
        inv.write_off(eur("119.01"), "too much", NOW)
    assert exc.value.operation == "write_off"
    with pytest.raises(InvalidInvoiceError, match="say why"):
        inv.write_off(eur("1.00"), " ", NOW)
    paid, _ = inv.apply_payment(eur("119.00"), "pay-1", NOW)
    with pytest.raises(OverApplicationError):
        paid.write_off(eur("0.01"), "nothing open", NOW)


# --------------------------------------------------------------------------- void


def test_void_a_draft_or_an_untouched_issued_invoice() -> None:
    inv, events = draft().void(NOW)
    assert inv.state is InvoiceState.VOID
    assert transitions(events) == [("draft", "void", "void")]
    inv, _ = issued().void(NOW)
    assert inv.state is InvoiceState.VOID
    assert inv.number == "INV-0001"
    with pytest.raises(InvoiceStateError):
        inv.apply_payment(eur("1.00"), "pay-1", NOW)


def test_void_refused_with_settlements() -> None:
    inv, _ = issued().apply_payment(eur("1.00"), "pay-1", NOW)
    with pytest.raises(VoidNotAllowedError) as exc:
        inv.void(NOW)
    assert exc.value.applied == "1.00 EUR"
    inv, _ = inv.unapply_payment(eur("1.00"), "pay-1", NOW)
    inv, _ = inv.void(NOW)  # nothing left applied: allowed again
    assert inv.state is InvoiceState.VOID
    zero, _ = draft(line(price="0.00")).issue("INV-9", date(2024, 3, 1), NOW)
    with pytest.raises(InvalidTransitionError):
        zero.void(NOW)


# --------------------------------------------------------------------------- credit notes


def test_a_credit_note_on_an_open_invoice_reduces_it() -> None:
    inv = issued()
    outcome = credit_invoice(inv, note("19.00"), NOW)
    assert outcome.invoice.credited == eur("19.00")
    assert outcome.invoice.open_amount == eur("100.00")
    assert outcome.invoice.state is InvoiceState.PARTIALLY_PAID
    assert outcome.released == ()
    assert outcome.released_total == eur("0.00")
    credited = [e for e in outcome.events if isinstance(e, InvoiceCredited)]
    assert credited[0].released == eur("0.00")
    assert outcome.invoice.credits == (AppliedCredit("cn-1", eur("19.00")),)


def test_a_full_credit_note_matches_the_invoice_to_the_cent() -> None:
    inv = issued(line("1", "3", "0.33"), line("2", "7", "1.11", (VAT7,)))
    full = full_credit_note(inv, id="cn-9", number="CN-9", reason="cancel", issue_date=NOW.date())
    assert full.total == inv.total
    assert full.tax_breakdown == inv.tax_breakdown
    assert full.totals.net == inv.net
    inv, events = inv.credit(full, NOW)
    assert inv.state is InvoiceState.PAID
    assert inv.open_amount == eur("0.00")
    assert transitions(events) == [("issued", "settle", "paid")]


def test_a_credit_note_on_a_paid_invoice_releases_the_latest_cash() -> None:
    inv, _ = issued().apply_payment(eur("100.00"), "pay-1", NOW)
    inv, _ = inv.apply_payment(eur("19.00"), "pay-2", NOW)
    outcome = credit_invoice(inv, note("30.00"), NOW)
    assert outcome.released == (
        Application("pay-2", eur("19.00")),
        Application("pay-1", eur("11.00")),
    )
    assert outcome.released_total == eur("30.00")
    assert outcome.invoice.applied == eur("89.00")
    assert outcome.invoice.open_amount == eur("0.00")
    assert outcome.invoice.state is InvoiceState.PAID
    unapplied = [e for e in outcome.events if isinstance(e, InvoicePaymentUnapplied)]
    assert [(e.payment_ref, str(e.amount)) for e in unapplied] == [
        ("pay-2", "19.00 EUR"),
        ("pay-1", "11.00 EUR"),
    ]


def test_partly_paid_invoice_releases_only_the_excess() -> None:
    inv, _ = issued().apply_payment(eur("100.00"), "pay-1", NOW)
    outcome = credit_invoice(inv, note("29.00"), NOW)
    assert outcome.released == (Application("pay-1", eur("10.00")),)
    assert outcome.invoice.open_amount == eur("0.00")


def test_credit_cannot_exceed_the_creditable_amount() -> None:
    inv, _ = issued().write_off(eur("9.00"), "goodwill", NOW)
    assert inv.creditable_amount == eur("110.00")
    with pytest.raises(CreditExceedsInvoiceError) as exc:
        credit_invoice(inv, note("110.01"), NOW)
    assert exc.value.creditable == "110.00 EUR"
    discounted = issued(line(price="1000.00", rates=()), terms=two_ten_net_thirty())
    discounted, _ = discounted.take_discount(eur("20.00"), date(2024, 3, 1), NOW)
    assert discounted.creditable_amount == eur("980.00")


def test_credit_note_mismatches() -> None:
    inv = issued()
    with pytest.raises(CreditNoteMismatchError, match="credits invoice"):
        credit_invoice(inv, note("1.00", invoice_id="inv-2"), NOW)
    usd = note(
        "1.00",
        currency="USD",
        lines=(
            InvoiceLine(
                line_id="1", sku="A", description="a", quantity=1, unit_price=Money("1", "USD")
            ),
        ),
    )
    with pytest.raises(CreditNoteMismatchError) as exc:
        credit_invoice(inv, usd, NOW)
    assert "USD" in exc.value.reason
    inv, _ = inv.credit(note("1.00"), NOW)
    with pytest.raises(CreditNoteMismatchError, match="already"):
        inv.credit(note("1.00"), NOW)
    with pytest.raises(InvoiceStateError):
        credit_invoice(draft(), note("1.00"), NOW)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"number": ""}, "credit_note.number_empty"),
        ({"reason": " "}, "credit_note.reason_empty"),
        ({"lines": (line(price="0.00"),)}, "credit_note.total_not_positive"),
    ],
)
def test_bad_credit_notes(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidInvoiceError) as exc:
        note(**kwargs)  # type: ignore[arg-type]
    assert [i.code for i in exc.value.issues] == [code]


# --------------------------------------------------------------------------- overdue


def test_overdue_follows_the_first_unpaid_instalment() -> None:
    terms = instalments([DueRule.days(0), DueRule.days(30), DueRule.days(60)])
    inv = issued(line(price="100.00", rates=()), terms=terms)  # 33.34 / 33.33 / 33.33
    assert next_due(inv) == Instalment(date(2024, 3, 1), eur("33.34"))
    assert not is_overdue(inv, date(2024, 3, 1))
    assert is_overdue(inv, date(2024, 3, 2))
    assert days_overdue(inv, date(2024, 3, 5)) == 4
    inv, _ = inv.apply_payment(eur("40.00"), "pay-1", NOW)
    assert next_due(inv) == Instalment(date(2024, 3, 31), eur("26.67"))
    assert not is_overdue(inv, date(2024, 3, 31))
    assert is_overdue(inv, date(2024, 4, 1))
    assert days_overdue(inv, date(2024, 3, 5)) == 0
    inv, _ = inv.apply_payment(inv.open_amount, "pay-2", NOW)
    assert next_due(inv) is None
    assert not is_overdue(inv, date(2030, 1, 1))
    assert days_overdue(inv, date(2030, 1, 1)) == 0
    assert next_due(draft()) is None


# --------------------------------------------------------------------------- from orders


@attrs.frozen
class FakeOrderLine:
    line_id: str
    quantity: Decimal
    shipped: Decimal
    invoiced: Decimal
    unit_price: Money = attrs.field(factory=lambda: eur("10.00"))
    sku: str = "SKU"
    description: str = "thing"
    discount_percent: Decimal = Decimal(0)
    discount_amount: Money | None = None
    tax_rates: tuple[TaxRate, ...] = (VAT19,)
    cancelled: Decimal = Decimal(0)


def order_line(
    line_id: str, quantity: int, shipped: int, invoiced: int, **kwargs: object
) -> FakeOrderLine:
    return FakeOrderLine(
        line_id,
        Decimal(quantity),
        Decimal(shipped),
        Decimal(invoiced),
        **kwargs,  # type: ignore[arg-type]
    )


def test_bill_ordered_or_shipped_minus_invoiced() -> None:
    lines = [order_line("a", 10, 4, 1), order_line("b", 5, 5, 5), order_line("c", 3, 0, 0)]
    ordered = invoice_lines_from_order(lines, InvoicingBasis.ORDERED)
    assert [(x.line_id, x.quantity) for x in ordered] == [("a", Decimal(9)), ("c", Decimal(3))]
    shipped = invoice_lines_from_order(lines, InvoicingBasis.SHIPPED)
    assert [(x.line_id, x.quantity) for x in shipped] == [("a", Decimal(3))]
    first = shipped[0]
    assert first.order_line_id == "a"
    assert first.tax_rates == (VAT19,)
    assert first.unit_price == eur("10.00")


def test_partial_billing_and_its_errors() -> None:
    lines = [order_line("a", 10, 4, 1), order_line("b", 5, 5, 0)]
    chosen = invoice_lines_from_order(lines, InvoicingBasis.SHIPPED, quantities={"a": "2", "b": 0})
    assert [(x.line_id, x.quantity) for x in chosen] == [("a", Decimal(2))]
    with pytest.raises(OverInvoicingError) as exc:
        invoice_lines_from_order(lines, InvoicingBasis.SHIPPED, quantities={"a": 4})
    assert (exc.value.requested, exc.value.billable) == ("4", "3")
    with pytest.raises(NotFoundError) as missing:
        invoice_lines_from_order(lines, InvoicingBasis.SHIPPED, quantities={"z": 1})
    assert missing.value.kind == "order_line"
    with pytest.raises(InvalidAmountError):
        invoice_lines_from_order(lines, InvoicingBasis.SHIPPED, quantities={"a": -1})


def test_over_invoiced_lines_are_skipped_not_negated() -> None:
    lines = [order_line("a", 10, 2, 5)]
    assert invoice_lines_from_order(lines, InvoicingBasis.SHIPPED) == ()
    with pytest.raises(OverInvoicingError) as exc:
        invoice_lines_from_order(lines, InvoicingBasis.SHIPPED, quantities={"a": 1})
    assert exc.value.billable == "0"


def test_a_fixed_discount_is_prorated_and_sums_exactly() -> None:
    # 10.00 off a line of 3: 3.33 + 3.34 + 3.33 over three invoices of one unit.
    base = order_line("a", 3, 3, 0, discount_amount=eur("10.00"))
    parts = []
    for invoiced in range(3):
        billed = invoice_lines_from_order(
            [attrs.evolve(base, invoiced=Decimal(invoiced))],
            InvoicingBasis.SHIPPED,
            quantities={"a": 1},
        )
        assert billed[0].discount_amount is not None
        parts.append(str(billed[0].discount_amount))
    assert parts == ["3.33 EUR", "3.34 EUR", "3.33 EUR"]
    whole = invoice_lines_from_order([base], InvoicingBasis.ORDERED)
    assert whole[0].discount_amount == eur("10.00")


def test_cancelled_quantities_are_never_billed() -> None:
    lines = [order_line("a", 10, 6, 2, cancelled=Decimal(3), discount_amount=eur("7.00"))]
    ordered = invoice_lines_from_order(lines, InvoicingBasis.ORDERED)
    # 10 - 3 cancelled - 2 invoiced = 5 units; their share of the 7.00 off is 5/7.
    assert [(x.line_id, x.quantity) for x in ordered] == [("a", Decimal(5))]
    assert ordered[0].discount_amount == eur("5.00")
    inconsistent = [order_line("b", 1, 2, 0, cancelled=Decimal(1), discount_amount=eur("1.00"))]
    billed = invoice_lines_from_order(inconsistent, InvoicingBasis.SHIPPED)
    assert billed[0].discount_amount == eur("1.00")
