"""Payment terms: due rules, schedules, discounts and overdue rules, with hand-worked numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from o2c.errors import DueDateOutOfRangeError, InvalidAmountError, InvalidPaymentTermsError
from o2c.money import Money
from o2c.terms import (
    BALANCE,
    DiscountBase,
    DiscountTier,
    DueRule,
    DueStep,
    Instalment,
    PaymentTerms,
    TermLine,
    day_of_next_month,
    days_overdue,
    end_of_month,
    first_unpaid,
    instalments,
    is_overdue,
    net,
    two_ten_net_thirty,
    unpaid_instalments,
)


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


def amounts(schedule: tuple[Instalment, ...]) -> list[str]:
    return [str(i.amount) for i in schedule]


def dates(schedule: tuple[Instalment, ...]) -> list[date]:
    return [i.due_date for i in schedule]


def codes(exc: pytest.ExceptionInfo[InvalidPaymentTermsError]) -> set[str]:
    return {issue.code for issue in exc.value.issues}


# --------------------------------------------------------------------------- due rules


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2024, 1, 31), date(2024, 2, 29)),  # leap year
        (date(2023, 1, 31), date(2023, 2, 28)),
        (date(2024, 3, 31), date(2024, 4, 30)),
        (date(2024, 12, 15), date(2025, 1, 15)),
    ],
)
def test_one_month_clamps_to_the_month_end(start: date, expected: date) -> None:
    assert DueRule.months(1).apply(start) == expected


def test_end_of_month_plus_ten_in_a_leap_year() -> None:
    # 5 Feb 2024 -> end of month 29 Feb (leap) -> + 10 days = 10 Mar.
    assert DueRule.end_of_month().apply(date(2024, 2, 5)) == date(2024, 2, 29)
    assert DueRule.end_of_month(plus_days=10).apply(date(2024, 2, 5)) == date(2024, 3, 10)
    assert DueRule.end_of_month().apply(date(2023, 2, 5)) == date(2023, 2, 28)
    assert DueRule.end_of_month(plus_days=10).apply(date(2024, 1, 20)) == date(2024, 2, 10)


def test_day_of_next_month_clamps() -> None:
    assert DueRule.day_of_month(15).apply(date(2024, 1, 31)) == date(2024, 2, 15)
    assert DueRule.day_of_month(31).apply(date(2024, 1, 15)) == date(2024, 2, 29)
    assert DueRule.day_of_month(10, months_ahead=2).apply(date(2024, 11, 20)) == date(2025, 1, 10)


def test_chains_compose_like_tryton_relativedeltas() -> None:
    rule = DueRule.days(30).then(DueRule.end_of_month())
    assert rule.apply(date(2024, 1, 15)) == date(2024, 2, 29)
    assert rule.apply(date(2024, 1, 1)) == date(2024, 1, 31)
    assert str(rule) == "+30 days, then end of month"


def test_absolute_month_and_weekday_steps() -> None:
    year_end = DueRule((DueStep(month=12, day=31),))
    assert year_end.apply(date(2024, 3, 5)) == date(2024, 12, 31)
    friday = DueRule((DueStep(weekday=4),))
    assert friday.apply(date(2024, 3, 1)) == date(2024, 3, 1)  # a Friday
    assert friday.apply(date(2024, 3, 2)) == date(2024, 3, 8)
    two_weeks = DueRule((DueStep(weeks=2),))
    assert two_weeks.apply(date(2024, 2, 20)) == date(2024, 3, 5)


def test_rule_text() -> None:
    assert str(DueRule.immediate()) == "same day"
    assert str(DueStep()) == "same day"
    step = DueStep(month=6, day=15, months=1, weeks=2, days=3, weekday=0)
    assert str(step) == "month=6 day=15 +1 months +2 weeks +3 days next weekday 0"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"days": -1}, "terms.step.days_out_of_range"),
        ({"days": True}, "terms.step.days_out_of_range"),
        ({"months": 1201}, "terms.step.months_out_of_range"),
        ({"weeks": "2"}, "terms.step.weeks_out_of_range"),
        ({"day": 0}, "terms.step.day_out_of_range"),
        ({"day": 32}, "terms.step.day_out_of_range"),
        ({"month": 13}, "terms.step.month_out_of_range"),
        ({"weekday": 7}, "terms.step.weekday_out_of_range"),
        ({"weekday": False}, "terms.step.weekday_out_of_range"),
    ],
)
def test_bad_steps_are_refused(kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        DueStep(**kwargs)  # type: ignore[arg-type]
    assert codes(exc) == {code}
    assert exc.value.code == "terms.invalid"


def test_a_rule_leaving_the_calendar_is_a_typed_error() -> None:
    with pytest.raises(DueDateOutOfRangeError) as exc:
        DueRule.months(1).apply(date(9999, 12, 1))
    assert exc.value.start == "9999-12-01"


# --------------------------------------------------------------------------- lines and terms


@pytest.mark.parametrize(
    ("portion", "expected"),
    [
        (BALANCE, BALANCE),
        (Decimal("30"), Fraction(30)),
        (30, Fraction(30)),
        ("12.5", Fraction(25, 2)),
        (Fraction(100, 3), Fraction(100, 3)),
    ],
)
def test_portions(portion: object, expected: object) -> None:
    line = TermLine(portion)
    assert line.portion == expected
    assert line.is_balance is (expected == BALANCE)
    assert line.percent == (None if expected == BALANCE else expected)
    assert line.due == DueRule.immediate()


@pytest.mark.parametrize(
    ("portion", "code"),
    [
        (0.5, "terms.line.portion_invalid"),
        ("rest", "terms.line.portion_invalid"),
        (0, "terms.line.percent_out_of_range"),
        (Decimal("100.01"), "terms.line.percent_out_of_range"),
        (Fraction(-1, 3), "terms.line.percent_out_of_range"),
    ],
)
def test_bad_portions(portion: object, code: str) -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        TermLine(portion)
    assert codes(exc) == {code}


def test_terms_validation_lists_every_problem() -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        PaymentTerms(
            code=" ",
            name="bad",
            lines=[TermLine(BALANCE), TermLine(60), TermLine(BALANCE), TermLine(50)],
        )
    assert codes(exc) == {
        "terms.code_empty",
        "terms.several_balance_lines",
        "terms.balance_not_last",
        "terms.percent_sum_over_100",
    }


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "terms.no_lines"),
        ([TermLine(BALANCE), TermLine(10)], "terms.balance_not_last"),
        ([TermLine(30), TermLine(60)], "terms.percent_sum_not_100"),
        ([TermLine(Fraction(100, 3)), TermLine(Fraction(100, 3))], "terms.percent_sum_not_100"),
        ([TermLine(70), TermLine(40), TermLine(BALANCE)], "terms.percent_sum_over_100"),
    ],
)
def test_line_rules(lines: list[TermLine], code: str) -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        PaymentTerms(code="X", name="x", lines=lines)
    assert codes(exc) == {code}


def test_percent_sum_message_shows_fractions() -> None:
    with pytest.raises(InvalidPaymentTermsError, match="200/3"):
        PaymentTerms(code="X", name="x", lines=[TermLine(Fraction(100, 3))] * 2)


def test_a_full_percentage_line_with_a_zero_balance_is_valid() -> None:
    terms = PaymentTerms(code="X", name="x", lines=[TermLine(100), TermLine(BALANCE)])
    assert amounts(terms.schedule(eur("10.00"), date(2024, 1, 1))) == ["10.00 EUR"]


@pytest.mark.parametrize(
    ("tiers", "code"),
    [
        ([DiscountTier(3, 10), DiscountTier(2, 10)], "terms.discount.duplicate_days"),
        ([DiscountTier(2, 10), DiscountTier(3, 20)], "terms.discount.not_decreasing"),
        ([DiscountTier(2, 10), DiscountTier(2, 20)], "terms.discount.not_decreasing"),
    ],
)
def test_discount_tier_rules(tiers: list[DiscountTier], code: str) -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        PaymentTerms(code="X", name="x", lines=[TermLine(BALANCE)], discounts=tiers)
    assert code in codes(exc)


@pytest.mark.parametrize(
    ("percent", "days", "code"),
    [
        (0, 10, "terms.discount.percent_out_of_range"),
        (100, 10, "terms.discount.percent_out_of_range"),
        (2.0, 10, "terms.discount.percent_invalid"),
        (2, -1, "terms.discount.days_out_of_range"),
    ],
)
def test_bad_discount_tiers(percent: object, days: int, code: str) -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        DiscountTier(percent, days)
    assert codes(exc) == {code}


def test_factories() -> None:
    assert net(30).code == "NET30"
    assert net(30).name == "Net 30 days"
    assert net(14, code="N14", name="Fourteen").code == "N14"
    assert end_of_month().code == "EOM"
    assert end_of_month().name == "End of month"
    assert end_of_month(10).code == "EOM+10"
    assert end_of_month(10).name == "End of month + 10 days"
    assert day_of_next_month(15).code == "DOM15"
    terms = two_ten_net_thirty()
    assert terms.discounts == (DiscountTier(Decimal(2), 10),)
    assert terms.discount_on is DiscountBase.TOTAL
    assert instalments([DueRule.days(0), DueRule.days(30)]).code == "INST2"
    assert instalments([DueRule.days(0)], name="once").name == "once"


def test_instalments_factory_errors() -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        instalments([])
    assert codes(exc) == {"terms.no_lines"}
    with pytest.raises(InvalidPaymentTermsError) as exc:
        instalments([DueRule.days(0), (BALANCE, DueRule.days(30))])
    assert codes(exc) == {"terms.instalments_mixed"}


# --------------------------------------------------------------------------- schedules


def test_net_30_on_the_31st() -> None:
    schedule = net(30).schedule(eur("119.00"), date(2024, 1, 31))
    assert schedule == (Instalment(date(2024, 3, 1), eur("119.00")),)


def test_100_eur_in_three_instalments() -> None:
    terms = instalments([DueRule.days(0), DueRule.months(1), DueRule.months(2)])
    schedule = terms.schedule(eur("100.00"), date(2024, 1, 31))
    assert amounts(schedule) == ["33.34 EUR", "33.33 EUR", "33.33 EUR"]
    assert dates(schedule) == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]


@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (Money("1000", "JPY"), ["334 JPY", "333 JPY", "333 JPY"]),
        (Money("10.000", "KWD"), ["3.334 KWD", "3.333 KWD", "3.333 KWD"]),
        (eur("-100.00"), ["-33.34 EUR", "-33.33 EUR", "-33.33 EUR"]),
        (eur("0.02"), ["0.01 EUR", "0.01 EUR"]),
    ],
)
def test_thirds_in_other_currencies_and_credit_notes(total: Money, expected: list[str]) -> None:
    terms = instalments([DueRule.days(0), DueRule.days(30), DueRule.days(60)])
    assert amounts(terms.schedule(total, date(2024, 1, 1))) == expected


def test_percent_and_balance() -> None:
    terms = instalments([(30, DueRule.immediate()), (BALANCE, DueRule.days(30))])
    schedule = terms.schedule(eur("99.99"), date(2024, 2, 1))
    # 30 % of 99.99 = 29.997 -> 30.00; the balance takes 69.99.
    assert amounts(schedule) == ["30.00 EUR", "69.99 EUR"]
    assert dates(schedule) == [date(2024, 2, 1), date(2024, 3, 2)]


def test_zero_instalments_are_dropped_and_a_zero_total_has_one() -> None:
    terms = instalments([DueRule.days(0), DueRule.days(30), DueRule.days(60)])
    assert terms.schedule(eur("0.01"), date(2024, 1, 1)) == (
        Instalment(date(2024, 1, 1), eur("0.01")),
    )
    assert terms.schedule(eur("0.00"), date(2024, 1, 1)) == (
        Instalment(date(2024, 3, 1), eur("0.00")),
    )


def test_lines_are_sorted_by_date_and_same_dates_merged() -> None:
    terms = instalments(
        [
            (50, DueRule.days(60)),
            (20, DueRule.days(10)),
            (10, DueRule.days(60)),
            (BALANCE, DueRule.days(10)),
        ]
    )
    schedule = terms.schedule(eur("100.00"), date(2024, 1, 1))
    assert schedule == (
        Instalment(date(2024, 1, 11), eur("40.00")),
        Instalment(date(2024, 3, 1), eur("60.00")),
    )


def test_a_rule_before_the_invoice_date_is_due_on_the_invoice_date() -> None:
    terms = PaymentTerms(
        code="D1", name="first of month", lines=[TermLine(BALANCE, DueRule((DueStep(day=1),)))]
    )
    assert dates(terms.schedule(eur("1.00"), date(2024, 5, 15))) == [date(2024, 5, 15)]
    assert terms.final_due_date(date(2024, 5, 15)) == date(2024, 5, 15)


def test_schedule_needs_a_rounded_total_but_accepts_extra_zeros() -> None:
    with pytest.raises(InvalidAmountError):
        net(30).schedule(eur("10.005"), date(2024, 1, 1))
    terms = instalments([DueRule.days(0), DueRule.days(1), DueRule.days(2)])
    schedule = terms.schedule(eur("100.000"), date(2024, 1, 1))
    assert amounts(schedule) == ["33.34 EUR", "33.33 EUR", "33.33 EUR"]


# --------------------------------------------------------------------------- discounts


def test_two_ten_net_thirty_on_1000_eur() -> None:
    terms = two_ten_net_thirty()
    invoiced = date(2024, 3, 1)
    assert terms.schedule(eur("1000.00"), invoiced) == (
        Instalment(date(2024, 3, 31), eur("1000.00")),
    )
    assert terms.discount_valid_until(invoiced) == date(2024, 3, 11)
    offer = terms.discount_for(eur("1000.00"), invoiced, date(2024, 3, 11))
    assert offer is not None
    assert offer.amount == eur("20.00")
    assert offer.percent == Decimal(2)
    assert offer.base == eur("1000.00")
    assert offer.valid_until == date(2024, 3, 11)
    assert terms.discount_for(eur("1000.00"), invoiced, date(2024, 3, 12)) is None
    # Paying before the invoice date still earns it.
    assert terms.discount_for(eur("1000.00"), invoiced, date(2024, 2, 28)) is not None


def test_the_best_valid_tier_wins() -> None:
    terms = PaymentTerms(
        code="3/10-2/20",
        name="3 % 10 days, 2 % 20 days, net 30",
        lines=[TermLine(BALANCE, DueRule.days(30))],
        discounts=[DiscountTier(2, 20), DiscountTier(3, 10)],
    )
    invoiced = date(2024, 1, 1)
    total = eur("33.33")
    first = terms.discount_for(total, invoiced, date(2024, 1, 11))
    second = terms.discount_for(total, invoiced, date(2024, 1, 12))
    assert first is not None
    assert second is not None
    assert (first.percent, first.amount) == (Decimal(3), eur("1.00"))  # 0.9999 -> 1.00
    assert (second.percent, second.amount) == (Decimal(2), eur("0.67"))  # 0.6666 -> 0.67
    assert terms.discount_for(total, invoiced, date(2024, 1, 22)) is None
    assert terms.discount_valid_until(invoiced) == date(2024, 1, 21)


def test_discount_on_the_net_amount() -> None:
    terms = PaymentTerms(
        code="2/10N",
        name="2 % of net",
        lines=[TermLine(BALANCE, DueRule.days(30))],
        discounts=[DiscountTier(2, 10)],
        discount_on="net",
    )
    offer = terms.discount_for(eur("119.00"), date(2024, 1, 1), date(2024, 1, 2), net=eur("100"))
    assert offer is not None
    assert offer.amount == eur("2.00")
    with pytest.raises(InvalidAmountError):
        terms.discount_for(eur("119.00"), date(2024, 1, 1), date(2024, 1, 2))


def test_no_tiers_no_discount() -> None:
    assert net(30).discount_valid_until(date(2024, 1, 1)) is None
    assert net(30).discount_for(eur("10.00"), date(2024, 1, 1), date(2024, 1, 1)) is None


# --------------------------------------------------------------------------- overdue


SCHEDULE = (
    Instalment(date(2024, 1, 31), eur("33.34")),
    Instalment(date(2024, 2, 29), eur("33.33")),
    Instalment(date(2024, 3, 31), eur("33.33")),
)


def test_an_instalment_is_overdue_the_day_after_its_due_date() -> None:
    assert not SCHEDULE[0].is_overdue(date(2024, 1, 31))
    assert SCHEDULE[0].is_overdue(date(2024, 2, 1))


def test_the_invoice_is_overdue_when_its_first_unpaid_instalment_is() -> None:
    nothing = eur("0.00")
    assert not is_overdue(SCHEDULE, nothing, date(2024, 1, 31))
    assert is_overdue(SCHEDULE, nothing, date(2024, 2, 1))  # long before the last date
    assert days_overdue(SCHEDULE, nothing, date(2024, 2, 10)) == 10
    assert days_overdue(SCHEDULE, nothing, date(2024, 1, 10)) == 0


def test_settlements_cover_the_oldest_instalments_first() -> None:
    assert first_unpaid(SCHEDULE, eur("40.00")) == Instalment(date(2024, 2, 29), eur("26.67"))
    assert unpaid_instalments(SCHEDULE, eur("40.00")) == (
        Instalment(date(2024, 2, 29), eur("26.67")),
        SCHEDULE[2],
    )
    assert not is_overdue(SCHEDULE, eur("33.34"), date(2024, 2, 29))
    assert is_overdue(SCHEDULE, eur("33.34"), date(2024, 3, 1))
    assert first_unpaid(SCHEDULE, eur("100.00")) is None
    assert not is_overdue(SCHEDULE, eur("100.00"), date(2030, 1, 1))
    assert days_overdue(SCHEDULE, eur("100.00"), date(2030, 1, 1)) == 0


def test_negative_schedules_use_their_own_sign() -> None:
    credit = tuple(Instalment(i.due_date, -i.amount) for i in SCHEDULE)
    assert first_unpaid(credit, eur("-40.00")) == Instalment(date(2024, 2, 29), eur("-26.67"))


def test_a_bad_discount_base_is_a_typed_error() -> None:
    with pytest.raises(InvalidPaymentTermsError) as exc:
        PaymentTerms(code="X", name="x", lines=[TermLine(BALANCE)], discount_on="gross")
    assert codes(exc) == {"terms.discount.base_invalid"}


def test_percentages_with_many_decimals_and_awkward_denominators() -> None:
    lines = [TermLine(Decimal("33.333333333333333333333333"), DueRule.days(0))]
    lines += [TermLine(Fraction(100, p), DueRule.days(p)) for p in (7, 11, 13, 17, 19, 23)]
    lines.append(TermLine(BALANCE, DueRule.days(90)))
    terms = PaymentTerms(code="X", name="x", lines=lines)
    schedule = terms.schedule(Money("1000000.00", "EUR"), date(2024, 1, 1))
    assert sum((i.amount for i in schedule), eur("0")) == Money("1000000.00", "EUR")
    assert str(schedule[0].amount) == "333333.33 EUR"
