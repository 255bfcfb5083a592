"""The matching engine, one example per signal and per case (o2c.matching.match)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from o2c.errors import DuplicateOpenItemError, OpenItemError
from o2c.matching import (
    LineResult,
    MatchPolicy,
    MatchStatus,
    OpenItem,
    PayerMemory,
    confirmations,
    match,
)
from o2c.money import Money
from o2c.statements import EntryDetail, StatementEntry

BOOKED = date(2026, 3, 10)
ACME_IBAN = "DE89370400440532013000"
BETA_IBAN = "DE02120300000000202051"


def item(
    number: str,
    amount: str,
    *,
    customer: str = "acme",
    name: str = "Acme Trading GmbH",
    iban: str = ACME_IBAN,
    currency: str = "EUR",
    issued: date = date(2026, 2, 1),
    discount: str | None = None,
    until: date | None = None,
) -> OpenItem:
    return OpenItem(
        invoice_number=number,
        customer_id=customer,
        customer_name=name,
        customer_iban=iban,
        currency=currency,
        amount_open=Money(amount, currency),
        invoice_date=issued,
        due_date=date(2026, 3, 3),
        discount_percent=Decimal(discount) if discount else None,
        discount_until=until,
    )


def beta(number: str, amount: str, **kw: object) -> OpenItem:
    return item(number, amount, customer="beta", name="Beta Logistik AG", iban=BETA_IBAN, **kw)  # type: ignore[arg-type]


def line(
    amount: str,
    text: str = "",
    *,
    line_id: str = "L1",
    iban: str = "",
    name: str = "",
    currency: str = "EUR",
    on: date = BOOKED,
    **kw: object,
) -> StatementEntry:
    return StatementEntry(
        line_id=line_id,
        booking_date=on,
        amount=Money(amount, currency),
        remittance=text,
        counterparty_iban=iban,
        counterparty_name=name,
        **kw,  # type: ignore[arg-type]
    )


def one(entry: StatementEntry, items: list[OpenItem], **kw: object) -> LineResult:
    (result,) = match([entry], items, **kw)  # type: ignore[arg-type]
    return result


def applied(result: LineResult) -> list[tuple[str, str]]:
    assert result.best is not None
    return [(a.invoice_number, str(a.amount.amount)) for a in result.best.allocations]


OPEN = [
    item("INV-2026-000123", "1190.00"),
    item("INV-2026-000124", "250.00"),
    beta("INV-2026-000200", "99.90"),
]


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize(
    "text",
    [
        "INV-2026-000123",
        "inv-2026-000123",
        "Rechnung INV2026000123 vom 01.03.2026",
        "invoice inv 2026 123, thanks",
        "2026-000123",
        "payment for 2026/123",
        "#INV-2026-0123 PO 4500012345",
    ],
)
def test_a_quoted_invoice_is_found_whatever_its_formatting(text: str) -> None:
    result = one(line("1190.00", text), OPEN)
    assert result.status is MatchStatus.AUTO
    assert applied(result) == [("INV-2026-000123", "1190.00")]
    best = result.best
    assert best is not None
    assert best.kind == "one_to_one"
    assert [s.name for s in best.signals][:2] == ["reference", "amount"]
    assert "INV-2026-000123" in best.reason


def test_a_valid_rf_reference_is_structured_evidence() -> None:
    from o2c.matching.references import rf_reference

    rf = rf_reference("INV2026000124")
    spaced = " ".join(rf[i : i + 4] for i in range(0, len(rf), 4))
    result = one(line("250.00", structured_reference=spaced), OPEN)
    assert result.status is MatchStatus.AUTO
    assert applied(result) == [("INV-2026-000124", "250.00")]
    best = result.best
    assert best is not None
    assert "structured reference" in best.signals[0].detail
    assert best.signals[0].weight == MatchPolicy().weights.reference_structured


def test_the_end_to_end_id_counts_as_text_too() -> None:
    result = one(line("250.00", end_to_end_id="E2E-INV2026000124"), OPEN)
    assert applied(result) == [("INV-2026-000124", "250.00")]


def test_several_quoted_invoices_paid_together_are_one_to_many() -> None:
    result = one(line("1440.00", "INV-2026-000123, INV-2026-000124"), OPEN)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    assert best.kind == "one_to_many"
    assert sorted(applied(result)) == [
        ("INV-2026-000123", "1190.00"),
        ("INV-2026-000124", "250.00"),
    ]


def test_of_two_quoted_invoices_the_one_the_amount_fits_is_proposed() -> None:
    # The payer lists both but pays one: the subset that fits wins, with less confidence.
    result = one(line("250.00", "INV-2026-000123 INV-2026-000124"), OPEN)
    best = result.best
    assert best is not None
    assert applied(result) == [("INV-2026-000124", "250.00")]
    assert any(s.name == "left_out" for s in best.signals)
    assert result.status is MatchStatus.SUGGESTED


def test_a_typo_that_names_another_open_invoice_is_never_auto_applied() -> None:
    # The payer means INV-...123 (1190.00, their own) but types ...124 (250.00).
    result = one(line("1190.00", "INV-2026-000124", iban=ACME_IBAN), OPEN)
    assert result.status is MatchStatus.SUGGESTED
    best = result.best
    assert best is not None
    assert applied(result) == [("INV-2026-000123", "1190.00")]
    assert any("one edit away" in s.detail for s in best.signals)
    assert any("typo" in c for c in best.cautions)
    quoted = [p for p in result.proposals if p.allocations[0].invoice_number == "INV-2026-000124"]
    assert quoted
    assert quoted[0].kind == "overpayment"  # 1190.00 paid against 250.00 open


def test_a_typo_that_names_nothing_is_applied_when_the_payer_confirms_it() -> None:
    result = one(line("1190.00", "INV-2026-0001239", iban=ACME_IBAN), OPEN)
    assert result.status is MatchStatus.AUTO
    assert applied(result) == [("INV-2026-000123", "1190.00")]


def test_a_typo_without_the_payer_is_only_suggested() -> None:
    result = one(line("1190.00", "INV-2026-0001239", name="Someone Else"), OPEN)
    assert result.status is MatchStatus.SUGGESTED
    best = result.best
    assert best is not None
    assert applied(result) == [("INV-2026-000123", "1190.00")]
    assert "payer to confirm" in " ".join(best.cautions)


def test_a_quoted_invoice_settled_earlier_in_the_run_is_not_paid_twice() -> None:
    first = line("250.00", "INV-2026-000124", line_id="L1")
    second = line("250.00", "INV-2026-000124", line_id="L2")
    a, b = match([first, second], OPEN)
    assert a.status is MatchStatus.AUTO
    assert b.status is MatchStatus.UNMATCHED
    assert "no longer open" in b.why


# --------------------------------------------------------------------------- amounts


def test_an_early_payment_discount_valid_on_the_booking_date_is_granted() -> None:
    items = [item("INV-7", "1000.00", discount="2", until=BOOKED)]  # last day: still valid
    result = one(line("980.00", "INV-7 0007"), items)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    (allocation,) = best.allocations
    assert allocation.amount == Money("980.00", "EUR")
    assert allocation.discount == Money("20.00", "EUR")
    assert "valid until 2026-03-10" in best.reason


def test_a_discount_taken_after_its_last_day_is_a_partial_payment() -> None:
    items = [item("INV-7777", "1000.00", discount="2", until=date(2026, 3, 9))]
    result = one(line("980.00", "INV-7777", iban=ACME_IBAN), items)
    best = result.best
    assert best is not None
    assert best.kind == "partial"
    (allocation,) = best.allocations
    assert allocation.amount == Money("980.00", "EUR")
    assert allocation.discount is None
    assert "expired" in best.reason
    assert result.status is MatchStatus.AUTO  # cash applied; 20.00 stays open


def test_a_bank_fee_within_the_tolerance_is_written_off() -> None:
    result = one(line("1186.50", "INV-2026-000123"), OPEN)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    (allocation,) = best.allocations
    assert allocation.amount == Money("1186.50", "EUR")
    assert allocation.written_off == Money("3.50", "EUR")
    assert "bank fee" in best.reason


def test_a_shortfall_beyond_the_tolerance_is_a_partial_payment() -> None:
    # 2 % of 250.00 is 5.00: 6.00 short is not a fee.
    result = one(line("244.00", "INV-2026-000124", iban=ACME_IBAN), OPEN)
    best = result.best
    assert best is not None
    assert best.kind == "partial"
    assert best.allocations[0].written_off is None
    assert "6.00 EUR stays open" in best.reason


def test_a_short_payment_with_a_reason_is_a_deduction_for_a_dispute() -> None:
    text = "INV-2026-000123 less 190.00 damaged goods"
    result = one(line("1000.00", text, iban=ACME_IBAN), OPEN)
    best = result.best
    assert best is not None
    assert best.kind == "deduction"
    (allocation,) = best.allocations
    assert allocation.amount == Money("1000.00", "EUR")
    assert allocation.deduction == Money("190.00", "EUR")
    assert result.status is MatchStatus.AUTO


def test_deductions_wait_for_a_person_when_the_policy_says_so() -> None:
    text = "INV-2026-000123 less 190.00 damaged goods"
    result = one(
        line("1000.00", text, iban=ACME_IBAN), OPEN, policy=MatchPolicy(auto_deduction=False)
    )
    assert result.status is MatchStatus.SUGGESTED
    assert "deductions" in result.why


def test_an_overpayment_applies_what_is_open_and_leaves_the_rest_unapplied() -> None:
    result = one(line("260.00", "INV-2026-000124", iban=ACME_IBAN), OPEN)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    assert best.kind == "overpayment"
    assert applied(result) == [("INV-2026-000124", "250.00")]
    assert best.unapplied == Money("10.00", "EUR")


def test_paying_more_than_twice_what_is_quoted_waits_for_a_person() -> None:
    result = one(line("600.00", "INV-2026-000124", iban=ACME_IBAN), OPEN)
    assert result.status is MatchStatus.SUGGESTED
    assert "twice" in result.why


def test_a_partial_payment_from_a_stranger_is_only_suggested() -> None:
    result = one(line("100.00", "INV-2026-000124", name="Factor AG"), OPEN)
    assert result.status is MatchStatus.SUGGESTED
    assert applied(result) == [("INV-2026-000124", "100.00")]


def test_many_lines_pay_one_invoice() -> None:
    first = line("600.00", "INV-2026-000123", line_id="L1", iban=ACME_IBAN)
    rest = line("590.00", "INV-2026-000123", line_id="L2", iban=ACME_IBAN)
    a, b = match([first, rest], OPEN)
    assert (a.status, b.status) == (MatchStatus.AUTO, MatchStatus.AUTO)
    assert a.best is not None
    assert b.best is not None
    assert a.best.kind == "partial"
    assert b.best.kind == "one_to_one"  # by then exactly what is open
    assert applied(b) == [("INV-2026-000123", "590.00")]


# --------------------------------------------------------------------------- payers


def test_a_known_account_and_the_only_fitting_amount_apply_without_a_reference() -> None:
    result = one(line("99.90", iban=BETA_IBAN), OPEN)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    assert applied(result) == [("INV-2026-000200", "99.90")]
    assert {s.name for s in best.signals} == {"iban", "amount"}


def test_two_equal_open_amounts_are_never_chosen_between_on_the_amount() -> None:
    items = [*OPEN, beta("INV-2026-000201", "99.90")]
    result = one(line("99.90", iban=BETA_IBAN), items)
    assert result.status is MatchStatus.SUGGESTED
    numbers = [p.allocations[0].invoice_number for p in result.proposals]
    assert sorted(numbers) == ["INV-2026-000200", "INV-2026-000201"]
    assert result.proposals[0].confidence == result.proposals[1].confidence


def test_a_known_payer_paying_several_invoices_without_reference_is_found_by_their_sum() -> None:
    items = [*OPEN, beta("INV-2026-000201", "10.10"), beta("INV-2026-000202", "45.00")]
    result = one(line("110.00", iban=BETA_IBAN), items)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    assert best.kind == "one_to_many"
    assert sorted(applied(result)) == [("INV-2026-000200", "99.90"), ("INV-2026-000201", "10.10")]


def test_an_amount_alone_is_only_a_suggestion() -> None:
    result = one(line("99.90", name="Unknown Payer"), OPEN)
    assert result.status is MatchStatus.SUGGESTED
    best = result.best
    assert best is not None
    assert best.confidence < 0.5
    assert "only open item with this amount" in best.reason


def test_a_name_resembling_the_customer_supports_but_does_not_decide() -> None:
    result = one(line("99.90", name="BETA LOGISTIK"), OPEN)
    best = result.best
    assert best is not None
    assert applied(result) == [("INV-2026-000200", "99.90")]
    assert any(s.name == "name" for s in best.signals)
    assert result.status is MatchStatus.SUGGESTED


def test_the_memory_learns_a_payer_account_from_confirmed_matches() -> None:
    stranger = "GB33BUKB20201555555555"
    entry = line("99.90", iban=stranger)
    assert one(entry, OPEN).status is MatchStatus.SUGGESTED
    taught = PayerMemory().learned([(stranger, "", "beta")])
    result = one(entry, OPEN, memory=taught)
    assert result.status is MatchStatus.AUTO
    best = result.best
    assert best is not None
    assert any(s.name == "memory" for s in best.signals)


def test_confirmations_teach_the_memory_from_applied_lines() -> None:
    entries = [line("99.90", "INV-2026-000200", iban="GB33BUKB20201555555555", name="Beta UK")]
    results = match(entries, OPEN)
    learnt = PayerMemory().learned(confirmations(entries, results, OPEN))
    assert dict(learnt.for_account("GB33BUKB20201555555555")) == {"beta": 1}
    suggested = confirmations(entries, results, OPEN, statuses=frozenset({MatchStatus.SUGGESTED}))
    assert suggested == []


def test_a_parent_company_pays_for_its_subsidiary_through_the_group_map() -> None:
    parent = item(
        "INV-2026-000900",
        "5.00",
        customer="holding",
        name="Acme Holding",
        iban="DE44500105175407324931",
    )
    items = [*OPEN, parent]
    entry = line("99.90", "INV-2026-000200", iban="DE44500105175407324931")
    without = one(entry, items)
    with_group = one(entry, items, policy=MatchPolicy(groups={"holding": ["beta"]}))
    assert without.best is not None
    assert with_group.best is not None
    assert any("not for" in s.detail for s in without.best.signals)  # another customer's account
    assert without.status is MatchStatus.SUGGESTED
    assert with_group.status is MatchStatus.AUTO
    assert any(s.name == "group" for s in with_group.best.signals)


def test_the_account_of_another_customer_lowers_the_confidence() -> None:
    stranger = one(line("250.00", "INV-2026-000124"), OPEN)
    other = one(line("250.00", "INV-2026-000124", iban=BETA_IBAN), OPEN)
    assert stranger.best is not None
    assert other.best is not None
    assert other.best.confidence < stranger.best.confidence
    assert other.status is MatchStatus.SUGGESTED


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        (line("-250.00", "INV-2026-000124"), "outgoing"),
        (line("0.00", "INV-2026-000124"), "zero amount"),
        (line("250.00", "INV-2026-000124", reversal=True), "reversal"),
        (line("250.00", "INV-2026-000124", booked=False), "pending"),
        (line("250.001", "INV-2026-000124"), "minor units"),
    ],
)
def test_lines_that_are_not_payments_are_left_unmatched(entry: StatementEntry, why: str) -> None:
    result = one(entry, OPEN)
    assert result.status is MatchStatus.UNMATCHED
    assert result.proposals == ()
    assert why in result.why


def test_a_currency_never_matches_another() -> None:
    items = [item("INV-2026-000300", "250.00", currency="USD")]
    result = one(line("250.00", "INV-2026-000300", iban=ACME_IBAN), items)
    assert result.status is MatchStatus.UNMATCHED
    assert "USD" in result.why
    assert "never matches" in result.why


def test_nothing_fits_says_so() -> None:
    result = one(line("12.34", "rent"), OPEN)
    assert result.status is MatchStatus.UNMATCHED
    assert result.why == "no open item fits"


def test_a_line_booked_after_today_is_never_auto_applied() -> None:
    result = one(line("250.00", "INV-2026-000124"), OPEN, today=date(2026, 3, 9))
    assert result.status is MatchStatus.SUGGESTED
    assert "after today" in result.why


def test_an_invoice_dated_after_the_payment_lowers_the_confidence() -> None:
    late = [item("INV-2026-000500", "250.00", issued=date(2026, 3, 20))]
    result = one(line("250.00", "INV-2026-000500"), late)
    assert result.best is not None
    assert any(s.name == "date" for s in result.best.signals)
    assert result.status is MatchStatus.SUGGESTED


# --------------------------------------------------------------------------- batches


def test_a_batch_entry_gives_one_line_per_transaction() -> None:
    entry = StatementEntry(
        line_id="B1",
        booking_date=BOOKED,
        amount=Money("349.90", "EUR"),
        details=(
            EntryDetail(amount=Money("250.00", "EUR"), remittance="INV-2026-000124"),
            EntryDetail(amount=Money("99.90", "EUR"), remittance="INV-2026-000200"),
        ),
    )
    results = match([entry], OPEN)
    assert [r.line_id for r in results] == ["B1:1", "B1:2"]
    assert [applied(r) for r in results] == [
        [("INV-2026-000124", "250.00")],
        [("INV-2026-000200", "99.90")],
    ]


def test_a_single_detail_adds_its_fields_to_the_entry() -> None:
    entry = StatementEntry(
        line_id="E1",
        booking_date=BOOKED,
        amount=Money("99.90", "EUR"),
        details=(EntryDetail(amount=Money("99.90", "EUR"), counterparty_iban=BETA_IBAN),),
    )
    (result,) = match([entry], OPEN)
    assert result.line_id == "E1"
    assert result.status is MatchStatus.AUTO


# --------------------------------------------------------------------------- input errors


def test_an_invoice_number_listed_twice_is_refused() -> None:
    with pytest.raises(DuplicateOpenItemError) as caught:
        match([], [*OPEN, item("INV-2026-000123", "1.00")])
    assert caught.value.invoice_number == "INV-2026-000123"


def test_an_amount_in_fractions_of_a_cent_is_refused() -> None:
    with pytest.raises(OpenItemError) as caught:
        match([], [item("INV-1", "1.005")])
    assert caught.value.field == "amount_open"


def test_an_amount_in_another_currency_than_the_item_is_refused() -> None:
    bad = OpenItem(
        invoice_number="INV-1",
        customer_id="c",
        customer_name="",
        customer_iban="",
        currency="EUR",
        amount_open=Money("1.00", "USD"),
        invoice_date=BOOKED,
        due_date=BOOKED,
    )
    with pytest.raises(OpenItemError) as caught:
        match([], [bad])
    assert "USD" in caught.value.reason


def test_an_unknown_currency_is_refused() -> None:
    bad = OpenItem(
        invoice_number="INV-1",
        customer_id="c",
        customer_name="",
        customer_iban="",
        currency="XXZ",
        amount_open=Money("1.00", "EUR"),
        invoice_date=BOOKED,
        due_date=BOOKED,
    )
    with pytest.raises(OpenItemError) as caught:
        match([], [bad])
    assert caught.value.field == "currency"


def test_items_with_nothing_open_are_ignored() -> None:
    items = [item("INV-2026-000777", "0.00"), item("INV-2026-000778", "-5.00")]
    assert one(line("5.00", "INV-2026-000778"), items).status is MatchStatus.UNMATCHED


# --------------------------------------------------------------------------- more edges


def test_the_memory_knows_payers_by_name_too() -> None:
    taught = PayerMemory().learned([("", "Beta UK Ltd", "beta")])
    result = one(line("99.90", name="BETA UK LIMITED"), OPEN, memory=taught)
    assert result.best is not None
    assert any(s.name == "memory" and "named" in s.detail for s in result.best.signals)
    assert result.status is MatchStatus.AUTO


def test_partials_and_overpayments_wait_when_the_policy_says_so() -> None:
    strict = MatchPolicy(auto_partial=False, auto_overpayment=False)
    partial = one(line("100.00", "INV-2026-000124", iban=ACME_IBAN), OPEN, policy=strict)
    over = one(line("260.00", "INV-2026-000124", iban=ACME_IBAN), OPEN, policy=strict)
    assert (partial.status, over.status) == (MatchStatus.SUGGESTED, MatchStatus.SUGGESTED)
    assert "partial payments" in partial.why
    assert "overpayments" in over.why


def test_currencies_without_minor_units_are_matched_in_whole_units() -> None:
    items = [item("INV-2026-000400", "12000", currency="JPY")]
    result = one(line("12000", "INV-2026-000400", currency="JPY"), items)
    assert result.status is MatchStatus.AUTO
    assert result.best is not None
    assert "12000 JPY" in result.best.reason


def test_a_long_list_of_invoices_is_named_in_short() -> None:
    items = [item(f"INV-2026-00050{k}", "10.00") for k in range(5)]
    text = " ".join(i.invoice_number for i in items)
    result = one(line("50.00", text), items)
    assert result.status is MatchStatus.AUTO
    assert result.best is not None
    assert "and 2 more" in result.best.reason


def test_a_sum_is_unique_only_when_every_item_was_searched() -> None:
    items = [*OPEN, beta("INV-2026-000201", "10.10"), beta("INV-2026-000202", "45.00")]
    entry = line("110.00", iban=BETA_IBAN)
    assert one(entry, items).status is MatchStatus.AUTO
    narrow = one(entry, items, policy=MatchPolicy(subset_max_items=2))
    assert narrow.status is MatchStatus.SUGGESTED  # the third item was never looked at


def test_below_the_suggestion_threshold_a_line_is_unmatched() -> None:
    result = one(
        line("99.90", name="Unknown Payer"), OPEN, policy=MatchPolicy(suggest_threshold=0.5)
    )
    assert result.status is MatchStatus.UNMATCHED
    assert result.why.startswith("nothing is likely enough (best 0.25")


def test_an_amount_shared_by_many_open_items_says_little() -> None:
    items = [item(f"INV-2026-{k:06d}", "100.00", customer=f"c{k}") for k in range(60)]
    result = one(line("100.00", "PO 4500012345"), items)
    assert result.status is MatchStatus.SUGGESTED
    assert len(result.proposals) == MatchPolicy().max_proposals
    assert all(p.confidence == pytest.approx(0.1) for p in result.proposals)
