"""Properties of payment terms: exact schedules, forward dates, calendar rules, discounts."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from o2c.money import Money, minor_units
from o2c.terms import (
    BALANCE,
    DiscountTier,
    DueRule,
    DueStep,
    Instalment,
    PaymentTerms,
    TermLine,
    first_unpaid,
    is_overdue,
)

CURRENCIES = ("JPY", "EUR", "KWD")

# Dates around month ends and leap days are where calendar arithmetic breaks.
tricky_days = st.sampled_from([1, 15, 28, 29, 30, 31])


@st.composite
def dates(draw: st.DrawFn) -> date:
    year = draw(st.sampled_from([1900, 2000, 2023, 2024, 2100, 2400]) | st.integers(1990, 2060))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    day = draw(st.integers(1, last) | tricky_days.map(lambda d: min(d, last)))
    return date(year, month, day)


steps = st.builds(
    DueStep,
    months=st.integers(0, 24),
    weeks=st.integers(0, 8),
    days=st.integers(0, 120),
    day=st.none() | st.integers(1, 31),
    month=st.none() | st.integers(1, 12),
    weekday=st.none() | st.integers(0, 6),
)
rules = st.lists(steps, max_size=3).map(lambda s: DueRule(tuple(s)))


@st.composite
def terms(draw: st.DrawFn) -> PaymentTerms:
    """Random valid terms: percentages (exact rationals) with or without a balance line."""
    count = draw(st.integers(1, 6))
    with_balance = draw(st.booleans())
    weights = draw(st.lists(st.integers(1, 50), min_size=count, max_size=count))
    if with_balance:
        weights.append(draw(st.integers(0, 50)))
    total_weight = sum(weights)
    percents = [Fraction(100 * w, total_weight) for w in weights]
    lines = [TermLine(p, draw(rules)) for p in percents[:count]]
    if with_balance:
        lines.append(TermLine(BALANCE, draw(rules)))
    return PaymentTerms(code="T", name="random", lines=lines)


@st.composite
def totals(draw: st.DrawFn) -> Money:
    currency = draw(st.sampled_from(CURRENCIES))
    units = draw(st.integers(-(10**12), 10**12) | st.integers(-10, 10))
    return Money.from_minor_units(units, currency)


@given(terms(), totals(), dates())
def test_instalments_sum_exactly_and_dates_move_forward(
    t: PaymentTerms, total: Money, invoice_date: date
) -> None:
    schedule = t.schedule(total, invoice_date)
    assert schedule
    assert sum((i.amount for i in schedule), Money.zero(total.currency)) == total
    for inst in schedule:
        assert inst.amount.currency == total.currency
        assert inst.amount.is_rounded()
        assert inst.due_date >= invoice_date
        # Every instalment has the total's sign (credit notes stay negative).
        assert not (inst.amount.is_positive() and total.is_negative())
        assert not (inst.amount.is_negative() and total.is_positive())
        if not total.is_zero():
            assert not inst.amount.is_zero()
    due = [i.due_date for i in schedule]
    assert due == sorted(due)
    assert len(set(due)) == len(due)
    assert due[-1] <= t.final_due_date(invoice_date)


@given(terms(), totals(), dates())
def test_each_date_gets_its_exact_share_within_a_minor_unit_per_line(
    t: PaymentTerms, total: Money, invoice_date: date
) -> None:
    # Group the exact rational shares by due date, independently of the schedule code.
    balance = 100 - sum((line.percent or Fraction(0)) for line in t.lines)
    exact: dict[date, Fraction] = {}
    count: dict[date, int] = {}
    for line in t.lines:
        due = max(line.due.apply(invoice_date), invoice_date)
        share = line.percent if line.percent is not None else balance
        exact[due] = exact.get(due, Fraction(0)) + Fraction(total.amount) * share / 100
        count[due] = count.get(due, 0) + 1
    unit = Fraction(1, 10 ** minor_units(total.currency))
    got = {i.due_date: Fraction(i.amount.amount) for i in t.schedule(total, invoice_date)}
    for due, value in exact.items():
        assert abs(got.get(due, Fraction(0)) - value) < unit * count[due]


@given(dates(), st.integers(0, 36))
def test_adding_months_clamps_the_day_to_the_month_length(start: date, months: int) -> None:
    result = DueRule.months(months).apply(start)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    assert (result.year, result.month) == (year, month + 1)
    assert result.day == min(start.day, calendar.monthrange(year, month + 1)[1])


@given(dates(), st.integers(0, 60))
def test_end_of_month_plus_days(start: date, plus: int) -> None:
    result = DueRule.end_of_month(plus).apply(start)
    last = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    assert result == last + timedelta(days=plus)


@given(rules, rules, dates())
def test_chains_compose(first: DueRule, second: DueRule, start: date) -> None:
    assert first.then(second).apply(start) == second.apply(first.apply(start))
    assert first.apply(start) >= start or any(s.day or s.month for s in first.steps)


@st.composite
def tiered_terms(draw: st.DrawFn) -> PaymentTerms:
    days = sorted(draw(st.sets(st.integers(0, 60), min_size=1, max_size=4)))
    percents = sorted(
        draw(st.sets(st.decimals("0.1", "9.9", places=1), min_size=len(days), max_size=len(days))),
        reverse=True,
    )
    tiers = [DiscountTier(p, d) for p, d in zip(percents, days, strict=True)]
    return PaymentTerms(
        code="D",
        name="tiers",
        lines=[TermLine(BALANCE, DueRule.days(60))],
        discounts=draw(st.permutations(tiers)),
    )


@given(tiered_terms(), totals(), dates(), st.integers(-5, 70), st.integers(0, 70))
def test_discounts_never_grow_with_time_and_end_after_the_last_tier(
    t: PaymentTerms, total: Money, invoice_date: date, offset: int, later: int
) -> None:
    paid = invoice_date + timedelta(days=offset)
    offer = t.discount_for(total, invoice_date, paid)
    later_offer = t.discount_for(total, invoice_date, paid + timedelta(days=later))
    until = t.discount_valid_until(invoice_date)
    assert until is not None
    assert (offer is None) == (paid > until)
    if offer is not None:
        # The percentage is the largest among the tiers still valid on that day.
        valid = [d.percent for d in t.discounts if paid <= invoice_date + timedelta(d.days)]
        assert offer.percent == max(valid)
        exact = Fraction(total.amount) * Fraction(offer.percent) / 100
        unit = Fraction(1, 10 ** minor_units(total.currency))
        assert abs(Fraction(offer.amount.amount) - exact) <= unit / 2
        assert offer.amount.is_rounded()
        if later_offer is not None:
            assert later_offer.percent <= offer.percent
    else:
        assert later_offer is None


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Instalment, ...]:
    start = draw(dates())
    gaps = draw(st.lists(st.integers(1, 40), min_size=1, max_size=5))
    currency = draw(st.sampled_from(CURRENCIES))
    result = []
    due = start
    for gap in gaps:
        due += timedelta(days=gap)
        units = draw(st.integers(1, 10**6))
        result.append(Instalment(due, Money.from_minor_units(units, currency)))
    return tuple(result)


@given(schedules(), st.data())
def test_overdue_is_decided_by_the_first_unpaid_instalment(
    schedule: tuple[Instalment, ...], data: st.DataObject
) -> None:
    currency = schedule[0].amount.currency
    whole = sum(i.amount.in_minor_units() for i in schedule)
    settled = Money.from_minor_units(data.draw(st.integers(0, whole)), currency)
    today = schedule[0].due_date + timedelta(days=data.draw(st.integers(-5, 250)))
    # Independent model: walk cumulative sums in minor units.
    paid = settled.in_minor_units()
    running = 0
    expected_first = None
    for inst in schedule:
        running += inst.amount.in_minor_units()
        if running > paid:
            expected_first = inst.due_date
            break
    first = first_unpaid(schedule, settled)
    assert (first.due_date if first else None) == expected_first
    assert is_overdue(schedule, settled, today) == (
        expected_first is not None and today > expected_first
    )
    if first is not None:
        assert Decimal(0) < first.amount.amount
        assert first.amount.in_minor_units() == running - paid
