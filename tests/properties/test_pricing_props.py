"""Document totals always reconcile with their lines, under both rounding rules."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from o2c.money import Money, RoundingMode, money_sum
from o2c.pricing import RoundingPolicy, TaxRate, TaxRounding, compute_totals, spread_discount

RATES = [
    TaxRate("S19", Decimal(19)),
    TaxRate("R7", Decimal(7)),
    TaxRate("Z0", Decimal(0), category="Z"),
    TaxRate("X5.5", Decimal("5.5")),
]


@attrs.frozen
class Line:
    quantity: Decimal
    unit_price: Money
    discount_percent: Decimal
    discount_amount: Money | None
    tax_rates: tuple[TaxRate, ...]


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[Line], RoundingPolicy]:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    n = draw(st.integers(min_value=0, max_value=12))
    lines = []
    for _ in range(n):
        qty = Decimal(draw(st.integers(min_value=1, max_value=10_000))).scaleb(
            -draw(st.integers(min_value=0, max_value=3))
        )
        price = Money(
            Decimal(draw(st.integers(min_value=0, max_value=10**8))).scaleb(
                -draw(st.integers(min_value=0, max_value=4))
            ),
            currency,
        )
        pct = Decimal(draw(st.integers(min_value=0, max_value=100)))
        rates = tuple(draw(st.lists(st.sampled_from(RATES), max_size=2, unique=True)))
        lines.append(Line(qty, price, pct, None, rates))
    policy = RoundingPolicy(
        draw(st.sampled_from(list(TaxRounding))), draw(st.sampled_from(list(RoundingMode)))
    )
    return currency, lines, policy


@given(documents())
def test_totals_reconcile_with_lines(doc: tuple[str, list[Line], RoundingPolicy]) -> None:
    currency, lines, policy = doc
    t = compute_totals(lines, currency, policy)
    assert t.total == t.net + t.tax
    assert t.net == money_sum((a.net for a in t.lines), currency)
    assert t.tax == money_sum((b.tax for b in t.breakdown), currency)
    assert all(a.net.is_rounded() for a in t.lines)
    assert t.total.is_rounded()
    for b in t.breakdown:
        taxed = [a for a, line in zip(t.lines, lines, strict=True) if b.rate in line.tax_rates]
        assert b.base == money_sum((a.net for a in taxed), currency)
        exact = b.base.percent(b.rate.percent)
        unit = Decimal(1).scaleb(-t.net.minor_units)
        # Per document: one rounding. Per line: at most one unit per line away.
        slack = unit if policy.tax is TaxRounding.PER_DOCUMENT else unit * max(len(taxed), 1)
        assert abs(b.tax.amount - exact.amount) <= slack
    line_taxes = money_sum((a.tax for a in t.lines), currency)
    assert t.tax - line_taxes == t.rounding_difference
    if policy.tax is TaxRounding.PER_LINE:
        assert t.rounding_difference.is_zero()


@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=20),
    st.integers(min_value=0, max_value=100),
)
def test_document_discount_spreads_exactly(cents: list[int], pct: int) -> None:
    nets = [Money.from_minor_units(c, "EUR") for c in cents]
    total = money_sum(nets, "EUR")
    discount = total.percent(pct).round(RoundingMode.HALF_UP)
    parts = spread_discount(nets, discount)
    assert money_sum(parts, "EUR") == discount
    assert all(p <= n for p, n in zip(parts, nets, strict=True))
